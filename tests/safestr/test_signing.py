"""Signing of key elements: SPEC section 19 vectors and the exactly-once rule."""

from __future__ import annotations

import pytest

from persidict_safestr import (
    NonEmptySafeStrTuple,
    SafeStrTuple,
    sign_safe_str,
    sign_safe_str_tuple,
    unsign_safe_str,
    unsign_safe_str_tuple,
)

VECTORS = {
    "a": ("a_b", "a_btax", "a_btaxlooa"),
    "abc": ("abc_s", "abc_saav", "abc_saavbgb4"),
    "Abc": ("Abc_g", "Abc_gvmt", "Abc_gvmtw7hf"),
    "ABC": ("ABC_s", "ABC_sax3", "ABC_sax33uvr"),
    "key": ("key_h", "key_hrxa", "key_hrxaxcu4"),
    "x": ("x_t", "x_txko", "x_txkoiyjg"),
    "..": (".._l", ".._lc46", ".._lc46oc3f"),
    "hello_world": ("hello_world_t", "hello_world_tgy7", "hello_world_tgy77dyr"),
}
CASES = [(seg, n, signed) for seg, row in VECTORS.items() for n, signed in zip((1, 4, 8), row, strict=True)]


@pytest.mark.parametrize(("segment", "n", "signed"), CASES)
def test_spec_vectors(segment: str, n: int, signed: str) -> None:
    assert sign_safe_str(segment, n) == signed
    assert unsign_safe_str(signed, n) == segment


@pytest.mark.parametrize(("segment", "n", "signed"), [c for c in CASES if c[0] != ".."])
def test_spec_vectors_on_tuples(segment: str, n: int, signed: str) -> None:
    assert sign_safe_str_tuple(segment, n) == (signed,)
    assert unsign_safe_str_tuple((signed,), n) == (segment,)


def test_long_digests_and_padding() -> None:
    assert sign_safe_str("abc", 30) == "abc_saavbgb42jh3bvuwh56sryl7oi===="
    assert sign_safe_str("abc", 32) == "abc_saavbgb42jh3bvuwh56sryl7oi======"
    assert sign_safe_str("abc", 40) == sign_safe_str("abc", 32)
    for n in (26, 27, 30, 32, 33, 40):
        assert unsign_safe_str(sign_safe_str("abc", n), n) == "abc"


def test_on_disk_example() -> None:
    assert sign_safe_str_tuple(("x", "y", "z"), 1) == ("x_t", "y_i", "z_7")
    assert sign_safe_str("k", 8) == "k_rtslc2zc"


def test_digest_len_zero_changes_nothing() -> None:
    assert sign_safe_str("abc", 0) == "abc"
    assert unsign_safe_str("abc_s", 0) == "abc_s"
    key = NonEmptySafeStrTuple("a", "b")
    assert sign_safe_str_tuple(key, 0) is key
    assert unsign_safe_str_tuple(key, 0) is key


def test_signing_is_applied_exactly_once() -> None:
    # "a_b" looks like "a" signed with n=1; it still gets its own suffix.
    assert sign_safe_str("a_b", 1) != "a_b"
    assert sign_safe_str_tuple("a_b", 1) != sign_safe_str_tuple("a", 1)
    assert unsign_safe_str_tuple(sign_safe_str_tuple("a_b", 1), 1) == ("a_b",)
    assert unsign_safe_str_tuple(sign_safe_str_tuple("a", 1), 1) == ("a",)
    twice = sign_safe_str(sign_safe_str("abc", 4), 4)
    assert unsign_safe_str(twice, 4) == "abc_saav"


def test_unsign_returns_none_without_a_valid_suffix() -> None:
    assert unsign_safe_str("abc", 4) is None
    assert unsign_safe_str("abc_xxxx", 4) is None
    assert unsign_safe_str("_b", 1) is None
    assert unsign_safe_str("ABC_saav", 4) is None


def test_unsign_tuple_leaves_unverifiable_elements_unchanged() -> None:
    assert unsign_safe_str_tuple(("abc_saav", "plain", "x_zzzz"), 4) == ("abc", "plain", "x_zzzz")
    assert unsign_safe_str_tuple((".._l",), 1) == (".._l",)  # never yields ".."


def test_result_classes() -> None:
    assert type(sign_safe_str_tuple(NonEmptySafeStrTuple("a"), 2)) is NonEmptySafeStrTuple
    assert type(unsign_safe_str_tuple(NonEmptySafeStrTuple("a_b"), 1)) is NonEmptySafeStrTuple
    assert type(sign_safe_str_tuple(["a"], 2)) is SafeStrTuple
    assert type(sign_safe_str_tuple(SafeStrTuple(), 2)) is SafeStrTuple


@pytest.mark.parametrize("func", [sign_safe_str, unsign_safe_str, sign_safe_str_tuple, unsign_safe_str_tuple])
def test_digest_len_checks(func: object) -> None:
    for bad in (True, 1.0, "1", None):
        with pytest.raises(TypeError, match="digest_len"):
            func("a", bad)  # type: ignore[operator]
    with pytest.raises(ValueError, match="digest_len"):
        func("a", -1)  # type: ignore[operator]


def test_element_type_and_validity_checks() -> None:
    with pytest.raises(TypeError):
        sign_safe_str(5, 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        unsign_safe_str(5, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        sign_safe_str("", 1)
    with pytest.raises(ValueError, match="unsafe"):
        sign_safe_str_tuple("a/b", 1)
    with pytest.raises(TypeError):
        sign_safe_str_tuple(5, 1)
    with pytest.raises(ValueError, match="parent"):
        sign_safe_str_tuple("..", 1)


def test_signed_element_reaching_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="shorter than 254"):
        sign_safe_str_tuple("a" * 250, 4)
    assert len(sign_safe_str("a" * 248, 4)) == 253
