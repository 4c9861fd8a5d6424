"""Developer and CI sessions for the persidict monorepo.

Every session builds its own environment and installs the packages from the local folders
under ``packages/``; nothing of ours is taken from PyPI. Dependency groups come from the root
``pyproject.toml``. Run ``nox -l`` for the list; plain ``nox`` runs everything a contributor
must pass. ``python3 tools/run_nox.py ...`` runs nox from a private environment and puts the
Pythons it finds (pyenv's too) on PATH first; importing this file changes nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nox
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
# The Python running nox: always present, so every session that needs one interpreter uses it.
CURRENT = f"{sys.version_info[0]}.{sys.version_info[1]}"
# The suite runs on the oldest and the newest supported Python and on the one running nox, which
# alone also runs the integration tests (`--extra-pythons 3.12` adds another); `tests_check`
# fails the run unless the last passed.
TEST_PYTHONS = sorted({PYTHONS[0], PYTHONS[-1], CURRENT}, key=lambda v: tuple(map(int, v.split("."))))

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
nox.options.error_on_missing_interpreters = False  # a missing 3.X is skipped; see tests_check
nox.options.reuse_venv = "yes"
nox.options.sessions = [
    "tests",
    "tests_check",
    "tests_isolated",
    "missing_backend",
    "lint",
    "typecheck",
    "docs",
    "build",
    "wheels_smoke",
    "install_from_checkout",
]


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


@nox.session(python=TEST_PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the whole suite (S3 tests included, on moto) with every package installed.

    On the Python running nox the whole suite runs; on the others, all but the integration
    tests (races of processes and servers, the console script in subprocesses: see
    tests/conftest.py), whose outcome does not depend on the interpreter.
    """
    install(session, groups=("test",))
    if session.posargs:  # arguments after -- select part of the suite: not a full run
        session.run("pytest", *session.posargs)
        return
    full = session.python == CURRENT
    session.run("pytest", *PARALLEL, *([] if full else SKIP_INTEGRATION), "tests")
    PASSED_RUNS.append(str(session.python))


# Pythons on which the suite passed during this nox run (whole on the Python running nox, without
# the integration tests on the others). Sessions of one run share this module (nox runs them
# one after another in its own process); `tests_check` reads it.
PASSED_RUNS: list[str] = []


def full_runs_verdict(passed: list[str], wanted: list[str], current: str) -> tuple[bool, str]:
    """Say whether a run in which the suite passed on ``passed`` is good enough.

    It is when the suite passed on ``current``, the Python running nox (always present, so a
    machine without the other versions still runs the whole suite once). Versions of ``wanted``
    that did not run are named: nox skips a session whose interpreter is missing.

    Returns:
        ``(ok, message)``.
    """
    skipped = [version for version in wanted if version not in passed]
    ran = ", ".join(passed) if passed else "none"
    message = f"suite passed on Python: {ran} (the integration tests on {current})"
    if skipped:
        message += f"; did not run (not found, failed or not selected): {', '.join(skipped)}"
    if current not in passed:
        return False, f"{message}. It must pass on the Python running nox ({current}): run `-s tests`"
    return True, message


@nox.session(python=False)
def tests_check(session: nox.Session) -> None:
    """Fail unless ``tests`` ran the whole suite on the Python running nox in this run; list the rest.

    List it after ``tests`` on the command line (sessions run in that order).
    """
    ok, message = full_runs_verdict(PASSED_RUNS, TEST_PYTHONS, CURRENT)
    if not ok:
        session.error(message)
    session.log(message)


@nox.session(python=CURRENT, reuse_venv=False)
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
    if package == "persidict":
        test_deps += _test_deps(*_META_TEST_DEPS)
    session.install(*_rebuild_flags(session, closure), *(_local(folder) for folder in closure), *test_deps)
    if package == "safestr":
        _assert_not_importable(session, "pydantic")
    if package in ("safestr", "persidict-core", "persidict-cache", "persidict-multi"):
        _assert_not_importable(session, "boto3", "botocore")
    session.log(f"{dist} installed with its dependencies only: {', '.join(closure)}")
    # The integration tests ran in the full suite; here the rest proves the dependencies suffice.
    session.run(
        "pytest",
        *(session.posargs or PARALLEL + SKIP_INTEGRATION + [f"tests/{folder}" for folder in tests_folders]),
    )


# numpy, pandas: values of the tests (streamed arrays, copies, json documents, memoize digests);
# no package requires them.
_ISOLATED_TEST_DEPS = {"pytest", "pytest-timeout", "pytest-xdist", "hypothesis", "numpy", "pandas"}
_META_TEST_DEPS = {"nox"}  # tests/meta checks the noxfile
# pytest-xdist, one worker per core: many tests wait (S3 timestamps, other processes), so this
# roughly halves the suite's wall time on two cores. Arguments after `--` replace it.
PARALLEL = ["-n", "auto"]
SKIP_INTEGRATION = ["-m", "not integration"]  # see tests/conftest.py


def _assert_not_importable(session: nox.Session, *modules: str) -> None:
    """Fail the session if any of ``modules`` is importable in its environment."""
    code = (
        "import importlib.util, sys\n"
        f"present = [m for m in {list(modules)!r} if importlib.util.find_spec(m) is not None]\n"
        "sys.exit('installed but must not be: ' + ', '.join(present) if present else 0)\n"
    )
    session.run("python", "-c", code, silent=True)


@nox.session(python=CURRENT, reuse_venv=False)
def missing_backend(session: nox.Session) -> None:
    """Install the facade without persidict-s3 and check the helpful MissingBackendError."""
    others = [folder for folder in PACKAGES if folder not in ("persidict-s3", "persidict")]
    test_deps = tuple(_test_deps(*_ISOLATED_TEST_DEPS))
    install(session, others, editable=False, extra=test_deps, no_deps=("persidict",))
    _assert_not_importable(session, "persidict_s3", "boto3")
    session.run("pytest", *(session.posargs or ["tests/meta/test_missing_backend.py"]))


@nox.session(python=CURRENT)
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff (fix locally with ``ruff check --fix . && ruff format .``)."""
    install(session, [], groups=("lint",))
    session.run("ruff", "check", *(session.posargs or ["."]))
    session.run("ruff", "format", "--check", *(session.posargs or ["."]))


@nox.session(python=CURRENT)
def typecheck(session: nox.Session) -> None:
    """Run mypy --strict (with the pydantic plugin) over the packages, tests, tools and this file."""
    install(session, groups=("typecheck", "test"))
    session.run("mypy", *session.posargs)


@nox.session(python=CURRENT)
def docs(session: nox.Session) -> None:
    """Build the documentation site with ``mkdocs build --strict`` into site/."""
    install(session, groups=("docs",))
    session.run("mkdocs", "build", "--strict", *session.posargs, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=CURRENT)
def docs_serve(session: nox.Session) -> None:
    """Serve the documentation on http://127.0.0.1:8000 (rebuilt on change; search needs a server)."""
    install(session, groups=("docs",))
    address = session.posargs or ["--dev-addr", "127.0.0.1:8000"]
    session.run("mkdocs", "serve", *address, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=CURRENT)
def docs_browser(session: nox.Session) -> None:
    """Build the site and check it in headless Chromium (Debian's); screenshots in .docs-screenshots/.

    Fails on a stylesheet that does not load, an empty API page, a class heading without its
    signature, a home page or code block that scrolls sideways, a name broken across lines in
    a table, a private module named in a page, or a search that finds nothing. Needs ``apt-get
    install -y chromium``; Playwright drives it and downloads no browser of its own.
    """
    install(session, groups=("docs", "docs-browser"))
    session.run("mkdocs", "build", "--strict", env={"NO_MKDOCS_2_WARNING": "1"})
    shots = ROOT / ".docs-screenshots"
    session.run("python", str(ROOT / "tools" / "check_docs_site.py"), str(ROOT / "site"), str(shots))


@nox.session(python=CURRENT)
def versions(session: nox.Session) -> None:
    """Fail when any package's version, sibling pin or LICENSE copy disagrees with VERSION."""
    session.run("python", str(ROOT / "tools" / "bump_version.py"), "--check")


@nox.session(python=False)
def bump(session: nox.Session) -> None:
    """Set a new version everywhere: ``nox -s bump -- 0.2.0``."""
    if len(session.posargs) != 1:
        session.error("usage: nox -s bump -- <new version>")
    session.run(sys.executable, str(ROOT / "tools" / "bump_version.py"), session.posargs[0], external=True)


@nox.session(python=CURRENT)
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


@nox.session(python=CURRENT, requires=["build"], reuse_venv=False)
def wheels_smoke(session: nox.Session) -> None:
    """Install the built wheels (not editable) into a fresh environment and import everything."""
    wheels = sorted(str(path) for path in (ROOT / "dist").glob("*.whl"))
    if len(wheels) != len(PACKAGES):
        session.error(f"expected {len(PACKAGES)} wheels in dist/, found {len(wheels)}: run `nox -s build`")
    session.install(*_rebuild_flags(session, list(PACKAGES)), *wheels)
    with tempfile.TemporaryDirectory() as tmp:  # run outside the repository so nothing local shadows
        with session.chdir(tmp):
            session.run("python", str(ROOT / "tools" / "smoke_wheels.py"))


INSTALL_DOCS = ("README.md", "docs/getting-started/installation.md")
# argv: import names, then the distributions of ours that must be installed (comma-separated).
_INSTALLED_CHECK = """
import importlib, importlib.metadata, sys
for name in sys.argv[1].split(","):
    importlib.import_module(name)
names = sorted(d.metadata["Name"] for d in importlib.metadata.distributions())
ours = [name for name in names if name.startswith("persidict")]
sys.exit(0 if ours == sys.argv[2].split(",") else f"installed {ours}, expected {sys.argv[2]}")
"""


def documented_install_commands(*texts: str) -> list[str]:
    """Return the ``pip install ./packages/...`` lines of the bash blocks of ``texts``, once each."""
    commands: list[str] = []
    for text in texts:
        for block in re.findall(r"```bash\n(.*?)\n```", text, re.DOTALL):
            for line in block.splitlines():
                command = line.split("#", 1)[0].strip()
                if command.startswith("pip install ./packages/") and command not in commands:
                    commands.append(command)
    return commands


@nox.session(python=CURRENT, venv_backend="none")
def install_from_checkout(session: nox.Session) -> None:
    """Run each "from a checkout" install command of the README and the docs in a fresh venv; import.

    The commands are read from the documents, so the two cannot drift apart. Each runs as
    written, with plain pip, in a new ``python -m venv`` environment, from the repository root.
    """
    texts = [(ROOT / name).read_text(encoding="utf-8") for name in INSTALL_DOCS]
    commands = documented_install_commands(*texts)
    if not commands:
        session.error(f"no `pip install ./packages/...` command found in {', '.join(INSTALL_DOCS)}")
    for number, command in enumerate(commands):
        folders = [word.removeprefix("./packages/") for word in command.split()[2:]]
        unknown = [folder for folder in folders if folder not in PACKAGES]
        if unknown:
            session.error(f"{command!r} names folders that are not packages: {unknown}")
        venv = Path(session.create_tmp()).resolve() / f"install-{number}"
        shutil.rmtree(venv, ignore_errors=True)
        session.run(sys.executable, "-m", "venv", str(venv), external=True)
        bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
        env = {"PATH": os.pathsep.join([str(bin_dir), os.environ["PATH"]]), "VIRTUAL_ENV": str(venv)}
        env |= {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_QUIET": "1"}
        session.log(f"fresh venv: {command}")
        session.run("bash", "-c", command, env=env, external=True)
        # Exactly the named distributions of ours are installed, and each imports.
        names = [PACKAGES[folder][1] for folder in folders]
        dists = sorted(PACKAGES[folder][0] for folder in folders)
        with session.chdir(session.create_tmp()):  # away from the checkout, so nothing local shadows
            session.run(
                str(bin_dir / "python"),
                "-c",
                _INSTALLED_CHECK,
                ",".join(names),
                ",".join(dists),
                external=True,
                silent=True,
            )


@nox.session(python=CURRENT)
def demo(session: nox.Session) -> None:
    """Run examples/demo.py: local files, a second process, S3 on a moto server, caching, write-once."""
    install(session, editable=False, extra=tuple(_test_deps("moto")))
    session.run("python", str(ROOT / "examples" / "demo.py"), *session.posargs)


@nox.session(python=CURRENT)
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
