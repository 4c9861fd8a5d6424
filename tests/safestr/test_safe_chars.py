"""The safe character set, its helpers and the element validity test."""

from __future__ import annotations

import string

import pytest

from persidict_safestr import (
    SAFE_CHARS,
    SAFE_STRING_MAX_LENGTH,
    contains_unsafe_chars,
    get_safe_chars,
    is_safe_str_element,
    replace_unsafe_chars,
)


def test_safe_chars_are_letters_digits_and_seven_punctuation_marks() -> None:
    assert len(SAFE_CHARS) == 69
    assert SAFE_CHARS == set(string.ascii_letters + string.digits + "()_-~.=")
    assert isinstance(SAFE_CHARS, frozenset)
    assert SAFE_STRING_MAX_LENGTH == 254


def test_get_safe_chars_returns_a_fresh_copy() -> None:
    chars = get_safe_chars()
    assert chars == SAFE_CHARS and isinstance(chars, set)
    chars.add("/")
    assert "/" not in get_safe_chars()


@pytest.mark.parametrize(
    ("text", "replace_with", "expected"),
    [("a/b c?é", "_", "a_b_c__"), ("a/b", "--", "a--b"), ("a/b", "", "ab"), ("safe", "_", "safe")],
)
def test_replace_unsafe_chars(text: str, replace_with: str, expected: str) -> None:
    assert replace_unsafe_chars(text, replace_with) == expected


def test_contains_unsafe_chars() -> None:
    assert contains_unsafe_chars("a b")
    assert contains_unsafe_chars("é")
    assert not contains_unsafe_chars("a_b.c")
    assert not contains_unsafe_chars("")


@pytest.mark.parametrize("element", ["a", "A-z_0.9~(=)", "x" * 253, "...", ".a", "a."])
def test_valid_elements(element: str) -> None:
    assert is_safe_str_element(element)


@pytest.mark.parametrize(
    "element",
    ["", ".", "..", "x" * 254, "a/b", "a b", "a\\b", "é", "a:b", "a+b", "a\n", 5, None, b"a", ["a"]],
)
def test_invalid_elements(element: object) -> None:
    assert not is_safe_str_element(element)
