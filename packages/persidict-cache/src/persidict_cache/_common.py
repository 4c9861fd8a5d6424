"""Helpers shared by the wrappers: argument checks and configs derived from a wrapped store."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeAlias

from persidict_core import PersiDict, StoreConfig, store_from_config
from persidict_safestr import NonEmptySafeStrTuple

__all__ = ["MainStoreListing", "StoreOrConfig", "require_store", "wrapper_config"]

StoreOrConfig: TypeAlias = "PersiDict | StoreConfig | Mapping[str, Any]"
"""A wrapper's component: a store, or its config (a `StoreConfig`, or a dict as in `get_params`)."""


def require_store(name: str, value: object, owner: str) -> PersiDict:
    """Return ``value`` if it is a `PersiDict`, or the store its config describes.

    A config (a `StoreConfig`, or its dict with a ``kind`` as found in a wrapper's
    ``get_params()``) is opened, so ``type(wrapper)(**wrapper.get_params())`` reopens a wrapper.

    Raises:
        TypeError: ``value`` is neither a store nor a store's config.
    """
    if isinstance(value, StoreConfig) or (
        isinstance(value, Mapping) and not isinstance(value, PersiDict) and "kind" in value
    ):
        value = store_from_config(value)
    if not isinstance(value, PersiDict):
        raise TypeError(f"{owner}: {name} must be a PersiDict (a store), got {type(value).__name__}")
    return value


def wrapper_config(
    cls: type[PersiDict],
    source: PersiDict,
    params: Mapping[str, Any],
    append_only: bool | None = None,
) -> StoreConfig:
    """Build ``cls``'s config from constructor ``params``.

    The wrapper's ``serialization_format`` and ``base_class_for_values`` come from ``source``
    (the main or wrapped store), as does ``append_only`` unless given. Those three names are
    therefore ignored when passed to a wrapper (a config reopened from JSON passes them back);
    other names of the shared vocabulary that don't apply are ignored, unknown names are a
    pydantic ``ValidationError``.
    """
    return cls._make_config(
        params,
        serialization_format=source.serialization_format,
        append_only=source.append_only if append_only is None else append_only,
        base_class_for_values=source.base_class_for_values,
    )


class MainStoreListing(PersiDict):
    """Timestamps, ETags, ``len`` and listings of a wrapper: those of the store it wraps.

    A wrapper sets ``_main`` to the wrapped (main) store; caches never answer these.
    """

    _main: PersiDict

    def _timestamp(self, key: NonEmptySafeStrTuple) -> float:
        return self._main._timestamp(key)

    def _etag(self, key: NonEmptySafeStrTuple) -> str | None:
        return self._main._etag(key)

    def _iter_entries(
        self, with_values: bool, with_timestamps: bool
    ) -> Iterator[tuple[NonEmptySafeStrTuple, Any, float | None]]:
        return self._main._iter_entries(with_values, with_timestamps)

    def _iter_keys(self) -> Iterator[NonEmptySafeStrTuple]:
        return self._main._iter_keys()

    def _count(self) -> int:
        return self._main._count()
