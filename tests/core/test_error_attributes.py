"""Errors carry their facts as attributes, keep their builtin bases and survive pickling."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import pytest

from persidict_core import (
    DELETE_CURRENT,
    BackendError,
    DeserializationError,
    FileDirDict,
    LocalDict,
    MutationPolicyError,
    PersiDictError,
    SerializationError,
)

_cache = pytest.importorskip("persidict_cache")  # wrappers raise these errors too
AppendOnlyDictCached, WriteOnceDict = _cache.AppendOnlyDictCached, _cache.WriteOnceDict


def test_mutation_policy_error_constructor_and_attributes() -> None:
    error = MutationPolicyError("write-once", key=("a", "b"), operation="delete")
    assert (error.policy, error.key, error.operation) == ("write-once", ("a", "b"), "delete")
    assert str(error) == "Cannot delete key ('a', 'b'): the store is write-once"
    assert isinstance(error, KeyError) and isinstance(error, TypeError) and isinstance(error, PersiDictError)
    plain = MutationPolicyError("append-only")
    assert (plain.policy, plain.key, plain.operation) == ("append-only", None, None)
    assert "append-only" in str(plain)
    assert MutationPolicyError().policy == "append-only"
    restored = pickle.loads(pickle.dumps(error))
    assert type(restored) is MutationPolicyError
    assert (restored.policy, restored.key, restored.operation, str(restored)) == (
        error.policy,
        error.key,
        error.operation,
        str(error),
    )


def test_backend_error_constructor_and_attributes() -> None:
    error = BackendError("disk on fire", backend="filesystem", operation="open", key=("k",))
    assert (str(error), error.backend, error.operation, error.key) == (
        "disk on fire",
        "filesystem",
        "open",
        ("k",),
    )
    assert isinstance(error, RuntimeError)
    assert BackendError("x", backend="s3", operation="put_object").key is None
    restored = pickle.loads(pickle.dumps(error))
    assert (str(restored), restored.backend, restored.operation, restored.key) == (
        "disk on fire",
        "filesystem",
        "open",
        ("k",),
    )
    with pytest.raises(TypeError):
        BackendError("x")  # type: ignore[call-arg]  # backend and operation are required


def test_item_errors_constructor_and_attributes() -> None:
    for cls in (SerializationError, DeserializationError):
        error: Any = cls("bad", key=("k",), location="/tmp/k.pkl")
        assert (str(error), error.key, error.location) == ("bad", ("k",), "/tmp/k.pkl")
        restored = pickle.loads(pickle.dumps(error))
        assert (restored.key, restored.location) == (("k",), "/tmp/k.pkl")
        assert cls("bad").key is None and cls("bad").location is None
    assert issubclass(SerializationError, TypeError) and issubclass(SerializationError, ValueError)
    assert issubclass(DeserializationError, ValueError)


@pytest.mark.parametrize("action", ["overwrite", "delete", "discard", "pop", "joker"])
def test_append_only_refusals_name_the_policy_key_and_operation(tmp_path: Path, action: str) -> None:
    store = FileDirDict(base_dir=tmp_path, append_only=True)
    store["k"] = 1
    operations = {
        "overwrite": "overwrite",
        "delete": "delete",
        "discard": "discard",
        "pop": "pop",
        "joker": "delete",
    }
    with pytest.raises(MutationPolicyError) as info:
        if action == "overwrite":
            store["k"] = 2
        elif action == "delete":
            del store["k"]
        elif action == "discard":
            store.discard("k")
        elif action == "pop":
            store.pop("k")
        else:
            store["k"] = DELETE_CURRENT
    assert info.value.policy == "append-only"
    assert info.value.key == ("k",)
    assert info.value.operation == operations[action]
    assert store["k"] == 1


def test_whole_store_refusals_have_no_key(tmp_path: Path) -> None:
    store = LocalDict(append_only=True)
    for call, operation in ((store.clear, "clear"), (store.popitem, "popitem")):
        with pytest.raises(MutationPolicyError) as info:
            call()
        assert (info.value.policy, info.value.key, info.value.operation) == ("append-only", None, operation)
    cached = AppendOnlyDictCached(LocalDict(append_only=True), LocalDict())
    with pytest.raises(MutationPolicyError) as info:
        cached.clear()
    assert info.value.operation == "clear"


def test_write_once_refusals_name_the_write_once_policy(tmp_path: Path) -> None:
    store = WriteOnceDict(FileDirDict(base_dir=tmp_path, append_only=True))
    store["k"] = 1
    with pytest.raises(MutationPolicyError) as info:
        del store["k"]
    assert (info.value.policy, info.value.key, info.value.operation) == ("write-once", ("k",), "delete")
    with pytest.raises(MutationPolicyError) as info:
        store.clear()
    assert (info.value.policy, info.value.key) == ("write-once", None)


def test_file_system_failures_are_backend_errors_naming_the_call(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path / "store")
    (tmp_path / "store" / "x").write_text("a file where a directory of keys would go")
    with pytest.raises(BackendError) as info:
        store[("x", "y")] = 1
    assert (info.value.backend, info.value.operation, info.value.key) == ("filesystem", "mkdir", ("x", "y"))
    assert "symlink or a file" in str(info.value)
    assert isinstance(info.value.__cause__, OSError)

    (tmp_path / "file").write_text("")
    with pytest.raises(BackendError) as info:
        FileDirDict(base_dir=tmp_path / "file" / "below")
    assert (info.value.backend, info.value.operation, info.value.key) == ("filesystem", "mkdir", None)


def test_an_unreadable_file_is_a_backend_error_of_the_read(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path)
    store["k"] = 1
    path = tmp_path / "k.pkl"
    os.unlink(path)
    os.mkfifo(path) if hasattr(os, "mkfifo") else pytest.skip("no FIFOs here")
    # A FIFO is not a regular file: the key is absent, not a failure.
    with pytest.raises(KeyError):
        store["k"]
    os.unlink(path)
    os.mkdir(path)  # a directory under a key's name: reading it fails with EISDIR
    with pytest.raises((BackendError, KeyError)) as info:
        store["k"]
    if isinstance(info.value, BackendError):
        assert (info.value.backend, info.value.key) == ("filesystem", ("k",))


def test_corrupt_and_unstorable_values_name_key_and_path(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path)
    store[("a", "k")] = 1
    path = tmp_path / "a" / "k.pkl"
    path.write_bytes(b"\x80garbage")
    with pytest.raises(DeserializationError) as info:
        store[("a", "k")]
    assert info.value.key == ("a", "k")
    assert info.value.location == str(path)
    text = FileDirDict(base_dir=tmp_path, serialization_format="json")
    with pytest.raises(SerializationError) as error:
        text["j"] = lambda: 1  # jsonpickle would store a lambda as None
    assert error.value.key == ("j",)
    assert error.value.location == str(tmp_path / "j.json")
    with pytest.raises(SerializationError) as error:
        store["lock"] = __import__("threading").Lock()
    assert error.value.key == ("lock",) and error.value.location == str(tmp_path / "lock.pkl")
    assert not (tmp_path / "lock.pkl").exists()


def test_local_dict_copy_failures_name_the_key() -> None:
    store = LocalDict()
    with pytest.raises(SerializationError) as info:
        store["gen"] = (i for i in range(3))
    assert info.value.key == ("gen",) and info.value.location is None
