"""Scenario 1 (files): 2, 4 and 8 processes hammer one FileDirDict for a bounded time.

Workloads (see ``_workers.py``): disjoint keys with read-your-writes, the same keys (last
writer wins), readers during writes, deleters during iteration. Every read is checked to be a
complete value some writer wrote; afterwards the store's content is checked against what the
workers report they wrote last.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from persidict_core import FileDirDict, serialize
from tests.reliability import _report
from tests.reliability._checks import final_value_problems, prefill, tally
from tests.reliability._workers import Stats, check_value, key_name, load_worker, new_stats, run_workload

SECONDS = float(os.environ.get("PERSIDICT_RELIABILITY_SECONDS", "2.5"))
MAX_OPS = 200_000  # count bound per worker, besides the time bound


def run_processes(workload: str, base_dir: Path, n: int) -> list[Stats]:
    context = multiprocessing.get_context("spawn")
    ready, results, start = context.Queue(), context.Queue(), context.Event()
    workers = [
        context.Process(
            target=load_worker, args=(workload, str(base_dir), i, n, SECONDS, MAX_OPS, ready, start, results)
        )
        for i in range(n)
    ]
    for worker in workers:
        worker.start()
    _report.add("processes", n)
    try:
        for _ in workers:
            ready.get(timeout=120)  # every worker has imported persidict and opened the store
        start.set()
        stats: list[Stats] = [results.get(timeout=SECONDS + 120) for _ in workers]
    finally:
        start.set()
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.kill()
    assert [worker.exitcode for worker in workers] == [0] * n
    return sorted(stats, key=lambda s: int(s["index"]))


@pytest.mark.parametrize("n", [2, 4, 8])
def test_disjoint_keys(tmp_path: Path, n: int) -> None:
    stats = run_processes("disjoint", tmp_path, n)
    store = FileDirDict(base_dir=str(tmp_path))
    problems = []
    expected = {name for s in stats for name in s["last"]}
    for s in stats:
        for name, seq in s["last"].items():
            value = store[tuple(name.split("/"))]
            if check_value(value, name) or value["seq"] != seq or value["writer"] != s["index"]:
                problems.append(f"{name!r} lost its last write (seq {seq})")
    if {key_name(k) for k in store} != expected or len(store) != len(expected):
        problems.append(f"keys after the run differ: {len(store)} listed, {len(expected)} written")
    tally(stats, problems)
    store[("after", "run")] = 1
    assert store[("after", "run")] == 1


@pytest.mark.parametrize("n", [2, 4, 8])
def test_same_keys_last_writer_wins(tmp_path: Path, n: int) -> None:
    store = FileDirDict(base_dir=str(tmp_path))
    keys = [("same", f"k{i}") for i in range(8)]
    prefill(store, keys)
    stats = run_processes("same_keys", tmp_path, n)
    problems = [p for key in keys for p in final_value_problems(store, key, stats)]
    if len(store) != len(keys):
        problems.append(f"{len(store)} keys after the run, expected {len(keys)}")
    tally(stats, problems)
    assert not list(tmp_path.rglob("*.tmp")), "temporary files left by writers that finished normally"


@pytest.mark.parametrize("n", [2, 4, 8])
def test_readers_during_writes(tmp_path: Path, n: int) -> None:
    store = FileDirDict(base_dir=str(tmp_path))
    keys = [("hot", f"k{i}") for i in range(4)]
    prefill(store, keys)
    stats = run_processes("readers", tmp_path, n)
    problems = [p for key in keys for p in final_value_problems(store, key, stats)]
    tally(stats, problems)
    readers = [s for s in stats if int(s["index"]) % 2 == 1]
    assert all(s["ops"] > 10 for s in readers), "readers did (almost) nothing"


@pytest.mark.parametrize("n", [2, 4, 8])
def test_deleters_during_iteration(tmp_path: Path, n: int) -> None:
    stats = run_processes("deleters", tmp_path, n)
    store = FileDirDict(base_dir=str(tmp_path))
    live: dict[str, Any] = {name: (int(s["index"]), seq) for s in stats for name, seq in s["live"].items()}
    problems = []
    listed = {key_name(k) for k in store}
    if listed != set(live):
        problems.append(f"after the run: extra keys {listed - set(live)}, lost keys {set(live) - listed}")
    for name, (writer, seq) in live.items():
        if name in listed:
            value = store[tuple(name.split("/"))]
            if check_value(value, name) or (value["writer"], value["seq"]) != (writer, seq):
                problems.append(f"{name!r} does not hold its last write")
    tally(stats, problems)
    store.clear()
    assert len(store) == 0


class TornWrites(FileDirDict):
    """A deliberately broken store that writes values in place, in pieces (no temp file)."""

    def write_entry(self, key: Any, value: Any, *, only_if_absent: bool = False) -> str:
        directory, path = self._file_path(key)
        data = serialize(value, "pkl", context=str(key))
        os.makedirs(directory, exist_ok=True)
        with open(path, "wb") as file:
            for start in range(0, len(data), 4096):
                file.write(data[start : start + 4096])
                file.flush()
        return ""


def test_the_checks_catch_a_store_that_tears_values(tmp_path: Path) -> None:
    """Control: the readers' checks do see partial values when writes are not atomic."""
    store = TornWrites(base_dir=str(tmp_path))
    prefill(store, [("hot", f"k{i}") for i in range(4)])
    stats = [new_stats(0), new_stats(1)]
    threads = [
        threading.Thread(target=run_workload, args=("readers", store, i, 2, 1.0, MAX_OPS, stats[i]))
        for i in (0, 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert stats[1]["violations"] > 0, "the checks missed torn values"
