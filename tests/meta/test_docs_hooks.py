"""The docs build's hooks: code in tables wraps at spaces only; no private paths in tooltips."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_persidict_docs_hooks", ROOT / "tools" / "docs_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


hooks = _hooks()


def test_a_signature_in_a_table_wraps_between_its_pieces_only() -> None:
    html = '<table><tr><td><code>(policy="append-only", *, key=None)</code></td></tr></table>'
    assert hooks.wrap_table_code(html) == (
        '<table><tr><td><code data-wrap><span class="nobr">(policy="append-only",</span> '
        '<span class="nobr">*,</span> <span class="nobr">key=None)</span></code></td></tr></table>'
    )


@pytest.mark.parametrize("name", ["persidict-core", "'append-only'", "module/qualname/digest", ""])
def test_a_name_is_left_to_the_stylesheet(name: str) -> None:
    html = f"<table><tr><td><code>{name}</code></td><td><code>a b</code></td></tr></table>"
    wrapped = hooks.wrap_table_code(html)
    assert f"<td><code>{name}</code></td>" in wrapped  # this code, not the next one, is untouched
    assert '<code data-wrap><span class="nobr">a</span> <span class="nobr">b</span></code>' in wrapped


def test_elements_inside_the_code_stay_whole_and_balanced() -> None:
    # A type of the API reference: cross-references whose tags hold spaces, around a `|`.
    inner = (
        '<span title="dict">dict</span>[<autoref identifier="x.Key" optional hover>Key Name</autoref>, '
        '<span title="typing.Any">Any</span>] | None'
    )
    assert hooks.wrap_code(inner) == (
        '<span class="nobr"><span title="dict">dict</span>[<autoref identifier="x.Key" optional hover>'
        'Key Name</autoref>,</span> <span class="nobr"><span title="typing.Any">Any</span>]</span> '
        '<span class="nobr">|</span> <span class="nobr">None</span>'
    )


def test_code_outside_tables_and_attributes_of_code_are_kept() -> None:
    prose = "<p><code>a b</code></p>"
    assert hooks.wrap_table_code(prose) == prose
    table = '<table><td><code class="x">a b</code></td></table>'
    wrapped = hooks.wrap_table_code(table)
    assert wrapped.startswith('<table><td><code data-wrap class="x"><span class="nobr">a')


def test_tooltips_with_private_paths_are_dropped_and_others_kept() -> None:
    html = (
        '<span title="persidict_s3._client.DEFAULT_MAX_POOL_CONNECTIONS">DEFAULT_MAX_POOL_CONNECTIONS</span>'
        '<span title="persidict_core.FileDirDict">FileDirDict</span><span title="typing.Any">Any</span>'
    )
    assert hooks.drop_private_titles(html) == (
        "<span>DEFAULT_MAX_POOL_CONNECTIONS</span>"
        '<span title="persidict_core.FileDirDict">FileDirDict</span><span title="typing.Any">Any</span>'
    )
