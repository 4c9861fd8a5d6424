"""FileDirDict keeps written-to directories open: removed ones are opened anew, the table stays bounded."""

from __future__ import annotations

import os
import pickle
import sys
import threading
from pathlib import Path

import pytest

from persidict_core import FileDirDict
from persidict_core import _file_dir_dict as file_dir_dict

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="directories are not kept open on Windows")


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else -1


def test_a_directory_removed_and_made_again_is_opened_anew(tmp_path: Path) -> None:
    """Writes and deletes after another store removed a kept directory reach the new one."""
    store = FileDirDict(base_dir=tmp_path, digest_len=0, fsync=False)
    other = FileDirDict(base_dir=tmp_path, digest_len=0, fsync=False)
    store["d", "a"] = 1  # "d" is now kept open by this process
    other.clear()  # deletes the key and removes the emptied folder "d"
    assert not (tmp_path / "d").exists()
    other["d", "b"] = 2  # a new folder "d"
    store["d", "c"] = 3  # through the stale descriptor: must land in the new folder
    assert sorted(os.listdir(tmp_path / "d")) == ["b.pkl", "c.pkl"]
    assert dict(other.items()) == {("d", "b"): 2, ("d", "c"): 3}
    other.clear()
    other["d", "e"] = 5
    del store["d", "e"]  # a delete through the stale descriptor finds the key in the new folder
    assert ("d", "e") not in other
    other["d", "f"] = 6
    other.clear()
    other["d", "f"] = 7
    assert store.pop(("d", "f")) == 7  # a conditional delete (pop) through a stale descriptor
    assert len(other) == 0


def test_a_delete_after_another_process_made_the_directory_again_finds_the_key(tmp_path: Path) -> None:
    """The folder is removed and made again behind this process's back (as another process would)."""
    store = FileDirDict(base_dir=tmp_path, digest_len=0, fsync=False)
    store["d", "a"] = 1  # "d" is now kept open
    for name in os.listdir(tmp_path / "d"):
        os.unlink(tmp_path / "d" / name)
    os.rmdir(tmp_path / "d")
    os.mkdir(tmp_path / "d")
    (tmp_path / "d" / "e.pkl").write_bytes(pickle.dumps(5))
    (tmp_path / "d" / "f.pkl").write_bytes(pickle.dumps(6))
    assert ("d", "e") in store
    del store["d", "e"]  # through the kept descriptor of the removed folder: must reach the new one
    assert not (tmp_path / "d" / "e.pkl").exists()
    assert store.pop(("d", "f")) == 6
    assert os.listdir(tmp_path / "d") == []


def test_the_table_of_kept_directories_stays_bounded(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, digest_len=0, fsync=False)
    store["warm", "k"] = 0
    before = open_descriptors()
    for i in range(3 * file_dir_dict._MAX_OPEN_DIRS):
        store[f"d{i}", "k"] = i
        del store[f"d{i}", "k"]
        store[f"d{i}", "k"] = i
    assert len(file_dir_dict._open_dirs.table) <= file_dir_dict._MAX_OPEN_DIRS
    if before >= 0:
        assert open_descriptors() - before <= file_dir_dict._MAX_OPEN_DIRS
    assert len(store) == 3 * file_dir_dict._MAX_OPEN_DIRS + 1
    assert all(store[f"d{i}", "k"] == i for i in range(3 * file_dir_dict._MAX_OPEN_DIRS))


def add_one(value: object) -> int:
    return value + 1 if isinstance(value, int) else 1


def test_threads_writing_many_directories_meanwhile_keep_every_write(tmp_path: Path) -> None:
    """More directories than the table holds, written by threads at once.

    Descriptors in use are never closed (a closed one could be reused by another open).
    """
    store = FileDirDict(base_dir=tmp_path, digest_len=0, fsync=False)
    n_dirs = 2 * file_dir_dict._MAX_OPEN_DIRS
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for round_number in range(3):
                for i in range(n_dirs):
                    store.transform_item(
                        (f"d{(i + offset) % n_dirs}", "n"),
                        transformer=lambda v: 1 if not isinstance(v, int) else v + 1,
                        n_retries=None,
                    )
                del round_number
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t * 7,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert [store[f"d{i}", "n"] for i in range(n_dirs)] == [12] * n_dirs


def test_a_store_whose_folder_was_removed_makes_it_again_on_the_next_write(tmp_path: Path) -> None:
    base = tmp_path / "store"
    store = FileDirDict(base_dir=base, fsync=False)
    store["a"] = 1
    store["x", "y"] = 2
    for name in sorted(base.rglob("*"), reverse=True):
        name.unlink() if name.is_file() else name.rmdir()
    base.rmdir()
    store["b"] = 3
    store["x", "z"] = 4
    assert dict(store.items()) == {("b",): 3, ("x", "z"): 4}
    assert sorted(p.name for p in base.iterdir()) == ["b.pkl", "x"]
