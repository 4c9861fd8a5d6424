"""AppendOnlyDictCached: hits never touch the main store; any cache works; errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from persidict_cache import AppendOnlyDictCached
from persidict_core import (
    ETAG_HAS_NOT_CHANGED,
    ETagHasNotChangedFlag,
    FileDirDict,
    LocalDict,
    MutationPolicyError,
)
from persidict_safestr import NonEmptySafeStrTuple


class CountingLocalDict(LocalDict):
    """A LocalDict that counts every call of the primitives the wrapper may use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0

    def read_entry(self, key: NonEmptySafeStrTuple) -> tuple[Any, str]:
        self.calls += 1
        return super().read_entry(key)

    def read_entry_if_changed(
        self, key: NonEmptySafeStrTuple, etag: str
    ) -> tuple[Any, str] | ETagHasNotChangedFlag:
        self.calls += 1
        return super().read_entry_if_changed(key, etag)

    def has_entry(self, key: NonEmptySafeStrTuple) -> bool:
        self.calls += 1
        return super().has_entry(key)

    def entry_etag(self, key: NonEmptySafeStrTuple) -> str:
        self.calls += 1
        return super().entry_etag(key)

    def entry_timestamp(self, key: NonEmptySafeStrTuple) -> float:
        self.calls += 1
        return super().entry_timestamp(key)


def test_a_hit_makes_no_call_to_main() -> None:
    main = CountingLocalDict(append_only=True)
    store = AppendOnlyDictCached(main, LocalDict())
    store["k"] = {"v": 1}
    main.calls = 0
    for _ in range(5):
        assert store["k"] == {"v": 1}
        assert store.get("k") == {"v": 1}
        assert "k" in store
    assert main.calls == 0
    main["other"] = 2  # written by someone else: a miss reads main once, then it is cached
    assert store["other"] == 2
    assert main.calls == 1
    assert store["other"] == 2
    assert main.calls == 1


def test_a_hit_needs_no_file(tmp_path: Path) -> None:
    main = FileDirDict(base_dir=tmp_path, append_only=True)
    store = AppendOnlyDictCached(main_dict=main, data_cache=LocalDict())
    store[("a", "b")] = "v"
    os.unlink(tmp_path / "a" / "b.pkl")  # behind the wrapper's back
    assert store[("a", "b")] == "v"


def test_keys_added_by_others_are_seen(tmp_path: Path) -> None:
    store = AppendOnlyDictCached(FileDirDict(base_dir=tmp_path, append_only=True), LocalDict())
    store["mine"] = 1
    other = FileDirDict(base_dir=tmp_path, append_only=True)
    other["theirs"] = 2
    assert "theirs" in store
    assert len(store) == 2
    assert set(store) == {("mine",), ("theirs",)}
    assert store["theirs"] == 2
    assert store.timestamp("theirs") == other.timestamp("theirs")


def test_writes_are_append_only_and_fill_the_cache(tmp_path: Path) -> None:
    store = AppendOnlyDictCached(FileDirDict(base_dir=tmp_path, append_only=True), LocalDict())
    etag = store.set_item_get_etag("k", [1, 2])
    assert etag == store.main_dict.etag("k") == store.etag("k")
    assert store.data_cache["k"] == [1, 2]
    with pytest.raises(MutationPolicyError):
        store["k"] = [3]
    with pytest.raises(MutationPolicyError):
        del store["k"]
    assert store["k"] == [1, 2]


def test_get_item_if_etag_changed_works_with_an_append_only_cache(tmp_path: Path) -> None:
    # The original raised KeyError here: it rewrote the value into its append-only cache.
    main = FileDirDict(base_dir=tmp_path / "main", append_only=True)
    cache = FileDirDict(base_dir=tmp_path / "cache", append_only=True)
    store = AppendOnlyDictCached(main, cache)
    etag = store.set_item_get_etag("k", "v")
    assert store.get_item_if_etag_changed("k", None) == ("v", etag)
    assert store.get_item_if_etag_changed("k", "stale") == ("v", etag)
    assert store.get_item_if_etag_changed("k", etag) is ETAG_HAS_NOT_CHANGED
    main["other"] = "w"
    other_etag = main.etag("other")
    assert store.get_item_if_etag_changed("other", None) == ("w", other_etag)
    assert cache["other"] == "w"
    assert store.get_item_if_etag_changed("other", None) == ("w", other_etag)


def test_the_seeds_mutable_cache_works(tmp_path: Path) -> None:
    store = AppendOnlyDictCached(
        main_dict=FileDirDict(base_dir=tmp_path, append_only=True), data_cache=LocalDict()
    )
    store["k"] = 1
    assert store.data_cache.append_only is False
    assert store["k"] == 1


def test_subdicts_are_wrappers(tmp_path: Path) -> None:
    store = AppendOnlyDictCached(FileDirDict(base_dir=tmp_path, append_only=True), LocalDict())
    store[("users", "alice")] = 1
    users = store.get_subdict("users")
    assert isinstance(users, AppendOnlyDictCached)
    assert users.append_only is True
    assert users["alice"] == 1
    assert isinstance(store.subdicts()["users"], AppendOnlyDictCached)


def test_base_class_is_checked_on_hits(tmp_path: Path) -> None:
    main = FileDirDict(base_dir=tmp_path, append_only=True, base_class_for_values=int)
    cache = LocalDict()
    store = AppendOnlyDictCached(main, cache)
    store["k"] = 1
    cache["k"] = "not an int"  # a corrupted cache is not served silently
    with pytest.raises(TypeError):
        store["k"]


# ----------------------------------------------------------------- construction errors


def test_non_stores_are_refused() -> None:
    with pytest.raises(TypeError, match="main_dict"):
        AppendOnlyDictCached({}, LocalDict())
    with pytest.raises(TypeError, match="data_cache"):
        AppendOnlyDictCached(LocalDict(append_only=True), None)  # type: ignore[arg-type]


def test_a_mutable_main_is_refused() -> None:
    with pytest.raises(ValueError, match="append-only"):
        AppendOnlyDictCached(LocalDict(), LocalDict())


def test_main_as_its_own_cache_is_refused() -> None:
    main = LocalDict(append_only=True)
    with pytest.raises(ValueError, match="different"):
        AppendOnlyDictCached(main, main)
