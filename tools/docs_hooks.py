"""mkdocs hooks (``hooks:`` in mkdocs.yml): how code in tables wraps, and no private paths in tooltips.

A table cell's code is either a name (``FileDirDict``, ``persidict-core``, ``'append-only'``),
which must never break, not even at a hyphen, or a signature, type or expression with spaces
(``(policy="append-only", *, key=None)``, ``dict[str, Any] | None``), which would push the table
wider than the page if it could not wrap. CSS alone cannot tell a browser to wrap only at
spaces: a hyphen or a slash is a break opportunity too. So each code span with spaces gets a
``data-wrap`` attribute and each of its space-free pieces a ``<span class="nobr">``;
docs/stylesheets/extra.css lets the former wrap and keeps the latter whole.

A name in a signature that has no page of its own (a type alias, a constant) is shown with a
tooltip of its full dotted path, which for our names is the private module that defines it
(``persidict_s3._client.DEFAULT_MAX_POOL_CONNECTIONS``): a path a reader cannot import from.
Such tooltips are dropped; the name itself stays.
"""

from __future__ import annotations

import re

_TABLE = re.compile(r"<table[\s>].*?</table>", re.DOTALL)
_CODE = re.compile(r"<code(\s[^>]*)?>(.*?)</code>", re.DOTALL)
_TAG_OR_TEXT = re.compile(r"<[^>]*>|[^<]+")
_VOID = {"br", "img", "wbr", "hr", "input"}
# A tooltip naming a private module or object of ours: a dotted part after `persidict...` that
# starts with an underscore.
_PRIVATE_TITLE = re.compile(r'<span title="persidict(?:_[a-z0-9]+)?(?:\.\w+)*\._[^"]*">')


def _depth_change(tag: str) -> int:
    """Return +1 for an opening tag, -1 for a closing one, 0 for a void or self-closing one."""
    if tag.startswith("</"):
        return -1
    name = re.match(r"<([A-Za-z][\w-]*)", tag)
    if name is None or tag.endswith("/>") or name.group(1).lower() in _VOID:
        return 0  # a comment, a void element or <x/>
    return 1


def wrap_code(inner: str) -> str | None:
    """Return the HTML inside a ``<code>`` with its space-free pieces in unbreakable spans.

    Only whitespace in the code's own text separates pieces; an element nested in the code (a
    link to a class, a highlighted token) stays inside one piece. Returns None when the code
    has no such whitespace: it is a name, kept whole by the stylesheet alone.
    """
    pieces: list[str] = []  # alternately whitespace and the HTML of a space-free piece
    current = ""
    depth = 0
    for match in _TAG_OR_TEXT.finditer(inner):
        part = match.group(0)
        if part.startswith("<"):
            depth = max(0, depth + _depth_change(part))
            current += part
            continue
        if depth:
            current += part
            continue
        for chunk in re.split(r"(\s+)", part):
            if chunk.isspace():
                pieces += [current, chunk]
                current = ""
            else:
                current += chunk
    pieces.append(current)
    words = pieces[::2]
    if len(words) == 1:
        return None
    return "".join(
        (f'<span class="nobr">{piece}</span>' if piece else "") if index % 2 == 0 else piece
        for index, piece in enumerate(pieces)
    )


def wrap_table_code(html: str) -> str:
    """Return ``html`` with the code spans of its tables prepared to wrap at spaces only."""

    def code(match: re.Match[str]) -> str:
        wrapped = wrap_code(match.group(2))
        if wrapped is None:
            return match.group(0)
        return f"<code data-wrap{match.group(1) or ''}>{wrapped}</code>"

    return _TABLE.sub(lambda table: _CODE.sub(code, table.group(0)), html)


def on_page_content(html: str, **kwargs: object) -> str:
    """Prepare the table code of a page's HTML body (API reference included) before theming."""
    return wrap_table_code(html)


def drop_private_titles(html: str) -> str:
    """Return ``html`` without the tooltips that show a private dotted path of ours."""
    return _PRIVATE_TITLE.sub("<span>", html)


def on_post_page(output: str, **kwargs: object) -> str:
    """Drop private tooltips from the finished page, once cross-references are resolved."""
    return drop_private_titles(output)
