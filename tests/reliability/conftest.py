"""Fixtures of the reliability suite and the report printed at the end of the run.

Worker functions of the process tests live in ``tests/reliability/_workers.py`` and are run
in child processes started with the ``spawn`` method, which import them by module name: the
repository root is put on ``sys.path`` (as ``tests/s3/conftest.py`` does), so
``tests.reliability._workers`` imports in the parent and in every child.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.reliability import _report  # noqa: E402


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures of the reliability scenarios that ran."""
    lines = _report.summary()
    if not lines:
        return
    terminalreporter.section("persidict reliability report")
    for line in lines:
        terminalreporter.write_line(line)
