"""Store configurations: validated, frozen, JSON-serializable descriptions of a store.

Every store has a config (`store.config`), a pydantic model with a ``kind`` that names the
store class. `store_from_config` reopens the same store from a config object, a dict or a
JSON string, in this process or on another machine.

This module holds what needs no pydantic (the parameter vocabulary, the registry of store
kinds); the models themselves live in `_config_models` and are imported on first use, so
importing a store class does not import pydantic (most of the import time of a CLI).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ._errors import MissingBackendError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ._config_models import LocalDirPath, NestedStoreConfig, StoreConfig, ValueClass
    from ._persidict import PersiDict

__all__ = [
    "KNOWN_PARAMETER_NAMES",
    "LocalDirPath",
    "NestedStoreConfig",
    "StoreConfig",
    "ValueClass",
    "config_from_data",
    "register_store_kind",
    "split_parameters",
    "store_from_config",
]

KNOWN_PARAMETER_NAMES: Final[frozenset[str]] = frozenset(
    {
        # every store
        "serialization_format",
        "append_only",
        "base_class_for_values",
        # FileDirDict, S3Dict's local cache
        "base_dir",
        "digest_len",
        "fsync",
        "compression",
        "locking",
        # LocalDict
        "backend",
        "prune_interval",
        # S3 stores
        "bucket_name",
        "region",
        "root_prefix",
        "endpoint_url",
        "client_config",
        "max_pool_connections",
        # wrappers
        "main_dict",
        "data_cache",
        "etag_cache",
        "wrapped_dict",
        "p_consistency_checks",
        "copy_on_read",
    }
)
"""The one parameter vocabulary shared by all stores (SPEC Part A, compatibility).

A store ignores the names here that do not apply to it, so a dict of parameters can be handed
to any store type; a name outside this set (a typo) is a validation error.
"""


def _import_class(path: str) -> type:
    module_name, _, qualname = path.partition(":")
    if not qualname:
        module_name, _, qualname = path.rpartition(".")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    if not isinstance(target, type):
        raise ValueError(f"{path!r} does not name a class")
    return target


_STORE_FACTORIES: dict[str, tuple[type[BaseModel] | None, Callable[..., Any]]] = {}

# Where the kinds of the other persidict distributions live: importing the module registers them.
_KIND_HOMES: Final[dict[str, tuple[str, str]]] = {
    "mutable_dict_cached": ("persidict_cache", "persidict-cache"),
    "append_only_dict_cached": ("persidict_cache", "persidict-cache"),
    "write_once_dict": ("persidict_cache", "persidict-cache"),
    "basic_s3_dict": ("persidict_s3", "persidict-s3"),
    "s3_dict": ("persidict_s3", "persidict-s3"),
    "overlapping_multi_dict": ("persidict_multi", "persidict-multi"),
}


def register_store_kind(kind: str, config_class: type[BaseModel] | None, factory: Callable[..., Any]) -> None:
    """Register ``factory`` (usually the store class) as the opener of configs of ``kind``.

    ``config_class`` is a `StoreConfig` subclass for stores; a group of stores that is not
    itself a store (``OverlappingMultiDict``) registers its own model with a ``kind`` field.
    None means ``factory.config_class``, looked up when a config of this kind is first opened
    (the core stores register so, to import no pydantic before a store is built).
    """
    _STORE_FACTORIES[kind] = (config_class, factory)


def _lookup_kind(kind: str) -> tuple[type[BaseModel], Callable[..., Any]]:
    if kind not in _STORE_FACTORIES and kind in _KIND_HOMES:
        module, distribution = _KIND_HOMES[kind]
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise MissingBackendError(
                f"A store of kind {kind!r} needs the {distribution} distribution: pip install {distribution}"
            ) from exc
    try:
        config_class, factory = _STORE_FACTORIES[kind]
    except KeyError:
        known = ", ".join(sorted(set(_STORE_FACTORIES) | set(_KIND_HOMES)))
        raise ValueError(f"Unknown store kind {kind!r}; known kinds: {known}") from None
    if config_class is None:
        config_class = getattr(factory, "config_class")  # noqa: B009  (a store class, resolved lazily)
        _STORE_FACTORIES[kind] = (config_class, factory)
    return config_class, factory


def config_from_data(data: BaseModel | Mapping[str, Any] | str | bytes) -> StoreConfig | Any:
    """Validate ``data`` (a config, a dict or JSON text) into the config class of its ``kind``.

    The result is a `StoreConfig`, except for kinds that are groups of stores (see
    `register_store_kind`).
    """
    from pydantic import BaseModel

    if isinstance(data, BaseModel) and isinstance(getattr(data, "kind", None), str):
        return data
    if isinstance(data, (str, bytes)):
        data = json.loads(data)
    if not isinstance(data, Mapping):
        raise TypeError(
            f"A store config must be a StoreConfig, a mapping or JSON text, got {type(data).__name__}"
        )
    kind = data.get("kind")
    if not isinstance(kind, str):
        raise ValueError("A store config needs a 'kind' naming the store class")
    config_class, _ = _lookup_kind(kind)
    return config_class.model_validate(dict(data))


def store_from_config(
    config: BaseModel | Mapping[str, Any] | str | bytes, runtime_parts: Mapping[str, Any] | None = None
) -> PersiDict | Any:
    """Open the store that ``config`` describes.

    Args:
        config: A `StoreConfig`, its ``model_dump()`` dict, or its JSON.
        runtime_parts: Constructor arguments a config cannot hold (a `LocalDict`'s in-memory
            backend, a wrapper's component stores); they override the config's fields.

    Returns:
        A store over the same location as the one the config came from (for the kind
        ``overlapping_multi_dict``, an ``OverlappingMultiDict``, which is not a `PersiDict`).
    """
    from ._config_models import StoreConfig

    validated = config_from_data(config)
    _, factory = _lookup_kind(validated.kind)
    params = {name: getattr(validated, name) for name in type(validated).model_fields if name != "kind"}
    runtime_parts = runtime_parts or {}
    for name, value in params.items():
        # Nested stores of wrappers are opened from their configs unless given as runtime parts
        # (opening one can cost a connection and a bucket check).
        if isinstance(value, StoreConfig) and name not in runtime_parts:
            params[name] = store_from_config(value)
    params.update(runtime_parts)
    store: PersiDict | Any = factory(**params)
    return store


def split_parameters(params: Mapping[str, Any], applicable: frozenset[str] | set[str]) -> dict[str, Any]:
    """Keep the parameters a store uses, drop known ones that don't apply, keep unknown ones.

    Unknown names are kept so that the config model (``extra="forbid"``) rejects them with a
    `ValidationError` that names them.
    """
    return {
        name: value
        for name, value in params.items()
        if name in applicable or name not in KNOWN_PARAMETER_NAMES
    }


_MODEL_NAMES: Final = frozenset({"LocalDirPath", "NestedStoreConfig", "StoreConfig", "ValueClass"})


def __getattr__(name: str) -> Any:
    # The pydantic models, for code that imports them from here: loaded on first use.
    if name in _MODEL_NAMES:
        from . import _config_models

        value = getattr(_config_models, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
