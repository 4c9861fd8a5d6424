"""persidict-core: the `PersiDict` base class, its local stores, jokers, errors and configs.

Public API (everything else lives in private modules):

* stores: `PersiDict` (abstract base), `FileDirDict`, `LocalDict`, `EmptyDict`;
* jokers and flags: `KEEP_CURRENT`, `DELETE_CURRENT`, `ETAG_HAS_NOT_CHANGED` and their classes;
* errors: `PersiDictError` and its subclasses (see `persidict_core._errors` for the tree);
* configuration: `StoreConfig`, each store's config class, `store_from_config`,
  `KNOWN_PARAMETER_NAMES`, `NestedStoreConfig` (for wrapper configs);
* `to_key`, which normalizes any key to a `NonEmptySafeStrTuple`.

The reusable conformance test-suite every store runs is `persidict_core.testing`.
"""

from typing import TYPE_CHECKING, Any

from ._config import (
    KNOWN_PARAMETER_NAMES,
    config_from_data,
    register_store_kind,
    store_from_config,
)
from ._empty_dict import EmptyDict
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
from ._local_dict import LocalDict, LocalDictBackend
from ._persidict import KeyLike, PersiDict, to_key
from ._serialization import deserialize, is_text_format, serialize
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

# The pydantic models are imported on first use: `from persidict_core import FileDirDict`
# imports no pydantic (a store's config is built when the first store is).
_CONFIG_MODELS = frozenset(
    {
        "EmptyDictConfig",
        "FileDirDictConfig",
        "LocalDictConfig",
        "LocalDirPath",
        "NestedStoreConfig",
        "StoreConfig",
        "ValueClass",
    }
)


def __getattr__(name: str) -> Any:
    if name in _CONFIG_MODELS:
        from . import _config_models

        value = getattr(_config_models, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
