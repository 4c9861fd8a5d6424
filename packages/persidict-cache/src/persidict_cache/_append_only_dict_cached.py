"""`AppendOnlyDictCached`: a cache that trusts its values, for stores whose values never change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from persidict_core import (
    ETAG_HAS_NOT_CHANGED,
    ITEM_NOT_AVAILABLE,
    VALUE_NOT_RETRIEVED,
    ETagHasNotChangedFlag,
    ETagIfExists,
    KeyLike,
    MutationPolicyError,
    deferred_config_class,
)
from persidict_safestr import NonEmptySafeStrTuple

from ._common import CachedComponents, StoreOrConfig, require_store

if TYPE_CHECKING:
    from persidict_core import StoreConfig

    from ._config_models import AppendOnlyDictCachedConfig

__all__ = ["AppendOnlyDictCached"]


class AppendOnlyDictCached(CachedComponents):
    """A cache in front of an append-only store: a cached value is served without asking it.

    In an append-only store a key's value never changes once written, so a cached copy never
    goes stale and a cache hit makes no call to the main store at all. A miss reads the main
    store and fills the cache. ``in`` looks in the cache, then in the main store; ``len``,
    iteration, timestamps and ETags go to the main store, so keys added by other processes are
    seen at once. Writes go to the main store (atomically, only if the key is absent), then
    to the cache. The wrapper itself is append-only.

    Each store argument may also be given as its config (a `StoreConfig`, or its dict as in
    `get_params`); it is then opened.

    Args:
        main_dict: The store that holds the data; it must be append-only.
        data_cache: Any store for the cached values, mutable or append-only (usually a
            `LocalDict`). Writing a value it already holds is ignored.
        copy_on_read: If True (default), every read returns its own copy of the value, so a
            caller mutating it never changes what others read (a `LocalDict` cache copies the
            cheapest way the value allows). If False, a hit returns the object the in-memory
            cache holds, shared by every reader: the fastest read, for callers that treat
            values as read-only; mutating such a value changes what later hits return.
        **other_params: Other names of the shared parameter vocabulary are ignored;
            ``serialization_format`` and ``base_class_for_values`` are the main store's.

    Raises:
        TypeError: An argument is not a `PersiDict`.
        ValueError: ``main_dict`` is not append-only.
        pydantic.ValidationError: An unknown parameter name.
    """

    # Pickles name the class by its public home, so they survive moves between private modules.
    __module__ = "persidict_cache"

    config_class: ClassVar[type[StoreConfig]] = deferred_config_class(
        "persidict_cache._config_models:AppendOnlyDictCachedConfig", "append_only_dict_cached"
    )
    _config: AppendOnlyDictCachedConfig

    def __init__(
        self,
        main_dict: StoreOrConfig,
        data_cache: StoreOrConfig,
        copy_on_read: bool = True,
        **other_params: Any,
    ) -> None:
        owner = type(self).__name__
        main = require_store("main_dict", main_dict, owner)
        cache = require_store("data_cache", data_cache, owner)
        if not main.append_only:
            raise ValueError(
                f"{owner}: main_dict must be append-only (its values are cached without "
                f"revalidation); for a mutable store use MutableDictCached"
            )
        if cache.same_location(main):
            raise ValueError(f"{owner}: data_cache must be a different store than main_dict")
        params = dict(other_params, main_dict=main, data_cache=cache, copy_on_read=copy_on_read)
        self._adopt_components(main, cache, params, append_only=True)
        self._cache_append_only = cache.append_only

    # ----------------------------------------------------------------- cache upkeep
    def _cache(self, key: NonEmptySafeStrTuple, value: Any) -> None:
        try:
            self._data_cache.write_entry(key, value, only_if_absent=self._cache_append_only)
        except MutationPolicyError:
            pass  # an append-only cache already holds it: the same value, since main is append-only

    def _absorb(self, key: NonEmptySafeStrTuple, etag: ETagIfExists, value: Any) -> None:
        # A stored value never changes: whatever value a result carries can be cached for good.
        if etag is not ITEM_NOT_AVAILABLE and value is not VALUE_NOT_RETRIEVED:
            self._cache(key, value)

    # ----------------------------------------------------------------- reads
    def __getitem__(self, key: KeyLike) -> Any:
        """Return the value of ``key``: from the cache if it holds it, else from the main store."""
        k = NonEmptySafeStrTuple(key)
        try:
            if self._copy_on_read:
                value = self._data_cache.read_entry(k)[0]
            else:
                value = self._data_cache.read_value_uncopied(k)
        except KeyError:
            value = self.read_entry(k)[0]
        return self._checked_read_value(k, value)

    def read_entry(self, key: NonEmptySafeStrTuple) -> tuple[Any, str | None]:
        """Return the cached value with the main store's ETag, else read and cache the value.

        An ETag is wanted here (``get_with_etag``, ``setdefault``): a cached value still
        saves the transfer, not the main store's `entry_etag`. ``[key]`` needs no ETag and
        asks the main store nothing on a cache hit.
        """
        try:
            value = self._data_cache.read_entry(key)[0]
        except KeyError:
            pass
        else:
            return value, self._main.entry_etag(key)
        value, etag = self._main.read_entry(key)
        self._cache(key, value)
        return value, etag

    def read_entry_if_changed(
        self, key: NonEmptySafeStrTuple, etag: str
    ) -> tuple[Any, str | None] | ETagHasNotChangedFlag:
        """The main store's ETag decides; a changed value comes from the cache when it holds it."""
        current = self._main.entry_etag(key)
        if current == etag:
            return ETAG_HAS_NOT_CHANGED
        try:
            return self._data_cache.read_entry(key)[0], current
        except KeyError:
            pass
        result = self._main.read_entry_if_changed(key, etag)
        if not isinstance(result, ETagHasNotChangedFlag):
            self._cache(key, result[0])
        return result

    def has_entry(self, key: NonEmptySafeStrTuple) -> bool:
        return self._data_cache.has_entry(key) or self._main.has_entry(key)

    # ----------------------------------------------------------------- writes
    def write_entry(
        self, key: NonEmptySafeStrTuple, value: Any, *, only_if_absent: bool = False
    ) -> str | None:
        etag = self._main.write_entry(key, value, only_if_absent=True)
        self._cache(key, value)
        return etag

    def delete_entry(self, key: NonEmptySafeStrTuple) -> bool:
        raise self._refuse_mutation(key, "delete")

    def clear_entries(self) -> None:
        raise self._refuse_mutation(None, "clear")
