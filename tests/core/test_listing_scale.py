"""len counts what a listing yields; listings stream (no list of all keys); newest_keys keeps n."""

from __future__ import annotations

import os
import types
from pathlib import Path
from typing import Any

import pytest

from persidict_core import FileDirDict
from persidict_safestr import sign_safe_str


@pytest.mark.parametrize("digest_len", [0, 4])
def test_len_counts_exactly_the_keys_a_listing_yields(tmp_path: Path, digest_len: int) -> None:
    store = FileDirDict(tmp_path, digest_len=digest_len, fsync=False)
    for i in range(30):
        store[f"k{i}"] = i
        store[("sub", f"s{i}")] = i
        store[("sub", "deep", f"d{i}")] = i
    sub = tmp_path / (sign_safe_str("sub", digest_len) if digest_len else "sub")
    # Things a listing skips: foreign and temporary files, other formats, bad names, symlinks,
    # a directory named like a key file, a directory whose name is not a key element.
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / ".#k1.pkl.0123456789ab.tmp").write_bytes(b"x")
    (tmp_path / "bad name.pkl").write_bytes(b"x")
    (tmp_path / "...pkl").write_bytes(b"x")
    (sub / "other.json").write_text("{}")
    (tmp_path / "dir.pkl").mkdir()
    (tmp_path / "dir.pkl" / "inner.pkl").write_bytes(b"x")
    (tmp_path / "._k1.pkl").write_bytes(b"x")  # macOS AppleDouble and system droppings
    (tmp_path / ".DS_Store.pkl").write_bytes(b"x")
    (tmp_path / ".Trashes").mkdir()
    (tmp_path / ".Trashes" / "gone.pkl").write_bytes(b"x")
    (tmp_path / "bad dir").mkdir()
    (tmp_path / "bad dir" / "x.pkl").write_bytes(b"x")
    k1_file = (sign_safe_str("k1", digest_len) if digest_len else "k1") + ".pkl"
    os.symlink(tmp_path / k1_file, sub / "link.pkl")
    os.symlink(sub, tmp_path / "linkdir")
    if digest_len:
        (tmp_path / "k1_zzzz.pkl").write_bytes(b"x")  # a wrong digest suffix
    listed = list(store)
    assert len(listed) == len(set(listed))
    expected = 90 + (1 if not digest_len else 0)  # "dir.pkl/inner.pkl" is a key when unsigned
    assert len(listed) == expected
    assert len(store) == expected
    assert len(store) == expected  # again: the names are now remembered


def test_len_of_an_empty_or_vanished_store(tmp_path: Path) -> None:
    store = FileDirDict(tmp_path / "s", fsync=False)
    assert len(store) == 0
    store[("a", "b")] = 1
    assert len(store) == 1
    store.clear()
    assert len(store) == 0


def test_listings_are_generators_not_lists(tmp_path: Path) -> None:
    store = FileDirDict(tmp_path, fsync=False)
    for i in range(5):
        store[("d", f"k{i}")] = i
    for listing in (iter(store), iter(store.keys()), store.keys_and_timestamps(), iter(store.items())):
        assert isinstance(listing, types.GeneratorType)
        assert next(listing) is not None  # produced lazily, one key at a time


def test_newest_keys_keeps_a_heap_of_n(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import heapq

    store = FileDirDict(tmp_path, fsync=False)
    for i in range(20):
        store[f"k{i}"] = i
        os.utime(tmp_path / f"k{i}.pkl", ns=(i * 10**9, i * 10**9))
    seen: list[object] = []
    real = heapq.nlargest

    def recording(n: int, iterable: object, **kwargs: object) -> object:
        seen.append(iterable)
        return real(n, iterable, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(heapq, "nlargest", recording)
    assert store.newest_keys(3) == [("k19",), ("k18",), ("k17",)]
    assert len(seen) == 1 and isinstance(seen[0], types.GeneratorType)  # never a list of all keys
    assert store.oldest_keys(2) == [("k0",), ("k1",)]


def test_len_of_keys_view_holds_no_list_of_a_big_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import persidict_core._persidict as persidict_module

    monkeypatch.setattr(persidict_module, "_REPLAY_LIMIT", 10)
    store = FileDirDict(tmp_path, fsync=False)
    for i in range(25):
        store[("d", f"k{i}")] = i
    view: Any = store.keys()
    assert len(view) == 25
    assert view._len_listing is None  # counted, not kept
    assert sorted(view) == sorted(store) and len(list(view)) == 25
    small: Any = FileDirDict(tmp_path / "d", fsync=False).keys()
    monkeypatch.setattr(persidict_module, "_REPLAY_LIMIT", 100)
    assert len(small) == 25 and small._len_listing is not None
    assert len(list(small)) == 25


def test_clear_deletes_keys_and_their_folders_but_nothing_else(tmp_path: Path) -> None:
    store = FileDirDict(tmp_path, fsync=False)
    for i in range(10):
        store[("a", "b", f"k{i}")] = i
        store[f"top{i}"] = i
    (tmp_path / "a" / "notes.txt").write_text("keep")
    (tmp_path / "empty").mkdir()
    store.clear()
    assert len(store) == 0 and list(store) == []
    assert (tmp_path / "a" / "notes.txt").read_text() == "keep"
    assert not (tmp_path / "a" / "b").exists()
    assert (tmp_path / "empty").is_dir()  # not a folder of keys: left alone
    store[("a", "b", "again")] = 1
    assert store[("a", "b", "again")] == 1
