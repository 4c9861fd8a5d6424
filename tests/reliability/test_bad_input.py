"""Scenario 5: bad keys and bad values give the documented exception and leave the store intact.

Every bad key is tried on every key-taking operation of every store (FileDirDict, LocalDict, the
cache wrappers and, when persidict-s3 and moto are installed, BasicS3Dict and S3Dict on moto's
server). After each refusal the store's content is unchanged, no temporary file is left, and
nothing was written outside ``base_dir``. The table in docs/reliability.md is this file's data.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from persidict_core import (
    BackendError,
    FileDirDict,
    LocalDict,
    PersiDict,
    SerializationError,
)
from tests.reliability import _report

# ---------------------------------------------------------------- the inputs and what they raise
BAD_KEYS: list[tuple[str, Any, type[Exception]]] = [
    ("'..'", "..", ValueError),
    ("'.'", ".", ValueError),
    ("('a', '..')", ("a", ".."), ValueError),
    ("('..', 'x')", ("..", "x"), ValueError),
    ("'a/b'", "a/b", ValueError),
    ("'/etc/passwd'", "/etc/passwd", ValueError),
    ("'a\\\\b'", "a\\b", ValueError),
    ("'a\\x00b' (NUL)", "a\x00b", ValueError),
    ("'' (empty string)", "", ValueError),
    ("() (empty tuple)", (), ValueError),
    ("('a', '')", ("a", ""), ValueError),
    ("300-character element", "x" * 300, ValueError),
    ("5,000-character element", "x" * 5000, ValueError),
    ("'ключ' (non-ASCII)", "ключ", ValueError),
    ("'café'", "café", ValueError),
    ("'a b' (space)", "a b", ValueError),
    ("'._k' (AppleDouble name)", "._k", ValueError),
    ("('a', '._b')", ("a", "._b"), ValueError),
    ("'~user' with a NUL inside a tuple", ("ok", "~u\x00"), ValueError),
    ("1 (int)", 1, TypeError),
    ("1.5 (float)", 1.5, TypeError),
    ("None", None, TypeError),
    ("b'ab' (bytes)", b"ab", TypeError),
    ("('a', 1)", ("a", 1), TypeError),
    ("object()", object(), TypeError),
    ("{'a': 1} (dict)", {"a": 1}, TypeError),
    ("{'a'} (set)", {"a"}, TypeError),
]

DEEP_SHORT = ("k",) * 200  # 200 elements of 1 character: a valid key everywhere
DEEP_LONG = ("e" * 30,) * 200  # 200 elements of 30 characters: a path of 6,200 bytes

# label, format, value factory, {store family: expected exception or None (accepted)}
FILE_LIKE = (
    "FileDirDict",
    "WriteOnceDict",
    "MutableDictCached",
    "AppendOnlyDictCached",
    "BasicS3Dict",
    "S3Dict",
)
ALL_STORES = ("LocalDict", *FILE_LIKE)


def _everywhere(error: type[Exception] | None) -> dict[str, type[Exception] | None]:
    return dict.fromkeys(ALL_STORES, error)


def _serialized_only(error: type[Exception]) -> dict[str, type[Exception] | None]:
    """Refused where values are serialized; LocalDict copies values and accepts it."""
    return {**_everywhere(error), "LocalDict": None}


BAD_VALUES: list[tuple[str, str, Callable[[], Any], dict[str, type[Exception] | None]]] = [
    ("a lambda", "pkl", lambda: lambda: 1, _serialized_only(SerializationError)),
    ("a threading.Lock", "pkl", threading.Lock, _everywhere(SerializationError)),
    ("a generator", "pkl", lambda: (i for i in range(3)), _everywhere(SerializationError)),
    ("an open file", "pkl", lambda: open(os.devnull), _everywhere(SerializationError)),
    ("an open file", "json", lambda: open(os.devnull), _everywhere(SerializationError)),
    ("a lambda", "json", lambda: lambda: 1, _serialized_only(SerializationError)),
    # json holds data that reads back equal: no one-shot iterators, no code, no unknown classes.
    ("a generator", "json", lambda: (i for i in range(3)), _everywhere(SerializationError)),
    ("a list iterator", "json", lambda: iter([1, 2]), _serialized_only(SerializationError)),
    ("a zip object", "json", lambda: zip([1], [2], strict=True), _serialized_only(SerializationError)),
    ("a module function", "json", lambda: os.path.exists, _serialized_only(SerializationError)),
    ("a SimpleNamespace", "json", lambda: SimpleNamespace(a=1), _serialized_only(SerializationError)),
    ("a 'py/object' key", "json", lambda: {"py/object": "os.system"}, _serialized_only(SerializationError)),
    ("an int", "txt", lambda: 1, _everywhere(TypeError)),
    ("bytes", "txt", lambda: b"x", _everywhere(TypeError)),
    ("None", "txt", lambda: None, _everywhere(TypeError)),
    ("a dict", "txt", lambda: {"a": "b"}, _everywhere(TypeError)),
    ("a lone surrogate '\\ud800'", "txt", lambda: "\ud800", _serialized_only(SerializationError)),
    ("a store as a value", "pkl", lambda: LocalDict(), _everywhere(TypeError)),
]
BAD_CLASS_VALUE = ("'s' in a store of int values", "pkl", lambda: "s", _everywhere(TypeError))

KEY_OPERATIONS: dict[str, Callable[[PersiDict, Any], Any]] = {
    "store[k] = v": lambda s, k: s.__setitem__(k, "v"),
    "store[k]": lambda s, k: s[k],
    "k in store": lambda s, k: k in s,
    "del store[k]": lambda s, k: s.__delitem__(k),
    "get": lambda s, k: s.get(k),
    "setdefault": lambda s, k: s.setdefault(k, "v"),
    "discard": lambda s, k: s.discard(k),
    "timestamp": lambda s, k: s.timestamp(k),
    "etag": lambda s, k: s.etag(k),
    "get_item_if_etag_changed": lambda s, k: s.get_item_if_etag_changed(k, None),
}


# ---------------------------------------------------------------- stores
StoreFactory = Callable[[str, "type | None"], PersiDict]


@pytest.fixture(params=ALL_STORES)
def family(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_store(family: str, tmp_path: Path, request: pytest.FixtureRequest) -> StoreFactory:
    base = tmp_path / "store"
    counter = iter(range(1000))

    def file_dir(fmt: str, value_class: type | None, append_only: bool = False) -> FileDirDict:
        return FileDirDict(
            base_dir=str(base / f"s{next(counter)}"),
            serialization_format=fmt,
            base_class_for_values=value_class,
            append_only=append_only,
        )

    if family == "FileDirDict":
        return lambda fmt, cls: file_dir(fmt, cls)
    if family == "LocalDict":
        return lambda fmt, cls: LocalDict(serialization_format=fmt, base_class_for_values=cls)
    if family in ("BasicS3Dict", "S3Dict"):
        url = request.getfixturevalue("s3_url")
        bucket = request.getfixturevalue("bucket")
        import persidict_s3

        def s3(fmt: str, cls: type | None) -> PersiDict:
            prefix = f"s{next(counter)}"
            if family == "S3Dict":
                return persidict_s3.S3Dict(
                    bucket_name=bucket, root_prefix=prefix, endpoint_url=url, base_dir=str(base),
                    serialization_format=fmt, base_class_for_values=cls,
                )  # fmt: skip
            return persidict_s3.BasicS3Dict(
                bucket_name=bucket, root_prefix=prefix, endpoint_url=url,
                serialization_format=fmt, base_class_for_values=cls,
            )  # fmt: skip

        return s3
    cache = pytest.importorskip("persidict_cache")
    if family == "WriteOnceDict":
        return lambda fmt, cls: cache.WriteOnceDict(file_dir(fmt, cls, append_only=True), 1.0)
    if family == "MutableDictCached":
        return lambda fmt, cls: cache.MutableDictCached(
            file_dir(fmt, cls), LocalDict(serialization_format=fmt), LocalDict()
        )
    assert family == "AppendOnlyDictCached"
    return lambda fmt, cls: cache.AppendOnlyDictCached(
        file_dir(fmt, cls, append_only=True), LocalDict(serialization_format=fmt)
    )


def outside_snapshot(tmp_path: Path) -> set[tuple[str, int]]:
    """Every file of the test's folder outside the store folder (the stores live under
    tmp_path/store), and the entries of the folder above (other tests' folders)."""
    store = tmp_path / "store"
    inside = {
        (str(p), p.stat().st_size if p.is_file() else 0)
        for p in tmp_path.rglob("*")
        if p != store and store not in p.parents
    }
    return inside | {(str(p), 0) for p in tmp_path.parent.iterdir()}


def temp_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "store").rglob("*") if p.name.startswith(".#") or p.name.endswith(".tmp")]


@pytest.fixture
def watch_outside(tmp_path: Path, make_store: StoreFactory) -> Iterator[None]:
    before = outside_snapshot(tmp_path)
    yield
    assert outside_snapshot(tmp_path) == before, "something was written outside base_dir"
    assert not temp_files(tmp_path), "a refused write left a temporary file"


def content(store: PersiDict) -> dict[Any, Any]:
    return {tuple(k): v for k, v in store.items()}


def seeded(store: PersiDict) -> PersiDict:
    ints = store.base_class_for_values is int
    store["a"] = 1 if ints else "A"
    store[("b", "c")] = 2 if ints else "BC"
    return store


def assert_usable(store: PersiDict, before: dict[Any, Any]) -> None:
    assert content(store) == before
    fresh = 3 if store.base_class_for_values is int else "F"
    store[("fresh", "key")] = fresh
    assert store[("fresh", "key")] == fresh
    assert len(store) == len(before) + 1


# ---------------------------------------------------------------- tests
@pytest.mark.usefixtures("watch_outside")
def test_bad_keys(make_store: StoreFactory, family: str) -> None:
    store = seeded(make_store("pkl", None))
    before = content(store)
    problems = []
    for label, key, expected in BAD_KEYS:
        for op_name, op in KEY_OPERATIONS.items():
            _report.add("bad_inputs")
            if op_name == "k in store" and expected is TypeError:
                # What can never be a key is not in the store, as for a dict (no error).
                if (key in store) is not False:
                    problems.append(f"{family} {op_name} with {label}: not False")
                continue
            try:
                op(store, key)
            except expected:
                pass
            except Exception as exc:  # noqa: BLE001 - any other outcome is a failure, listed below
                problems.append(f"{family} {op_name} with {label}: {type(exc).__name__}: {exc}")
            else:
                problems.append(f"{family} {op_name} with {label}: no error")
    _report.add("violations", len(problems))
    assert not problems, problems
    assert_usable(store, before)


@pytest.mark.usefixtures("watch_outside")
def test_deep_keys(make_store: StoreFactory, family: str) -> None:
    store = seeded(make_store("pkl", None))
    store[DEEP_SHORT] = "deep"
    assert store[DEEP_SHORT] == "deep" and DEEP_SHORT in set(store)
    before = content(store)
    _report.add("bad_inputs", 2)
    if family == "LocalDict":
        store[DEEP_LONG] = "long"  # no path, no limit
        assert store[DEEP_LONG] == "long"
        del store[DEEP_LONG]
    else:
        # A file path or an S3 object name of 6,200 bytes: refused before any I/O.
        with pytest.raises(ValueError, match="too long"):
            store[DEEP_LONG] = "long"
        with pytest.raises(ValueError, match="too long"):
            store[DEEP_LONG]
        with pytest.raises(ValueError, match="too long"):
            DEEP_LONG in store  # noqa: B015
    assert_usable(store, before)


@pytest.mark.usefixtures("watch_outside")
@pytest.mark.parametrize("case", [*BAD_VALUES, BAD_CLASS_VALUE], ids=lambda c: f"{c[0]}-{c[1]}")
def test_bad_values(
    make_store: StoreFactory, family: str, case: tuple[str, str, Callable[[], Any], dict[str, Any]]
) -> None:
    label, fmt, make_value, outcomes = case
    store = seeded(make_store(fmt, int if case is BAD_CLASS_VALUE else None))
    expected = outcomes[family]
    before = content(store)
    value = make_value()
    _report.add("bad_inputs", 3)
    try:
        for key in ("new", ("b", "c"), ("n", "e", "w")):
            if expected is None:
                store[key] = value
                store.discard(key) if not store.append_only else None
                continue
            with pytest.raises(expected) as info:
                store[key] = value
            assert not isinstance(info.value, BackendError)
            if isinstance(info.value, SerializationError):
                assert "new" in str(info.value) or "'b'" in str(info.value) or "'n'" in str(info.value)
    finally:
        if hasattr(value, "close"):
            value.close()
    if expected is not None:
        assert_usable(store, before)
