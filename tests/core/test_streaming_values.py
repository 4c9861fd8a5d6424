"""Large pkl values stream into and out of their files; failures leave the store intact."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import lz4.frame
import pytest

from persidict_core import DeserializationError, FileDirDict, SerializationError

np = pytest.importorskip("numpy")  # the whole module is about numpy values

BIG = 3 * 2**20  # above the size from which reads stream


def _files(path: Path) -> list[str]:
    return sorted(name for name in os.listdir(path))


@pytest.mark.parametrize("compression", [None, "lz4"])
def test_large_values_round_trip(tmp_path: Path, compression: Any) -> None:
    store = FileDirDict(tmp_path, fsync=False, compression=compression)
    array = np.random.default_rng(0).random(BIG // 8)
    fortran = np.asfortranarray(np.arange(BIG // 8, dtype=np.int64).reshape(-1, 8))
    blob = os.urandom(BIG)
    nested = {"a": array[:1000], "blob": blob, "items": list(range(1000))}
    for name, value in (("array", array), ("fortran", fortran), ("blob", blob), ("nested", nested)):
        store[name] = value
    assert np.array_equal(store["array"], array)
    assert store["fortran"].flags.f_contiguous and np.array_equal(store["fortran"], fortran)
    assert store["blob"] == blob
    read = store["nested"]
    assert (
        read["blob"] == blob
        and read["items"] == list(range(1000))
        and np.array_equal(read["a"], array[:1000])
    )
    assert os.path.getsize(tmp_path / "blob.pkl") > BIG // 2
    assert _files(tmp_path) == [
        "array.pkl",
        "blob.pkl",
        "fortran.pkl",
        "nested.pkl",
    ]  # no temporary file left


def test_streamed_files_are_plain_pickles_and_lz4_frames(tmp_path: Path) -> None:
    array = np.arange(BIG // 8, dtype=np.float64)
    FileDirDict(tmp_path / "plain", fsync=False)["k"] = array
    assert np.array_equal(pickle.loads((tmp_path / "plain" / "k.pkl").read_bytes()), array)
    FileDirDict(tmp_path / "lz4", fsync=False, compression="lz4")["k"] = array
    raw = (tmp_path / "lz4" / "k.pkl").read_bytes()
    assert np.array_equal(pickle.loads(lz4.frame.decompress(raw)), array)
    # Files written in one piece (another writer, an older version) are read by the streaming path.
    (tmp_path / "plain" / "old.pkl").write_bytes(lz4.frame.compress(pickle.dumps(array, protocol=5)))
    assert np.array_equal(FileDirDict(tmp_path / "plain", fsync=False)["old"], array)


@pytest.mark.parametrize("compression", [None, "lz4"])
def test_a_truncated_large_file_is_a_deserialization_error(tmp_path: Path, compression: Any) -> None:
    store = FileDirDict(tmp_path, fsync=False, compression=compression)
    store["k"] = os.urandom(BIG)
    path = tmp_path / "k.pkl"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 1000])
    with pytest.raises(DeserializationError, match="k"):
        store["k"]
    path.write_bytes(b"\x00" * BIG)  # garbage of a large size
    with pytest.raises(DeserializationError):
        store["k"]


@pytest.mark.parametrize("compression", [None, "lz4"])
def test_a_value_failing_midway_leaves_the_old_value_and_no_temp_file(
    tmp_path: Path, compression: Any
) -> None:
    store = FileDirDict(tmp_path, fsync=False, compression=compression)
    store["k"] = "old"
    bad = [os.urandom(BIG), lambda: None]  # the big buffer is written before the lambda fails
    with pytest.raises(SerializationError, match="k"):
        store["k"] = bad
    assert store["k"] == "old"
    assert _files(tmp_path) == ["k.pkl"]
    with pytest.raises(SerializationError):
        store["new"] = bad
    assert "new" not in store and _files(tmp_path) == ["k.pkl"]


def test_formats_without_streaming_still_work(tmp_path: Path) -> None:
    text = FileDirDict(tmp_path, serialization_format="txt", fsync=False)
    text["k"] = "x" * BIG
    assert text["k"] == "x" * BIG
    data = FileDirDict(tmp_path, serialization_format="json", fsync=False)
    data["k"] = {"a": list(range(300_000))}
    assert data["k"] == {"a": list(range(300_000))}


def test_buffers_read_into_huge_pages_keep_their_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Buffers from 8 MB up are marked for huge pages before the read: the values are unchanged."""
    from persidict_core import _file_dir_dict

    store = FileDirDict(tmp_path, fsync=False)
    size = _file_dir_dict._HUGE_PAGE_READ_MIN + 12_345  # not a whole number of pages
    array = np.random.default_rng(1).random(size // 8 + 1)
    blob = os.urandom(size)
    store["array"], store["blob"], store["both"] = array, blob, [blob, array, b"small"]
    assert np.array_equal(store["array"], array)
    assert store["blob"] == blob
    both = store["both"]
    assert both[0] == blob and np.array_equal(both[1], array) and both[2] == b"small"
    # The reader marks exactly the whole pages inside a buffer, and reads all of it.
    advised: list[int] = []
    original = _file_dir_dict._advise_huge_pages

    def spy(view: memoryview) -> None:
        advised.append(view.nbytes)
        original(view)

    monkeypatch.setattr(_file_dir_dict, "_advise_huge_pages", spy)
    assert store["blob"] == blob
    assert advised == ([size] if _file_dir_dict._HUGE_PAGE_SUPPORT else [])
