"""tools/run_nox.py works on an "externally managed" (PEP 668) Python and leaves it untouched.

The system Python is simulated: the base interpreter of this test's environment, started with
``PYTHONHOME`` pointing at a copy of its prefix made of links, whose standard library folder
also holds an ``EXTERNALLY-MANAGED`` marker. pip run by that interpreter refuses to install, as
on Debian, Ubuntu or Homebrew; the launcher must still bring up nox.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _externally_managed_home(tmp_path: Path) -> Path:
    """Return a PYTHONHOME under which the base interpreter is an externally managed one."""
    base = Path(sys.base_prefix)
    stdlib = Path(sysconfig.get_path("stdlib"))
    home = tmp_path / "system-python"
    lib = home / stdlib.parent.relative_to(base)
    lib.mkdir(parents=True)
    for sibling in stdlib.parent.glob("python3*"):  # Debian keeps its dist-packages in lib/python3
        if sibling != stdlib:
            (lib / sibling.name).symlink_to(sibling)
    (lib / stdlib.name).mkdir()
    for entry in stdlib.iterdir():
        (lib / stdlib.name / entry.name).symlink_to(entry)
    (lib / stdlib.name / "EXTERNALLY-MANAGED").write_text(
        "[externally-managed]\nError=simulated system Python: use a virtual environment\n", encoding="utf-8"
    )
    return home


def _site_packages_listing() -> list[str]:
    purelib = Path(sysconfig.get_paths(vars={"base": sys.base_prefix})["purelib"])
    return sorted(path.name for path in purelib.iterdir()) if purelib.is_dir() else []


@pytest.mark.slow
def test_launcher_brings_up_nox_on_an_externally_managed_python(tmp_path: Path) -> None:
    # The interpreter this venv was made from (uv's venvs of 3.10 report the venv's own python
    # as sys._base_executable, which has no pip).
    installed = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    system_python = str(installed) if installed.exists() else getattr(sys, "_base_executable", sys.executable)
    env = {**os.environ, "PYTHONHOME": str(_externally_managed_home(tmp_path))}
    env.pop("VIRTUAL_ENV", None)
    # The simulation holds: this interpreter's own pip refuses to install.
    refused = subprocess.run(
        [system_python, "-m", "pip", "install", "--dry-run", "--no-index", "nox"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert refused.returncode != 0
    assert "externally-managed-environment" in refused.stdout + refused.stderr
    # A copy of the launcher in a fresh "checkout": its .nox-bootstrap/ is made there, never in
    # the checkout whose nox may be running this very test.
    checkout = tmp_path / "checkout"
    (checkout / "tools").mkdir(parents=True)
    shutil.copy2(ROOT / "tools" / "run_nox.py", checkout / "tools" / "run_nox.py")
    before = _site_packages_listing()

    run = subprocess.run(
        [system_python, str(checkout / "tools" / "run_nox.py"), "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() or run.stderr.strip()  # nox printed its version
    venv_python = checkout / ".nox-bootstrap" / "venv" / "bin" / "python"
    located = subprocess.run(
        [str(venv_python), "-c", "import nox, sys; print(nox.__file__); print(sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert Path(located[0]).is_relative_to(checkout / ".nox-bootstrap" / "venv")
    assert _site_packages_listing() == before  # the system Python got nothing
    # A second run reuses the environment: no venv or pip step.
    stamp = checkout / ".nox-bootstrap" / "venv" / "persidict-bootstrap.json"
    made = stamp.stat().st_mtime_ns
    again = subprocess.run(
        [system_python, str(checkout / "tools" / "run_nox.py"), "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert stamp.stat().st_mtime_ns == made


def _launcher() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_persidict_run_nox", ROOT / "tools" / "run_nox.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nox_runs_with_uv_trusting_the_system_certificates(tmp_path: Path) -> None:
    # uv bundles its own root certificates; behind a proxy whose authority only the system store
    # knows, pip gets through and uv would not. The launcher makes uv use the system store.
    env = _launcher().nox_environment({"PATH": "/usr/bin:/bin", "HOME": "/home/x"}, tmp_path)
    assert env["UV_SYSTEM_CERTS"] == "1"
    assert env["UV_NATIVE_TLS"] == "1"  # the name older uv releases read
    assert env["PATH"] == os.pathsep.join([str(tmp_path), "/usr/bin:/bin"])
    assert env["HOME"] == "/home/x"


@pytest.mark.parametrize(
    "choice",
    [{"SSL_CERT_FILE": "/etc/my-ca.pem"}, {"SSL_CERT_DIR": "/etc/my-certs"}, {"UV_SYSTEM_CERTS": "false"}],
)
def test_a_certificate_choice_of_the_user_is_kept(choice: dict[str, str]) -> None:
    env = _launcher().nox_environment({"PATH": "/usr/bin", **choice}, None)
    assert env == {"PATH": "/usr/bin", **choice}  # nothing added, PATH untouched without links
