"""persidict: persistent dict-like stores, all public names in one namespace.

This module is a facade. It imports nothing when it is imported: each public name is looked
up in ``_LAZY_NAMES`` on first access, imported from the package that defines it and cached
in this module's globals. ``import persidict`` therefore stays cheap and never loads boto3.

Public names, by the distribution that provides them:

* ``persidict-safestr``: the key type (``SafeStrTuple``, ``NonEmptySafeStrTuple``) and the
  safe-character helpers.
* ``persidict-core``: ``PersiDict`` and the local stores, jokers, errors, configuration and
  store URLs (``open_store``).
* ``persidict-cache``: ``MutableDictCached``, ``AppendOnlyDictCached``, ``WriteOnceDict``,
  ``memoize``, and the wrappers' building blocks ``ConditionalDelegation`` and ``MainStoreListing``.
* ``persidict-s3``: ``BasicS3Dict``, ``S3Dict``, ``S3Dict_FileDirCached``.
* ``persidict-multi``: ``OverlappingMultiDict``.

A name whose distribution is not installed raises ``MissingBackendError`` (an
``ImportError``) that says which distribution to install. ``__version__`` is the installed
version of the ``persidict`` distribution.

The ``persidict`` command line (run by the console script or ``python -m persidict``) is never
imported from here, so the library does not load click or rich.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from persidict_cache import (
        AppendOnlyDictCached,
        AppendOnlyDictCachedConfig,
        ConditionalDelegation,
        MainStoreListing,
        MemoizedFunction,
        MemoStats,
        MutableDictCached,
        MutableDictCachedConfig,
        WriteOnceDict,
        WriteOnceDictConfig,
        memoize,
    )
    from persidict_core import (
        ALWAYS_RETRIEVE,
        ANY_ETAG,
        DELETE_CURRENT,
        ETAG_HAS_CHANGED,
        ETAG_HAS_NOT_CHANGED,
        ETAG_IS_THE_SAME,
        IF_ETAG_CHANGED,
        ITEM_NOT_AVAILABLE,
        KEEP_CURRENT,
        KNOWN_PARAMETER_NAMES,
        NEVER_RETRIEVE,
        VALUE_NOT_RETRIEVED,
        AlwaysRetrieveFlag,
        AnyETagFlag,
        BackendError,
        Codec,
        ConcurrencyConflictError,
        ConditionalOperationResult,
        ConsistencyCheckError,
        DeleteCurrentFlag,
        DeserializationError,
        EmptyDict,
        EmptyDictConfig,
        EntryInfo,
        ETagConditionFlag,
        ETagHasChangedFlag,
        ETagHasNotChangedFlag,
        ETagIfExists,
        ETagIsTheSameFlag,
        ETagValue,
        FileDirDict,
        FileDirDictConfig,
        IfETagChangedRetrieveFlag,
        ItemNotAvailableFlag,
        Joker,
        KeepCurrentFlag,
        LocalDict,
        LocalDictConfig,
        MissingBackendError,
        MutationPolicyError,
        NeverRetrieveFlag,
        OperationResult,
        PersiDict,
        PersiDictError,
        RetrieveValueFlag,
        SerializationError,
        StoreConfig,
        StoreUrl,
        TransformingFunction,
        ValueNotRetrievedFlag,
        ValueType,
        deferred_config_class,
        format_store_url,
        get_codec,
        lazy_exports,
        open_store,
        parameter_vocabulary,
        register_codec,
        register_json_class,
        register_url_scheme,
        store_factory,
        store_from_config,
    )
    from persidict_multi import OverlappingMultiDict, OverlappingMultiDictConfig
    from persidict_s3 import (
        BasicS3Dict,
        BasicS3DictConfig,
        S3Dict,
        S3Dict_FileDirCached,
        S3DictConfig,
    )
    from persidict_safestr import (
        SAFE_CHARS,
        SAFE_STRING_MAX_LENGTH,
        BoundedCache,
        BoundedSet,
        NonEmptySafeStrTuple,
        SafeStrTuple,
        contains_unsafe_chars,
        get_safe_chars,
        replace_unsafe_chars,
        sign_safe_str_tuple,
        unsign_safe_str_tuple,
    )

_SAFESTR = ("persidict_safestr", "persidict-safestr")
_CORE = ("persidict_core", "persidict-core")
_CACHE = ("persidict_cache", "persidict-cache")
_S3 = ("persidict_s3", "persidict-s3")
_MULTI = ("persidict_multi", "persidict-multi")

# Public name -> (module that defines it, distribution that installs that module).
_LAZY_NAMES: dict[str, tuple[str, str]] = {
    # persidict-safestr
    "SafeStrTuple": _SAFESTR,
    "BoundedCache": _SAFESTR,
    "BoundedSet": _SAFESTR,
    "NonEmptySafeStrTuple": _SAFESTR,
    "get_safe_chars": _SAFESTR,
    "replace_unsafe_chars": _SAFESTR,
    "contains_unsafe_chars": _SAFESTR,
    "sign_safe_str_tuple": _SAFESTR,
    "unsign_safe_str_tuple": _SAFESTR,
    "SAFE_CHARS": _SAFESTR,
    "SAFE_STRING_MAX_LENGTH": _SAFESTR,
    # persidict-core
    "PersiDict": _CORE,
    "LocalDict": _CORE,
    "FileDirDict": _CORE,
    "EmptyDict": _CORE,
    "KEEP_CURRENT": _CORE,
    "DELETE_CURRENT": _CORE,
    "ETAG_HAS_NOT_CHANGED": _CORE,
    "Joker": _CORE,
    "KeepCurrentFlag": _CORE,
    "DeleteCurrentFlag": _CORE,
    "ETagHasNotChangedFlag": _CORE,
    "PersiDictError": _CORE,
    "MutationPolicyError": _CORE,
    "ConcurrencyConflictError": _CORE,
    "BackendError": _CORE,
    "MissingBackendError": _CORE,
    "SerializationError": _CORE,
    "DeserializationError": _CORE,
    "ConsistencyCheckError": _CORE,
    "StoreConfig": _CORE,
    "FileDirDictConfig": _CORE,
    "LocalDictConfig": _CORE,
    "EmptyDictConfig": _CORE,
    "store_from_config": _CORE,
    "store_factory": _CORE,
    "deferred_config_class": _CORE,
    "parameter_vocabulary": _CORE,
    "KNOWN_PARAMETER_NAMES": _CORE,
    "EntryInfo": _CORE,
    "StoreUrl": _CORE,
    "open_store": _CORE,
    "register_url_scheme": _CORE,
    "format_store_url": _CORE,
    "ALWAYS_RETRIEVE": _CORE,
    "ANY_ETAG": _CORE,
    "ETAG_HAS_CHANGED": _CORE,
    "ETAG_IS_THE_SAME": _CORE,
    "IF_ETAG_CHANGED": _CORE,
    "ITEM_NOT_AVAILABLE": _CORE,
    "NEVER_RETRIEVE": _CORE,
    "VALUE_NOT_RETRIEVED": _CORE,
    "AlwaysRetrieveFlag": _CORE,
    "AnyETagFlag": _CORE,
    "ConditionalOperationResult": _CORE,
    "ETagConditionFlag": _CORE,
    "ETagHasChangedFlag": _CORE,
    "ETagIfExists": _CORE,
    "ETagIsTheSameFlag": _CORE,
    "ETagValue": _CORE,
    "IfETagChangedRetrieveFlag": _CORE,
    "ItemNotAvailableFlag": _CORE,
    "NeverRetrieveFlag": _CORE,
    "OperationResult": _CORE,
    "RetrieveValueFlag": _CORE,
    "TransformingFunction": _CORE,
    "ValueNotRetrievedFlag": _CORE,
    "ValueType": _CORE,
    "Codec": _CORE,
    "get_codec": _CORE,
    "register_codec": _CORE,
    "register_json_class": _CORE,
    "lazy_exports": _CORE,
    # persidict-cache
    "MutableDictCached": _CACHE,
    "AppendOnlyDictCached": _CACHE,
    "WriteOnceDict": _CACHE,
    "MutableDictCachedConfig": _CACHE,
    "AppendOnlyDictCachedConfig": _CACHE,
    "WriteOnceDictConfig": _CACHE,
    "memoize": _CACHE,
    "MemoizedFunction": _CACHE,
    "MemoStats": _CACHE,
    "ConditionalDelegation": _CACHE,
    "MainStoreListing": _CACHE,
    # persidict-s3
    "BasicS3Dict": _S3,
    "S3Dict": _S3,
    "S3Dict_FileDirCached": _S3,
    "BasicS3DictConfig": _S3,
    "S3DictConfig": _S3,
    # persidict-multi
    "OverlappingMultiDict": _MULTI,
    "OverlappingMultiDictConfig": _MULTI,
}

_DISTRIBUTION_OF_MODULE: dict[str, str] = dict(_LAZY_NAMES.values())

__all__ = [
    "ALWAYS_RETRIEVE",
    "ANY_ETAG",
    "DELETE_CURRENT",
    "ETAG_HAS_CHANGED",
    "ETAG_HAS_NOT_CHANGED",
    "ETAG_IS_THE_SAME",
    "IF_ETAG_CHANGED",
    "ITEM_NOT_AVAILABLE",
    "KEEP_CURRENT",
    "KNOWN_PARAMETER_NAMES",
    "NEVER_RETRIEVE",
    "SAFE_CHARS",
    "SAFE_STRING_MAX_LENGTH",
    "VALUE_NOT_RETRIEVED",
    "AlwaysRetrieveFlag",
    "AnyETagFlag",
    "AppendOnlyDictCached",
    "AppendOnlyDictCachedConfig",
    "BackendError",
    "BasicS3Dict",
    "BasicS3DictConfig",
    "BoundedCache",
    "BoundedSet",
    "Codec",
    "ConcurrencyConflictError",
    "ConditionalDelegation",
    "ConditionalOperationResult",
    "ConsistencyCheckError",
    "DeleteCurrentFlag",
    "DeserializationError",
    "ETagConditionFlag",
    "ETagHasChangedFlag",
    "ETagHasNotChangedFlag",
    "ETagIfExists",
    "ETagIsTheSameFlag",
    "ETagValue",
    "EmptyDict",
    "EmptyDictConfig",
    "EntryInfo",
    "FileDirDict",
    "FileDirDictConfig",
    "IfETagChangedRetrieveFlag",
    "ItemNotAvailableFlag",
    "Joker",
    "KeepCurrentFlag",
    "LocalDict",
    "LocalDictConfig",
    "MainStoreListing",
    "MemoStats",
    "MemoizedFunction",
    "MissingBackendError",
    "MutableDictCached",
    "MutableDictCachedConfig",
    "MutationPolicyError",
    "NeverRetrieveFlag",
    "NonEmptySafeStrTuple",
    "OperationResult",
    "OverlappingMultiDict",
    "OverlappingMultiDictConfig",
    "PersiDict",
    "PersiDictError",
    "RetrieveValueFlag",
    "S3Dict",
    "S3DictConfig",
    "S3Dict_FileDirCached",
    "SafeStrTuple",
    "SerializationError",
    "StoreConfig",
    "StoreUrl",
    "TransformingFunction",
    "ValueNotRetrievedFlag",
    "ValueType",
    "WriteOnceDict",
    "WriteOnceDictConfig",
    "contains_unsafe_chars",
    "deferred_config_class",
    "format_store_url",
    "get_codec",
    "get_safe_chars",
    "lazy_exports",
    "memoize",
    "open_store",
    "parameter_vocabulary",
    "register_codec",
    "register_json_class",
    "register_url_scheme",
    "replace_unsafe_chars",
    "sign_safe_str_tuple",
    "store_factory",
    "store_from_config",
    "unsign_safe_str_tuple",
]


def _missing_backend_error(name: str, distribution: str) -> ImportError:
    """Build the error raised when ``name``'s distribution is not installed."""
    message = (
        f"persidict.{name} is provided by the {distribution!r} distribution, which is not "
        f"installed. Install it with: pip install {distribution}"
    )
    try:
        from persidict_core import MissingBackendError
    except ImportError:  # persidict-core itself is missing: fall back to a plain ImportError.
        return ImportError(message, name=_LAZY_NAMES[name][0])
    error: ImportError = MissingBackendError(message)
    return error


def _installed_version() -> str:
    """Return the installed version of the ``persidict`` distribution."""
    from importlib.metadata import version

    return version("persidict")


def __getattr__(name: str) -> Any:
    """Import a public name from the package that defines it, on first access."""
    if name == "__version__":
        value: Any = _installed_version()
        globals()[name] = value
        return value
    try:
        module_name, distribution = _LAZY_NAMES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing in _DISTRIBUTION_OF_MODULE:
            raise _missing_backend_error(name, _DISTRIBUTION_OF_MODULE[missing]) from exc
        raise
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names (including those not imported yet) and ``__version__``."""
    return sorted([*__all__, "__version__"])
