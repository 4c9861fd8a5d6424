"""Developer and CI sessions for the persidict monorepo.

Every session builds its own environment and installs the packages from the local folders
under ``packages/``; nothing of ours is taken from PyPI. Dependency groups come from the root
``pyproject.toml``. Run ``nox -l`` for the list; plain ``nox`` runs everything a contributor
must pass.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nox
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

# folder under packages/ -> (distribution, import name, test folders under tests/)
PACKAGES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "safestr": ("persidict-safestr", "persidict_safestr", ("safestr",)),
    "persidict-core": ("persidict-core", "persidict_core", ("core",)),
    "persidict-cache": ("persidict-cache", "persidict_cache", ("cache",)),
    "persidict-s3": ("persidict-s3", "persidict_s3", ("s3",)),
    "persidict-multi": ("persidict-multi", "persidict_multi", ("multi",)),
    "persidict": ("persidict", "persidict", ("meta", "cli")),  # cli: the console script
}
FOLDER_OF_DIST = {dist: folder for folder, (dist, _, _) in PACKAGES.items()}

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.download_python = "never"  # only interpreters found on this machine, never a download
nox.options.error_on_missing_interpreters = False  # a missing 3.X is reported as a skip
nox.options.reuse_venv = "yes"
nox.options.sessions = [
    "tests",
    "tests_isolated",
    "missing_backend",
    "lint",
    "typecheck",
    "docs",
    "build",
    "wheels_smoke",
]


def _find_interpreter(version: str) -> str | None:
    """Return the path of a working ``python<version>``, or None when this machine has none.

    Looks on PATH first, then in pyenv's versions folder (``pyenv root`` or ``$PYENV_ROOT``),
    so pyenv shims that point at another version do not fool us.
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


def _put_interpreters_on_path() -> dict[str, str | None]:
    """Find each supported Python and put a ``python3.X`` link to it first on PATH.

    nox (and uv) then find exactly these interpreters. Only the links go on PATH, not the
    interpreters' own bin folders, so their ``python3``, ``pip`` or ``uv`` shadow nothing.
    """
    found = {version: _find_interpreter(version) for version in PYTHONS}
    links = ROOT / ".nox" / ".interpreters"
    links.mkdir(parents=True, exist_ok=True)
    for version, path in found.items():
        link = links / f"python{version}"
        if path is None:
            link.unlink(missing_ok=True)
        elif not (link.is_symlink() and os.readlink(link) == path):
            # Create-then-rename, so concurrent nox runs never see a half-made link.
            temporary = links / f".python{version}.{os.getpid()}"
            temporary.unlink(missing_ok=True)
            temporary.symlink_to(path)
            os.replace(temporary, link)
    os.environ["PATH"] = os.pathsep.join([str(links), os.environ.get("PATH", "")])
    return found


INTERPRETERS = _put_interpreters_on_path()
# Sessions that need one interpreter use 3.12 when present, else the newest one found.
DEFAULT_PYTHON: str | None = (
    "3.12" if INTERPRETERS["3.12"] else next((v for v in reversed(PYTHONS) if INTERPRETERS[v]), None)
)


def _group(*names: str) -> list[str]:
    """Return the requirements of the named dependency groups of the root pyproject.toml."""
    return list(nox.project.dependency_groups(PYPROJECT, *names))


def _local(folder: str) -> str:
    return str(ROOT / "packages" / folder)


def _requirement_name(requirement: str) -> str:
    return Requirement(requirement).name


def _test_deps(*names: str) -> list[str]:
    """Return the requirements of the ``test`` group whose project names are in ``names``."""
    return [req for req in _group("test") if _requirement_name(req) in names]


def _rebuild_flags(session: nox.Session, folders: list[str]) -> list[str]:
    """Return installer flags that force our local packages to be rebuilt from source.

    uv caches wheels built from a local folder and, by default, only notices a change of the
    folder's pyproject.toml; pip always rebuilds a folder it installs.
    """
    if session.venv_backend != "uv":
        return []
    return [flag for folder in folders for flag in ("--reinstall-package", PACKAGES[folder][0])]


def _sibling_closure(folder: str) -> list[str]:
    """Return ``folder`` and the folders of every sibling it depends on, dependencies first.

    Read from each package's declared ``dependencies``, so a missing declaration shows up as a
    failing isolated test run instead of being papered over here.
    """
    ordered: list[str] = []

    def visit(current: str) -> None:
        if current in ordered:
            return
        project = nox.project.load_toml(ROOT / "packages" / current / "pyproject.toml")["project"]
        for requirement in project.get("dependencies", []):
            name = _requirement_name(requirement)
            if name in FOLDER_OF_DIST:
                visit(FOLDER_OF_DIST[name])
        ordered.append(current)

    visit(folder)
    return ordered


def install(
    session: nox.Session,
    folders: list[str] | None = None,
    *,
    groups: tuple[str, ...] = (),
    extra: tuple[str, ...] = (),
    editable: bool = True,
    no_deps: tuple[str, ...] = (),
) -> None:
    """Install local packages, dependency groups and extra requirements in one resolver run.

    Args:
        session: The nox session.
        folders: Folders under ``packages/`` to install (default: all six).
        groups: Dependency groups of the root pyproject.toml to add.
        extra: More requirement strings.
        editable: Install the local packages in editable mode.
        no_deps: Folders to install afterwards without their dependencies.
    """
    folders = list(PACKAGES) if folders is None else folders
    args: list[str] = [] if editable else _rebuild_flags(session, folders)
    for folder in folders:
        args += ["-e", _local(folder)] if editable else [_local(folder)]
    args += _group(*groups) if groups else []
    args += list(extra)
    if args:
        session.install(*args)
    for folder in no_deps:
        session.install(*_rebuild_flags(session, [folder]), "--no-deps", _local(folder))


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the whole suite (S3 tests included, on moto) with every package installed."""
    missing = [version for version, path in INTERPRETERS.items() if path is None]
    if missing:
        session.log(f"Python versions not found on this machine (their sessions are skipped): {missing}")
    install(session, groups=("test",))
    session.run("pytest", *(session.posargs or PARALLEL + ["tests"]))


@nox.session(python=DEFAULT_PYTHON, reuse_venv=False)
@nox.parametrize("package", list(PACKAGES), ids=list(PACKAGES))
def tests_isolated(session: nox.Session, package: str) -> None:
    """Run one package's tests in an environment with only that package and its dependencies.

    The package and its sibling dependencies are installed from their local folders (not
    editable); third-party dependencies come from the index as a user would get them.
    """
    dist, _, tests_folders = PACKAGES[package]
    closure = _sibling_closure(package)
    test_deps = _test_deps(*_ISOLATED_TEST_DEPS)
    if package in ("persidict-s3", "persidict"):  # the command line is tested on moto's S3 server too
        test_deps += _test_deps("moto", "boto3")
    session.install(*_rebuild_flags(session, closure), *(_local(folder) for folder in closure), *test_deps)
    if package == "safestr":
        _assert_not_importable(session, "pydantic")
    if package in ("safestr", "persidict-core", "persidict-cache", "persidict-multi"):
        _assert_not_importable(session, "boto3", "botocore")
    session.log(f"{dist} installed with its dependencies only: {', '.join(closure)}")
    session.run("pytest", *(session.posargs or PARALLEL + [f"tests/{folder}" for folder in tests_folders]))


_ISOLATED_TEST_DEPS = {"pytest", "pytest-timeout", "pytest-xdist", "hypothesis"}
# pytest-xdist, one worker per core: many tests wait (S3 timestamps, other processes), so this
# roughly halves the suite's wall time on two cores. Arguments after `--` replace it.
PARALLEL = ["-n", "auto"]


def _assert_not_importable(session: nox.Session, *modules: str) -> None:
    """Fail the session if any of ``modules`` is importable in its environment."""
    code = (
        "import importlib.util, sys\n"
        f"present = [m for m in {list(modules)!r} if importlib.util.find_spec(m) is not None]\n"
        "sys.exit('installed but must not be: ' + ', '.join(present) if present else 0)\n"
    )
    session.run("python", "-c", code, silent=True)


@nox.session(python=DEFAULT_PYTHON, reuse_venv=False)
def missing_backend(session: nox.Session) -> None:
    """Install the facade without persidict-s3 and check the helpful MissingBackendError."""
    others = [folder for folder in PACKAGES if folder not in ("persidict-s3", "persidict")]
    test_deps = tuple(_test_deps(*_ISOLATED_TEST_DEPS))
    install(session, others, editable=False, extra=test_deps, no_deps=("persidict",))
    _assert_not_importable(session, "persidict_s3", "boto3")
    session.run("pytest", *(session.posargs or ["tests/meta/test_missing_backend.py"]))


@nox.session(python=DEFAULT_PYTHON)
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff (fix locally with ``ruff check --fix . && ruff format .``)."""
    install(session, [], groups=("lint",))
    session.run("ruff", "check", *(session.posargs or ["."]))
    session.run("ruff", "format", "--check", *(session.posargs or ["."]))


@nox.session(python=DEFAULT_PYTHON)
def typecheck(session: nox.Session) -> None:
    """Run mypy --strict (with the pydantic plugin) over the packages, tests, tools and this file."""
    install(session, groups=("typecheck", "test"))
    session.run("mypy", *session.posargs)


@nox.session(python=DEFAULT_PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation site with ``mkdocs build --strict`` into site/."""
    install(session, groups=("docs",))
    session.run("mkdocs", "build", "--strict", *session.posargs, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=DEFAULT_PYTHON)
def versions(session: nox.Session) -> None:
    """Fail when any package's version, sibling pin or LICENSE copy disagrees with VERSION."""
    session.run("python", str(ROOT / "tools" / "bump_version.py"), "--check")


@nox.session(python=False)
def bump(session: nox.Session) -> None:
    """Set a new version everywhere: ``nox -s bump -- 0.2.0``."""
    if len(session.posargs) != 1:
        session.error("usage: nox -s bump -- <new version>")
    session.run(sys.executable, str(ROOT / "tools" / "bump_version.py"), session.posargs[0], external=True)


@nox.session(python=DEFAULT_PYTHON)
def build(session: nox.Session) -> None:
    """Build a wheel and an sdist of each package into dist/ and check their metadata."""
    session.run("python", str(ROOT / "tools" / "bump_version.py"), "--check")
    session.install("build[uv]>=1.2", "twine>=6.1")
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    for folder in PACKAGES:
        session.run("python", "-m", "build", "--installer", "uv", "--outdir", str(dist), _local(folder))
    artifacts = sorted(str(path) for path in dist.iterdir())
    session.run("twine", "check", "--strict", *artifacts)
    session.run("python", str(ROOT / "tools" / "check_dists.py"), str(dist))


@nox.session(python=DEFAULT_PYTHON, requires=["build"], reuse_venv=False)
def wheels_smoke(session: nox.Session) -> None:
    """Install the built wheels (not editable) into a fresh environment and import everything."""
    wheels = sorted(str(path) for path in (ROOT / "dist").glob("*.whl"))
    if len(wheels) != len(PACKAGES):
        session.error(f"expected {len(PACKAGES)} wheels in dist/, found {len(wheels)}: run `nox -s build`")
    session.install(*_rebuild_flags(session, list(PACKAGES)), *wheels)
    with tempfile.TemporaryDirectory() as tmp:  # run outside the repository so nothing local shadows
        with session.chdir(tmp):
            session.run("python", str(ROOT / "tools" / "smoke_wheels.py"))


@nox.session(python=DEFAULT_PYTHON)
def demo(session: nox.Session) -> None:
    """Run examples/demo.py: local files, a second process, S3 on a moto server, caching, write-once."""
    install(session, editable=False, extra=tuple(_test_deps("moto")))
    session.run("python", str(ROOT / "examples" / "demo.py"), *session.posargs)


@nox.session(python=DEFAULT_PYTHON)
def bench(session: nox.Session) -> None:
    """Run every benchmarks/bench_*.py (speed ratios against raw baselines); ``-- --no-fail`` reports only."""
    install(session, editable=False, groups=("bench",))
    _original_persidict_venv(session)
    scripts = sorted((ROOT / "benchmarks").glob("bench_*.py"))
    if not scripts:
        session.skip("no benchmarks/bench_*.py yet")
    failed = []
    for script in scripts:
        try:
            session.run("python", str(script), *session.posargs)
        except nox.command.CommandFailed:
            failed.append(script.name)
    if failed:
        session.error(f"benchmarks missed their targets: {', '.join(failed)}")


ORIGINAL_PERSIDICT = "persidict==0.309.0"
ORIGINAL_VENV = ROOT / ".bench" / "original-venv"


def _original_persidict_venv(session: nox.Session) -> None:
    """Create .bench/original-venv with the original persidict, which bench_core.py compares against.

    The original shares our import name, so it gets an environment of its own (made once, then
    reused). A failed install is reported, and the benchmarks run without the comparison.
    """
    python = ORIGINAL_VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    marker = ORIGINAL_VENV / f"{ORIGINAL_PERSIDICT}.installed"
    if marker.exists():
        return
    try:
        session.run("python", "-m", "venv", "--clear", str(ORIGINAL_VENV), silent=True)
        session.run(str(python), "-m", "pip", "install", "-q", ORIGINAL_PERSIDICT, external=True)
    except nox.command.CommandFailed:
        session.warn(f"Cannot install {ORIGINAL_PERSIDICT}: the benchmarks run without the comparison")
        shutil.rmtree(ORIGINAL_VENV, ignore_errors=True)
        return
    marker.touch()
