"""Subclasses of the wrappers survive copy, pickle, sub-dicts and from_config; get_params reopens."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from persidict_cache import AppendOnlyDictCached, MutableDictCached, WriteOnceDict
from persidict_core import FileDirDict, LocalDict, PersiDict, store_from_config


class MyMutable(MutableDictCached):
    pass


class MyAppendOnly(AppendOnlyDictCached):
    pass


class MyWriteOnce(WriteOnceDict):
    pass


Factory = Callable[[Path], PersiDict]
WRAPPERS: list[Any] = [
    pytest.param(
        lambda p: MyMutable(FileDirDict(base_dir=p), LocalDict(), LocalDict()), id="MutableDictCached"
    ),
    pytest.param(
        lambda p: MyAppendOnly(FileDirDict(base_dir=p, append_only=True), LocalDict()), id="AppendOnly"
    ),
    pytest.param(lambda p: MyWriteOnce(FileDirDict(base_dir=p, append_only=True), 0.5), id="WriteOnceDict"),
]


@pytest.mark.parametrize("make", WRAPPERS)
def test_a_wrapper_subclass_stays_itself(tmp_path: Path, make: Factory) -> None:
    store = make(tmp_path)
    cls = type(store)
    store[("sub", "k")] = 1
    for same in (copy.copy(store), copy.deepcopy(store), pickle.loads(pickle.dumps(store))):
        assert type(same) is cls
        assert same[("sub", "k")] == 1
    sub = store.get_subdict("sub")
    assert type(sub) is cls and sub["k"] == 1
    assert type(store.get_subdict(())) is cls
    assert {name: type(s) for name, s in store.subdicts().items()} == {"sub": cls}
    assert type(cls.from_config(store.config)) is cls
    assert type(cls.from_config(store.config.model_dump_json())) is cls
    assert type(store_from_config(store.config)) is cls.__mro__[1]


@pytest.mark.parametrize("make", WRAPPERS)
def test_get_params_reopens_the_same_wrapper(tmp_path: Path, make: Factory) -> None:
    store = make(tmp_path)
    store["k"] = [1]
    params = store.get_params()
    reopened = type(store)(**params)
    assert type(reopened) is type(store)
    assert reopened.config == store.config
    assert reopened["k"] == [1]
    reopened["new"] = 2
    assert store["new"] == 2


def test_get_params_of_a_wrapper_over_memory_shares_the_memory() -> None:
    main = LocalDict(append_only=True)
    cache = LocalDict()
    store = AppendOnlyDictCached(main, cache)
    store["k"] = 1
    params = store.get_params()
    assert params["main_dict"]["backend"] is main.backend  # nested stores' own get_params()
    reopened = AppendOnlyDictCached(**params)
    assert reopened == store  # the same main store and the same cache
    assert isinstance(reopened.main_dict, LocalDict) and reopened.main_dict.backend is main.backend
    assert isinstance(reopened.data_cache, LocalDict) and reopened.data_cache.backend is cache.backend
    # A config cannot hold memory: reopening from the config alone gives new LocalDicts.
    assert "k" not in store_from_config(store.config)


def test_wrappers_accept_configs_of_their_stores(tmp_path: Path) -> None:
    main = FileDirDict(base_dir=tmp_path, append_only=True)
    main["k"] = 1
    wrapper = WriteOnceDict(main.config)
    assert wrapper["k"] == 1
    wrapper = WriteOnceDict(main.get_params())
    assert wrapper.wrapped_dict == main
    with pytest.raises(TypeError, match="wrapped_dict"):
        WriteOnceDict({"no": "kind"})
