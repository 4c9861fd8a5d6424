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
    "._b.pkl",  # macOS AppleDouble file of b.pkl (FAT, SMB and NFS shares)
    "._c.pkl",
    "~$b.pkl",  # Office lock file
]
# Folders that systems and sync tools create: what is inside them is never a key.
FOREIGN_DIRS = [
    "$RECYCLE.BIN",
    "a b",
    "#backup#",
    ".Trashes",
    ".Trash-1000",
    ".Spotlight-V100",
    ".stversions",
    ".dropbox.cache",
    "__MACOSX",
    "._sub",
]

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
        # Text decodes whatever UTF-8 it finds (an empty file is ""): a cut or flipped text
        # file that is still UTF-8 is no error to see.
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


@pytest.mark.parametrize(
    ("fmt", "content"),
    [
        ("pkl", b""),
        ("json", b""),  # used to read back as None
        ("json", b"   \n"),
        ("json", b"\xff\xfe{}"),  # not UTF-8
        ("json", b'{"a": 1'),
        ("txt", b"caf\xe9"),  # Latin-1, not UTF-8
        ("txt", b"\xc3"),  # a cut UTF-8 sequence
    ],
)
def test_invalid_files_are_errors_never_values(tmp_path: Path, fmt: str, content: bytes) -> None:
    store = FileDirDict(base_dir=str(tmp_path), serialization_format=fmt)
    store["good"] = "G"
    (tmp_path / f"bad.{fmt}").write_bytes(content)
    _report.add("bad_inputs")
    started = time.monotonic()
    with pytest.raises(DeserializationError) as info:
        store["bad"]
    assert time.monotonic() - started < 5
    assert "'bad'" in str(info.value) and str(tmp_path / f"bad.{fmt}") in str(info.value)
    with pytest.raises(DeserializationError):
        dict(store.items())
    assert store["good"] == "G"


def test_lz4_store_with_an_empty_file(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=str(tmp_path), compression="lz4")
    (tmp_path / "empty.pkl").write_bytes(b"")
    with pytest.raises(DeserializationError, match="empty"):
        store["empty"]


def test_appledouble_files_are_never_keys(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=str(tmp_path))
    for i in range(3):
        store[f"k{i}"] = i
    store[("d", "x")] = "x"
    # What macOS leaves on a FAT/SMB/NFS share: a resource-fork file next to every file.
    for path in list(tmp_path.rglob("*.pkl")):
        path.with_name("._" + path.name).write_bytes(b"\x00\x05\x16\x07AppleDouble junk")
    (tmp_path / "._d").write_bytes(b"\x00\x05\x16\x07")
    _report.add("bad_inputs", 5)
    expected = {("k0",), ("k1",), ("k2",), ("d", "x")}
    assert set(store) == expected and len(store) == 4
    assert dict(store.items()) == {("k0",): 0, ("k1",): 1, ("k2",): 2, ("d", "x"): "x"}
    assert sorted(store.values(), key=str) == [0, 1, 2, "x"]
    with pytest.raises(ValueError, match="'._'"):
        store["._k0"] = 1


@pytest.mark.parametrize(("fmt", "dropping"), [("db", "Thumbs"), ("ini", "desktop"), ("pkl", ".DS_Store")])
def test_system_files_with_a_store_extension_are_never_keys(tmp_path: Path, fmt: str, dropping: str) -> None:
    store = FileDirDict(base_dir=str(tmp_path), serialization_format=fmt)
    store["real"] = "r"
    (tmp_path / f"{dropping}.{fmt}").write_text("written by the system")
    (tmp_path / ".Trashes").mkdir()
    (tmp_path / ".Trashes" / f"deleted.{fmt}").write_text("a deleted value, in the trash")
    _report.add("bad_inputs", 2)
    assert set(store) == {("real",)} and len(store) == 1
    # A key that would be stored under such a name is refused: it could never be listed.
    for key in (dropping, (".Trashes", "x"), ("THUMBS.DB",) if fmt == "pkl" else ("a", dropping)):
        with pytest.raises(ValueError, match="operating systems"):
            store[key] = "hidden"
    assert store.get_subdict("sub") is not None
    with pytest.raises(ValueError, match="operating systems"):
        store.get_subdict(".Trashes")
