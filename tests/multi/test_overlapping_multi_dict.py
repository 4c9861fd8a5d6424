"""OverlappingMultiDict: the seed's examples, isolation between formats, errors, configs."""

from __future__ import annotations

import copy
import importlib
import json
import os
import pickle
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from persidict_core import (
    ETAG_HAS_CHANGED,
    ETAG_IS_THE_SAME,
    ITEM_NOT_AVAILABLE,
    VALUE_NOT_RETRIEVED,
    FileDirDict,
    LocalDict,
    LocalDictBackend,
    PersiDict,
    store_from_config,
)
from persidict_multi import OverlappingMultiDict, OverlappingMultiDictConfig

# --------------------------------------------------------------------------- the seed's examples

SEED_QUICK_REFERENCE = textwrap.dedent(
    """
    from persidict import OverlappingMultiDict, FileDirDict

    multi = OverlappingMultiDict(
        dict_type=FileDirDict,
        shared_subdicts_params={"base_dir": "./data"},
        json={},  # Creates multi.json with serialization_format="json"
        pkl={},   # Creates multi.pkl with serialization_format="pkl"
        txt={}    # Creates multi.txt with serialization_format="txt"
    )

    multi.json["config"] = {"setting": "value"}
    multi.pkl["model"] = trained_model
    multi.txt["log"] = "Plain text log entry"
    """
)

SEED_MULTIPLE_FORMATS = textwrap.dedent(
    """
    from persidict import OverlappingMultiDict, FileDirDict

    multi = OverlappingMultiDict(
        dict_type=FileDirDict,
        shared_subdicts_params={"base_dir": "./storage"},
        json={},
        pkl={},
        txt={}
    )

    # Store same logical data in different formats
    config = {"host": "localhost", "port": 8080}
    multi.json["config"] = config  # Human-readable JSON
    multi.pkl["config"] = config   # Efficient pickle

    # Store plain text
    multi.txt["readme"] = "This is a plain text file."
    """
)

_DIRECT_IMPORT = "from persidict_core import FileDirDict\nfrom persidict_multi import OverlappingMultiDict"


def _run_seed(source: str, facade: bool) -> dict[str, Any]:
    if not facade:
        source = source.replace("from persidict import OverlappingMultiDict, FileDirDict", _DIRECT_IMPORT)
    namespace: dict[str, Any] = {"trained_model": {"weights": [0.5, 1.5]}}
    exec(compile(source, "<seed>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("facade", [True, False], ids=["from-persidict", "from-packages"])
def test_seed_quick_reference_runs_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, facade: bool
) -> None:
    if facade:
        pytest.importorskip("persidict", reason="the persidict facade distribution is not installed")
    monkeypatch.chdir(tmp_path)
    multi = _run_seed(SEED_QUICK_REFERENCE, facade)["multi"]
    assert sorted(os.listdir(tmp_path / "data")) == ["config.json", "log.txt", "model.pkl"]
    assert json.loads((tmp_path / "data" / "config.json").read_text(encoding="utf-8")) == {"setting": "value"}
    assert (tmp_path / "data" / "log.txt").read_text(encoding="utf-8") == "Plain text log entry"
    assert multi.pkl["model"] == {"weights": [0.5, 1.5]}
    assert multi.subdicts_names == ["json", "pkl", "txt"]
    with pytest.raises(TypeError):
        multi.txt["log"] = 42  # text formats hold str


@pytest.mark.parametrize("facade", [True, False], ids=["from-persidict", "from-packages"])
def test_seed_multiple_formats_runs_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, facade: bool
) -> None:
    if facade:
        pytest.importorskip("persidict", reason="the persidict facade distribution is not installed")
    monkeypatch.chdir(tmp_path)
    multi = _run_seed(SEED_MULTIPLE_FORMATS, facade)["multi"]
    storage = tmp_path / "storage"
    assert sorted(os.listdir(storage)) == ["config.json", "config.pkl", "readme.txt"]
    assert multi.json["config"] == multi.pkl["config"] == {"host": "localhost", "port": 8080}
    assert multi.txt["readme"] == "This is a plain text file."
    assert isinstance(multi.json, FileDirDict)
    assert multi.json.serialization_format == "json"
    assert multi.json.base_dir == str(storage)


# --------------------------------------------------------------------------- backends

MultiFactory = Callable[..., OverlappingMultiDict]


@pytest.fixture
def s3_params(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Parameters of a BasicS3Dict on an in-process moto S3 (skipped without persidict-s3)."""
    pytest.importorskip("persidict_s3", reason="persidict-s3 is not installed: the S3 variant is skipped")
    moto = pytest.importorskip("moto", reason="moto is not installed: the S3 variant is skipped")
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        yield {"bucket_name": "multi-bucket", "region": "us-east-1", "root_prefix": "group"}


@pytest.fixture(params=["file_dir_dict", "local_dict", "basic_s3_dict"])
def make_multi(request: pytest.FixtureRequest, tmp_path: Path) -> MultiFactory:
    """Build an OverlappingMultiDict over each kind of store (the same location every call)."""
    if request.param == "file_dir_dict":
        shared: dict[str, Any] = {"base_dir": str(tmp_path / "data")}
        dict_type: type[PersiDict] = FileDirDict
    elif request.param == "local_dict":
        shared = {"backend": LocalDictBackend()}
        dict_type = LocalDict
    else:
        shared = request.getfixturevalue("s3_params")  # skips without persidict-s3
        dict_type = importlib.import_module("persidict_s3").BasicS3Dict

    def build(**formats: dict[str, Any]) -> OverlappingMultiDict:
        formats = formats or {"json": {}, "pkl": {}, "txt": {}}
        return OverlappingMultiDict(dict_type, shared, **formats)

    return build


def test_formats_share_a_location_but_not_items(make_multi: MultiFactory) -> None:
    multi = make_multi()
    multi.json["config"] = {"format": "json"}
    multi.pkl["config"] = {"format": "pkl"}
    multi.txt["config"] = "format: txt"
    multi.pkl[("models", "m1")] = [1, 2, 3]

    assert multi.json["config"] == {"format": "json"}
    assert multi.pkl["config"] == {"format": "pkl"}
    assert multi.txt["config"] == "format: txt"
    assert sorted(multi.json.keys()) == [("config",)]
    assert sorted(multi.pkl.keys()) == [("config",), ("models", "m1")]
    assert len(multi.txt) == 1
    assert ("models", "m1") not in multi.json

    # A second group over the same location sees the same items.
    again = make_multi()
    assert again.pkl[("models", "m1")] == [1, 2, 3]
    assert again.json == {"config": {"format": "json"}}


def test_conditional_operations_work_on_every_format_separately(make_multi: MultiFactory) -> None:
    multi = make_multi()
    for name in ("json", "pkl", "txt"):
        store = getattr(multi, name)
        created = store.setdefault_if(
            "k", default_value=f"{name}-1", condition=ETAG_IS_THE_SAME, expected_etag=ITEM_NOT_AVAILABLE
        )
        assert created.condition_was_satisfied and created.new_value == f"{name}-1"
        written = store.set_item_if(
            "k", value=f"{name}-2", condition=ETAG_IS_THE_SAME, expected_etag=created.resulting_etag
        )
        assert written.condition_was_satisfied
        assert store.get_with_etag("k").actual_etag == written.resulting_etag == store.etag("k")
        unchanged = store.get_item_if("k", condition=ETAG_HAS_CHANGED, expected_etag=written.resulting_etag)
        assert not unchanged.condition_was_satisfied and unchanged.new_value is VALUE_NOT_RETRIEVED
        store.transform_item("k", transformer=lambda value: value + "!")
    # Each format changed its own item only.
    assert [getattr(multi, name)["k"] for name in ("json", "pkl", "txt")] == ["json-2!", "pkl-2!", "txt-2!"]
    etag = multi.json.etag("k")
    assert isinstance(etag, str)
    assert multi.json.discard_if("k", condition=ETAG_IS_THE_SAME, expected_etag=etag).condition_was_satisfied
    assert "k" not in multi.json and multi.pkl["k"] == "pkl-2!" and multi.txt["k"] == "txt-2!"


def test_config_and_pickle_reopen_the_group_on_every_store(make_multi: MultiFactory) -> None:
    multi = make_multi()
    multi.json["k"] = {"v": 1}
    multi.txt["k"] = "v"
    clone = pickle.loads(pickle.dumps(multi))
    assert clone.json["k"] == {"v": 1} and clone.txt["k"] == "v"
    # A pickled LocalDict carries a copy of its memory; the others reopen the same location.
    assert (clone == multi) is (multi.dict_type is not LocalDict)
    reopened = OverlappingMultiDict.from_config(multi.config.model_dump_json())
    assert reopened.config == multi.config
    if multi.dict_type is not LocalDict:  # memory is not part of a config
        assert reopened == multi
        assert reopened.json["k"] == {"v": 1} and "k" not in reopened.pkl


def test_clear_and_delete_touch_one_format_only(make_multi: MultiFactory) -> None:
    multi = make_multi()
    for store, value in ((multi.json, {"v": 1}), (multi.pkl, {"v": 2}), (multi.txt, "v3")):
        store["a"] = value
        store[("sub", "b")] = value

    del multi.pkl["a"]
    assert "a" in multi.json and "a" in multi.txt and "a" not in multi.pkl

    multi.json.clear()
    assert len(multi.json) == 0
    assert sorted(multi.pkl.keys()) == [("sub", "b")]
    assert sorted(multi.txt.keys()) == [("a",), ("sub", "b")]
    assert multi.txt[("sub", "b")] == "v3"

    assert multi.txt.discard("a") is True
    assert multi.pkl[("sub", "b")] == {"v": 2}


def test_file_stores_keep_one_file_per_format(tmp_path: Path) -> None:
    multi = OverlappingMultiDict(FileDirDict, {"base_dir": tmp_path}, json={}, pkl={}, txt={})
    multi.json["k"] = [1]
    multi.pkl["k"] = [1]
    multi.txt["k"] = "1"
    assert sorted(os.listdir(tmp_path)) == ["k.json", "k.pkl", "k.txt"]
    multi.pkl.clear()
    assert sorted(os.listdir(tmp_path)) == ["k.json", "k.txt"]


def test_local_dict_formats_share_one_backend() -> None:
    multi = OverlappingMultiDict(LocalDict, {}, json={}, pkl={})
    assert isinstance(multi.json, LocalDict) and isinstance(multi.pkl, LocalDict)
    assert multi.json.backend is multi.pkl.backend
    multi.json["k"] = 1
    assert "k" not in multi.pkl

    given = LocalDictBackend()
    mine = OverlappingMultiDict(LocalDict, {"backend": given}, json={}, pkl={})
    assert isinstance(mine.json, LocalDict) and mine.json.backend is given


# --------------------------------------------------------------------------- construction


def test_positional_and_keyword_construction_agree(tmp_path: Path) -> None:
    by_position = OverlappingMultiDict(FileDirDict, {"base_dir": tmp_path}, json={}, pkl={})
    by_keyword = OverlappingMultiDict(
        dict_type=FileDirDict, shared_subdicts_params={"base_dir": tmp_path}, json={}, pkl={}
    )
    assert by_position == by_keyword
    assert by_position.config == by_keyword.config


def test_attributes_and_repr(tmp_path: Path) -> None:
    shared = {"base_dir": str(tmp_path)}
    multi = OverlappingMultiDict(FileDirDict, shared, json={"digest_len": 4}, pkl={})
    assert multi.dict_type is FileDirDict
    assert multi.shared_subdicts_params == shared
    assert multi.individual_subdicts_params == {"json": {"digest_len": 4}, "pkl": {}}
    assert multi.subdicts_names == ["json", "pkl"]
    assert "json" in dir(multi)
    assert isinstance(multi.json, FileDirDict) and multi.json.digest_len == 4
    assert isinstance(multi.pkl, FileDirDict) and multi.pkl.digest_len == 0
    assert repr(multi) == (
        f"OverlappingMultiDict(dict_type=FileDirDict, shared_subdicts_params={shared!r}, "
        "json={'digest_len': 4}, pkl={})"
    )
    # The attributes hand out copies: changing them changes nothing.
    multi.shared_subdicts_params["base_dir"] = "elsewhere"
    multi.subdicts_names.append("csv")
    assert multi.shared_subdicts_params == shared and multi.subdicts_names == ["json", "pkl"]
    assert bool(multi) is True


def test_individual_params_override_shared(tmp_path: Path) -> None:
    multi = OverlappingMultiDict(
        FileDirDict, {"base_dir": tmp_path, "append_only": True}, json={"append_only": False}, pkl={}
    )
    assert multi.json.append_only is False
    assert multi.pkl.append_only is True


# --------------------------------------------------------------------------- errors


@pytest.fixture
def multi(tmp_path: Path) -> OverlappingMultiDict:
    return OverlappingMultiDict(FileDirDict, {"base_dir": tmp_path}, json={}, pkl={}, txt={})


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda m: m["k"], id="getitem"),
        pytest.param(lambda m: m.__setitem__("k", 1), id="setitem"),
        pytest.param(lambda m: m.__delitem__("k"), id="delitem"),
        pytest.param(lambda m: iter(m), id="iter"),
        pytest.param(lambda m: list(m), id="list"),
        pytest.param(lambda m: len(m), id="len"),
        pytest.param(lambda m: "k" in m, id="contains"),
    ],
)
def test_the_container_is_not_a_mapping(multi: OverlappingMultiDict, operation: Callable[[Any], Any]) -> None:
    with pytest.raises(TypeError, match=r"not a mapping.*format attributes \(json, pkl, txt\)"):
        operation(multi)


def test_unknown_attribute_lists_the_formats(multi: OverlappingMultiDict) -> None:
    with pytest.raises(AttributeError, match=r"no format 'csv'; its formats are: json, pkl, txt"):
        _ = multi.csv
    assert not hasattr(multi, "yaml")


def test_attributes_are_read_only(multi: OverlappingMultiDict) -> None:
    with pytest.raises(AttributeError, match="read-only"):
        multi.json = LocalDict()
    with pytest.raises(AttributeError, match="read-only"):
        del multi.pkl
    assert isinstance(multi.json, FileDirDict)


def test_text_format_refuses_non_strings(multi: OverlappingMultiDict) -> None:
    with pytest.raises(TypeError, match="str"):
        multi.txt["k"] = {"not": "text"}
    multi.txt["k"] = "text"
    assert multi.txt["k"] == "text"


def test_no_formats_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one format"):
        OverlappingMultiDict(FileDirDict, {"base_dir": tmp_path})


@pytest.mark.parametrize("dict_type", [dict, object, int], ids=["dict", "object", "int"])
def test_dict_type_must_be_a_persidict_class(dict_type: Any) -> None:
    with pytest.raises(TypeError, match="dict_type must be a PersiDict subclass"):
        OverlappingMultiDict(dict_type, {}, json={})


@pytest.mark.parametrize("dict_type", [LocalDict(), "FileDirDict", None], ids=["instance", "str", "None"])
def test_dict_type_must_be_a_class(dict_type: Any) -> None:
    with pytest.raises(TypeError, match="dict_type must be a PersiDict subclass"):
        OverlappingMultiDict(dict_type, {}, json={})


@pytest.mark.parametrize("shared", [None, [("base_dir", "x")], "base_dir=x"], ids=["None", "list", "str"])
def test_shared_params_must_be_a_dict(shared: Any) -> None:
    with pytest.raises(TypeError, match="shared_subdicts_params must be a dict"):
        OverlappingMultiDict(LocalDict, shared, json={})


def test_individual_params_must_be_dicts() -> None:
    with pytest.raises(TypeError, match="Params for subdict 'pkl' must be a dict"):
        OverlappingMultiDict(LocalDict, {}, json={}, pkl=None)  # type: ignore[arg-type]


def test_serialization_format_in_params_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="shared_subdicts_params must not contain 'serialization_format'"):
        OverlappingMultiDict(FileDirDict, {"base_dir": tmp_path, "serialization_format": "json"}, json={})
    with pytest.raises(ValueError, match="subdict 'pkl' must not contain 'serialization_format'"):
        OverlappingMultiDict(FileDirDict, {"base_dir": tmp_path}, pkl={"serialization_format": "json"})
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("name", ["", "a/b", "a b", "ü"])
def test_format_names_must_be_valid_formats(name: str) -> None:
    with pytest.raises(ValueError, match="not a valid serialization format name"):
        OverlappingMultiDict(LocalDict, {}, **{name: {}})


@pytest.mark.parametrize("name", ["config", "get_params", "from_config", "subdicts_names", "_subdicts"])
def test_format_names_must_not_shadow_attributes(name: str) -> None:
    with pytest.raises(ValueError, match="name of one of its attributes"):
        OverlappingMultiDict(LocalDict, {}, **{name: {}})


def test_invalid_store_params_are_validation_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="serialisation_format"):
        OverlappingMultiDict(FileDirDict, {"base_dir": tmp_path}, json={"serialisation_format": "x"})


# --------------------------------------------------------------------------- configuration


def test_config_describes_every_sub_store(multi: OverlappingMultiDict) -> None:
    config = multi.config
    assert isinstance(config, OverlappingMultiDictConfig)
    assert config.kind == "overlapping_multi_dict"
    assert config.dict_type == "file_dir_dict"
    assert list(config.subdicts) == ["json", "pkl", "txt"]
    assert config.subdicts["json"] == multi.json.config
    params = multi.get_params()
    assert params["dict_type"] is FileDirDict
    assert params["shared_subdicts_params"] == multi.shared_subdicts_params
    assert {name: params[name] for name in multi.subdicts_names} == multi.individual_subdicts_params
    with pytest.raises(ValidationError):
        config.dict_type = "local_dict"  # type: ignore[misc]  # frozen


def test_config_json_round_trip_reopens_the_group_elsewhere(
    multi: OverlappingMultiDict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    multi.json["config"] = {"a": 1}
    multi.txt["note"] = "hello"
    text = multi.config.model_dump_json()
    other_cwd = tmp_path / "elsewhere"
    other_cwd.mkdir()
    monkeypatch.chdir(other_cwd)

    for source in (
        text,
        json.loads(text),
        multi.config,
        OverlappingMultiDictConfig.model_validate_json(text),
    ):
        reopened = OverlappingMultiDict.from_config(source)
        assert reopened == multi
        assert reopened.config == multi.config
        assert reopened.dict_type is FileDirDict
        assert reopened.subdicts_names == ["json", "pkl", "txt"]
        assert reopened.json["config"] == {"a": 1}
        assert reopened.txt["note"] == "hello"
        assert reopened.txt.base_class_for_values is str
    assert reopened.shared_subdicts_params["base_dir"] == str(tmp_path)


def test_store_from_config_opens_the_group(multi: OverlappingMultiDict) -> None:
    multi.pkl["k"] = 1
    reopened = store_from_config(multi.config.model_dump_json())
    assert isinstance(reopened, OverlappingMultiDict)
    assert reopened == multi and reopened.pkl["k"] == 1
    assert isinstance(store_from_config(multi.config), OverlappingMultiDict)


def test_invalid_configs_are_refused(multi: OverlappingMultiDict) -> None:
    data = multi.config.model_dump(mode="json")
    with pytest.raises(ValidationError):
        OverlappingMultiDict.from_config({**data, "subdicts": {}})
    swapped = {**data, "subdicts": {"json": data["subdicts"]["pkl"]}}
    with pytest.raises(ValidationError, match="format must equal its name"):
        OverlappingMultiDict.from_config(swapped)
    with pytest.raises(ValidationError, match="dict_type is 'local_dict'"):
        OverlappingMultiDict.from_config({**data, "dict_type": "local_dict"})
    with pytest.raises(ValidationError):
        OverlappingMultiDict.from_config({**data, "extra": 1})
    with pytest.raises(TypeError):
        OverlappingMultiDict.from_config(42)  # type: ignore[arg-type]


def test_local_dict_group_reopens_over_one_backend() -> None:
    multi = OverlappingMultiDict(LocalDict, {}, json={}, pkl={})
    reopened = OverlappingMultiDict.from_config(multi.config.model_dump_json())
    assert isinstance(reopened.json, LocalDict) and isinstance(reopened.pkl, LocalDict)
    assert reopened.json.backend is reopened.pkl.backend
    assert reopened.dict_type is LocalDict


# --------------------------------------------------------------------------- pickling and copying


def test_pickling_reopens_the_same_location(multi: OverlappingMultiDict) -> None:
    multi.json["k"] = {"v": 1}
    clone = pickle.loads(pickle.dumps(multi))
    assert clone == multi
    assert clone.json["k"] == {"v": 1}
    clone.pkl["new"] = 2
    assert multi.pkl["new"] == 2  # same folder
    assert clone.shared_subdicts_params == multi.shared_subdicts_params
    assert clone.individual_subdicts_params == multi.individual_subdicts_params
    assert copy.copy(multi) == multi and copy.deepcopy(multi) == multi


def test_pickling_a_local_dict_group_keeps_one_shared_backend() -> None:
    multi = OverlappingMultiDict(LocalDict, {}, json={}, pkl={})
    multi.json["k"] = 1
    multi.pkl["k"] = 2
    clone = pickle.loads(pickle.dumps(multi))
    assert isinstance(clone.json, LocalDict) and isinstance(clone.pkl, LocalDict)
    assert clone.json.backend is clone.pkl.backend
    assert (clone.json["k"], clone.pkl["k"]) == (1, 2)


def test_equality(tmp_path: Path) -> None:
    a = OverlappingMultiDict(FileDirDict, {"base_dir": tmp_path / "a"}, json={}, pkl={})
    b = OverlappingMultiDict(FileDirDict, {"base_dir": tmp_path / "b"}, json={}, pkl={})
    fewer = OverlappingMultiDict(FileDirDict, {"base_dir": tmp_path / "a"}, json={})
    assert a != b  # both empty, but different folders
    assert a != fewer
    assert a != {"json": a.json, "pkl": a.pkl}
