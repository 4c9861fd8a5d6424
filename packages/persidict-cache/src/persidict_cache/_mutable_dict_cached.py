"""`MutableDictCached`: a local cache of values in front of a store, validated by ETags."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar, Final

from persidict_core import (
    ETAG_HAS_NOT_CHANGED,
    ITEM_NOT_AVAILABLE,
    VALUE_NOT_RETRIEVED,
    ETagHasNotChangedFlag,
    ETagIfExists,
    PersiDict,
    deferred_config_class,
)
from persidict_safestr import NonEmptySafeStrTuple

from ._common import CachedComponents, StoreOrConfig, require_store

if TYPE_CHECKING:
    from persidict_core import StoreConfig

    from ._config_models import MutableDictCachedConfig

__all__ = ["MutableDictCached"]

_NO_VALUE: Final = object()


class MutableDictCached(CachedComponents):
    """A store whose reads are served from a local cache while the main store's ETag is unchanged.

    Each read asks the main store one cheap question: has the key's ETag changed since the
    value was cached? (``get_item_if_etag_changed``: a file ``stat``, an S3 conditional
    ``GET``; no value is transferred when it has not.) If not, the value comes from
    ``data_cache``; if it has, the new value is fetched, cached and returned. A key deleted
    from the main store, by any process, is a `KeyError` here too and is purged from the
    caches: a stale value is never served.

    Writes and deletes go to the main store first, then update both caches. ``len``,
    iteration, ``in`` and timestamps go to the main store, so keys written by other processes
    are seen at once. ETags are the main store's.

    Each store argument may also be given as its config (a `StoreConfig`, or its dict as in
    `get_params`); it is then opened.

    Args:
        main_dict: The store that holds the data; it must provide real ETags (so not an
            `EmptyDict`). It may be append-only, and then so is this store.
        data_cache: A mutable store for the cached values (usually a `LocalDict`).
        etag_cache: A mutable store for the ETags of the cached values (usually a `LocalDict`).
        copy_on_read: If True (default), every read returns its own copy of the value, so a
            caller mutating it never changes what others read; a `LocalDict` cache makes that
            copy the cheapest way the value allows (none for immutable values, a shallow copy
            of a flat list or dict, ``ndarray.copy``, else an unpickle). If False, a hit
            returns the object the in-memory cache holds, shared by every reader and never
            copied: the fastest read, for callers that treat values as read-only. Mutating
            such a value changes what later hits return (but never the main store).
        **other_params: Other names of the shared parameter vocabulary are ignored;
            ``serialization_format``, ``append_only`` and ``base_class_for_values`` are the
            main store's.

    Raises:
        TypeError: An argument is not a `PersiDict`, or ``main_dict`` has no real ETags.
        ValueError: A cache is append-only, or both caches are the same store.
        pydantic.ValidationError: An unknown parameter name.
    """

    # Pickles name the class by its public home, so they survive moves between private modules.
    __module__ = "persidict_cache"

    config_class: ClassVar[type[StoreConfig]] = deferred_config_class(
        "persidict_cache._config_models:MutableDictCachedConfig", "mutable_dict_cached"
    )
    _config: MutableDictCachedConfig
    _components: ClassVar[tuple[str, ...]] = ("main_dict", "data_cache", "etag_cache")

    def __init__(
        self,
        main_dict: StoreOrConfig,
        data_cache: StoreOrConfig,
        etag_cache: StoreOrConfig,
        copy_on_read: bool = True,
        **other_params: Any,
    ) -> None:
        owner = type(self).__name__
        main = require_store("main_dict", main_dict, owner)
        data = require_store("data_cache", data_cache, owner)
        etags = require_store("etag_cache", etag_cache, owner)
        if not main.provides_etags:
            raise TypeError(
                f"{owner}: main_dict must provide ETags to validate cached values, and a "
                f"{type(main).__name__} does not; use a FileDirDict, LocalDict or an S3 store"
            )
        for name, cache in (("data_cache", data), ("etag_cache", etags)):
            if cache.append_only:
                raise ValueError(
                    f"{owner}: {name} can't be append-only: a cache must be able to replace stale "
                    f"values (pass a mutable store, e.g. LocalDict())"
                )
        for name, cache in (("data_cache", data), ("etag_cache", etags)):
            if cache.same_location(main):
                # Cache entries would overwrite the values they cache (ETags over user data).
                raise ValueError(f"{owner}: {name} must be a different store than main_dict")
        if data.same_location(etags):
            raise ValueError(f"{owner}: data_cache and etag_cache must be different stores")
        params = dict(
            other_params, main_dict=main, data_cache=data, etag_cache=etags, copy_on_read=copy_on_read
        )
        self._adopt_components(main, data, params)
        self._etag_cache = etags
        # Threads sharing this wrapper update and read (value, ETag) pairs under this lock, so
        # a reader never pairs one thread's value with another thread's ETag.
        self._pair_lock = threading.RLock()

    # ----------------------------------------------------------------- components
    @property
    def etag_cache(self) -> PersiDict:
        """The store of the ETags of cached values."""
        return self._etag_cache

    # ----------------------------------------------------------------- cache upkeep
    def _cache(self, key: NonEmptySafeStrTuple, value: Any, etag: str | None) -> None:
        # The ETag goes first and last: a crash in between leaves no ETag, so never a stale pair.
        with self._pair_lock:
            self._etag_cache.delete_entry(key)
            self._data_cache.write_entry(key, value, only_if_absent=False)
            if etag is not None:
                self._etag_cache.write_entry(key, etag, only_if_absent=False)

    def _purge(self, key: NonEmptySafeStrTuple) -> None:
        with self._pair_lock:
            self._etag_cache.delete_entry(key)
            self._data_cache.delete_entry(key)

    def _absorb(self, key: NonEmptySafeStrTuple, etag: ETagIfExists, value: Any) -> None:
        if etag is ITEM_NOT_AVAILABLE:
            self._purge(key)  # deleted, or found absent
        elif value is not VALUE_NOT_RETRIEVED:
            assert isinstance(etag, str)
            self._cache(key, value, etag)  # written, or read along with the result
        else:
            with self._pair_lock:
                cached_etag = self._etag_cache.get(key)
                if cached_etag is not None and cached_etag != etag:
                    self._purge(key)  # another version is current: the cached one is stale

    # ----------------------------------------------------------------- primitives
    def _cached_pair(self, key: NonEmptySafeStrTuple, known_etag: str | None) -> tuple[Any, str | None]:
        """Return the cached ``(value, ETag)`` of ``key``, taken together; ETag None if none.

        The value is not read when the cached ETag is ``known_etag`` (the caller holds that
        version already): it is then `_NO_VALUE`.
        """
        with self._pair_lock:
            try:
                # An ETag is a str: nothing to copy.
                cached_etag = self._etag_cache.read_value_uncopied(key)
            except KeyError:
                return _NO_VALUE, None
            if type(cached_etag) is not str:
                return _NO_VALUE, None
            if cached_etag == known_etag:
                return _NO_VALUE, cached_etag
            try:
                if self._copy_on_read:
                    return self._data_cache.read_entry(key)[0], cached_etag
                return self._data_cache.read_value_uncopied(key), cached_etag
            except KeyError:
                return _NO_VALUE, None  # the value was evicted from the cache: fetch it again

    def read_entry(self, key: NonEmptySafeStrTuple) -> tuple[Any, str | None]:
        """Return the cached value if the main store confirms its ETag, else the fresh value.

        The hot path of every read: one call to each store on a hit (the main store answers
        `read_entry_if_changed`: a ``stat`` of a file, a conditional GET on S3).
        """
        cached_value, cached_etag = self._cached_pair(key, None)
        try:
            if cached_etag is None:
                value, etag = self._main.read_entry(key)
            else:
                result = self._main.read_entry_if_changed(key, cached_etag)
                if isinstance(result, ETagHasNotChangedFlag):
                    return cached_value, cached_etag
                value, etag = result
        except KeyError:
            self._purge(key)  # deleted in the main store, maybe by another process
            raise
        self._cache(key, value, etag)
        return value, etag

    def read_entry_if_changed(
        self, key: NonEmptySafeStrTuple, etag: str
    ) -> tuple[Any, str | None] | ETagHasNotChangedFlag:
        """As `read_entry`, but `ETAG_HAS_NOT_CHANGED` when the current ETag is ``etag``."""
        cached_value, cached_etag = self._cached_pair(key, etag)
        try:
            result = self._main.read_entry_if_changed(key, etag if cached_etag is None else cached_etag)
        except KeyError:
            self._purge(key)
            raise
        if isinstance(result, ETagHasNotChangedFlag):
            if cached_etag is None or cached_etag == etag:
                return result
            return cached_value, cached_etag  # the cached version is current, the caller's is not
        value, new_etag = result
        self._cache(key, value, new_etag)
        return ETAG_HAS_NOT_CHANGED if new_etag == etag else (value, new_etag)

    def write_entry(
        self, key: NonEmptySafeStrTuple, value: Any, *, only_if_absent: bool = False
    ) -> str | None:
        etag = self._main.write_entry(key, value, only_if_absent=only_if_absent)
        self._cache(key, value, etag)
        return etag

    def delete_entry(self, key: NonEmptySafeStrTuple) -> bool:
        try:
            return self._main.delete_entry(key)
        finally:
            self._purge(key)

    def has_entry(self, key: NonEmptySafeStrTuple) -> bool:
        return self._main.has_entry(key)

    def clear_entries(self) -> None:
        try:
            self._main.clear_entries()
        finally:
            self._etag_cache.clear_entries()
            self._data_cache.clear_entries()
