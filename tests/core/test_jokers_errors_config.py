"""Jokers, the error tree, serialization and configuration plumbing."""

from __future__ import annotations

import copy
import pickle
import sys

import pytest

from persidict_core import (
    DELETE_CURRENT,
    ETAG_HAS_NOT_CHANGED,
    KEEP_CURRENT,
    KNOWN_PARAMETER_NAMES,
    BackendError,
    ConcurrencyConflictError,
    ConsistencyCheckError,
    DeleteCurrentFlag,
    DeserializationError,
    EmptyDict,
    FileDirDict,
    KeepCurrentFlag,
    LocalDict,
    MissingBackendError,
    MutationPolicyError,
    PersiDict,
    PersiDictError,
    SerializationError,
    deserialize,
    serialize,
    store_from_config,
)


@pytest.mark.parametrize("joker", [KEEP_CURRENT, DELETE_CURRENT, ETAG_HAS_NOT_CHANGED])
def test_jokers_are_singletons_through_pickle_and_copy(joker: object) -> None:
    assert pickle.loads(pickle.dumps(joker)) is joker
    assert copy.deepcopy(joker) is joker
    assert copy.copy(joker) is joker
    assert type(joker)() is joker


def test_joker_classes() -> None:
    assert isinstance(KEEP_CURRENT, KeepCurrentFlag)
    assert isinstance(DELETE_CURRENT, DeleteCurrentFlag)
    assert len({id(KEEP_CURRENT), id(DELETE_CURRENT), id(ETAG_HAS_NOT_CHANGED)}) == 3
    assert repr(KEEP_CURRENT) == "KeepCurrentFlag()"


def test_joker_inside_a_value_is_plain_data() -> None:
    store = LocalDict()
    store["k"] = [KEEP_CURRENT]
    assert store["k"] == [KEEP_CURRENT]
    assert store["k"][0] is KEEP_CURRENT


def test_error_tree_matches_the_builtins() -> None:
    assert issubclass(MutationPolicyError, KeyError) and issubclass(MutationPolicyError, TypeError)
    assert issubclass(ConcurrencyConflictError, RuntimeError)
    assert issubclass(BackendError, RuntimeError)
    assert issubclass(MissingBackendError, ImportError)
    assert issubclass(SerializationError, TypeError) and issubclass(SerializationError, ValueError)
    assert issubclass(DeserializationError, ValueError)
    assert issubclass(ConsistencyCheckError, ValueError)
    for error in (
        MutationPolicyError,
        ConcurrencyConflictError,
        BackendError,
        MissingBackendError,
        SerializationError,
        DeserializationError,
        ConsistencyCheckError,
    ):
        assert issubclass(error, PersiDictError)
    assert "append-only" in str(MutationPolicyError("append-only"))


def test_persidict_is_abstract() -> None:
    with pytest.raises(TypeError):
        PersiDict()  # type: ignore[abstract,call-arg]


def test_serialization_round_trips_and_reports_context() -> None:
    for fmt, value in (("pkl", {"a": 1}), ("json", {"a": (1, 2)}), ("md", "# title")):
        data = serialize(value, fmt, context="key ('k',)")
        assert deserialize(data, fmt, context="key ('k',)") == value
    with pytest.raises(SerializationError, match="key"):
        serialize(5, "txt", context="key ('k',)")
    with pytest.raises(DeserializationError, match="where"):
        deserialize(b"\x80garbage", "pkl", context="where")
    with pytest.raises(DeserializationError):
        deserialize(b"{not json", "json", context="where")
    with pytest.raises(DeserializationError):
        deserialize(b"\xff\xfe", "txt", context="where")


def test_import_does_not_load_heavy_libraries() -> None:
    import subprocess

    code = (
        "import sys, persidict_core; "
        "heavy = ('boto3', 'botocore', 'numpy', 'pandas', 'jsonpickle', 'lz4'); "
        "bad = [m for m in heavy if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_known_parameter_vocabulary() -> None:
    for name in ("base_dir", "bucket_name", "region", "root_prefix", "digest_len", "endpoint_url"):
        assert name in KNOWN_PARAMETER_NAMES


def test_store_from_config_reports_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="Unknown store kind"):
        store_from_config({"kind": "no_such_store"})
    with pytest.raises(ValueError, match="kind"):
        store_from_config({"serialization_format": "pkl"})


def test_from_config_checks_the_class(tmp_path: object) -> None:
    with pytest.raises(TypeError):
        FileDirDict.from_config(EmptyDict().config)
