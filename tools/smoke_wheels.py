"""Import every persidict package and every facade name from an installed (non-editable) set.

Run by ``nox -s wheels_smoke`` in a fresh environment where only the built wheels (and their
third-party dependencies) are installed, from a directory outside the repository.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

PACKAGES = {
    "persidict-safestr": "persidict_safestr",
    "persidict-core": "persidict_core",
    "persidict-cache": "persidict_cache",
    "persidict-s3": "persidict_s3",
    "persidict-multi": "persidict_multi",
    "persidict": "persidict",
}
# Facade names whose distribution needs an extra that may be absent; none today.
NEEDS_ABSENT_EXTRA: set[str] = set()


def main() -> int:
    """Import everything; return 1 (and say why) on the first problem."""
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    versions = set()
    for dist, module_name in PACKAGES.items():
        module = importlib.import_module(module_name)
        location = Path(module.__file__ or "").resolve()
        if site not in location.parents:
            print(f"{module_name} is imported from {location}, not from {site}: not a wheel install")
            return 1
        if not (location.parent / "py.typed").exists():
            print(f"{module_name}: py.typed is missing")
            return 1
        installed = importlib.metadata.version(dist)
        versions.add(installed)
        print(f"  {dist:<18} {installed}  {location.parent}")
    if len(versions) != 1:
        print(f"the distributions disagree on their version: {sorted(versions)}")
        return 1

    import persidict

    names = [name for name in persidict.__all__ if name not in NEEDS_ABSENT_EXTRA]
    for name in names:
        getattr(persidict, name)
    if persidict.__version__ != versions.pop():
        print(f"persidict.__version__ is {persidict.__version__}, not the installed version")
        return 1
    version = persidict.__version__
    print(f"imported {len(PACKAGES)} packages and {len(names)} facade names (persidict {version})")
    script = shutil.which("persidict", path=os.path.dirname(sys.executable))
    if script is None:
        print("the persidict console script is not installed")
        return 1
    with tempfile.TemporaryDirectory() as folder:
        ran = subprocess.run([script, "put", folder, "k", "[1, 2]"], capture_output=True, text=True)
        shown = subprocess.run([script, "get", folder, "k"], capture_output=True, text=True)
        if ran.returncode or shown.stdout != "[1, 2]\n":
            print(f"the persidict console script failed: {ran.stderr}{shown.stderr}")
            return 1
    print(f"the console script works: {script}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
