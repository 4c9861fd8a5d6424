"""Run nox from a private virtual environment, so that no Python of the machine is modified.

Usage (from anywhere; arguments go to nox)::

    python3 tools/run_nox.py -s demo
    python3 tools/run_nox.py -l

Needs only Python 3.10+ with its standard ``venv`` module (on Debian and Ubuntu: the
``python3-venv`` package) and access to the package index. On first use it creates
``.nox-bootstrap/venv`` in the checkout with ``python -m venv`` and installs nox (with uv) into
it with that environment's own pip, so an "externally managed" system Python (PEP 668) is
never asked to install anything. Later runs reuse it.

Before starting nox it puts links to the supported Pythons it finds (``python3.X`` on PATH or
in pyenv's versions folder) first on nox's PATH, so the ``tests-3.X`` sessions find them even
where pyenv's shims would point elsewhere. Nothing is downloaded but nox and its dependencies.

nox's sessions install with uv, which by default trusts only the certificates it bundles; it is
told to trust the system's certificate store too, as pip does, so that behind a proxy whose
certificate authority only the system knows (common on company networks) uv gets through
wherever pip does.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP = ROOT / ".nox-bootstrap"
REQUIREMENT = "nox[uv]>=2025.2.9"
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
_WINDOWS = os.name == "nt"


def venv_python(venv: Path) -> Path:
    """Return the interpreter of the virtual environment ``venv``."""
    return venv / ("Scripts/python.exe" if _WINDOWS else "bin/python")


def ensure_nox(venv: Path, python: str = sys.executable) -> Path:
    """Create ``venv`` with ``python -m venv`` and install nox into it, unless already done.

    pip runs only as the new environment's own interpreter (``<venv>/bin/python -m pip``),
    never as ``python``. Returns the environment's interpreter.
    """
    stamp = venv / "persidict-bootstrap.json"
    wanted = {"python": os.path.realpath(python), "requirement": REQUIREMENT}
    inner = venv_python(venv)
    if inner.exists() and stamp.exists() and json.loads(stamp.read_text(encoding="utf-8")) == wanted:
        return inner
    subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True)
    quiet = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run([str(inner), "-m", "pip", "install", "--quiet", REQUIREMENT], check=True, env=quiet)
    stamp.write_text(json.dumps(wanted), encoding="utf-8")
    return inner


def find_interpreter(version: str) -> str | None:
    """Return the path of a working ``python<version>``, or None when this machine has none.

    Looks on PATH first, then in pyenv's versions folder (``$PYENV_ROOT`` or ``pyenv root``),
    and checks that the candidate really is that version, so pyenv shims that point at another
    version do not fool us.
    """
    candidates: list[str] = []
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(on_path)
    pyenv_root = os.environ.get("PYENV_ROOT")
    if not pyenv_root and shutil.which("pyenv"):
        try:
            pyenv_root = subprocess.run(
                ["pyenv", "root"], capture_output=True, text=True, check=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pyenv_root = None
    if pyenv_root:
        pattern = os.path.join(pyenv_root, "versions", f"{version}.*", "bin", f"python{version}")
        candidates.extend(sorted(glob.glob(pattern), reverse=True))
    for candidate in candidates:
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if out.returncode == 0 and out.stdout.strip() == version:
            return candidate
    return None


def link_interpreters(folder: Path) -> dict[str, str | None]:
    """Put a ``python3.X`` link in ``folder`` to each supported Python found; return what was found.

    Only these links go on nox's PATH, not the interpreters' own bin folders, so their
    ``python3``, ``pip`` or ``uv`` shadow nothing. On Windows nox finds interpreters itself.
    """
    found = {version: find_interpreter(version) for version in PYTHONS}
    folder.mkdir(parents=True, exist_ok=True)
    for version, path in found.items():
        link = folder / f"python{version}"
        if path is None:
            link.unlink(missing_ok=True)
        elif not (link.is_symlink() and os.readlink(link) == path):
            # Create-then-rename, so that concurrent runs never see a half-made link.
            temporary = folder / f".python{version}.{os.getpid()}"
            temporary.unlink(missing_ok=True)
            temporary.symlink_to(path)
            os.replace(temporary, link)
    return found


# Recent uv reads UV_SYSTEM_CERTS, older releases UV_NATIVE_TLS (which recent ones, given it
# alone, call deprecated): both are set.
_UV_SYSTEM_CERTS = ("UV_SYSTEM_CERTS", "UV_NATIVE_TLS")
# Settings by which a user already chose uv's certificates: left as they are.
_CERTIFICATE_CHOICES = (*_UV_SYSTEM_CERTS, "SSL_CERT_FILE", "SSL_CERT_DIR")


def nox_environment(environ: dict[str, str], links: Path | None) -> dict[str, str]:
    """Return the environment to run nox in: ``environ``, with ``links`` first on PATH (if given).

    uv is told to trust the system's certificate store unless the user chose its certificates.
    """
    env = dict(environ)
    if not any(env.get(name) for name in _CERTIFICATE_CHOICES):
        env.update(dict.fromkeys(_UV_SYSTEM_CERTS, "1"))
    if links is not None:
        env["PATH"] = os.pathsep.join([str(links), env.get("PATH", "")])
    return env


def main(argv: list[str]) -> int:
    """Bootstrap nox, then run it in the repository root with ``argv``; return nox's exit code."""
    python = ensure_nox(BOOTSTRAP / "venv")
    links = None
    if not _WINDOWS:
        links = BOOTSTRAP / "interpreters"
        found = link_interpreters(links)
        missing = [version for version, path in found.items() if path is None]
        if missing:
            print(f"run_nox: Python {', '.join(missing)} not found on this machine", file=sys.stderr)
    env = nox_environment(dict(os.environ), links)
    return subprocess.run([str(python), "-m", "nox", *argv], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
