"""BasicS3Dict on moto's in-process mock: layout, listing, bulk reads, config, errors."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from persidict_core import (
    ETAG_HAS_NOT_CHANGED,
    BackendError,
    MutationPolicyError,
    PersiDict,
    store_from_config,
)
from persidict_s3 import BasicS3Dict, BasicS3DictConfig, S3Dict
from tests.s3._proxy import Fault, S3Proxy
from tests.s3.conftest import GetObjectMeter


def raw_client(region: str = "us-east-1") -> Any:
    import boto3

    return boto3.client("s3", region_name=region)


def object_names(bucket: str) -> list[str]:
    response = raw_client().list_objects_v2(Bucket=bucket)
    return sorted(entry["Key"] for entry in response.get("Contents", []))


def test_import_does_not_import_boto3() -> None:
    code = "import sys, persidict_s3; print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_object_layout_and_content_types(mocked_aws: None, bucket_name: str) -> None:
    for fmt in ("pkl", "json", "txt"):
        store = BasicS3Dict(bucket_name, root_prefix="root", serialization_format=fmt)
        assert store.root_prefix == "root/"
        store[("x", "y")] = "v"
        assert store.object_name(("x", "y")) == f"root/x/y.{fmt}"
    assert object_names(bucket_name) == ["root/x/y.json", "root/x/y.pkl", "root/x/y.txt"]
    client = raw_client()
    types = {
        fmt: client.head_object(Bucket=bucket_name, Key=f"root/x/y.{fmt}")["ContentType"]
        for fmt in ("pkl", "json", "txt")
    }
    assert types == {
        "pkl": "application/octet-stream",
        "json": "application/json",
        "txt": "text/plain; charset=utf-8",
    }
    assert BasicS3Dict(bucket_name, root_prefix="root", serialization_format="txt")["x", "y"] == "v"


def test_bucket_is_created_in_the_region(mocked_aws: None, bucket_name: str) -> None:
    store = BasicS3Dict(bucket_name, region="eu-west-1")
    store["k"] = 1
    location = raw_client("eu-west-1").get_bucket_location(Bucket=bucket_name)["LocationConstraint"]
    assert location == "eu-west-1"
    assert BasicS3Dict(bucket_name, region="eu-west-1")["k"] == 1  # an existing bucket is reused


def test_legacy_bucket_names_are_left_to_s3(mocked_aws: None) -> None:
    store = BasicS3Dict("my_bucket")  # refused by today's rules, accepted by moto and legacy S3
    store["k"] = 1
    assert store["k"] == 1


@pytest.mark.parametrize("name", ["ab", "bad/name", ""])
def test_a_bucket_name_s3_refuses_is_a_clear_error(mocked_aws: None, name: str) -> None:
    with pytest.raises(BackendError, match=repr(name)) as info:
        BasicS3Dict(name)
    assert type(info.value.__cause__).__module__.startswith("botocore")


def test_listing_skips_foreign_objects(mocked_aws: None, bucket_name: str) -> None:
    store = BasicS3Dict(bucket_name, root_prefix="r")
    store["good"] = 1
    client = raw_client()
    for name in ("r/bad key.pkl", "r/a//b.pkl", "r/x.txt", "r/.pkl", "r/../up.pkl", "other/k.pkl", "r/sub/"):
        client.put_object(Bucket=bucket_name, Key=name, Body=b"junk")
    assert list(store) == [("good",)]
    assert len(store) == 1
    assert dict(store.items()) == {("good",): 1}
    store.clear()
    assert len(store) == 0
    assert len(object_names(bucket_name)) == 7  # clear() leaves foreign objects alone


def test_missing_keys_are_key_errors_everywhere(mocked_aws: None, bucket_name: str) -> None:
    store = BasicS3Dict(bucket_name)
    for action in (
        lambda: store["nope"],
        lambda: store.__delitem__("nope"),
        lambda: store.timestamp("nope"),
        lambda: store.etag("nope"),
        lambda: store.get_item_if_etag_changed("nope", None),
        lambda: store.get_item_if_etag_changed("nope", '"abc"'),
        lambda: store.pop("nope"),
    ):
        with pytest.raises(KeyError) as info:
            action()
        assert not type(info.value).__module__.startswith("botocore")
    assert store.discard("nope") is False


def test_etags_are_s3_etags_and_conditional_gets_skip_the_body(
    mocked_aws: None, bucket_name: str, meter: GetObjectMeter
) -> None:
    store = BasicS3Dict(bucket_name)
    etag = store.set_item_get_etag("k", b"x" * 10_000)
    head = raw_client().head_object(Bucket=bucket_name, Key="k.pkl")
    assert etag == head["ETag"] == store.etag("k")
    meter.attach(store.connection.client)
    assert store.get_item_if_etag_changed("k", etag) is ETAG_HAS_NOT_CHANGED
    assert meter.get_statuses == [304]
    assert meter.value_bytes == 0


def test_timestamps_agree_between_head_and_listing(mocked_aws: None, bucket_name: str) -> None:
    store = BasicS3Dict(bucket_name)
    store.update({"a": 1, ("b", "c"): 2})
    listed = dict(store.keys_and_timestamps())
    assert listed == {key: store.timestamp(key) for key in listed}
    assert all(ts == int(ts) for ts in listed.values())


def test_get_many_reads_in_parallel_and_skips_missing(mocked_aws: None, bucket_name: str) -> None:
    store = BasicS3Dict(bucket_name, max_pool_connections=8)
    data = {("k", str(i)): i for i in range(50)}
    store.update(data)
    wanted = [("k", str(i)) for i in range(0, 60, 3)]
    assert store.get_many(wanted) == {key: data[key] for key in wanted if key in data}
    assert store.get_many([]) == {}
    assert store.get_many(["nope"]) == {}
    assert store.get_many([("k", "0"), ("k", "0")]) == {("k", "0"): 0}
    with pytest.raises(ValueError):
        store.get_many(["bad key"])
    assert store.max_pool_connections == 8


def test_items_prefetch_in_listing_order(mocked_aws: None, bucket_name: str) -> None:
    store = BasicS3Dict(bucket_name)
    data = {(f"k{i:03d}",): i for i in range(120)}
    store.update(data)
    assert list(store.items()) == sorted(data.items())
    assert list(store.values()) == [value for _, value in sorted(data.items())]
    assert [(k, v) for k, v, _ in store.items_and_timestamps()] == sorted(data.items())


def test_base_class_is_checked_on_every_read_path(mocked_aws: None, bucket_name: str) -> None:
    BasicS3Dict(bucket_name)["k"] = "a string"
    store = BasicS3Dict(bucket_name, base_class_for_values=int)
    with pytest.raises(TypeError):
        store["k"]
    with pytest.raises(TypeError):
        list(store.values())
    with pytest.raises(TypeError):
        store.get_many(["k"])


def test_subdicts_share_the_client(mocked_aws: None, bucket_name: str, meter: GetObjectMeter) -> None:
    store = BasicS3Dict(bucket_name, root_prefix="top")
    meter.attach(store.connection.client)
    sub = store.get_subdict(("a", "b"))
    assert isinstance(sub, BasicS3Dict)
    assert sub.connection is store.connection
    assert sub.root_prefix == "top/a/b/"
    assert meter.calls == []  # no new client, no head_bucket
    sub["k"] = 1
    assert store["a", "b", "k"] == 1


def test_append_only_uses_conditional_puts(mocked_aws: None, bucket_name: str) -> None:
    store = BasicS3Dict(bucket_name, append_only=True)
    store["k"] = 1
    other = BasicS3Dict(bucket_name, append_only=True)
    with pytest.raises(MutationPolicyError):
        other["k"] = 2
    with pytest.raises(MutationPolicyError):
        other["k"] = 1  # the same value by another writer is still a second write
    assert store["k"] == 1
    assert other.setdefault("k", 3) == 1


def test_config_round_trips_and_reopens(mocked_aws: None, bucket_name: str) -> None:
    store = BasicS3Dict(
        bucket_name,
        root_prefix="p",
        serialization_format="json",
        client_config={"retries": {"mode": "adaptive"}, "read_timeout": 5},
        max_pool_connections=4,
        base_dir="ignored",  # a name of the shared vocabulary that does not apply here
    )
    store["k"] = [1, 2]
    config = store.config
    assert isinstance(config, BasicS3DictConfig)
    assert config.root_prefix == "p/"
    assert "base_dir" not in store.get_params()
    reopened = store_from_config(json.loads(config.model_dump_json()))
    assert isinstance(reopened, BasicS3Dict)
    assert reopened["k"] == [1, 2]
    assert pickle.loads(pickle.dumps(store))["k"] == [1, 2]
    botocore_config: Any = store.connection.client.meta.config
    assert botocore_config.retries == {"mode": "adaptive", "total_max_attempts": 6}  # 5 retries
    assert botocore_config.read_timeout == 5
    assert botocore_config.max_pool_connections == 4


def test_invalid_parameters(mocked_aws: None, bucket_name: str) -> None:
    with pytest.raises(ValidationError):
        BasicS3Dict(bucket_name, serialisation_format="json")  # a typo
    with pytest.raises(ValidationError):
        BasicS3Dict(bucket_name, client_config={"x": object()})  # not JSON
    with pytest.raises(ValidationError):
        BasicS3Dict(bucket_name, max_pool_connections=0)
    with pytest.raises(ValueError, match="client_config"):
        BasicS3Dict(bucket_name, client_config={"no_such_option": 1})


def test_listing_keys_lists_once(mocked_aws: None, bucket_name: str, meter: GetObjectMeter) -> None:
    store = BasicS3Dict(bucket_name)
    store.update({f"k{i}": i for i in range(5)})
    meter.attach(store.connection.client)
    assert len(list(store.keys())) == 5
    assert len(store) == 5
    assert meter.calls == ["ListObjectsV2", "ListObjectsV2"]
    meter.reset()
    assert [key for key in store] == sorted(store.keys())
    assert meter.calls == ["ListObjectsV2", "ListObjectsV2"]


def test_a_refused_bucket_name_names_the_parameter(mocked_aws: None) -> None:
    with pytest.raises(BackendError, match=r"bucket name 'ab': pass a valid one as bucket_name="):
        BasicS3Dict("ab")


@pytest.mark.parametrize("store_class", [BasicS3Dict, S3Dict])
def test_the_default_bucket_name_refused_by_s3_says_it_is_the_default(
    make_proxy: Callable[..., S3Proxy], store_class: Callable[..., PersiDict], tmp_path: Path
) -> None:
    # AWS refuses to create "my_bucket" (moto accepts it): the proxy answers as AWS does.
    def as_aws(method: str, path: str, number: int) -> Fault | None:
        if path.split("?", 1)[0].strip("/") != "my_bucket":
            return None
        if method == "HEAD":
            return Fault(status=404, code="NoSuchBucket")
        return Fault(status=400, code="InvalidBucketName") if method == "PUT" else None

    proxy = make_proxy(fault=as_aws)
    extra = {"base_dir": str(tmp_path)} if store_class is S3Dict else {}
    with pytest.raises(BackendError) as info:
        store_class(endpoint_url=proxy.url, **extra)  # no bucket_name: the default
    message = str(info.value)
    assert "bucket_name=" in message
    assert "'my_bucket' is the default, which is not a valid AWS bucket name" in message
