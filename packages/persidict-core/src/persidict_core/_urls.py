"""Store URLs: `open_store` turns a URL into a store, `PersiDict.to_url` turns a store into one.

* ``./data``, ``/abs/path``, ``~/data``, ``file:///abs/path``: a `FileDirDict`;
* ``memory://``: a new, empty `LocalDict`;
* ``s3://bucket/prefix``: an ``S3Dict`` (``?cache=none``: a ``BasicS3Dict``), once persidict-s3 is
  installed (it registers the scheme when imported; core never imports it eagerly);
* ``@config.json``: the store a saved config describes (`store_from_config`).

Query parameters (``?serialization_format=json&digest_len=8``) are names of the shared
parameter vocabulary; their text is converted to each parameter's type and validated by the
store's config, so a wrong value or an unknown name is the config's ``ValidationError``.
Schemes are a registry (`register_url_scheme`): another distribution adds its own.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from ._config import _lookup_kind, split_parameters, store_from_config
from ._errors import MissingBackendError

if TYPE_CHECKING:
    from pydantic import BaseModel, TypeAdapter

    from ._config_models import StoreConfig
    from ._persidict import PersiDict

__all__ = ["StoreUrl", "format_store_url", "open_store", "register_url_scheme"]


@dataclass(frozen=True)
class StoreUrl:
    """A store URL taken apart: what a scheme's resolver receives.

    Attributes:
        text: The URL as given.
        scheme: ``"file"`` for plain paths, else the scheme in lower case.
        netloc: The part after ``//`` up to the path (an S3 bucket), percent-decoded.
        path: The path, percent-decoded (for ``file`` URLs, the local path as written).
        query: The query parameters as text, in the order given.
    """

    text: str
    scheme: str
    netloc: str
    path: str
    query: dict[str, str] = field(default_factory=dict)


Resolver = Callable[[StoreUrl], "tuple[str, dict[str, Any]]"]
"""``resolver(url) -> (kind, location parameters)``; see `register_url_scheme`."""


@dataclass(frozen=True)
class _Scheme:
    resolver: Resolver
    options: frozenset[str]


_SCHEMES: dict[str, _Scheme] = {}

# Where the schemes of the other persidict distributions live: importing the module registers them.
_SCHEME_HOMES: Final[dict[str, tuple[str, str]]] = {"s3": ("persidict_s3", "persidict-s3")}


def register_url_scheme(scheme: str, resolver: Resolver, *, options: Iterable[str] = ()) -> None:
    """Teach `open_store` to open URLs of ``scheme``.

    ``resolver(url)`` receives the `StoreUrl` and returns ``(kind, location)``: a store kind
    registered with `register_store_kind` and the parameters the URL's location gives (a
    directory, a bucket and prefix). The URL's other query parameters are then converted and
    validated by that kind's config, exactly as keyword arguments of the store's constructor.
    ``options`` names query parameters the resolver reads itself (they are not validated as
    store parameters), e.g. ``cache`` for ``s3`` URLs.

    A backend registers its scheme when its module is imported::

        from persidict_core import StoreUrl, register_url_scheme

        def _resolve(url: StoreUrl) -> tuple[str, dict[str, object]]:
            # mydb://host/table  ->  MyDbDict(host=..., table=...), a kind it registered
            return "my_db_dict", {"host": url.netloc, "table": url.path.strip("/")}

        register_url_scheme("mydb", _resolve)

    Args:
        scheme: The URL scheme (case-insensitive), e.g. ``"s3"``.
        resolver: The function described above.
        options: Query parameter names the resolver handles.
    """
    _SCHEMES[scheme.lower()] = _Scheme(resolver, frozenset(options))


def _lookup_scheme(scheme: str, url: str) -> _Scheme:
    if scheme not in _SCHEMES and scheme in _SCHEME_HOMES:
        module, distribution = _SCHEME_HOMES[scheme]
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise MissingBackendError(
                f"The URL {url!r} needs the {distribution} distribution: pip install {distribution}"
            ) from exc
    try:
        return _SCHEMES[scheme]
    except KeyError:
        known = ", ".join(sorted(set(_SCHEMES) | set(_SCHEME_HOMES)))
        raise ValueError(f"Unknown URL scheme {scheme!r} in {url!r}; known schemes: {known}") from None


def parse_store_url(url: str) -> StoreUrl:
    """Split a store URL (or a plain local path) into a `StoreUrl`.

    Raises:
        ValueError: The URL is empty or malformed (a repeated query parameter, a query item
            without ``=``).
    """
    if not isinstance(url, str):
        raise TypeError(f"A store URL must be a str, got {type(url).__name__}")
    if not url:
        raise ValueError("A store URL must not be empty")
    parts = urlsplit(url, allow_fragments=False)
    # A plain path ("./data", "/abs", "C:\\data") has no scheme, or a one-letter drive "scheme".
    if not parts.scheme or len(parts.scheme) == 1:
        path, _, query = url.partition("?")
        return StoreUrl(url, "file", "", path, _parse_query(query, url))
    return StoreUrl(
        url, parts.scheme.lower(), unquote(parts.netloc), unquote(parts.path), _parse_query(parts.query, url)
    )


def _parse_query(query: str, url: str) -> dict[str, str]:
    if not query:
        return {}
    params: dict[str, str] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise ValueError(f"Malformed query in the store URL {url!r}: write ?name=value&name=value") from None
    for name, value in pairs:
        if name in params:
            raise ValueError(f"The parameter {name!r} is given twice in the store URL {url!r}")
        params[name] = value
    return params


def open_store(url: str | os.PathLike[str], **params: Any) -> PersiDict | Any:
    """Open the store a URL describes.

    - ``./data``, ``/abs/path``, ``~/data``: ``FileDirDict(base_dir=...)``;
    - ``file:///abs/path``: ``FileDirDict(base_dir="/abs/path")``;
    - ``memory://``: a new, empty ``LocalDict()``;
    - ``s3://bucket/prefix``: ``S3Dict(bucket_name=..., root_prefix=...)``, and with
      ``?cache=none`` a ``BasicS3Dict`` (no local cache);
    - ``@config.json``: ``store_from_config(<the file's JSON>)``.

    Query parameters are constructor parameters of the shared vocabulary, written as text
    (``?serialization_format=json&digest_len=8&append_only=true``,
    ``?endpoint_url=http://127.0.0.1:9000&region=eu-west-1``): each is converted to its
    parameter's type (``true``/``false``, numbers, JSON for dicts; an empty value is None
    where None is allowed) and validated by the store's config. Names of the vocabulary that
    do not apply to the store are ignored, as by the constructors.

    Args:
        url: The URL (or a local path).
        **params: More constructor parameters, as Python values; they override the query.

    Returns:
        The store (for configs of groups of stores, such as ``OverlappingMultiDict``, that group).

    Raises:
        ValueError: The URL is malformed, its scheme is unknown, or a parameter is given by
            both the URL's location and another way.
        pydantic.ValidationError: A parameter is unknown (the message suggests the closest
            known name) or has an invalid value.
        MissingBackendError: The scheme's distribution (e.g. persidict-s3) is not installed.
    """
    text = os.fspath(url)
    if isinstance(text, str) and text.startswith("@"):
        return _open_saved_config(text[1:], params)
    parsed = parse_store_url(text)
    scheme = _lookup_scheme(parsed.scheme, text)
    query = dict(parsed.query)
    for name, value in params.items():
        # Options of the scheme (s3's cache) may come as keyword arguments too.
        if name in scheme.options:
            query[name] = str(value)
    kind, location = scheme.resolver(StoreUrl(text, parsed.scheme, parsed.netloc, parsed.path, query))
    given = {name: value for name, value in query.items() if name not in scheme.options}
    converted = {
        **_convert_query(kind, given),
        **{k: v for k, v in params.items() if k not in scheme.options},
    }
    doubled = sorted(set(location) & set(converted))
    if doubled:
        raise ValueError(
            f"{', '.join(map(repr, doubled))} is given by the location of the store URL {text!r}; "
            "do not pass it as a parameter too"
        )
    config = validated_config(kind, {**location, **converted}, extra_names=scheme.options)
    return store_from_config(config)


def _open_saved_config(path: str, params: Mapping[str, Any]) -> PersiDict | Any:
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as file:
            data = json.load(file)
    except OSError as exc:
        raise ValueError(f"Cannot read the store config file {path!r}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"The store config file {path!r} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"The store config file {path!r} must hold a JSON object")
    return store_from_config({**data, **params})


def validated_config(kind: str, params: Mapping[str, Any], extra_names: Iterable[str] = ()) -> StoreConfig:
    """Validate constructor parameters of the shared vocabulary into the config of ``kind``.

    The one place where store URLs meet the parameter vocabulary, with the constructors' rule:
    names of the vocabulary that do not apply to the store are dropped, and a name no store
    defines is a `ValidationError` with the closest known name suggested.

    Args:
        kind: A registered store kind.
        params: Parameters as Python values.
        extra_names: More names that count as known for the suggestion (scheme options).
    """
    config_class, factory = _lookup_kind(kind)
    # The registered config's fields apply too (a subclass may register a config of its own).
    fields = frozenset(config_class.model_fields) - {"kind"}
    applicable = (getattr(factory, "applicable_parameters", None) or frozenset()) | fields
    kept = split_parameters(params, applicable, config_class, extra_names)
    config = config_class.model_validate({**kept, "kind": kind})
    from ._config_models import StoreConfig

    assert isinstance(config, StoreConfig)
    return config


@functools.lru_cache(maxsize=256)
def _field_adapter(config_class: type[BaseModel], name: str) -> TypeAdapter[Any] | None:
    info = config_class.model_fields.get(name)
    if info is None:
        return None
    from pydantic import TypeAdapter

    annotation: Any = info.rebuild_annotation()  # the type with its validators (Annotated)
    return TypeAdapter(annotation)


def _convert_query(kind: str, query: Mapping[str, str]) -> dict[str, Any]:
    """Convert query texts to the types of the config fields of ``kind``.

    A text that does not convert is passed on unchanged, so the config's own validation
    reports it (with the field's name); names of fields of other stores stay text.
    """
    if not query:
        return {}
    config_class, _ = _lookup_kind(kind)
    converted: dict[str, Any] = {}
    for name, text in query.items():
        adapter = _field_adapter(config_class, name)
        converted[name] = text if adapter is None else _convert_text(adapter, text)
    return converted


def _convert_text(adapter: TypeAdapter[Any], text: str) -> Any:
    from pydantic import ValidationError

    if text == "":
        try:
            return adapter.validate_python(None)
        except ValidationError:
            pass
    try:
        return adapter.validate_strings(text)
    except ValidationError:
        pass
    if text[:1] in ("{", "["):
        try:
            return json.loads(text)  # dicts and lists (client_config) are written as JSON
        except json.JSONDecodeError:
            pass
    return text


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def format_store_url(base: str, config: StoreConfig, location: Mapping[str, Any]) -> str:
    """Return ``base`` with a query of the config fields that differ from their defaults.

    For `PersiDict.to_url` implementations: ``location`` holds the fields that ``base``
    already expresses (a directory, a bucket and prefix); a field is written when its value
    differs from what a config with only the location and the fields before it would hold, so
    derived defaults (text formats hold ``str``) are left out and `open_store` rebuilds an
    equal config.
    """
    config_class = type(config)
    kind = config.kind
    current: dict[str, Any] = {"kind": kind, **location}
    dumped = config.model_dump(mode="json")
    items: list[str] = []
    for name in config_class.model_fields:
        if name == "kind" or name in location:
            continue
        # Defaults are not validated by pydantic: validate this one as if given (a relative
        # default directory becomes absolute, as the store's own value did).
        raw_default = getattr(config_class.model_validate(current), name)
        default = config_class.model_validate({**current, name: raw_default}).model_dump(mode="json")[name]
        if dumped[name] != default:
            current[name] = getattr(config, name)
            items.append(f"{quote(name)}={quote(_render(dumped[name]), safe='/:@,')}")
    return base + ("?" + "&".join(items) if items else "")


def _resolve_file_url(url: StoreUrl) -> tuple[str, dict[str, Any]]:
    if url.netloc not in ("", "localhost"):
        raise ValueError(f"A file URL names a local directory (file:///abs/path), got {url.text!r}")
    if not url.path:
        raise ValueError(f"The store URL {url.text!r} names no directory")
    return "file_dir_dict", {"base_dir": url.path}


def _resolve_memory_url(url: StoreUrl) -> tuple[str, dict[str, Any]]:
    if url.netloc or url.path not in ("", "/"):
        raise ValueError(
            f"memory:// URLs take no name or path (each opens a new LocalDict), got {url.text!r}"
        )
    return "local_dict", {}


register_url_scheme("file", _resolve_file_url)
register_url_scheme("memory", _resolve_memory_url)


def file_url(path: str) -> str:
    """Return the ``file://`` URL of an absolute local path."""
    return "file://" + quote(path.replace(os.sep, "/") if os.sep != "/" else path, safe="/:~()_-.=")
