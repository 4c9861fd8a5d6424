"""Conditional operations under real races: spawned processes and threads, outcomes counted exactly."""

from __future__ import annotations

import errno
import functools
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from persidict_core import (
    ETAG_IS_THE_SAME,
    IF_ETAG_CHANGED,
    ITEM_NOT_AVAILABLE,
    VALUE_NOT_RETRIEVED,
    FileDirDict,
    LocalDict,
    PersiDict,
)
from persidict_safestr import NonEmptySafeStrTuple

COUNTER = ("shared", "counter")


def increment(value: Any) -> Any:
    return 1 if value is ITEM_NOT_AVAILABLE else value + 1


def open_store(base_dir: str, via_subdict: bool) -> PersiDict:
    root = FileDirDict(base_dir=base_dir, fsync=False)
    # A sub-dict and the root reach the same file through different base_dirs: they must
    # contend on the same lock.
    return root.get_subdict("shared") if via_subdict else root


def transform_worker(base_dir: str, rounds: int, via_subdict: bool, barrier: Any) -> None:
    store = open_store(base_dir, via_subdict)
    key = "counter" if via_subdict else COUNTER
    barrier.wait()
    for _ in range(rounds):
        store.transform_item(key, transformer=increment, n_retries=None)


def plain_other_key_worker(base_dir: str, rounds: int, barrier: Any, queue: Any) -> None:
    store = FileDirDict(base_dir=base_dir, fsync=False)
    barrier.wait()
    for number in range(rounds):
        store[("shared", "other")] = number  # same directory as the counter: same lock
    queue.put(rounds)


def log_transform_worker(base_dir: str, writer: int, rounds: int, barrier: Any) -> None:
    store = FileDirDict(base_dir=base_dir, fsync=False)
    barrier.wait()
    for number in range(rounds):

        def append(log: list[Any], entry: tuple[str, int, int] = ("t", writer, number)) -> list[Any]:
            return [*log, entry]

        store.transform_item("log", transformer=append, n_retries=None)


def log_plain_worker(base_dir: str, rounds: int, barrier: Any) -> None:
    store = FileDirDict(base_dir=base_dir, fsync=False)
    barrier.wait()
    for number in range(rounds):
        # A plain read-modify-write: it may lose the transformers' entries (it is not
        # atomic), but once acknowledged its own entry must survive every conditional write.
        store["log"] = [*store["log"], ("p", number)]


def setdefault_worker(base_dir: str, writer: int, n_keys: int, barrier: Any, queue: Any) -> None:
    store = FileDirDict(base_dir=base_dir, fsync=False)
    barrier.wait()
    queue.put(
        (writer, [store.setdefault(("fresh", f"k{number}"), f"writer {writer}") for number in range(n_keys)])
    )


def cas_worker(base_dir: str, writer: int, rounds: list[tuple[str, str]], barrier: Any, queue: Any) -> None:
    store = FileDirDict(base_dir=base_dir, fsync=False)
    barrier.wait()
    won = []
    for key, etag in rounds:
        result = store.set_item_if(key, value=writer, condition=ETAG_IS_THE_SAME, expected_etag=etag)
        if result.condition_was_satisfied:
            won.append(key)
    queue.put((writer, won))


def recreate_worker(base_dir: str, rounds: int, barrier: Any, queue: Any, fsync: bool = False) -> None:
    """Write ``k`` (same size every time), then delete it, ``rounds`` times; report the ETags."""
    store = FileDirDict(base_dir=base_dir, fsync=fsync)
    etags = []
    barrier.wait()
    for _ in range(rounds):
        etags.append(store.set_item_get_etag("k", "same size"))
        store.discard("k")  # the other process may have deleted it first
    queue.put(etags)


def delete_and_wait_worker(base_dir: str, done: Any, may_exit: Any) -> None:
    FileDirDict(base_dir=base_dir, fsync=False).discard("k")
    done.put("deleted")
    may_exit.wait(timeout=60)


def run_all(processes: list[Any]) -> None:
    for process in processes:
        process.start()
    run_all_joined(processes)


def run_all_joined(processes: list[Any]) -> None:
    """Wait for started processes; each must have exited cleanly."""
    for process in processes:
        process.join(timeout=300)
    assert [process.exitcode for process in processes] == [0] * len(processes)


def test_four_processes_transform_one_key_exactly(tmp_path: Path) -> None:
    """4 x 200 increments (half through a sub-dict), plain writes to a key of the same folder."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(5)
    queue = context.Queue()
    rounds = 200
    workers = [
        context.Process(target=transform_worker, args=(str(tmp_path), rounds, number % 2 == 1, barrier))
        for number in range(4)
    ]
    workers.append(
        context.Process(target=plain_other_key_worker, args=(str(tmp_path), rounds, barrier, queue))
    )
    run_all(workers)
    store = FileDirDict(base_dir=str(tmp_path))
    assert store[COUNTER] == 4 * rounds
    assert queue.get(timeout=5) == rounds
    assert store[("shared", "other")] == rounds - 1
    assert sorted(os.listdir(tmp_path / "shared")) == ["counter.pkl", "other.pkl"]  # no lock or temp files


def test_conditional_writes_never_lose_an_acknowledged_plain_write(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    FileDirDict(base_dir=str(tmp_path))["log"] = []
    barrier = context.Barrier(4)
    rounds = 150
    workers = [
        context.Process(target=log_transform_worker, args=(str(tmp_path), writer, rounds, barrier))
        for writer in range(3)
    ]
    workers.append(context.Process(target=log_plain_worker, args=(str(tmp_path), rounds, barrier)))
    run_all(workers)
    log = FileDirDict(base_dir=str(tmp_path))["log"]
    # Every plain write is in the final log, in order: no conditional write replaced a value
    # it had not read.
    assert [entry for entry in log if entry[0] == "p"] == [("p", number) for number in range(rounds)]
    # Transformer entries may only be lost to the plain writer's own non-atomic updates; the
    # ones kept are in each writer's order.
    for writer in range(3):
        mine = [entry[2] for entry in log if entry[0] == "t" and entry[1] == writer]
        assert mine == sorted(mine)


def test_setdefault_from_six_processes_gives_every_caller_the_stored_value(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(6)
    queue = context.Queue()
    n_keys = 20
    workers = [
        context.Process(target=setdefault_worker, args=(str(tmp_path), writer, n_keys, barrier, queue))
        for writer in range(6)
    ]
    run_all(workers)
    answers = dict(queue.get(timeout=5) for _ in workers)
    store = FileDirDict(base_dir=str(tmp_path))
    for number in range(n_keys):
        stored = store[("fresh", f"k{number}")]
        assert {answers[writer][number] for writer in range(6)} == {stored}


def test_of_n_compare_and_swap_racers_exactly_one_wins(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    store = FileDirDict(base_dir=str(tmp_path), fsync=False)
    rounds = []
    for number in range(40):
        etag = store.set_item_get_etag(f"r{number}", "start")
        assert etag is not None
        rounds.append((f"r{number}", etag))
    racers = 6
    barrier = context.Barrier(racers)
    queue = context.Queue()
    run_all(
        [
            context.Process(target=cas_worker, args=(str(tmp_path), writer, rounds, barrier, queue))
            for writer in range(racers)
        ]
    )
    wins = dict(queue.get(timeout=5) for _ in range(racers))
    for key, _ in rounds:
        winners = [writer for writer, won in wins.items() if key in won]
        assert len(winners) == 1, key
        assert store[key] == winners[0]


def test_eight_threads_on_local_dict_count_exactly() -> None:
    store = LocalDict()
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(500):
            store.transform_item("n", transformer=increment, n_retries=None)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store["n"] == 8 * 500


def test_threads_of_one_process_exclude_each_other_on_files(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, fsync=False)
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        for _ in range(100):
            store.transform_item("n", transformer=increment, n_retries=None)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store["n"] == 600


def test_equal_size_rewrites_with_reused_inodes_never_repeat_an_etag(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, fsync=False)
    etags = []
    for number in range(2000):
        if number % 2:
            del store["k"]  # frees the inode: the next temporary file tends to get it back
        etags.append(store.set_item_get_etag("k", "same size"))
    assert len(set(etags)) == len(etags)
    inodes = [str(etag).rsplit(":", 1)[1] for etag in etags]
    sizes = {str(etag).split(":")[1] for etag in etags}
    assert len(sizes) == 1
    # The case that stat alone cannot tell apart did happen: inodes were reused.
    assert len(set(inodes)) < len(inodes)


@pytest.mark.parametrize("fsync", [False, True])
def test_a_recreated_key_is_stamped_with_the_clock_so_it_cannot_repeat_an_etag(
    tmp_path: Path, fsync: bool
) -> None:
    # A deleted key's mtime was not past the clock when it was set, so a new file stamped with
    # the clock's present time is past it even if it gets the same inode and size. The file's
    # own mtime (the kernel's coarse clock) can lag behind the deletion; it is kept only when
    # it is past the folder's latest deletion. With fsync the record is read before the sync
    # and the lock (deletes write it before they unlink).
    store = FileDirDict(base_dir=tmp_path, fsync=fsync)
    for _ in range(300 if not fsync else 100):
        store["k"] = "v"
        old = (tmp_path / "k.pkl").stat()
        del store["k"]
        etag = store.set_item_get_etag("k", "v")
        new = (tmp_path / "k.pkl").stat()
        assert new.st_mtime_ns > old.st_mtime_ns
        assert etag == store.etag("k")


@pytest.mark.parametrize("fsync", [False, True])
def test_processes_deleting_and_recreating_one_key_never_repeat_an_etag(tmp_path: Path, fsync: bool) -> None:
    # One process's delete frees an inode that the other's next file of the same size may get
    # back within one tick of the kernel's clock; the folder's deletion record, kept by both,
    # makes that new file's mtime (and so its ETag) differ from every deleted version's. (A
    # kernel with fine-grained file timestamps gives that on its own; the test below shows
    # that the record is honoured across processes.) With fsync the writers read the record
    # before the lock, which deletes written before they unlink make safe.
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    queue = context.Queue()
    rounds = 150 if fsync else 400
    workers = [
        context.Process(target=recreate_worker, args=(str(tmp_path), rounds, barrier, queue, fsync))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    etags = [etag for _ in workers for etag in queue.get(timeout=300)]
    run_all_joined(workers)
    assert len(etags) == 2 * rounds
    assert len(set(etags)) == len(etags)
    inodes = [str(etag).rsplit(":", 1)[1] for etag in etags]
    assert len(set(inodes)) < len(inodes)  # inodes were reused: the case a stat alone cannot tell


def _count_stamps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    stamps: list[int] = []
    utime = os.utime

    def counting_utime(*args: Any, **kwargs: Any) -> None:
        stamps.append(1)
        utime(*args, **kwargs)

    monkeypatch.setattr(os, "utime", counting_utime)
    return stamps


@pytest.fixture
def xattr_folder(tmp_path: Path) -> Path:
    """A folder whose file system keeps user extended attributes (where deletion records live)."""
    if not hasattr(os, "getxattr"):
        pytest.skip("deletion records need extended attributes")
    try:
        os.setxattr(tmp_path, "user.probe", b"1")
    except OSError:
        pytest.skip("this file system keeps no user extended attributes (every new key is stamped)")
    return tmp_path


@pytest.mark.parametrize("fsync", [False, True])
def test_new_keys_in_a_folder_without_recent_deletions_need_no_stamp(
    xattr_folder: Path, monkeypatch: pytest.MonkeyPatch, fsync: bool
) -> None:
    tmp_path = xattr_folder
    store = FileDirDict(base_dir=tmp_path, fsync=fsync)
    store["first"] = 1  # starts the folder's deletion record (and is stamped)
    if fsync:
        # The first write read the record before its sync, without the lock, and found none:
        # the next one (under the lock) starts it.
        store["second"] = 2
    assert os.getxattr(tmp_path, "user.persidict.deleted")
    time.sleep(0.05)  # past the record by more than one tick of the file system's clock
    stamps = _count_stamps(monkeypatch)
    for number in range(50):
        store[f"k{number}"] = number
    assert len(stamps) == 0  # their own mtimes are past every deletion: no stamp needed
    del store["k0"]
    store["k0"] = 0  # re-created at once: stamped
    assert len(stamps) == 1
    assert len(store) == 51 + fsync


def test_a_delete_writes_the_deletion_record_before_it_unlinks(
    xattr_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A writer with fsync reads the record without the lock, after its new file exists: every
    # deletion that freed an inode that file may have got must be in the record by then.
    store = FileDirDict(base_dir=xattr_folder, fsync=False)
    for number in range(6):
        store[f"k{number}"] = number
    time.sleep(0.1)  # past the record that the first write started
    seen: list[tuple[str, int]] = []
    unlink = os.unlink
    started = 0

    def checking_unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        if str(path).endswith(".pkl") and not os.path.basename(str(path)).startswith(".#"):
            seen.append((str(path), int(os.getxattr(xattr_folder, "user.persidict.deleted")) - started))
        unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", checking_unlink)
    etag = store.etag("k2")
    assert etag is not None
    deletes: list[Callable[[], object]] = [
        functools.partial(store.__delitem__, "k0"),
        functools.partial(store.discard, "k1"),
        functools.partial(store.discard_if, "k2", condition=ETAG_IS_THE_SAME, expected_etag=etag),
        functools.partial(store.pop, "k3"),
        store.clear,
    ]
    for number, delete in enumerate(deletes):
        started = time.time_ns()
        delete()
        assert seen and all(ahead >= 0 for _, ahead in seen), (number, seen)
        seen.clear()
    assert len(store) == 0


def test_a_burst_of_deletes_writes_the_deletion_record_once_and_it_stays_ahead_of_them(
    xattr_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = xattr_folder
    store = FileDirDict(base_dir=tmp_path, fsync=False)
    for number in range(40):
        store[f"k{number}"] = number
    other = FileDirDict(base_dir=tmp_path, fsync=False)  # the same process's kept directory
    writes: list[bytes] = []
    setxattr = os.setxattr

    def counting_setxattr(path: Any, attribute: str, value: bytes, *args: Any) -> None:
        if attribute == "user.persidict.deleted":
            writes.append(value)
        setxattr(path, attribute, value, *args)

    time.sleep(0.1)  # past the record that the first write started
    monkeypatch.setattr(os, "setxattr", counting_setxattr)
    started = time.time_ns()
    for number in range(40):
        before = time.time_ns()
        del (store if number % 2 else other)[f"k{number}"]
        # The record is never behind a delete that has happened.
        assert int(os.getxattr(tmp_path, "user.persidict.deleted")) >= before
    elapsed = time.time_ns() - started
    # One write per 50 ms at most (plus the first): not one per delete.
    assert 1 <= len(writes) <= 1 + elapsed // 50_000_000
    assert int(writes[0]) > started
    assert len(store) == 0


@pytest.mark.parametrize("fsync", [False, True])
def test_a_delete_in_another_process_makes_the_next_new_key_here_stamped(
    xattr_folder: Path, monkeypatch: pytest.MonkeyPatch, fsync: bool
) -> None:
    # The deletion record is read by every writer (under the lock, or before the sync with
    # fsync), so a delete by another process counts as one by this process would.
    store = FileDirDict(base_dir=xattr_folder, fsync=fsync)
    store["k"] = 1
    store["other"] = 1
    context = multiprocessing.get_context("spawn")
    done, may_exit = context.Queue(), context.Event()
    child = context.Process(target=delete_and_wait_worker, args=(str(xattr_folder), done, may_exit))
    child.start()
    try:
        assert done.get(timeout=120) == "deleted"
        stamps = _count_stamps(monkeypatch)
        store["k"] = 2  # re-created well within the 50 ms the record is set ahead
        assert len(stamps) == 1
    finally:
        may_exit.set()
        run_all_joined([child])
    assert store["k"] == 2


@pytest.mark.skipif(not hasattr(os, "getxattr"), reason="deletion records need extended attributes")
def test_without_deletion_records_every_new_key_is_stamped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unsupported(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOTSUP, "Operation not supported")

    monkeypatch.setattr(os, "getxattr", unsupported)
    monkeypatch.setattr(os, "setxattr", unsupported)
    store = FileDirDict(base_dir=tmp_path, fsync=False)
    store["first"] = 1
    time.sleep(0.05)
    stamps = _count_stamps(monkeypatch)
    for number in range(20):
        before = time.time_ns()
        store[f"k{number}"] = number
        assert (tmp_path / f"k{number}.pkl").stat().st_mtime_ns >= before
    assert len(stamps) == 20


def _count_calls(monkeypatch: pytest.MonkeyPatch, *names: str) -> dict[str, list[str]]:
    """Record the first argument of every call of the ``os`` functions ``names``."""
    calls: dict[str, list[str]] = {name: [] for name in names}
    for name in names:
        real = getattr(os, name)

        def counting(*args: Any, __real: Any = real, __name: str = name, **kwargs: Any) -> Any:
            calls[__name].append(str(args[0]))
            return __real(*args, **kwargs)

        monkeypatch.setattr(os, name, counting)
    return calls


def _key_names(calls: list[str]) -> list[str]:
    return [name for name in calls if not os.path.basename(name).startswith(".#")]


@pytest.mark.parametrize("fsync", [False, True])
def test_new_keys_are_linked_in_without_a_lookup_and_overwrites_look_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsync: bool
) -> None:
    store = FileDirDict(base_dir=tmp_path, fsync=fsync)
    store["first"] = 0
    calls = _count_calls(monkeypatch, "lstat", "link", "replace")
    for number in range(20):
        store[f"k{number}"] = number
    # Each new key: one link (its own check), no lookup of the key's name, no rename.
    assert len(calls["link"]) == 20
    assert _key_names(calls["lstat"]) == []
    assert calls["replace"] == []
    for name in calls.values():
        name.clear()
    for number in range(20):
        store["k0"] = -number
    # The first overwrite finds the name taken; from then on the store looks first.
    assert len(calls["link"]) == 1
    assert len(_key_names(calls["lstat"])) == 20
    assert len(calls["replace"]) == 20
    for name in calls.values():
        name.clear()
    for number in range(20, 30):
        store[f"k{number}"] = number
    # A lookup that finds nothing turns the store back to linking new keys.
    assert len(_key_names(calls["lstat"])) == 1
    assert len(calls["link"]) == 9
    assert dict(store.items()) == {("first",): 0, ("k0",): -19, **{(f"k{n}",): n for n in range(1, 30)}}
    files = list(tmp_path.iterdir())
    assert sorted(path.name for path in files) == sorted(f"{key[0]}.pkl" for key in store)  # no temp left
    assert {path.stat().st_nlink for path in files} == {1}


def test_overwrites_after_new_keys_keep_each_keys_mtime_increasing(tmp_path: Path) -> None:
    # Every rewrite of "same" follows a new key, so it is tried as a link first, finds the
    # name taken and takes the path of overwrites: its ETag must still be new each time.
    store = FileDirDict(base_dir=tmp_path, fsync=False)
    etags, mtimes = [], []
    for number in range(500):
        store[f"new{number}"] = number
        etags.append(store.set_item_get_etag("same", "equal size"))
        mtimes.append((tmp_path / "same.pkl").stat().st_mtime_ns)
        assert etags[-1] == store.etag("same")
    assert len(set(etags)) == len(etags)
    assert mtimes == sorted(set(mtimes))
    assert store["same"] == "equal size" and len(store) == 501


@pytest.mark.parametrize("locking", [True, False])
def test_without_hard_links_writes_and_creations_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, locking: bool
) -> None:
    # A file system without hard links (FAT, some network shares) answers link with EPERM.
    attempts: list[str] = []

    def no_links(*args: Any, **kwargs: Any) -> None:
        attempts.append(str(args[0]))
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    store = FileDirDict(base_dir=tmp_path, fsync=False, locking=locking)
    for number in range(10):
        store[f"k{number}"] = number
    assert store.setdefault("k1", "other") == 1
    assert store.setdefault("fresh", "made") == "made"
    assert (
        store.set_item_if(
            "fresh", value="again", condition=ETAG_IS_THE_SAME, expected_etag=ITEM_NOT_AVAILABLE
        ).condition_was_satisfied
        is False
    )
    # The store's own primitive, without the early check of the API above, refuses too.
    assert store.write_entry_if_etag(NonEmptySafeStrTuple("fresh"), "again", ITEM_NOT_AVAILABLE) is None
    assert store["fresh"] == "made"
    assert len(attempts) == 1  # the store stopped trying after the first refusal
    assert dict(store.items()) == {**{(f"k{n}",): n for n in range(10)}, ("fresh",): "made"}
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(f"{key[0]}.pkl" for key in store)


@pytest.mark.parametrize("fsync", [False, True])
def test_a_rewrite_steps_past_an_old_mtime_that_is_ahead(tmp_path: Path, fsync: bool) -> None:
    # The file's own mtime is usually past the old one; when it is not (here: the old one is
    # set 10 s ahead), the new file is stepped past it, and the returned ETag is the stored one.
    store = FileDirDict(base_dir=tmp_path, fsync=fsync)
    store["k"] = "old"
    path = tmp_path / "k.pkl"
    for _ in range(3):
        ahead = path.stat().st_mtime_ns + 10_000_000_000
        os.utime(path, ns=(ahead, ahead))
        etag = store.set_item_get_etag("k", "old")
        st = path.stat()
        assert st.st_mtime_ns > ahead
        assert etag == store.etag("k") == f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}"


def test_get_item_if_with_a_matching_etag_is_one_stat_and_no_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileDirDict(base_dir=tmp_path)
    etag: Any = store.set_item_get_etag(("a", "b"), list(range(1000)))
    store.get_item_if(("a", "b"), condition=ETAG_IS_THE_SAME, expected_etag=etag)  # warm the path caches
    calls: dict[str, int] = {}
    for name in ("open", "read", "lstat", "stat", "fstat", "scandir"):
        real = getattr(os, name)

        def counting(*args: Any, _name: str = name, _real: Any = real, **kwargs: Any) -> Any:
            calls[_name] = calls.get(_name, 0) + 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(os, name, counting)
    result = store.get_item_if(
        ("a", "b"), condition=ETAG_IS_THE_SAME, expected_etag=etag, retrieve_value=IF_ETAG_CHANGED
    )
    monkeypatch.undo()
    assert result.condition_was_satisfied and result.new_value is VALUE_NOT_RETRIEVED
    assert calls == {"lstat": 1}


def test_locking_false_is_best_effort_and_says_so(tmp_path: Path) -> None:
    locked = FileDirDict(base_dir=tmp_path / "a")
    unlocked = FileDirDict(base_dir=tmp_path / "b", locking=False)
    assert locked.atomic_conditional_writes and locked.strong_etags
    assert not unlocked.atomic_conditional_writes and not unlocked.strong_etags
    assert FileDirDict.atomic_conditional_writes  # the class flag describes the default
    assert unlocked.get_params()["locking"] is False
    assert FileDirDict.from_config(unlocked.config).atomic_conditional_writes is False
    first = unlocked.set_item_if("k", value=1, condition=ETAG_IS_THE_SAME, expected_etag=ITEM_NOT_AVAILABLE)
    again = unlocked.set_item_if("k", value=2, condition=ETAG_IS_THE_SAME, expected_etag=ITEM_NOT_AVAILABLE)
    assert first.condition_was_satisfied and not again.condition_was_satisfied
    assert unlocked.transform_item("k", transformer=increment).new_value == 2


def test_lock_files_where_directories_cannot_be_locked(tmp_path: Path) -> None:
    """The fallback (Windows, NFS): one lock file per folder, never a key, never listed."""
    store = FileDirDict(base_dir=tmp_path, fsync=False)
    store._lock_files = True
    store[("d", "k")] = 1
    store.transform_item(("d", "k"), transformer=increment)
    assert (
        store.discard_if(("d", "gone"), condition=ETAG_IS_THE_SAME, expected_etag="x").condition_was_satisfied
        is False
    )
    assert (tmp_path / "d" / ".#dir.lock").exists()
    assert list(store.keys()) == [("d", "k")] and len(store) == 1
    assert store[("d", "k")] == 2
    assert store.remove_stale_temp_files(min_age_seconds=0) == 0  # not a temporary file either
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        for _ in range(50):
            store.transform_item(("d", "k"), transformer=increment, n_retries=None)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store[("d", "k")] == 202


def forked_transform_worker(store: FileDirDict, rounds: int, barrier: Any) -> None:
    barrier.wait()
    for _ in range(rounds):
        store.transform_item(COUNTER, transformer=increment, n_retries=None)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX only")
def test_forked_children_do_not_share_their_parents_directory_locks(tmp_path: Path) -> None:
    """A forked child inherits the directories its parent keeps open; it must lock its own.

    A flock belongs to the open descriptor, which a fork shares: a child locking its parent's
    descriptor would not exclude the parent, and updates would be lost.
    """
    store = FileDirDict(base_dir=str(tmp_path), fsync=False)
    store[COUNTER] = 0  # the parent now keeps the counter's directory open
    store[("shared", "warm")] = 1
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(4)
    children = [context.Process(target=forked_transform_worker, args=(store, 400, barrier)) for _ in range(3)]
    for child in children:
        child.start()
    forked_transform_worker(store, 400, barrier)  # the parent races its children with the same store
    for child in children:
        child.join(timeout=240)
        assert child.exitcode == 0
    assert FileDirDict(base_dir=str(tmp_path), fsync=False)[COUNTER] == 1600


@pytest.mark.parametrize("locking", [True, False])
def test_a_conditional_write_whose_race_is_already_lost_writes_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, locking: bool
) -> None:
    # A stale ETag is refused after one lstat: no file is opened, no lock taken.
    store = FileDirDict(base_dir=tmp_path, fsync=False, locking=locking)
    stale = store.set_item_get_etag("k", 1)
    assert stale is not None
    store["k"] = 2
    calls = _count_calls(monkeypatch, "open", "lstat")
    assert store.write_entry_if_etag(NonEmptySafeStrTuple("k"), 3, stale) is None
    assert calls["open"] == []
    assert len(calls["lstat"]) == 1
    result = store.transform_item("k", transformer=lambda value: value + 10)
    assert result.new_value == 12 and store["k"] == 12
    assert sorted(path.name for path in tmp_path.iterdir()) == ["k.pkl"]
