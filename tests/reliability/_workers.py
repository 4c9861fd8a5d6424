"""Self-checking values and the worker functions run in child processes (spawn) or threads.

A value written by the load and crash scenarios carries its key, its writer, a sequence number
and a SHA-256 digest of all of them and its body, so any reader can tell a complete value some
writer wrote (digest matches, key matches) from a partial, garbled or misplaced one.

Workers never let an exception escape: anything unexpected is counted as a violation and the
worker still reports, so the parent always learns what happened.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from typing import Any

from persidict_core import FileDirDict, MutationPolicyError, PersiDict

__all__ = [
    "WORKLOADS",
    "Stats",
    "check_value",
    "crash_writer",
    "key_name",
    "load_worker",
    "make_value",
    "new_stats",
    "run_workload",
    "violation",
]

Stats = dict[str, Any]
"""What a worker reports: ``ops``, ``violations``, ``errors`` (first messages), ``last``, ``live``."""

_MAX_ERRORS = 5


def key_name(key: tuple[str, ...]) -> str:
    return "/".join(key)


def _digest(name: str, writer: int, seq: int, body: bytes) -> str:
    return hashlib.sha256(f"{name}|{writer}|{seq}|".encode() + body).hexdigest()


def make_value(name: str, writer: int, seq: int, size: int) -> dict[str, Any]:
    """Return a self-checking value of about ``size`` bytes for the key called ``name``."""
    stamp = f"{name}|{writer}|{seq}|".encode()
    body = (stamp * (size // len(stamp) + 1))[:size]
    return {
        "key": name,
        "writer": writer,
        "seq": seq,
        "body": body,
        "digest": _digest(name, writer, seq, body),
    }


def check_value(value: Any, name: str) -> str | None:
    """Return None if ``value`` is a complete value written for key ``name``, else the problem."""
    try:
        if value["key"] != name:
            return f"key {name!r} holds the value of {value['key']!r}"
        if _digest(name, value["writer"], value["seq"], value["body"]) != value["digest"]:
            return f"key {name!r}: digest mismatch (partial or garbled value)"
    except (TypeError, KeyError) as exc:
        return f"key {name!r}: not a value of ours ({exc!r})"
    return None


def new_stats(index: int) -> Stats:
    return {"index": index, "ops": 0, "violations": 0, "errors": [], "last": {}, "live": {}}


def violation(stats: Stats, message: str) -> None:
    stats["violations"] += 1
    if len(stats["errors"]) < _MAX_ERRORS:
        stats["errors"].append(f"worker {stats['index']}: {message}")


def _checked_read(store: PersiDict, key: tuple[str, ...], stats: Stats) -> dict[str, Any] | None:
    """Read ``key``; a KeyError is a violation (callers only read keys that always exist)."""
    name = key_name(key)
    try:
        value = store[key]
    except KeyError:
        violation(stats, f"key {name!r} vanished")
        return None
    stats["ops"] += 1
    problem = check_value(value, name)
    if problem:
        violation(stats, problem)
        return None
    return value  # type: ignore[no-any-return]


# ---------------------------------------------------------------- workloads (store, deadline, ...)
Workload = Callable[[PersiDict, int, int, float, int, random.Random, Stats], None]


def _go_on(deadline: float, max_ops: int, stats: Stats) -> bool:
    return time.monotonic() < deadline and stats["ops"] < max_ops


def disjoint(
    store: PersiDict, index: int, n: int, deadline: float, max_ops: int, rng: random.Random, stats: Stats
) -> None:
    """Each worker writes its own keys and reads each back at once (read-your-writes)."""
    seq = 0
    while _go_on(deadline, max_ops, stats):
        key = ("disjoint", f"p{index}", f"k{seq % 40}")
        name = key_name(key)
        value = make_value(name, index, seq, rng.choice((200, 4000, 30000)))
        store[key] = value
        stats["last"][name] = seq
        got = _checked_read(store, key, stats)
        if got is not None and got["seq"] != seq:
            violation(stats, f"{name!r}: read back seq {got['seq']} right after writing {seq}")
        stats["ops"] += 1
        if seq % 25 == 0:
            count = len(store)
            stats["ops"] += 1
            if count > n * 40:
                violation(stats, f"len() is {count}, more than the {n * 40} keys ever written")
        seq += 1


def same_keys(
    store: PersiDict, index: int, n: int, deadline: float, max_ops: int, rng: random.Random, stats: Stats
) -> None:
    """Every worker writes the same 8 keys (last writer wins) and reads them back."""
    seq = 0
    while _go_on(deadline, max_ops, stats):
        key = ("same", f"k{rng.randrange(8)}")
        name = key_name(key)
        store[key] = make_value(name, index, seq, rng.choice((100, 5000, 60000)))
        stats["last"][name] = seq
        stats["ops"] += 1
        _checked_read(store, ("same", f"k{rng.randrange(8)}"), stats)
        seq += 1


def readers(
    store: PersiDict, index: int, n: int, deadline: float, max_ops: int, rng: random.Random, stats: Stats
) -> None:
    """Even workers rewrite 4 hot keys with values up to 200 kB; odd workers read them."""
    seq = 0
    hot = [("hot", f"k{i}") for i in range(4)]
    etags: dict[str, Any] = {}
    while _go_on(deadline, max_ops, stats):
        if index % 2 == 0:
            key = rng.choice(hot)
            name = key_name(key)
            store[key] = make_value(name, index, seq, rng.choice((1000, 50000, 200000)))
            stats["last"][name] = seq
            stats["ops"] += 1
        else:
            key = rng.choice(hot)
            name = key_name(key)
            if seq % 3 == 0:
                result = store.get_item_if_etag_changed(key, etags.get(name))
                stats["ops"] += 1
                if isinstance(result, tuple):
                    value, etags[name] = result
                    problem = check_value(value, name)
                    if problem:
                        violation(stats, problem)
            else:
                _checked_read(store, key, stats)
            if seq % 20 == 0:
                for item_key, value in store.items():
                    problem = check_value(value, key_name(item_key))
                    if problem:
                        violation(stats, f"items(): {problem}")
                stats["ops"] += 1
        seq += 1


def deleters(
    store: PersiDict, index: int, n: int, deadline: float, max_ops: int, rng: random.Random, stats: Stats
) -> None:
    """Even workers write and delete their own keys; odd workers iterate, list and count."""
    seq = 0
    live: dict[str, int] = stats["live"]
    while _go_on(deadline, max_ops, stats):
        if index % 2 == 0:
            key = ("churn", f"p{index}", f"k{rng.randrange(16)}")
            name = key_name(key)
            action = rng.random()
            if action < 0.55:
                store[key] = make_value(name, index, seq, rng.choice((100, 3000)))
                live[name] = seq
            elif action < 0.8:
                try:
                    del store[key]
                    if name not in live:
                        violation(stats, f"deleted {name!r}, which this worker had deleted already")
                except KeyError:
                    if name in live:
                        violation(stats, f"del {name!r} raised KeyError though this worker had written it")
                live.pop(name, None)
            else:
                deleted = store.discard(key)
                if deleted != (name in live):
                    violation(stats, f"discard({name!r}) returned {deleted}")
                live.pop(name, None)
            stats["ops"] += 1
        else:
            phase = seq % 4
            if phase == 0:
                keys = list(store)
                bad = [k for k in keys if len(k) != 3 or k[0] != "churn"]
                if bad:
                    violation(stats, f"listing returned foreign keys {bad[:3]}")
            elif phase == 1:
                len(store)
            elif phase == 2:
                for item_key, value in store.items():
                    problem = check_value(value, key_name(item_key))
                    if problem:
                        violation(stats, f"items(): {problem}")
            else:
                list(store.keys_and_timestamps())
                store.newest_keys(3)
            stats["ops"] += 1
        seq += 1


WORKLOADS: dict[str, Workload] = {
    "disjoint": disjoint,
    "same_keys": same_keys,
    "readers": readers,
    "deleters": deleters,
}


def run_workload(
    workload: str, store: PersiDict, index: int, n: int, duration: float, max_ops: int, stats: Stats
) -> Stats:
    """Run one workload on ``store`` until ``duration`` seconds or ``max_ops`` operations pass."""
    try:
        WORKLOADS[workload](
            store, index, n, time.monotonic() + duration, max_ops, random.Random(index), stats
        )
    except BaseException as exc:  # noqa: BLE001 - every escape is a violation, reported to the parent
        violation(stats, f"unexpected {type(exc).__name__}: {exc}")
    return stats


def load_worker(
    workload: str,
    base_dir: str,
    index: int,
    n: int,
    duration: float,
    max_ops: int,
    ready: Any,
    start: Any,
    results: Any,
) -> None:
    """Child process: open the store, wait for the common start, run, report `Stats`."""
    stats = new_stats(index)
    try:
        store = FileDirDict(base_dir=base_dir, fsync=False)
    except BaseException as exc:  # noqa: BLE001
        violation(stats, f"cannot open the store: {exc!r}")
        results.put(stats)
        return
    ready.put(index)
    if not start.wait(120):
        violation(stats, "the start signal never came")
    else:
        run_workload(workload, store, index, n, duration, max_ops, stats)
    results.put(stats)


CRASH_VALUE_SIZE = 1_000_000
CRASH_KEYS = 6


def crash_writer(base_dir: str, seed: int, started: Any) -> None:
    """Child process: write ~1 MB values (and new append-only keys) until killed (or 30 s pass)."""
    store = FileDirDict(base_dir=base_dir)
    once = FileDirDict(base_dir=base_dir, serialization_format="pkl", append_only=True).get_subdict("once")
    rng = random.Random(seed)
    deadline = time.monotonic() + 30
    started.set()
    seq = 0
    while time.monotonic() < deadline:
        if seq % 3 == 2:
            name = f"once/s{seed}-{seq}"
            try:
                once[(f"s{seed}-{seq}",)] = make_value(name, seed, seq, 100_000)
            except MutationPolicyError:
                pass
        else:
            key = ("crash", f"k{rng.randrange(CRASH_KEYS)}")
            store[key] = make_value(key_name(key), seed, seq, CRASH_VALUE_SIZE + rng.randrange(1000))
        seq += 1
