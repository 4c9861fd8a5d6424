"""The safe character set and the one validity test of a key element."""

from __future__ import annotations

import re
import string
from typing import Final

SAFE_CHARS: Final[frozenset[str]] = frozenset(string.ascii_letters + string.digits + "()_-~.=")
"""Characters allowed in a key element: ASCII letters, digits and ``()_-~.=`` (69 characters)."""

SAFE_STRING_MAX_LENGTH: Final[int] = 254
"""A key element must be strictly shorter than this (at most 253 characters)."""

_SAFE_CLASS: Final = r"[A-Za-z0-9()_\-~.=]"
_FORBIDDEN_ELEMENTS: Final = frozenset((".", ".."))

_APPLEDOUBLE_PREFIX: Final = "._"

# One element: 1..253 safe characters, not "." or "..", not starting with "._". Precompiled: a
# regex fullmatch is faster than `isascii()` + a set check for the short strings keys are made of.
_match_safe_element: Final = re.compile(
    rf"(?!\.\.?\Z)(?!\._){_SAFE_CLASS}{{1,{SAFE_STRING_MAX_LENGTH - 1}}}"
).fullmatch


def get_safe_chars() -> set[str]:
    """Return a fresh, mutable copy of the safe character set.

    Returns:
        A new ``set`` holding the 69 safe characters; changing it does not affect the library.
    """
    return set(SAFE_CHARS)


def replace_unsafe_chars(a_str: str, replace_with: str) -> str:
    """Replace every character that is not safe with ``replace_with``.

    Works one character at a time and does nothing else: no collapsing of repeats, no length
    limit, and ``replace_with`` itself is not checked.

    Args:
        a_str: The string to clean.
        replace_with: What each unsafe character becomes (may be empty or several characters).

    Returns:
        The cleaned string, e.g. ``replace_unsafe_chars("a/b c", "_") == "a_b_c"``.
    """
    return "".join(c if c in SAFE_CHARS else replace_with for c in a_str)


def contains_unsafe_chars(s: str) -> bool:
    """Tell whether ``s`` holds a character outside the safe set.

    Args:
        s: The string to check.

    Returns:
        True if some character is not safe; False otherwise (also for the empty string).
    """
    return not SAFE_CHARS.issuperset(s)


def is_safe_str_element(s: object) -> bool:
    """Tell whether ``s`` is a valid key element.

    This is the one validity test used by every persidict package: a ``str``, non-empty,
    shorter than :data:`SAFE_STRING_MAX_LENGTH`, made only of safe characters, neither
    ``"."`` nor ``".."`` (a key must never name the current or the parent directory), and not
    starting with ``"._"`` (macOS writes an AppleDouble file ``._<name>`` next to every file
    it copies to a FAT, SMB or NFS share: such names are never keys, so no key may look like one).

    Args:
        s: Any object.

    Returns:
        True if ``s`` can be an element of a ``SafeStrTuple``.
    """
    return isinstance(s, str) and _match_safe_element(s) is not None


def _element_problem(s: str) -> str:
    """Explain why ``s`` (a str that failed :func:`is_safe_str_element`) is not a valid element."""
    if not s:
        return "a key element must be a non-empty string"
    if len(s) >= SAFE_STRING_MAX_LENGTH:
        return (
            f"it is too long ({len(s)} characters); a key element must be shorter than "
            f"{SAFE_STRING_MAX_LENGTH} characters (at most {SAFE_STRING_MAX_LENGTH - 1})"
        )
    if s in _FORBIDDEN_ELEMENTS:
        return "'.' and '..' are refused because a key must never name the current or the parent directory"
    if s.startswith(_APPLEDOUBLE_PREFIX) and SAFE_CHARS.issuperset(s):
        return (
            "a key element may not start with '._': macOS writes files of that name (AppleDouble) "
            "next to every file on FAT, SMB and NFS shares, so stores never list them as keys"
        )
    bad = next(c for c in s if c not in SAFE_CHARS)
    return (
        f"unsafe character {bad!r}; allowed are ASCII letters, digits and ()_-~.= "
        "(replace_unsafe_chars() can clean a name)"
    )


def _short_repr(s: str) -> str:
    """Return ``repr(s)``, shortened for very long strings so that messages stay readable."""
    if len(s) > 60:
        return repr(s[:40]) + f"... ({len(s)} characters)"
    return repr(s)


def _invalid_element_error(s: str) -> ValueError:
    """Build the ValueError that names the invalid element ``s`` and says what is wrong."""
    return ValueError(f"Invalid key element {_short_repr(s)}: {_element_problem(s)}")
