"""The packages talk to each other through public names only, and silence no type checks.

Scans ``packages/*/src`` for:

* ``# type: ignore`` comments;
* a private name (``_x``, not a dunder) of another persidict distribution used across the
  boundary: attribute access ``obj._x`` where ``obj`` is not ``self``, ``cls`` or ``super()``
  and ``_x`` is first defined by a distribution this one depends on (or by a third-party
  library), and imports of another distribution's private modules (``persidict_core._config``).

The few exceptions are listed in ALLOWED below, each with its reason and the most occurrences
it may have. The list only shrinks: a new offender (or one more occurrence) fails the test.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[2]

# Import package -> (source folder, rank in the dependency order: a distribution may only
# depend on those of lower rank).
PACKAGES: Final = {
    "persidict_safestr": ("packages/safestr/src/persidict_safestr", 0),
    "persidict_core": ("packages/persidict-core/src/persidict_core", 1),
    "persidict_cache": ("packages/persidict-cache/src/persidict_cache", 2),
    "persidict_multi": ("packages/persidict-multi/src/persidict_multi", 2),
    "persidict_s3": ("packages/persidict-s3/src/persidict_s3", 3),
    "persidict": ("packages/persidict/src/persidict", 4),
}

# (file relative to the repository, the private name or "type: ignore") -> most occurrences.
ALLOWED: Final[dict[tuple[str, str], int]] = {
    # reversed(key) is a key (documented), not the Iterator that Sequence.__reversed__ promises.
    ("packages/safestr/src/persidict_safestr/_safe_str_tuple.py", "type: ignore"): 1,
}

_TYPE_IGNORE: Final = re.compile(r"#\s*type:\s*ignore")


def _sources() -> dict[str, list[Path]]:
    return {package: sorted((ROOT / folder).rglob("*.py")) for package, (folder, _) in PACKAGES.items()}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _defined_names(tree: ast.AST) -> set[str]:
    """Private names a module defines: functions, classes, assignments, ``self._x = ...``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
            names.add(node.value)  # object.__setattr__(self, "_x", ...) in read-only classes
    return {name for name in names if _is_private(name)}


def _is_own_object(node: ast.expr) -> bool:
    if isinstance(node, ast.Name) and node.id in ("self", "cls"):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"


def _owners() -> dict[str, int]:
    """Private name -> the lowest rank of the distributions defining it."""
    owners: dict[str, int] = {}
    for package, files in _sources().items():
        rank = PACKAGES[package][1]
        for path in files:
            for name in _defined_names(ast.parse(path.read_text(encoding="utf-8"))):
                owners[name] = min(owners.get(name, rank), rank)
    return owners


def find_offenders() -> Counter[tuple[str, str]]:
    """Return ``(file, name or "type: ignore") -> occurrences`` over every package's sources."""
    owners = _owners()
    found: Counter[tuple[str, str]] = Counter()
    for package, files in _sources().items():
        rank = PACKAGES[package][1]
        for path in files:
            relative = path.relative_to(ROOT).as_posix()
            text = path.read_text(encoding="utf-8")
            found[(relative, "type: ignore")] += len(_TYPE_IGNORE.findall(text))
            for node in ast.walk(ast.parse(text)):
                if (
                    isinstance(node, ast.Attribute)
                    and _is_private(node.attr)
                    and not _is_own_object(node.value)
                ):
                    if owners.get(node.attr, -1) != rank:  # defined below us, or by a library
                        found[(relative, node.attr)] += 1
                modules: list[str] = []
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                elif isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                for module in modules:
                    top, *rest = module.split(".")
                    if top in PACKAGES and top != package and any(_is_private(part) for part in rest):
                        found[(relative, module)] += 1
    return +found  # drop the zero counts


def test_the_scanner_sees_a_cross_package_private_use() -> None:
    # The scanner itself: self/cls/super() are the object's own; others are not.
    tree = ast.parse("self._a(); cls._b; super()._c(); other._d()")
    flagged = [
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and _is_private(node.attr) and not _is_own_object(node.value)
    ]
    assert flagged == ["_d"]
    assert _defined_names(ast.parse("class _K:\n    def _m(self):\n        self._x = 1")) == {
        "_K",
        "_m",
        "_x",
    }


def test_no_type_ignores_and_no_private_names_across_packages() -> None:
    found = find_offenders()
    assert found, "the scan found nothing at all: is ROOT right?"
    over = {entry: count for entry, count in found.items() if count > ALLOWED.get(entry, 0)}
    assert not over, (
        "new `type: ignore` or private names used across package boundaries "
        f"(file, name): occurrences: {over}"
    )
    stale = {entry: count for entry, count in ALLOWED.items() if found.get(entry, 0) < count}
    assert not stale, f"ALLOWED grants more than is used: lower or delete these entries: {stale}"


def test_no_private_module_of_another_distribution_is_imported() -> None:
    found = find_offenders()
    imports = {entry: count for entry, count in found.items() if "." in entry[1]}
    assert not imports, imports
