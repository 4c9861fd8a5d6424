"""Benchmark: a 400 MB numpy array written to and read from a FileDirDict, memory and speed.

Each operation runs in a fresh interpreter, which allocates the array (for writes) or nothing
(for reads), resets its peak RSS (``/proc/self/clear_refs``; ``ru_maxrss`` elsewhere), runs the
operation once and reports the time and the growth of the peak RSS.

Figures:

* peak RSS above the value, write (``store[k] = array``, fsync on) and read (``store[k]``):
  the growth of the peak minus the value itself for a read; the budget is 0.1x the value
  (40 MB), so the row's baseline is the budget, ``unit="B"`` and the target 1.0;
* write throughput against ``ndarray.tofile`` + ``fsync`` of a file in the same directory, read
  throughput against ``np.fromfile`` of that file: speed ratios, target 0.8.

Three rounds; the best time and the largest memory growth of each side are kept.

Run: ``python benchmarks/bench_large.py [--mb N] [--no-fail]`` (default 400 MB).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import header, peak_rss_bytes, reset_peak_rss  # noqa: E402

ROUNDS = 3
MEMORY_BUDGET = 0.1  # of the value's size
SPEED_TARGET = 0.8


def value_mb() -> int:
    for index, arg in enumerate(sys.argv):
        if arg == "--mb" and index + 1 < len(sys.argv):
            return int(sys.argv[index + 1])
    return 400


def child(operation: str, directory: str, mb: int) -> None:
    """Run one operation and print ``{"seconds", "growth"}`` (peak RSS growth, in bytes)."""
    import numpy as np

    from persidict_core import FileDirDict

    n = mb * 2**20 // 8
    raw_path = os.path.join(directory, "raw.bin")
    store = FileDirDict(directory, fsync=True)
    array = np.arange(n, dtype=np.float64) if operation.endswith("write") else None
    reset_peak_rss()
    start_rss = peak_rss_bytes()
    started = time.perf_counter()
    if operation == "ours-write":
        store["value"] = array
    elif operation == "raw-write":
        assert array is not None
        with open(raw_path, "wb") as f:
            array.tofile(f)
            f.flush()
            os.fsync(f.fileno())
    elif operation == "ours-read":
        array = store["value"]
    else:
        array = np.fromfile(raw_path, dtype=np.float64)
    seconds = time.perf_counter() - started
    growth = peak_rss_bytes() - start_rss
    assert array is not None and array.shape == (n,) and array[-1] == n - 1
    if operation.endswith("read"):
        growth -= array.nbytes  # the value itself is not overhead
    print(json.dumps({"seconds": seconds, "growth": growth}))


def run(operation: str, directory: str, mb: int) -> tuple[float, int]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", operation, directory, str(mb)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return float(result["seconds"]), int(result["growth"])


def main() -> int:
    if "--child" in sys.argv:
        index = sys.argv.index("--child")
        child(sys.argv[index + 1], sys.argv[index + 2], int(sys.argv[index + 3]))
        return 0
    try:
        import numpy  # noqa: F401
    except ImportError:
        print("bench_large needs numpy")
        return 1
    mb = value_mb()
    size = mb * 2**20
    report = header("large")
    work = tempfile.mkdtemp(prefix="persidict-large-")
    try:
        best: dict[str, float] = {}
        worst: dict[str, int] = {}
        for _ in range(ROUNDS):
            for operation in ("raw-write", "ours-write", "raw-read", "ours-read"):
                seconds, growth = run(operation, work, mb)
                best[operation] = min(best.get(operation, float("inf")), seconds)
                worst[operation] = max(worst.get(operation, 0), growth)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    budget = MEMORY_BUDGET * size
    for side in ("write", "read"):
        ours = max(worst[f"ours-{side}"], 1)
        note = f"(raw baseline's own: {worst[f'raw-{side}'] / 2**20:.1f} MB)"
        report.add(f"{mb} MB array, {side}: peak RSS above value", ours, budget, 1.0, note=note, unit="B")
    for side, raw in (("write", "tofile+fsync"), ("read", "np.fromfile")):
        ours_s, raw_s = best[f"ours-{side}"], best[f"raw-{side}"]
        note = f"({size / ours_s / 2**20:.0f} MB/s vs {size / raw_s / 2**20:.0f} MB/s)"
        report.add(f"{mb} MB array, {side} vs {raw}", ours_s, raw_s, SPEED_TARGET, note=note)
    report.extra["value_bytes"] = size
    report.extra["peak_rss_growth_bytes"] = worst
    report.extra["best_seconds"] = best
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
