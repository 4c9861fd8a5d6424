"""Benchmark: a FileDirDict of 1,000,000 keys against the same store at 10,000 keys.

A store of N keys is laid out as N / 1,000 folders of 1,000 files (``digest_len=0``, so the
key ``("f0042", "k42123")`` is the file ``f0042/k42123.pkl``; every name is distinct). The files
are written raw (``os.open`` + ``os.write`` of a pickled int), which is much faster than going
through the store and gives the same files.

Figures (speed ratio = per-key time at 10k / per-key time at N; target 1/1.5, i.e. a key costs
at most 1.5x as much in the big store):

* ``len(store)``, ``for k in store``, ``for k in store.keys()``, ``store.newest_keys(10)``,
  and ``store.clear()`` (last, it deletes the files).
* For information, the same ratio for the raw operations the rows are bound by: an
  ``os.scandir`` walk, and ``os.unlink`` of a tenth of the folders just before ``clear()``
  deletes the rest. Where the file system itself slows down per key at N, no listing or
  clear can scale better than these.

Memory (``unit="B"``, ratio = budget / growth, target 1.0): the growth of the peak RSS
(``VmHWM``, reset through ``/proc/self/clear_refs`` after start-up; ``ru_maxrss`` elsewhere) of
a fresh interpreter that opens the big store and then
runs ``len``, a full iteration, a ``keys()`` iteration and ``newest_keys(10)``: under 50 MB, so
no operation holds a list of all keys or all timestamps.

Creating a million files takes a while (about a minute here, and 4 GB of disk blocks): the key
count is a parameter. ``nox -s bench`` runs the default of 1,000,000.

Run: ``python benchmarks/bench_scale.py [--keys N] [--no-fail]``.
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import best_time, header, peak_rss_bytes, raw_walk, reset_peak_rss  # noqa: E402

DEFAULT_KEYS = 1_000_000
SMALL_KEYS = 10_000
PER_FOLDER = 1_000
TARGET = 1 / 1.5
RSS_BUDGET = 50 * 2**20
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def key_count() -> int:
    """The ``--keys N`` (or ``--keys=N``) argument, else the default."""
    for index, arg in enumerate(sys.argv):
        if arg == "--keys" and index + 1 < len(sys.argv):
            return int(sys.argv[index + 1])
        if arg.startswith("--keys="):
            return int(arg.partition("=")[2])
    return DEFAULT_KEYS


def populate(base: str, n: int) -> None:
    """Write ``n`` keys as raw files: ``n / 1,000`` folders of 1,000 (the last may hold fewer)."""
    started = time.perf_counter()
    for i in range(n):
        folder, _ = divmod(i, PER_FOLDER)
        directory = os.path.join(base, f"f{folder:04d}")
        if i % PER_FOLDER == 0:
            os.makedirs(directory, exist_ok=True)
        fd = os.open(os.path.join(directory, f"k{i}.pkl"), _WRITE_FLAGS, 0o666)
        os.write(fd, pickle.dumps(i, protocol=pickle.HIGHEST_PROTOCOL))
        os.close(fd)
        if i and i % 200_000 == 0:
            print(f"  ({i:,} files written, {time.perf_counter() - started:.0f} s)", flush=True)


def listing_operations(store: Any) -> list[tuple[str, Callable[[], object]]]:
    """The timed listings of ``store``: ``len``, iteration, ``keys()`` and ``newest_keys(10)``."""

    def iterate() -> None:
        for _ in store:
            pass

    def iterate_keys() -> None:
        for _ in store.keys():
            pass

    return [
        ("len", lambda: len(store)),
        ("for k in store", iterate),
        ("keys() iteration", iterate_keys),
        ("len(store.keys())", lambda: len(store.keys())),
        ("newest_keys(10)", lambda: store.newest_keys(10)),
    ]


def raw_unlink_folders(base: str, folders: list[str]) -> int:
    """The raw baseline of ``clear()``: unlink every file of ``folders`` and remove them."""
    count = 0
    for name in folders:
        directory = os.path.join(base, name)
        for file_name in os.listdir(directory):
            os.unlink(os.path.join(directory, file_name))
            count += 1
        os.rmdir(directory)
    return count


def child_memory(base: str) -> None:
    """In a fresh interpreter: the peak RSS growth of each listing of the store at ``base``."""
    from persidict_core import FileDirDict

    store = FileDirDict(base, digest_len=0, fsync=False)
    gc.collect()
    reset_peak_rss()
    start = peak_rss_bytes()
    growth = {}
    for name, operation in listing_operations(store):
        operation()
        growth[name] = peak_rss_bytes() - start
    print(json.dumps(growth))


def measure_sizes(work: str, n: int) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """Per-key times of each operation at 10k and at ``n`` keys; RSS growths at ``n``."""
    from persidict_core import FileDirDict

    per_key: dict[str, dict[str, float]] = {}
    memory: dict[str, int] = {}
    for size in (SMALL_KEYS, n):
        base = os.path.join(work, f"store{size}")
        os.makedirs(base)
        print(f"writing {size:,} files...", flush=True)
        populate(base, size)
        store = FileDirDict(base, digest_len=0, fsync=False)
        if len(store) != size:
            raise RuntimeError(f"the store sees {len(store)} keys, expected {size}")
        rounds = 5 if size <= 100_000 else 3
        times = {name: best_time(op, repeat=rounds) / size for name, op in listing_operations(store)}
        times["raw walk"] = best_time(lambda base=base: len(raw_walk(base)), repeat=rounds) / size
        if size == n:
            memory = run_memory_child(base)
        # The file system's own unlink rate at this size: a raw delete of a tenth of the folders
        # (at least one), in the same state of caches and journal as the clear() that follows.
        folders = sorted(os.listdir(base))
        sample = folders[: max(1, len(folders) // 10)]
        started = time.perf_counter()
        removed = raw_unlink_folders(base, sample)
        times["raw unlink"] = (time.perf_counter() - started) / removed
        # clear() last, over the rest: it deletes the files (measured once at each size).
        left = size - removed
        started = time.perf_counter()
        store.clear()
        times["clear()"] = (time.perf_counter() - started) / left
        if os.listdir(base):
            raise RuntimeError("clear() left files or folders behind")
        per_key[str(size)] = times
        shutil.rmtree(base, ignore_errors=True)
    return per_key, memory


def run_memory_child(base: str) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, __file__, "--child-memory", base], check=True, capture_output=True, text=True
    )
    growth: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return growth


def main() -> int:
    if "--child-memory" in sys.argv:
        child_memory(sys.argv[sys.argv.index("--child-memory") + 1])
        return 0
    n = key_count()
    if n < SMALL_KEYS:
        raise SystemExit(f"--keys must be at least {SMALL_KEYS:,}")
    report = header("scale")
    work = tempfile.mkdtemp(prefix="persidict-scale-")
    try:
        per_key, memory = measure_sizes(work, n)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    small, big = per_key[str(SMALL_KEYS)], per_key[str(n)]
    for name in ("len", "for k in store", "keys() iteration", "newest_keys(10)", "clear()"):
        report.add(
            f"{name}: per key at {n:,} vs {SMALL_KEYS:,}",
            big[name],
            small[name],
            TARGET,
            note=f"({big[name] * n:.2f} s for {n:,} keys)"
            if name != "clear()"
            else "(timed over the keys the raw unlink below left)",
        )
    for name, raw in (("raw os.scandir walk", "raw walk"), ("raw unlink", "raw unlink")):
        report.add(
            f"{name}: per key at {n:,} vs {SMALL_KEYS:,}",
            big[raw],
            small[raw],
            note="(for information: the file system's own scaling, the bound of the row above it)",
        )
    for name, growth in memory.items():
        report.add(f"RSS growth, {name} over {n:,} keys", max(growth, 1), RSS_BUDGET, 1.0, unit="B")
    report.extra["keys"] = n
    report.extra["per_key_s"] = per_key
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
