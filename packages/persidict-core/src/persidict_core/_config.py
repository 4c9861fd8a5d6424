"""Store configurations: validated, frozen, JSON-serializable descriptions of a store.

Every store has a config (`store.config`), a pydantic model with a ``kind`` that names the
store class. `store_from_config` reopens the same store from a config object, a dict or a
JSON string, in this process or on another machine.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Annotated, Any, Final

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    SerializeAsAny,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from ._errors import MissingBackendError
from ._serialization import check_format_name, is_text_format

if TYPE_CHECKING:
    from ._persidict import PersiDict

__all__ = [
    "ENTRY_POINT_GROUP",
    "KNOWN_PARAMETER_NAMES",
    "LocalDirPath",
    "NestedStoreConfig",
    "StoreConfig",
    "ValueClass",
    "config_from_data",
    "constructor_params",
    "declared_store_kinds",
    "is_parameter_name",
    "parameter_vocabulary",
    "register_store_kind",
    "split_parameters",
    "split_runtime_parts",
    "store_factory",
    "store_from_config",
    "unknown_parameter_error",
]


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


_STORE_FACTORIES: dict[str, tuple[type[BaseModel], Callable[..., Any]]] = {}
_vocabulary: frozenset[str] | None = None  # the parameter names of the registered stores

ENTRY_POINT_GROUP: Final = "persidict.stores"
"""The entry-point group where a distribution declares the store kinds it provides.

Each entry is ``<kind> = "<module>:<StoreClass>"`` (``[project.entry-points."persidict.stores"]``
in ``pyproject.toml``); loading it imports the module, whose store classes register themselves.
"""

# persidict's own kinds, used when the installed metadata declares none (running from a
# source tree) and to name the distribution to install when a kind's package is missing.
_BUNDLED_KINDS: Final[Mapping[str, tuple[str, str]]] = {
    "file_dir_dict": ("persidict_core", "persidict-core"),
    "local_dict": ("persidict_core", "persidict-core"),
    "empty_dict": ("persidict_core", "persidict-core"),
    "mutable_dict_cached": ("persidict_cache", "persidict-cache"),
    "append_only_dict_cached": ("persidict_cache", "persidict-cache"),
    "write_once_dict": ("persidict_cache", "persidict-cache"),
    "basic_s3_dict": ("persidict_s3", "persidict-s3"),
    "s3_dict": ("persidict_s3", "persidict-s3"),
    "overlapping_multi_dict": ("persidict_multi", "persidict-multi"),
}


# Names that persidict's other distributions define, accepted (and ignored) by every store even
# where those distributions are not installed: a parameter dict written for an S3 or cache
# store still opens a FileDirDict on a machine that has only persidict-core.
_BUNDLED_PARAMETER_NAMES: Final = frozenset(
    {
        "bucket_name",
        "client_config",
        "connection",
        "copy_on_read",
        "data_cache",
        "endpoint_url",
        "etag_cache",
        "main_dict",
        "max_pool_connections",
        "multipart_chunksize",
        "multipart_concurrency",
        "multipart_threshold",
        "p_consistency_checks",
        "region",
        "root_prefix",
        "wrapped_dict",
    }
)


@functools.cache
def declared_store_kinds() -> Mapping[str, tuple[str, str]]:
    """Return ``{kind: (import target, distribution)}`` of every installed store kind.

    Read once from the ``persidict.stores`` entry points of the installed distributions;
    persidict's own kinds that no metadata declares are added from a built-in table (so a
    source checkout works, and a missing optional distribution is named in the error).
    """
    from importlib.metadata import entry_points

    declared: dict[str, tuple[str, str]] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        distribution = entry.dist.name if entry.dist is not None else entry.module
        declared.setdefault(entry.name, (entry.value, distribution))
    for kind, home in _BUNDLED_KINDS.items():
        declared.setdefault(kind, home)
    return declared


def register_store_kind(kind: str, config_class: type[BaseModel], factory: Callable[..., Any]) -> None:
    """Register ``factory`` (usually the store class) as the opener of configs of ``kind``.

    `PersiDict` subclasses with their own ``config_class`` register themselves when the class
    is created. ``config_class`` is a `StoreConfig` subclass for stores; a group of stores that
    is not itself a store (``OverlappingMultiDict``) registers its own model with a ``kind``
    field. Declare the kind in the ``persidict.stores`` entry points of the distribution too, so
    that `store_from_config` finds it before the module is imported.
    """
    global _vocabulary
    _STORE_FACTORIES[kind] = (config_class, factory)
    _vocabulary = None


def _load_kind(kind: str) -> None:
    """Import the module that provides ``kind`` (it registers the kind on import)."""
    target, distribution = declared_store_kinds()[kind]
    module = target.partition(":")[0].strip()
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise MissingBackendError(
            f"A store of kind {kind!r} needs the {distribution} distribution: pip install {distribution}"
        ) from exc


def _lookup_kind(kind: str) -> tuple[type[BaseModel], Callable[..., Any]]:
    if kind not in _STORE_FACTORIES and kind in declared_store_kinds():
        _load_kind(kind)
    try:
        return _STORE_FACTORIES[kind]
    except KeyError:
        known = ", ".join(sorted(set(_STORE_FACTORIES) | set(declared_store_kinds())))
        raise ValueError(f"Unknown store kind {kind!r}; known kinds: {known}") from None


def store_factory(kind: str) -> Callable[..., Any]:
    """Return the class (or opener) registered for the store kind ``kind``.

    The distribution that declares the kind is imported when needed.

    Raises:
        ValueError: No installed distribution provides ``kind``.
        MissingBackendError: ``kind`` is one of persidict's own and its distribution is missing.
    """
    return _lookup_kind(kind)[1]


def _constructor_names(factory: Callable[..., Any]) -> set[str]:
    """The named parameters of a store class's constructor (``backend``, ``connection``...)."""
    import inspect

    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return set()
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {name for name, parameter in signature.parameters.items() if parameter.kind in named}


def _registered_vocabulary() -> frozenset[str]:
    global _vocabulary
    if _vocabulary is None:
        names: set[str] = set()
        for config_class, factory in list(_STORE_FACTORIES.values()):
            if issubclass(config_class, StoreConfig):  # stores, not groups of stores
                names.update(config_class.model_fields)
                names.update(_constructor_names(factory))
        names.discard("kind")
        _vocabulary = frozenset(names)
    return _vocabulary


def parameter_vocabulary() -> frozenset[str]:
    """Return every parameter name that some installed store defines.

    The vocabulary is derived from the stores themselves: the fields of each registered
    store's config model (inherited fields included) and the named parameters of its
    constructor. Every installed store kind is loaded first, so the answer is complete.
    """
    for kind in declared_store_kinds():
        if kind not in _STORE_FACTORIES:
            try:
                _load_kind(kind)
            except MissingBackendError:
                continue  # not installed: its names come from the bundled list
    return _registered_vocabulary() | _BUNDLED_PARAMETER_NAMES


def is_parameter_name(name: str) -> bool:
    """Return True if some installed store defines the parameter ``name``.

    The stores registered so far are asked first; only an unknown name loads the others.
    """
    return name in _registered_vocabulary() or name in parameter_vocabulary()


class _ParameterVocabulary(AbstractSet[str]):
    """A live, read-only view of `parameter_vocabulary` (``name in KNOWN_PARAMETER_NAMES``)."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and is_parameter_name(name)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(parameter_vocabulary()))

    def __len__(self) -> int:
        return len(parameter_vocabulary())

    def __repr__(self) -> str:
        return f"KNOWN_PARAMETER_NAMES({sorted(parameter_vocabulary())!r})"


KNOWN_PARAMETER_NAMES: Final[AbstractSet[str]] = _ParameterVocabulary()
"""The one parameter vocabulary shared by all stores, as a read-only set (see `parameter_vocabulary`).

A store ignores the names here that do not apply to it, so a dict of parameters can be handed
to any store type; a name outside this set (a typo) is a validation error.
"""


def unknown_parameter_error(
    config_class: type[BaseModel],
    params: Mapping[str, Any],
    unknown: list[str],
    extra_names: Iterable[str] = (),
) -> ValidationError:
    """Build the `ValidationError` for parameter names that no store defines, with a did-you-mean.

    ``extra_names`` are more names to suggest (the options of a store URL's scheme).
    """
    import difflib

    candidates = sorted(parameter_vocabulary() | set(config_class.model_fields) | set(extra_names))
    errors: list[InitErrorDetails] = []
    for name in unknown:
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        message = f"{name!r} is not a parameter of any persidict store{hint}"
        errors.append(
            {
                "type": PydanticCustomError("unknown_parameter", "{message}", {"message": message}),
                "loc": (name,),
                "input": params[name],
            }
        )
    return ValidationError.from_exception_data(config_class.__name__, errors)


def split_parameters(
    params: Mapping[str, Any],
    applicable: AbstractSet[str],
    config_class: type[BaseModel],
    extra_names: Iterable[str] = (),
) -> dict[str, Any]:
    """Keep the parameters a store uses and drop the other names of the shared vocabulary.

    ``extra_names`` are suggested too when a name is unknown (see `unknown_parameter_error`).

    Raises:
        pydantic.ValidationError: A name no store defines (with a did-you-mean).
    """
    kept: dict[str, Any] = {}
    unknown: list[str] = []
    for name, value in params.items():
        if name in applicable:
            kept[name] = value
        elif not is_parameter_name(name):
            unknown.append(name)
    if unknown:
        raise unknown_parameter_error(config_class, params, unknown, extra_names)
    return kept


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


def split_runtime_parts(
    data: Mapping[str, Any], runtime_parts: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate constructor arguments that are not config fields (`PersiDict.get_params` adds them).

    A `LocalDict`'s ``get_params()`` holds its ``backend``, which its config cannot hold:
    such names (those of the kind's constructor that its model lacks) become runtime parts.
    """
    runtime = dict(runtime_parts or {})
    kind = data.get("kind")
    if not isinstance(kind, str):
        return dict(data), runtime
    config_class, factory = _lookup_kind(kind)
    extra = set(data) - set(config_class.model_fields)
    if not extra:
        return dict(data), runtime
    accepted = extra & _constructor_names(factory)
    for name in accepted:
        runtime.setdefault(name, data[name])
    return {name: value for name, value in data.items() if name not in accepted}, runtime


def constructor_params(
    validated: BaseModel, runtime_parts: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return the constructor arguments that open the store ``validated`` describes.

    The config's fields (``kind`` left out), nested store configs opened as stores unless
    ``runtime_parts`` gives them, then ``runtime_parts`` on top.
    """
    params = {name: getattr(validated, name) for name in type(validated).model_fields if name != "kind"}
    runtime_parts = runtime_parts or {}
    for name, value in params.items():
        # Nested stores of wrappers are opened from their configs unless given as runtime parts
        # (opening one can cost a connection and a bucket check).
        if isinstance(value, StoreConfig) and name not in runtime_parts:
            params[name] = store_from_config(value)
    params.update(runtime_parts)
    return params


def store_from_config(
    config: BaseModel | Mapping[str, Any] | str | bytes, runtime_parts: Mapping[str, Any] | None = None
) -> PersiDict | Any:
    """Open the store that ``config`` describes, with the class registered for its ``kind``.

    Args:
        config: A `StoreConfig`, its ``model_dump()`` dict (or a store's ``get_params()``),
            or its JSON.
        runtime_parts: Constructor arguments a config cannot hold (a `LocalDict`'s in-memory
            backend, a wrapper's component stores); they override the config's fields.

    Returns:
        A store over the same location as the one the config came from (for the kind
        ``overlapping_multi_dict``, an ``OverlappingMultiDict``, which is not a `PersiDict`).
        A config of a subclass's store opens the registered class; ``Subclass.from_config``
        opens the subclass.
    """
    if isinstance(config, Mapping):
        config, runtime_parts = split_runtime_parts(config, runtime_parts)
    validated = config_from_data(config)
    _, factory = _lookup_kind(validated.kind)
    store: PersiDict | Any = factory(**constructor_params(validated, runtime_parts))
    return store


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
