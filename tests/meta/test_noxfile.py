"""The noxfile: importing or listing it changes nothing, and a run cannot pass without a full suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox
import pytest

import noxfile  # the repository root is on sys.path (pytest's pythonpath)

ROOT = Path(__file__).resolve().parents[2]


def _files(folder: Path) -> set[Path]:
    return {path.relative_to(folder) for path in folder.rglob("*")}


def test_nox_list_only_lists(tmp_path: Path) -> None:
    shutil.copy2(ROOT / "noxfile.py", tmp_path / "noxfile.py")
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    before = _files(tmp_path)
    # Python's own bytecode cache of the imported noxfile (__pycache__/) is not nox's doing.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    listed = subprocess.run(
        [sys.executable, "-m", "nox", "-l"], cwd=tmp_path, capture_output=True, text=True, check=True, env=env
    ).stdout
    assert "tests_check" in listed
    assert _files(tmp_path) == before  # no .nox/, no links, no other file


def test_importing_the_noxfile_leaves_path_alone() -> None:
    code = (
        "import os, sys; before = os.environ['PATH']; sys.path.insert(0, sys.argv[1]); import noxfile; "
        "print(os.environ['PATH'] == before)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "True"


def test_the_full_suite_runs_on_the_python_running_nox_and_on_the_edges() -> None:
    current = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert noxfile.CURRENT == current
    assert set(noxfile.TEST_PYTHONS) == {"3.10", "3.13", current}
    sessions = nox.options.sessions or []
    assert sessions.index("tests_check") > sessions.index("tests")


@pytest.mark.parametrize(
    ("passed", "ok", "named"),
    [
        (["3.10", "3.11", "3.13"], True, []),
        (["3.11"], True, ["3.10", "3.13"]),  # a machine with only 3.11: one full run is enough
        ([], False, ["3.10", "3.11", "3.13"]),  # every session skipped: the run fails
        (["3.10", "3.13"], False, ["3.11"]),  # the Python running nox must be among them
    ],
)
def test_tests_check_verdict(passed: list[str], ok: bool, named: list[str]) -> None:
    result, message = noxfile.full_runs_verdict(passed, ["3.10", "3.11", "3.13"], "3.11")
    assert result is ok
    for version in named:
        assert version in message.split("did not run", 1)[1]
    if not named:
        assert "did not run" not in message


def test_integration_tests_are_marked_and_the_rest_is_not() -> None:
    """The marker that the other interpreters and the isolated runs deselect picks the right tests."""
    paths = ["tests/core/test_conditional_races.py", "tests/cli/test_commands.py", "tests/core/test_urls.py"]
    collect = ["--collect-only", "-q", "-m", "integration", "-p", "no:cacheprovider"]
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", *collect, *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    selected = [line for line in listed.splitlines() if "::" in line]
    assert any(line.startswith("tests/core/test_conditional_races.py::") for line in selected)
    assert any(line.endswith("[s3]") for line in selected)  # the console script against S3
    assert not any("[file]" in line or line.startswith("tests/core/test_urls.py") for line in selected)
    assert noxfile.SKIP_INTEGRATION == ["-m", "not integration"]
