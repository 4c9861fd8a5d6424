"""Bounded caches: one rule for every name, key and path cache of the persidict packages.

A cache remembers what was computed or checked before (a valid key element, a file path, a
verified directory) so the next time costs a dict or set lookup. Memory stays bounded by one
rule: when a cache is full, remembering one more entry empties it first. Emptying is cheap,
needs no bookkeeping on the hot path (lookups are the plain C ``dict``/``set`` operations), and
the entries in use are re-learned at once.
"""

from __future__ import annotations

from typing import Final, TypeVar

__all__ = ["DEFAULT_CACHE_SIZE", "BoundedCache", "BoundedSet"]

_K = TypeVar("_K")
_V = TypeVar("_V")

DEFAULT_CACHE_SIZE: Final = 8192
"""The default number of entries of a `BoundedCache` or `BoundedSet`."""


def _checked_max_size(max_size: int) -> int:
    if max_size < 1:
        raise ValueError(f"max_size must be at least 1, got {max_size}")
    return max_size


class BoundedCache(dict[_K, _V]):
    """A ``dict`` of at most ``max_size`` entries, filled with `remember`.

    Reads are those of ``dict`` (``get``, ``in``, ``[]``); `remember` empties the cache when it
    is full, then stores the entry.

    Args:
        max_size: The most entries the cache holds (at least 1).
    """

    __slots__ = ("max_size",)

    def __init__(self, max_size: int = DEFAULT_CACHE_SIZE) -> None:
        super().__init__()
        self.max_size = _checked_max_size(max_size)

    def remember(self, key: _K, value: _V) -> _V:
        """Store ``value`` under ``key`` (emptying the cache first if it is full) and return it."""
        if len(self) >= self.max_size:
            self.clear()
        self[key] = value
        return value


class BoundedSet(set[_K]):
    """A ``set`` of at most ``max_size`` members, filled with `remember`.

    Reads are those of ``set`` (``in``, ``issuperset``...); `remember` empties the set when it
    is full, then adds the member.

    Args:
        max_size: The most members the set holds (at least 1).
    """

    __slots__ = ("max_size",)

    def __init__(self, max_size: int = DEFAULT_CACHE_SIZE) -> None:
        super().__init__()
        self.max_size = _checked_max_size(max_size)

    def remember(self, member: _K) -> None:
        """Add ``member`` (emptying the set first if it is full)."""
        if len(self) >= self.max_size:
            self.clear()
        self.add(member)
