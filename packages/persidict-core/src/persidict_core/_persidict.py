"""`PersiDict`: the abstract base of every persistent dictionary.

A backend implements a handful of primitives (see the class docstring); every public method
of the public API is written once here on top of them.
"""

from __future__ import annotations

import functools
import heapq
import random
import time
from abc import ABC, abstractmethod
from collections.abc import ItemsView, Iterator, KeysView, Mapping, MutableMapping, Sequence, ValuesView
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeAlias, TypeVar, cast

from persidict_safestr import NonEmptySafeStrTuple, SafeStrTuple

from ._conditional import (
    ALWAYS_RETRIEVE,
    IF_ETAG_CHANGED,
    ITEM_NOT_AVAILABLE,
    NEVER_RETRIEVE,
    VALUE_NOT_RETRIEVED,
    ConditionalOperationResult,
    ETagConditionFlag,
    ETagIfExists,
    ETagValue,
    ItemNotAvailableFlag,
    OperationResult,
    RetrieveValueFlag,
    TransformingFunction,
)
from ._config import (
    DeferredConfigClass,
    config_from_data,
    constructor_params,
    deferred_config_class,
    register_store_kind,
    split_parameters,
    split_runtime_parts,
    store_from_config,
)
from ._errors import ConcurrencyConflictError, MutationPolicyError
from ._jokers import DELETE_CURRENT, ETAG_HAS_NOT_CHANGED, KEEP_CURRENT, ETagHasNotChangedFlag, Joker
from ._serialization import serialize

if TYPE_CHECKING:
    from ._config_models import StoreConfig

__all__ = ["EntryInfo", "KeyLike", "PersiDict", "to_key"]

KeyLike: TypeAlias = "str | Sequence[str] | SafeStrTuple"
"""What every method accepts as a key: a str, a sequence of str, or a SafeStrTuple."""

_ConfigT = TypeVar("_ConfigT", bound="StoreConfig")
_StoreT = TypeVar("_StoreT", bound="PersiDict")


def to_key(key: KeyLike) -> NonEmptySafeStrTuple:
    """Normalize a key to the `NonEmptySafeStrTuple` every store works with.

    Raises:
        ValueError: An element is empty, too long, unsafe, ``.`` or ``..``; or the key is empty.
        TypeError: The key is not a str, a sequence of str or a SafeStrTuple.
    """
    return NonEmptySafeStrTuple(key)


@dataclass(frozen=True)
class EntryInfo:
    """What a listing knows about a stored value, without reading it (see `PersiDict.list_entries`).

    Attributes:
        key: The key.
        size: Bytes of the stored value (as `PersiDict.read_bytes` returns them).
        timestamp: POSIX time of the key's last write.
        etag: The key's ETag (None for stores without ETags).
    """

    key: NonEmptySafeStrTuple
    size: int
    timestamp: float
    etag: str | None


# The hot paths call the constructor directly: a function layer costs ~10% of a small `in`.
_key = NonEmptySafeStrTuple


class _ApplicableParameters:
    """``PersiDict.applicable_parameters``: computed from ``config_class`` on first access.

    Computing it when the class is created would import the config model (and pydantic) with
    the store class.
    """

    def __get__(self, instance: object, owner: type[PersiDict]) -> frozenset[str]:
        names = owner.__dict__.get("_applicable_parameters")
        if names is None:
            # The parameters a store uses are its config's fields: one field in one model.
            names = frozenset(owner.config_class.model_fields) - {"kind"}
            type.__setattr__(owner, "_applicable_parameters", names)
        assert isinstance(names, frozenset)
        return names


def _key_or_none(key: object) -> NonEmptySafeStrTuple | None:
    """Return ``key`` as a key, or None when its type can never make one (for ``in``).

    ``5 in store`` is False, as for a ``dict``: what is not a str, a sequence of str or a
    SafeStrTuple (a TypeError elsewhere) is not in any store. A value of the right type that
    is not a valid key (``"a/b"``, ``()``) still raises ValueError.
    """
    try:
        return _key(key)
    except TypeError:
        return None


_BACKOFF_S = 0.0005  # transform_item's pause after a lost race, times the losses so far (up to 8)


class _InvalidArgumentError(ValueError, TypeError):
    """A flag or count of the wrong kind: both a ValueError and a TypeError, so either catches it."""


def _check_flag(name: str, value: object, flag_class: type) -> None:
    if not isinstance(value, flag_class):
        raise _InvalidArgumentError(f"{name} must be an instance of {flag_class.__name__}, got {value!r}")


def _check_expected_etag(value: object) -> None:
    if type(value) is not str and value is not ITEM_NOT_AVAILABLE:
        raise _InvalidArgumentError(
            f"expected_etag must be an ETag (str) or ITEM_NOT_AVAILABLE, got {value!r}"
        )


def _kept(new_etag: ETagIfExists, value: Any) -> Any:
    """The value a write leaves stored: none when the store keeps nothing (no ETag)."""
    return ITEM_NOT_AVAILABLE if new_etag is ITEM_NOT_AVAILABLE else value


def _check_n_retries(n_retries: object) -> None:
    if n_retries is None:
        return
    if isinstance(n_retries, bool) or not isinstance(n_retries, int):
        raise TypeError(f"n_retries must be an int >= 0 or None, got {n_retries!r}")
    if n_retries < 0:
        raise ValueError(f"n_retries must be an int >= 0 or None, got {n_retries!r}")


_BUILTIN_VALUE_TYPES: Final = frozenset({dict, list, tuple, str, bytes, int, float, bool, type(None), set})
"""Exact types of the most common values, which no store or joker can have."""


class PersiDict(MutableMapping[Any, Any], ABC):
    """A persistent dictionary: the API of ``dict`` over storage shared by many processes.

    Keys are `NonEmptySafeStrTuple`s (given as a str, a sequence of str or a SafeStrTuple);
    each key-value pair is stored separately, so processes on many machines can read and write
    the same store. Beyond ``dict`` it offers timestamps, ETags, hierarchical sub-dicts,
    jokers (`KEEP_CURRENT`, `DELETE_CURRENT`) and an append-only mode.

    A backend subclasses it, sets `config_class` and implements the backend contract: the
    abstract `read_entry`, `write_entry`, `delete_entry`, `has_entry`, `entry_timestamp`,
    `entry_etag`, `iter_entries` and `subdict_at`. The other contract methods have defaults
    written on those, which a store overrides where it can do better: `read_entry_if_changed`,
    `read_value_uncopied`, `iter_entry_keys`, `count_entries`, `clear_entries`,
    `same_location`, and the conditional primitives `write_entry_if_etag` and
    `delete_entry_if_etag`, whose defaults (check, then act) are correct but not atomic: a store
    that overrides them atomically sets `atomic_conditional_writes`. The capability flags
    (`provides_etags`, `atomic_conditional_writes`, `strong_etags`, `mutation_policy`) tell
    wrappers and the conformance suite what the store promises.
    """

    config_class: ClassVar[type[StoreConfig]] = deferred_config_class(
        "persidict_core._config_models:StoreConfig", None
    )
    """The pydantic model describing stores of this class."""
    if TYPE_CHECKING:
        applicable_parameters: ClassVar[frozenset[str]]
        """The config fields of this store (derived from `config_class`; other names of the
        shared vocabulary are ignored by the constructor)."""
    else:
        applicable_parameters = _ApplicableParameters()
    provides_etags: ClassVar[bool] = True
    """Whether `etag` identifies a value version (caches that validate by ETag need this)."""
    mutation_policy: ClassVar[str] = "append-only"
    """The policy named by `MutationPolicyError` when an append-only store refuses a change."""
    atomic_conditional_writes: ClassVar[bool] = False
    """Whether `write_entry_if_etag` and `delete_entry_if_etag` are atomic against every other writer.

    When False the conditional methods still give the right answers without concurrent writers,
    but a check and its mutation can be split by another process.
    """
    strong_etags: ClassVar[bool] = False
    """Whether two writes of a key never share an ETag (so an ETag identifies one write)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = cls.__dict__.get("config_class")
        if isinstance(declared, DeferredConfigClass):
            # Registered by name: the model (and pydantic) is imported when first used.
            if declared.kind is not None:
                register_store_kind(declared.kind, declared, cls)
        elif declared is not None:
            kind_field = declared.model_fields.get("kind")
            if kind_field is not None and isinstance(kind_field.default, str):
                register_store_kind(kind_field.default, declared, cls)

    def __init__(self, config: StoreConfig) -> None:
        """Adopt a validated config; subclasses build it with `make_config`."""
        self._config = config
        self._append_only: bool = config.append_only
        self._value_class: type | None = config.base_class_for_values
        self._format: str = config.serialization_format

    @classmethod
    def make_config(cls, params: Mapping[str, Any], **derived: Any) -> StoreConfig:
        """Validate constructor parameters into this class's config (for a store's ``__init__``).

        Known parameters that don't apply to this store are dropped, so one dict of parameters
        fits every store; a name no store defines is a `ValidationError` naming it (with a
        did-you-mean). A ``kind`` (as in `get_params`) must be this store's.

        Args:
            params: The constructor's arguments, by name (its ``**other_params`` included).
            **derived: Fields the store sets itself, which win over ``params`` (a wrapper
                takes its format from the store it wraps).

        Returns:
            The validated, frozen config, an instance of `config_class`.

        Raises:
            pydantic.ValidationError: An invalid value, an unknown name, or another kind.
        """
        fields = split_parameters(params, cls.applicable_parameters | {"kind"}, cls.config_class)
        fields.setdefault("kind", cls.config_class.model_fields["kind"].default)
        return cls.config_class(**{**fields, **derived})

    # ----------------------------------------------------------------- configuration
    @property
    def config(self) -> StoreConfig:
        """The store's validated, frozen configuration."""
        return self._config

    @property
    def append_only(self) -> bool:
        """True if existing keys can be neither overwritten nor deleted."""
        return self._append_only

    @property
    def serialization_format(self) -> str:
        """``"pkl"``, ``"json"`` or the name of a plain-text format."""
        return self._format

    @property
    def base_class_for_values(self) -> type | None:
        """The class every value must be an instance of, or None."""
        return self._value_class

    def get_params(self) -> dict[str, Any]:
        """Return the constructor parameters of this store: ``type(store)(**params)`` reopens it.

        The config as a dict, plus the constructor arguments a config cannot hold (a
        `LocalDict`'s ``backend``); a wrapper nests the ``get_params()`` of the stores it wraps.
        The JSON-serializable description of the store is `config`.
        """
        params = self._config.model_dump()
        fields = type(self._config).model_fields
        for name, part in self._runtime_parts().items():
            if name not in fields:
                params[name] = part
            elif isinstance(part, PersiDict):
                params[name] = part.get_params()
        return params

    @classmethod
    def from_config(
        cls,
        config: StoreConfig | Mapping[str, Any] | str | bytes,
        runtime_parts: Mapping[str, Any] | None = None,
    ) -> PersiDict:
        """Reopen a store from a config, its dict (or `get_params`) or its JSON.

        A config of this class's own kind opens this class (a subclass stays the subclass);
        another kind opens the class registered for it, which must be a subclass of this one.

        Args:
            config: The config, as a `StoreConfig`, a dict or JSON text.
            runtime_parts: Constructor arguments the config cannot hold (see `store_from_config`).

        Raises:
            TypeError: The config describes a store of another class.
            pydantic.ValidationError: The config is invalid.
        """
        if isinstance(config, Mapping):
            config, runtime_parts = split_runtime_parts(config, runtime_parts)
        validated = config_from_data(config)
        own_kind = cls.config_class.model_fields["kind"].default
        if validated.kind == own_kind and not getattr(cls, "__abstractmethods__", None):
            return cls(**constructor_params(validated, runtime_parts))
        store = store_from_config(validated, runtime_parts)
        if not isinstance(store, cls):
            raise TypeError(f"The config describes a {type(store).__name__}, not a {cls.__name__}")
        return store

    def to_url(self) -> str:
        """Return a URL that `open_store` turns into a store equal to this one.

        The query holds the parameters that differ from their defaults.

        Raises:
            ValueError: No URL can describe this store (an in-memory store, a wrapper).
        """
        raise ValueError(
            f"A {type(self).__name__} cannot be described by a store URL; if its storage outlives "
            "this process, save its config (store.config.model_dump_json()) to a file and open it "
            "with '@file.json'"
        )

    def _runtime_parts(self) -> dict[str, Any]:
        """Constructor arguments that the config cannot hold (overridden by in-memory stores)."""
        return {}

    def _reopening_params(self) -> dict[str, Any]:
        """The constructor arguments of a store over the same location as this one."""
        params = self._config.model_dump(exclude={"kind"})
        params.update(self._runtime_parts())
        return params

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling and copying go through the constructor of this very class (a subclass stays
        # itself), with the config's fields: the copy opens the same location. The pickle
        # names only the class and functools.partial.
        return (functools.partial(type(self), **self._reopening_params()), ())

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self._config, name)!r}"
            for name in type(self._config).model_fields
            if name != "kind"
        )
        return f"{type(self).__name__}({fields})"

    def same_location(self, other: PersiDict) -> bool:
        """Tell whether ``other`` reads and writes the very same storage as this store.

        Part of the backend contract: wrappers use it to refuse a cache that is the store it
        caches, and ``==`` answers True for two stores over one location without comparing
        contents. The default compares the classes and the configs; a store whose location
        is not all in its config (a `LocalDict`'s in-memory storage) extends it.

        Args:
            other: Any store.

        Returns:
            True if both stores are of the same class over the same storage.
        """
        return type(self) is type(other) and self._config == other._config

    # ----------------------------------------------------------------- the backend contract
    # Every method below takes a key already normalized to a NonEmptySafeStrTuple: the public
    # dict API validates keys and values, then calls these. They check nothing themselves.
    @abstractmethod
    def read_entry(self, key: NonEmptySafeStrTuple) -> tuple[Any, str | None]:
        """Read the value of ``key`` and the ETag of the version read, as of one moment.

        Args:
            key: The key, already normalized.

        Returns:
            ``(value, etag)``: the value, a fresh object the caller owns (mutating it never
            changes what is stored), and its ETag (None for a store without ETags).

        Raises:
            KeyError: The key is absent.
            DeserializationError: The stored bytes cannot be decoded.
            BackendError: The storage failed.
        """

    def read_entry_if_changed(
        self, key: NonEmptySafeStrTuple, etag: str
    ) -> tuple[Any, str | None] | ETagHasNotChangedFlag:
        """Read ``key`` unless its ETag is still ``etag`` (cache revalidation).

        The default asks `entry_etag` first, then calls `read_entry`. A store that can answer
        in one step overrides it (a conditional GET, one ``stat`` of a file) and so never
        transfers a value that did not change.

        Args:
            key: The key, already normalized.
            etag: The ETag of the version the caller holds.

        Returns:
            `ETAG_HAS_NOT_CHANGED` if the key's ETag is ``etag``; otherwise ``(value, new_etag)``
            as `read_entry` returns them.

        Raises:
            KeyError: The key is absent.
            DeserializationError: The stored bytes cannot be decoded.
            BackendError: The storage failed.
        """
        if self.entry_etag(key) == etag:
            return ETAG_HAS_NOT_CHANGED
        value, new_etag = self.read_entry(key)
        if new_etag == etag:  # changed back between the two calls: the caller's copy is current
            return ETAG_HAS_NOT_CHANGED
        return value, new_etag

    def read_value_uncopied(self, key: NonEmptySafeStrTuple) -> Any:
        """Read the value of ``key`` without the defensive copy `read_entry` makes.

        A store that keeps objects in memory (`LocalDict`) returns the stored object itself,
        the same one on every call, so the caller must never mutate it (the caches' opt-in
        ``copy_on_read=False``). The default returns `read_entry`'s value, which is fresh.

        Args:
            key: The key, already normalized.

        Returns:
            The stored value (shared with other callers where the store keeps objects).

        Raises:
            KeyError: The key is absent.
            DeserializationError: The stored bytes cannot be decoded.
            BackendError: The storage failed.
        """
        value, _ = self.read_entry(key)
        return value

    @abstractmethod
    def write_entry(
        self, key: NonEmptySafeStrTuple, value: Any, *, only_if_absent: bool = False
    ) -> str | None:
        """Store ``value`` under ``key`` and return the ETag of the version written.

        Args:
            key: The key, already normalized.
            value: The value, already checked (never a joker, a store or of a refused class).
            only_if_absent: Create the key only if it is absent, atomically: of several
                concurrent creators exactly one succeeds (append-only stores and
                ``setdefault`` rely on it).

        Returns:
            The new ETag (None for a store without ETags).

        Raises:
            MutationPolicyError: ``only_if_absent`` is True and the key is present (nothing
                is written).
            SerializationError: The value cannot be stored in this store's format.
            BackendError: The storage failed.
        """

    @abstractmethod
    def delete_entry(self, key: NonEmptySafeStrTuple) -> bool:
        """Delete ``key`` if it is present.

        Args:
            key: The key, already normalized.

        Returns:
            True if a value was deleted, False if the key was absent (never a KeyError).

        Raises:
            BackendError: The storage failed.
        """

    @abstractmethod
    def has_entry(self, key: NonEmptySafeStrTuple) -> bool:
        """Tell whether ``key`` is present, without reading its value.

        Args:
            key: The key, already normalized.

        Returns:
            True if the key is present.

        Raises:
            BackendError: The storage failed.
        """

    @abstractmethod
    def entry_timestamp(self, key: NonEmptySafeStrTuple) -> float:
        """Return the POSIX time of the last write of ``key``.

        Args:
            key: The key, already normalized.

        Returns:
            Seconds since the epoch.

        Raises:
            KeyError: The key is absent.
            BackendError: The storage failed.
        """

    @abstractmethod
    def entry_etag(self, key: NonEmptySafeStrTuple) -> str | None:
        """Return the ETag of the current version of ``key``, without reading its value.

        Args:
            key: The key, already normalized.

        Returns:
            A string that changes whenever the value is rewritten (None for a store without
            ETags: `provides_etags` False).

        Raises:
            KeyError: The key is absent.
            BackendError: The storage failed.
        """

    @abstractmethod
    def iter_entries(
        self, with_values: bool, with_timestamps: bool
    ) -> Iterator[tuple[NonEmptySafeStrTuple, Any, float | None]]:
        """List the store: yield ``(key, value, timestamp)`` for every key.

        Args:
            with_values: Read each value (else the value part is None).
            with_timestamps: Report each key's `entry_timestamp` (else that part is None).

        Yields:
            One triple per key, in the store's listing order. A key deleted while the
            listing runs is skipped, never a KeyError.

        Raises:
            DeserializationError: A value read cannot be decoded.
            BackendError: The storage failed.
        """

    @abstractmethod
    def subdict_at(self, prefix: SafeStrTuple) -> PersiDict:
        """Return a store of the same class over the keys that start with ``prefix``.

        The sub-store shares the storage: a write through either is seen by both. Its keys
        are those of this store with ``prefix`` removed.

        Args:
            prefix: A non-empty prefix (an empty one is handled by `get_subdict`).

        Returns:
            The sub-store, with this store's format, policy and value class.

        Raises:
            BackendError: The storage failed.
        """

    def iter_entry_keys(self) -> Iterator[NonEmptySafeStrTuple]:
        """Yield every key (the default lists `iter_entries` without values or timestamps).

        A store that lists keys alone more cheaply overrides it; ``iter()``, ``keys()`` and
        `random_key` use it. Keys deleted meanwhile are skipped.

        Raises:
            BackendError: The storage failed.
        """
        for key, _, _ in self.iter_entries(False, False):
            yield key

    def count_entries(self) -> int:
        """Return the number of keys (``len``; the default counts `iter_entry_keys`).

        Raises:
            BackendError: The storage failed.
        """
        return sum(1 for _ in self.iter_entry_keys())

    def clear_entries(self) -> None:
        """Delete every key (``clear``; the default deletes what `iter_entry_keys` lists).

        The public method has already refused an append-only store.

        Raises:
            BackendError: The storage failed.
        """
        for key in list(self.iter_entry_keys()):
            self.delete_entry(key)

    def write_entry_if_etag(
        self, key: NonEmptySafeStrTuple, value: Any, expected_etag: ETagValue | ItemNotAvailableFlag
    ) -> ETagIfExists | None:
        """Store ``value`` only if the ETag of ``key`` is ``expected_etag`` (compare-and-swap).

        The conditional operations (``set_item_if``, ``setdefault_if``, ``transform_item``)
        are written on this. A store whose `atomic_conditional_writes` is True does the check
        and the write as one step; this default checks `entry_etag`, then writes (its
        create-if-absent is as atomic as `write_entry`'s ``only_if_absent``).

        Args:
            key: The key, already normalized.
            value: The value, already checked.
            expected_etag: The ETag the key must have, or `ITEM_NOT_AVAILABLE`: the key must
                be absent.

        Returns:
            The new ETag; None when the condition did not hold (nothing was written; never an
            exception for a lost condition). A store without ETags returns ``""`` for a write
            it made (the ETag it reports to the conditional operations), and a store that
            keeps nothing (`EmptyDict`) `ITEM_NOT_AVAILABLE` for a write it accepted.

        Raises:
            SerializationError: The value cannot be stored in this store's format.
            BackendError: The storage failed.
        """
        if not isinstance(expected_etag, str):  # ITEM_NOT_AVAILABLE: create only
            try:
                new_etag = self.write_entry(key, value, only_if_absent=True)
            except MutationPolicyError:
                return None
        else:
            try:
                if (self.entry_etag(key) or "") != expected_etag:  # a store without ETags reports ""
                    return None
            except KeyError:
                return None
            new_etag = self.write_entry(key, value)
        # A store without ETags wrote (its write_entry gives None): "" reports the write, as
        # None would report a lost condition, and the conditional operations would retry forever.
        return "" if new_etag is None else new_etag

    def delete_entry_if_etag(self, key: NonEmptySafeStrTuple, expected_etag: ETagValue) -> bool:
        """Delete ``key`` only if its ETag is ``expected_etag``.

        Atomic when `atomic_conditional_writes` is True; this default checks `entry_etag`,
        then deletes.

        Args:
            key: The key, already normalized.
            expected_etag: The ETag the key must have.

        Returns:
            True if the key was deleted; False if it is absent or has another ETag.

        Raises:
            BackendError: The storage failed.
        """
        try:
            if (self.entry_etag(key) or "") != expected_etag:
                return False
        except KeyError:
            return False
        return self.delete_entry(key)

    # ----------------------------------------------------------------- value checks
    def _check_value(self, key: NonEmptySafeStrTuple, value: Any) -> None:
        # A value of a built-in type is neither a store nor a joker: no isinstance against the
        # abstract PersiDict (a call into the abc machinery) for the most common values.
        if type(value) not in _BUILTIN_VALUE_TYPES:
            if isinstance(value, PersiDict):
                raise TypeError(f"A PersiDict cannot be stored as a value (key {key!r})")
            if isinstance(value, Joker):
                raise TypeError(f"A joker cannot be stored as a value (key {key!r})")
        if self._value_class is not None and not isinstance(value, self._value_class):
            raise TypeError(
                f"Values of this store must be instances of {self._value_class.__name__}, "
                f"got {type(value).__name__} for key {key!r}"
            )

    def _checked_read_value(self, key: NonEmptySafeStrTuple, value: Any) -> Any:
        if self._value_class is not None and not isinstance(value, self._value_class):
            raise TypeError(
                f"The stored value of key {key!r} is a {type(value).__name__}, "
                f"not an instance of {self._value_class.__name__}"
            )
        return value

    def _refuse_mutation(self, key: NonEmptySafeStrTuple | None, action: str) -> MutationPolicyError:
        """Build the error for a mutation that the store's policy forbids (None: the whole store)."""
        return MutationPolicyError(self.mutation_policy, key=key, operation=action)

    # ----------------------------------------------------------------- dict API
    def __getitem__(self, key: KeyLike) -> Any:
        """Return the value of ``key``; KeyError if absent."""
        k = _key(key)
        value, _ = self.read_entry(k)
        return self._checked_read_value(k, value)

    def __setitem__(self, key: KeyLike, value: Any) -> None:
        """Store ``value`` under ``key`` (jokers: `KEEP_CURRENT` no-op, `DELETE_CURRENT` delete)."""
        self.set_item_get_etag(key, value)

    def __delitem__(self, key: KeyLike) -> None:
        """Delete ``key``; KeyError if absent, `MutationPolicyError` if append-only."""
        k = _key(key)
        if self._append_only:
            raise self._refuse_mutation(k, "delete")
        if not self.delete_entry(k):
            raise KeyError(k)

    def __contains__(self, key: object) -> bool:
        """Return True if ``key`` is present.

        False for what can never be a key (``5``, ``None``, a dict); a str or sequence that is
        not a valid key (``"a/b"``, ``()``) raises ValueError.
        """
        k = _key_or_none(key)
        return k is not None and self.has_entry(k)

    def __ior__(self: _StoreT, other: Any) -> _StoreT:
        """``store |= other`` is ``store.update(other)`` (PEP 584); returns the store itself.

        ``other`` is a mapping or an iterable of ``(key, value)`` pairs, as for ``dict``. There
        is no ``store | other``: a new store would need a location of its own; write
        ``dict(store) | other`` for an in-memory merge.
        """
        self.update(other)
        return self

    def __len__(self) -> int:
        """Return the number of keys (listing, never reading values)."""
        return self.count_entries()

    def __iter__(self) -> Iterator[NonEmptySafeStrTuple]:
        """Iterate over the keys."""
        return self.iter_entry_keys()

    def keys(self) -> KeysView[NonEmptySafeStrTuple]:
        """Return a view of the keys (``len`` and ``in`` work; each iteration lists afresh)."""
        return _KeysView(self)

    def values(self) -> ValuesView[Any]:
        """Return a view of the values (read as they are iterated)."""
        return _ValuesView(self)

    def items(self) -> ItemsView[NonEmptySafeStrTuple, Any]:
        """Return a view of ``(key, value)`` pairs."""
        return _ItemsView(self)

    def _checked_entries(
        self, with_values: bool, with_timestamps: bool
    ) -> Iterator[tuple[NonEmptySafeStrTuple, Any, float | None]]:
        for key, value, timestamp in self.iter_entries(with_values, with_timestamps):
            if with_values:
                self._checked_read_value(key, value)
            yield key, value, timestamp

    def keys_and_timestamps(self) -> Iterator[tuple[NonEmptySafeStrTuple, float]]:
        """Iterate over ``(key, timestamp)`` pairs without reading values."""
        for key, _, timestamp in self.iter_entries(False, True):
            yield key, cast(float, timestamp)  # requested: never None

    def values_and_timestamps(self) -> Iterator[tuple[Any, float]]:
        """Iterate over ``(value, timestamp)`` pairs."""
        for _, value, timestamp in self._checked_entries(True, True):
            yield value, cast(float, timestamp)

    def items_and_timestamps(self) -> Iterator[tuple[NonEmptySafeStrTuple, Any, float]]:
        """Iterate over ``(key, value, timestamp)`` triples."""
        return cast("Iterator[tuple[NonEmptySafeStrTuple, Any, float]]", self._checked_entries(True, True))

    def get(self, key: KeyLike, default: Any = None) -> Any:
        """Return the value of ``key``, or ``default`` if it is absent."""
        try:
            return self[key]
        except KeyError:
            return default

    def setdefault(self, key: KeyLike, default: Any = None) -> Any:
        """Return the value of ``key``; if absent, store ``default`` and return it.

        The insertion is atomic (an insert-if-absent): when several processes race, one stores
        its default and every caller gets the value that is stored.
        """
        if isinstance(default, Joker):
            raise TypeError("setdefault() does not accept a joker as the default value")
        k = _key(key)
        checked = False
        while True:
            try:
                value, _ = self.read_entry(k)
                return self._checked_read_value(k, value)
            except KeyError:
                pass
            if not checked:
                self._check_value(k, default)
                checked = True
            if self.write_entry_if_etag(k, default, ITEM_NOT_AVAILABLE) is not None:
                return default
            # Another writer created the key first: return what it stored.

    def pop(self, key: KeyLike, *default: Any) -> Any:
        """Remove ``key`` and return its value (or ``default`` if given and the key is absent).

        The value returned is exactly the one removed: if another writer replaces the value
        between the read and the delete, the new value is read and popped instead.
        """
        if len(default) > 1:
            raise TypeError(f"pop expected at most 2 arguments, got {1 + len(default)}")
        k = _key(key)
        if self._append_only:
            raise self._refuse_mutation(k, "pop")
        while True:
            try:
                value, etag = self.read_entry(k)
            except KeyError:
                if default:
                    return default[0]
                raise
            if etag is None:  # a store without ETags: nothing to compare, delete what is there
                if self.delete_entry(k):
                    return self._checked_read_value(k, value)
                continue
            if self.delete_entry_if_etag(k, etag):
                return self._checked_read_value(k, value)
            # The value changed or vanished meanwhile: look again.

    def popitem(self) -> tuple[NonEmptySafeStrTuple, Any]:
        """Remove and return some ``(key, value)`` pair; KeyError if the store is empty."""
        if self._append_only:
            raise self._refuse_mutation(None, "popitem")
        for key in self.iter_entry_keys():
            try:
                value, etag = self.read_entry(key)
            except KeyError:
                continue  # deleted by someone else meanwhile
            # Remove exactly the version read: a value replaced meanwhile is not returned.
            if self.delete_entry_if_etag(key, etag) if etag is not None else self.delete_entry(key):
                return key, self._checked_read_value(key, value)
        raise KeyError("popitem(): the store is empty")

    def clear(self) -> None:
        """Delete every key (`MutationPolicyError` if append-only)."""
        if self._append_only:
            raise self._refuse_mutation(None, "clear")
        self.clear_entries()

    def discard(self, key: KeyLike) -> bool:
        """Delete ``key`` if present; return True if it was deleted, False if it was absent."""
        k = _key(key)
        if self._append_only:
            raise self._refuse_mutation(k, "discard")
        return self.delete_entry(k)

    def delete_if_exists(self, key: KeyLike) -> bool:
        """Alias of `discard`, kept for code written for older persidict versions."""
        return self.discard(key)

    def __eq__(self, other: object) -> bool:
        """Stores over the same location are equal; otherwise compare contents with any mapping."""
        if self is other:
            return True
        if isinstance(other, PersiDict) and self.same_location(other):
            return True
        if not isinstance(other, Mapping):
            return NotImplemented
        if len(self) != len(other):
            return False
        for key, value in other.items():
            try:
                k = _key(key)
            except (ValueError, TypeError):
                return False  # a key of `other` that cannot be a key here
            try:
                mine = self[k]
            except KeyError:
                return False
            # Only a missing key means "unequal": a corrupt value (DeserializationError) or a
            # failing comparison propagates instead of hiding as a difference.
            if mine != value:
                return False
        return True

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    # No __hash__: a class that defines __eq__ gets __hash__ = None, so stores (mutable
    # mappings) are unhashable, as dicts are.

    # ----------------------------------------------------------------- timestamps
    def timestamp(self, key: KeyLike) -> float:
        """Return the POSIX timestamp of the key's last write; KeyError if absent."""
        return self.entry_timestamp(_key(key))

    @staticmethod
    def _check_max_n(max_n: int | None) -> None:
        if max_n is not None and (isinstance(max_n, bool) or not isinstance(max_n, int)):
            raise TypeError(f"max_n must be an int or None, got {type(max_n).__name__}")

    def _keys_by_time(self, max_n: int | None, newest_first: bool) -> list[NonEmptySafeStrTuple]:
        self._check_max_n(max_n)
        if max_n is not None and max_n <= 0:
            return []
        # (timestamp, key): ties are broken by the key, so the order is deterministic.
        stamped = ((timestamp, key) for key, _, timestamp in self.iter_entries(False, True))
        if max_n is None:
            ordered = sorted(stamped, reverse=newest_first)
        elif newest_first:
            ordered = heapq.nlargest(max_n, stamped)
        else:
            ordered = heapq.nsmallest(max_n, stamped)
        return [key for _, key in ordered]

    def oldest_keys(self, max_n: int | None = None) -> list[NonEmptySafeStrTuple]:
        """Return up to ``max_n`` keys (all if None), oldest first, without reading values."""
        return self._keys_by_time(max_n, newest_first=False)

    def newest_keys(self, max_n: int | None = None) -> list[NonEmptySafeStrTuple]:
        """Return up to ``max_n`` keys (all if None), newest first, without reading values."""
        return self._keys_by_time(max_n, newest_first=True)

    def _values_of(self, keys: list[NonEmptySafeStrTuple]) -> list[Any]:
        values = []
        for key in keys:
            try:
                values.append(self[key])
            except KeyError:
                continue  # deleted since it was listed
        return values

    def oldest_values(self, max_n: int | None = None) -> list[Any]:
        """Return the values of `oldest_keys` (keys deleted meanwhile are skipped)."""
        return self._values_of(self.oldest_keys(max_n))

    def newest_values(self, max_n: int | None = None) -> list[Any]:
        """Return the values of `newest_keys` (keys deleted meanwhile are skipped)."""
        return self._values_of(self.newest_keys(max_n))

    # ----------------------------------------------------------------- etags
    def etag(self, key: KeyLike) -> str | None:
        """Return the key's ETag: it changes whenever the value is rewritten; KeyError if absent."""
        return self.entry_etag(_key(key))

    def set_item_get_etag(self, key: KeyLike, value: Any) -> str | None:
        """Store ``value`` and return the new ETag (None for jokers and stores without ETags)."""
        k = _key(key)
        if value is KEEP_CURRENT:
            return None
        if value is DELETE_CURRENT:
            if self._append_only:
                raise self._refuse_mutation(k, "delete")
            self.delete_entry(k)
            return None
        self._check_value(k, value)
        return self.write_entry(k, value, only_if_absent=self._append_only)

    def get_item_if_etag_changed(
        self, key: KeyLike, etag: str | None
    ) -> tuple[Any, str | None] | ETagHasNotChangedFlag:
        """Return ``(value, new_etag)``, or `ETAG_HAS_NOT_CHANGED` if the ETag is still ``etag``.

        Stores that support it (files, S3) skip transferring the value when it did not change.
        """
        k = _key(key)
        if etag is None:
            value, new_etag = self.read_entry(k)
        else:
            result = self.read_entry_if_changed(k, etag)
            if isinstance(result, ETagHasNotChangedFlag):
                return result
            value, new_etag = result
        return self._checked_read_value(k, value), new_etag

    # ----------------------------------------------------------------- stored bytes
    def read_bytes(self, key: KeyLike) -> bytes:
        """Return the stored bytes of ``key``'s value, without decoding them.

        Files and S3 objects are returned as they are stored (compressed, if they were
        written so); stores that keep no bytes (in memory) and wrappers return the value
        encoded in the store's serialization format. Raises KeyError if the key is absent.
        """
        k = _key(key)
        value = self[k]
        return serialize(value, self._format, context=f"key {tuple(k)!r}")

    def list_entries(self) -> Iterator[EntryInfo]:
        """Iterate over `EntryInfo` (key, size, timestamp, etag) of every key, reading no values.

        Files and S3 get all of it from their listing; other stores ask per key (and may
        read values to learn their size). Keys deleted meanwhile are skipped.
        """
        for key, timestamp in self.keys_and_timestamps():
            try:
                yield EntryInfo(key, len(self.read_bytes(key)), timestamp, self.etag(key))
            except KeyError:
                continue

    # ----------------------------------------------------------------- conditional operations
    def _observe(
        self, key: NonEmptySafeStrTuple, expected_etag: ETagIfExists, retrieve_value: RetrieveValueFlag
    ) -> tuple[ETagIfExists, Any]:
        """Return ``(actual ETag, value)`` of ``key`` as of one moment, fetching as the flag says.

        The value is `ITEM_NOT_AVAILABLE` for an absent key and `VALUE_NOT_RETRIEVED` when it
        was not fetched. With `IF_ETAG_CHANGED` and a matching ETag nothing but the ETag is read.
        """
        try:
            if retrieve_value is NEVER_RETRIEVE:
                etag = self.entry_etag(key)
                return (etag if etag is not None else ""), VALUE_NOT_RETRIEVED
            if retrieve_value is IF_ETAG_CHANGED and isinstance(expected_etag, str):
                result = self.read_entry_if_changed(key, expected_etag)
                if isinstance(result, ETagHasNotChangedFlag):
                    return expected_etag, VALUE_NOT_RETRIEVED
            else:
                result = self.read_entry(key)
        except KeyError:
            return ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE
        value, etag = result
        return (etag if etag is not None else ""), self._checked_read_value(key, value)

    def _observe_etag(self, key: NonEmptySafeStrTuple) -> ETagIfExists:
        try:
            etag = self.entry_etag(key)
        except KeyError:
            return ITEM_NOT_AVAILABLE
        return etag if etag is not None else ""

    def _value_for_result(
        self,
        key: NonEmptySafeStrTuple,
        expected_etag: ETagIfExists,
        actual_etag: ETagIfExists,
        retrieve_value: RetrieveValueFlag,
    ) -> tuple[bool, Any]:
        """Fetch the value to report for ``actual_etag``; ``(False, _)`` if the key moved on."""
        if actual_etag is ITEM_NOT_AVAILABLE:
            return True, ITEM_NOT_AVAILABLE
        if retrieve_value is NEVER_RETRIEVE or (
            retrieve_value is IF_ETAG_CHANGED and expected_etag == actual_etag
        ):
            return True, VALUE_NOT_RETRIEVED
        seen, value = self._observe(key, ITEM_NOT_AVAILABLE, ALWAYS_RETRIEVE)
        return seen == actual_etag, value

    @staticmethod
    def _check_condition_args(
        condition: object, expected_etag: object, retrieve_value: object = IF_ETAG_CHANGED
    ) -> None:
        _check_flag("condition", condition, ETagConditionFlag)
        _check_expected_etag(expected_etag)
        _check_flag("retrieve_value", retrieve_value, RetrieveValueFlag)

    def get_with_etag(self, key: KeyLike) -> ConditionalOperationResult[Any]:
        """Return the value and its ETag, read together (one request on S3).

        An absent key gives ``new_value`` and ``actual_etag`` both `ITEM_NOT_AVAILABLE`; the
        result's ``condition_was_satisfied`` is always True.
        """
        k = _key(key)
        etag, value = self._observe(k, ITEM_NOT_AVAILABLE, ALWAYS_RETRIEVE)
        return ConditionalOperationResult(True, etag, etag, value)

    def get_item_if(
        self,
        key: KeyLike,
        *,
        condition: ETagConditionFlag,
        expected_etag: ETagIfExists,
        retrieve_value: RetrieveValueFlag = IF_ETAG_CHANGED,
    ) -> ConditionalOperationResult[Any]:
        """Check ``condition`` against the key's ETag and report the value; never mutates.

        Args:
            key: The key.
            condition: `ANY_ETAG`, `ETAG_IS_THE_SAME` or `ETAG_HAS_CHANGED`.
            expected_etag: The ETag the caller knows, or `ITEM_NOT_AVAILABLE`.
            retrieve_value: Whether the result carries the value: `IF_ETAG_CHANGED` (default;
                with a matching ETag the value is not transferred), `ALWAYS_RETRIEVE` or
                `NEVER_RETRIEVE`.

        Returns:
            ``condition_was_satisfied``, the actual ETag (as ``actual_etag`` and
            ``resulting_etag``) and ``new_value``: the value, `VALUE_NOT_RETRIEVED`, or
            `ITEM_NOT_AVAILABLE` if the key is absent (never a KeyError).

        Raises:
            ValueError: A flag or ``expected_etag`` of the wrong kind (also a TypeError), before
                any I/O.
        """
        self._check_condition_args(condition, expected_etag, retrieve_value)
        k = _key(key)
        actual, value = self._observe(k, expected_etag, retrieve_value)
        satisfied = condition.is_satisfied(expected_etag, actual)
        return ConditionalOperationResult(satisfied, actual, actual, value)

    def set_item_if(
        self,
        key: KeyLike,
        *,
        value: Any,
        condition: ETagConditionFlag,
        expected_etag: ETagIfExists,
        retrieve_value: RetrieveValueFlag = IF_ETAG_CHANGED,
    ) -> ConditionalOperationResult[Any]:
        """Store ``value`` only if ``condition`` holds, as one atomic step.

        ``value`` may be `KEEP_CURRENT` (no write) or `DELETE_CURRENT` (delete the key). When
        the condition fails nothing changes and the result carries the current ETag and, as
        ``retrieve_value`` says, the current value. A successful write reports the new ETag
        and the value written; a delete reports `ITEM_NOT_AVAILABLE` for both.

        Raises:
            ValueError: A flag or ``expected_etag`` of the wrong kind (also a TypeError), before
                any I/O.
            TypeError: ``value`` cannot be stored here (wrong class, a store).
            MutationPolicyError: On an append-only store: ``DELETE_CURRENT``, or a satisfied
                condition over an existing key.
        """
        self._check_condition_args(condition, expected_etag, retrieve_value)
        k = _key(key)
        if value is DELETE_CURRENT:
            if self._append_only:
                raise self._refuse_mutation(k, "delete")
        elif value is not KEEP_CURRENT:
            self._check_value(k, value)
        while True:
            actual = self._observe_etag(k)
            if not condition.is_satisfied(expected_etag, actual) or value is KEEP_CURRENT:
                consistent, current = self._value_for_result(k, expected_etag, actual, retrieve_value)
                if not consistent:
                    continue  # changed between the two reads: observe again
                return ConditionalOperationResult(
                    value is KEEP_CURRENT and condition.is_satisfied(expected_etag, actual),
                    actual,
                    actual,
                    current,
                )
            if value is DELETE_CURRENT:
                if not isinstance(actual, str):  # absent: nothing to delete
                    return ConditionalOperationResult(True, actual, actual, ITEM_NOT_AVAILABLE)
                if self.delete_entry_if_etag(k, actual):
                    return ConditionalOperationResult(True, actual, ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE)
                continue
            if self._append_only and actual is not ITEM_NOT_AVAILABLE:
                raise self._refuse_mutation(k, "overwrite")
            new_etag = self.write_entry_if_etag(k, value, actual)
            if new_etag is not None:
                return ConditionalOperationResult(True, actual, new_etag, _kept(new_etag, value))
            # Another writer changed the key after our check: check again against its ETag.

    def setdefault_if(
        self,
        key: KeyLike,
        *,
        default_value: Any,
        condition: ETagConditionFlag,
        expected_etag: ETagIfExists,
        retrieve_value: RetrieveValueFlag = IF_ETAG_CHANGED,
    ) -> ConditionalOperationResult[Any]:
        """Insert ``default_value`` only if the key is absent and ``condition`` holds.

        An existing key is never changed: the result then carries its ETag and, as
        ``retrieve_value`` says, its value. The insertion is atomic: of several racers exactly
        one inserts, the others see its value.

        Raises:
            ValueError: A flag or ``expected_etag`` of the wrong kind (also a TypeError), before
                any I/O.
            TypeError: ``default_value`` is a joker or cannot be stored here.
        """
        self._check_condition_args(condition, expected_etag, retrieve_value)
        k = _key(key)
        if isinstance(default_value, Joker):
            raise TypeError("setdefault_if() does not accept a joker as the default value")
        self._check_value(k, default_value)
        while True:
            actual = self._observe_etag(k)
            satisfied = condition.is_satisfied(expected_etag, actual)
            if actual is ITEM_NOT_AVAILABLE and satisfied:
                new_etag = self.write_entry_if_etag(k, default_value, ITEM_NOT_AVAILABLE)
                if new_etag is not None:
                    return ConditionalOperationResult(True, actual, new_etag, _kept(new_etag, default_value))
                continue  # created by another writer meanwhile
            consistent, current = self._value_for_result(k, expected_etag, actual, retrieve_value)
            if consistent:
                return ConditionalOperationResult(satisfied, actual, actual, current)

    def discard_if(
        self, key: KeyLike, *, condition: ETagConditionFlag, expected_etag: ETagIfExists
    ) -> ConditionalOperationResult[Any]:
        """Delete the key only if ``condition`` holds, as one atomic step.

        A delete reports `ITEM_NOT_AVAILABLE` as ``resulting_etag`` and ``new_value``; a failed
        condition leaves the key as it is (its value is reported as `VALUE_NOT_RETRIEVED`). An
        absent key is not an error.

        Raises:
            ValueError: A flag or ``expected_etag`` of the wrong kind (also a TypeError), before
                any I/O.
            MutationPolicyError: The store is append-only.
        """
        self._check_condition_args(condition, expected_etag)
        k = _key(key)
        if self._append_only:
            raise self._refuse_mutation(k, "discard")
        while True:
            actual = self._observe_etag(k)
            satisfied = condition.is_satisfied(expected_etag, actual)
            if not isinstance(actual, str):  # absent
                return ConditionalOperationResult(satisfied, actual, actual, ITEM_NOT_AVAILABLE)
            if not satisfied:
                return ConditionalOperationResult(False, actual, actual, VALUE_NOT_RETRIEVED)
            if self.delete_entry_if_etag(k, actual):
                return ConditionalOperationResult(True, actual, ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE)

    def transform_item(
        self, key: KeyLike, *, transformer: TransformingFunction, n_retries: int | None = 6
    ) -> OperationResult[Any]:
        """Replace the value by ``transformer(value)`` atomically (a compare-and-swap loop).

        ``transformer`` gets the current value, or `ITEM_NOT_AVAILABLE` if the key is absent,
        and returns the new value, `KEEP_CURRENT` (no change) or `DELETE_CURRENT` (delete). If
        another writer changes the key between the read and the write, the write is not made
        and the loop starts again, so ``transformer`` may be called more than once.

        Args:
            key: The key.
            transformer: The update, a function of the current value.
            n_retries: How many times to retry after a lost race (None: forever).

        Returns:
            The resulting ETag and value (both `ITEM_NOT_AVAILABLE` if the key ends absent).

        Raises:
            ConcurrencyConflictError: Every one of the ``n_retries + 1`` attempts lost its race.
            TypeError: ``n_retries`` is not an int or None.
            ValueError: ``n_retries`` is negative.
            MutationPolicyError: On an append-only store, a change of an existing key.
        """
        _check_n_retries(n_retries)
        if not callable(transformer):
            raise TypeError(f"transformer must be callable, got {transformer!r}")
        k = _key(key)
        attempts = 0
        while True:
            attempts += 1
            actual, current = self._observe(k, ITEM_NOT_AVAILABLE, ALWAYS_RETRIEVE)
            new_value = transformer(current)
            if new_value is KEEP_CURRENT:
                return OperationResult(actual, current)
            if new_value is DELETE_CURRENT:
                if self._append_only:
                    raise self._refuse_mutation(k, "delete")
                if not isinstance(actual, str) or self.delete_entry_if_etag(k, actual):
                    return OperationResult(ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE)
            else:
                if self._append_only and actual is not ITEM_NOT_AVAILABLE:
                    raise self._refuse_mutation(k, "overwrite")
                self._check_value(k, new_value)
                new_etag = self.write_entry_if_etag(k, new_value, actual)
                if new_etag is not None:
                    return OperationResult(new_etag, _kept(new_etag, new_value))
            if n_retries is not None and attempts > n_retries:
                raise ConcurrencyConflictError(k, attempts)
            # Lost a race: back off for a random moment that grows with the losses, so the
            # contenders spread out instead of redoing the work in lockstep.
            time.sleep(random.random() * _BACKOFF_S * min(attempts, 8))

    # ----------------------------------------------------------------- hierarchy and sampling
    def get_subdict(self, prefix_key: KeyLike | Sequence[str] = ()) -> PersiDict:
        """Return a store of the same kind over the keys that start with ``prefix_key``.

        The sub-dict shares storage with this store: writes through either are visible in both.
        An empty prefix gives a store equal to this one.
        """
        prefix = SafeStrTuple(prefix_key)
        if len(prefix) == 0:
            return type(self)(**self._reopening_params())
        return self.subdict_at(prefix)

    def subdicts(self) -> dict[str, PersiDict]:
        """Return ``{first key element: sub-dict}`` for every first element in use."""
        first_elements = sorted({key[0] for key in self.iter_entry_keys()})
        return {element: self.get_subdict(element) for element in first_elements}

    def random_key(self) -> NonEmptySafeStrTuple | None:
        """Return a key chosen uniformly at random (None if empty), without reading values."""
        chosen: NonEmptySafeStrTuple | None = None
        for seen, key in enumerate(self.iter_entry_keys(), start=1):
            # Reservoir sampling with k=1: one pass, no len(), uniform.
            if random.randrange(seen) == 0:
                chosen = key
        return chosen


_REPLAY_LIMIT = 50_000  # keys a view's len() keeps for the next iteration (~7 MB)


class _KeysView(KeysView[NonEmptySafeStrTuple]):
    """Keys of a store; ``list(view)`` lists the store once, not twice.

    ``list()`` creates the iterator, then asks ``len()`` for a size hint, then iterates. A
    listing made by ``len()`` between an iterator's creation and its first step is as fresh as
    a new one, so that iterator replays it instead of listing the store again.
    """

    _mapping: PersiDict
    _len_listing: tuple[int, list[NonEmptySafeStrTuple]] | None = None
    _len_calls: int = 0

    def __len__(self) -> int:
        # Keys are kept for the replay only up to a bound: a store of millions of keys is
        # counted, never held in memory (its list() then lists twice).
        keys: list[NonEmptySafeStrTuple] | None = []
        count = 0
        for key in self._mapping.iter_entry_keys():
            count += 1
            if keys is not None:
                if count > _REPLAY_LIMIT:
                    keys = None
                else:
                    keys.append(key)
        self._len_calls += 1
        self._len_listing = None if keys is None else (self._len_calls, keys)
        return count

    def __iter__(self) -> Iterator[NonEmptySafeStrTuple]:
        return self._iterate(self._len_calls)

    def _iterate(self, len_calls_at_creation: int) -> Iterator[NonEmptySafeStrTuple]:
        listing = self._len_listing
        if listing is not None and listing[0] > len_calls_at_creation:
            self._len_listing = None
            yield from listing[1]
        else:
            yield from self._mapping.iter_entry_keys()


class _ValuesView(ValuesView[Any]):
    _mapping: PersiDict

    def __iter__(self) -> Iterator[Any]:
        for _, value, _ in self._mapping._checked_entries(True, False):
            yield value


class _ItemsView(ItemsView[NonEmptySafeStrTuple, Any]):
    _mapping: PersiDict

    def __iter__(self) -> Iterator[tuple[NonEmptySafeStrTuple, Any]]:
        for key, value, _ in self._mapping._checked_entries(True, False):
            yield key, value
