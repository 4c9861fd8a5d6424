"""`OverlappingMultiDict`: one store per serialization format, all over the same location.

The sub-stores overlap in location but not in content: every store only sees values of its
own format (a `FileDirDict` only lists files with its own extension, a `LocalDict` keeps one
table per format), so ``multi.json["config"]`` and ``multi.pkl["config"]`` are two items.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Final, Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field, model_validator

from persidict_core import (
    LocalDict,
    LocalDictBackend,
    NestedStoreConfig,
    PersiDict,
    StoreConfig,
    register_store_kind,
    store_factory,
)
from persidict_safestr import is_safe_str_element

__all__ = ["OverlappingMultiDict", "OverlappingMultiDictConfig"]

_KIND: Final = "overlapping_multi_dict"


class OverlappingMultiDictConfig(BaseModel):
    """Configuration of an `OverlappingMultiDict`: the configs of its sub-stores, by format.

    It holds each sub-store's full config (absolute paths, value classes as import paths in
    JSON), so `OverlappingMultiDict.from_config` reopens the same group from any working
    directory, process or machine.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["overlapping_multi_dict"] = _KIND
    """Always ``"overlapping_multi_dict"``."""
    dict_type: str
    """The registered store kind of every sub-store (e.g. ``"file_dir_dict"``)."""
    subdicts: dict[str, NestedStoreConfig] = Field(min_length=1)
    """``{format name: config of the sub-store of that format}``, in attribute order."""

    @model_validator(mode="after")
    def _check_subdicts(self) -> OverlappingMultiDictConfig:
        for name, config in self.subdicts.items():
            if config.kind != self.dict_type:
                raise ValueError(
                    f"sub-store {name!r} is of kind {config.kind!r}, but dict_type is {self.dict_type!r}"
                )
            if config.serialization_format != name:
                raise ValueError(
                    f"sub-store {name!r} has serialization_format {config.serialization_format!r}; "
                    f"each sub-store's format must equal its name"
                )
        return self


class OverlappingMultiDict:
    """Several stores of one type over one location, one store per serialization format.

    Each keyword argument names a format and gives that store's own parameters; the store is
    ``dict_type(**shared_subdicts_params, **params, serialization_format=name)`` and is
    available as the attribute ``name``::

        multi = OverlappingMultiDict(
            dict_type=FileDirDict,
            shared_subdicts_params={"base_dir": "./data"},
            json={},  # multi.json: serialization_format="json"
            pkl={},  # multi.pkl: serialization_format="pkl"
            txt={},  # multi.txt: plain text, str values only
        )
        multi.json["config"] = {"setting": "value"}  # ./data/config.json
        multi.pkl["config"] = {"setting": "value"}  # ./data/config.pkl, a different item

    The sub-stores share the location but not the items: iterating, clearing or deleting in
    one format never touches the others. For `LocalDict` the sub-stores share one in-memory
    `LocalDictBackend` (created here unless the parameters pass one), as file stores share a
    folder.

    The container itself is not a mapping: item access, iteration, ``len`` and ``in`` raise
    `TypeError`; use one of its format attributes instead. Pickling or copying it pickles its
    sub-stores, each of which reopens the same location (the original library refused to be
    pickled).

    Args:
        dict_type: The `PersiDict` subclass of every sub-store (`FileDirDict`, `LocalDict`,
            `BasicS3Dict`, `S3Dict`, ...).
        shared_subdicts_params: Constructor parameters common to all sub-stores (for
            example ``{"base_dir": "./data"}``).
        **individual_subdicts_params: One keyword per format (``json={}``, ``pkl={}``,
            ``txt={}``), each with that sub-store's own parameters, which override the shared
            ones.

    Raises:
        TypeError: ``dict_type`` is not a `PersiDict` subclass, or parameters are not dicts.
        ValueError: No format is given, a format name is not a valid format or collides with
            an attribute of this class, or ``serialization_format`` appears in the parameters
            (the keyword names the format). Invalid store parameters raise pydantic's
            ``ValidationError`` (a `ValueError`) from the store's constructor.
    """

    # Pickles name the class by its public home, so they survive moves between private modules.
    __module__ = "persidict_multi"

    _reserved_names: ClassVar[frozenset[str]]
    _dict_type: type[PersiDict]
    _shared: dict[str, Any]
    _runtime: dict[str, Any]
    _individual: dict[str, dict[str, Any]]
    _subdicts: dict[str, PersiDict]
    _config: OverlappingMultiDictConfig | None

    def __init__(
        self,
        dict_type: type[PersiDict],
        shared_subdicts_params: Mapping[str, Any],
        **individual_subdicts_params: Mapping[str, Any],
    ) -> None:
        if not isinstance(dict_type, type) or not issubclass(dict_type, PersiDict):
            raise TypeError(
                f"dict_type must be a PersiDict subclass (e.g. FileDirDict, LocalDict), got {dict_type!r}"
            )
        if not isinstance(shared_subdicts_params, Mapping):
            raise TypeError(
                f"shared_subdicts_params must be a dict of store parameters, "
                f"got {type(shared_subdicts_params).__name__}"
            )
        if not individual_subdicts_params:
            raise ValueError(
                "OverlappingMultiDict needs at least one format, given as a keyword argument "
                "such as json={}, pkl={} or txt={}"
            )
        if "serialization_format" in shared_subdicts_params:
            raise ValueError(
                "shared_subdicts_params must not contain 'serialization_format': each keyword "
                "argument (json={}, pkl={}, ...) names the format of its sub-store"
            )
        for name, params in individual_subdicts_params.items():
            self._check_name(name)
            if not isinstance(params, Mapping):
                raise TypeError(f"Params for subdict {name!r} must be a dict, got {type(params).__name__}")
            if "serialization_format" in params:
                raise ValueError(
                    f"Params for subdict {name!r} must not contain 'serialization_format': "
                    f"the keyword {name!r} is the format"
                )

        shared = dict(shared_subdicts_params)
        individual = {name: dict(params) for name, params in individual_subdicts_params.items()}
        runtime: dict[str, Any] = {}
        if issubclass(dict_type, LocalDict) and "backend" not in shared:
            # One in-memory storage for all formats, as one folder is for file stores.
            runtime["backend"] = LocalDictBackend()
        subdicts = {
            name: dict_type(**{**runtime, **shared, **params, "serialization_format": name})
            for name, params in individual.items()
        }
        # The attributes are read-only (__setattr__ refuses): set them past it, once, here.
        for attribute, value in (
            ("_dict_type", dict_type),
            ("_shared", shared),
            ("_runtime", runtime),
            ("_individual", individual),
            ("_subdicts", subdicts),
            ("_config", None),
            *subdicts.items(),  # multi.json, multi.pkl, ... are plain instance attributes
        ):
            object.__setattr__(self, attribute, value)

    # ----------------------------------------------------------------- construction helpers
    @classmethod
    def _check_name(cls, name: str) -> None:
        if not is_safe_str_element(name):
            raise ValueError(
                f"{name!r} is not a valid serialization format name (non-empty; letters, digits and ()_-~.=)"
            )
        if name.startswith("_") or name in cls._reserved_names:
            raise ValueError(
                f"{name!r} cannot be a format of an OverlappingMultiDict: it is the name of one of "
                f"its attributes"
            )

    # ----------------------------------------------------------------- attributes
    @property
    def dict_type(self) -> type[PersiDict]:
        """The `PersiDict` subclass of every sub-store."""
        return self._dict_type

    @property
    def shared_subdicts_params(self) -> dict[str, Any]:
        """The parameters common to all sub-stores (a copy)."""
        return dict(self._shared)

    @property
    def individual_subdicts_params(self) -> dict[str, dict[str, Any]]:
        """``{format: that sub-store's own parameters}`` (a copy)."""
        return {name: dict(params) for name, params in self._individual.items()}

    @property
    def subdicts_names(self) -> list[str]:
        """The format names, in the order they were given; each is an attribute."""
        return list(self._subdicts)

    def __getattr__(self, name: str) -> PersiDict:
        # Only called for names that are not attributes: the sub-stores are instance attributes.
        subdicts = self.__dict__.get("_subdicts")
        if name.startswith("__") or subdicts is None:
            raise AttributeError(name)
        raise AttributeError(
            f"This OverlappingMultiDict has no format {name!r}; its formats are: {_listed(subdicts)}"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"Cannot set {name!r}: an OverlappingMultiDict's attributes are read-only "
            f"(write to a format's store instead, e.g. multi.{self._example()}[key] = value)"
        )

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Cannot delete {name!r}: an OverlappingMultiDict's attributes are read-only")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._subdicts))

    # ----------------------------------------------------------------- not a mapping
    def _example(self) -> str:
        return next(iter(self._subdicts), "json")

    def _not_a_mapping(self, action: str) -> NoReturn:
        example = self._example()
        raise TypeError(
            f"An OverlappingMultiDict is not a mapping and does not support {action}; use one of "
            f"its format attributes ({_listed(self._subdicts)}), e.g. multi.{example}[key]"
        )

    def __getitem__(self, key: object) -> NoReturn:
        self._not_a_mapping("item access")

    def __setitem__(self, key: object, value: object) -> NoReturn:
        self._not_a_mapping("item assignment")

    def __delitem__(self, key: object) -> NoReturn:
        self._not_a_mapping("item deletion")

    def __iter__(self) -> Iterator[Any]:
        self._not_a_mapping("iteration")

    def __len__(self) -> int:
        self._not_a_mapping("len()")

    def __contains__(self, key: object) -> bool:
        self._not_a_mapping("the 'in' operator")

    def __bool__(self) -> bool:
        return True  # without this, bool() would call the refusing __len__

    # ----------------------------------------------------------------- configuration
    @property
    def config(self) -> OverlappingMultiDictConfig:
        """The group's validated, frozen configuration (its sub-stores' configs)."""
        config: OverlappingMultiDictConfig | None = self._config
        if config is None:
            first = next(iter(self._subdicts.values()))
            config = OverlappingMultiDictConfig(
                dict_type=first.config.kind,
                subdicts={name: store.config for name, store in self._subdicts.items()},
            )
            object.__setattr__(self, "_config", config)
        return config

    def get_params(self) -> dict[str, Any]:
        """Return the constructor parameters: ``OverlappingMultiDict(**params)`` reopens the group.

        ``{"dict_type": ..., "shared_subdicts_params": ..., <format>: <its params>, ...}``; the
        shared parameters include the in-memory backend that `LocalDict` sub-stores share.
        The JSON-serializable description is `config`.
        """
        return {
            "dict_type": self._dict_type,
            "shared_subdicts_params": {**self._runtime, **self._shared},
            **self.individual_subdicts_params,
        }

    @classmethod
    def from_config(
        cls, config: OverlappingMultiDictConfig | Mapping[str, Any] | str | bytes
    ) -> OverlappingMultiDict:
        """Reopen a group from its config, the config's dict or its JSON.

        The sub-stores are reopened over the same location (for `LocalDict`, over one new,
        empty in-memory storage: memory is not part of a config).

        Raises:
            pydantic.ValidationError: The config is invalid.
            MissingBackendError: The stores' package is not installed.
        """
        if isinstance(config, (str, bytes)):
            config = json.loads(config)
        if not isinstance(config, OverlappingMultiDictConfig):
            if not isinstance(config, Mapping):
                raise TypeError(
                    f"An OverlappingMultiDict config must be an OverlappingMultiDictConfig, a dict or "
                    f"JSON text, got {type(config).__name__}"
                )
            config = OverlappingMultiDictConfig.model_validate(dict(config))
        dict_type = store_factory(config.dict_type)
        if not isinstance(dict_type, type) or not issubclass(dict_type, PersiDict):
            raise TypeError(f"The kind {config.dict_type!r} of the sub-stores is not a PersiDict class")
        shared, individual = _split_params(config.subdicts)
        return cls(dict_type, shared, **individual)

    def __reduce__(self) -> tuple[Any, ...]:
        # Through the constructor of this very class with the same parameters (the LocalDict
        # storage included), so the copy opens the same location; the pickle names only the
        # class, the store class and functools.partial.
        params = self.get_params()
        return (functools.partial(type(self), **params), ())

    def __eq__(self, other: object) -> bool:
        """Groups are equal when they have the same formats over the same locations."""
        if not isinstance(other, OverlappingMultiDict):
            return NotImplemented
        if self._dict_type is not other._dict_type or list(self._subdicts) != list(other._subdicts):
            return False
        return all(store.same_location(other._subdicts[name]) for name, store in self._subdicts.items())

    # No __hash__: defining __eq__ makes Python set it to None (equality depends on the
    # stores' locations, so a group is unhashable).

    def __repr__(self) -> str:
        individual = ", ".join(f"{name}={params!r}" for name, params in self._individual.items())
        return (
            f"{type(self).__name__}(dict_type={self._dict_type.__name__}, "
            f"shared_subdicts_params={self._shared!r}, {individual})"
        )


OverlappingMultiDict._reserved_names = frozenset(name for name in dir(OverlappingMultiDict))


def _listed(subdicts: Mapping[str, object]) -> str:
    return ", ".join(subdicts) or "(none)"


def _split_params(configs: Mapping[str, StoreConfig]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Recover shared and individual parameters from the sub-stores' configs."""
    dumps = {
        name: {
            field: getattr(config, field)
            for field in type(config).model_fields
            if field not in ("kind", "serialization_format")
        }
        for name, config in configs.items()
    }
    first = next(iter(dumps.values()), {})
    shared = {
        field: value
        for field, value in first.items()
        if all(dump.get(field) == value for dump in dumps.values())
    }
    individual = {
        name: {field: value for field, value in dump.items() if field not in shared}
        for name, dump in dumps.items()
    }
    return shared, individual


def _open_from_config_fields(**fields: Any) -> OverlappingMultiDict:
    """Open a group for `persidict_core.store_from_config` (which passes the config's fields)."""
    return OverlappingMultiDict.from_config(OverlappingMultiDictConfig(**fields))


register_store_kind(_KIND, OverlappingMultiDictConfig, _open_from_config_fields)
