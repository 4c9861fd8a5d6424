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
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

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
