"""Public docs and docstrings speak of the product only.

No page, README, changelog, docstring or comment of the packages cites a document that is not in
the repository (design notes, specifications, issue texts) or a private module by its dotted
path (``persidict_core._errors``): a reader has neither. State the rule itself instead.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = {
    "an outside specification": re.compile(r"\bSPEC\b|\bPart [A-C]\b"),
    "the seed documents": re.compile(r"\bthe seed\b|\bseed's\b|\bseed (docs|examples|API)\b", re.IGNORECASE),
    "an outside design note": re.compile(r"\b(ARCHITECTURE|STYLE)\.md\b"),
    "an outside folder": re.compile(r"/work/|\bshared/(seed|tools)\b"),
    "an issue by number": re.compile(r"\bissue #?\d+\b", re.IGNORECASE),
    "a private module": re.compile(r"\bpersidict(_[a-z0-9]+)?\._[a-z][a-z0-9_]*\b"),
}


def _public_texts() -> list[Path]:
    pages = sorted((ROOT / "docs").rglob("*.md"))
    readmes = [ROOT / "README.md", ROOT / "CHANGELOG.md"]
    readmes += sorted(ROOT.glob("packages/*/README.md")) + sorted(ROOT.glob("packages/*/CHANGELOG.md"))
    return pages + readmes


def _sources() -> list[Path]:
    return sorted(ROOT.glob("packages/*/src/**/*.py"))


def _prose_of_python(source: str) -> list[tuple[int, str]]:
    """Return ``(line, text)`` of every docstring and comment of a module."""
    found: list[tuple[int, str]] = []
    # Every string statement: docstrings of modules, classes and functions, and the attribute
    # docstrings that follow an assignment (mkdocstrings shows those too).
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            found.append((node.lineno, node.value.value))
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found.append((token.start[0], token.string))
    return found


def _violations(text: str) -> list[str]:
    return [
        f"{what}: {match.group(0)!r}"
        for what, pattern in FORBIDDEN.items()
        for match in pattern.finditer(text)
    ]


@pytest.mark.parametrize("path", _public_texts(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_are_self_contained(path: Path) -> None:
    problems = [
        f"line {number}: {problem}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for problem in _violations(line)
    ]
    assert not problems, problems


def test_docstrings_and_comments_are_self_contained() -> None:
    problems = [
        f"{path.relative_to(ROOT)}:{line}: {problem}"
        for path in _sources()
        for line, text in _prose_of_python(path.read_text(encoding="utf-8"))
        for problem in _violations(text)
    ]
    assert not problems, problems


@pytest.mark.parametrize(
    "text",
    [
        "as SPEC Part A says",
        "the seed's `txt={}`",
        "see ARCHITECTURE.md",
        "see `persidict_core._errors` for the tree",
        "agreed in issue 2",
        "python3 /work/shared/tools/seed_examples.py",
    ],
)
def test_the_scan_catches_outside_references(text: str) -> None:
    assert _violations(text)


@pytest.mark.parametrize("text", ["a random seed", "persidict_core.testing", "the original persidict"])
def test_the_scan_lets_product_prose_pass(text: str) -> None:
    assert not _violations(text)
