"""The pydantic models of the wrappers' configs, imported on first use.

Importing a wrapper class does not load pydantic (the largest part of the import time): the
wrappers name these models through `persidict_core.deferred_config_class`.
"""

from __future__ import annotations

import numbers
from typing import Literal

from pydantic import Field, StrictBool, field_validator

from persidict_core import NestedStoreConfig, StoreConfig

__all__ = ["AppendOnlyDictCachedConfig", "MutableDictCachedConfig", "WriteOnceDictConfig"]


class CachedStoreConfig(StoreConfig):
    """The fields of every caching wrapper's config: its main store, its value cache, the copy rule."""

    main_dict: NestedStoreConfig
    """The store that holds the data (the source of truth; append-only for an `AppendOnlyDictCached`)."""
    data_cache: NestedStoreConfig
    """The store that keeps local copies of values."""
    copy_on_read: StrictBool = True
    """Hand every read its own copy of a cached value (False: the cached object itself)."""


class MutableDictCachedConfig(CachedStoreConfig):
    """Configuration of a `MutableDictCached`: the configs of its three stores.

    ``serialization_format``, ``append_only`` and ``base_class_for_values`` are the main
    store's.
    """

    kind: Literal["mutable_dict_cached"] = "mutable_dict_cached"
    etag_cache: NestedStoreConfig
    """The store that keeps the main store's ETag of each cached value."""


class AppendOnlyDictCachedConfig(CachedStoreConfig):
    """Configuration of an `AppendOnlyDictCached`: the configs of its two stores.

    ``serialization_format`` and ``base_class_for_values`` are the main store's;
    ``append_only`` is always True.
    """

    kind: Literal["append_only_dict_cached"] = "append_only_dict_cached"


class WriteOnceDictConfig(StoreConfig):
    """Configuration of a `WriteOnceDict`.

    ``serialization_format`` and ``base_class_for_values`` are the wrapped store's;
    ``append_only`` is always True.
    """

    kind: Literal["write_once_dict"] = "write_once_dict"
    wrapped_dict: NestedStoreConfig
    """The append-only store that holds the data."""
    p_consistency_checks: float = Field(default=0.0, ge=0.0, le=1.0)
    """Probability (0 to 1) that a repeated write is compared with the stored value."""

    @field_validator("p_consistency_checks", mode="before")
    @classmethod
    def _real_number(cls, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"p_consistency_checks must be a number from 0 to 1, got {value!r}")
        return float(value)
