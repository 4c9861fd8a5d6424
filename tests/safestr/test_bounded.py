"""BoundedCache and BoundedSet: reads are dict/set reads; remembering past the bound empties."""

from __future__ import annotations

import pytest

from persidict_safestr import BoundedCache, BoundedSet


def test_bounded_cache_empties_when_full() -> None:
    cache: BoundedCache[str, int] = BoundedCache(3)
    for i in range(3):
        assert cache.remember(f"k{i}", i) == i
    assert dict(cache) == {"k0": 0, "k1": 1, "k2": 2}
    cache.remember("k3", 3)
    assert dict(cache) == {"k3": 3}  # emptied, then stored
    assert cache.get("k3") == 3 and "k0" not in cache
    assert len(cache) <= cache.max_size


def test_bounded_set_empties_when_full() -> None:
    members: BoundedSet[str] = BoundedSet(2)
    members.remember("a")
    members.remember("b")
    assert members.issuperset(("a", "b"))
    members.remember("c")
    assert members == {"c"}


def test_a_bound_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_size"):
        BoundedCache(0)
    with pytest.raises(ValueError, match="max_size"):
        BoundedSet(0)


def test_the_key_caches_stay_bounded() -> None:
    from persidict_safestr import NonEmptySafeStrTuple, _safe_str_tuple

    for i in range(_safe_str_tuple._nonempty_cache.max_size + 10):
        NonEmptySafeStrTuple(f"element{i}")
    assert len(_safe_str_tuple._nonempty_cache) <= _safe_str_tuple._nonempty_cache.max_size
    assert len(_safe_str_tuple._valid_elements) <= _safe_str_tuple._valid_elements.max_size
    assert NonEmptySafeStrTuple("element3") == ("element3",)
