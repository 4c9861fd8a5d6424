"""Benchmark: the wall time of ``python -c "from persidict import FileDirDict"`` (and ``S3Dict``).

The targets are absolute ones: at most 60 ms for ``FileDirDict``, at most 100 ms for
``S3Dict``, so each row's baseline is its budget and its target 1.0 (the ratio is
``budget / our time``). The interpreter's own start-up (``python -c pass`` in the same
environment) is shown in the note. The file-store import must load none of boto3, botocore,
numpy and pandas, the S3 one neither numpy nor pandas: that is checked in a fresh interpreter
and fails the run if violated (pydantic, also deferred to the first store, is reported).

The same import is timed in the original persidict's environment (0.309.0; see
``bench_core.py``) when it exists.

Each figure is the fastest of several fresh interpreters (after a warm-up that caches the
bytecode, as a user's Python does), started from a temporary directory so that nothing in the
working tree shadows the installed packages.

Run: ``python benchmarks/bench_import.py`` (``--no-fail`` to report without failing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import header  # noqa: E402
from bench_core import _original_python  # noqa: E402

RUNS = 15
BUDGET_S = 0.060
S3_BUDGET_S = 0.100
HEAVY = ("boto3", "botocore", "numpy", "pandas")
S3_HEAVY = ("numpy", "pandas")
REPORTED = ("pydantic", "jsonpickle", "orjson", "lz4", "deepdiff")
STATEMENT = "from persidict import FileDirDict"
S3_STATEMENT = "from persidict import S3Dict"


# As on a user's machine, the interpreters may cache bytecode: with PYTHONDONTWRITEBYTECODE set
# (as in some shells and CI) and an installer that does not compile (uv), every import would
# compile the sources again, tripling the time of a user's import.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def wall_time(python: str, code: str, runs: int = RUNS) -> float:
    """Return the fastest wall time of ``python -c code`` over ``runs`` fresh interpreters."""
    best = float("inf")
    with tempfile.TemporaryDirectory() as cwd:
        subprocess.run([python, "-c", code], check=True, cwd=cwd, capture_output=True, env=ENV)  # warm-up
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([python, "-c", code], check=True, cwd=cwd, capture_output=True, env=ENV)
            best = min(best, time.perf_counter() - start)
    return best


def heavy_modules_loaded(python: str, statement: str, names: tuple[str, ...] = HEAVY) -> list[str]:
    code = f"import json, sys; {statement}; print(json.dumps([m for m in {names!r} if m in sys.modules]))"
    with tempfile.TemporaryDirectory() as cwd:
        out = subprocess.run([python, "-c", code], check=True, cwd=cwd, capture_output=True, text=True)
    loaded: list[str] = json.loads(out.stdout)
    return loaded


def main() -> int:
    report = header("import")
    python = sys.executable
    statement = STATEMENT
    try:
        heavy = heavy_modules_loaded(python, statement)
    except subprocess.CalledProcessError as exc:
        # The facade cannot be imported yet (a sibling package incomplete): time the core.
        print(f"`{statement}` fails here ({exc.stderr.strip().splitlines()[-1:]}); timing persidict_core")
        statement = "from persidict_core import FileDirDict"
        heavy = heavy_modules_loaded(python, statement)
    bare = wall_time(python, "pass")
    ours = wall_time(python, statement)
    core = wall_time(python, "from persidict_core import FileDirDict")

    original_python = _original_python()
    original: float | None = None
    if original_python is not None:
        try:
            original = wall_time(original_python, "from persidict import FileDirDict", runs=5)
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"the original's import failed: {exc}")
    original_note = f"original {original * 1e3:.0f} ms" if original is not None else "original -"

    report.add(
        f"python -c '{statement}'",
        ours,
        BUDGET_S,
        target=1.0,
        note=f"(python -c pass: {bare * 1e3:.0f} ms; {original_note})",
    )
    core_statement = "python -c 'from persidict_core import FileDirDict'"
    report.add(core_statement, core, BUDGET_S, target=None, note="(informational)")
    s3_heavy: list[str] = []
    s3_reported: list[str] = []
    try:
        s3_heavy = heavy_modules_loaded(python, S3_STATEMENT, S3_HEAVY)
        s3_reported = heavy_modules_loaded(python, S3_STATEMENT, REPORTED)
        s3 = wall_time(python, S3_STATEMENT)
        report.add(
            f"python -c '{S3_STATEMENT}'",
            s3,
            S3_BUDGET_S,
            target=1.0,
            note=f"(loads: {s3_reported or 'none'})",
        )
    except subprocess.CalledProcessError:
        print(f"`{S3_STATEMENT}` fails here (persidict-s3 not installed?): not timed")
    reported = heavy_modules_loaded(python, statement, REPORTED)
    report.extra.update(
        statement=statement,
        python_c_pass_s=bare,
        original_s=original,
        heavy_modules_loaded=heavy,
        deferred_modules_loaded=reported,
        s3_heavy_modules_loaded=s3_heavy,
        s3_deferred_modules_loaded=s3_reported,
    )
    print(f"heavy modules loaded by `{statement}`: {heavy or 'none'} (deferred ones: {reported or 'none'})")
    print(f"heavy modules loaded by `{S3_STATEMENT}`: {s3_heavy or 'none'}")
    code = report.finish()
    if heavy or s3_heavy:
        print(f"FAILED: `{statement}` imports {heavy}, `{S3_STATEMENT}` imports {s3_heavy}")
        return 1
    return code


if __name__ == "__main__":
    raise SystemExit(main())
