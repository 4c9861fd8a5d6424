"""A run of one package's tests loads only what it tests: nothing of the reliability suite, no boto3."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import sys, pytest
code = pytest.main(sys.argv[2:] + ["-q", "-p", "no:cacheprovider", sys.argv[1]])
loaded = sorted(m for m in sys.modules if m.startswith(("tests.reliability", "boto3", "moto")))
print("LOADED", loaded)
sys.exit(int(code))
"""


@pytest.mark.parametrize(
    ("folder", "mode"),
    [("tests/safestr", []), ("tests/core/test_jokers_errors_config.py", ["-n", "1"])],
    ids=["serial", "xdist"],
)
def test_a_package_run_imports_no_reliability_module(folder: str, mode: list[str]) -> None:
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, folder, "--co", *mode], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "LOADED []" in run.stdout


@pytest.mark.parametrize("mode", [[], ["-n", "1"]], ids=["serial", "xdist"])
def test_a_reliability_run_still_prints_its_report(mode: list[str]) -> None:
    selected = "tests/reliability/test_bad_input.py::test_deep_keys[LocalDict]"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *mode, selected],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "persidict reliability report" in run.stdout
    assert any(line.startswith("bad_inputs") and line.split()[1] == "2" for line in run.stdout.splitlines())
