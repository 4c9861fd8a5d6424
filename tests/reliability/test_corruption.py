"""Scenario 4: truncated or garbled value files and foreign files inside a FileDirDict's tree.

Listing and ``len`` ignore foreign files (and never read values, so a garbled value does not
disturb them); reading the garbled key raises `DeserializationError` naming the key and the
file, at once; the other keys are unaffected; writing the key again repairs it; the store never
deletes files it did not create.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from persidict_core import DeserializationError, FileDirDict
from tests.reliability import _report

FOREIGN_NAMES = [
    ".DS_Store",
    "Thumbs.db",
    "desktop.ini",
    ".b.pkl.swp",  # vim swap file of b.pkl (and of b.json / b.txt below)
    "b.pkl~",  # emacs backup
    "#b.pkl#",  # emacs autosave
    ".#b.pkl.0123456789ab.tmp",  # a temporary file of ours, left by a crash
    "stray.tmp",
    "b.pkl.tmp",
    "a b.pkl",  # a space is not a safe character
    "ключ.pkl",
    "..pkl",  # would be the key "."
    "...pkl",  # would be the key ".."
    ".pkl",  # would be the empty key
]
FOREIGN_DIRS = ["$RECYCLE.BIN", "a b", "#backup#"]

GARBLE: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "garbage": lambda data: bytes(range(256)) * 3,
    "flipped": lambda data: data[:-8] + bytes(b ^ 0xFF for b in data[-8:]),
}


def plant_foreign_files(directory: Path, extension: str) -> list[Path]:
    planted = []
    for name in FOREIGN_NAMES:
        path = directory / name.replace(".pkl", extension)
        path.write_bytes(b"not a value of this store\n")
        planted.append(path)
    for name in FOREIGN_DIRS:
        (directory / name).mkdir()
        inner = directory / name / f"inner{extension}"
        inner.write_bytes(b"hidden")
        planted.append(inner)
    return planted


@pytest.mark.parametrize("fmt", ["pkl", "json", "txt"])
@pytest.mark.parametrize("how", list(GARBLE))
def test_garbled_value_and_foreign_files(tmp_path: Path, fmt: str, how: str) -> None:
    base = tmp_path / "store"
    store = FileDirDict(base_dir=str(base), serialization_format=fmt, digest_len=0)
    good = {("b",): "B", ("c",): "C" * 1000, ("sub", "d"): "D", ("sub", "deep", "e"): "E"}
    store["a"] = "the value that gets garbled"
    for key, value in good.items():
        store[key] = value
    garbled = base / f"a.{fmt}"
    garbled.write_bytes(GARBLE[how](garbled.read_bytes()))
    planted = plant_foreign_files(base, f".{fmt}") + plant_foreign_files(base / "sub", f".{fmt}")
    _report.add("bad_inputs", len(planted) + 1)

    expected_keys = {("a",), *good}
    assert set(store) == expected_keys
    assert len(store) == len(expected_keys)
    assert set(store.keys()) == expected_keys
    assert {key for key, _ in store.keys_and_timestamps()} == expected_keys
    assert "a" in store
    assert len(store.get_subdict("sub")) == 2

    if fmt == "txt" and how in ("truncated", "empty", "flipped"):
        # Text decodes whatever UTF-8 it finds: a cut or flipped text file is no error to see.
        if how != "flipped":
            assert store["a"] == garbled.read_text()
    else:
        started = time.monotonic()
        with pytest.raises(DeserializationError) as info:
            store["a"]
        assert time.monotonic() - started < 5
        message = str(info.value)
        assert "'a'" in message and str(garbled) in message, message
        assert isinstance(info.value, ValueError)
        with pytest.raises(DeserializationError):
            list(store.values())  # reading every value reaches the garbled one and says so
    for key, value in good.items():
        assert store[key] == value
    assert store.get_subdict("sub")[("deep", "e")] == "E"

    store["a"] = "repaired"
    assert store["a"] == "repaired"
    assert dict(store.items()) == {("a",): "repaired", **good}

    # Maintenance removes only our own temporary files; clear() deletes only keys.
    assert store.remove_stale_temp_files(min_age_seconds=0) == 2
    store.clear()
    assert len(store) == 0
    survivors = [p for p in planted if p.exists()]
    ours = [p for p in planted if p.name.startswith(".#") and p.name.endswith(".tmp")]
    assert sorted(survivors) == sorted(set(planted) - set(ours))


def test_lz4_truncated_and_partial_frames(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=str(tmp_path), compression="lz4")
    store["big"] = list(range(50_000))
    store["small"] = 1
    path = tmp_path / "big.pkl"
    data = path.read_bytes()
    for cut in (4, 11, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:cut])
        _report.add("bad_inputs")
        with pytest.raises(DeserializationError, match="big"):
            store["big"]
        assert store["small"] == 1
        assert len(store) == 2
    path.write_bytes(data)
    assert store["big"] == list(range(50_000))


def test_unreadable_and_odd_entries_do_not_break_listing(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=str(tmp_path))
    store["a"] = 1
    store[("d", "x")] = 2
    os.mkfifo(tmp_path / "fifo.pkl")  # a named pipe with a key-like name: open() would block
    (tmp_path / "dir.pkl").mkdir()  # a directory with a file-like name
    (tmp_path / "dir.pkl" / "y.pkl").write_bytes(b"")  # ... is a sub-dict, its file a (garbled) key
    _report.add("bad_inputs", 2)
    listed = set(store)
    assert listed == {("a",), ("d", "x"), ("dir.pkl", "y")}
    assert len(store) == 3
    assert "fifo" not in store
    started = time.monotonic()
    with pytest.raises(KeyError):
        store["fifo"]
    assert time.monotonic() - started < 5
    with pytest.raises(DeserializationError, match="y"):
        store[("dir.pkl", "y")]
    assert store["a"] == 1
