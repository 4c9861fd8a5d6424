"""The README's two commands: `.ci/run` runs the second verbatim; neither installs into the system Python."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = "tools/run_nox.py"


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## On a fresh machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", section, re.DOTALL)


def pip_installs_outside_own_venv(command: str) -> list[str]:
    """Return the steps of a shell ``command`` that run ``pip install`` in a Python it did not create.

    A step may install with ``DIR/bin/pip`` or ``DIR/bin/python -m pip`` only after an earlier
    step made ``DIR`` with ``-m venv DIR``. Anything else (``python3 -m pip``, a bare ``pip``,
    ``--user``, ``--break-system-packages``) would change the machine's Python, which PEP 668
    systems refuse.
    """
    created: set[PurePosixPath] = set()
    offending: list[str] = []
    for step in re.split(r"&&|\|\||[;|]", command):
        words = shlex.split(step)
        if len(words) >= 4 and words[1:3] == ["-m", "venv"]:
            created.add(PurePosixPath(words[-1]))
            continue
        program = PurePosixPath(words[0]) if words else PurePosixPath()
        by_pip = program.name.startswith("pip") and "install" in words[1:]
        by_module = words[1:4] == ["-m", "pip", "install"]
        if not (by_pip or by_module):
            continue
        inside = program.parent.name in ("bin", "Scripts") and program.parent.parent in created
        if not inside or {"--user", "--break-system-packages"} & set(words):
            offending.append(step.strip())
    return offending


def test_readme_has_exactly_two_one_line_commands() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)
    assert "demo" in commands[0]


def test_ci_runs_the_readme_test_command() -> None:
    extracted = subprocess.run(
        ["bash", str(ROOT / ".ci" / "run"), "--print-command"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert extracted == _readme_commands()[1]


def test_readme_commands_install_nothing_into_the_machines_python() -> None:
    for command in _readme_commands():
        assert pip_installs_outside_own_venv(command) == []
        # The launcher makes its own environment (tests/meta/test_bootstrap.py runs it on a
        # simulated PEP 668 Python); the command must start with it.
        assert shlex.split(command)[:2] == ["python3", LAUNCHER]


def test_readme_test_command_runs_the_full_suite_and_its_check() -> None:
    sessions = shlex.split(_readme_commands()[1])[3:]
    assert shlex.split(_readme_commands()[1])[2] == "-s"
    # `tests` (every parametrization, the Python running nox among them), then the check.
    assert "tests" in sessions
    assert sessions.index("tests_check") > sessions.index("tests")


@pytest.mark.parametrize(
    ("command", "offending"),
    [
        ('python3 -m pip install "nox[uv]" && python3 -m nox -s demo', ['python3 -m pip install "nox[uv]"']),
        ("pip install nox; nox -s demo", ["pip install nox"]),
        ("/tmp/v/bin/pip install nox && /tmp/v/bin/nox", ["/tmp/v/bin/pip install nox"]),
        ("python3 -m venv v && v/bin/pip install --user nox", ["v/bin/pip install --user nox"]),
        ("python3 -m venv /tmp/v && /tmp/v/bin/pip install 'nox[uv]' && /tmp/v/bin/nox -s demo", []),
        ("python3 -m venv v && v/bin/python -m pip install nox && v/bin/nox -l", []),
        ("python3 tools/run_nox.py -s demo", []),
    ],
)
def test_the_pip_guard_tells_own_venvs_from_the_machines_python(command: str, offending: list[str]) -> None:
    assert pip_installs_outside_own_venv(command) == offending
