"""Store configurations: validated, frozen, JSON-serializable descriptions of a store.

Every store has a config (`store.config`), a pydantic model with a ``kind`` that names the
store class. `store_from_config` reopens the same store from a config object, a dict or a
JSON string, in this process or on another machine.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Final

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    SerializeAsAny,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ._errors import MissingBackendError
from ._serialization import check_format_name, is_text_format

if TYPE_CHECKING:
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


def _validate_value_class(value: object) -> type | None:
    if value is None or isinstance(value, type):
        return value
    if isinstance(value, str):
        if "." not in value and ":" not in value:
            # "dict" would otherwise fail as an import of the module "" ("Empty module name").
            raise ValueError(
                f"base_class_for_values expects a class (e.g. {value}, not the string {value!r}) "
                "or an import path 'module:QualName'"
            )
        try:
            return _import_class(value)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"cannot import the class {value!r}: {exc}") from exc
    raise ValueError(f"base_class_for_values must be a class or None, got {value!r}")


def _class_to_path(value: type | None) -> str | None:
    return None if value is None else f"{value.__module__}:{value.__qualname__}"


ValueClass = Annotated[
    type | None,
    BeforeValidator(_validate_value_class),
    PlainSerializer(_class_to_path, when_used="json"),
]
"""A class (or None); given as a class or ``"module:QualName"``; JSON shows the import path."""


def _path_to_str(value: Any) -> Any:
    # A pathlib.Path is welcome; anything else that is not a str (None, 5) is left to the str
    # check, which reports it as a ValidationError naming the field.
    return os.fspath(value) if isinstance(value, os.PathLike) else value


def _absolute_path(value: str) -> str:
    if not value:
        raise ValueError("the path must not be empty")
    return os.path.abspath(os.path.expanduser(value))


LocalDirPath = Annotated[str, BeforeValidator(_path_to_str), AfterValidator(_absolute_path)]
"""A local directory given as a str or ``os.PathLike``; stored absolute (``~`` expanded)."""


class StoreConfig(BaseModel):
    """Fields every store has; each store class extends this with its own fields and ``kind``."""

    # defer_build: schemas are built on first use, not at import (import time matters to CLIs).
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True, defer_build=True)

    kind: str
    """Which store class this config opens (e.g. ``"file_dir_dict"``)."""
    serialization_format: str = "pkl"
    """``"pkl"``, ``"json"``, or any other safe name for plain text."""
    append_only: StrictBool = False
    """If True, existing keys can be neither overwritten nor deleted."""
    base_class_for_values: ValueClass = None
    """If set, every value must be an instance of this class (``str`` for text formats)."""

    @field_validator("serialization_format")
    @classmethod
    def _check_format(cls, value: str) -> str:
        return check_format_name(value)

    @model_validator(mode="after")
    def _text_formats_hold_str(self) -> StoreConfig:
        if is_text_format(self.serialization_format):
            if self.base_class_for_values is None:
                # Text stores hold str: constrain rather than refuse (the seed's `txt={}`).
                object.__setattr__(self, "base_class_for_values", str)
            elif not issubclass(self.base_class_for_values, str):
                raise ValueError(
                    f"the text format {self.serialization_format!r} stores str values, so "
                    f"base_class_for_values must be str or a subclass, got {self.base_class_for_values!r}"
                )
        return self


_STORE_FACTORIES: dict[str, tuple[type[BaseModel], Callable[..., Any]]] = {}

# Where the kinds of the other persidict distributions live: importing the module registers them.
_KIND_HOMES: Final[dict[str, tuple[str, str]]] = {
    "mutable_dict_cached": ("persidict_cache", "persidict-cache"),
    "append_only_dict_cached": ("persidict_cache", "persidict-cache"),
    "write_once_dict": ("persidict_cache", "persidict-cache"),
    "basic_s3_dict": ("persidict_s3", "persidict-s3"),
    "s3_dict": ("persidict_s3", "persidict-s3"),
    "overlapping_multi_dict": ("persidict_multi", "persidict-multi"),
}


def register_store_kind(kind: str, config_class: type[BaseModel], factory: Callable[..., Any]) -> None:
    """Register ``factory`` (usually the store class) as the opener of configs of ``kind``.

    ``config_class`` is a `StoreConfig` subclass for stores; a group of stores that is not
    itself a store (``OverlappingMultiDict``) registers its own model with a ``kind`` field.
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
        return _STORE_FACTORIES[kind]
    except KeyError:
        known = ", ".join(sorted(set(_STORE_FACTORIES) | set(_KIND_HOMES)))
        raise ValueError(f"Unknown store kind {kind!r}; known kinds: {known}") from None


def config_from_data(data: BaseModel | Mapping[str, Any] | str | bytes) -> StoreConfig | Any:
    """Validate ``data`` (a config, a dict or JSON text) into the config class of its ``kind``.

    The result is a `StoreConfig`, except for kinds that are groups of stores (see
    `register_store_kind`).
    """
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


def _coerce_store_config(value: object, info: ValidationInfo) -> object:
    from ._persidict import PersiDict

    if isinstance(value, PersiDict):
        return value.config
    if isinstance(value, (Mapping, str, bytes)) and not isinstance(value, StoreConfig):
        return config_from_data(value)
    return value


NestedStoreConfig = Annotated[SerializeAsAny[StoreConfig], BeforeValidator(_coerce_store_config)]
"""A field holding the config of a wrapped store (given as a store, a config, a dict or JSON)."""
