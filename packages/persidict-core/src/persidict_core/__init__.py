"""persidict-core: the `PersiDict` base class, its local stores, jokers, errors and configs.

Public API (everything else lives in private modules):

* stores: `PersiDict` (abstract base), `FileDirDict`, `LocalDict`, `EmptyDict`;
* jokers and flags: `KEEP_CURRENT`, `DELETE_CURRENT`, `ETAG_HAS_NOT_CHANGED` and their classes;
* conditional operations: the condition and retrieval flags (`ETAG_IS_THE_SAME`, ...), the
  sentinels `ITEM_NOT_AVAILABLE` and `VALUE_NOT_RETRIEVED`, the result dataclasses and types;
* errors: `PersiDictError` and its subclasses, each also a builtin exception
  (`MutationPolicyError` is a `KeyError` and a `TypeError`, `BackendError` a `RuntimeError`, ...);
* configuration: `StoreConfig`, each store's config class, `store_from_config`,
  `store_factory`, `register_store_kind`, the parameter vocabulary (`parameter_vocabulary`,
  `KNOWN_PARAMETER_NAMES`), `NestedStoreConfig` (for wrapper configs), `deferred_config_class`
  (a store's config model imported on first use, so that importing the store loads no pydantic);
* store URLs: `open_store` (``./data``, ``file://``, ``memory://``, ``s3://``, ``@config.json``),
  `PersiDict.to_url`, `register_url_scheme` for other backends' schemes, `StoreUrl`,
  `format_store_url`;
* `EntryInfo`, what `PersiDict.list_entries` yields (size, timestamp, etag without reading);
* serialization formats: `Codec`, `register_codec`, `get_codec` (the format registry) and
  `register_json_class` (classes the data-only ``json`` format may hold);
* `to_key`, which normalizes any key to a `NonEmptySafeStrTuple`;
* `lazy_exports`, a package's ``__getattr__`` that imports some public names on first access.

The reusable conformance test-suite every store runs is `persidict_core.testing`.
"""

from typing import TYPE_CHECKING

from ._conditional import (
    ALWAYS_RETRIEVE,
    ANY_ETAG,
    ETAG_HAS_CHANGED,
    ETAG_IS_THE_SAME,
    IF_ETAG_CHANGED,
    ITEM_NOT_AVAILABLE,
    NEVER_RETRIEVE,
    VALUE_NOT_RETRIEVED,
    AlwaysRetrieveFlag,
    AnyETagFlag,
    ConditionalOperationResult,
    ETagConditionFlag,
    ETagHasChangedFlag,
    ETagIfExists,
    ETagIsTheSameFlag,
    ETagValue,
    IfETagChangedRetrieveFlag,
    ItemNotAvailableFlag,
    NeverRetrieveFlag,
    OperationResult,
    RetrieveValueFlag,
    TransformingFunction,
    ValueNotRetrievedFlag,
    ValueType,
)
from ._config import (
    KNOWN_PARAMETER_NAMES,
    config_from_data,
    deferred_config_class,
    parameter_vocabulary,
    register_store_kind,
    store_factory,
    store_from_config,
)
from ._errors import (
    BackendError,
    ConcurrencyConflictError,
    ConsistencyCheckError,
    DeserializationError,
    MissingBackendError,
    MutationPolicyError,
    PersiDictError,
    SerializationError,
)
from ._file_dir_dict import FileDirDict
from ._jokers import (
    DELETE_CURRENT,
    ETAG_HAS_NOT_CHANGED,
    KEEP_CURRENT,
    DeleteCurrentFlag,
    ETagHasNotChangedFlag,
    Joker,
    KeepCurrentFlag,
    StatusFlag,
)
from ._json_codec import register_json_class
from ._lazy import lazy_exports
from ._persidict import EntryInfo, KeyLike, PersiDict, to_key
from ._serialization import (
    Codec,
    deserialize,
    deserialize_from,
    get_codec,
    is_text_format,
    register_codec,
    serialize,
    serialize_to,
)
from ._version import __version__

if TYPE_CHECKING:
    from ._config_models import (
        EmptyDictConfig,
        FileDirDictConfig,
        LocalDictConfig,
        LocalDirPath,
        NestedStoreConfig,
        StoreConfig,
        ValueClass,
    )
    from ._empty_dict import EmptyDict
    from ._local_dict import LocalDict, LocalDictBackend
    from ._urls import StoreUrl, format_store_url, open_store, register_url_scheme

# Imported on first access (PEP 562), so that importing FileDirDict does no more than it needs:
# the config models are pydantic models (pydantic is the largest part of the import time), the
# other stores and store URLs are modules of their own (URLs need urllib.parse).
_LAZY_NAMES: dict[str, str] = {
    "EmptyDictConfig": "_config_models",
    "FileDirDictConfig": "_config_models",
    "LocalDictConfig": "_config_models",
    "LocalDirPath": "_config_models",
    "NestedStoreConfig": "_config_models",
    "StoreConfig": "_config_models",
    "ValueClass": "_config_models",
    "EmptyDict": "_empty_dict",
    "LocalDict": "_local_dict",
    "LocalDictBackend": "_local_dict",
    "StoreUrl": "_urls",
    "format_store_url": "_urls",
    "open_store": "_urls",
    "register_url_scheme": "_urls",
}

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
    "VALUE_NOT_RETRIEVED",
    "AlwaysRetrieveFlag",
    "AnyETagFlag",
    "BackendError",
    "Codec",
    "ConcurrencyConflictError",
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
    "KeyLike",
    "LocalDict",
    "LocalDictBackend",
    "LocalDictConfig",
    "LocalDirPath",
    "MissingBackendError",
    "MutationPolicyError",
    "NestedStoreConfig",
    "NeverRetrieveFlag",
    "OperationResult",
    "PersiDict",
    "PersiDictError",
    "RetrieveValueFlag",
    "SerializationError",
    "StatusFlag",
    "StoreConfig",
    "StoreUrl",
    "TransformingFunction",
    "ValueClass",
    "ValueNotRetrievedFlag",
    "ValueType",
    "__version__",
    "config_from_data",
    "deferred_config_class",
    "deserialize",
    "deserialize_from",
    "format_store_url",
    "get_codec",
    "is_text_format",
    "lazy_exports",
    "open_store",
    "parameter_vocabulary",
    "register_codec",
    "register_json_class",
    "register_store_kind",
    "register_url_scheme",
    "serialize",
    "serialize_to",
    "store_factory",
    "store_from_config",
    "to_key",
]


__getattr__ = lazy_exports(__name__, _LAZY_NAMES)


def __dir__() -> list[str]:
    """List the public names, including those not imported yet."""
    return sorted(set(globals()) | set(__all__))
