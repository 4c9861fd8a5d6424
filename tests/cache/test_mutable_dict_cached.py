"""MutableDictCached: cache hits, coherence with the main store, construction errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from persidict_cache import AppendOnlyDictCached, MutableDictCached
from persidict_core import (
    ETAG_HAS_NOT_CHANGED,
    EmptyDict,
    ETagHasNotChangedFlag,
    FileDirDict,
    LocalDict,
    MutationPolicyError,
)
from persidict_safestr import NonEmptySafeStrTuple


class CountingLocalDict(LocalDict):
    """A LocalDict that counts value transfers (reads that return a value)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.transfers = 0
        self.reads = 0

    def read_entry(self, key: NonEmptySafeStrTuple) -> tuple[Any, str]:
        self.reads += 1
        self.transfers += 1
        return super().read_entry(key)

    def read_entry_if_changed(
        self, key: NonEmptySafeStrTuple, etag: str
    ) -> tuple[Any, str] | ETagHasNotChangedFlag:
        self.reads += 1
        result = super().read_entry_if_changed(key, etag)
        if not isinstance(result, ETagHasNotChangedFlag):
            self.transfers += 1
        return result


@pytest.fixture
def main(tmp_path: Path) -> FileDirDict:
    return FileDirDict(base_dir=tmp_path / "main")


@pytest.fixture
def cached(main: FileDirDict) -> MutableDictCached:
    return MutableDictCached(main, LocalDict(), LocalDict())


def test_a_hit_transfers_no_value_from_main() -> None:
    main = CountingLocalDict()
    store = MutableDictCached(main, LocalDict(), LocalDict())
    store["k"] = {"v": 1}
    assert main.transfers == 0  # the write filled the caches
    for _ in range(3):
        assert store["k"] == {"v": 1}
    assert main.reads == 3 and main.transfers == 0
    main["k"] = {"v": 2}  # changed behind the wrapper's back
    assert store["k"] == {"v": 2}
    assert main.transfers == 1
    assert store["k"] == {"v": 2}
    assert main.transfers == 1


def test_sees_changes_made_directly_in_main(main: FileDirDict, cached: MutableDictCached) -> None:
    cached["k"] = "one"
    assert cached["k"] == "one"
    main["k"] = "two, longer"
    assert cached["k"] == "two, longer"
    assert cached.data_cache["k"] == "two, longer"
    assert cached.etag_cache["k"] == main.etag("k")


def test_key_deleted_in_main_is_a_key_error_and_purged(main: FileDirDict, cached: MutableDictCached) -> None:
    cached["k"] = "v"
    assert cached["k"] == "v"
    del main["k"]
    with pytest.raises(KeyError):
        cached["k"]
    assert "k" not in cached.data_cache and "k" not in cached.etag_cache
    assert cached.get("k") is None  # a KeyError, never FileNotFoundError (a defect of the original)
    assert cached.setdefault("k", "new") == "new"
    assert main["k"] == "new"


def test_missing_file_of_a_cached_key_is_never_served(main: FileDirDict, cached: MutableDictCached) -> None:
    cached[("a", "b")] = "v"
    os.unlink(os.path.join(main.base_dir, "a", "b.pkl"))
    with pytest.raises(KeyError):
        cached[("a", "b")]


def test_writes_and_deletes_keep_the_caches_coherent(main: FileDirDict, cached: MutableDictCached) -> None:
    etag = cached.set_item_get_etag("k", [1])
    assert etag == main.etag("k") == cached.etag("k") == cached.etag_cache["k"]
    assert cached.data_cache["k"] == [1]
    cached["k"] = [2]
    assert cached.data_cache["k"] == [2] and cached.etag_cache["k"] == main.etag("k")
    del cached["k"]
    assert "k" not in main and "k" not in cached.data_cache and "k" not in cached.etag_cache
    with pytest.raises(KeyError):
        del cached["k"]
    cached.data_cache["ghost"] = "stale"  # in the caches only: discard still clears them
    cached.etag_cache["ghost"] = "0:0:0"
    assert cached.discard("ghost") is False
    assert "ghost" not in cached.data_cache and "ghost" not in cached.etag_cache


def test_an_evicted_value_is_fetched_again(main: FileDirDict, cached: MutableDictCached) -> None:
    cached["k"] = "v"
    cached.data_cache.clear()
    assert cached["k"] == "v"
    assert cached.data_cache["k"] == "v"


def test_etag_helpers_agree_with_main(main: FileDirDict, cached: MutableDictCached) -> None:
    main["k"] = "v"
    etag = main.etag("k")
    assert cached.etag("k") == etag
    assert cached.get_item_if_etag_changed("k", etag) is ETAG_HAS_NOT_CHANGED  # nothing cached yet
    assert cached.get_item_if_etag_changed("k", None) == ("v", etag)
    assert cached.get_item_if_etag_changed("k", etag) is ETAG_HAS_NOT_CHANGED  # now cached
    assert cached.get_item_if_etag_changed("k", "other") == ("v", etag)


def test_len_iteration_and_timestamps_come_from_main(main: FileDirDict, cached: MutableDictCached) -> None:
    main.update({"a": 1, ("b", "c"): 2})
    assert len(cached) == 2
    assert set(cached) == {("a",), ("b", "c")}
    assert "a" in cached
    assert cached.timestamp("a") == main.timestamp("a")
    assert len(cached.data_cache) == 0  # iteration does not fill the caches


def test_over_an_append_only_main(tmp_path: Path) -> None:
    store = MutableDictCached(FileDirDict(base_dir=tmp_path, append_only=True), LocalDict(), LocalDict())
    assert store.append_only is True
    store["k"] = 1
    with pytest.raises(MutationPolicyError):
        store["k"] = 2
    assert store["k"] == 1 and store.data_cache["k"] == 1


def test_values_cached_are_independent_of_the_callers_objects(cached: MutableDictCached) -> None:
    value = [1, 2]
    cached["k"] = value
    value.append(3)
    assert cached["k"] == [1, 2]
    cached["k"].append(4)
    assert cached["k"] == [1, 2]


def test_subdicts_are_wrappers_sharing_the_caches(main: FileDirDict, cached: MutableDictCached) -> None:
    cached[("users", "alice")] = 1
    users = cached.get_subdict("users")
    assert isinstance(users, MutableDictCached)
    assert users["alice"] == 1
    users["bob"] = 2
    assert cached[("users", "bob")] == 2
    assert cached.data_cache[("users", "bob")] == 2
    assert set(cached.subdicts()) == {"users"}
    assert isinstance(cached.subdicts()["users"], MutableDictCached)


# ----------------------------------------------------------------- construction errors


@pytest.mark.parametrize("position", [0, 1, 2])
def test_non_stores_are_refused(position: int) -> None:
    args: list[Any] = [LocalDict(), LocalDict(), LocalDict()]
    args[position] = {}
    name = ("main_dict", "data_cache", "etag_cache")[position]
    with pytest.raises(TypeError, match=name):
        MutableDictCached(*args)


def test_main_without_etags_is_refused() -> None:
    with pytest.raises(TypeError, match="ETag"):
        MutableDictCached(EmptyDict(), LocalDict(), LocalDict())


@pytest.mark.parametrize("name", ["data_cache", "etag_cache"])
def test_append_only_caches_are_refused(name: str) -> None:
    params: dict[str, Any] = {"main_dict": LocalDict(), "data_cache": LocalDict(), "etag_cache": LocalDict()}
    params[name] = LocalDict(append_only=True)
    with pytest.raises(ValueError, match=f"{name} can't be append-only"):
        MutableDictCached(**params)


def test_one_store_as_both_caches_is_refused() -> None:
    cache = LocalDict()
    with pytest.raises(ValueError, match="different"):
        MutableDictCached(LocalDict(), cache, cache)


def test_shared_vocabulary_is_accepted_and_typos_refused(tmp_path: Path) -> None:
    store = MutableDictCached(
        LocalDict(), LocalDict(), LocalDict(), base_dir=str(tmp_path), digest_len=3, wrapped_dict=None
    )
    assert store.get_params()["kind"] == "mutable_dict_cached"
    with pytest.raises(ValidationError, match="serialisation_format"):
        MutableDictCached(LocalDict(), LocalDict(), LocalDict(), serialisation_format="json")


def test_format_and_value_class_come_from_main(tmp_path: Path) -> None:
    main = FileDirDict(base_dir=tmp_path, serialization_format="json", base_class_for_values=dict)
    store = MutableDictCached(main, LocalDict(), LocalDict(), serialization_format="pkl")
    assert store.serialization_format == "json"
    assert store.base_class_for_values is dict
    with pytest.raises(TypeError):
        store["k"] = [1]


def test_can_wrap_another_wrapper(tmp_path: Path) -> None:
    inner = AppendOnlyDictCached(FileDirDict(base_dir=tmp_path, append_only=True), LocalDict())
    outer = MutableDictCached(inner, LocalDict(), LocalDict())
    outer["k"] = "v"
    assert outer["k"] == "v" and inner["k"] == "v"


@pytest.mark.parametrize("role", ["data_cache", "etag_cache"])
def test_the_main_store_as_its_own_cache_is_refused(tmp_path: Path, role: str) -> None:
    """A cache at the main store's location would write cache entries over the values."""
    main = FileDirDict(base_dir=tmp_path, fsync=False)
    main["k"] = {"user": "value"}
    same_place = FileDirDict(base_dir=tmp_path, fsync=False)  # another object, same folder
    data_cache = same_place if role == "data_cache" else LocalDict()
    etag_cache = same_place if role == "etag_cache" else LocalDict()
    with pytest.raises(ValueError, match=f"{role} must be a different store than main_dict"):
        MutableDictCached(main, data_cache=data_cache, etag_cache=etag_cache)
    assert dict(main.items()) == {("k",): {"user": "value"}}
