"""Property tests: round trips and algebra of keys."""

from __future__ import annotations

import pickle

from hypothesis import given
from hypothesis import strategies as st

from persidict_safestr import (
    SAFE_CHARS,
    NonEmptySafeStrTuple,
    SafeStrTuple,
    sign_safe_str_tuple,
    unsign_safe_str_tuple,
)

elements = st.text(alphabet=sorted(SAFE_CHARS), min_size=1, max_size=30).filter(
    lambda s: s not in (".", "..") and not s.startswith("._")
)
keys = st.lists(elements, max_size=6).map(tuple)
nonempty_keys = st.lists(elements, min_size=1, max_size=6).map(tuple)


@given(nonempty_keys, st.integers(min_value=0, max_value=12))
def test_sign_then_unsign_is_identity(key: tuple[str, ...], n: int) -> None:
    signed = sign_safe_str_tuple(NonEmptySafeStrTuple(key), n)
    assert unsign_safe_str_tuple(signed, n) == key


@given(elements, st.integers(min_value=1, max_value=12))
def test_signing_never_merges_two_keys(element: str, n: int) -> None:
    signed_once = sign_safe_str_tuple(element, n)
    assert sign_safe_str_tuple(signed_once, n) != signed_once
    assert unsign_safe_str_tuple(sign_safe_str_tuple(signed_once, n), n) == signed_once


@given(keys, keys, keys)
def test_addition_is_associative(a: tuple[str, ...], b: tuple[str, ...], c: tuple[str, ...]) -> None:
    x, y, z = SafeStrTuple(a), SafeStrTuple(b), SafeStrTuple(c)
    assert (x + y) + z == x + (y + z) == a + b + c


@given(keys)
def test_construction_is_idempotent(key: tuple[str, ...]) -> None:
    once = SafeStrTuple(key)
    assert SafeStrTuple(once) == once
    assert SafeStrTuple(list(key)) == once
    if key:
        assert NonEmptySafeStrTuple(NonEmptySafeStrTuple(key)) == NonEmptySafeStrTuple(key) == once


@given(keys)
def test_equality_and_hash_agree_with_plain_tuple(key: tuple[str, ...]) -> None:
    t = SafeStrTuple(key)
    assert t == key and key == t
    assert hash(t) == hash(key)
    assert tuple(t) == key
    assert pickle.loads(pickle.dumps(t)) == key


@given(keys, st.integers(min_value=-8, max_value=8), st.integers(min_value=-8, max_value=8))
def test_slices_match_plain_tuple(key: tuple[str, ...], i: int, j: int) -> None:
    assert SafeStrTuple(key)[i:j] == key[i:j]
