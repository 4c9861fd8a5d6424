"""Check the built distributions in a folder: one wheel and one sdist per package, right contents.

Run by ``nox -s build`` after ``twine check``. For every package it checks that the wheel and
the sdist exist at the version in ``VERSION``, carry the LICENSE and ``py.typed``, and that
the wheel contains the package's ``_version.py``. Exits 1 and lists every problem otherwise.
"""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bump_version import PACKAGES, read_version  # noqa: E402


def check(dist_dir: Path) -> list[str]:
    """Return one message per problem found in ``dist_dir``."""
    version = read_version()
    problems: list[str] = []
    for dist, module in PACKAGES.values():
        stem = f"{dist.replace('-', '_')}-{version}"
        wheel = dist_dir / f"{stem}-py3-none-any.whl"
        sdist = dist_dir / f"{stem}.tar.gz"
        if not wheel.exists():
            problems.append(f"missing wheel {wheel.name}")
        else:
            with zipfile.ZipFile(wheel) as archive:
                names = set(archive.namelist())
            for required in (
                f"{module}/__init__.py",
                f"{module}/_version.py",
                f"{module}/py.typed",
                f"{stem}.dist-info/licenses/LICENSE",
            ):
                if required not in names:
                    problems.append(f"{wheel.name}: no {required}")
        if not sdist.exists():
            problems.append(f"missing sdist {sdist.name}")
        else:
            with tarfile.open(sdist) as archive:
                names = set(archive.getnames())
            sdist_files = ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", f"src/{module}/py.typed")
            for required in sdist_files:
                if f"{stem}/{required}" not in names:
                    problems.append(f"{sdist.name}: no {required}")
    expected = {f"{d.replace('-', '_')}-{version}" for d, _ in PACKAGES.values()}
    for path in dist_dir.iterdir():
        if not any(path.name.startswith(stem + "-") or path.name == stem + ".tar.gz" for stem in expected):
            problems.append(f"unexpected file in {dist_dir}: {path.name}")
    return problems


def main() -> int:
    """Check the folder named on the command line (default: dist/)."""
    dist_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "dist")
    problems = check(dist_dir)
    for problem in problems:
        print(f"dist check: {problem}", file=sys.stderr)
    if not problems:
        print(f"{len(PACKAGES)} wheels and {len(PACKAGES)} sdists at {read_version()} look complete")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
