"""The pydantic models of store configurations: `StoreConfig` and the core stores' configs.

Imported on first use (the first store created, the first config named), never by importing a
store class: pydantic is the largest part of persidict's import time. The registry and the
parameter vocabulary, which need no pydantic, live in ``_config``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    NonNegativeInt,
    PlainSerializer,
    SerializeAsAny,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ._config import _import_class, config_from_data, split_runtime_parts
from ._serialization import check_format_name, is_text_format

__all__ = [
    "EmptyDictConfig",
    "FileDirDictConfig",
    "LocalDictConfig",
    "LocalDirPath",
    "NestedStoreConfig",
    "StoreConfig",
    "ValueClass",
]


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

    @field_validator("kind")
    @classmethod
    def _check_kind(cls, value: str) -> str:
        # Configs that other configs extend declare ``kind: str`` with their kind as default
        # (a Literal cannot be narrowed to another Literal in a subclass): check it here.
        default = cls.model_fields["kind"].default
        if isinstance(default, str) and value != default:
            raise ValueError(f"a {cls.__name__} has kind {default!r}, got {value!r}")
        return value

    @field_validator("serialization_format")
    @classmethod
    def _check_format(cls, value: str) -> str:
        return check_format_name(value)

    @model_validator(mode="after")
    def _text_formats_hold_str(self) -> StoreConfig:
        if is_text_format(self.serialization_format):
            if self.base_class_for_values is None:
                # Text stores hold str: constrain rather than refuse, so `txt={}` params work.
                object.__setattr__(self, "base_class_for_values", str)
            elif not issubclass(self.base_class_for_values, str):
                raise ValueError(
                    f"the text format {self.serialization_format!r} stores str values, so "
                    f"base_class_for_values must be str or a subclass, got {self.base_class_for_values!r}"
                )
        return self


class FileDirDictConfig(StoreConfig):
    """Configuration of a `FileDirDict`."""

    kind: Literal["file_dir_dict"] = "file_dir_dict"
    base_dir: LocalDirPath
    """Absolute path of the store's root directory."""
    digest_len: NonNegativeInt = 0
    """Length of the hash suffix added to every path element (for case-insensitive file systems)."""
    fsync: StrictBool = True
    """Sync each written file and its directory, so an acknowledged write survives power loss."""
    compression: Literal["lz4"] | None = None
    """Compress ``pkl`` values as lz4 frames (read back either way)."""
    locking: StrictBool = True
    """Serialize writers of a directory with a short lock, making conditional writes atomic."""


class LocalDictConfig(StoreConfig):
    """Configuration of a `LocalDict` (its in-memory contents are not part of it)."""

    kind: Literal["local_dict"] = "local_dict"


class EmptyDictConfig(StoreConfig):
    """Configuration of an `EmptyDict`."""

    kind: Literal["empty_dict"] = "empty_dict"


def _coerce_store_config(value: object, info: ValidationInfo) -> object:
    from ._persidict import PersiDict

    if isinstance(value, PersiDict):
        return value.config
    if isinstance(value, Mapping):
        # A nested store's get_params() may hold constructor arguments that are no config
        # field (a LocalDict's backend): a config cannot hold them, they are left out.
        return config_from_data(split_runtime_parts(value, None)[0])
    if isinstance(value, (str, bytes)):
        return config_from_data(value)
    return value


NestedStoreConfig = Annotated[SerializeAsAny[StoreConfig], BeforeValidator(_coerce_store_config)]
"""A field holding the config of a wrapped store (given as a store, a config, a dict or JSON)."""
