"""Single-flight: concurrent callers of one missing result run the body once; leases expire.

Real spawned processes and threads race over a FileDirDict and a LocalDict; every body run
is logged to a file opened with O_APPEND, so the counts below are exact.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from persidict_cache import memoize
from persidict_core import FileDirDict, LocalDict, PersiDict
from tests.cache._memo_workers import call_five_at_once, compute_forever, memoized_slow_square, runs

SPAWN = multiprocessing.get_context("spawn")


def test_four_processes_times_five_calls_compute_each_result_once(tmp_path: Path) -> None:
    base_dir, log = tmp_path / "store", tmp_path / "runs.log"
    barrier = SPAWN.Barrier(4)
    answers = SPAWN.Queue()
    processes = [
        SPAWN.Process(target=call_five_at_once, args=(str(base_dir), str(log), barrier, answers))
        for _ in range(4)
    ]
    for process in processes:
        process.start()
    reports = [answers.get(timeout=180) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert sorted(runs(log)) == ["0", "1", "2", "3", "4"]  # exactly 5 runs, one per argument
    for _, results, errors, stats in reports:
        assert errors == []
        assert results == {x: {"x": x, "square": x * x} for x in range(5)}
        assert stats.hits + stats.misses == 5
    assert sum(stats.computations for *_, stats in reports) == 5
    assert sum(stats.waits for *_, stats in reports) >= 1  # the calls did overlap
    stored = FileDirDict(base_dir=base_dir)
    assert len(stored) == 5  # results only: every lease was released


def _race(call: Any, n_threads: int, *args: Any) -> list[Any]:
    """Run ``call(*args)`` from ``n_threads`` threads at once; results (or exceptions) in order."""
    barrier = threading.Barrier(n_threads)
    outcomes: list[Any] = [None] * n_threads

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = call(*args)
        except BaseException as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.mark.parametrize("kind", ["local", "files"])
def test_threads_compute_each_result_once(tmp_path: Path, kind: str) -> None:
    store: PersiDict = LocalDict() if kind == "local" else FileDirDict(base_dir=tmp_path / "s")
    log = str(tmp_path / "runs.log")
    square = memoized_slow_square(store, lease_seconds=5.0)
    outcomes: list[Any] = []
    for x in range(3):
        outcomes += _race(square, 6, x, log)
    assert Counter(runs(log)) == {"0": 1, "1": 1, "2": 1}
    assert outcomes == [{"x": x, "square": x * x} for x in range(3) for _ in range(6)]
    stats = square.stats()
    assert stats.computations == 3
    # The other 15 callers waited, or (a thread scheduled late on a loaded machine) hit.
    assert stats.waits + stats.hits == 15 and stats.waits >= 3
    assert len(store) == 3


class _FailsFirst:
    """A body that raises on its first run and succeeds afterwards; counts its runs."""

    def __init__(self) -> None:
        self.runs = 0
        self.lock = threading.Lock()

    def __call__(self, x: int) -> int:
        with self.lock:
            self.runs += 1
            first = self.runs == 1
        time.sleep(0.2)
        if first:
            raise ValueError("first run fails")
        return x * 2


@pytest.mark.parametrize("kind", ["local", "files"])
def test_an_exception_is_not_cached_and_does_not_wedge_waiters(tmp_path: Path, kind: str) -> None:
    store: PersiDict = LocalDict() if kind == "local" else FileDirDict(base_dir=tmp_path / "s")
    body = _FailsFirst()

    def double(x: int) -> int:
        return body(x)

    memo = memoize(store, lease_seconds=5.0)(double)
    outcomes = _race(memo, 5, 21)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], ValueError)  # only the caller that ran it
    assert [o for o in outcomes if not isinstance(o, BaseException)] == [42] * 4
    assert body.runs == 2  # the waiters retried: one of them computed
    assert memo(21) == 42 and body.runs == 2
    assert len(store) == 1


def test_cache_exceptions_stores_the_exception_for_every_caller() -> None:
    store = LocalDict()
    body = _FailsFirst()

    def double(x: int) -> int:
        return body(x)

    memo = memoize(store, cache_exceptions=True, lease_seconds=5.0)(double)
    outcomes = _race(memo, 4, 1)
    assert all(isinstance(o, ValueError) for o in outcomes), outcomes
    assert body.runs == 1
    hits_before = memo.stats().hits
    with pytest.raises(ValueError, match="first run fails"):
        memo(1)
    assert memo.stats().hits == hits_before + 1  # a stored exception is a hit
    assert memo.forget(1) is True
    assert memo(1) == 2 and body.runs == 2


def test_a_waiter_past_wait_timeout_raises_timeout_error(tmp_path: Path) -> None:
    store = LocalDict()
    log = str(tmp_path / "runs.log")
    owner = memoized_slow_square(store, lease_seconds=5.0)
    impatient = memoized_slow_square(store, lease_seconds=5.0, wait_timeout=0.3)
    thread = threading.Thread(target=owner, args=(3, log, 2.0))
    thread.start()
    while not runs(log):
        time.sleep(0.01)
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="wait_timeout"):
        impatient(3, log)
    assert 0.3 <= time.monotonic() - start < 1.5
    thread.join()
    assert impatient(3, log) == {"x": 3, "square": 9}  # now a hit
    assert runs(log) == ["3"]


def test_a_sigkilled_computing_process_is_taken_over_after_its_lease_expires(tmp_path: Path) -> None:
    base_dir, log = tmp_path / "store", tmp_path / "runs.log"
    lease_seconds = 1.0
    victim = SPAWN.Process(target=compute_forever, args=(str(base_dir), str(log), lease_seconds))
    victim.start()
    try:
        deadline = time.monotonic() + 120
        while not runs(log):  # the victim is inside the body, holding the lease
            assert time.monotonic() < deadline and victim.is_alive()
            time.sleep(0.02)
        square = memoized_slow_square(FileDirDict(base_dir=base_dir), lease_seconds=lease_seconds)
        outcome: list[Any] = []
        waiter = threading.Thread(target=lambda: outcome.append(square(7, str(log), 0.1)))
        waiter.start()
        # The victim renews its lease: after 3 lease periods the waiter is still waiting.
        waiter.join(timeout=3 * lease_seconds)
        assert waiter.is_alive() and runs(log) == ["7"]
        killed_at = time.monotonic()
        os.kill(victim.pid or 0, signal.SIGKILL)
        waiter.join(timeout=30)
        taken_over_after = time.monotonic() - killed_at
    finally:
        victim.kill()
        victim.join(timeout=30)
    assert outcome == [{"x": 7, "square": 49}]
    assert runs(log) == ["7", "7"]  # the victim's run and the takeover's
    assert taken_over_after < lease_seconds + 3.0
    assert square.stats().waits == 1 and square.stats().computations == 1
    assert list(FileDirDict(base_dir=base_dir).keys()) == [square.key_of(7, str(log))]


def test_a_stale_lease_is_taken_over_by_exactly_one_waiter(tmp_path: Path) -> None:
    store = LocalDict()
    log = str(tmp_path / "runs.log")
    square = memoized_slow_square(store, lease_seconds=0.5)
    key = square.key_of(5, log)
    lease_key = (key[0], key[1] + "~lease", *key[2:])
    store[lease_key] = '{"owner": "a dead process", "expires_at": 0}'  # left behind by a crash
    outcomes = _race(square, 6, 5, log)
    assert outcomes == [{"x": 5, "square": 25}] * 6
    assert runs(log) == ["5"]
    assert lease_key not in store
