"""Figures the reliability suite collects while it runs, printed at the end of the session.

Tests add to `FIGURES` (a process-wide counter: the workers in child processes report their
counts back to the test, which adds them here). ``conftest.py`` prints `summary()` after the run.
"""

from __future__ import annotations

from collections import Counter
from typing import Final

__all__ = ["FIGURES", "LABELS", "add", "summary"]

LABELS: Final = {
    "operations": "store operations done under load (reads, writes, deletes, listings)",
    "processes": "worker processes started (load and crash scenarios)",
    "threads": "worker threads started (S3 scenarios)",
    "kills": "writer processes killed with SIGKILL mid-run",
    "temp_files_left": "temporary files left by killed writers (then cleaned)",
    "faults": "S3 faults injected (5xx answers, SlowDown, dropped connections)",
    "bad_inputs": "bad keys and values tried (each on several operations and stores)",
    "hostile_keys": "arbitrary (hypothesis) keys tried against FileDirDict paths",
    "exploit_payloads": "hostile json documents planted in stores (none may import or run anything)",
    "violations": "invariant violations (must be 0)",
}

FIGURES: Final = Counter[str]()


def add(name: str, amount: int = 1) -> None:
    """Add ``amount`` to the figure ``name`` (one of `LABELS`)."""
    if name not in LABELS:
        raise KeyError(f"unknown figure {name!r}")
    FIGURES[name] += amount


def summary() -> list[str]:
    """Return the report's lines (empty if no reliability test ran)."""
    if not FIGURES:
        return []
    width = max(len(name) for name in LABELS)
    return [f"{name:<{width}}  {FIGURES[name]:>9,}  {label}" for name, label in LABELS.items()]
