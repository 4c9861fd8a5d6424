"""The conformance suite for LocalDict and FileDirDict in every configuration."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, ClassVar

import pytest

from persidict_core import EmptyDict, FileDirDict, LocalDict, PersiDict
from persidict_core.testing import InputConformance, PersiDictConformance, StoreFactory


class TestLocalDict(PersiDictConformance):
    serializes_values: ClassVar[bool] = False
    config_reopens_data: ClassVar[bool] = False  # in-memory: a JSON config cannot carry the data

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        def factory(**params: Any) -> PersiDict:
            return LocalDict(**params)

        return factory


class TestLocalDictSubdict(TestLocalDict):
    """A sub-dict of a LocalDict must behave like a whole store."""

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            return LocalDict(**params).get_subdict(("outer", f"s{next(counter)}"))

        return factory


class FileDirDictConformance(PersiDictConformance):
    digest_len: ClassVar[int] = 0
    fsync: ClassVar[bool] = True

    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            return FileDirDict(
                base_dir=tmp_path / f"store{next(counter)}",
                digest_len=self.digest_len,
                fsync=self.fsync,
                **params,
            )

        return factory


class TestFileDirDict(FileDirDictConformance):
    pass


class TestFileDirDictSigned(FileDirDictConformance):
    digest_len = 4


class TestFileDirDictNoFsync(FileDirDictConformance):
    fsync = False


class TestFileDirDictSubdict(FileDirDictConformance):
    digest_len = 4

    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            root = FileDirDict(base_dir=tmp_path / "root", digest_len=self.digest_len, **params)
            return root.get_subdict(("outer", f"s{next(counter)}"))

        return factory


class TestFileDirDictJson(FileDirDictConformance):
    """The whole suite with json as the store's format (values go through jsonpickle)."""

    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            params.setdefault("serialization_format", "json")
            return FileDirDict(base_dir=tmp_path / f"store{next(counter)}", **params)

        return factory


class TestFileDirDictUnlocked(FileDirDictConformance):
    """Without locking the store is not atomic and has weak ETags: the suite takes those variants."""

    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            return FileDirDict(base_dir=tmp_path / f"store{next(counter)}", locking=False, **params)

        return factory


class TestEmptyDict(InputConformance):
    """EmptyDict keeps nothing: only the part of the contract about refusals and emptiness applies."""

    serializes_values: ClassVar[bool] = False
    config_reopens_data: ClassVar[bool] = False

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        def factory(**params: Any) -> PersiDict:
            return EmptyDict(**params)

        return factory
