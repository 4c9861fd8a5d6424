"""Configs nest the wrapped stores' configs; JSON, store_from_config, copy and pickle reopen them."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from persidict_cache import (
    AppendOnlyDictCached,
    AppendOnlyDictCachedConfig,
    MutableDictCached,
    MutableDictCachedConfig,
    WriteOnceDict,
    WriteOnceDictConfig,
)
from persidict_core import FileDirDict, FileDirDictConfig, LocalDict, PersiDict, store_from_config

Builder = Callable[[Path], PersiDict]


def mutable(tmp_path: Path) -> PersiDict:
    return MutableDictCached(
        FileDirDict(base_dir=tmp_path / "m", serialization_format="json"), LocalDict(), LocalDict()
    )


def append_only(tmp_path: Path) -> PersiDict:
    return AppendOnlyDictCached(FileDirDict(base_dir=tmp_path / "a", append_only=True), LocalDict())


def write_once(tmp_path: Path) -> PersiDict:
    return WriteOnceDict(FileDirDict(base_dir=tmp_path / "w", append_only=True, digest_len=3), 0.25)


BUILDERS = [pytest.param(mutable, id="mutable"), pytest.param(append_only, id="append_only"),
            pytest.param(write_once, id="write_once")]  # fmt: skip


@pytest.mark.parametrize("build", BUILDERS)
def test_json_round_trip_and_store_from_config(tmp_path: Path, build: Builder) -> None:
    store = build(tmp_path)
    store["k"] = {"v": [1, 2]}
    text = store.config.model_dump_json()
    data = json.loads(text)
    assert data["kind"] == store.config.kind
    assert type(store.config).model_validate_json(text) == store.config
    reopened = store_from_config(text)
    assert type(reopened) is type(store)
    assert reopened.config == store.config
    assert reopened["k"] == {"v": [1, 2]}
    reopened["other"] = 1
    assert store["other"] == 1
    assert type(store).from_config(store.get_params()).config == store.config


def test_configs_nest_the_wrapped_configs(tmp_path: Path) -> None:
    m = mutable(tmp_path)
    assert isinstance(m.config, MutableDictCachedConfig)
    assert isinstance(m.config.main_dict, FileDirDictConfig)
    params = m.get_params()
    assert params["main_dict"]["kind"] == "file_dir_dict"
    assert params["main_dict"]["serialization_format"] == "json"
    assert params["serialization_format"] == "json"  # the main store's
    assert params["data_cache"]["kind"] == params["etag_cache"]["kind"] == "local_dict"
    a = append_only(tmp_path)
    assert isinstance(a.config, AppendOnlyDictCachedConfig)
    assert set(a.get_params()) >= {"main_dict", "data_cache"}
    w = write_once(tmp_path)
    assert isinstance(w.config, WriteOnceDictConfig)
    assert w.get_params()["p_consistency_checks"] == 0.25
    assert w.get_params()["wrapped_dict"]["digest_len"] == 3
    assert "FileDirDictConfig" in repr(w) and "0.25" in repr(w)


@pytest.mark.parametrize("build", BUILDERS)
def test_copy_and_pickle_give_a_wrapper_over_the_same_stores(tmp_path: Path, build: Builder) -> None:
    store = build(tmp_path)
    store["k"] = 1
    duplicate = copy.copy(store)
    assert type(duplicate) is type(store)
    assert duplicate == store
    for name in ("main_dict", "data_cache", "etag_cache", "wrapped_dict"):
        if hasattr(type(store), name):
            assert getattr(duplicate, name) is getattr(store, name)
    unpickled = pickle.loads(pickle.dumps(store))
    assert type(unpickled) is type(store)
    assert unpickled["k"] == 1
    assert unpickled.config == store.config
    unpickled["new"] = 2
    assert store["new"] == 2  # the same directory


def test_pickled_local_caches_travel_with_the_wrapper(tmp_path: Path) -> None:
    store = MutableDictCached(FileDirDict(base_dir=tmp_path), LocalDict(), LocalDict())
    store["k"] = "v"
    unpickled = pickle.loads(pickle.dumps(store))
    assert isinstance(unpickled, MutableDictCached)
    assert unpickled.data_cache["k"] == "v"


def test_equality_is_by_wrapped_stores(tmp_path: Path) -> None:
    main = FileDirDict(base_dir=tmp_path, append_only=True)
    main["k"] = 1  # not empty: two empty stores are equal by content
    assert AppendOnlyDictCached(main, LocalDict()) != AppendOnlyDictCached(
        LocalDict(append_only=True), LocalDict()
    )
    cache = LocalDict()
    assert AppendOnlyDictCached(main, cache) == AppendOnlyDictCached(
        FileDirDict(base_dir=tmp_path, append_only=True), cache
    )
    assert WriteOnceDict(main, 0.5) == WriteOnceDict(main, 0.5)


def test_nested_wrappers_round_trip(tmp_path: Path) -> None:
    inner = WriteOnceDict(FileDirDict(base_dir=tmp_path, append_only=True), 1.0)
    outer = AppendOnlyDictCached(inner, LocalDict())
    outer["k"] = 1
    reopened = store_from_config(outer.config.model_dump_json())
    assert isinstance(reopened, AppendOnlyDictCached)
    assert isinstance(reopened.main_dict, WriteOnceDict)
    assert reopened.main_dict.p_consistency_checks == 1.0
    assert reopened["k"] == 1
