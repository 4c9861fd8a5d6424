"""The format registry, format names, the data-only json format and equality that hides nothing."""

from __future__ import annotations

import collections
import datetime
import decimal
import fractions
import json
import pathlib
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from persidict_core import (
    Codec,
    DeserializationError,
    FileDirDict,
    LocalDict,
    SerializationError,
    _json_codec,
    deserialize,
    get_codec,
    register_codec,
    register_json_class,
    serialize,
)


# ----------------------------------------------------------------- the codec registry
def _encode_lines(value: list[str]) -> bytes:
    if not isinstance(value, list) or not all(isinstance(line, str) and "\n" not in line for line in value):
        raise TypeError("a lines value is a list of str without newlines")
    return "".join(line + "\n" for line in value).encode("utf-8")


def _decode_lines(data: bytes) -> list[str]:
    text = data.decode("utf-8")
    if text and not text.endswith("\n"):
        raise ValueError("a lines file ends with a newline")
    return text.splitlines()


LINES = register_codec(Codec("lines", _encode_lines, _decode_lines), replace=True)


def test_a_registered_codec_round_trips_through_a_file_store(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, serialization_format="lines")
    store["a"] = ["x", "y"]
    store[("d", "e")] = []
    assert (tmp_path / "a.lines").read_bytes() == b"x\ny\n"
    assert store["a"] == ["x", "y"] and store[("d", "e")] == []
    assert FileDirDict(base_dir=tmp_path, serialization_format="lines")["a"] == ["x", "y"]
    assert set(store) == {("a",), ("d", "e")}
    with pytest.raises(SerializationError, match="'a'.*list of str"):
        store["a"] = ["no\nnewlines"]
    assert store["a"] == ["x", "y"]
    (tmp_path / "cut.lines").write_bytes(b"x\ny")
    with pytest.raises(DeserializationError, match="cut"):
        store["cut"]
    assert get_codec("lines") is LINES


def test_codec_registry_rules() -> None:
    assert get_codec("pkl").compressible and get_codec("txt").value_class is str
    assert get_codec("md").value_class is str  # any other name: plain text
    with pytest.raises(ValueError, match="built-in"):
        register_codec(Codec("json", _encode_lines, _decode_lines))
    with pytest.raises(ValueError, match="registered already"):
        register_codec(Codec("lines", _encode_lines, _decode_lines))
    with pytest.raises(ValueError, match="only by case"):
        register_codec(Codec("Lines", _encode_lines, _decode_lines))
    with pytest.raises(ValueError, match="safe"):
        register_codec(Codec("a/b", _encode_lines, _decode_lines))
    with pytest.raises(TypeError):
        register_codec("yaml")  # type: ignore[arg-type]


def test_a_registered_alias_name_becomes_valid(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="register"):
        FileDirDict(base_dir=tmp_path, serialization_format="msgpack")
    register_codec(Codec("msgpack", _encode_lines, _decode_lines), replace=True)
    FileDirDict(base_dir=tmp_path, serialization_format="msgpack")["k"] = ["v"]


# ----------------------------------------------------------------- format names
@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("JSON", "did you mean 'json'"),
        ("Json", "did you mean 'json'"),
        (" json", "did you mean 'json'"),
        ("json ", "did you mean 'json'"),
        ("Pkl", "did you mean 'pkl'"),
        ("PKL", "did you mean 'pkl'"),
        ("pickle", "did you mean 'pkl'"),
        ("jsonpickle", "did you mean 'json'"),
        ("yaml", "register a codec"),
        ("yml", "register a codec"),
        ("parquet", "register a codec"),
        ("LINES", "did you mean 'lines'"),
        ("a b", "safe characters"),
        ("", "safe characters"),
    ],
)
def test_almost_right_format_names_are_refused(tmp_path: Path, name: str, hint: str) -> None:
    with pytest.raises(ValidationError, match=hint):
        FileDirDict(base_dir=tmp_path, serialization_format=name)
    with pytest.raises(ValidationError, match=hint):
        LocalDict(serialization_format=name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["txt", "md", "csv", "TXT", "log"])
def test_other_names_are_text_formats(tmp_path: Path, name: str) -> None:
    store = FileDirDict(base_dir=tmp_path, serialization_format=name)
    assert store.base_class_for_values is str
    store["k"] = "text"
    assert (tmp_path / f"k.{name}").read_text(encoding="utf-8") == "text"


def test_a_class_name_string_says_a_class_is_expected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="expects a class .*not the string 'dict'"):
        FileDirDict(base_dir=tmp_path, base_class_for_values="dict")  # type: ignore[arg-type]
    store = FileDirDict(base_dir=tmp_path, base_class_for_values="collections:OrderedDict")  # type: ignore[arg-type]
    assert store.base_class_for_values is collections.OrderedDict


# ----------------------------------------------------------------- json: what it holds
@register_json_class
@dataclass(frozen=True)
class Point:
    x: int
    y: int


class Unregistered:
    pass


ALLOWED_VALUES: dict[str, Any] = {
    "scalars": [1, 2.5, None, True, "é", -0.0],
    "nested": {"a": {"b": [1, {"c": "d"}]}},
    "tuple_set_frozenset": ((1, 2), {3}, frozenset({4})),
    "non_str_keys": {1: "a", (2, 3): "b", None: "c"},
    "datetimes": [
        datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        datetime.date(2024, 1, 2),
        datetime.time(1, 2),
        datetime.timedelta(seconds=3),
    ],
    "numbers": [decimal.Decimal("1.25"), fractions.Fraction(1, 3), 1 + 2j],
    "uuid_bytes_path": [uuid.UUID(int=5), b"\x00\xff", pathlib.PurePosixPath("a/b")],
    "collections": [
        collections.OrderedDict(a=1),
        collections.Counter("aab"),
        collections.deque([1, 2], maxlen=3),
        collections.defaultdict(list, a=[1]),
    ],
    "shared_list": (lambda shared: [shared, shared])([1, 2]),
    "registered": [Point(1, 2), {"p": Point(3, 4)}],
}


@pytest.mark.parametrize("name", list(ALLOWED_VALUES))
def test_json_holds_the_allowlist(tmp_path: Path, name: str) -> None:
    store = FileDirDict(base_dir=tmp_path, serialization_format="json")
    store[name] = ALLOWED_VALUES[name]
    back = FileDirDict(base_dir=tmp_path, serialization_format="json")[name]
    assert back == ALLOWED_VALUES[name] and type(back) is type(ALLOWED_VALUES[name])
    if name == "shared_list":
        assert back[0] is back[1]  # shared objects stay shared


def test_json_holds_numpy_and_pandas(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    store = FileDirDict(base_dir=tmp_path, serialization_format="json")
    store["array"] = np.arange(100.0).reshape(10, 10)
    store["objects"] = np.array([1, "a", (2, 3)], dtype=object)
    store["scalar"] = np.float32(1.5)
    store["frame"] = pd.DataFrame({"a": [1, 2], "b": [[1], {"x": (1, 2)}]}, index=["p", "q"])
    store["index"] = pd.MultiIndex.from_tuples([(1, "a"), (2, "b")], names=["n", "m"])
    store["moments"] = [pd.Timestamp("2024-01-01", tz="UTC"), pd.Timedelta(days=1)]
    store["categorical"] = pd.Categorical(["a", "b", "a"])
    assert np.array_equal(store["array"], np.arange(100.0).reshape(10, 10))
    assert list(store["objects"]) == [1, "a", (2, 3)]
    assert store["scalar"] == np.float32(1.5) and type(store["scalar"]) is np.float32
    assert store["frame"]["b"].tolist() == [[1], {"x": (1, 2)}]
    assert list(store["frame"].index) == ["p", "q"]
    assert store["index"].equals(pd.MultiIndex.from_tuples([(1, "a"), (2, "b")], names=["n", "m"]))
    assert store["moments"] == [pd.Timestamp("2024-01-01", tz="UTC"), pd.Timedelta(days=1)]
    assert store["categorical"].equals(pd.Categorical(["a", "b", "a"]))
    with pytest.raises(SerializationError, match="Period"):
        store["period"] = pd.Period("2024-01", freq="M")  # not in the allowlist


def test_json_refuses_what_cannot_round_trip_and_keeps_the_old_value(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, serialization_format="json")
    store["k"] = [1]
    refused = {
        "a generator": (i for i in range(3)),
        "a list iterator": iter([1, 2]),
        "a map object": map(str, [1]),
        "an enumerate object": enumerate("ab"),
        "a generator inside a list": [1, (i for i in range(2))],
        "a generator as a dict value": {"g": (i for i in range(2))},
        "a bytearray": bytearray(b"x"),
        "an unregistered class": Unregistered(),
        "a local class": type("Local", (), {})(),
        "a reserved key": {"json://1": 2},
    }
    for label, value in refused.items():
        with pytest.raises(SerializationError, match="'k'") as info:
            store["k"] = value
        assert "json" in str(info.value), label
    assert store["k"] == [1]
    with pytest.raises(SerializationError, match="one-shot iterator"):
        store["k"] = (i for i in range(3))
    with pytest.raises(SerializationError, match=r"register_json_class\(Unregistered\)"):
        store["k"] = Unregistered()


def test_register_json_class_refuses_local_classes() -> None:
    class Local:
        pass

    with pytest.raises(ValueError, match="inside a function"):
        register_json_class(Local)
    with pytest.raises(TypeError):
        register_json_class(Point(1, 2))  # type: ignore[type-var]


def test_an_unregistered_class_in_a_file_is_an_error_naming_key_and_class(tmp_path: Path) -> None:
    document = {"py/object": f"{__name__}.Unregistered"}
    (tmp_path / "planted.json").write_text(json.dumps(document))
    store = FileDirDict(base_dir=tmp_path, serialization_format="json")
    with pytest.raises(DeserializationError, match=r"'planted'.*Unregistered.*register_json_class"):
        store["planted"]


# ----------------------------------------------------------------- json: the fast path
@pytest.mark.parametrize(
    "value", [{"a": 1, "b": [1.5, None, "x"]}, [], "text", 3, {"py": {"object": 1}}, {"x": "py/object"}]
)
def test_plain_documents_decode_like_jsonpickle(value: Any) -> None:
    import jsonpickle

    data = serialize(value, "json", context="k")
    assert json.loads(data) == value  # plain data is written as plain JSON
    assert deserialize(data, "json", context="k") == jsonpickle.decode(data.decode(), keys=True) == value


def test_plain_json_needs_no_jsonpickle() -> None:
    code = (
        "import sys; from persidict_core import serialize, deserialize; "
        "d = serialize({'a': [1, 2]}, 'json', context='k'); "
        "assert deserialize(d, 'json', context='k') == {'a': [1, 2]}; "
        "print('jsonpickle' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# Keys that begin like a jsonpickle tag ("py/...") or an encoded key ("json://...") are the
# json format's own, never plain data; any other str key is.
_PLAIN_KEYS = st.text(max_size=8).filter(lambda key: not key.startswith(("py/", "json://")))
_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # unbounded: integers beyond 64 bits included
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and the infinities included
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_PLAIN_KEYS, children, max_size=4),
    max_leaves=12,
)


@given(value=_JSON_VALUES)
@settings(max_examples=300, deadline=None)
def test_the_fast_json_decoder_reads_what_the_standard_decoder_reads(value: Any) -> None:
    # repr compares exactly: int against float, NaN with NaN, -0.0 against 0.0, key order.
    for text in (json.dumps(value), json.dumps(value, indent=4, ensure_ascii=False)):
        assert repr(_json_codec.decode_json(text.encode("utf-8"))) == repr(json.loads(text))


@pytest.mark.parametrize(
    "value",
    [
        {"big": 2**64 + 1, "small": -(2**63) - 1, "digits": 10**18, "max": 2**64 - 1},
        [float("nan"), float("inf"), float("-inf"), -0.0, 5e-324, 1.7976931348623157e308],
        {"id": "12345678901234567890123", "n": 1234567890123456789012345678901234567890},
    ],
)
def test_json_values_beyond_what_orjson_reads_round_trip_exactly(tmp_path: Path, value: Any) -> None:
    store = FileDirDict(tmp_path, serialization_format="json")
    store["k"] = value
    assert repr(store["k"]) == repr(value)
    assert repr(FileDirDict(tmp_path, serialization_format="json")["k"]) == repr(value)


@pytest.mark.parametrize("document", [b"", b"{", b"\xef\xbb\xbf[1]", b"[1] [2]", b"\xff", b"[1e400x]", b"01"])
def test_documents_that_are_not_json_are_errors_of_both_decoders(document: bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(document.decode("utf-8"))
    with pytest.raises(ValueError):
        _json_codec.decode_json(document)


def test_jsonpickles_own_pandas_handlers_are_replaced_on_use(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    import jsonpickle.ext.pandas

    store = FileDirDict(base_dir=tmp_path, serialization_format="json")
    store["frame"] = pd.DataFrame({"a": [1]})
    jsonpickle.ext.pandas.register_handlers()  # someone puts jsonpickle's unchecked ones back
    planted = {
        "py/object": "pandas.Index",
        "values": json.dumps([{"py/reduce": [{"py/function": "os.getcwd"}, {"py/tuple": []}]}]),
        "txt": True,
        "meta": {"dtype": "object", "name": None},
    }
    (tmp_path / "index.json").write_text(json.dumps(planted))
    with pytest.raises(DeserializationError, match="os.getcwd"):
        store["index"]
    assert store["frame"].equals(pd.DataFrame({"a": [1]}))


def test_an_unknown_jsonpickle_tag_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import jsonpickle.tags

    monkeypatch.setattr(_json_codec, "_jsonpickle_ready", threading.Event())
    monkeypatch.setattr(jsonpickle.tags, "RESERVED", {*jsonpickle.tags.RESERVED, "py/new-in-jsonpickle-9"})
    with pytest.raises(DeserializationError, match="not supported"):
        deserialize(b'{"py/tuple": [1]}', "json", context="k")
    with pytest.raises(SerializationError, match="not supported"):
        serialize((1, 2), "json", context="k")


# ----------------------------------------------------------------- equality hides nothing
def test_equality_with_a_corrupt_value_raises(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, serialization_format="json")
    store["a"] = 1
    store["b"] = 2
    (tmp_path / "b.json").write_bytes(b"")
    with pytest.raises(DeserializationError, match="'b'"):
        store == {"a": 1, "b": 2}  # noqa: B015
    with pytest.raises(DeserializationError):
        store != {"a": 1, "b": 2}  # noqa: B015
    # What cannot be a key here, or is missing, is simply unequal.
    assert store != {"a": 1, "c/d": 2}
    assert store != {"a": 1, 5: 2}
    assert store != {"a": 1, "missing": 2}
    assert store != {"a": 1}
