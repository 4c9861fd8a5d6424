"""Jokers (special values with a command meaning) and status flags.

Assigning `KEEP_CURRENT` to a key changes nothing; assigning `DELETE_CURRENT` deletes the key
(no error if it is absent). `ETAG_HAS_NOT_CHANGED` is what `get_item_if_etag_changed` returns
when the value did not change. Each is a process-wide singleton that keeps its identity through
pickling and copying, so ``value is KEEP_CURRENT`` is always the right test.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

__all__ = [
    "DELETE_CURRENT",
    "ETAG_HAS_NOT_CHANGED",
    "KEEP_CURRENT",
    "DeleteCurrentFlag",
    "ETagHasNotChangedFlag",
    "Joker",
    "KeepCurrentFlag",
    "Singleton",
    "StatusFlag",
]

_S = TypeVar("_S", bound="Singleton")


class Singleton:
    """A class with exactly one instance per concrete subclass."""

    _instances: ClassVar[dict[type, Singleton]] = {}

    def __new__(cls: type[_S]) -> _S:
        """Return the one instance of ``cls``, creating it on first use."""
        instance = Singleton._instances.get(cls)
        if not isinstance(instance, cls):  # first use (and the narrowing to ``cls``)
            instance = super().__new__(cls)
            Singleton._instances[cls] = instance
        return instance

    def __reduce__(self) -> tuple[type, tuple[()]]:
        # Unpickling calls the class, which hands back the existing instance.
        return (type(self), ())

    def __copy__(self: _S) -> _S:
        return self

    def __deepcopy__(self: _S, memo: dict[int, Any]) -> _S:
        return self

    def get_params(self) -> dict[str, Any]:
        """Return the (empty) parameters, for API compatibility with stores."""
        return {}

    def __repr__(self) -> str:
        return type(self).__name__ + "()"


class Joker(Singleton):
    """A value that, when assigned to a key, is a command rather than data."""


class KeepCurrentFlag(Joker):
    """Assigning this joker leaves the key as it is (present or not)."""


class DeleteCurrentFlag(Joker):
    """Assigning this joker deletes the key; a missing key is not an error."""


class StatusFlag(Singleton):
    """A value returned by a method to signal a status instead of data."""


class ETagHasNotChangedFlag(StatusFlag):
    """Returned by `get_item_if_etag_changed` when the stored value still has the given ETag."""


KEEP_CURRENT = KeepCurrentFlag()
DELETE_CURRENT = DeleteCurrentFlag()
ETAG_HAS_NOT_CHANGED = ETagHasNotChangedFlag()
