"""`BasicS3Dict`: one S3 object per key, no local cache."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, TypeVar
from urllib.parse import quote

from persidict_core import (
    ETAG_HAS_NOT_CHANGED,
    ITEM_NOT_AVAILABLE,
    DeserializationError,
    EntryInfo,
    ETagHasNotChangedFlag,
    ETagValue,
    ItemNotAvailableFlag,
    KeyLike,
    PersiDict,
    SerializationError,
    deferred_config_class,
    format_store_url,
    to_key,
)
from persidict_safestr import NonEmptySafeStrTuple, SafeStrTuple, is_safe_str_element

from ._client import DEFAULT_MAX_POOL_CONNECTIONS, S3Connection, WriteConflict
from ._transfer import (
    DEFAULT_MULTIPART_CHUNKSIZE,
    DEFAULT_MULTIPART_CONCURRENCY,
    DEFAULT_MULTIPART_THRESHOLD,
    PartSettings,
    read_value,
    write_value,
)

if TYPE_CHECKING:
    from persidict_core import StoreConfig

    from ._config_models import BasicS3DictConfig

__all__ = ["BasicS3Dict", "S3Location", "content_type_of", "normalize_root_prefix", "s3_store_url"]

_CONTENT_TYPES: Final = {"pkl": "application/octet-stream", "json": "application/json"}
_TEXT_CONTENT_TYPE: Final = "text/plain; charset=utf-8"
_ABSENT: Final = object()
_LocationT = TypeVar("_LocationT", bound="S3Location")
_MAX_OBJECT_NAME: Final = 1024  # bytes of UTF-8: S3 refuses longer object names (KeyTooLongError)


def content_type_of(serialization_format: str) -> str:
    """Return the ``Content-Type`` of objects written in ``serialization_format``."""
    return _CONTENT_TYPES.get(serialization_format, _TEXT_CONTENT_TYPE)


def normalize_root_prefix(value: str) -> str:
    """Return ``value`` ending with ``/`` (the empty prefix stays empty)."""
    return value if not value or value.endswith("/") else value + "/"


def s3_store_url(config: BasicS3DictConfig, *, cache: bool) -> str:
    """Return the ``s3://`` URL of an S3 store's config (``cache=False``: ``?cache=none``)."""
    bucket = quote(config.bucket_name, safe="")
    prefix = quote(config.root_prefix, safe="/~()_-.=")
    url = format_store_url(
        f"s3://{bucket}/{prefix}".rstrip("/"),
        config,
        {"bucket_name": config.bucket_name, "root_prefix": config.root_prefix},
    )
    if cache:
        return url
    return url + ("&" if "?" in url else "?") + "cache=none"


class S3Location(PersiDict):
    """What the S3 stores share: the location's properties, URL and sub-dicts.

    A store sets ``_config`` (a `BasicS3DictConfig` or an extension of it) and ``_connection``
    (its `S3Connection`, shared with its sub-dicts).
    """

    _config: BasicS3DictConfig
    _connection: S3Connection

    @property
    def bucket_name(self) -> str:
        """The bucket holding the objects."""
        return self._config.bucket_name

    @property
    def region(self) -> str | None:
        """The region given to the constructor (None: boto3's default)."""
        return self._config.region

    @property
    def root_prefix(self) -> str:
        """Prefix of every object name (empty, or ending with ``/``)."""
        return self._config.root_prefix

    @property
    def endpoint_url(self) -> str:
        """The endpoint requests go to (AWS's, or that of an S3-compatible service)."""
        return self._connection.endpoint_url

    @property
    def base_url(self) -> str:
        """``s3://<bucket>/<root_prefix>``."""
        return f"s3://{self._config.bucket_name}/{self._config.root_prefix}"

    @property
    def max_pool_connections(self) -> int:
        """HTTP connection pool size and number of threads of bulk reads."""
        return self._connection.pool_size

    @property
    def connection(self) -> S3Connection:
        """The `S3Connection` (boto3 client and bulk-read thread pool) shared with sub-dicts."""
        return self._connection

    def subdict_at(self: _LocationT, prefix: SafeStrTuple) -> _LocationT:
        params = self._config.model_dump(exclude={"kind"})
        params["root_prefix"] = self._config.root_prefix + "/".join(prefix) + "/"
        # Both stores' constructors take their config's fields and a connection.
        reopen: Callable[..., _LocationT] = type(self)
        # The sub-dict shares the connection: no new client, no bucket check.
        return reopen(**params, connection=self._connection)


class BasicS3Dict(S3Location, PersiDict):
    """A persistent dict storing each value as an object in an S3 bucket.

    Key ``("a", "b")`` is the object ``<root_prefix>a/b.<format>``. ``len`` and iteration page
    through the listing without downloading values; `get_item_if_etag_changed` and
    `get_item_if` are conditional GETs, so an unchanged value is not transferred; append-only
    writes are conditional puts, so of two machines creating the same key exactly one succeeds.
    `set_item_if`, `setdefault_if`, `discard_if`, `transform_item`, `setdefault` and `pop` are
    S3 conditional requests (``If-Match`` / ``If-None-Match``), atomic against every other
    writer; a retried request whose first attempt had landed is recognized by write ids kept
    in the objects' metadata and reported as the success it was.
    `get_many` (and iterating over ``items()`` or ``values()``) reads many values in
    parallel, on up to ``max_pool_connections`` threads.

    Credentials come from boto3's usual chain (environment variables, ``AWS_PROFILE``, shared
    files, SSO, instance roles) and are never part of the config.

    Args:
        bucket_name: The bucket; created if it does not exist (and permissions allow). Pass
            one for AWS: the default, ``"my_bucket"``, is kept for compatibility and works with
            moto and some S3-compatible services, but it is not a valid AWS bucket name
            (underscore), so AWS refuses to create it, with a `BackendError` that says so.
        region: AWS region (None: boto3's default).
        root_prefix: Prefix of every object name (a ``/`` is appended when missing).
        serialization_format: ``"pkl"`` (default), ``"json"``, or another name for plain text.
        append_only: If True, keys can be added but never changed or deleted.
        base_class_for_values: If set, every value must be an instance of this class.
        endpoint_url: URL of an S3-compatible service; None for AWS (boto3 honours the
            standard ``AWS_ENDPOINT_URL`` variable).
        client_config: botocore ``Config`` arguments (JSON-serializable dict) merged over our
            defaults: retry mode "standard" with up to 5 retries, 10 s connect and 60 s read timeouts.
        max_pool_connections: HTTP connection pool size and bulk-read parallelism.
        compression: ``"lz4"`` to compress ``pkl`` values.
        multipart_threshold: Values whose serialized size exceeds this many bytes (default
            8 MiB) are uploaded in parts and read back in parallel ranges, streamed through a
            temporary file (``pkl``: pickled straight into it), so they never sit in memory
            as bytes; the reads check the length and the CRC32 of what arrived.
        multipart_chunksize: Part size in bytes (default 8 MiB, at least 5 MiB, at most
            5 GiB); larger for values that would otherwise need more than 10,000 parts.
        multipart_concurrency: Parts transferred at once by one read or write (default 8).
        connection: An open `S3Connection` to the same bucket to share (sub-dicts pass their
            parent's: no new client, no bucket check); None (default) opens a new one.
        **other_params: Other names of the shared parameter vocabulary (``base_dir``, ...) are
            ignored; unknown names are a `ValidationError`.

    Raises:
        pydantic.ValidationError: An invalid parameter.
        persidict_core.BackendError: The bucket cannot be reached or created (missing
            credentials, a name S3 refuses, a name owned by another account, ...).
    """

    # Pickles name the class by its public home, so they survive moves between private modules.
    __module__ = "persidict_s3"

    config_class: ClassVar[type[StoreConfig]] = deferred_config_class(
        "persidict_s3._config_models:BasicS3DictConfig", "basic_s3_dict"
    )
    # S3 evaluates If-Match / If-None-Match and writes (or deletes) in one step.
    atomic_conditional_writes: ClassVar[bool] = True
    # An S3 ETag is the MD5 of the body: rewriting the same bytes gives the same ETag.
    strong_etags: ClassVar[bool] = False
    _config: BasicS3DictConfig

    def __init__(
        self,
        bucket_name: str = "my_bucket",
        region: str | None = None,
        root_prefix: str = "",
        serialization_format: str = "pkl",
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
                serialization_format=serialization_format,
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
        from ._config_models import BasicS3DictConfig

        assert isinstance(config, BasicS3DictConfig)
        if connection is None:
            connection = S3Connection(
                config.bucket_name,
                config.region,
                config.endpoint_url,
                config.client_config,
                config.max_pool_connections,
            )
            connection.ensure_bucket()
        elif not isinstance(connection, S3Connection) or connection.bucket_name != config.bucket_name:
            raise ValueError(
                f"connection must be an S3Connection to the bucket {config.bucket_name!r}, got {connection!r}"
            )
        super().__init__(config)
        self._connection = connection
        self._root_prefix: str = config.root_prefix
        self._extension: str = "." + self._format
        self._content_type: str = content_type_of(self._format)
        self._compression: str | None = config.compression
        self._parts = PartSettings(
            config.multipart_threshold, config.multipart_chunksize, config.multipart_concurrency
        )

    # ----------------------------------------------------------------- names
    def object_name(self, key: KeyLike) -> str:
        """Return the S3 object name of ``key`` (``<root_prefix>a/b.<format>``)."""
        return self._object_name(to_key(key))

    def _object_name(self, key: SafeStrTuple) -> str:
        name = self._root_prefix + "/".join(key) + self._extension
        if len(name) > _MAX_OBJECT_NAME // 4 and len(name.encode("utf-8")) > _MAX_OBJECT_NAME:
            raise ValueError(
                f"Key {repr(tuple(key))[:200]} is too long for S3: its object name would have "
                f"{len(name.encode('utf-8'))} bytes, S3 allows {_MAX_OBJECT_NAME}"
            )
        return name

    def _url_of(self, name: str) -> str:
        return f"s3://{self.bucket_name}/{name}"

    def _context(self, key: SafeStrTuple, name: str) -> Callable[[], str]:
        """What names a key's value in an error message, formatted only if an error is raised."""
        return lambda: f"key {tuple(key)!r} in {self._url_of(name)}"

    # ----------------------------------------------------------------- primitives
    def read_entry(self, key: NonEmptySafeStrTuple) -> tuple[Any, str]:
        """One GET (ranged GETs in parallel for a large object): the value and its ETag."""
        result = self._read_value(key, None)
        if not isinstance(result, tuple):  # absent (no ETag to compare: never NOT_MODIFIED)
            raise KeyError(key)
        return result

    def read_entry_if_changed(
        self, key: NonEmptySafeStrTuple, etag: str
    ) -> tuple[Any, str] | ETagHasNotChangedFlag:
        """One GET with ``If-None-Match``: an unchanged object is answered 304, with no body."""
        result = self._read_value(key, etag)
        if result is None:
            raise KeyError(key)
        if not isinstance(result, tuple):
            return ETAG_HAS_NOT_CHANGED
        return result

    def _read_value(
        self, key: NonEmptySafeStrTuple, if_etag_differs: str | None
    ) -> tuple[Any, str] | object | None:
        """``(value, etag)``, `NOT_MODIFIED` (the ETag is still ``if_etag_differs``) or None (absent)."""
        name = self._object_name(key)
        try:
            return read_value(
                self._connection,
                name,
                if_etag_differs,
                self._format,
                settings=self._parts,
                context=self._context(key, name),
                key=key,
            )
        except DeserializationError as exc:
            exc.key, exc.location = key, self._url_of(name)
            raise

    def write_entry(self, key: NonEmptySafeStrTuple, value: Any, *, only_if_absent: bool = False) -> str:
        if only_if_absent:
            etag = self.write_entry_if_etag(key, value, ITEM_NOT_AVAILABLE)
            if etag is None:
                raise self._refuse_mutation(key, "overwrite")
            return etag
        result = self._put(key, value)
        assert isinstance(result, str)  # an unconditional put is never refused
        return result

    def write_entry_if_etag(
        self, key: NonEmptySafeStrTuple, value: Any, expected_etag: ETagValue | ItemNotAvailableFlag
    ) -> ETagValue | None:
        # One conditional request: S3 checks the condition and writes in one step. A refused
        # retry of an attempt that had landed is recognized by the connection (write ids).
        if expected_etag is ITEM_NOT_AVAILABLE:
            result = self._put(key, value, if_absent=True)
        else:
            assert isinstance(expected_etag, str)
            result = self._put(key, value, if_match=expected_etag)
        return None if isinstance(result, WriteConflict) else result

    def _put(
        self, key: NonEmptySafeStrTuple, value: Any, *, if_absent: bool = False, if_match: str | None = None
    ) -> str | WriteConflict:
        """Write ``value`` (in parts above the multipart threshold), optionally on a condition."""
        name = self._object_name(key)
        try:
            return write_value(
                self._connection,
                name,
                value,
                self._format,
                compression=self._compression,
                content_type=self._content_type,
                settings=self._parts,
                if_absent=if_absent,
                if_match=if_match,
                context=self._context(key, name),
                key=key,
            )
        except SerializationError as exc:
            exc.key, exc.location = key, self._url_of(name)
            raise

    def delete_entry(self, key: NonEmptySafeStrTuple) -> bool:
        name = self._object_name(key)
        if self._connection.head(name, key=key) is None:
            return False
        self._connection.delete(name, key=key)
        return True

    def delete_entry_if_etag(self, key: NonEmptySafeStrTuple, expected_etag: ETagValue) -> bool:
        # One conditional DELETE: 412 (another ETag), 404 (absent) and 409 (a concurrent
        # request won) delete nothing.
        result = self._connection.delete_if_match(self._object_name(key), expected_etag, key=key)
        if result is None:
            return True
        # A retry answered 404: our first attempt deleted the object and its reply was lost.
        # (A deleter racing with us for the same version in that very window is
        # indistinguishable: S3 keeps no trace of who deleted an object.)
        return result.retried and result.status == 404

    def has_entry(self, key: NonEmptySafeStrTuple) -> bool:
        return self._connection.head(self._object_name(key), key=key) is not None

    def _head(self, key: NonEmptySafeStrTuple) -> tuple[str, float]:
        result = self._connection.head(self._object_name(key), key=key)
        if result is None:
            raise KeyError(key)
        return result

    def entry_timestamp(self, key: NonEmptySafeStrTuple) -> float:
        return self._head(key)[1]

    def entry_etag(self, key: NonEmptySafeStrTuple) -> str:
        return self._head(key)[0]

    # ----------------------------------------------------------------- listing
    def _listed_pages(self) -> Iterator[list[tuple[NonEmptySafeStrTuple, str, float]]]:
        """Yield pages of ``(key, object name, timestamp)``, skipping foreign objects."""
        make_key = NonEmptySafeStrTuple.from_trusted_strings
        extension = self._extension
        start, cut = len(self._root_prefix), -len(extension)
        for page in self._connection.list_pages(self._root_prefix):
            entries = []
            for name, timestamp in page:
                if not name.endswith(extension):
                    continue
                elements = name[start:cut].split("/")
                if all(is_safe_str_element(element) for element in elements):
                    entries.append((make_key(elements), name, timestamp))
            yield entries

    def list_entries(self) -> Iterator[EntryInfo]:
        """Iterate over `EntryInfo` of every key, from the listing alone (no object is read)."""
        make_key = NonEmptySafeStrTuple.from_trusted_strings
        extension = self._extension
        start, cut = len(self._root_prefix), -len(extension)
        for page in self._connection.list_object_pages(self._root_prefix):
            for name, timestamp, size, etag in page:
                if not name.endswith(extension):
                    continue
                elements = name[start:cut].split("/")
                if all(is_safe_str_element(element) for element in elements):
                    yield EntryInfo(make_key(elements), size, timestamp, etag)

    def read_bytes(self, key: KeyLike) -> bytes:
        """Return the object of ``key`` as stored, undecoded (KeyError if absent)."""
        k = to_key(key)
        result = self._connection.get(self._object_name(k))
        if result is None:
            raise KeyError(k)
        assert isinstance(result, tuple)
        return result[0]

    def to_url(self) -> str:
        """Return ``s3://<bucket>/<root_prefix>?cache=none`` plus the non-default parameters."""
        return s3_store_url(self._config, cache=False)

    def iter_entry_keys(self) -> Iterator[NonEmptySafeStrTuple]:
        for page in self._listed_pages():
            for key, _, _ in page:
                yield key

    def count_entries(self) -> int:
        return sum(len(page) for page in self._listed_pages())

    def _fetch(self, key: NonEmptySafeStrTuple) -> Any:
        """Read one value for bulk reads: the value, or `_ABSENT` if the key vanished."""
        try:
            value, _ = self.read_entry(key)
        except KeyError:
            return _ABSENT
        return value

    def iter_entries(
        self, with_values: bool, with_timestamps: bool
    ) -> Iterator[tuple[NonEmptySafeStrTuple, Any, float | None]]:
        for page in self._listed_pages():
            if not with_values:
                for key, _, timestamp in page:
                    yield key, None, timestamp if with_timestamps else None
                continue
            keys = [key for key, _, _ in page]
            if len(keys) == 1:
                values: Iterable[Any] = [self._fetch(keys[0])]
            else:
                # Parallel reads, yielded in listing order as they arrive.
                values = self._connection.executor.map(self._fetch, keys)
            for (key, _, timestamp), value in zip(page, values, strict=True):
                if value is not _ABSENT:
                    yield key, value, timestamp if with_timestamps else None

    def get_many(self, keys: Iterable[KeyLike]) -> dict[NonEmptySafeStrTuple, Any]:
        """Read many keys in parallel; return ``{key: value}`` for those present.

        Requests run on up to ``max_pool_connections`` threads, so reading N keys takes
        about N / max_pool_connections round trips instead of N. Absent keys are left out.

        Raises:
            ValueError, TypeError: A key is invalid.
            TypeError: A stored value is not an instance of ``base_class_for_values``.
            persidict_core.BackendError: S3 failed.
        """
        unique = list(dict.fromkeys(to_key(key) for key in keys))
        if len(unique) <= 1:
            values: Iterable[Any] = [self._fetch(key) for key in unique]
        else:
            values = self._connection.executor.map(self._fetch, unique)
        return {
            key: self._checked_read_value(key, value)
            for key, value in zip(unique, values, strict=True)
            if value is not _ABSENT
        }

    def clear_entries(self) -> None:
        names = [name for page in self._listed_pages() for _, name, _ in page]
        self._connection.delete_many(names)
