"""OverlappingMultiDict: one construction path; subclasses survive copy, pickle and from_config."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest

from persidict_core import FileDirDict, LocalDict
from persidict_multi import OverlappingMultiDict


class MyMulti(OverlappingMultiDict):
    pass


class MyFileDirDict(FileDirDict):
    pass


def test_get_params_reopens_the_same_group(tmp_path: Path) -> None:
    multi = OverlappingMultiDict(FileDirDict, {"base_dir": tmp_path}, json={"digest_len": 2}, txt={})
    multi.json["k"] = {"v": 1}
    params = multi.get_params()
    assert params["dict_type"] is FileDirDict
    reopened = OverlappingMultiDict(**params)
    assert reopened == multi and reopened.config == multi.config
    assert reopened.json["k"] == {"v": 1}
    reopened.txt["t"] = "x"
    assert multi.txt["t"] == "x"


def test_get_params_of_an_in_memory_group_shares_its_memory() -> None:
    multi = OverlappingMultiDict(LocalDict, {}, json={}, pkl={})
    multi.pkl["k"] = 1
    reopened = OverlappingMultiDict(**multi.get_params())
    assert reopened == multi
    assert reopened.pkl["k"] == 1
    assert isinstance(reopened.json, LocalDict) and isinstance(multi.pkl, LocalDict)
    assert reopened.json.backend is multi.pkl.backend


def test_a_subclass_and_its_store_class_stay_themselves(tmp_path: Path) -> None:
    multi = MyMulti(MyFileDirDict, {"base_dir": tmp_path}, json={}, pkl={})
    multi.pkl["k"] = 1
    for same in (copy.copy(multi), copy.deepcopy(multi), pickle.loads(pickle.dumps(multi))):
        assert type(same) is MyMulti
        assert same.dict_type is MyFileDirDict and type(same.pkl) is MyFileDirDict
        assert same.pkl["k"] == 1
        assert same == multi
    reopened = MyMulti.from_config(multi.config.model_dump_json())
    assert type(reopened) is MyMulti
    assert reopened.dict_type is FileDirDict  # a config names the registered kind, not the subclass
    assert reopened.pkl["k"] == 1


def test_the_attributes_stay_read_only_after_construction(tmp_path: Path) -> None:
    multi = OverlappingMultiDict(FileDirDict, {"base_dir": tmp_path}, json={})
    with pytest.raises(AttributeError, match="read-only"):
        multi.json = None
    assert isinstance(multi.json, FileDirDict)
