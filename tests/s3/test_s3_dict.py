"""S3Dict: the local cache (namespacing, validation by ETag, zero-transfer reads) and the seed."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
from pydantic import ValidationError

from persidict_cache import AppendOnlyDictCached, MutableDictCached
from persidict_core import BackendError, LocalDict, MutationPolicyError, store_from_config
from persidict_s3 import BasicS3Dict, S3Dict, S3Dict_FileDirCached, S3DictConfig
from tests.s3.conftest import GetObjectMeter


def test_alias() -> None:
    assert S3Dict_FileDirCached is S3Dict


def test_cache_layout_is_namespaced(mocked_aws: None, tmp_path: Path) -> None:
    one = S3Dict(bucket_name="bucket-one", base_dir=tmp_path)
    two = S3Dict(bucket_name="bucket-two", base_dir=tmp_path)
    deep = S3Dict(bucket_name="bucket-one", root_prefix="a/b", base_dir=tmp_path)
    assert one.base_dir == os.path.join(tmp_path, "aws", "bucket-one")
    assert deep.base_dir == os.path.join(tmp_path, "aws", "bucket-one", "a", "b")
    one["k"] = "from one"
    assert one.object_name("k") == "k.pkl"
    cached = sorted(p.name for p in Path(one.base_dir).iterdir() if p.is_file())
    assert cached == ["k_rtslc2zc.pkl", "k_rtslc2zc.pkl_etag"]  # SPEC's on-disk example
    assert "k" not in two and len(two) == 0
    with pytest.raises(KeyError):
        two["k"]


def test_append_only_stores_of_different_buckets_share_nothing(mocked_aws: None, tmp_path: Path) -> None:
    one = S3Dict(bucket_name="bucket-one", base_dir=tmp_path, append_only=True)
    two = S3Dict(bucket_name="bucket-two", base_dir=tmp_path, append_only=True)
    one["key"] = 1
    assert "key" not in two  # the original served bucket-one's cached value here
    with pytest.raises(KeyError):
        two["key"]


def test_endpoint_is_part_of_the_cache_path(server_url: str, tmp_path: Path) -> None:
    store = S3Dict(bucket_name="bucket-one", base_dir=tmp_path, endpoint_url=server_url)
    host_port = server_url.split("//", 1)[1].replace(":", "_")
    assert store.base_dir == os.path.join(tmp_path, host_port, "bucket-one")


def test_unchanged_read_transfers_no_value_bytes(
    mocked_aws: None, tmp_path: Path, meter: GetObjectMeter
) -> None:
    store = S3Dict(bucket_name="bucket-one", base_dir=tmp_path)
    store["k"] = {"payload": "x" * 10_000}
    meter.attach(store.connection.client)
    for _ in range(3):
        assert store["k"] == {"payload": "x" * 10_000}
    assert meter.calls == ["GetObject"] * 3
    assert meter.get_statuses == [304] * 3
    assert meter.value_bytes == 0


def test_a_change_made_elsewhere_is_seen_on_the_next_read(mocked_aws: None, tmp_path: Path) -> None:
    store = S3Dict(bucket_name="bucket-one", base_dir=tmp_path)
    store["k"] = "old"
    assert store["k"] == "old"
    BasicS3Dict("bucket-one")["k"] = "new"
    assert store["k"] == "new"
    BasicS3Dict("bucket-one").discard("k")
    assert "k" not in store
    with pytest.raises(KeyError):
        store["k"]


def test_append_only_cached_hit_makes_no_request(
    mocked_aws: None, tmp_path: Path, meter: GetObjectMeter
) -> None:
    store = S3Dict(bucket_name="bucket-one", base_dir=tmp_path, append_only=True)
    store["k"] = [1, 2, 3]
    assert store.etag_cache is None
    meter.attach(store.connection.client)
    assert store["k"] == [1, 2, 3]
    assert meter.calls == []
    # A fresh store (another process) fills its cache from S3 once, then asks no more.
    reopened = S3Dict(bucket_name="bucket-one", base_dir=tmp_path / "elsewhere", append_only=True)
    meter.attach(reopened.connection.client)
    assert reopened["k"] == [1, 2, 3]
    assert reopened["k"] == [1, 2, 3]
    assert meter.calls == ["GetObject"]
    with pytest.raises(MutationPolicyError):
        reopened["k"] = [4]


def test_wrappers_over_basic_s3_dict_transfer_nothing_on_a_hit(
    mocked_aws: None, meter: GetObjectMeter
) -> None:
    main = BasicS3Dict("bucket-one", root_prefix="mutable")
    mutable = MutableDictCached(main, LocalDict(), LocalDict())
    mutable["k"] = "x" * 5_000
    meter.attach(main.connection.client)
    assert mutable["k"] == "x" * 5_000
    assert meter.get_statuses == [304]
    assert meter.value_bytes == 0

    append_main = BasicS3Dict("bucket-one", root_prefix="append", append_only=True)
    append_only = AppendOnlyDictCached(append_main, LocalDict())
    append_only["k"] = "y"
    meter.reset()
    meter.attach(append_main.connection.client)
    assert append_only["k"] == "y"
    assert meter.calls == []


def test_subdicts_are_cached_s3_dicts_sharing_the_client(
    mocked_aws: None, tmp_path: Path, meter: GetObjectMeter
) -> None:
    store = S3Dict(bucket_name="bucket-one", base_dir=tmp_path)
    store["users", "alice"] = 1
    meter.attach(store.connection.client)
    users = store.get_subdict("users")
    assert isinstance(users, S3Dict)
    assert users.connection is store.connection
    assert meter.calls == []
    assert users.root_prefix == "users/"
    assert users.base_dir == os.path.join(tmp_path, "aws", "bucket-one", "users")
    assert users["alice"] == 1
    assert set(store.subdicts()) == {"users"}
    assert isinstance(store.subdicts()["users"], S3Dict)


def test_get_many_through_the_cache(mocked_aws: None, tmp_path: Path, meter: GetObjectMeter) -> None:
    store = S3Dict(bucket_name="bucket-one", base_dir=tmp_path, max_pool_connections=4)
    data = {(f"k{i}",): i for i in range(10)}
    store.update(data)
    meter.attach(store.connection.client)
    assert store.get_many([*data, "missing"]) == data
    assert meter.value_bytes == 0  # every value was cached and unchanged


def test_config_and_pickle(mocked_aws: None, tmp_path: Path) -> None:
    store = S3Dict(
        bucket_name="bucket-one",
        root_prefix="p",
        base_dir=tmp_path,
        serialization_format="json",
        client_config={"connect_timeout": 3},
    )
    store["k"] = {"a": 1}
    config = store.config
    assert isinstance(config, S3DictConfig)
    assert config.base_dir == str(tmp_path)
    assert config.digest_len == 8
    assert store.get_params()["root_prefix"] == "p/"
    reopened = store_from_config(json.loads(config.model_dump_json()))
    assert isinstance(reopened, S3Dict) and reopened == store
    assert reopened["k"] == {"a": 1}
    assert pickle.loads(pickle.dumps(store))["k"] == {"a": 1}
    assert "S3Dict(" in repr(store)


def test_default_cache_dir_is_relative_to_the_working_directory(
    mocked_aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = S3Dict(bucket_name="bucket-one")
    assert store.base_dir == os.path.join(tmp_path, "__s3_dict__", "aws", "bucket-one")


def test_seed_examples_run_unchanged(
    mocked_aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cloud_store = S3Dict(bucket_name="my-bucket")
    cloud_store["api_key"] = "ABC-123"
    assert cloud_store["api_key"] == "ABC-123"

    store = S3Dict(bucket_name="my-bucket", region="us-east-1", serialization_format="pkl")
    assert store["api_key"] == "ABC-123"

    production = MutableDictCached(
        main_dict=S3Dict(bucket_name="prod-data"), data_cache=LocalDict(), etag_cache=LocalDict()
    )
    production["model", "v1"] = {"weights": [1, 2]}
    assert production["model", "v1"] == {"weights": [1, 2]}


def test_bad_bucket_is_a_backend_error(mocked_aws: None, tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="'ab'"):
        S3Dict(bucket_name="ab", base_dir=tmp_path)


@pytest.mark.parametrize("base_dir", [None, 5])
def test_a_base_dir_that_is_not_a_path_is_a_validation_error(mocked_aws: None, base_dir: object) -> None:
    with pytest.raises(ValidationError, match="base_dir"):
        S3Dict(bucket_name="bkt", base_dir=base_dir)  # type: ignore[arg-type]
