"""``s3://`` store URLs: S3Dict and BasicS3Dict from a URL, to_url round trips, listings and bytes."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pytest
from pydantic import ValidationError

from persidict_core import open_store
from persidict_s3 import BasicS3Dict, S3Dict


def test_s3_urls_open_s3_dict_or_basic_s3_dict(mocked_aws: None, tmp_path: Path) -> None:
    cached = open_store(
        f"s3://bucket-a/some/prefix?base_dir={tmp_path}&serialization_format=json&region=eu-west-1"
    )
    assert isinstance(cached, S3Dict)
    assert (cached.bucket_name, cached.root_prefix, cached.region) == (
        "bucket-a",
        "some/prefix/",
        "eu-west-1",
    )
    assert cached.base_dir.startswith(str(tmp_path))
    basic = open_store("s3://bucket-a?cache=none&max_pool_connections=4&fsync=false")  # fsync: not S3's
    assert isinstance(basic, BasicS3Dict)
    assert (basic.root_prefix, basic.max_pool_connections) == ("", 4)
    assert isinstance(open_store("s3://bucket-a/p", cache="none"), BasicS3Dict)


def test_client_config_is_written_as_json(mocked_aws: None) -> None:
    store = open_store(
        's3://bucket-b?cache=none&client_config={"retries":{"max_attempts":2},"read_timeout":5}'
    )
    assert isinstance(store, BasicS3Dict)
    assert store.get_params()["client_config"] == {"retries": {"max_attempts": 2}, "read_timeout": 5}
    assert open_store(store.to_url()).config == store.config


@pytest.mark.parametrize(
    ("url", "error", "message"),
    [
        ("s3://", ValueError, "names a bucket"),
        ("s3://bucket-c?cache=maybe", ValueError, "cache='maybe'"),
        ("s3://bucket-c?bucket=x", ValidationError, "'bucket' is not a parameter of any persidict store"),
        ("s3://bucket-c?cache=none&max_pool_connections=0", ValidationError, "max_pool_connections"),
        ("s3://bucket-c?endpoint_ur=http://x", ValidationError, "did you mean 'endpoint_url'?"),
    ],
)
def test_bad_s3_urls(mocked_aws: None, url: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        open_store(url)


def test_the_location_cannot_be_given_twice(mocked_aws: None) -> None:
    with pytest.raises(ValueError, match="'bucket_name' is given by the location"):
        open_store("s3://bucket-d?bucket_name=other")


def test_to_url_round_trips(mocked_aws: None, tmp_path: Path) -> None:
    basic = BasicS3Dict("bucket-e", root_prefix="a/b", serialization_format="json", append_only=True)
    assert basic.to_url() == "s3://bucket-e/a/b?serialization_format=json&append_only=true&cache=none"
    assert open_store(basic.to_url()).config == basic.config
    cached = S3Dict(bucket_name="bucket-e", base_dir=tmp_path / "cache", digest_len=0, region="us-east-1")
    url = cached.to_url()
    assert url == f"s3://bucket-e?region=us-east-1&base_dir={tmp_path}/cache&digest_len=0"
    assert open_store(url).config == cached.config


def test_list_entries_and_read_bytes_come_from_s3(mocked_aws: None, tmp_path: Path) -> None:
    store = S3Dict(bucket_name="bucket-f", root_prefix="p", base_dir=tmp_path)
    store["x"] = {"a": 1}
    store["y", "z"] = [1, 2, 3]
    store.main_dict.connection.client.put_object(Bucket="bucket-f", Key="p/foreign.txt", Body=b"no key")
    entries = {tuple(entry.key): entry for entry in store.list_entries()}
    assert set(entries) == {("x",), ("y", "z")}
    for key, entry in entries.items():
        data = store.read_bytes(key)
        assert entry.size == len(data)
        assert entry.etag == store.etag(key) == f'"{hashlib.md5(data).hexdigest()}"'
        assert entry.timestamp == store.timestamp(key)
    assert pickle.loads(store.read_bytes("x")) == {"a": 1}
    with pytest.raises(KeyError):
        store.read_bytes("absent")
    with pytest.raises(KeyError):
        store.main_dict.read_bytes("absent")
