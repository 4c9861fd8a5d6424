"""Module-level functions for the memoize tests: spawned processes import them by name.

Every body appends one line ``<pid> <argument>`` to a log file opened with ``O_APPEND`` (one
``write`` per line, so lines of concurrent processes never interleave), which lets a test
count exactly how often a body ran, across all processes.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from persidict_cache import memoize
from persidict_core import FileDirDict, LocalDict, PersiDict


def log_run(log_path: str, x: Any) -> None:
    """Append ``<pid> <x>`` to the log, atomically."""
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{os.getpid()} {x}\n".encode())
    finally:
        os.close(fd)


def runs(log_path: str | Path) -> list[str]:
    """The arguments of the logged runs, in order."""
    path = Path(log_path)
    if not path.exists():
        return []
    return [line.split()[1] for line in path.read_text().splitlines()]


def slow_square(x: int, log_path: str, seconds: float = 0.3) -> dict[str, int]:
    """The expensive computation of the single-flight tests."""
    log_run(log_path, x)
    time.sleep(seconds)
    return {"x": x, "square": x * x}


def memoized_slow_square(store: PersiDict, **options: Any) -> Any:
    """``slow_square`` memoized in ``store`` (the log path and duration are not part of the key)."""
    return memoize(store, ignore=("log_path", "seconds"), **options)(slow_square)


def call_five_at_once(base_dir: str, log_path: str, barrier: Any, answers: Any) -> None:
    """In a spawned process: the same 5 calls, each from its own thread, all at once."""
    square = memoized_slow_square(FileDirDict(base_dir=base_dir), lease_seconds=5.0)
    results: dict[int, Any] = {}
    errors: list[BaseException] = []
    local_barrier = threading.Barrier(5)

    def call(x: int) -> None:
        local_barrier.wait()
        try:
            results[x] = square(x, log_path)
        except BaseException as exc:  # reported to the parent
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(x,)) for x in range(5)]
    barrier.wait(timeout=120)  # every process is up: start together
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    answers.put((os.getpid(), results, [repr(e) for e in errors], square.stats()))


def compute_forever(base_dir: str, log_path: str, lease_seconds: float) -> None:
    """In a spawned process: start computing ``slow_square(7)`` for a very long time (to be killed)."""
    square = memoized_slow_square(FileDirDict(base_dir=base_dir), lease_seconds=lease_seconds)
    square(7, log_path, seconds=600.0)


@memoize(LocalDict())
def cube(x: int) -> int:
    """A memoized module-level function (pickled by reference)."""
    return x**3
