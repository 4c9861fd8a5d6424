"""persidict-s3: persistent dicts on AWS S3 and S3-compatible services.

Public API:

* `BasicS3Dict`: one S3 object per key, no local cache; `BasicS3DictConfig` describes it;
* `S3Dict` (also named `S3Dict_FileDirCached`): a `BasicS3Dict` with a local file cache
  validated by ETag; `S3DictConfig` describes it.

Every store takes ``endpoint_url`` (MinIO, Ceph, R2, moto) and an optional botocore
``client_config``. boto3 and pydantic are imported when the first store is created, not by
this import.
"""

from typing import TYPE_CHECKING, Any

from ._basic_s3_dict import BasicS3Dict
from ._s3_dict import S3Dict, S3Dict_FileDirCached
from ._version import __version__

if TYPE_CHECKING:
    from ._config_models import BasicS3DictConfig, S3DictConfig

_CONFIG_MODELS = frozenset({"BasicS3DictConfig", "S3DictConfig"})


def __getattr__(name: str) -> Any:
    # The config models are imported on first use: importing the stores imports no pydantic.
    if name in _CONFIG_MODELS:
        from . import _config_models

        value = getattr(_config_models, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BasicS3Dict",
    "BasicS3DictConfig",
    "S3Dict",
    "S3DictConfig",
    "S3Dict_FileDirCached",
    "__version__",
]
