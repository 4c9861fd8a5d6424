"""persidict-cache: caching and write-once wrappers over any persidict store.

Public API (everything else lives in private modules):

* `MutableDictCached`: serves values from a local cache while the main store's ETag is
  unchanged; writes and deletes go through to the main store;
* `AppendOnlyDictCached`: a cache in front of an append-only store, trusted without asking it;
* `WriteOnceDict`: the first write of a key wins; later writes are ignored or, with a given
  probability, compared with the stored value;
* `memoize`: a decorator keeping a function's results in any store, computed once across
  threads, processes and machines (`MemoizedFunction` is what it returns, `MemoStats` its counts);
* their configs: `MutableDictCachedConfig`, `AppendOnlyDictCachedConfig`, `WriteOnceDictConfig`;
* building blocks of wrappers: `ConditionalDelegation` (conditional operations handed whole
  to the wrapped store) and `MainStoreListing` (timestamps, ETags and listings of the wrapped store);
* `__version__`.

Each wrapper is a `persidict_core.PersiDict` with the full API; its config nests the configs of
the stores it wraps.
"""

from typing import TYPE_CHECKING

from persidict_core import lazy_exports

from ._append_only_dict_cached import AppendOnlyDictCached
from ._common import ConditionalDelegation, MainStoreListing
from ._memoize import MemoizedFunction, MemoStats, memoize
from ._mutable_dict_cached import MutableDictCached
from ._version import __version__
from ._write_once_dict import WriteOnceDict

if TYPE_CHECKING:
    from ._config_models import AppendOnlyDictCachedConfig, MutableDictCachedConfig, WriteOnceDictConfig

# The configs are pydantic models: imported on first access (PEP 562), so that importing a
# wrapper does not load pydantic.
_CONFIG_MODELS = frozenset({"AppendOnlyDictCachedConfig", "MutableDictCachedConfig", "WriteOnceDictConfig"})

__all__ = [
    "AppendOnlyDictCached",
    "AppendOnlyDictCachedConfig",
    "ConditionalDelegation",
    "MainStoreListing",
    "MemoStats",
    "MemoizedFunction",
    "MutableDictCached",
    "MutableDictCachedConfig",
    "WriteOnceDict",
    "WriteOnceDictConfig",
    "__version__",
    "memoize",
]


__getattr__ = lazy_exports(__name__, dict.fromkeys(_CONFIG_MODELS, "_config_models"))
