"""Store URLs in core: parsing, parameter conversion and validation, to_url round trips."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from persidict_core import (
    FileDirDict,
    FileDirDictConfig,
    LocalDict,
    MissingBackendError,
    StoreConfig,
    StoreUrl,
    _urls,
    format_store_url,
    open_store,
    register_store_kind,
    register_url_scheme,
)


def _file_store(url: str | Path, **params: Any) -> FileDirDict:
    store = open_store(url, **params)
    assert isinstance(store, FileDirDict)
    return store


def test_plain_paths_and_file_urls_open_a_file_dir_dict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    relative = _file_store("./data")
    assert relative.base_dir == str(tmp_path / "data")
    assert _file_store("data").base_dir == str(tmp_path / "data")
    assert _file_store(str(tmp_path / "abs")).base_dir == str(tmp_path / "abs")
    assert _file_store(tmp_path / "pathlike").base_dir == str(tmp_path / "pathlike")
    assert _file_store(f"file://{tmp_path}/f").base_dir == str(tmp_path / "f")
    assert _file_store(f"file://localhost{tmp_path}/g").base_dir == str(tmp_path / "g")
    assert _file_store("file://" + str(tmp_path / "with space").replace(" ", "%20")).base_dir == str(
        tmp_path / "with space"
    )
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _file_store("~/store").base_dir == str(tmp_path / "home" / "store")


def test_query_parameters_are_converted_and_validated(tmp_path: Path) -> None:
    store = open_store(
        f"{tmp_path}/d?serialization_format=json&digest_len=8&append_only=true&fsync=false&compression=lz4"
        "&region=eu-west-1&endpoint_url=http://127.0.0.1:9000"  # vocabulary of other stores: ignored
    )
    assert isinstance(store, FileDirDict)
    assert store.config == FileDirDictConfig(
        base_dir=str(tmp_path / "d"),
        serialization_format="json",
        digest_len=8,
        append_only=True,
        fsync=False,
        compression="lz4",
    )
    assert open_store(f"{tmp_path}/d?base_class_for_values=builtins:dict").base_class_for_values is dict
    assert _file_store(f"{tmp_path}/d?compression=").get_params()["compression"] is None  # empty: None


def test_keyword_parameters_override_the_query(tmp_path: Path) -> None:
    store = _file_store(f"{tmp_path}/d?serialization_format=json", serialization_format="txt", fsync=False)
    assert (store.serialization_format, store.get_params()["fsync"]) == ("txt", False)
    with pytest.raises(ValueError, match="'base_dir' is given by the location"):
        open_store(f"{tmp_path}/d", base_dir=tmp_path / "other")


@pytest.mark.parametrize(
    ("query", "location", "suggestion"),
    [
        ("digest_lenn=8", "digest_lenn", "did you mean 'digest_len'?"),
        ("serialisation_format=json", "serialisation_format", "did you mean 'serialization_format'?"),
        ("apend_only=true", "apend_only", "did you mean 'append_only'?"),
        ("zzz=1", "zzz", "'zzz' is not a parameter of any persidict store"),
    ],
)
def test_an_unknown_parameter_is_the_configs_validation_error(
    tmp_path: Path, query: str, location: str, suggestion: str
) -> None:
    with pytest.raises(ValidationError) as info:
        open_store(f"{tmp_path}/d?{query}")
    (error,) = info.value.errors()
    assert error["type"] == "unknown_parameter"  # the type the constructors report
    assert error["loc"] == (location,)
    assert suggestion in error["msg"]
    assert info.value.title == "FileDirDictConfig"
    assert not (tmp_path / "d").exists()  # nothing was created
    with pytest.raises(ValidationError) as direct:
        FileDirDict(tmp_path / "d", **{location: "1"})  # type: ignore[arg-type]
    assert direct.value.errors()[0]["type"] == "unknown_parameter"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("digest_len=eight", "digest_len"),
        ("digest_len=-1", "digest_len"),
        ("append_only=maybe", "append_only"),
        ("compression=zip", "compression"),
        ("serialization_format=a/b", "serialization_format"),
        ("base_class_for_values=no.such:Class", "base_class_for_values"),
    ],
)
def test_an_invalid_value_names_its_field(tmp_path: Path, query: str, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        open_store(f"{tmp_path}/d?{query}")
    assert [error["loc"][0] for error in info.value.errors()] == [field]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "must not be empty"),
        ("ftp://host/path", "Unknown URL scheme 'ftp'"),
        ("file://otherhost/x", "names a local directory"),
        ("file://", "names no directory"),
        ("memory://name", "take no name or path"),
        ("./d?a=1&a=2", "given twice"),
        ("./d?novalue", "Malformed query"),
    ],
)
def test_bad_urls_are_value_errors(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        open_store(url)


def test_memory_urls_open_new_local_dicts() -> None:
    first, second = open_store("memory://"), open_store("memory://?serialization_format=json")
    assert isinstance(first, LocalDict) and isinstance(second, LocalDict)
    first["k"] = 1
    assert "k" not in open_store("memory://")
    assert second.serialization_format == "json"
    with pytest.raises(ValueError, match="cannot be described by a store URL"):
        first.to_url()


def test_a_saved_config_opens_with_an_at_sign(tmp_path: Path) -> None:
    store = FileDirDict(tmp_path / "d", serialization_format="json", fsync=False)
    store["k"] = [1, 2]
    saved = tmp_path / "config.json"
    saved.write_text(store.config.model_dump_json())
    reopened = open_store(f"@{saved}")
    assert reopened.config == store.config and reopened["k"] == [1, 2]
    assert open_store(f"@{saved}", append_only=True).append_only
    with pytest.raises(ValueError, match="Cannot read the store config file"):
        open_store(f"@{tmp_path}/missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        open_store(f"@{tmp_path}/bad.json")
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(ValueError, match="must hold a JSON object"):
        open_store(f"@{tmp_path}/list.json")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"serialization_format": "json"},
        {"serialization_format": "txt"},
        {"digest_len": 8, "append_only": True, "fsync": False},
        {"compression": "lz4", "base_class_for_values": dict},
    ],
)
def test_to_url_round_trips(tmp_path: Path, params: dict[str, Any]) -> None:
    store = FileDirDict(tmp_path / "my store(1)", **params)
    url = store.to_url()
    assert url.startswith(f"file://{tmp_path}/my%20store(1)")
    assert open_store(url).config == store.config
    names = set(params) - (
        {"base_class_for_values"} if params.get("serialization_format") == "txt" else set()
    )
    query = url.partition("?")[2]
    assert {item.split("=")[0] for item in query.split("&") if item} == names


def test_file_dir_dict_url_of_a_text_store_leaves_out_the_derived_value_class(tmp_path: Path) -> None:
    assert (
        FileDirDict(tmp_path, serialization_format="txt").to_url()
        == f"file://{tmp_path}?serialization_format=txt"
    )


def test_s3_needs_its_distribution_or_is_registered_by_it() -> None:
    import importlib.util

    if importlib.util.find_spec("persidict_s3") is None:
        with pytest.raises(MissingBackendError, match="pip install persidict-s3"):
            open_store("s3://bucket/prefix")
    else:
        _urls._lookup_scheme("s3", "s3://bucket")
        assert "s3" in _urls._SCHEMES


# ----------------------------------------------------------------------------- a third-party scheme
class _ShelfConfig(StoreConfig):
    kind: str = "test_shelf_dict"
    shelf: str
    size_limit: int = 10


@pytest.fixture
def shelf_scheme() -> Iterator[list[dict[str, Any]]]:
    """A third-party backend: a kind of its own and a scheme ``shelf://name``."""
    opened: list[dict[str, Any]] = []

    class ShelfDict(LocalDict):
        def __init__(self, shelf: str, size_limit: int = 10, **params: Any) -> None:
            opened.append({"shelf": shelf, "size_limit": size_limit, **params})
            super().__init__(**params)

    def resolve(url: StoreUrl) -> tuple[str, dict[str, Any]]:
        if url.query.get("mode") == "broken":
            raise ValueError("shelf:// mode=broken is not a mode")
        return "test_shelf_dict", {"shelf": url.netloc}

    register_store_kind("test_shelf_dict", _ShelfConfig, ShelfDict)
    register_url_scheme("SHELF", resolve, options={"mode"})
    yield opened
    _urls._SCHEMES.pop("shelf")


def test_a_third_party_backend_registers_its_scheme(shelf_scheme: list[dict[str, Any]]) -> None:
    store = open_store("shelf://books?size_limit=3&serialization_format=json&mode=fast&digest_len=4")
    assert isinstance(store, LocalDict)
    assert shelf_scheme == [
        {
            "shelf": "books",
            "size_limit": 3,
            "serialization_format": "json",
            "append_only": False,
            "base_class_for_values": None,
        }
    ]
    with pytest.raises(ValidationError, match="did you mean 'size_limit'"):
        open_store("shelf://books?size_limt=3")
    with pytest.raises(ValidationError, match="did you mean 'mode'"):
        open_store("shelf://books?mod=fast")
    with pytest.raises(ValueError, match="mode=broken"):
        open_store("shelf://books?mode=broken")


def test_format_store_url_writes_only_what_differs() -> None:
    config = _ShelfConfig(shelf="x", size_limit=12, append_only=True)
    url = format_store_url("shelf://x", config, {"shelf": "x"})
    assert url == "shelf://x?append_only=true&size_limit=12"
    assert format_store_url("shelf://x", _ShelfConfig(shelf="x"), {"shelf": "x"}) == "shelf://x"


def test_json_values_in_the_query(tmp_path: Path) -> None:
    converted = _urls._convert_query("file_dir_dict", {"digest_len": "3", "other": '{"a": 1}'})
    assert converted == {"digest_len": 3, "other": '{"a": 1}'}
    assert json.loads(converted["other"]) == {"a": 1}
    assert os.path.isabs(_file_store(f"{tmp_path}/x").base_dir)
