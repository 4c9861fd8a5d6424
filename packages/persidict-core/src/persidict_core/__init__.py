"""persidict-core: the `PersiDict` base class, its local stores, jokers, errors and configs.

Public API (everything else lives in private modules):

* stores: `PersiDict` (abstract base), `FileDirDict`, `LocalDict`, `EmptyDict`;
* jokers and flags: `KEEP_CURRENT`, `DELETE_CURRENT`, `ETAG_HAS_NOT_CHANGED` and their classes;
* errors: `PersiDictError` and its subclasses, each also a builtin exception
  (`MutationPolicyError` is a `KeyError` and a `TypeError`, `BackendError` a `RuntimeError`, ...);
* configuration: `StoreConfig`, each store's config class, `store_from_config`,
  `KNOWN_PARAMETER_NAMES`, `NestedStoreConfig` (for wrapper configs);
* `to_key`, which normalizes any key to a `NonEmptySafeStrTuple`.

The reusable conformance test-suite every store runs is `persidict_core.testing`.
"""

from ._config import (
    KNOWN_PARAMETER_NAMES,
    LocalDirPath,
    NestedStoreConfig,
    StoreConfig,
    ValueClass,
    config_from_data,
    register_store_kind,
    store_from_config,
)
from ._empty_dict import EmptyDict, EmptyDictConfig
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
from ._file_dir_dict import FileDirDict, FileDirDictConfig
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
from ._local_dict import LocalDict, LocalDictBackend, LocalDictConfig
from ._persidict import KeyLike, PersiDict, to_key
from ._serialization import deserialize, is_text_format, serialize
from ._version import __version__

__all__ = [
    "DELETE_CURRENT",
    "ETAG_HAS_NOT_CHANGED",
    "KEEP_CURRENT",
    "KNOWN_PARAMETER_NAMES",
    "BackendError",
    "ConcurrencyConflictError",
    "ConsistencyCheckError",
    "DeleteCurrentFlag",
    "DeserializationError",
    "ETagHasNotChangedFlag",
    "EmptyDict",
    "EmptyDictConfig",
    "FileDirDict",
    "FileDirDictConfig",
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
    "PersiDict",
    "PersiDictError",
    "SerializationError",
    "StatusFlag",
    "StoreConfig",
    "ValueClass",
    "__version__",
    "config_from_data",
    "deserialize",
    "is_text_format",
    "register_store_kind",
    "serialize",
    "store_from_config",
    "to_key",
]
