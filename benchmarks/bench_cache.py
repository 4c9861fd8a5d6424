"""Benchmark: cache hits of the persidict-cache wrappers over a FileDirDict.

* ``MutableDictCached`` over FileDirDict: a hit (one conditional read of the file's ETag, the
  value from the in-memory cache) against a plain ``FileDirDict`` get of the same value, which
  reads and unpickles the file. Target: at least 3x faster.
* ``AppendOnlyDictCached`` over FileDirDict: a hit (no file system call at all) against a
  ``LocalDict`` get of the same value. Target: within 3x of the LocalDict get (ratio >= 1/3).

The value is 100 KB of bytes. Bytes are immutable, so the in-memory cache hands out the cached
object itself; a mutable value (a numpy array) is copied on every read from a ``LocalDict``
cache, as every read from a ``LocalDict`` is, and that copy costs as much as the file read
saves: the numpy figures are reported for information, without a target. The FileDirDicts live
in a temporary directory with ``fsync=False`` (reads are measured, and the page cache serves
them in both cases, so the comparison is fair to the plain store).

Run: ``python benchmarks/bench_cache.py`` (``--no-fail`` to report without failing).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Report, best_time, header  # noqa: E402

from persidict_cache import AppendOnlyDictCached, MutableDictCached  # noqa: E402
from persidict_core import FileDirDict, LocalDict  # noqa: E402

NUMBER = 2_000
REPEAT = 7


def _values() -> list[tuple[str, Any, bool]]:
    """``(label, value, has_target)`` for each measured value."""
    values: list[tuple[str, Any, bool]] = [("bytes", bytes(range(256)) * 400, True)]
    try:
        import numpy as np
    except ImportError:
        return values
    values.append(("numpy", np.arange(12_800, dtype=np.float64), False))
    return values


def _measure(report: Report, tmp: Path, label: str, value: Any, has_target: bool) -> None:
    plain = FileDirDict(base_dir=tmp / f"mutable_{label}", fsync=False)
    cached = MutableDictCached(plain, LocalDict(), LocalDict())
    cached["key"] = value
    cached["key"]  # warm: both caches hold it

    ours = best_time(lambda: cached["key"], number=NUMBER, repeat=REPEAT)
    baseline = best_time(lambda: plain["key"], number=NUMBER, repeat=REPEAT)
    target = 3.0 if has_target else None
    report.add(f"MutableDictCached hit vs FileDirDict get, {label}", ours, baseline, target)

    main_store = FileDirDict(base_dir=tmp / f"append_only_{label}", append_only=True, fsync=False)
    append_only = AppendOnlyDictCached(main_store, LocalDict())
    append_only["key"] = value
    local = LocalDict()
    local["key"] = value

    ours = best_time(lambda: append_only["key"], number=NUMBER, repeat=REPEAT)
    baseline = best_time(lambda: local["key"], number=NUMBER, repeat=REPEAT)
    target = 1 / 3 if has_target else None
    report.add(f"AppendOnlyDictCached hit vs LocalDict get, {label}", ours, baseline, target)


def main() -> int:
    """Measure, print the table and return the exit code."""
    report = header("cache")
    report.extra["value_size_bytes"] = 102_400
    with tempfile.TemporaryDirectory() as tmp:
        for label, value, has_target in _values():
            _measure(report, Path(tmp), label, value, has_target)
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
