"""persidict-multi: several persidict stores, one per serialization format, over one location.

Public API (everything else lives in private modules):

* `OverlappingMultiDict`: builds one store of a given type per format (``multi.json``,
  ``multi.pkl``, ``multi.txt``, ...) from shared and per-format parameters;
* `OverlappingMultiDictConfig`: its configuration, which reopens the whole group elsewhere;
* ``__version__``: the version of the persidict-multi distribution.

Importing this package registers the store kind ``"overlapping_multi_dict"``, so
`persidict_core.store_from_config` opens these configs too.
"""

from ._overlapping_multi_dict import OverlappingMultiDict, OverlappingMultiDictConfig
from ._version import __version__

__all__ = ["OverlappingMultiDict", "OverlappingMultiDictConfig", "__version__"]
