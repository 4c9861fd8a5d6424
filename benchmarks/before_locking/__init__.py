"""persidict-core as it was before FileDirDict's writers took a lock, importable beside today's.

``bench_conditional.py`` times today's writes against this version's in one process, call by
call, so that both meet the same process, CPU and disk state. The version's sources come from
this repository's history (``git archive`` of persidict-safestr and persidict-core at
`BEFORE_LOCKING_COMMIT`); its two packages are copied under names of their own
(``persidict_core_before_locking``, ``persidict_safestr_before_locking``), with every reference
between them renamed, so that they import their own modules and none of today's.
"""

from __future__ import annotations

import importlib
import io
import re
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType

# The last commit before FileDirDict's writers took a lock.
BEFORE_LOCKING_COMMIT = "58171cc"
SUFFIX = "_before_locking"
_REPOSITORY = Path(__file__).resolve().parent.parent.parent
_PACKAGES = {"persidict_safestr": "packages/safestr", "persidict_core": "packages/persidict-core"}
_OWN_NAMES = re.compile(r"\b(persidict_core|persidict_safestr)\b")


def import_before_locking(work: Path) -> ModuleType | None:
    """Import that version's persidict-core (as ``persidict_core_before_locking``).

    The renamed copy is written under ``work``. None, with a message, without the repository's
    history (e.g. a source archive), where the rows that need it are skipped.
    """
    try:
        archive = subprocess.run(
            ["git", "-C", str(_REPOSITORY), "archive", BEFORE_LOCKING_COMMIT, *_PACKAGES.values()],
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"(no persidict-core of {BEFORE_LOCKING_COMMIT} from git: {exc}; rows skipped)")
        return None
    sources = work / "sources"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(sources, filter="data")  # our own history: plain files only
    renamed = work / "renamed"
    for package, folder in _PACKAGES.items():
        for source in (sources / folder / "src" / package).rglob("*.py"):
            target = renamed / (package + SUFFIX) / source.relative_to(sources / folder / "src" / package)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_OWN_NAMES.sub(rf"\1{SUFFIX}", source.read_text()))
    sys.path.insert(0, str(renamed))
    return importlib.import_module("persidict_core" + SUFFIX)
