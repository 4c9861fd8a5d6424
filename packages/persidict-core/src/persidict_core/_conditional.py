"""Flags, sentinels and result types of the conditional operations (compare-and-swap by ETag).

Every store offers ``get_with_etag``, ``get_item_if``, ``set_item_if``, ``setdefault_if``,
``discard_if`` and ``transform_item``. A condition compares the ETag the caller expects with the
key's actual ETag:

* `ANY_ETAG`: always satisfied;
* `ETAG_IS_THE_SAME`: satisfied when ``expected_etag == actual_etag``;
* `ETAG_HAS_CHANGED`: satisfied when they differ.

An absent key has the ETag `ITEM_NOT_AVAILABLE`, which equals only itself: expecting
`ITEM_NOT_AVAILABLE` with `ETAG_IS_THE_SAME` means "only if the key is absent".

What the result carries as ``new_value`` is chosen by a retrieval flag: `ALWAYS_RETRIEVE`,
`NEVER_RETRIEVE` or `IF_ETAG_CHANGED` (the default: the value is fetched only when the actual
ETag differs from the expected one, i.e. when the caller's copy is stale). A value that exists
but was not fetched is `VALUE_NOT_RETRIEVED`.

All flags are singletons that keep their identity through pickling and copying.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from ._jokers import Singleton, StatusFlag

__all__ = [
    "ALWAYS_RETRIEVE",
    "ANY_ETAG",
    "ETAG_HAS_CHANGED",
    "ETAG_IS_THE_SAME",
    "IF_ETAG_CHANGED",
    "ITEM_NOT_AVAILABLE",
    "NEVER_RETRIEVE",
    "VALUE_NOT_RETRIEVED",
    "AlwaysRetrieveFlag",
    "AnyETagFlag",
    "ConditionalOperationResult",
    "ETagConditionFlag",
    "ETagHasChangedFlag",
    "ETagIfExists",
    "ETagIsTheSameFlag",
    "ETagValue",
    "IfETagChangedRetrieveFlag",
    "ItemNotAvailableFlag",
    "NeverRetrieveFlag",
    "OperationResult",
    "RetrieveValueFlag",
    "TransformingFunction",
    "ValueNotRetrievedFlag",
    "ValueType",
]


class _NamedFlag(Singleton):
    """A singleton whose repr is the public name of its instance."""

    _public_name: str = ""

    def __repr__(self) -> str:
        return self._public_name or super().__repr__()


class ETagConditionFlag(_NamedFlag):
    """Base class of the conditions that compare an expected ETag with the actual one."""

    def is_satisfied(self, expected_etag: ETagIfExists, actual_etag: ETagIfExists) -> bool:
        """Return True if the condition holds for these ETags."""
        raise NotImplementedError


class AnyETagFlag(ETagConditionFlag):
    """The condition that always holds."""

    _public_name = "ANY_ETAG"

    def is_satisfied(self, expected_etag: ETagIfExists, actual_etag: ETagIfExists) -> bool:
        """Return True."""
        return True


class ETagIsTheSameFlag(ETagConditionFlag):
    """The condition that holds when the actual ETag equals the expected one."""

    _public_name = "ETAG_IS_THE_SAME"

    def is_satisfied(self, expected_etag: ETagIfExists, actual_etag: ETagIfExists) -> bool:
        """Return True if ``expected_etag == actual_etag``."""
        return expected_etag == actual_etag


class ETagHasChangedFlag(ETagConditionFlag):
    """The condition that holds when the actual ETag differs from the expected one."""

    _public_name = "ETAG_HAS_CHANGED"

    def is_satisfied(self, expected_etag: ETagIfExists, actual_etag: ETagIfExists) -> bool:
        """Return True if ``expected_etag != actual_etag``."""
        return expected_etag != actual_etag


class RetrieveValueFlag(_NamedFlag):
    """Base class of the flags that say whether a result carries the value."""


class AlwaysRetrieveFlag(RetrieveValueFlag):
    """Fetch the value whenever the key exists."""

    _public_name = "ALWAYS_RETRIEVE"


class NeverRetrieveFlag(RetrieveValueFlag):
    """Never fetch the value (the result carries `VALUE_NOT_RETRIEVED`)."""

    _public_name = "NEVER_RETRIEVE"


class IfETagChangedRetrieveFlag(RetrieveValueFlag):
    """Fetch the value only when the actual ETag differs from the expected one."""

    _public_name = "IF_ETAG_CHANGED"


class ItemNotAvailableFlag(StatusFlag):
    """Stands for the ETag or the value of an absent key; equal only to itself."""

    def __repr__(self) -> str:
        return "ITEM_NOT_AVAILABLE"


class ValueNotRetrievedFlag(StatusFlag):
    """Stands for a value that exists but was not fetched."""

    def __repr__(self) -> str:
        return "VALUE_NOT_RETRIEVED"


ANY_ETAG = AnyETagFlag()
ETAG_IS_THE_SAME = ETagIsTheSameFlag()
ETAG_HAS_CHANGED = ETagHasChangedFlag()
ALWAYS_RETRIEVE = AlwaysRetrieveFlag()
NEVER_RETRIEVE = NeverRetrieveFlag()
IF_ETAG_CHANGED = IfETagChangedRetrieveFlag()
ITEM_NOT_AVAILABLE = ItemNotAvailableFlag()
VALUE_NOT_RETRIEVED = ValueNotRetrievedFlag()

ETagValue: TypeAlias = str
"""An ETag: an opaque string that changes whenever the key's value is written."""
ETagIfExists: TypeAlias = "ETagValue | ItemNotAvailableFlag"
"""An ETag, or `ITEM_NOT_AVAILABLE` for an absent key."""
ValueType = TypeVar("ValueType")
"""The type of the values of a store."""
TransformingFunction: TypeAlias = Callable[[Any], Any]
"""``transformer(current value or ITEM_NOT_AVAILABLE) -> new value, KEEP_CURRENT or DELETE_CURRENT``."""


@dataclass(frozen=True)
class ConditionalOperationResult(Generic[ValueType]):
    """What a conditional operation found and did.

    Attributes:
        condition_was_satisfied: Whether the condition held (and the mutation, if any, was made).
        actual_etag: The key's ETag when the condition was checked (`ITEM_NOT_AVAILABLE` if absent).
        resulting_etag: The key's ETag after the operation (equal to ``actual_etag`` when nothing
            changed, `ITEM_NOT_AVAILABLE` after a delete).
        new_value: The key's value after the operation, `ITEM_NOT_AVAILABLE` if the key is
            absent, or `VALUE_NOT_RETRIEVED` if it exists but was not fetched.
    """

    condition_was_satisfied: bool
    actual_etag: ETagIfExists
    resulting_etag: ETagIfExists
    new_value: ValueType | ItemNotAvailableFlag | ValueNotRetrievedFlag


@dataclass(frozen=True)
class OperationResult(Generic[ValueType]):
    """The outcome of `PersiDict.transform_item`.

    Attributes:
        resulting_etag: The key's ETag after the operation (`ITEM_NOT_AVAILABLE` if absent).
        new_value: The key's value after the operation (`ITEM_NOT_AVAILABLE` if absent).
    """

    resulting_etag: ETagIfExists
    new_value: ValueType | ItemNotAvailableFlag
