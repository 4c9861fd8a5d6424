"""The parameter vocabulary, store registration, and construction through ``__init__``.

Subclasses of the core stores survive copy, pickle, ``get_subdict``, ``subdicts`` and
``from_config``; ``type(store)(**store.get_params())`` reopens every store; pickles name only
public modules.
"""

from __future__ import annotations

import copy
import pickle
import pickletools
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from pydantic import ValidationError

from persidict_core import (
    KNOWN_PARAMETER_NAMES,
    EmptyDict,
    FileDirDict,
    FileDirDictConfig,
    LocalDict,
    PersiDict,
    StoreConfig,
    parameter_vocabulary,
    store_factory,
    store_from_config,
)

# Subclasses at module level, as a user's would be (pickle finds them by name).


class MyFileDirDict(FileDirDict):
    pass


class MyLocalDict(LocalDict):
    pass


class MyEmptyDict(EmptyDict):
    pass


def pickled_globals(data: bytes) -> set[str]:
    """Return the ``module.name`` of every global a pickle refers to."""
    names: set[str] = set()
    pending: list[str] = []
    for opcode, argument, _ in pickletools.genops(data):
        if opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            pending.append(str(argument))
        elif opcode.name == "STACK_GLOBAL":
            names.add(".".join(pending[-2:]))
        elif opcode.name == "GLOBAL":
            names.add(str(argument).replace(" ", "."))
    return names


# --------------------------------------------------------------------------- vocabulary


def test_the_vocabulary_is_the_union_of_the_registered_stores_fields() -> None:
    pytest.importorskip("persidict_s3")
    from persidict_cache import WriteOnceDictConfig
    from persidict_s3 import S3DictConfig

    vocabulary = parameter_vocabulary()
    for config_class in (FileDirDictConfig, S3DictConfig, WriteOnceDictConfig):
        assert set(config_class.model_fields) - {"kind"} <= vocabulary
    assert {"backend", "prune_interval", "connection"} <= vocabulary  # constructor-only names
    assert "kind" not in vocabulary
    assert set(KNOWN_PARAMETER_NAMES) == vocabulary
    assert len(KNOWN_PARAMETER_NAMES) == len(vocabulary)
    for name in ("base_dir", "bucket_name", "region", "root_prefix", "digest_len", "endpoint_url"):
        assert name in KNOWN_PARAMETER_NAMES
    assert "serialisation_format" not in KNOWN_PARAMETER_NAMES
    anything: object = 5
    assert anything not in KNOWN_PARAMETER_NAMES


class TaggedConfig(StoreConfig):
    kind: Literal["test_tagged_dict"] = "test_tagged_dict"
    colour_tag: str = "red"


class TaggedDict(LocalDict):
    """A third-party store: one new field in one model plus its constructor argument."""

    config_class: ClassVar[type[StoreConfig]] = TaggedConfig

    def __init__(self, colour_tag: str = "red", **params: Any) -> None:
        super().__init__(colour_tag=colour_tag, **params)


def test_a_new_store_adds_its_fields_to_the_vocabulary() -> None:
    assert "colour_tag" in KNOWN_PARAMETER_NAMES
    store = TaggedDict(colour_tag="blue", base_dir="/ignored")
    assert store.config.colour_tag == "blue"  # type: ignore[attr-defined]
    assert "base_dir" not in store.get_params()
    assert "colour_tag" not in FileDirDict.applicable_parameters
    # Other stores accept and ignore it, as they do every name of the vocabulary.
    assert "colour_tag" not in LocalDict(colour_tag="green").get_params()
    assert store_factory("test_tagged_dict") is TaggedDict
    assert type(store_from_config(store.config.model_dump_json())) is TaggedDict


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [
        ("serialisation_format", "serialization_format"),
        ("base_dri", "base_dir"),
        ("apend_only", "append_only"),
    ],
)
def test_a_typo_is_a_validation_error_with_a_suggestion(tmp_path: Path, typo: str, suggestion: str) -> None:
    params: dict[str, Any] = {typo: "json"}
    with pytest.raises(ValidationError, match=f"did you mean '{suggestion}'") as info:
        FileDirDict(base_dir=tmp_path / "s", **params)
    assert info.value.errors()[0]["loc"] == (typo,)
    assert not (tmp_path / "s").exists()  # refused before touching the disk
    with pytest.raises(ValidationError, match=typo):
        LocalDict(**params)


def test_a_name_with_no_close_match_has_no_suggestion() -> None:
    with pytest.raises(ValidationError, match="not a parameter of any persidict store") as info:
        LocalDict(zzzzqqqq=1)
    assert "did you mean" not in str(info.value)


def test_a_fresh_interpreter_knows_every_distributions_names_without_boto3() -> None:
    # Only persidict_core is imported: the names of other distributions are found through
    # their declared entry points when an unknown name is met.
    code = (
        "import sys; from persidict_core import LocalDict, KNOWN_PARAMETER_NAMES; "
        "assert 'persidict_s3' not in sys.modules; "
        "LocalDict(bucket_name='b', p_consistency_checks=0.5); "
        "assert 'bucket_name' in KNOWN_PARAMETER_NAMES; "
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules, 'boto3 imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_store_kind_is_declared_as_an_entry_point() -> None:
    pytest.importorskip("persidict_s3")
    declared = {entry.name: entry.value for entry in entry_points(group="persidict.stores")}
    assert declared["file_dir_dict"] == "persidict_core:FileDirDict"
    assert declared["s3_dict"] == "persidict_s3:S3Dict"
    assert declared["write_once_dict"] == "persidict_cache:WriteOnceDict"
    assert declared["overlapping_multi_dict"] == "persidict_multi:OverlappingMultiDict"
    for kind, target in declared.items():
        module, _, name = target.partition(":")
        factory = store_factory(kind)
        assert getattr(sys.modules[module], name) is factory or kind == "overlapping_multi_dict"


def test_unknown_kinds_list_the_known_ones() -> None:
    with pytest.raises(ValueError, match="Unknown store kind 'no_such_kind'; known kinds: .*s3_dict"):
        store_factory("no_such_kind")


def test_a_foreign_kind_in_the_constructor_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="kind"):
        FileDirDict(base_dir=tmp_path, kind="local_dict")


# --------------------------------------------------------------------------- get_params


Factory = Callable[[Path], PersiDict]
STORES: list[Any] = [
    pytest.param(lambda p: FileDirDict(base_dir=p / "f", digest_len=3), id="FileDirDict"),
    pytest.param(lambda p: FileDirDict(base_dir=p / "t", serialization_format="txt"), id="FileDirDict-txt"),
    pytest.param(lambda p: LocalDict(serialization_format="json"), id="LocalDict"),
    pytest.param(lambda p: MyFileDirDict(base_dir=p / "m"), id="MyFileDirDict"),
    pytest.param(lambda p: MyLocalDict(), id="MyLocalDict"),
]


@pytest.mark.parametrize("make", STORES)
def test_get_params_reopens_the_same_store(tmp_path: Path, make: Factory) -> None:
    store = make(tmp_path)
    store["k"] = "v"
    reopened = type(store)(**store.get_params())
    assert type(reopened) is type(store)
    assert reopened == store  # the same location
    assert reopened.config == store.config
    reopened["other"] = "w"
    assert store["other"] == "w"


def test_empty_dict_get_params_round_trip() -> None:
    store = MyEmptyDict(append_only=True)
    reopened = type(store)(**store.get_params())
    assert type(reopened) is MyEmptyDict and reopened.config == store.config


def test_local_dict_params_carry_its_memory_and_configs_do_not() -> None:
    store = LocalDict()
    store["k"] = 1
    params = store.get_params()
    assert params["backend"] is store.backend
    assert "backend" not in store.config.model_dump()
    assert store_from_config(params)["k"] == 1  # the backend is passed as a runtime part
    assert LocalDict.from_config(params)["k"] == 1
    assert "k" not in store_from_config(store.config)  # a config alone opens new memory


# --------------------------------------------------------------------------- subclasses


SUBCLASSES: list[Any] = [
    pytest.param(lambda p: MyFileDirDict(base_dir=p, serialization_format="json"), id="FileDirDict"),
    pytest.param(lambda p: MyLocalDict(), id="LocalDict"),
]


@pytest.mark.parametrize("make", SUBCLASSES)
def test_a_subclass_stays_itself(tmp_path: Path, make: Factory) -> None:
    store = make(tmp_path)
    cls = type(store)
    store[("sub", "k")] = {"v": 1}
    store["top"] = 2
    for same in (copy.copy(store), copy.deepcopy(store), pickle.loads(pickle.dumps(store))):
        assert type(same) is cls
        assert same[("sub", "k")] == {"v": 1}
    assert type(store.get_subdict("sub")) is cls
    assert store.get_subdict("sub")["k"] == {"v": 1}
    assert type(store.get_subdict(())) is cls
    assert {name: type(sub) for name, sub in store.subdicts().items()} == {"sub": cls, "top": cls}
    assert type(cls.from_config(store.config, store._runtime_parts())) is cls
    assert type(cls.from_config(store.get_params())) is cls
    # The registry opens the registered class: a config does not name the subclass.
    assert type(store_from_config(store.config.model_dump_json())) is cls.__mro__[1]


def test_empty_dict_subclass_stays_itself() -> None:
    store = MyEmptyDict()
    assert type(copy.copy(store)) is MyEmptyDict
    assert type(pickle.loads(pickle.dumps(store))) is MyEmptyDict
    assert type(store.get_subdict("x")) is MyEmptyDict
    assert type(MyEmptyDict.from_config(store.config)) is MyEmptyDict


def test_from_config_refuses_other_kinds(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="describes a LocalDict, not a FileDirDict"):
        FileDirDict.from_config(LocalDict().config)
    with pytest.raises(TypeError, match="not a MyFileDirDict"):
        MyFileDirDict.from_config(LocalDict().config)
    # The base class opens any kind through the registry.
    assert type(PersiDict.from_config(FileDirDict(base_dir=tmp_path).config)) is FileDirDict


def test_pickles_name_public_modules_only(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path)
    assert pickled_globals(pickle.dumps(store)) == {"functools.partial", "persidict_core.FileDirDict"}
    names = pickled_globals(pickle.dumps(MyFileDirDict(base_dir=tmp_path)))
    assert names == {"functools.partial", f"{__name__}.MyFileDirDict"}
    assert not any("_config" in name for name in pickled_globals(pickle.dumps(LocalDict())))
