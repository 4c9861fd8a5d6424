"""persidict-s3: persistent dicts on AWS S3 and S3-compatible services.

Public API:

* `BasicS3Dict`: one S3 object per key, no local cache; `BasicS3DictConfig` describes it;
* `S3Dict` (also named `S3Dict_FileDirCached`): a `BasicS3Dict` with a local file cache
  validated by ETag; `S3DictConfig` describes it.

Importing this package registers the ``s3://bucket/prefix`` scheme of store URLs
(``persidict_core.open_store``): an `S3Dict`, or a `BasicS3Dict` with ``?cache=none``.

Every store takes ``endpoint_url`` (MinIO, Ceph, R2, moto) and an optional botocore
``client_config``. boto3 is imported when the first store is created, not by this import.
"""

from typing import TYPE_CHECKING

from persidict_core import lazy_exports

from . import _url_scheme  # noqa: F401  (registers the s3:// scheme of store URLs)
from ._basic_s3_dict import BasicS3Dict
from ._s3_dict import S3Dict, S3Dict_FileDirCached
from ._version import __version__

if TYPE_CHECKING:
    from ._config_models import BasicS3DictConfig, S3DictConfig

# The configs are pydantic models: imported on first access (PEP 562), so that importing a
# store does not load pydantic.
_CONFIG_MODELS = frozenset({"BasicS3DictConfig", "S3DictConfig"})

__all__ = [
    "BasicS3Dict",
    "BasicS3DictConfig",
    "S3Dict",
    "S3DictConfig",
    "S3Dict_FileDirCached",
    "__version__",
]


__getattr__ = lazy_exports(__name__, dict.fromkeys(_CONFIG_MODELS, "_config_models"))
