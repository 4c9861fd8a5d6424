"""S3 stores: subclasses survive copy, pickle, sub-dicts and from_config; get_params reopens;
S3DictConfig extends BasicS3DictConfig; failures are BackendErrors naming the S3 call."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import boto3
import pytest
from pydantic import ValidationError

from persidict_core import BackendError, DeserializationError, store_from_config
from persidict_s3 import BasicS3Dict, BasicS3DictConfig, S3Dict, S3DictConfig


class MyBasicS3Dict(BasicS3Dict):
    pass


class MyS3Dict(S3Dict):
    pass


def test_s3_dict_config_extends_the_basic_one(tmp_path: Path) -> None:
    assert issubclass(S3DictConfig, BasicS3DictConfig)
    own = set(S3DictConfig.model_fields) - set(BasicS3DictConfig.model_fields)
    assert own == {"base_dir", "digest_len"}
    config = S3DictConfig(root_prefix="a/b", base_dir=str(tmp_path))
    assert config.kind == "s3_dict" and config.root_prefix == "a/b/"  # the inherited validator
    with pytest.raises(ValidationError, match="kind"):
        S3DictConfig(kind="basic_s3_dict")
    with pytest.raises(ValidationError, match="kind"):
        BasicS3DictConfig(kind="s3_dict")
    assert BasicS3DictConfig(kind="basic_s3_dict").kind == "basic_s3_dict"


@pytest.mark.parametrize("cls", [MyBasicS3Dict, MyS3Dict])
def test_an_s3_subclass_stays_itself(
    mocked_aws: None, bucket_name: str, tmp_path: Path, cls: type[BasicS3Dict | S3Dict]
) -> None:
    store = cls(bucket_name=bucket_name, root_prefix="root", base_dir=tmp_path)
    store[("sub", "k")] = 1
    for same in (copy.copy(store), pickle.loads(pickle.dumps(store))):
        assert type(same) is cls
        assert same[("sub", "k")] == 1
    sub = store.get_subdict("sub")
    assert type(sub) is cls and sub["k"] == 1
    assert sub.connection is store.connection  # a sub-dict shares the client
    assert sub.root_prefix == "root/sub/"
    assert type(store.get_subdict(())) is cls
    assert {name: type(s) for name, s in store.subdicts().items()} == {"sub": cls}
    assert type(cls.from_config(store.config.model_dump_json())) is cls
    assert type(store_from_config(store.config)) is cls.__mro__[1]


@pytest.mark.parametrize("cls", [BasicS3Dict, S3Dict])
def test_get_params_reopens_the_same_s3_store(
    mocked_aws: None, bucket_name: str, tmp_path: Path, cls: type[BasicS3Dict | S3Dict]
) -> None:
    store = cls(bucket_name=bucket_name, root_prefix="p", base_dir=tmp_path, serialization_format="json")
    store["k"] = {"v": 1}
    reopened = cls(**store.get_params())
    assert type(reopened) is cls and reopened.config == store.config
    assert reopened == store
    assert reopened["k"] == {"v": 1}
    reopened["new"] = 2
    assert store["new"] == 2


def test_a_connection_to_another_bucket_is_refused(mocked_aws: None, bucket_name: str) -> None:
    store = BasicS3Dict(bucket_name=bucket_name)
    with pytest.raises(ValueError, match="connection"):
        BasicS3Dict(bucket_name="another-bucket", connection=store.connection)


def test_s3_failures_are_backend_errors_naming_the_call(mocked_aws: None, bucket_name: str) -> None:
    store = BasicS3Dict(bucket_name=bucket_name, root_prefix="r")
    store["k"] = 1
    client = boto3.client("s3", region_name="us-east-1")
    client.delete_object(Bucket=bucket_name, Key="r/k.pkl")
    client.delete_bucket(Bucket=bucket_name)
    with pytest.raises(BackendError) as info:
        store["k"] = 2
    assert (info.value.backend, info.value.operation, info.value.key) == ("s3", "put_object", ("k",))
    assert "does not exist" in str(info.value)
    with pytest.raises(BackendError) as info:
        store["k"]
    assert (info.value.backend, info.value.operation, info.value.key) == ("s3", "get_object", ("k",))
    with pytest.raises(BackendError) as info:
        len(store)
    assert (info.value.operation, info.value.key) == ("list_objects_v2", None)
    restored = pickle.loads(pickle.dumps(info.value))
    assert (restored.backend, restored.operation) == ("s3", "list_objects_v2")


def test_a_corrupt_object_names_key_and_object(mocked_aws: None, bucket_name: str) -> None:
    store = BasicS3Dict(bucket_name=bucket_name, root_prefix="r")
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=bucket_name, Key="r/k.pkl", Body=b"\x80junk"
    )
    with pytest.raises(DeserializationError) as info:
        store["k"]
    assert info.value.key == ("k",)
    assert info.value.location == f"s3://{bucket_name}/r/k.pkl"
