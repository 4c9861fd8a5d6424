"""`WriteOnceDict`: the first write of a key wins; later writes are ignored or spot-checked."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, ClassVar

from persidict_core import (
    DELETE_CURRENT,
    KEEP_CURRENT,
    ConsistencyCheckError,
    ETagHasNotChangedFlag,
    FileDirDict,
    KeepCurrentFlag,
    KeyLike,
    MutationPolicyError,
    PersiDict,
    deferred_config_class,
)
from persidict_safestr import NonEmptySafeStrTuple, SafeStrTuple

from ._common import ConditionalDelegation, MainStoreListing, StoreOrConfig, require_store

if TYPE_CHECKING:
    from persidict_core import StoreConfig

    from ._config_models import WriteOnceDictConfig

__all__ = ["WriteOnceDict"]


class WriteOnceDict(ConditionalDelegation, MainStoreListing, PersiDict):
    """A store where the first write of a key wins and later writes of it are ignored.

    Made for content-addressed data, where writing a key again means writing the same value
    again: a repeated write costs one failed atomic create and nothing else. With probability
    ``p_consistency_checks`` a repeated write is checked instead: the new value is compared
    with the stored one by content (deepdiff: nested structures, numpy arrays and pandas
    objects are compared element by element) and a difference raises
    `ConsistencyCheckError`, naming the key and showing where the values differ.

    The store is append-only: deleting raises `MutationPolicyError`. Reads, ``in``, ``len``,
    iteration, timestamps and ETags are the wrapped store's. Attributes the wrapper does not
    have (such as ``base_dir`` or ``digest_len``) are read from the wrapped store.

    Args:
        wrapped_dict: An append-only store; default ``FileDirDict(append_only=True)``, which
            uses the directory ``__file_dir_dict__`` in the current directory. May be given as
            its config (a `StoreConfig` or its dict, as in `get_params`).
        p_consistency_checks: Probability from 0 to 1 of checking a repeated write; None (or
            `KEEP_CURRENT`) means 0.
        **other_params: Other names of the shared parameter vocabulary are ignored;
            ``serialization_format`` and ``base_class_for_values`` are the wrapped store's.

    Raises:
        TypeError: ``wrapped_dict`` is not a `PersiDict`.
        ValueError: ``wrapped_dict`` is not append-only.
        pydantic.ValidationError: ``p_consistency_checks`` is not a number from 0 to 1, or an
            unknown parameter name is given.
    """

    # Pickles name the class by its public home, so they survive moves between private modules.
    __module__ = "persidict_cache"

    config_class: ClassVar[type[StoreConfig]] = deferred_config_class(
        "persidict_cache._config_models:WriteOnceDictConfig", "write_once_dict"
    )
    mutation_policy: ClassVar[str] = "write-once"
    _config: WriteOnceDictConfig

    def __init__(
        self,
        wrapped_dict: StoreOrConfig | None = None,
        p_consistency_checks: float | KeepCurrentFlag | None = None,
        **other_params: Any,
    ) -> None:
        owner = type(self).__name__
        if wrapped_dict is None:
            wrapped_dict = FileDirDict(append_only=True)
        wrapped = require_store("wrapped_dict", wrapped_dict, owner)
        if not wrapped.append_only:
            raise ValueError(
                f"{owner}: wrapped_dict must be append-only (e.g. FileDirDict(..., append_only=True)), "
                f"got a mutable {type(wrapped).__name__}"
            )
        if p_consistency_checks is None or p_consistency_checks is KEEP_CURRENT:
            p_consistency_checks = 0.0
        params = dict(other_params, wrapped_dict=wrapped, p_consistency_checks=p_consistency_checks)
        self._wrap(wrapped, params, append_only=True)
        self._p: float = self._config.p_consistency_checks
        self._checks_attempted = 0
        self._checks_passed = 0

    def __getattr__(self, name: str) -> Any:
        """Read attributes this store lacks (``base_dir``, ``digest_len``, ...) from the wrapped one."""
        # Private names are never forwarded: before __init__ sets _main, that would recurse.
        if name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        wrapped = self.__dict__.get("_main")
        if wrapped is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(wrapped, name)

    # ----------------------------------------------------------------- parameters and counters
    @property
    def wrapped_dict(self) -> PersiDict:
        """The append-only store that holds the data."""
        return self._main

    @property
    def p_consistency_checks(self) -> float:
        """Probability (0 to 1) that a repeated write is compared with the stored value."""
        return self._p

    @p_consistency_checks.setter
    def p_consistency_checks(self, value: float | KeepCurrentFlag | None) -> None:
        if value is KEEP_CURRENT:
            return
        fields = {name: getattr(self._config, name) for name in type(self._config).model_fields}
        fields["p_consistency_checks"] = 0.0 if value is None else value
        from ._config_models import WriteOnceDictConfig as config_model

        self._config = config_model(**fields)
        self._p = self._config.p_consistency_checks

    @property
    def consistency_checks_attempted(self) -> int:
        """How many repeated writes this object has compared with the stored value."""
        return self._checks_attempted

    @property
    def consistency_checks_passed(self) -> int:
        """How many of those comparisons found equal values."""
        return self._checks_passed

    @property
    def consistency_checks_failed(self) -> int:
        """How many comparisons found a different value (attempted minus passed)."""
        return self._checks_attempted - self._checks_passed

    def _runtime_parts(self) -> dict[str, Any]:
        return {"wrapped_dict": self._main}

    def same_location(self, other: PersiDict) -> bool:
        return (
            isinstance(other, WriteOnceDict)
            and type(self) is type(other)
            and self._p == other._p
            and self._main.same_location(other._main)
        )

    # ----------------------------------------------------------------- writes
    def set_item_get_etag(self, key: KeyLike, value: Any) -> str | None:
        """Store ``value`` unless ``key`` has one; return the ETag of the stored value.

        A repeated write is ignored, or with probability ``p_consistency_checks`` compared
        with the stored value.

        Raises:
            ConsistencyCheckError: A checked repeated write has a different value.
            MutationPolicyError: ``value`` is `DELETE_CURRENT` (nothing can be deleted).
        """
        k = NonEmptySafeStrTuple(key)
        if value is KEEP_CURRENT:
            return None
        if value is DELETE_CURRENT:
            raise self._refuse_mutation(k, "delete")
        self._check_value(k, value)
        try:
            return self._main.write_entry(k, value, only_if_absent=True)
        except MutationPolicyError:
            pass  # written before: the first write wins
        if self._p > 0.0 and random.random() < self._p:
            self._check_consistency(k, value)
        return self._main.entry_etag(k)

    def _check_consistency(self, key: NonEmptySafeStrTuple, value: Any) -> None:
        # deepdiff is imported on the first check: it takes longer to import than the rest of
        # persidict, and every `import persidict_s3` (S3Dict uses the cache wrappers) paid for it.
        from ._consistency import describe_difference

        self._checks_attempted += 1
        stored = self._main.read_entry(key)[0]
        difference = describe_difference(stored, value)
        if difference is not None:
            raise ConsistencyCheckError(
                f"Key {tuple(key)!r} of a write-once store was written again with a different value "
                f"(the first value stays). Differences from the stored value:\n{difference}"
            )
        self._checks_passed += 1

    def write_entry(
        self, key: NonEmptySafeStrTuple, value: Any, *, only_if_absent: bool = False
    ) -> str | None:
        # Atomic create: MutationPolicyError if the key exists (setdefault relies on it).
        return self._main.write_entry(key, value, only_if_absent=True)

    def delete_entry(self, key: NonEmptySafeStrTuple) -> bool:
        raise self._refuse_mutation(key, "delete")

    def clear_entries(self) -> None:
        raise self._refuse_mutation(None, "clear")

    # ----------------------------------------------------------------- reads
    def read_entry(self, key: NonEmptySafeStrTuple) -> tuple[Any, str | None]:
        return self._main.read_entry(key)

    def read_entry_if_changed(
        self, key: NonEmptySafeStrTuple, etag: str
    ) -> tuple[Any, str | None] | ETagHasNotChangedFlag:
        return self._main.read_entry_if_changed(key, etag)

    def has_entry(self, key: NonEmptySafeStrTuple) -> bool:
        return self._main.has_entry(key)

    def subdict_at(self, prefix: SafeStrTuple) -> WriteOnceDict:
        return type(self)(self._main.get_subdict(prefix), self._p)
