"""FileDirDict behaviour beyond the conformance suite: layout, atomicity, safety, errors."""

from __future__ import annotations

import json
import os
import pickle
import stat
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from persidict_core import (
    BackendError,
    DeserializationError,
    FileDirDict,
    MutationPolicyError,
    SerializationError,
    register_json_class,
    store_from_config,
)
from persidict_safestr import NonEmptySafeStrTuple


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_layout_is_one_file_per_key(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, serialization_format="json")
    store[("users", "alice")] = {"age": 30}
    store["top"] = [1]
    assert files_under(tmp_path) == ["top.json", os.path.join("users", "alice.json")]
    text = (tmp_path / "users" / "alice.json").read_text(encoding="utf-8")
    assert json.loads(text) == {"age": 30}
    assert "\n    " in text  # indented, human-readable


def test_signed_layout_matches_the_spec_vectors(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, digest_len=1)
    store[("x", "y", "z")] = 1
    assert files_under(tmp_path) == [os.path.join("x_t", "y_i", "z_7.pkl")]
    assert list(store) == [("x", "y", "z")]


def test_case_variants_do_not_collide_when_signed(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, digest_len=4)
    store["abc"] = 1
    store["Abc"] = 2
    assert files_under(tmp_path) == ["Abc_gvmt.pkl", "abc_saav.pkl"]
    assert store["abc"] == 1 and store["Abc"] == 2


def test_a_key_that_looks_signed_keeps_its_own_file(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, digest_len=1)
    store["a_b"] = "looks signed"
    store["a"] = "plain"
    assert store["a_b"] == "looks signed"
    assert len(store) == 2
    assert set(store) == {("a",), ("a_b",)}


def test_text_round_trips_bytes_exactly(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, serialization_format="txt")
    store["t"] = "a\r\nb\u00e9"
    assert (tmp_path / "t.txt").read_bytes() == "a\r\nb\u00e9".encode()


def test_base_dir_is_created_and_must_not_be_a_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er"
    FileDirDict(base_dir=target)
    assert target.is_dir()
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        FileDirDict(base_dir=a_file)
    assert a_file.read_text() == "x"


def test_relative_base_dir_is_resolved_at_construction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = FileDirDict(base_dir="rel")
    assert store.base_dir == str(tmp_path / "rel")
    assert store.get_params()["base_dir"] == str(tmp_path / "rel")


def test_positional_arguments_follow_the_seed_order(tmp_path: Path) -> None:
    store = FileDirDict(tmp_path, "json", True, 4, dict)
    assert store.serialization_format == "json"
    assert store.append_only is True
    assert store.digest_len == 4
    assert store.base_class_for_values is dict


def test_unknown_parameter_is_a_validation_error_and_foreign_ones_are_ignored(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="serialisation_format"):
        FileDirDict(base_dir=tmp_path, serialisation_format="json")
    store = FileDirDict(base_dir=tmp_path, bucket_name="ignored", region="eu-west-1", root_prefix="p")
    assert "bucket_name" not in store.get_params()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"digest_len": -1}, "digest_len"),
        ({"digest_len": 1.5}, "digest_len"),
        ({"serialization_format": ""}, "serialization_format"),
        ({"serialization_format": "a/b"}, "serialization_format"),
        ({"base_class_for_values": 5}, "base_class_for_values"),
        ({"serialization_format": "txt", "base_class_for_values": int}, "txt"),
        ({"append_only": "yes"}, "append_only"),
        ({"compression": "zip"}, "compression"),
    ],
)
def test_invalid_parameters_name_the_field(tmp_path: Path, params: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        FileDirDict(base_dir=tmp_path / "s", **params)  # type: ignore[arg-type]
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("base_dir", [None, 5])
def test_a_base_dir_that_is_not_a_path_is_a_validation_error(base_dir: object) -> None:
    # It used to reach os.fspath() first: a bare TypeError that did not name base_dir.
    with pytest.raises(ValidationError, match="base_dir"):
        FileDirDict(base_dir=base_dir)  # type: ignore[arg-type]


def test_a_pathlib_base_dir_is_accepted_by_the_config_too(tmp_path: Path) -> None:
    store = store_from_config({"kind": "file_dir_dict", "base_dir": tmp_path / "s"})
    assert isinstance(store, FileDirDict)
    assert store.base_dir == str(tmp_path / "s")


def test_config_round_trips_through_json(tmp_path: Path) -> None:
    store = FileDirDict(
        base_dir=tmp_path, serialization_format="json", digest_len=2, base_class_for_values=dict
    )
    store["k"] = {"v": 1}
    text = store.config.model_dump_json()
    assert '"base_class_for_values":"builtins:dict"' in text
    again = FileDirDict.from_config(text)
    assert again == store
    assert again["k"] == {"v": 1}
    assert store_from_config(json.loads(text)).get_params() == store.get_params()


def test_temporary_and_foreign_files_are_invisible(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path)
    store["real"] = 1
    (tmp_path / ".#real.pkl.abc123.tmp").write_bytes(b"partial")
    (tmp_path / ".DS_Store").write_bytes(b"junk")
    (tmp_path / "notes.txt").write_text("other format")
    (tmp_path / "bad name.pkl").write_bytes(pickle.dumps(1))
    (tmp_path / ".pkl").write_bytes(pickle.dumps(1))
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "real.pkl~").write_bytes(b"editor backup")
    assert list(store) == [("real",)]
    assert len(store) == 1
    assert store.random_key() == ("real",)


def test_a_directory_named_like_a_value_file_is_not_a_key(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path)
    store[("a.pkl", "inner")] = 1
    assert "a" not in store
    with pytest.raises(KeyError):
        store["a"]
    assert list(store) == [("a.pkl", "inner")]


def test_corrupt_value_names_key_and_file_and_spares_the_rest(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path)
    store["good"] = 1
    store["bad"] = list(range(100))
    path = tmp_path / "bad.pkl"
    path.write_bytes(path.read_bytes()[:10])
    start = time.monotonic()
    with pytest.raises(DeserializationError, match="bad") as info:
        store["bad"]
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)
    assert time.monotonic() - start < 1.0  # fails at once: no retry loop on corrupt data
    assert set(store) == {("good",), ("bad",)}
    assert store["good"] == 1
    store["bad"] = "repaired"
    assert store["bad"] == "repaired"


def test_unserializable_value_leaves_no_file(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path)
    with pytest.raises(SerializationError, match="lock"):
        import threading

        store["lock"] = threading.Lock()
    assert files_under(tmp_path) == []


def test_json_refuses_lossy_values(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, serialization_format="json")

    class LocalClass:
        pass

    with pytest.raises(SerializationError):
        store["lambda"] = lambda: 1
    with pytest.raises(SerializationError):
        store["local"] = LocalClass()
    assert files_under(tmp_path) == []
    store["int_keys"] = {1: "a", (2, 3): "b"}
    assert store["int_keys"] == {1: "a", (2, 3): "b"}


@pytest.mark.parametrize(
    "value",
    [
        {"callback": lambda: 1, "n": 1},  # jsonpickle dropped the entry: stored as {"n": 1}
        {"py/object": "x", "n": 1},  # a reserved tag as a key: dropped too
        [1, lambda: 2],
    ],
)
def test_json_refuses_values_jsonpickle_would_drop_silently(tmp_path: Path, value: object) -> None:
    store = FileDirDict(base_dir=tmp_path, serialization_format="json")
    with pytest.raises(SerializationError, match="'k'"):
        store["k"] = value
    assert files_under(tmp_path) == []


@register_json_class
class _Record:
    def __init__(self, **fields: object) -> None:
        self.__dict__.update(fields)

    def __eq__(self, other: object) -> bool:
        return type(other) is _Record and vars(self) == vars(other)


def test_json_refuses_an_object_attribute_that_is_a_function(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, serialization_format="json")
    for value in (_Record(callback=lambda: 1, n=1), _Record(n=1, f=os.path.exists)):
        with pytest.raises(SerializationError, match="callable"):
            store["k"] = value  # json holds data: neither a lambda nor a module function
    with pytest.raises(SerializationError, match="SimpleNamespace"):
        store["k"] = SimpleNamespace(n=1)  # not registered
    assert files_under(tmp_path) == []
    store["ok"] = _Record(n=1, items=[(1, 2)])
    assert store["ok"] == _Record(n=1, items=[(1, 2)])


def test_json_stores_pandas_series_and_index(tmp_path: Path) -> None:
    # jsonpickle's pandas handler emits its own DeprecationWarning; under pytest's
    # filterwarnings=error (or python -W error) that used to fail every Series and Index.
    pd = pytest.importorskip("pandas")
    store = FileDirDict(base_dir=tmp_path, serialization_format="json")
    series = pd.Series([1.5, 2.0], index=["x", "y"], name="n")
    store["series"] = series
    assert store["series"].equals(series)
    store["index"] = pd.Index([1, 2])
    assert store["index"].equals(pd.Index([1, 2]))
    assert FileDirDict(base_dir=tmp_path, serialization_format="json")["series"].equals(series)


def test_pop_that_loses_a_race_does_not_return_the_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process pops the key between this pop's read and its delete: only one of the
    # two pops may return the value (they used to both return it).
    store = FileDirDict(base_dir=tmp_path)
    other = FileDirDict(base_dir=tmp_path)
    read = store.read_entry

    def read_then_lose_the_race(key: Any) -> Any:
        result = read(key)
        assert other.pop(key) == "job"
        return result

    monkeypatch.setattr(store, "read_entry", read_then_lose_the_race)
    store["k"] = "job"
    with pytest.raises(KeyError):
        store.pop("k")
    store["k"] = "job"
    assert store.pop("k", "lost") == "lost"
    assert "k" not in store


def test_lz4_compression_is_optional_and_detected_on_read(tmp_path: Path) -> None:
    compressed = FileDirDict(base_dir=tmp_path, compression="lz4")
    compressed["big"] = "x" * 100_000
    assert (tmp_path / "big.pkl").stat().st_size < 10_000
    plain = FileDirDict(base_dir=tmp_path)
    assert plain["big"] == "x" * 100_000
    plain["small"] = 1
    assert compressed["small"] == 1


def test_files_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = FileDirDict(base_dir=tmp_path)
        store[("d", "k")] = 1
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "d" / "k.pkl").stat().st_mode) == 0o644


def test_etag_is_mtime_size_and_inode(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path)
    etag = store.set_item_get_etag("k", "v")
    st = (tmp_path / "k.pkl").stat()
    assert etag == f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}"


def test_missing_key_is_a_key_error_everywhere(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path)
    for call in (
        lambda: store["m"],
        lambda: store.timestamp("m"),
        lambda: store.etag("m"),
        lambda: store.get_item_if_etag_changed("m", None),
        lambda: store[("no", "such", "dir")],
    ):
        with pytest.raises(KeyError):
            call()


def test_too_long_element_is_refused_before_any_io(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, digest_len=8)
    with pytest.raises(ValueError, match="at most"):
        store["x" * 250] = 1
    store["x" * 200] = 1
    assert files_under(tmp_path) == [f"{'x' * 200}_{store._encode_name('x' * 200, 999)[-8:]}.pkl"]


def test_symlinks_inside_the_store_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.pkl").write_bytes(pickle.dumps("secret"))
    base = tmp_path / "store"
    store = FileDirDict(base_dir=base)
    store["own"] = 1
    os.symlink(outside, base / "link")
    os.symlink(outside / "secret.pkl", base / "leaf.pkl")
    assert set(store) == {("own",)}
    assert ("link", "secret") not in store
    with pytest.raises(KeyError):
        store[("link", "secret")]
    with pytest.raises(KeyError):
        store["leaf"]
    with pytest.raises(BackendError, match="symlink"):
        store[("link", "new")] = 2
    assert sorted(p.name for p in outside.iterdir()) == ["secret.pkl"]
    store.clear()
    assert (outside / "secret.pkl").exists()


def test_append_only_creation_is_atomic(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, append_only=True)
    store["k"] = "first"
    with pytest.raises(MutationPolicyError):
        store["k"] = "second"
    assert store["k"] == "first"
    assert files_under(tmp_path) == ["k.pkl"]


def test_clear_removes_empty_directories_but_not_other_formats(tmp_path: Path) -> None:
    pkl = FileDirDict(base_dir=tmp_path)
    txt = FileDirDict(base_dir=tmp_path, serialization_format="txt")
    pkl[("a", "b", "c")] = 1
    pkl[("d", "e")] = 2
    txt[("d", "f")] = "keep"
    pkl.clear()
    assert files_under(tmp_path) == [os.path.join("d", "f.txt")]
    assert not (tmp_path / "a").exists()
    assert txt[("d", "f")] == "keep"
    pkl[("a", "b", "c")] = 3  # directories are recreated after clear
    assert pkl[("a", "b", "c")] == 3


def test_stale_temporary_files_can_be_cleaned(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path)
    store[("d", "k")] = 1
    old = tmp_path / "d" / ".#k.pkl.0123456789ab.tmp"
    old.write_bytes(b"partial")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    fresh = tmp_path / "d" / ".#k.pkl.ba9876543210.tmp"
    fresh.write_bytes(b"in progress")
    assert store.remove_stale_temp_files(min_age_seconds=3600) == 1
    assert not old.exists() and fresh.exists()
    assert store[("d", "k")] == 1


def test_nanosecond_timestamps(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path)
    store["k"] = 1
    assert store.timestamp("k") == (tmp_path / "k.pkl").stat().st_mtime_ns / 1e9


def test_a_signed_name_of_dot_dot_is_not_a_key(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, digest_len=1)
    (tmp_path / ".._l.pkl").write_bytes(pickle.dumps("planted"))
    (tmp_path / "._k").mkdir()  # the signed name of "."
    (tmp_path / "._k" / "x_t.pkl").write_bytes(pickle.dumps("planted"))
    store["ok"] = 1
    assert list(store) == [("ok",)]


def test_every_path_and_name_cache_is_bounded(tmp_path: Path) -> None:
    from persidict_safestr import BoundedCache, BoundedSet

    store = FileDirDict(base_dir=tmp_path, digest_len=4)
    caches = [
        store._paths,
        store._top_level_paths,
        store._encoded_names,
        store._valid_names,
        store._verified_dirs,
    ]
    assert all(isinstance(cache, (BoundedCache, BoundedSet)) for cache in caches)
    # One bound for the name caches (the encoded names were once capped by the directories' one).
    assert store._encoded_names.max_size == store._valid_names.max_size == store._paths.max_size
    for i in range(30):
        store[("d", f"k{i}")] = i
    assert sorted(store.keys())[:2] == [("d", "k0"), ("d", "k1")]
    store._paths.max_size = store._encoded_names.max_size = 5
    store._paths.clear()
    store._encoded_names.clear()
    for i in range(30):
        assert store[("d", f"k{i}")] == i
        assert len(store._paths) <= 5 and len(store._encoded_names) <= 5


@pytest.mark.parametrize("digest_len", [0, 4])
def test_listings_of_a_store_larger_than_its_name_memory_stay_exact(tmp_path: Path, digest_len: int) -> None:
    """Names beyond the bounded memory are validated per folder on each listing, never lost or invented."""
    store = FileDirDict(base_dir=tmp_path, digest_len=digest_len, fsync=False)
    expected = {("top", str(i)) for i in range(7)} | {(f"f{j}", f"k{i}") for j in range(4) for i in range(25)}
    for key in expected:
        store[key] = 1
    folders = {j: Path(store._file_path(NonEmptySafeStrTuple(f"f{j}", "k0"))[0]) for j in range(4)}
    # Foreign names beside key files are skipped, and the folder's keys still listed: one that
    # looks like a key file (a folder of key-file names but one), and ones that do not.
    (folders[1] / "Thumbs.db.pkl").write_bytes(b"x")
    planted = [".DS_Store", "notes.txt", "._k3.pkl"]
    for name in planted:
        (folders[2] / name).write_bytes(b"x")

    def check(max_size: int) -> None:
        fresh = FileDirDict(base_dir=tmp_path, digest_len=digest_len, fsync=False)
        fresh._valid_names.max_size = max_size
        for _ in range(2):  # the second listing runs with what the first remembered
            assert len(fresh) == len(expected)
            assert set(fresh) == expected
            assert {info.key for info in fresh.list_entries()} == expected
            assert len(fresh._valid_names) <= max_size

    for max_size in (1, 30, 60, 10_000):
        check(max_size)
    # A folder whose names are partly remembered: new files in a folder listed before, when
    # the memory has no room for them (it holds "top"'s 7 names and one 25-key folder's).
    mixed = FileDirDict(base_dir=tmp_path, digest_len=digest_len, fsync=False)
    mixed._valid_names.max_size = 32
    assert set(mixed) == expected
    assert len(mixed._valid_names) == 32
    for i in range(7, 40):
        store["top", str(i)] = 1
        expected.add(("top", str(i)))
    for _ in range(2):
        assert set(mixed) == expected
        assert len(mixed) == len(expected)
    check(30)
    fresh = FileDirDict(base_dir=tmp_path, digest_len=digest_len, fsync=False)
    fresh._valid_names.max_size = 30
    fresh.clear()
    assert len(store) == 0
    assert [p.name for p in folders[1].iterdir()] == ["Thumbs.db.pkl"]
    assert sorted(p.name for p in folders[2].iterdir()) == sorted(planted)


def test_str_key_reads_take_the_same_road_as_any_key(tmp_path: Path) -> None:
    """A known top-level str key is read straight from its file, with the same answers."""
    store = FileDirDict(base_dir=tmp_path, fsync=False, base_class_for_values=dict)
    store["k"] = {"a": 1}
    assert store["k"] == store[("k",)] == {"a": 1}  # the second read of "k" takes the fast path
    (tmp_path / "k.pkl").write_bytes(pickle.dumps([1]))  # planted: not a dict
    with pytest.raises(TypeError, match="not an instance of dict"):
        store["k"]
    os.unlink(tmp_path / "k.pkl")
    with pytest.raises(KeyError):
        store["k"]

    class Counting(FileDirDict):
        reads = 0

        def read_entry(self, key: NonEmptySafeStrTuple) -> tuple[Any, str]:
            type(self).reads += 1
            return super().read_entry(key)

    counting = Counting(base_dir=tmp_path / "c", fsync=False)
    counting["k"] = 1
    assert counting["k"] == counting["k"] == 1
    assert Counting.reads == 2  # a subclass's read_entry sees every read


# ----------------------------------------------------------------- reads: one read, no fstat
@pytest.mark.parametrize("size", [1, 122_879, 122_880, 122_881, 200_000, (1 << 20) + 3])
def test_values_of_every_size_around_the_first_read_come_back_whole(tmp_path: Path, size: int) -> None:
    store = FileDirDict(tmp_path, serialization_format="txt")
    value = ("0123456789abcdef" * (size // 16 + 1))[:size]
    store["k"] = value
    store[("d", "k")] = value
    assert os.path.getsize(tmp_path / "k.txt") == size
    assert store["k"] == value
    assert store[("d", "k")] == value
    assert store.get_with_etag("k").new_value == value
    assert dict(store.items()) == {("k",): value, ("d", "k"): value}


def test_a_small_get_takes_no_fstat_and_a_get_with_its_etag_takes_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileDirDict(tmp_path)
    store["k"] = {"a": 1}
    store[("d", "k")] = [1, 2]
    calls: list[int] = []
    real_fstat = os.fstat

    def counting_fstat(fd: int) -> os.stat_result:
        calls.append(fd)
        return real_fstat(fd)

    monkeypatch.setattr(os, "fstat", counting_fstat)
    assert store["k"] == {"a": 1}
    assert store[("d", "k")] == [1, 2]
    assert calls == []
    found = store.get_with_etag("k")
    assert found.new_value == {"a": 1}
    assert found.actual_etag == store.etag("k")
    assert len(calls) == 1


def test_an_empty_file_under_a_key_is_a_deserialization_error_not_a_value(tmp_path: Path) -> None:
    store = FileDirDict(tmp_path)
    store["k"] = 1
    (tmp_path / "k.pkl").write_bytes(b"")
    with pytest.raises(DeserializationError, match="'k'"):
        store["k"]


def test_reads_that_alternate_small_and_large_values_return_each_whole(tmp_path: Path) -> None:
    store = FileDirDict(tmp_path, serialization_format="txt")
    sizes = [10, 200_000, 3, 122_880, 122_879, 2_000_000, 0, 7]
    values = {f"k{i}": ("abcdefghij" * (size // 10 + 1))[:size] for i, size in enumerate(sizes)}
    store.update(values)
    for _ in range(2):
        for name, value in [*values.items(), *reversed(values.items())]:
            assert store[name] == value
