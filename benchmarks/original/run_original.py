"""Run bench_core's workload against the original persidict (0.309.0) and print JSON figures.

This script runs inside a virtual environment of its own, where ``persidict`` is the original
project from the package index (it shares our import name, so it cannot live beside ours).
``bench_core.py`` starts it as a subprocess and reads the last line of its output:
``{"version": ..., "figures": {name: [original_s, baseline_s]}}``; each baseline is measured in
this same process, so the ratios are comparable to ours.

The original's FileDirDict has no fsync option (it syncs every write): its "fsync=False"
figures compare that default against the raw write without fsync. ``digest_len=0`` gives both
stores the same file layout.

Run by hand: ``.bench/original-venv/bin/python benchmarks/original/run_original.py``.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_core  # noqa: E402  (imports neither persidict nor persidict_core at module level)

from persidict import FileDirDict, LocalDict, NonEmptySafeStrTuple  # noqa: E402


def make_file_store(base_dir: str, fsync: bool) -> Any:
    return FileDirDict(base_dir=base_dir, digest_len=0)


def main() -> None:
    if "persidict_core" in sys.modules:
        raise SystemExit("this must run in the original's environment, not ours")
    figures = bench_core.measure(
        make_file_store,
        LocalDict,
        NonEmptySafeStrTuple,
        # Every write of the original fsyncs (~1 ms here): its fsync=False figures are measured
        # like the fsync=True ones, in short rounds.
        write_rounds=bench_core.ROUNDS_SYNC,
        n_nosync=bench_core.N_SYNC,
        log=lambda message: print(f"  original {message}", file=sys.stderr, flush=True),
    )
    print(json.dumps({"version": version("persidict"), "figures": figures}))


if __name__ == "__main__":
    main()
