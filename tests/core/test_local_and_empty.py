"""LocalDict and EmptyDict specifics."""

from __future__ import annotations

import copy
import pickle
import threading
from typing import Any

import pytest
from pydantic import ValidationError

from persidict_core import (
    DELETE_CURRENT,
    KEEP_CURRENT,
    EmptyDict,
    LocalDict,
    LocalDictBackend,
    MutationPolicyError,
)


def test_local_dict_accepts_values_of_local_classes() -> None:
    class Local:
        def __init__(self) -> None:
            self.x = 1

    store = LocalDict()
    store["k"] = Local()
    assert store["k"].x == 1


def test_local_dict_snapshots_values_on_write() -> None:
    store = LocalDict()
    value = {"a": [1]}
    store["k"] = value
    value["a"].append(2)
    assert store["k"] == {"a": [1]}


def test_local_dicts_share_a_backend_per_format() -> None:
    backend = LocalDictBackend()
    pkl = LocalDict(backend=backend)
    txt = LocalDict(backend=backend, serialization_format="txt")
    pkl["k"] = 1
    txt["k"] = "one"
    assert LocalDict(backend=backend)["k"] == 1
    assert txt["k"] == "one"
    pkl.clear()
    assert txt["k"] == "one"
    with pytest.raises(TypeError):
        txt["n"] = 1


def test_local_dict_ignores_foreign_parameters_and_rejects_unknown_ones() -> None:
    store = LocalDict(base_dir="/nowhere", bucket_name="b", digest_len=3)
    assert set(store.config.model_dump()) == {
        "kind",
        "serialization_format",
        "append_only",
        "base_class_for_values",
    }
    assert set(store.get_params()) == set(store.config.model_dump()) | {"backend"}
    with pytest.raises(ValidationError, match="no_such_param"):
        LocalDict(no_such_param=1)


def test_local_dict_copy_shares_and_pickle_snapshots() -> None:
    store = LocalDict()
    store["k"] = 1
    shallow = copy.copy(store)
    shallow["j"] = 2
    assert store["j"] == 2 and shallow == store
    restored = pickle.loads(pickle.dumps(store))
    assert dict(restored.items()) == {("k",): 1, ("j",): 2}
    restored["z"] = 3
    assert "z" not in store


def test_local_dict_is_thread_safe() -> None:
    store = LocalDict(append_only=True)
    winners: list[int] = []
    errors: list[BaseException] = []

    def create(i: int) -> None:
        try:
            store["contended"] = i
            winners.append(i)
        except MutationPolicyError:
            pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(winners) == 1
    assert store["contended"] == winners[0]


def test_local_dict_etags_change_on_every_write() -> None:
    store = LocalDict()
    etags = {store.set_item_get_etag("k", 1) for _ in range(100)}
    assert len(etags) == 100


@pytest.mark.parametrize("fmt", ["pkl", "json", "txt"])
def test_empty_dict_accepts_and_forgets(fmt: str) -> None:
    store = EmptyDict(serialization_format=fmt)
    value: Any = "text"
    store["k"] = value
    assert "k" not in store
    assert len(store) == 0
    assert list(store.items()) == []
    assert store.get("k", "default") == "default"
    with pytest.raises(KeyError):
        store["k"]
    with pytest.raises(KeyError):
        del store["k"]
    with pytest.raises(KeyError):
        store.timestamp("k")
    with pytest.raises(KeyError):
        store.etag("k")
    assert store.discard("k") is False
    assert store.random_key() is None
    assert store.newest_keys() == []
    assert store.subdicts() == {}
    assert isinstance(store.get_subdict("a"), EmptyDict)
    store.clear()
    store["k"] = KEEP_CURRENT
    store["k"] = DELETE_CURRENT
    assert store == {}
    assert store == EmptyDict(serialization_format=fmt)


def test_empty_dict_still_validates_writes() -> None:
    store = EmptyDict(base_class_for_values=int)
    with pytest.raises(TypeError):
        store["k"] = "not an int"
    with pytest.raises(ValueError):
        store["a/b"] = 1
    with pytest.raises(TypeError):
        store[5] = 1  # type: ignore[index]
    store.clear()
    EmptyDict(append_only=True).clear()
