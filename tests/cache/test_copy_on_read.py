"""copy_on_read: by default a read is the caller's own copy; False shares the cached object."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from persidict_cache import AppendOnlyDictCached, MutableDictCached
from persidict_core import FileDirDict, LocalDict, PersiDict, store_from_config

VALUES: list[Any] = [
    {f"key{i}": i for i in range(50)},
    list(range(100)),
    {"rows": [{"id": 1}, {"id": 2}]},
    np.arange(10, dtype=np.int64),
]


def _mutate(value: Any) -> None:
    if isinstance(value, dict):
        value["added"] = 1
        for item in value.values():
            if isinstance(item, list):
                item.append({"id": 99})
    elif isinstance(value, list):
        value.append(-1)
    else:
        value[0] = -1


def _equal(a: Any, b: Any) -> bool:
    return bool(np.array_equal(a, b)) if isinstance(a, np.ndarray) else bool(a == b)


def _wrappers(tmp_path: Path, copy_on_read: bool) -> list[PersiDict]:
    main = FileDirDict(tmp_path / f"m{copy_on_read}", fsync=False)
    mutable = MutableDictCached(main, LocalDict(), LocalDict(), copy_on_read=copy_on_read)
    append_only = AppendOnlyDictCached(
        FileDirDict(tmp_path / f"a{copy_on_read}", fsync=False, append_only=True),
        LocalDict(),
        copy_on_read=copy_on_read,
    )
    return [mutable, append_only]


@pytest.mark.parametrize("index", range(len(VALUES)))
def test_by_default_mutating_a_hit_never_changes_what_others_read(tmp_path: Path, index: int) -> None:
    for store in _wrappers(tmp_path, copy_on_read=True):
        value = copy.deepcopy(VALUES[index])
        store["k"] = value
        first = store["k"]  # a hit: the caches were filled by the write
        _mutate(first)
        assert _equal(store["k"], value)
        assert store["k"] is not store["k"]
        assert _equal(store.main_dict["k"], value)  # type: ignore[attr-defined]


@pytest.mark.parametrize("index", range(len(VALUES)))
def test_without_copy_on_read_hits_share_the_cached_object(tmp_path: Path, index: int) -> None:
    for store in _wrappers(tmp_path, copy_on_read=False):
        value = copy.deepcopy(VALUES[index])
        store["k"] = value
        _mutate(value)  # the caller's own object: the cache took its copy at the write
        assert _equal(store["k"], VALUES[index])
        assert store["k"] is store["k"]
        shared = store["k"]
        _mutate(shared)  # the documented trade-off: later hits see it, the main store does not
        assert store["k"] is shared
        assert not _equal(store.main_dict["k"], shared)  # type: ignore[attr-defined]


def test_without_copy_on_read_changes_in_main_are_still_seen(tmp_path: Path) -> None:
    main = FileDirDict(tmp_path, fsync=False)
    store = MutableDictCached(main, LocalDict(), LocalDict(), copy_on_read=False)
    store["k"] = [1, 2]
    assert store["k"] is store["k"]
    FileDirDict(tmp_path, fsync=False)["k"] = [3]  # another writer
    assert store["k"] == [3]
    del main["k"]
    with pytest.raises(KeyError):
        store["k"]


@pytest.mark.parametrize("cls", [MutableDictCached, AppendOnlyDictCached])
def test_copy_on_read_is_part_of_the_config(tmp_path: Path, cls: Any) -> None:
    main = FileDirDict(tmp_path, fsync=False, append_only=cls is AppendOnlyDictCached)
    caches = [LocalDict(), LocalDict()] if cls is MutableDictCached else [LocalDict()]
    store: Any = cls(main, *caches, copy_on_read=False)
    assert store.copy_on_read is False and store.config.copy_on_read is False
    assert cls(main, *caches).copy_on_read is True
    data = json.loads(store.config.model_dump_json())
    assert data["copy_on_read"] is False
    names = ["main_dict", "data_cache", "etag_cache"][: len(caches) + 1]
    reopened: Any = store_from_config(data, dict(zip(names, [main, *caches], strict=True)))
    assert reopened.copy_on_read is False
    store[("sub", "k")] = [1]
    assert store.get_subdict("sub").copy_on_read is False
    with pytest.raises(ValidationError, match="copy_on_read"):
        cls(main, *caches, copy_on_read="no")
