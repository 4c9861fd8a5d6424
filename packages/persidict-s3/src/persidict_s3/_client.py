"""The S3 connection of a store: the only module that imports boto3 and botocore.

boto3 is imported when the first client is created, never at ``import persidict_s3``. Every
call to S3 goes through `S3Connection`, which also translates botocore's exceptions into
persidict's (one place for all of them):

* a missing object is reported by the return value (the stores raise `KeyError`);
* ``304 Not Modified``, ``412 Precondition Failed`` and ``409 ConditionalRequestConflict``
  (conditional requests) are reported by the return value;
* everything else (missing credentials, a missing or forbidden bucket, a name S3 refuses,
  throttling that outlasted the retries, an unreachable endpoint) is a
  `persidict_core.BackendError` whose message names the bucket and the key and says what to
  do next, with the botocore exception as ``__cause__``.

Credentials come only from boto3's usual chain (environment, shared files, SSO, instance
roles); they are never part of a config, a ``repr``, a pickle or an error message.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from persidict_core import BackendError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = [
    "DEFAULT_MAX_POOL_CONNECTIONS",
    "NOT_MODIFIED",
    "REPLACED_METADATA",
    "WRITE_ID_METADATA",
    "S3Connection",
    "WriteConflict",
    "botocore_config_kwargs",
    "new_write_id",
]

DEFAULT_MAX_POOL_CONNECTIONS: Final = 32
"""Default size of the HTTP connection pool (and of the thread pool of bulk reads)."""

_DEFAULT_CONFIG: Final[Mapping[str, Any]] = {
    "retries": {"mode": "standard", "max_attempts": 5},
    "connect_timeout": 10,
    "read_timeout": 60,
    "tcp_keepalive": True,
}

_NOT_FOUND_CODES: Final = frozenset({"404", "NoSuchKey", "NotFound"})
DEFAULT_BUCKET_NAME: Final = "my_bucket"
"""The stores' default ``bucket_name``: accepted by moto and some S3-compatible services, not by AWS."""
# AWS's rules for new bucket names: 3-63 lowercase letters, digits, dots and hyphens, starting
# and ending with a letter or digit, no "..".
_AWS_BUCKET_NAME: Final = re.compile(r"(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_FORBIDDEN_CODES: Final = frozenset({"403", "Forbidden", "AccessDenied", "AllAccessDisabled"})
_THROTTLING_CODES: Final = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "503",
    }
)


class _NotModified:
    """The answer of a conditional GET whose ETag still matches (HTTP 304)."""

    def __repr__(self) -> str:
        return "NOT_MODIFIED"


NOT_MODIFIED: Final = _NotModified()
"""Returned by `S3Connection.get` when the object's ETag equals ``if_none_match``."""

WRITE_ID_METADATA: Final = "persidict-write-id"
"""User metadata: the random id of the write that created the object (see `S3Connection.put`)."""

REPLACED_METADATA: Final = "persidict-replaced"
"""User metadata: write ids of the versions a conditional write replaced, newest first."""

_LINEAGE_DEPTH: Final = 48  # write ids kept in REPLACED_METADATA (17 bytes each; S3 allows 2 KB)
_LINEAGE_CACHE: Final = 4096  # (object, ETag) pairs whose write ids a connection remembers


def new_write_id() -> str:
    """A random id for one write (64 bits: unique among the writes of one object)."""
    return secrets.token_hex(8)


@dataclass(frozen=True)
class WriteConflict:
    """A conditional put or delete whose condition did not hold: nothing was changed.

    Attributes:
        retried: botocore had retried the request. Then the refusal may answer the retry of an
            attempt that did take effect before its reply was lost (the object is our own write,
            or the object we deleted is gone).
        status: 412 (the object's ETag did not match, or a create found it there), 404 (an
            ``If-Match`` found no object) or 409 (a concurrent request on the object won the
            race; S3 asks to try again).
    """

    retried: bool
    status: int = 412


def botocore_config_kwargs(
    client_config: Mapping[str, Any] | None, max_pool_connections: int
) -> dict[str, Any]:
    """Merge our defaults, ``max_pool_connections`` and the user's ``client_config``.

    The user's keys win; a user ``retries`` dict is merged into ours key by key, so
    ``{"retries": {"mode": "adaptive"}}`` keeps our ``max_attempts``.
    """
    merged: dict[str, Any] = {**_DEFAULT_CONFIG, "max_pool_connections": max_pool_connections}
    merged["retries"] = dict(_DEFAULT_CONFIG["retries"])
    for name, value in (client_config or {}).items():
        if name == "retries" and isinstance(value, Mapping):
            merged["retries"].update(value)
        else:
            merged[name] = value
    return merged


def _retry_attempts(exc: BaseException) -> int:
    """Return how many times botocore retried the request that ended in ``exc``."""
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return 0
    attempts = response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
    return attempts if isinstance(attempts, int) else 0


def _conflict(exc: BaseException) -> WriteConflict | None:
    """The `WriteConflict` a refused conditional request ended in, or None for other errors."""
    code, status = _error_code(exc)
    if code in {"PreconditionFailed", "412"} or status == 412:
        status = 412
    elif code == "ConditionalRequestConflict":
        status = 409
    elif code in _NOT_FOUND_CODES:  # never NoSuchBucket: that is an error
        status = 404
    else:
        return None
    return WriteConflict(retried=_retry_attempts(exc) > 0, status=status)


def _error_code(exc: BaseException) -> tuple[str, int | None]:
    """Return ``(S3 error code, HTTP status)`` of a botocore ``ClientError`` (``("", None)`` else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return "", None
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code, status if isinstance(status, int) else None


class S3Connection:
    """One boto3 S3 client bound to a bucket, shared by a store and its sub-dicts.

    Thread-safe (boto3 clients are); bulk reads run on a thread pool of
    ``max_pool_connections`` threads created on first use.

    Args:
        bucket_name: The bucket every request goes to.
        region: AWS region name, or None for boto3's default.
        endpoint_url: URL of an S3-compatible service, or None (boto3 then honours the
            standard ``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_S3`` variables, else AWS).
        client_config: botocore ``Config`` keyword arguments merged over our defaults.
        max_pool_connections: Size of the HTTP connection pool.

    Raises:
        ValueError: ``client_config`` holds something botocore's ``Config`` does not accept.
    """

    def __init__(
        self,
        bucket_name: str,
        region: str | None,
        endpoint_url: str | None,
        client_config: Mapping[str, Any] | None,
        max_pool_connections: int,
    ) -> None:
        import boto3  # the first client: import boto3 now, never at import persidict_s3
        from botocore.config import Config

        self.bucket_name = bucket_name
        kwargs = botocore_config_kwargs(client_config, max_pool_connections)
        try:
            config = Config(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"client_config is not valid botocore Config arguments: {exc}") from exc
        self.pool_size: int = int(kwargs["max_pool_connections"])
        try:
            self.client: S3Client = boto3.session.Session().client(
                "s3", region_name=region, endpoint_url=endpoint_url, config=config
            )
        except Exception as exc:
            raise self._translate(exc, "create_client", "create an S3 client for") from exc
        self.region: str | None = self.client.meta.region_name
        self.endpoint_url: str = self.client.meta.endpoint_url
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()
        # (object name, ETag) -> write ids of that version and of those it replaced, newest
        # first: what a conditional write over that version records as its lineage.
        self._lineage: OrderedDict[tuple[str, str], tuple[str, ...]] = OrderedDict()
        self._lineage_lock = threading.Lock()

    # ----------------------------------------------------------------- errors
    def _translate(
        self, exc: BaseException, operation: str, action: str, name: str | None = None, key: Any = None
    ) -> BackendError:
        """Build the `BackendError` for a failed request (the caller chains ``exc``).

        ``operation`` is the S3 API call (``"put_object"``...), ``action`` its wording in the
        message, ``name`` the object and ``key`` the store's key (when there is one).
        """
        from botocore import exceptions as bx

        where = f"bucket {self.bucket_name!r}" + (f", object {name!r}" if name is not None else "")
        code, status = _error_code(exc)
        if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError)):
            hint = (
                "no AWS credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "AWS_PROFILE, a shared credentials file, or run where an IAM role is available"
            )
        elif code == "NoSuchBucket":
            hint = "the bucket does not exist (was it deleted after the store was opened?)"
        elif code in _FORBIDDEN_CODES or status == 403:
            hint = f"access denied ({code}): check the credentials and the bucket's IAM/bucket policy"
        elif (
            code == "InvalidBucketName"
            or (isinstance(exc, bx.ParamValidationError) and "bucket" in str(exc).lower())
            or (status == 400 and not _AWS_BUCKET_NAME.fullmatch(self.bucket_name))
        ):
            hint = f"S3 refuses the bucket name {self.bucket_name!r}: pass a valid one as bucket_name=..."
            if self.bucket_name == DEFAULT_BUCKET_NAME:
                hint += (
                    f" ({DEFAULT_BUCKET_NAME!r} is the default, which is not a valid AWS bucket name: AWS "
                    "wants 3-63 lowercase letters, digits, dots and hyphens)"
                )
            hint += f"; {exc}"
        elif code in _THROTTLING_CODES or status == 503:
            hint = (
                f"S3 kept throttling ({code or status}) after every retry: lower the request rate, or "
                "raise client_config={'retries': {'max_attempts': ...}} or use mode 'adaptive'"
            )
        elif isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError)):
            hint = f"cannot reach the S3 endpoint ({type(exc).__name__}): check endpoint_url and the network"
        elif code:
            hint = f"S3 answered {code} (HTTP {status}): {exc}"
        else:
            hint = f"{type(exc).__name__}: {exc}"
        return BackendError(f"Cannot {action} {where}: {hint}", backend="s3", operation=operation, key=key)

    # ----------------------------------------------------------------- the bucket
    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist; fail clearly if it belongs to someone else.

        A 403 on HEAD is taken to mean "the bucket exists, with a restrictive policy": the
        store may still be allowed to read and write objects.
        """
        try:
            self.client.head_bucket(Bucket=self.bucket_name)
            return
        except Exception as exc:
            code, status = _error_code(exc)
            if code in _FORBIDDEN_CODES or status == 403:
                return
            if not (code in _NOT_FOUND_CODES or code == "NoSuchBucket" or status == 404):
                raise self._translate(exc, "head_bucket", "open") from exc
        self._create_bucket()

    def _create_bucket(self) -> None:
        kwargs: dict[str, Any] = {"Bucket": self.bucket_name}
        if self.region and self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self.client.create_bucket(**kwargs)
        except Exception as exc:
            code, _ = _error_code(exc)
            if code == "BucketAlreadyOwnedByYou":
                return  # created meanwhile by another process of ours
            if code == "BucketAlreadyExists":
                raise BackendError(
                    f"The bucket {self.bucket_name!r} does not exist in this account and its name is "
                    "taken by another AWS account: choose another bucket_name",
                    backend="s3",
                    operation="create_bucket",
                ) from exc
            raise self._translate(exc, "create_bucket", "create") from exc

    # ----------------------------------------------------------------- objects
    def _remember(self, name: str, etag: str, metadata: Mapping[str, str]) -> None:
        """Note the write ids of version ``etag`` of ``name`` (from a GET or HEAD answer)."""
        write_id = metadata.get(WRITE_ID_METADATA)
        if write_id:
            replaced = metadata.get(REPLACED_METADATA, "")
            self._note_lineage(name, etag, (write_id, *(replaced.split(",") if replaced else ())))

    def _note_lineage(self, name: str, etag: str, ids: tuple[str, ...]) -> None:
        with self._lineage_lock:
            self._lineage[name, etag] = ids[:_LINEAGE_DEPTH]
            self._lineage.move_to_end((name, etag))
            if len(self._lineage) > _LINEAGE_CACHE:
                self._lineage.popitem(last=False)

    def open_object(
        self, name: str, if_none_match: str | None = None, *, key: Any = None
    ) -> Mapping[str, Any] | _NotModified | None:
        """Start a GET: the response with its ``Body`` unread, `NOT_MODIFIED` or None (absent)."""
        try:
            if if_none_match:
                response = self.client.get_object(
                    Bucket=self.bucket_name, Key=name, IfNoneMatch=if_none_match
                )
            else:
                response = self.client.get_object(Bucket=self.bucket_name, Key=name)
        except Exception as exc:
            code, status = _error_code(exc)
            if status == 304 or code == "304":
                return NOT_MODIFIED
            if code in _NOT_FOUND_CODES:
                return None
            raise self._translate(exc, "get_object", "read", name, key) from exc
        self._remember(name, response["ETag"], response.get("Metadata", {}))
        return response

    def get(
        self, name: str, if_none_match: str | None = None, *, key: Any = None
    ) -> tuple[bytes, str] | _NotModified | None:
        """Return ``(body, etag)``, `NOT_MODIFIED` (the ETag still matches) or None (absent)."""
        response = self.open_object(name, if_none_match, key=key)
        if response is None or isinstance(response, _NotModified):
            return response
        try:
            body: bytes = response["Body"].read()
        except Exception as exc:
            raise self._translate(exc, "get_object", "read", name, key) from exc
        return body, response["ETag"]

    def _head_response(self, name: str, key: Any = None) -> Mapping[str, Any] | None:
        try:
            response = self.client.head_object(Bucket=self.bucket_name, Key=name)
        except Exception as exc:
            code, status = _error_code(exc)
            if code in _NOT_FOUND_CODES or status == 404:
                return None
            raise self._translate(exc, "head_object", "inspect", name, key) from exc
        self._remember(name, response["ETag"], response.get("Metadata", {}))
        return response

    def head(self, name: str, *, key: Any = None) -> tuple[str, float] | None:
        """Return ``(etag, last-modified POSIX seconds)``, or None when absent."""
        response = self._head_response(name, key)
        if response is None:
            return None
        return response["ETag"], float(int(response["LastModified"].timestamp()))

    def put(
        self,
        name: str,
        body: bytes,
        content_type: str,
        if_absent: bool = False,
        if_match: str | None = None,
        *,
        key: Any = None,
    ) -> str | WriteConflict:
        """Write the object and return its ETag.

        With ``if_absent`` the write is conditional on the object being absent
        (``IfNoneMatch="*"``); with ``if_match`` on its ETag being that one (``IfMatch``). A
        condition that does not hold gives a `WriteConflict` and writes nothing.

        Lost acknowledgements: botocore retries a request whose reply was lost (a 5xx, a
        dropped connection). If the first attempt had been applied, the retry of a
        conditional write finds the object changed and is refused, although the write
        succeeded. Every write therefore stores a random write id in the object's metadata,
        and a conditional write over a version we have read also stores the write ids of that
        version and of the ones it had replaced (up to 48). A refused retry then looks at the
        object: if it is our write, or was written over ours by writers who had read ours
        (conditional writes of this library), our write succeeded and its ETag is returned.
        """
        write_id, metadata, lineage = self.write_metadata(name, None if if_absent else if_match)
        kwargs: dict[str, Any] = {
            "Bucket": self.bucket_name,
            "Key": name,
            "Body": body,
            "ContentType": content_type,
            "Metadata": metadata,
        }
        if if_absent:
            kwargs["IfNoneMatch"] = "*"
        elif if_match is not None:
            kwargs["IfMatch"] = if_match
        try:
            response = self.client.put_object(**kwargs)
        except Exception as exc:
            conflict = _conflict(exc) if if_absent or if_match is not None else None
            if conflict is None:
                raise self._translate(exc, "put_object", "write", name, key) from exc
            if conflict.retried:
                etag = self.landed_etag(name, f'"{hashlib.md5(body).hexdigest()}"', write_id, key)
                if etag is not None:
                    return etag
            return conflict
        etag = response["ETag"]
        self.note_written(name, etag, write_id, lineage)
        return etag

    def write_metadata(self, name: str, if_match: str | None) -> tuple[str, dict[str, str], tuple[str, ...]]:
        """Return ``(write id, user metadata, lineage)`` for a new write of ``name``.

        A write over version ``if_match`` records the write ids of that version and of those
        it had replaced (the lineage), so a refused retry can still recognize its write.
        """
        write_id = new_write_id()
        metadata = {WRITE_ID_METADATA: write_id}
        lineage: tuple[str, ...] = ()
        if if_match is not None:
            with self._lineage_lock:
                lineage = self._lineage.get((name, if_match), ())
            if lineage:
                metadata[REPLACED_METADATA] = ",".join(lineage[: _LINEAGE_DEPTH - 1])
        return write_id, metadata, lineage

    def note_written(self, name: str, etag: str, write_id: str, lineage: tuple[str, ...]) -> None:
        """Remember the write ids of the version ``etag`` this connection has just written."""
        self._note_lineage(name, etag, (write_id, *lineage))

    def landed_etag(self, name: str, expected_etag: str, write_id: str, key: Any = None) -> str | None:
        """After a refused retry: the ETag of our write if an earlier attempt landed, else None.

        ``expected_etag`` is the ETag S3 gives the bytes we wrote (quoted): the MD5 of the
        body for a single-part put, the MD5 of the parts' MD5s and ``-<parts>`` for a
        multipart upload.
        """
        response = self._head_response(name, key)
        if response is None:
            return None  # deleted since, or never written: nothing shows it was ours
        metadata = response.get("Metadata", {})
        stored_id = metadata.get(WRITE_ID_METADATA, "")
        if stored_id == write_id or (not stored_id and response["ETag"] == expected_etag):
            return str(response["ETag"])  # (an object without an id comes from another tool)
        if write_id in metadata.get(REPLACED_METADATA, "").split(","):
            return expected_etag  # ours, and replaced since
        return None

    def translate(
        self, exc: BaseException, operation: str, action: str, name: str | None = None, key: Any = None
    ) -> BackendError:
        """Build the `BackendError` for a failed request (the caller chains ``exc``)."""
        return self._translate(exc, operation, action, name, key)

    def delete(self, name: str, *, key: Any = None) -> None:
        """Delete the object (no error when it is absent)."""
        try:
            self.client.delete_object(Bucket=self.bucket_name, Key=name)
        except Exception as exc:
            code, _ = _error_code(exc)
            if code in _NOT_FOUND_CODES:
                return
            raise self._translate(exc, "delete_object", "delete", name, key) from exc

    def delete_if_match(self, name: str, etag: str, *, key: Any = None) -> WriteConflict | None:
        """Delete the object only if its ETag is ``etag`` (``IfMatch``); None when deleted.

        An absent object is a `WriteConflict` with status 404 (S3 answers ``NoSuchKey`` to a
        conditional delete of a missing object), a different ETag one with status 412.
        """
        try:
            self.client.delete_object(Bucket=self.bucket_name, Key=name, IfMatch=etag)
        except Exception as exc:
            conflict = _conflict(exc)
            if conflict is not None:
                return conflict
            raise self._translate(exc, "delete_object", "delete", name, key) from exc
        return None

    def delete_many(self, names: list[str]) -> None:
        """Delete objects in batches of 1,000 (S3's limit per request)."""
        for start in range(0, len(names), 1000):
            batch = names[start : start + 1000]
            try:
                response = self.client.delete_objects(
                    Bucket=self.bucket_name,
                    Delete={"Objects": [{"Key": name} for name in batch], "Quiet": True},
                )
            except Exception as exc:
                raise self._translate(exc, "delete_objects", "delete objects in") from exc
            errors = [e for e in response.get("Errors", []) if e.get("Code") not in _NOT_FOUND_CODES]
            if errors:
                first = errors[0]
                raise BackendError(
                    f"Cannot delete {len(errors)} objects of bucket {self.bucket_name!r}, e.g. "
                    f"{first.get('Key')!r}: {first.get('Code')} {first.get('Message')}",
                    backend="s3",
                    operation="delete_objects",
                )

    def list_pages(self, prefix: str) -> Iterator[list[tuple[str, float]]]:
        """Yield pages of ``(object name, last-modified POSIX seconds)`` under ``prefix``."""
        for page in self.list_object_pages(prefix):
            yield [(name, timestamp) for name, timestamp, _, _ in page]

    def list_object_pages(self, prefix: str) -> Iterator[list[tuple[str, float, int, str]]]:
        """Yield pages of ``(object name, last-modified POSIX seconds, size, etag)`` under ``prefix``."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket_name, "Prefix": prefix}
        while True:
            try:
                response = self.client.list_objects_v2(**kwargs)
            except Exception as exc:
                raise self._translate(exc, "list_objects_v2", f"list prefix {prefix!r} of") from exc
            yield [
                (
                    entry["Key"],
                    float(int(entry["LastModified"].timestamp())),
                    int(entry.get("Size", 0)),
                    entry.get("ETag", ""),
                )
                for entry in response.get("Contents", ())
            ]
            token = response.get("NextContinuationToken")
            if not response.get("IsTruncated") or not token:
                return
            kwargs["ContinuationToken"] = token

    # ----------------------------------------------------------------- bulk
    @property
    def executor(self) -> ThreadPoolExecutor:
        """The thread pool of bulk reads (``pool_size`` threads, created on first use)."""
        if self._executor is None:
            with self._executor_lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(
                        max_workers=self.pool_size, thread_name_prefix=f"persidict-s3-{self.bucket_name}"
                    )
        return self._executor

    def __del__(self) -> None:
        executor = getattr(self, "_executor", None)
        if executor is not None:
            executor.shutdown(wait=False)
