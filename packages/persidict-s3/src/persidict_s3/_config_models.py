"""The pydantic models of the S3 stores' configs, imported on first use.

Importing a store class does not load pydantic (the largest part of the import time): the
stores name these models through `persidict_core.deferred_config_class`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, JsonValue, NonNegativeInt, PositiveInt, field_validator

from persidict_core import LocalDirPath, StoreConfig

from ._basic_s3_dict import normalize_root_prefix
from ._client import DEFAULT_MAX_POOL_CONNECTIONS
from ._transfer import (
    DEFAULT_MULTIPART_CHUNKSIZE,
    DEFAULT_MULTIPART_CONCURRENCY,
    DEFAULT_MULTIPART_THRESHOLD,
    MAX_PART_SIZE,
    MIN_PART_SIZE,
)

__all__ = ["BasicS3DictConfig", "S3DictConfig"]


class BasicS3DictConfig(StoreConfig):
    """Configuration of a `BasicS3Dict` (never holds credentials: boto3's chain provides them)."""

    # str, not a Literal: S3DictConfig extends this model with its own kind (checked by StoreConfig).
    kind: str = "basic_s3_dict"
    bucket_name: str = "my_bucket"
    """The bucket (created when missing). Its name is checked by botocore and S3; the default,
    ``"my_bucket"``, is not a valid AWS bucket name (AWS refuses to create it)."""
    region: str | None = None
    """AWS region of the bucket; None for boto3's default (``AWS_DEFAULT_REGION``, config file)."""
    root_prefix: str = ""
    """Prefix of every object name; stored ending with ``/`` when not empty."""
    endpoint_url: str | None = None
    """URL of an S3-compatible service (MinIO, Ceph, R2, moto); None for AWS or ``AWS_ENDPOINT_URL``."""
    client_config: dict[str, JsonValue] | None = None
    """botocore ``Config`` keyword arguments (retries, timeouts, ...) merged over our defaults."""
    max_pool_connections: PositiveInt = DEFAULT_MAX_POOL_CONNECTIONS
    """HTTP connections kept open to S3, and threads used by bulk reads (`get_many`, `items`)."""
    compression: Literal["lz4"] | None = None
    """Compress ``pkl`` values as lz4 frames (read back either way)."""
    multipart_threshold: PositiveInt = DEFAULT_MULTIPART_THRESHOLD
    """Values larger than this many bytes (serialized) are uploaded in parts and read back in
    parallel ranges, through a temporary file; smaller ones are one request each way."""
    multipart_chunksize: int = Field(DEFAULT_MULTIPART_CHUNKSIZE, ge=MIN_PART_SIZE, le=MAX_PART_SIZE)
    """Size of the parts (5 MiB to 5 GiB; raised for values that would need more than 10,000 parts)."""
    multipart_concurrency: PositiveInt = DEFAULT_MULTIPART_CONCURRENCY
    """Parts one read or write transfers at once."""

    @field_validator("root_prefix")
    @classmethod
    def _normalize_root_prefix(cls, value: str) -> str:
        return normalize_root_prefix(value)


class S3DictConfig(BasicS3DictConfig):
    """Configuration of an `S3Dict`: a `BasicS3DictConfig` plus where its local cache lives."""

    kind: str = "s3_dict"
    base_dir: LocalDirPath = "__s3_dict__"
    """Root of the local cache (absolute); each endpoint, bucket and prefix gets its own folder in it."""
    digest_len: NonNegativeInt = 8
    """Hash suffix length of the cache's file names (for case-insensitive file systems)."""
