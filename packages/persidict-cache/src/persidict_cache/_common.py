"""Helpers shared by the wrappers: argument checks and configs derived from a wrapped store."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, TypeVar

from persidict_core import (
    ETAG_IS_THE_SAME,
    IF_ETAG_CHANGED,
    ITEM_NOT_AVAILABLE,
    NEVER_RETRIEVE,
    VALUE_NOT_RETRIEVED,
    ConditionalOperationResult,
    ETagConditionFlag,
    ETagIfExists,
    ETagValue,
    ItemNotAvailableFlag,
    KeyLike,
    MutationPolicyError,
    OperationResult,
    PersiDict,
    RetrieveValueFlag,
    TransformingFunction,
    store_from_config,
)
from persidict_safestr import NonEmptySafeStrTuple, SafeStrTuple

if TYPE_CHECKING:
    from persidict_core import StoreConfig

    from ._config_models import CachedStoreConfig

__all__ = [
    "CachedComponents",
    "ConditionalDelegation",
    "MainStoreListing",
    "StoreOrConfig",
    "require_store",
]

StoreOrConfig: TypeAlias = "PersiDict | StoreConfig | Mapping[str, Any]"
"""A wrapper's component: a store, or its config (a `StoreConfig`, or a dict as in `get_params`)."""

_CachedT = TypeVar("_CachedT", bound="CachedComponents")
_ResultT = TypeVar("_ResultT", ConditionalOperationResult[Any], OperationResult[Any])


def require_store(name: str, value: object, owner: str) -> PersiDict:
    """Return ``value`` if it is a `PersiDict`, or the store its config describes.

    A config (a `StoreConfig`, or its dict with a ``kind`` as found in a wrapper's
    ``get_params()``) is opened, so ``type(wrapper)(**wrapper.get_params())`` reopens a wrapper.

    Raises:
        TypeError: ``value`` is neither a store nor a store's config.
    """
    if isinstance(value, PersiDict):
        return value
    from persidict_core import StoreConfig  # a pydantic model: imported when a config is given

    if isinstance(value, StoreConfig) or (isinstance(value, Mapping) and "kind" in value):
        value = store_from_config(value)
    if not isinstance(value, PersiDict):
        raise TypeError(f"{owner}: {name} must be a PersiDict (a store), got {type(value).__name__}")
    return value


class MainStoreListing(PersiDict):
    """Timestamps, ETags, ``len`` and listings of a wrapper: those of the store it wraps.

    A wrapper sets ``_main`` to the wrapped (main) store; caches never answer these.
    """

    _main: PersiDict

    def entry_timestamp(self, key: NonEmptySafeStrTuple) -> float:
        return self._main.entry_timestamp(key)

    def entry_etag(self, key: NonEmptySafeStrTuple) -> str | None:
        return self._main.etag(key)

    def iter_entries(
        self, with_values: bool, with_timestamps: bool
    ) -> Iterator[tuple[NonEmptySafeStrTuple, Any, float | None]]:
        return self._main.iter_entries(with_values, with_timestamps)

    def iter_entry_keys(self) -> Iterator[NonEmptySafeStrTuple]:
        return self._main.iter_entry_keys()

    def count_entries(self) -> int:
        return self._main.count_entries()


class ConditionalDelegation(PersiDict):
    """Conditional operations of a wrapper: one call to the store it wraps, then cache upkeep.

    A building block of wrappers (the caches, `WriteOnceDict`, ``S3Dict``). Each conditional
    method is handed whole to the public method of the same name of the store `_delegate`
    returns (by default ``_main``, the wrapped store), so its check and its mutation are that
    store's one atomic step and the wrapper adds no window of its own; the result then updates
    the wrapper's caches (`_absorb`, which keeps none by default). The contract's
    `write_entry_if_etag` and `delete_entry_if_etag`, on which the base class builds
    ``setdefault``, ``pop`` and ``popitem``, delegate the same way, as compare-and-swaps on an
    exact ETag. Reads (``get_with_etag``, ``get_item_if``) stay the base class's, on the
    wrapper's cached ``read_entry`` and ``read_entry_if_changed``: a valid cached value is not
    transferred again.
    """

    _main: PersiDict

    def _wrap(self, store: PersiDict, params: Mapping[str, Any], append_only: bool | None = None) -> None:
        """Build this wrapper's config from constructor ``params`` and adopt the wrapped ``store``.

        A constructor's last step. The wrapper's ``serialization_format`` and
        ``base_class_for_values`` are the store's, as is ``append_only`` unless given; those
        three names are therefore ignored when passed to a wrapper (a config reopened from JSON
        passes them back); other names of the shared vocabulary that don't apply are ignored,
        unknown names are a pydantic ``ValidationError``. The wrapper reports the store's
        capability flags: it is exactly as atomic as the store.
        """
        config = self.make_config(
            params,
            serialization_format=store.serialization_format,
            append_only=store.append_only if append_only is None else append_only,
            base_class_for_values=store.base_class_for_values,
        )
        PersiDict.__init__(self, config)
        self._main = store
        # Instance attributes shadow the class defaults (the flags are class attributes).
        self.__dict__["atomic_conditional_writes"] = store.atomic_conditional_writes
        self.__dict__["strong_etags"] = store.strong_etags

    def _delegate(self) -> PersiDict:
        """The store conditional operations go to (the wrapped store; a subclass may name another)."""
        return self._main

    @contextlib.contextmanager
    def _refusals_as_own(self) -> Iterator[None]:
        """Re-raise a refusal of the wrapped store as this store's (naming this store's policy)."""
        try:
            yield
        except MutationPolicyError as error:
            if error.policy == self.mutation_policy:
                raise
            raise MutationPolicyError(
                self.mutation_policy, key=error.key, operation=error.operation
            ) from error

    def _absorb(self, key: NonEmptySafeStrTuple, etag: ETagIfExists, value: Any) -> None:
        """Update the caches from an operation's outcome: the key's ETag and value after it.

        ``value`` is `VALUE_NOT_RETRIEVED` when the outcome does not carry it. The default
        keeps no cache.
        """

    def _handed_over(self, key: KeyLike, operation: Callable[[PersiDict], _ResultT]) -> _ResultT:
        """Run ``operation`` on the delegate (its refusals named as ours), then absorb its result."""
        with self._refusals_as_own():
            result = operation(self._delegate())
        self._absorb(NonEmptySafeStrTuple(key), result.resulting_etag, result.new_value)
        return result

    def set_item_if(
        self,
        key: KeyLike,
        *,
        value: Any,
        condition: ETagConditionFlag,
        expected_etag: ETagIfExists,
        retrieve_value: RetrieveValueFlag = IF_ETAG_CHANGED,
    ) -> ConditionalOperationResult[Any]:
        """Store ``value`` only if ``condition`` holds (see `PersiDict.set_item_if`)."""
        return self._handed_over(
            key,
            lambda store: store.set_item_if(
                key,
                value=value,
                condition=condition,
                expected_etag=expected_etag,
                retrieve_value=retrieve_value,
            ),
        )

    def setdefault_if(
        self,
        key: KeyLike,
        *,
        default_value: Any,
        condition: ETagConditionFlag,
        expected_etag: ETagIfExists,
        retrieve_value: RetrieveValueFlag = IF_ETAG_CHANGED,
    ) -> ConditionalOperationResult[Any]:
        """Insert ``default_value`` only if absent and ``condition`` holds (see `PersiDict.setdefault_if`)."""
        return self._handed_over(
            key,
            lambda store: store.setdefault_if(
                key,
                default_value=default_value,
                condition=condition,
                expected_etag=expected_etag,
                retrieve_value=retrieve_value,
            ),
        )

    def discard_if(
        self, key: KeyLike, *, condition: ETagConditionFlag, expected_etag: ETagIfExists
    ) -> ConditionalOperationResult[Any]:
        """Delete the key only if ``condition`` holds (see `PersiDict.discard_if`)."""
        return self._handed_over(
            key, lambda store: store.discard_if(key, condition=condition, expected_etag=expected_etag)
        )

    def transform_item(
        self, key: KeyLike, *, transformer: TransformingFunction, n_retries: int | None = 6
    ) -> OperationResult[Any]:
        """Replace the value by ``transformer(value)`` atomically (see `PersiDict.transform_item`)."""
        return self._handed_over(
            key, lambda store: store.transform_item(key, transformer=transformer, n_retries=n_retries)
        )

    def write_entry_if_etag(
        self, key: NonEmptySafeStrTuple, value: Any, expected_etag: ETagValue | ItemNotAvailableFlag
    ) -> ETagIfExists | None:
        result = self._delegate().set_item_if(
            key,
            value=value,
            condition=ETAG_IS_THE_SAME,
            expected_etag=expected_etag,
            retrieve_value=NEVER_RETRIEVE,
        )
        self._absorb(key, result.resulting_etag, result.new_value)
        return result.resulting_etag if result.condition_was_satisfied else None

    def delete_entry_if_etag(self, key: NonEmptySafeStrTuple, expected_etag: ETagValue) -> bool:
        result = self._delegate().discard_if(key, condition=ETAG_IS_THE_SAME, expected_etag=expected_etag)
        self._absorb(key, result.resulting_etag, VALUE_NOT_RETRIEVED)
        return result.condition_was_satisfied and result.actual_etag is not ITEM_NOT_AVAILABLE


class CachedComponents(ConditionalDelegation, MainStoreListing):
    """The base of the caching wrappers: main store, value cache, the copy rule, and the rest.

    The main store holds the data, the cache keeps values read from it, and ``copy_on_read``
    says whether reads hand out copies. Conditional operations are handed to the main store
    and listings, timestamps and ETags are its own (the two bases). A wrapper's constructor
    calls `_adopt_components`; `_components` names the properties of its stores, in the
    order of its constructor's arguments (a subclass with more stores extends it).
    """

    _components: ClassVar[tuple[str, ...]] = ("main_dict", "data_cache")
    _data_cache: PersiDict
    _copy_on_read: bool
    _config: CachedStoreConfig

    def _adopt_components(
        self,
        main: PersiDict,
        data_cache: PersiDict,
        params: Mapping[str, Any],
        append_only: bool | None = None,
    ) -> None:
        """Build the config and adopt the stores (see `ConditionalDelegation._wrap`)."""
        self._wrap(main, params, append_only)
        self._data_cache = data_cache
        self._copy_on_read = self._config.copy_on_read

    @property
    def copy_on_read(self) -> bool:
        """Whether every read returns its own copy of a cached value."""
        return self._copy_on_read

    @property
    def main_dict(self) -> PersiDict:
        """The store that holds the data."""
        return self._main

    @property
    def data_cache(self) -> PersiDict:
        """The store of cached values."""
        return self._data_cache

    def _stores(self) -> list[PersiDict]:
        return [getattr(self, name) for name in self._components]

    def _runtime_parts(self) -> dict[str, Any]:
        return dict(zip(self._components, self._stores(), strict=True))

    def same_location(self, other: PersiDict) -> bool:
        return (
            type(self) is type(other)
            and isinstance(other, CachedComponents)
            and all(
                mine.same_location(theirs)
                for mine, theirs in zip(self._stores(), other._stores(), strict=True)
            )
        )

    def subdict_at(self, prefix: SafeStrTuple) -> PersiDict:
        # Every wrapper's constructor takes its stores, in this order, and copy_on_read.
        reopen: Callable[..., PersiDict] = type(self)
        return reopen(
            *(store.get_subdict(prefix) for store in self._stores()), copy_on_read=self._copy_on_read
        )
