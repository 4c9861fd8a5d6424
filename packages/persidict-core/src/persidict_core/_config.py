"""Store configurations: validated, frozen, JSON-serializable descriptions of a store.

Every store has a config (`store.config`), a pydantic model with a ``kind`` that names the
store class. `store_from_config` reopens the same store from a config object, a dict or a
JSON string, in this process or on another machine.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, Final

from ._errors import MissingBackendError

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from ._config_models import StoreConfig
    from ._persidict import PersiDict

__all__ = [
    "ENTRY_POINT_GROUP",
    "KNOWN_PARAMETER_NAMES",
    "DeferredConfigClass",
    "config_from_data",
    "constructor_params",
    "declared_store_kinds",
    "deferred_config_class",
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


class DeferredConfigClass:
    """A store's config class named by its import path and imported on first access.

    A store class whose config model lives elsewhere sets ``config_class`` to
    `deferred_config_class` (a descriptor): its module then imports no pydantic, which is
    loaded when the first config is built, read or validated.
    """

    __slots__ = ("_resolved", "kind", "path")

    def __init__(self, path: str, kind: str | None) -> None:
        self.path = path
        self.kind = kind
        self._resolved: type[BaseModel] | None = None

    def resolve(self) -> type[BaseModel]:
        """Import and return the model class."""
        if self._resolved is None:
            resolved = _import_class(self.path)
            from pydantic import BaseModel

            if not issubclass(resolved, BaseModel):
                raise TypeError(f"{self.path!r} does not name a pydantic model")
            self._resolved = resolved
        return self._resolved

    def __get__(self, instance: object, owner: type | None = None) -> type[BaseModel]:
        return self.resolve()

    def __repr__(self) -> str:
        return f"DeferredConfigClass({self.path!r}, kind={self.kind!r})"


def deferred_config_class(path: str, kind: str | None) -> Any:
    """Name a store's config model by its import path, to be imported on first use.

    A store class sets ``config_class = deferred_config_class("pkg._models:MyConfig", "my_kind")``
    instead of the model itself, so that importing the store class loads no pydantic (the
    largest part of persidict's import time). The model is imported when first needed (the
    first store created, its ``config_class`` read); reading ``MyStore.config_class`` returns
    the model class. The kind is registered with the store class right away, so
    `store_from_config` finds it.

    Args:
        path: ``"module:QualName"`` of a `StoreConfig` subclass.
        kind: The model's ``kind`` default (None for an abstract store without a kind).

    Returns:
        A descriptor to assign to ``config_class`` (typed ``Any`` so that it stands for
        ``type[StoreConfig]``).
    """
    return DeferredConfigClass(path, kind)


_STORE_FACTORIES: dict[str, tuple[type[BaseModel] | DeferredConfigClass, Callable[..., Any]]] = {}
_vocabulary: frozenset[str] | None = None  # the parameter names of the registered stores

ENTRY_POINT_GROUP: Final = "persidict.stores"
"""The entry-point group where a distribution declares the store kinds it provides.

Each entry is ``<kind> = "<module>:<StoreClass>"`` (``[project.entry-points."persidict.stores"]``
in ``pyproject.toml``); loading it imports the module, whose store classes register themselves.
"""

# persidict's own kinds, used when the installed metadata declares none (running from a
# source tree) and to name the distribution to install when a kind's package is missing.
_BUNDLED_KINDS: Final[Mapping[str, tuple[str, str]]] = {
    "file_dir_dict": ("persidict_core:FileDirDict", "persidict-core"),
    "local_dict": ("persidict_core:LocalDict", "persidict-core"),
    "empty_dict": ("persidict_core:EmptyDict", "persidict-core"),
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


def register_store_kind(
    kind: str, config_class: type[BaseModel] | DeferredConfigClass, factory: Callable[..., Any]
) -> None:
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
    """Import the store class that provides ``kind`` (it registers the kind when created)."""
    target, distribution = declared_store_kinds()[kind]
    module_name, _, attribute = (part.strip() for part in target.partition(":"))
    try:
        module = importlib.import_module(module_name)
        if attribute:
            # The class itself: a package may import it on first access (persidict_core does).
            getattr(module, attribute.partition(".")[0])
    except ImportError as exc:
        raise MissingBackendError(
            f"A store of kind {kind!r} needs the {distribution} distribution: pip install {distribution}"
        ) from exc


def _lookup_kind(kind: str) -> tuple[type[BaseModel], Callable[..., Any]]:
    if kind not in _STORE_FACTORIES and kind in declared_store_kinds():
        _load_kind(kind)
    try:
        config_class, factory = _STORE_FACTORIES[kind]
    except KeyError:
        known = ", ".join(sorted(set(_STORE_FACTORIES) | set(declared_store_kinds())))
        raise ValueError(f"Unknown store kind {kind!r}; known kinds: {known}") from None
    if isinstance(config_class, DeferredConfigClass):
        config_class = config_class.resolve()
    return config_class, factory


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
        from ._config_models import StoreConfig

        names: set[str] = set()
        for kind in list(_STORE_FACTORIES):
            config_class, factory = _lookup_kind(kind)
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

    from pydantic import ValidationError
    from pydantic_core import InitErrorDetails, PydanticCustomError

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
    from ._config_models import StoreConfig

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
