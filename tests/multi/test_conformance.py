"""The core conformance suite for the sub-stores of an OverlappingMultiDict.

Each store under test is one format's sub-store of a group whose other formats already hold
items under the same keys, so the whole suite also checks that the formats stay apart.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, ClassVar

import pytest

from persidict_core import FileDirDict, LocalDict, PersiDict
from persidict_core.testing import PersiDictConformance, StoreFactory
from persidict_multi import OverlappingMultiDict

_FORMATS = ("pkl", "json", "txt")
# Keys the suite uses too: the sibling formats hold items under them from the start.
_SIBLING_KEYS = (("k",), ("a",), ("users", "alice", "profile"), ("outer", "x"))


def _sub_store(multi_params: dict[str, Any], dict_type: type[PersiDict], **params: Any) -> PersiDict:
    """The ``serialization_format`` sub-store of a fresh group; the siblings are seeded."""
    name = params.pop("serialization_format", "pkl")
    individual: dict[str, dict[str, Any]] = {other: {} for other in _FORMATS}
    individual[name] = params
    multi = OverlappingMultiDict(dict_type=dict_type, shared_subdicts_params=multi_params, **individual)
    for other in _FORMATS:
        if other != name:
            sibling = getattr(multi, other)
            for key in _SIBLING_KEYS:
                sibling[key] = f"{other} sibling"
    store: PersiDict = getattr(multi, name)
    assert len(store) == 0
    return store


class TestOverlappingFileDirDicts(PersiDictConformance):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            return _sub_store({"base_dir": str(tmp_path / f"group{next(counter)}")}, FileDirDict, **params)

        return factory


class TestOverlappingLocalDicts(PersiDictConformance):
    serializes_values: ClassVar[bool] = False
    config_reopens_data: ClassVar[bool] = False

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        def factory(**params: Any) -> PersiDict:
            return _sub_store({}, LocalDict, **params)

        return factory
