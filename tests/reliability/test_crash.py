"""Scenario 2: a writer of ~1 MB values is killed with SIGKILL at random moments, many times.

Afterwards (and after every kill) every present key decodes to a complete value, no temporary
file shows up as a key, fresh leftovers survive the default age-based cleanup (they could be a
live writer's) and ``remove_stale_temp_files(min_age_seconds=0)`` removes them all; the store
then accepts new writes.
"""

from __future__ import annotations

import multiprocessing
import random
import signal
import sys
import time
from pathlib import Path

import pytest

from persidict_core import FileDirDict
from tests.reliability import _report
from tests.reliability._workers import CRASH_KEYS, check_value, crash_writer, key_name

KILLS = 32  # at least 30, as the issue asks
TIME_BOUND = 90.0  # seconds; the loop stops earlier once KILLS kills happened

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def temp_files(base_dir: Path) -> list[Path]:
    return [
        p for p in base_dir.rglob("*") if p.is_file() and p.name.startswith(".#") and p.name.endswith(".tmp")
    ]


def check_store(store: FileDirDict, once: FileDirDict) -> list[str]:
    problems = []
    keys = list(store)
    for key in keys:
        if key[0] == "once":
            continue
        if key[0] != "crash" or len(key) != 2 or int(key[1][1:]) >= CRASH_KEYS:
            problems.append(f"unexpected key {key!r} (a temporary file listed as a key?)")
            continue
        problem = check_value(store[key], key_name(key))
        if problem:
            problems.append(problem)
    for key in once:
        problem = check_value(once[key], "once/" + key[0])
        if problem:
            problems.append(f"append-only: {problem}")
    if len(store) != len(keys):
        problems.append(f"len() {len(store)} != {len(keys)} listed keys")
    return problems


def test_sigkill_during_large_writes(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    rng = random.Random(20240607)
    store = FileDirDict(base_dir=str(tmp_path))
    once = FileDirDict(base_dir=str(tmp_path), append_only=True).get_subdict("once")
    assert isinstance(once, FileDirDict)
    kills = 0
    problems: list[str] = []
    deadline = time.monotonic() + TIME_BOUND
    while kills < KILLS and time.monotonic() < deadline:
        started = context.Event()
        child = context.Process(target=crash_writer, args=(str(tmp_path), kills, started))
        child.start()
        _report.add("processes")
        assert started.wait(60), "the writer never started"
        time.sleep(rng.uniform(0.0, 0.25))  # a random moment inside the write loop
        assert child.is_alive(), f"the writer died by itself (exit code {child.exitcode})"
        assert child.pid is not None
        child.kill()  # SIGKILL
        child.join(timeout=30)
        assert child.exitcode == -signal.SIGKILL
        kills += 1
        problems += check_store(store, once)
    _report.add("kills", kills)
    assert kills >= 30, f"only {kills} kills within {TIME_BOUND} s"

    leftovers = temp_files(tmp_path)
    _report.add("temp_files_left", len(leftovers))
    assert store.remove_stale_temp_files() == 0, "the default cleanup removed fresh files (a live writer's)"
    removed = store.remove_stale_temp_files(min_age_seconds=0)
    if removed != len(leftovers) or temp_files(tmp_path):
        problems.append(f"cleanup removed {removed} of {len(leftovers)} temporary files")
    problems += check_store(store, once)
    assert store.remove_stale_temp_files(min_age_seconds=0) == 0

    # The store accepts new writes, including to keys a killed writer was writing.
    for i in range(CRASH_KEYS):
        store[("crash", f"k{i}")] = {"after": i}
        assert store[("crash", f"k{i}")] == {"after": i}
    once[("fresh",)] = "new"
    assert once[("fresh",)] == "new"
    _report.add("violations", len(problems))
    assert not problems, problems[:10]
    assert any(key[0] == "crash" for key in store)
