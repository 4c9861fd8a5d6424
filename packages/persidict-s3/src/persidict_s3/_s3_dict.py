"""`S3Dict` (alias `S3Dict_FileDirCached`): a `BasicS3Dict` with a local file cache."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import urlsplit

from persidict_cache import AppendOnlyDictCached, ConditionalDelegation, MainStoreListing, MutableDictCached
from persidict_core import (
    EntryInfo,
    ETagHasNotChangedFlag,
    FileDirDict,
    KeyLike,
    PersiDict,
    deferred_config_class,
    to_key,
)
from persidict_safestr import NonEmptySafeStrTuple, is_safe_str_element

from ._basic_s3_dict import BasicS3Dict, S3Location, s3_store_url
from ._client import DEFAULT_MAX_POOL_CONNECTIONS, S3Connection
from ._transfer import DEFAULT_MULTIPART_CHUNKSIZE, DEFAULT_MULTIPART_CONCURRENCY, DEFAULT_MULTIPART_THRESHOLD

if TYPE_CHECKING:
    from persidict_core import StoreConfig

    from ._config_models import S3DictConfig

__all__ = ["S3Dict", "S3Dict_FileDirCached"]

_ABSENT = object()


def _endpoint_label(endpoint_url: str) -> str:
    """Name of the cache folder of an endpoint: ``aws`` for AWS, else its host and port."""
    host = urlsplit(endpoint_url).netloc or endpoint_url
    if host.rsplit(":", 1)[0].endswith(".amazonaws.com"):
        return "aws"
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in host) or "endpoint"


def _path_element(segment: str) -> str:
    """A prefix segment as a folder name: itself when safe, else a digest (never ``..``)."""
    if is_safe_str_element(segment):
        return segment
    return "~" + hashlib.md5(segment.encode("utf-8")).hexdigest()[:16]


def cache_dir_of(base_dir: str, endpoint_url: str, bucket_name: str, root_prefix: str) -> str:
    """Return the local cache folder of a store: ``base_dir/<endpoint>/<bucket>/<root_prefix>``."""
    segments = root_prefix[:-1].split("/") if root_prefix else []
    return os.path.join(
        base_dir, _endpoint_label(endpoint_url), _path_element(bucket_name), *map(_path_element, segments)
    )


class S3Dict(ConditionalDelegation, MainStoreListing, S3Location, PersiDict):
    """A `BasicS3Dict` with a local file cache, validated by ETag.

    Values read or written are kept in a `FileDirDict` under
    ``base_dir/<endpoint>/<bucket>/<root_prefix>``, so stores of different endpoints, buckets
    or prefixes never share cached values. In the default (mutable) mode each read is a
    conditional GET: an unchanged value costs one small request and transfers no value bytes
    (a `MutableDictCached` with a second `FileDirDict` of ETags). In append-only mode values
    never change, so a cached value is served without any request (an `AppendOnlyDictCached`).
    ``len``, iteration, ``in`` and timestamps always ask S3, so keys written elsewhere are
    seen at once.

    Args:
        bucket_name: The bucket; created if it does not exist (and permissions allow). Pass
            one for AWS: the default, ``"my_bucket"``, is kept for compatibility and works with
            moto and some S3-compatible services, but it is not a valid AWS bucket name
            (underscore), so AWS refuses to create it, with a `BackendError` that says so.
        region: AWS region (None: boto3's default).
        root_prefix: Prefix of every object name (a ``/`` is appended when missing).
        base_dir: Root folder of the local cache.
        serialization_format: ``"pkl"`` (default), ``"json"``, or another name for plain text.
        digest_len: Hash suffix length of cached file names (case-insensitive file systems).
        append_only: If True, keys can be added but never changed or deleted.
        base_class_for_values: If set, every value must be an instance of this class.
        endpoint_url: URL of an S3-compatible service (MinIO, Ceph, R2, moto); None for AWS
            (boto3 honours the standard ``AWS_ENDPOINT_URL`` variable).
        client_config: botocore ``Config`` arguments (JSON-serializable dict) merged over our
            defaults (see `BasicS3Dict`).
        max_pool_connections: HTTP connection pool size and bulk-read parallelism.
        compression: ``"lz4"`` to compress ``pkl`` values in S3.
        multipart_threshold: Values larger than this many bytes go to S3 in parts and come
            back in parallel ranges (see `BasicS3Dict`).
        multipart_chunksize: Part size in bytes (5 MiB to 5 GiB).
        multipart_concurrency: Parts transferred at once by one read or write.
        connection: An open `S3Connection` to the same bucket to share (sub-dicts pass their
            parent's); None (default) opens a new one.
        **other_params: Other names of the shared parameter vocabulary are ignored; unknown
            names are a `ValidationError`.

    Raises:
        pydantic.ValidationError: An invalid parameter.
        persidict_core.BackendError: The bucket cannot be reached or created.
    """

    # Pickles name the class by its public home, so they survive moves between private modules.
    __module__ = "persidict_s3"

    config_class: ClassVar[type[StoreConfig]] = deferred_config_class(
        "persidict_s3._config_models:S3DictConfig", "s3_dict"
    )
    # Conditional operations are the BasicS3Dict's conditional requests (see there).
    atomic_conditional_writes: ClassVar[bool] = True
    strong_etags: ClassVar[bool] = False
    _config: S3DictConfig
    _main: BasicS3Dict

    def __init__(
        self,
        bucket_name: str = "my_bucket",
        region: str | None = None,
        root_prefix: str = "",
        base_dir: str | os.PathLike[str] = "__s3_dict__",
        serialization_format: str = "pkl",
        digest_len: int = 8,
        append_only: bool = False,
        base_class_for_values: type | None = None,
        *,
        endpoint_url: str | None = None,
        client_config: dict[str, Any] | None = None,
        max_pool_connections: int = DEFAULT_MAX_POOL_CONNECTIONS,
        compression: Literal["lz4"] | None = None,
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        multipart_chunksize: int = DEFAULT_MULTIPART_CHUNKSIZE,
        multipart_concurrency: int = DEFAULT_MULTIPART_CONCURRENCY,
        connection: S3Connection | None = None,
        **other_params: Any,
    ) -> None:
        config = self.make_config(
            dict(
                bucket_name=bucket_name,
                region=region,
                root_prefix=root_prefix,
                base_dir=base_dir,
                serialization_format=serialization_format,
                digest_len=digest_len,
                append_only=append_only,
                base_class_for_values=base_class_for_values,
                endpoint_url=endpoint_url,
                client_config=client_config,
                max_pool_connections=max_pool_connections,
                compression=compression,
                multipart_threshold=multipart_threshold,
                multipart_chunksize=multipart_chunksize,
                multipart_concurrency=multipart_concurrency,
                **other_params,
            )
        )
        from ._config_models import S3DictConfig

        assert isinstance(config, S3DictConfig)
        main = BasicS3Dict(**_main_params(config), connection=connection)
        super().__init__(config)
        self._main = main
        self._connection = main.connection
        self._cache_dir = cache_dir_of(
            config.base_dir, main.endpoint_url, config.bucket_name, config.root_prefix
        )
        self._data_cache = FileDirDict(
            self._cache_dir,
            serialization_format=config.serialization_format,
            digest_len=config.digest_len,
            base_class_for_values=config.base_class_for_values,
        )
        self._etag_cache: FileDirDict | None = None
        self._cached: MutableDictCached | AppendOnlyDictCached
        if config.append_only:
            self._cached = AppendOnlyDictCached(main, self._data_cache)
        else:
            self._etag_cache = FileDirDict(
                self._cache_dir,
                serialization_format=f"{config.serialization_format}_etag",
                digest_len=config.digest_len,
                base_class_for_values=str,
            )
            self._cached = MutableDictCached(main, self._data_cache, self._etag_cache)

    # ----------------------------------------------------------------- properties
    @property
    def main_dict(self) -> BasicS3Dict:
        """The uncached `BasicS3Dict` this store reads through."""
        return self._main

    @property
    def cached_dict(self) -> MutableDictCached | AppendOnlyDictCached:
        """The cache wrapper every operation is delegated to."""
        return self._cached

    @property
    def data_cache(self) -> FileDirDict:
        """The `FileDirDict` of cached values."""
        return self._data_cache

    @property
    def etag_cache(self) -> FileDirDict | None:
        """The `FileDirDict` of cached ETags (None in append-only mode, which needs none)."""
        return self._etag_cache

    @property
    def base_dir(self) -> str:
        """Absolute path of this store's cache folder (``base_dir/<endpoint>/<bucket>/<prefix>``)."""
        return self._cache_dir

    @property
    def digest_len(self) -> int:
        """Hash suffix length of the cache's file names."""
        return self._config.digest_len

    def object_name(self, key: KeyLike) -> str:
        """Return the S3 object name of ``key``."""
        return self._main.object_name(key)

    def read_bytes(self, key: KeyLike) -> bytes:
        """Return the S3 object of ``key`` as stored (read from S3, not from the cache)."""
        return self._main.read_bytes(key)

    def list_entries(self) -> Iterator[EntryInfo]:
        """Iterate over `EntryInfo` of every key, from the S3 listing alone."""
        return self._main.list_entries()

    def to_url(self) -> str:
        """Return ``s3://<bucket>/<root_prefix>`` plus the non-default parameters."""
        return s3_store_url(self._config, cache=True)

    # ----------------------------------------------------------------- reads
    def __getitem__(self, key: KeyLike) -> Any:
        """Return the value of ``key`` (append-only: a cached value makes no request at all)."""
        return self._cached[key]

    def get_many(self, keys: Iterable[KeyLike]) -> dict[NonEmptySafeStrTuple, Any]:
        """Read many keys in parallel through the cache; return ``{key: value}`` for those present.

        Requests run on up to ``max_pool_connections`` threads. Absent keys are left out.
        """
        unique = list(dict.fromkeys(to_key(key) for key in keys))

        def fetch(key: NonEmptySafeStrTuple) -> Any:
            try:
                return self._cached[key]
            except KeyError:
                return _ABSENT

        values: Iterable[Any] = (
            map(fetch, unique) if len(unique) <= 1 else self.connection.executor.map(fetch, unique)
        )
        return {key: value for key, value in zip(unique, values, strict=True) if value is not _ABSENT}

    # ----------------------------------------------------------------- conditional writes
    # ConditionalDelegation hands each to the cache wrapper, which hands it to the BasicS3Dict
    # (one conditional request: S3's own atomic step) and updates the local cache from the result.
    def _delegate(self) -> PersiDict:
        return self._cached

    # ----------------------------------------------------------------- primitives
    def read_entry(self, key: NonEmptySafeStrTuple) -> tuple[Any, str | None]:
        return self._cached.read_entry(key)

    def read_entry_if_changed(
        self, key: NonEmptySafeStrTuple, etag: str
    ) -> tuple[Any, str | None] | ETagHasNotChangedFlag:
        return self._cached.read_entry_if_changed(key, etag)

    def write_entry(
        self, key: NonEmptySafeStrTuple, value: Any, *, only_if_absent: bool = False
    ) -> str | None:
        return self._cached.write_entry(key, value, only_if_absent=only_if_absent)

    def delete_entry(self, key: NonEmptySafeStrTuple) -> bool:
        return self._cached.delete_entry(key)

    def has_entry(self, key: NonEmptySafeStrTuple) -> bool:
        return self._cached.has_entry(key)

    def clear_entries(self) -> None:
        self._cached.clear_entries()


def _main_params(config: S3DictConfig) -> dict[str, Any]:
    """The `BasicS3Dict` parameters of an `S3Dict` config."""
    from ._config_models import BasicS3DictConfig

    names = set(BasicS3DictConfig.model_fields) - {"kind"}
    return {name: getattr(config, name) for name in names}


S3Dict_FileDirCached = S3Dict
"""The name of `S3Dict` in the original persidict (an S3 store with a FileDirDict cache)."""
