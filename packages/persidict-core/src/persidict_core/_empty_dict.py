"""`EmptyDict`: the null device of stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from persidict_safestr import NonEmptySafeStrTuple, SafeStrTuple

from ._conditional import ITEM_NOT_AVAILABLE, ETagIfExists, ETagValue, ItemNotAvailableFlag
from ._config import deferred_config_class
from ._jokers import ETagHasNotChangedFlag
from ._persidict import PersiDict

if TYPE_CHECKING:
    from ._config_models import StoreConfig

__all__ = ["EmptyDict"]


class EmptyDict(PersiDict):
    """A store that accepts every valid write, keeps nothing and is always empty.

    Writes are validated like any store's (keys, value types) and then dropped; every read is
    a `KeyError`. Useful as a stand-in cache or sink in tests and benchmarks.

    Args:
        serialization_format: Checked as for other stores, otherwise unused.
        append_only: Accepted; nothing is ever stored, so nothing is ever overwritten.
        base_class_for_values: If set, written values must be instances of this class.
        **other_params: Other names of the shared parameter vocabulary are ignored.
    """

    # Pickles name the class by its public home, so they survive moves between private modules.
    __module__ = "persidict_core"

    config_class: ClassVar[type[StoreConfig]] = deferred_config_class(
        "persidict_core._config_models:EmptyDictConfig", "empty_dict"
    )
    provides_etags: ClassVar[bool] = False
    atomic_conditional_writes: ClassVar[bool] = True  # nothing is stored: nothing can race

    def __init__(
        self,
        append_only: bool = False,
        base_class_for_values: type | None = None,
        serialization_format: str = "pkl",
        **other_params: Any,
    ) -> None:
        config = self.make_config(
            dict(
                serialization_format=serialization_format,
                append_only=append_only,
                base_class_for_values=base_class_for_values,
                **other_params,
            )
        )
        super().__init__(config)

    def read_entry(self, key: NonEmptySafeStrTuple) -> tuple[Any, str | None]:
        raise KeyError(key)

    def read_entry_if_changed(
        self, key: NonEmptySafeStrTuple, etag: str
    ) -> tuple[Any, str | None] | ETagHasNotChangedFlag:
        raise KeyError(key)

    def write_entry(self, key: NonEmptySafeStrTuple, value: Any, *, only_if_absent: bool = False) -> None:
        return None

    def delete_entry(self, key: NonEmptySafeStrTuple) -> bool:
        return False

    def write_entry_if_etag(
        self, key: NonEmptySafeStrTuple, value: Any, expected_etag: ETagValue | ItemNotAvailableFlag
    ) -> ETagIfExists | None:
        # Every key is absent: a create-if-absent "succeeds" and keeps nothing; an ETag never matches.
        return ITEM_NOT_AVAILABLE if expected_etag is ITEM_NOT_AVAILABLE else None

    def delete_entry_if_etag(self, key: NonEmptySafeStrTuple, expected_etag: ETagValue) -> bool:
        return False

    def has_entry(self, key: NonEmptySafeStrTuple) -> bool:
        return False

    def entry_timestamp(self, key: NonEmptySafeStrTuple) -> float:
        raise KeyError(key)

    def entry_etag(self, key: NonEmptySafeStrTuple) -> str | None:
        raise KeyError(key)

    def iter_entries(
        self, with_values: bool, with_timestamps: bool
    ) -> Iterator[tuple[NonEmptySafeStrTuple, Any, float | None]]:
        return iter(())

    def count_entries(self) -> int:
        return 0

    def clear_entries(self) -> None:
        return None

    def clear(self) -> None:
        """Do nothing: there is nothing to clear (even when append-only)."""

    def discard(self, key: Any) -> bool:
        """Validate ``key`` and return False: nothing is ever stored."""
        self.has_entry(NonEmptySafeStrTuple(key))
        return False

    def subdict_at(self, prefix: SafeStrTuple) -> EmptyDict:
        return type(self)(**self._config.model_dump(exclude={"kind"}))
