"""`LocalDict`: an in-memory store with the semantics of the persistent ones."""

from __future__ import annotations

import copy
import itertools
import pickle
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final

from persidict_safestr import NonEmptySafeStrTuple, SafeStrTuple

from ._conditional import ITEM_NOT_AVAILABLE, ETagValue, ItemNotAvailableFlag
from ._config import deferred_config_class
from ._errors import SerializationError
from ._jokers import ETAG_HAS_NOT_CHANGED, ETagHasNotChangedFlag
from ._persidict import PersiDict

if TYPE_CHECKING:
    from ._config_models import StoreConfig

__all__ = ["LocalDict", "LocalDictBackend"]

# Values of these types cannot be mutated, so handing out the stored object is safe.
_IMMUTABLE_TYPES: Final = frozenset({str, bytes, int, float, complex, bool, type(None), range, frozenset})
# Containers whose shallow ``.copy()`` is an independent copy when every item is immutable.
_COPYABLE_CONTAINERS: Final = frozenset({list, dict, set, bytearray})


class _Pickled:
    """A stored value kept as its pickle: ``pickle.loads`` makes a fresh copy at C speed."""

    __slots__ = ("data", "shared")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.shared: Any = None  # the object uncopied reads hand out, made on first use (never None)


class _Copied:
    """A stored value kept as a private object, copied on read by ``copier``.

    Much cheaper than an unpickle: a flat list of 100k ints copies in ~0.2 ms, unpickles in ~3 ms.
    """

    __slots__ = ("value", "copier")

    def __init__(self, value: Any, copier: Any) -> None:
        self.value = value
        self.copier = copier


class _DeepCopied:
    """A stored value that cannot be pickled (e.g. of a class defined in a function)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _copy_container(value: Any) -> Any:
    return value.copy()


def _copy_array(value: Any) -> Any:
    return value.copy(order="K")  # keeps a Fortran-ordered array Fortran-ordered, as a pickle does


def _holds_only_immutables(items: Any) -> bool:
    # The type set is built in C: ~1 ms for 100k items, once per write.
    return _IMMUTABLE_TYPES.issuperset(map(type, items))


def _snapshot_value(value: Any) -> Any:
    """Return what to store so that later changes to ``value`` never reach the store.

    An independent copy per read is what keeps the store safe from callers mutating what they
    read. The cheapest correct copy is chosen once, here: none for immutable values (and tuples
    of them), a shallow ``.copy()`` for a list, dict or set of immutable items and a bytearray,
    ``ndarray.copy`` for a numpy array of plain numbers, and an unpickle of the stored pickle
    for everything else (several times faster than ``copy.deepcopy``).
    """
    kind = type(value)
    if kind in _IMMUTABLE_TYPES:
        return value
    if kind is tuple and _holds_only_immutables(value):
        return value
    if kind in _COPYABLE_CONTAINERS and (
        kind is bytearray
        or (_holds_only_immutables(value) and (kind is not dict or _holds_only_immutables(value.values())))
    ):
        return _Copied(value.copy(), _copy_container)
    numpy = sys.modules.get("numpy")  # a numpy array exists only if numpy is imported
    if numpy is not None and kind is numpy.ndarray and not value.dtype.hasobject:
        return _Copied(_copy_array(value), _copy_array)
    try:
        return _Pickled(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        return _DeepCopied(copy.deepcopy(value))


def _fresh_copy(stored: Any) -> Any:
    """Return an independent copy of a value stored by `_snapshot_value`."""
    kind = type(stored)
    if kind is _Copied:
        return stored.copier(stored.value)
    if kind is _Pickled:
        return pickle.loads(stored.data)
    if kind is _DeepCopied:
        return copy.deepcopy(stored.value)
    return stored


def _shared_value(stored: Any) -> Any:
    """Return the one object that uncopied reads of a stored value share (`read_value_uncopied`)."""
    kind = type(stored)
    if kind is _Copied or kind is _DeepCopied:
        return stored.value
    if kind is _Pickled:
        shared = stored.shared
        if shared is None:
            shared = stored.shared = pickle.loads(stored.data)
        return shared
    return stored


@dataclass(eq=False)
class _Storage:
    """The shared in-memory tree: ``{format: {full key: (value, timestamp, etag)}}``."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    data: dict[str, dict[tuple[str, ...], tuple[Any, float, str]]] = field(default_factory=dict)
    etags: itertools.count[int] = field(default_factory=itertools.count)

    def __getstate__(self) -> dict[str, Any]:
        with self.lock:
            return {"data": copy.deepcopy(self.data), "next_etag": next(self.etags)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.lock = threading.RLock()
        self.data = state["data"]
        self.etags = itertools.count(state["next_etag"])


@dataclass(frozen=True, eq=False, repr=False)
class LocalDictBackend:
    """Where a `LocalDict` keeps its items: a shared in-memory storage and a key prefix.

    Pass one `LocalDict`'s ``backend`` to another to share contents (as two `FileDirDict` over
    one directory do); stores of different formats can share a backend.
    """

    storage: _Storage = field(default_factory=_Storage)
    prefix: tuple[str, ...] = ()

    def __repr__(self) -> str:
        # Compact: the contents may be large, and a repr of a store must stay readable.
        return f"LocalDictBackend(storage=<0x{id(self.storage):x}>, prefix={self.prefix!r})"


class LocalDict(PersiDict):
    """An in-memory, thread-safe store with the semantics of the persistent ones.

    For tests and ephemeral data: timestamps, ETags, sub-dicts, append-only and format checks
    behave as in `FileDirDict`. Values are copied on write and on read (pickled when they can be,
    deep-copied otherwise), so mutating a value read from the store never changes what is
    stored. Nothing survives the process.

    Args:
        backend: A `LocalDictBackend` to share contents with another LocalDict (default: new).
        serialization_format: ``"pkl"``, ``"json"`` or a text format (whose values must be str).
        append_only: If True, keys can be added but never changed or deleted.
        base_class_for_values: If set, every value must be an instance of this class.
        prune_interval: Accepted for compatibility; empty branches are removed eagerly here.
        **other_params: Other names of the shared parameter vocabulary are ignored.
    """

    # Pickles name the class by its public home, so they survive moves between private modules.
    __module__ = "persidict_core"

    config_class: ClassVar[type[StoreConfig]] = deferred_config_class(
        "persidict_core._config_models:LocalDictConfig", "local_dict"
    )
    # Mutations hold the shared storage's lock; reads are single lookups of immutable entries.
    atomic_conditional_writes: ClassVar[bool] = True
    strong_etags: ClassVar[bool] = True  # ETags come from one counter per storage

    def __init__(
        self,
        backend: LocalDictBackend | None = None,
        serialization_format: str = "pkl",
        append_only: bool = False,
        base_class_for_values: type | None = None,
        prune_interval: int | None = 64,
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
        if backend is not None and not isinstance(backend, LocalDictBackend):
            raise TypeError(f"backend must be a LocalDictBackend, got {type(backend).__name__}")
        self._backend = backend if backend is not None else LocalDictBackend()
        self._storage = self._backend.storage
        self._prefix = self._backend.prefix
        with self._storage.lock:
            self._items = self._storage.data.setdefault(self._format, {})

    @property
    def backend(self) -> LocalDictBackend:
        """The in-memory storage this store reads and writes."""
        return self._backend

    def _runtime_parts(self) -> dict[str, Any]:
        return {"backend": self._backend}

    def same_location(self, other: PersiDict) -> bool:
        return (
            super().same_location(other)
            and isinstance(other, LocalDict)
            and other._storage is self._storage
            and other._prefix == self._prefix
        )

    def _full(self, key: NonEmptySafeStrTuple) -> tuple[str, ...]:
        return self._prefix + key if self._prefix else key

    def read_entry(self, key: NonEmptySafeStrTuple) -> tuple[Any, str]:
        """Return a fresh copy of the stored value and its ETag (see `PersiDict.read_entry`)."""
        try:
            value, _, etag = self._items[self._full(key)]
        except KeyError:
            raise KeyError(key) from None
        return _fresh_copy(value), etag

    def read_entry_if_changed(
        self, key: NonEmptySafeStrTuple, etag: str
    ) -> tuple[Any, str] | ETagHasNotChangedFlag:
        """One lookup: the value is copied only when its ETag is not ``etag``."""
        try:
            value, _, current = self._items[self._full(key)]
        except KeyError:
            raise KeyError(key) from None
        if current == etag:
            return ETAG_HAS_NOT_CHANGED
        return _fresh_copy(value), current

    def read_value_uncopied(self, key: NonEmptySafeStrTuple) -> Any:
        """Return the stored object itself, the same on every call: the caller must not mutate it."""
        try:
            stored = self._items[self._full(key)][0]
        except KeyError:
            raise KeyError(key) from None
        return _shared_value(stored)

    def write_entry(self, key: NonEmptySafeStrTuple, value: Any, *, only_if_absent: bool = False) -> str:
        try:
            stored = _snapshot_value(value)
        except Exception as exc:  # a lock, a generator, an open file...: as FileDirDict refuses it
            raise SerializationError(f"Cannot copy the value for key {tuple(key)!r}: {exc}", key=key) from exc
        full = self._full(key)
        with self._storage.lock:
            if only_if_absent and full in self._items:
                raise self._refuse_mutation(key, "overwrite")
            etag = str(next(self._storage.etags))
            self._items[full] = (stored, time.time(), etag)
        return etag

    def delete_entry(self, key: NonEmptySafeStrTuple) -> bool:
        with self._storage.lock:
            return self._items.pop(self._full(key), None) is not None

    def write_entry_if_etag(
        self, key: NonEmptySafeStrTuple, value: Any, expected_etag: ETagValue | ItemNotAvailableFlag
    ) -> str | None:
        try:
            stored = _snapshot_value(value)  # outside the lock: copying may be slow
        except Exception as exc:
            raise SerializationError(f"Cannot copy the value for key {tuple(key)!r}: {exc}") from exc
        full = self._full(key)
        with self._storage.lock:
            entry = self._items.get(full)
            if (entry[2] if entry is not None else ITEM_NOT_AVAILABLE) != expected_etag:
                return None
            etag = str(next(self._storage.etags))
            self._items[full] = (stored, time.time(), etag)
        return etag

    def delete_entry_if_etag(self, key: NonEmptySafeStrTuple, expected_etag: ETagValue) -> bool:
        full = self._full(key)
        with self._storage.lock:
            entry = self._items.get(full)
            if entry is None or entry[2] != expected_etag:
                return False
            del self._items[full]
        return True

    def has_entry(self, key: NonEmptySafeStrTuple) -> bool:
        return self._full(key) in self._items

    def _entry(self, key: NonEmptySafeStrTuple) -> tuple[Any, float, str]:
        try:
            return self._items[self._full(key)]
        except KeyError:
            raise KeyError(key) from None

    def entry_timestamp(self, key: NonEmptySafeStrTuple) -> float:
        return self._entry(key)[1]

    def entry_etag(self, key: NonEmptySafeStrTuple) -> str:
        return self._entry(key)[2]

    def _snapshot(self) -> list[tuple[tuple[str, ...], tuple[Any, float, str]]]:
        prefix = self._prefix
        depth = len(prefix)
        with self._storage.lock:
            if not depth:
                return list(self._items.items())
            return [
                (full[depth:], entry)
                for full, entry in self._items.items()
                if len(full) > depth and full[:depth] == prefix
            ]

    def iter_entry_keys(self) -> Iterator[NonEmptySafeStrTuple]:
        make_key = NonEmptySafeStrTuple.from_trusted_strings
        for key, _ in self._snapshot():
            yield make_key(key)

    def count_entries(self) -> int:
        if not self._prefix:
            return len(self._items)
        return len(self._snapshot())

    def iter_entries(
        self, with_values: bool, with_timestamps: bool
    ) -> Iterator[tuple[NonEmptySafeStrTuple, Any, float | None]]:
        make_key = NonEmptySafeStrTuple.from_trusted_strings
        for key, (value, timestamp, _) in self._snapshot():
            yield (
                make_key(key),
                _fresh_copy(value) if with_values else None,
                timestamp if with_timestamps else None,
            )

    def clear_entries(self) -> None:
        with self._storage.lock:
            if not self._prefix:
                self._items.clear()
                return
            depth = len(self._prefix)
            for full in [full for full in self._items if len(full) > depth and full[:depth] == self._prefix]:
                del self._items[full]

    def subdict_at(self, prefix: SafeStrTuple) -> LocalDict:
        backend = LocalDictBackend(storage=self._storage, prefix=self._prefix + tuple(prefix))
        return type(self)(
            backend=backend,
            serialization_format=self._format,
            append_only=self._append_only,
            base_class_for_values=self._value_class,
        )
