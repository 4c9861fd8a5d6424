"""The core conformance suite for each wrapper, over LocalDict and over FileDirDict.

`AppendOnlyDictCached` and `WriteOnceDict` are always append-only, so their factories build an
append-only main store whatever ``append_only`` the suite asks for, and the few suite tests that
assume overwrites or deletes are replaced by versions that assert what these wrappers do
instead (an overwrite raises `MutationPolicyError`, or for `WriteOnceDict` is ignored; a delete
raises `MutationPolicyError`).
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

from persidict_cache import AppendOnlyDictCached, MutableDictCached, WriteOnceDict
from persidict_core import (
    DELETE_CURRENT,
    ETAG_HAS_NOT_CHANGED,
    KEEP_CURRENT,
    FileDirDict,
    LocalDict,
    MutationPolicyError,
    PersiDict,
)
from persidict_core.testing import PersiDictConformance, StoreFactory

# ----------------------------------------------------------------- MutableDictCached


class TestMutableDictCachedOverLocalDict(PersiDictConformance):
    serializes_values: ClassVar[bool] = False
    config_reopens_data: ClassVar[bool] = False  # the main LocalDict is in memory

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        def factory(**params: Any) -> PersiDict:
            return MutableDictCached(LocalDict(**params), LocalDict(), LocalDict())

        return factory


class TestMutableDictCachedOverFileDirDict(PersiDictConformance):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            main = FileDirDict(base_dir=tmp_path / f"store{next(counter)}", **params)
            return MutableDictCached(main_dict=main, data_cache=LocalDict(), etag_cache=LocalDict())

        return factory


class TestMutableDictCachedSubdict(PersiDictConformance):
    """A sub-dict of the wrapper is a wrapper over the sub-dicts, and a whole store."""

    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            main = FileDirDict(base_dir=tmp_path / "root", digest_len=4, **params)
            root = MutableDictCached(main, LocalDict(), LocalDict())
            sub = root.get_subdict(("outer", f"s{next(counter)}"))
            assert type(sub) is MutableDictCached
            return sub

        return factory


class TestMutableDictCachedWithFileCaches(PersiDictConformance):
    """Persistent caches work too (the ETag cache may even be a text store)."""

    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            n = next(counter)
            main = FileDirDict(base_dir=tmp_path / f"main{n}", **params)
            data = FileDirDict(base_dir=tmp_path / f"data{n}")
            etags = FileDirDict(base_dir=tmp_path / f"etags{n}", serialization_format="txt")
            return MutableDictCached(main, data, etags)

        return factory


# ----------------------------------------------------------------- always append-only wrappers


class AlwaysAppendOnlyConformance(PersiDictConformance):
    """The suite for a wrapper that is always append-only.

    ``rewrites_ignored``: a second write of a key is silently ignored (WriteOnceDict) instead
    of raising `MutationPolicyError` (AppendOnlyDictCached).
    """

    rewrites_ignored: ClassVar[bool] = False

    def rewrite(self, store: PersiDict, key: str, value: Any) -> None:
        """Write ``key`` again: ignored, or refused with MutationPolicyError."""
        if self.rewrites_ignored:
            store[key] = value
        else:
            with pytest.raises(MutationPolicyError):
                store[key] = value

    def test_is_append_only(self, store: PersiDict) -> None:
        assert store.append_only is True
        assert store.get_params()["append_only"] is True

    def test_overwrite_and_delete(self, store: PersiDict) -> None:
        # Replaces the suite's version: nothing can be overwritten or deleted here.
        store["k"] = "first"
        self.rewrite(store, "k", "second")
        assert store["k"] == "first"
        assert len(store) == 1
        with pytest.raises(MutationPolicyError):
            del store["k"]
        assert store["k"] == "first"
        with pytest.raises(KeyError):
            store["other"]

    def test_dict_methods(self, store: PersiDict) -> None:
        # Replaces the suite's version: the removing methods are refused, the others work.
        assert store.setdefault("s", 5) == 5
        assert store.setdefault("s", 6) == 5
        for action in (
            lambda: store.pop("s"),
            lambda: store.pop("s", "gone"),
            lambda: store.popitem(),
            lambda: store.discard("s"),
            lambda: store.delete_if_exists("s"),
            lambda: store.clear(),
        ):
            with pytest.raises(MutationPolicyError):
                action()
        store.update({"a": 1}, b=2)
        assert dict(store.items()) == {("s",): 5, ("a",): 1, ("b",): 2}
        with pytest.raises(TypeError):
            store.setdefault("j", KEEP_CURRENT)

    def test_jokers(self, store: PersiDict) -> None:
        # Replaces the suite's version: KEEP_CURRENT is a no-op, DELETE_CURRENT is refused.
        store["k"] = 1
        store["k"] = KEEP_CURRENT
        assert store["k"] == 1
        store["absent"] = KEEP_CURRENT
        assert "absent" not in store
        with pytest.raises(MutationPolicyError):
            store["k"] = DELETE_CURRENT
        with pytest.raises(MutationPolicyError):
            store["absent"] = DELETE_CURRENT
        assert dict(store.items()) == {("k",): 1}
        assert store.set_item_get_etag("x", KEEP_CURRENT) is None

    def test_append_only(self, store_factory: StoreFactory) -> None:
        if not self.rewrites_ignored:
            super().test_append_only(store_factory)
            return
        # WriteOnceDict: as the suite's version, except that rewrites are ignored, not refused.
        store = store_factory(append_only=True)
        store["k"] = "v"
        store[("a", "b")] = "w"
        store["k"] = "other"
        store["k"] = "v"
        for action in (
            lambda: store.__delitem__("k"),
            lambda: store.__setitem__("k", DELETE_CURRENT),
            lambda: store.discard("k"),
            lambda: store.pop("k"),
            lambda: store.clear(),
        ):
            with pytest.raises(MutationPolicyError) as info:
                action()
            assert isinstance(info.value, KeyError) and isinstance(info.value, TypeError)
        assert store.setdefault("k", "x") == "v"
        assert store.setdefault("new", "n") == "n"
        assert dict(store.items()) == {("k",): "v", ("a", "b"): "w", ("new",): "n"}

    def test_etags(self, store: PersiDict) -> None:
        # Replaces the suite's version, which rewrites a key: a second key gives a second etag.
        etag = store.set_item_get_etag("k", "v1")
        assert etag is not None and etag == store.etag("k")
        assert store.get_item_if_etag_changed("k", etag) is ETAG_HAS_NOT_CHANGED
        assert store.get_item_if_etag_changed("k", None) == ("v1", etag)
        time.sleep(self.timestamp_resolution)
        other = store.set_item_get_etag("j", "v2 longer")
        assert other is not None and other != etag
        assert store.get_item_if_etag_changed("k", other) == ("v1", etag)
        if self.rewrites_ignored:
            assert store.set_item_get_etag("k", "v1") == etag  # the stored value's etag
        with pytest.raises(KeyError):
            store.etag("missing")
        with pytest.raises(KeyError):
            store.get_item_if_etag_changed("missing", etag)

    def test_iteration_survives_concurrent_deletes(self, store: PersiDict) -> None:
        pytest.skip("an append-only store cannot delete keys, so none can vanish while iterating")


class TestAppendOnlyDictCachedOverLocalDict(AlwaysAppendOnlyConformance):
    serializes_values: ClassVar[bool] = False
    config_reopens_data: ClassVar[bool] = False

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        def factory(**params: Any) -> PersiDict:
            return AppendOnlyDictCached(LocalDict(**{**params, "append_only": True}), LocalDict())

        return factory


class TestAppendOnlyDictCachedOverFileDirDict(AlwaysAppendOnlyConformance):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            main = FileDirDict(base_dir=tmp_path / f"store{next(counter)}", **{**params, "append_only": True})
            return AppendOnlyDictCached(main_dict=main, data_cache=LocalDict())

        return factory


class TestAppendOnlyDictCachedWithAppendOnlyCache(AlwaysAppendOnlyConformance):
    """An append-only cache is fine too: writing a value it already holds is ignored."""

    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            n = next(counter)
            main = FileDirDict(base_dir=tmp_path / f"main{n}", **{**params, "append_only": True})
            cache = FileDirDict(base_dir=tmp_path / f"cache{n}", append_only=True)
            return AppendOnlyDictCached(main, cache)

        return factory


class TestAppendOnlyDictCachedSubdict(AlwaysAppendOnlyConformance):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            main = FileDirDict(base_dir=tmp_path / "root", **{**params, "append_only": True})
            sub = AppendOnlyDictCached(main, LocalDict()).get_subdict(("outer", f"s{next(counter)}"))
            assert type(sub) is AppendOnlyDictCached
            return sub

        return factory


class TestWriteOnceDictOverLocalDict(AlwaysAppendOnlyConformance):
    rewrites_ignored: ClassVar[bool] = True
    serializes_values: ClassVar[bool] = False
    config_reopens_data: ClassVar[bool] = False

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        def factory(**params: Any) -> PersiDict:
            return WriteOnceDict(LocalDict(**{**params, "append_only": True}))

        return factory


class TestWriteOnceDictOverFileDirDict(AlwaysAppendOnlyConformance):
    rewrites_ignored: ClassVar[bool] = True

    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            main = FileDirDict(base_dir=tmp_path / f"store{next(counter)}", **{**params, "append_only": True})
            return WriteOnceDict(wrapped_dict=main, p_consistency_checks=0.0)

        return factory

    def test_subdicts_are_write_once_dicts(self, store: PersiDict) -> None:
        assert isinstance(store, WriteOnceDict)
        sub = store.get_subdict("a")
        assert type(sub) is WriteOnceDict
        assert sub.p_consistency_checks == store.p_consistency_checks
