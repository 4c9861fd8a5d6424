"""Shared helpers for the benchmark scripts under ``benchmarks/``.

Every benchmark measures our code and a raw baseline in the same run and reports the
*speed ratio* ``baseline_time / our_time`` (1.0 = as fast as raw, 0.5 = twice as slow).
A target is the minimum acceptable speed ratio, so "at least 0.7x of raw" is ``0.7`` and
"at most 5x the cost of X" is ``0.2``.

Each script builds a :class:`Report`, adds rows, and calls :meth:`Report.finish`, which
prints a table, writes ``.bench/<suite>.json`` and returns the process exit code
(1 when a target is missed, unless ``--no-fail`` was given on the command line).
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, MutableMapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent.parent / ".bench"


def best_time(
    func: Callable[[], object], *, number: int = 1, repeat: int = 5, setup: Callable[[], object] | None = None
) -> float:
    """Return the best wall time in seconds of one call of ``func``.

    ``func`` is called ``number`` times per round, ``repeat`` rounds are run, and the fastest
    round wins (the minimum is the least noisy estimator on a shared machine). ``setup`` runs
    before each round, outside the timed region.
    """
    best = float("inf")
    for _ in range(repeat):
        if setup is not None:
            setup()
        gc.collect()
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            start = time.perf_counter()
            for _ in range(number):
                func()
            elapsed = time.perf_counter() - start
        finally:
            if gc_was_enabled:
                gc.enable()
        best = min(best, elapsed / number)
    return best


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux ``/proc/self/clear_refs``); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def peak_rss_bytes() -> int:
    """This process's peak resident set size in bytes (since the last `reset_peak_rss`)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


# ----------------------------------------------------------------- large values, one per child
# A large-value benchmark runs each operation once in a fresh interpreter (so one run's memory
# never counts in another's): the script calls itself with ``--child <operation> <args...>``.
LARGE_OPERATIONS = ("raw-write", "ours-write", "raw-read", "ours-read")
_OURS_FIRST = ("ours-write", "raw-write", "ours-read", "raw-read")


def int_option(name: str, default: int) -> int:
    """The int after ``name`` on the command line (``--mb 100``), else ``default``."""
    for index, arg in enumerate(sys.argv):
        if arg == name and index + 1 < len(sys.argv):
            return int(sys.argv[index + 1])
    return default


def run_if_child(child: Callable[..., object]) -> bool:
    """Call ``child(*arguments after --child)`` if this process is a child run; tell whether it was."""
    if "--child" not in sys.argv:
        return False
    child(*sys.argv[sys.argv.index("--child") + 1 :])
    return True


def measure_array_operation(
    operation: str,
    mb: int,
    store: MutableMapping[str, Any],
    raw_write: Callable[[Any], object],
    raw_read: Callable[[], Any],
) -> None:
    """In a child: run one of `LARGE_OPERATIONS` once and print ``{"seconds", "growth"}`` as JSON.

    The value is ``np.arange(n, dtype=float64)`` of ``mb`` MiB, allocated before the measure
    for a write. ``ours-*`` write ``store["value"]`` or read it back; ``raw-*`` call
    ``raw_write(array)`` or ``raw_read()``, which returns the array. What was read is checked.
    ``growth`` is that of the peak RSS, in bytes, minus the array itself for a read (the value
    a read returns is not overhead).
    """
    import numpy as np

    n = mb * 2**20 // 8
    array = np.arange(n, dtype=np.float64) if operation.endswith("write") else None
    reset_peak_rss()
    start_rss = peak_rss_bytes()
    started = time.perf_counter()
    if operation == "ours-write":
        store["value"] = array
    elif operation == "raw-write":
        raw_write(array)
    elif operation == "ours-read":
        array = store["value"]
    else:
        array = raw_read()
    seconds = time.perf_counter() - started
    growth = peak_rss_bytes() - start_rss
    assert array is not None and array.shape == (n,) and array[-1] == n - 1
    if operation.endswith("read"):
        growth -= array.nbytes
    print(json.dumps({"seconds": seconds, "growth": growth}))


def run_child(script: str, arguments: list[str], **options: Any) -> tuple[float, int]:
    """Run ``script --child <arguments>`` and return the ``(seconds, growth)`` it printed.

    ``options`` go to `subprocess.run` (``env``, ``timeout``).
    """
    done = subprocess.run(
        [sys.executable, script, "--child", *arguments], check=True, capture_output=True, text=True, **options
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return float(result["seconds"]), int(result["growth"])


def large_value_benchmark(
    suite: str,
    script: str,
    child_arguments: Callable[[str], list[str]],
    *,
    rounds: int,
    label: str,
    size: int,
    budget: float,
    baselines: tuple[str, str, str],
    speed_target: float | None,
    **options: Any,
) -> int:
    """Run a large-value benchmark and report it; return the exit code of `Report.finish`.

    Each of `LARGE_OPERATIONS` runs ``rounds`` times (ours first in every other round), each time in a child
    (``script --child <child_arguments(operation)>``; ``options`` go to `run_child`); the best
    time and the largest memory growth of each are kept. Memory rows: our peak RSS growth
    against ``budget`` (bytes; target 1.0), the raw side's in the note. Speed rows: our best
    time against the raw side's, for writes and reads. ``baselines`` names the raw side, its
    write and its read (``("raw boto3", "boto3 upload_fileobj", "boto3 download_fileobj")``).
    """
    report = header(suite)
    best: dict[str, float] = {}
    worst: dict[str, int] = {}
    for round_number in range(rounds):
        # Every other round runs ours before the raw side: whatever one operation leaves to the
        # next (dirty pages, freed extents) falls on each side alike.
        operations = LARGE_OPERATIONS if round_number % 2 == 0 else _OURS_FIRST
        for operation in operations:
            seconds, growth = run_child(script, child_arguments(operation), **options)
            best[operation] = min(best.get(operation, float("inf")), seconds)
            worst[operation] = max(worst.get(operation, 0), growth)
    owner, *raw_names = baselines
    for side in ("write", "read"):
        ours = max(worst[f"ours-{side}"], 1)
        note = f"({owner}'s own: {worst[f'raw-{side}'] / 2**20:.1f} MB)"
        report.add(f"{label}, {side}: peak RSS above value", ours, budget, 1.0, note=note, unit="B")
    for side, raw in zip(("write", "read"), raw_names, strict=True):
        ours_s, raw_s = best[f"ours-{side}"], best[f"raw-{side}"]
        note = f"({size / ours_s / 2**20:.0f} MB/s vs {size / raw_s / 2**20:.0f} MB/s)"
        report.add(f"{label}, {side} vs {raw}", ours_s, raw_s, speed_target, note=note)
    report.extra["value_bytes"] = size
    report.extra["peak_rss_growth_bytes"] = worst
    report.extra["best_seconds"] = best
    return report.finish()


@dataclass
class Row:
    """One measured figure: our time, the baseline's, and the target speed ratio.

    A memory figure sets ``unit="B"``: ``ours_s`` and ``baseline_s`` then hold bytes (ours and
    the budget or the baseline's), and the ratio is still ``baseline / ours``, higher is better.
    """

    name: str
    ours_s: float
    baseline_s: float
    target: float | None
    note: str = ""
    unit: str = "s"

    @property
    def ratio(self) -> float:
        """Speed relative to the baseline (baseline time / our time)."""
        return self.baseline_s / self.ours_s if self.ours_s > 0 else float("inf")

    @property
    def ok(self) -> bool:
        """Whether the target (if any) is met."""
        return self.target is None or self.ratio >= self.target


@dataclass
class Report:
    """A named collection of rows, printed and saved as JSON at the end."""

    suite: str
    rows: list[Row] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)

    def add(
        self,
        name: str,
        ours_s: float,
        baseline_s: float,
        target: float | None = None,
        note: str = "",
        unit: str = "s",
    ) -> Row:
        """Record one figure and print it at once (long benchmarks show progress)."""
        row = Row(name, ours_s, baseline_s, target, note, unit)
        self.rows.append(row)
        print(_format_row(row), flush=True)
        return row

    def finish(self) -> int:
        """Print the summary, write ``.bench/<suite>.json`` and return the exit code."""
        missed = [row for row in self.rows if not row.ok]
        RESULTS_DIR.mkdir(exist_ok=True)
        payload = {
            "suite": self.suite,
            "python": sys.version.split()[0],
            "rows": [asdict(row) | {"ratio": row.ratio, "ok": row.ok} for row in self.rows],
            "extra": self.extra,
        }
        (RESULTS_DIR / f"{self.suite}.json").write_text(json.dumps(payload, indent=2))
        print(f"{self.suite}: {len(self.rows) - len(missed)} of {len(self.rows)} figures meet their target")
        for row in missed:
            print(f"  MISSED {row.name}: {row.ratio:.2f}x < {row.target}x")
        if missed and "--no-fail" not in sys.argv:
            return 1
        return 0


def header(suite: str) -> Report:
    """Print the table header and return a fresh report."""
    print(f"\n## {suite}\n")
    print(f"| {'figure':<46} | {'ours':>10} | {'baseline':>10} | {'ratio':>6} | {'target':>6} | ok |")
    print(f"|{'-' * 48}|{'-' * 12}|{'-' * 12}|{'-' * 8}|{'-' * 8}|----|")
    return Report(suite)


def _format_value(value: float, unit: str) -> str:
    if unit == "B":
        return f"{value / 2**20:.1f} MB"
    return _format_time(value)


def _format_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.2f} us"


def _format_row(row: Row) -> str:
    target = "-" if row.target is None else f"{row.target:.2f}"
    mark = "yes" if row.ok else "NO"
    note = f" {row.note}" if row.note else ""
    ours, baseline = _format_value(row.ours_s, row.unit), _format_value(row.baseline_s, row.unit)
    return (
        f"| {row.name:<46} | {ours:>10} | {baseline:>10} "
        f"| {row.ratio:>5.2f}x | {target:>6} | {mark:<3}|{note}"
    )


def raw_walk(base: str) -> list[str]:
    """The raw baseline of a listing: an ``os.scandir`` walk collecting the ``.pkl`` file names."""
    names = []
    stack = [base]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.name.endswith(".pkl"):
                    names.append(entry.name)
    return names
