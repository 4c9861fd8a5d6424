"""The core conformance suite for each wrapper, over LocalDict and over FileDirDict.

`AppendOnlyDictCached` and `WriteOnceDict` are always append-only, so their factories build an
append-only main store whatever ``append_only`` the suite asks for; the suite reads that (and
``mutation_policy``) from the store and checks the append-only and write-once behaviour.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, ClassVar

import pytest

from persidict_cache import AppendOnlyDictCached, MutableDictCached, WriteOnceDict
from persidict_core import (
    FileDirDict,
    LocalDict,
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


class TestAppendOnlyDictCachedOverLocalDict(PersiDictConformance):
    serializes_values: ClassVar[bool] = False
    config_reopens_data: ClassVar[bool] = False

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        def factory(**params: Any) -> PersiDict:
            return AppendOnlyDictCached(LocalDict(**{**params, "append_only": True}), LocalDict())

        return factory


class TestAppendOnlyDictCachedOverFileDirDict(PersiDictConformance):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            main = FileDirDict(base_dir=tmp_path / f"store{next(counter)}", **{**params, "append_only": True})
            return AppendOnlyDictCached(main_dict=main, data_cache=LocalDict())

        return factory


class TestAppendOnlyDictCachedWithAppendOnlyCache(PersiDictConformance):
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


class TestAppendOnlyDictCachedSubdict(PersiDictConformance):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            main = FileDirDict(base_dir=tmp_path / "root", **{**params, "append_only": True})
            sub = AppendOnlyDictCached(main, LocalDict()).get_subdict(("outer", f"s{next(counter)}"))
            assert type(sub) is AppendOnlyDictCached
            return sub

        return factory


class TestWriteOnceDictOverLocalDict(PersiDictConformance):
    serializes_values: ClassVar[bool] = False
    config_reopens_data: ClassVar[bool] = False

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        def factory(**params: Any) -> PersiDict:
            return WriteOnceDict(LocalDict(**{**params, "append_only": True}))

        return factory


class TestWriteOnceDictOverFileDirDict(PersiDictConformance):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            main = FileDirDict(base_dir=tmp_path / f"store{next(counter)}", **{**params, "append_only": True})
            return WriteOnceDict(wrapped_dict=main, p_consistency_checks=0.0)

        return factory
