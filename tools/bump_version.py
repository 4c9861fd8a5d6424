"""Keep the six persidict distributions on one version (lockstep).

The version lives in the top-level ``VERSION`` file. This tool writes it everywhere else it
must appear and checks that it does:

* ``packages/*/src/<import>/_version.py`` (hatchling reads each package's version from there);
* every exact pin of a sibling distribution in ``packages/*/pyproject.toml``
  (``persidict-core==X.Y.Z``);
* the copy of the top-level ``LICENSE`` in each package folder (so sdists and wheels carry it).

Usage::

    python tools/bump_version.py 0.2.0   # set the version everywhere
    python tools/bump_version.py --check # exit 1 and list every disagreement
    python tools/bump_version.py --sync  # rewrite everything from VERSION (e.g. after a LICENSE edit)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION_FILE = ROOT / "VERSION"
LICENSE_FILE = ROOT / "LICENSE"

# folder under packages/ -> (distribution name, import name)
PACKAGES: dict[str, tuple[str, str]] = {
    "safestr": ("persidict-safestr", "persidict_safestr"),
    "persidict-core": ("persidict-core", "persidict_core"),
    "persidict-cache": ("persidict-cache", "persidict_cache"),
    "persidict-s3": ("persidict-s3", "persidict_s3"),
    "persidict-multi": ("persidict-multi", "persidict_multi"),
    "persidict": ("persidict", "persidict"),
}
DISTRIBUTIONS = tuple(dist for dist, _ in PACKAGES.values())

_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?$")
_PIN_RE = re.compile(
    r'"(?P<dist>' + "|".join(re.escape(d) for d in sorted(DISTRIBUTIONS, key=len, reverse=True)) + r")"
    r"(?P<extras>\[[^\]]*\])?==(?P<version>[^\";\s]+)"
)
# Any quoted requirement on a sibling, whatever its specifier (to catch pins other than ==).
_ANY_SIBLING_RE = re.compile(r'"(persidict(?:-[a-z0-9]+)?)(?:\[[^\]]*\])?\s*(?:([<>~!=]=?=?)[^"]*)?"')
_VERSION_PY_RE = re.compile(r'^__version__ = "(?P<version>[^"]+)"$', re.MULTILINE)


def read_version() -> str:
    """Return the version defined in ``VERSION``."""
    return VERSION_FILE.read_text(encoding="utf-8").strip()


def _version_py(folder: str) -> Path:
    return ROOT / "packages" / folder / "src" / PACKAGES[folder][1] / "_version.py"


def _version_py_text(folder: str, version: str) -> str:
    dist = PACKAGES[folder][0]
    return (
        f'"""The version of the {dist} distribution (written by tools/bump_version.py)."""\n\n'
        f'__version__ = "{version}"\n'
    )


def _pyproject(folder: str) -> Path:
    return ROOT / "packages" / folder / "pyproject.toml"


def write_version(version: str) -> list[Path]:
    """Write ``version`` to ``VERSION``, every ``_version.py``, every sibling pin and LICENSE copy."""
    if not _VERSION_RE.match(version):
        raise SystemExit(f"not a release version: {version!r} (expected e.g. 0.2.0 or 0.2.0rc1)")
    changed: list[Path] = []

    def put(path: Path, text: str) -> None:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)

    put(VERSION_FILE, version + "\n")
    license_text = LICENSE_FILE.read_text(encoding="utf-8")
    for folder in PACKAGES:
        put(_version_py(folder), _version_py_text(folder, version))
        pyproject = _pyproject(folder)
        text = pyproject.read_text(encoding="utf-8")
        put(pyproject, _PIN_RE.sub(lambda m: f'"{m["dist"]}{m["extras"] or ""}=={version}', text))
        put(ROOT / "packages" / folder / "LICENSE", license_text)
    return changed


def check() -> list[str]:
    """Return one message per place that disagrees with ``VERSION`` (empty when all agree)."""
    version = read_version()
    problems: list[str] = []
    if not _VERSION_RE.match(version):
        problems.append(f"VERSION: {version!r} is not a release version")
    license_text = LICENSE_FILE.read_text(encoding="utf-8")
    for folder, (dist, _) in PACKAGES.items():
        version_py = _version_py(folder)
        found = _VERSION_PY_RE.search(version_py.read_text(encoding="utf-8")) if version_py.exists() else None
        if found is None:
            problems.append(f"{version_py.relative_to(ROOT)}: no __version__ line")
        elif found["version"] != version:
            problems.append(f"{version_py.relative_to(ROOT)}: {found['version']} != {version}")
        pyproject = _pyproject(folder)
        text = pyproject.read_text(encoding="utf-8")
        if not re.search(rf'^name = "{re.escape(dist)}"$', text, re.MULTILINE):
            problems.append(f"{pyproject.relative_to(ROOT)}: project name is not {dist!r}")
        if 'dynamic = ["version"]' not in text:
            problems.append(f"{pyproject.relative_to(ROOT)}: version must be dynamic (read from _version.py)")
        for pin in _PIN_RE.finditer(text):
            if pin["version"] != version:
                where = pyproject.relative_to(ROOT)
                problems.append(f"{where}: {pin['dist']}=={pin['version']} != {version}")
        for loose in _ANY_SIBLING_RE.finditer(text):
            if loose[1] in DISTRIBUTIONS and loose[2] != "==" and loose[0] != f'"{dist}"':
                problems.append(f"{pyproject.relative_to(ROOT)}: sibling {loose[1]} must be pinned with ==")
        license_copy = ROOT / "packages" / folder / "LICENSE"
        if not license_copy.exists() or license_copy.read_text(encoding="utf-8") != license_text:
            problems.append(f"{license_copy.relative_to(ROOT)}: differs from the top-level LICENSE")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Run the command line interface; return the exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("version", nargs="?", help="the new version, e.g. 0.2.0")
    group.add_argument("--check", action="store_true", help="fail if any place disagrees with VERSION")
    group.add_argument("--sync", action="store_true", help="rewrite every place from VERSION")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(f"version mismatch: {problem}", file=sys.stderr)
        if problems:
            print("run `nox -s bump -- <version>` (or tools/bump_version.py --sync) to fix", file=sys.stderr)
            return 1
        print(f"all six distributions are at {read_version()}")
        return 0
    version = read_version() if args.sync else args.version
    for path in write_version(version):
        print(f"updated {path.relative_to(ROOT)}")
    print(f"all six distributions are now at {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
