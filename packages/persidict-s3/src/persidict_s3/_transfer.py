"""Values of any size on S3: staged in a temporary file, uploaded in parts, read in ranges.

A value is serialized into a `_Staging` buffer, which stays in memory up to the multipart
threshold and moves to a temporary file beyond it (``pkl`` streams there with pickle protocol
5, so a large buffer is never copied into one big ``bytes`` object). A small value is one
``PutObject``, as before; a larger one is a multipart upload whose parts are read from the
file by each uploading thread, so memory stays small whatever the size. The part size grows
with the value so that no upload needs more than 10,000 parts (S3's limit), which is how a
value above 5 GB (the limit of one ``PutObject``) is stored.

Conditions: managed transfers (``boto3``'s ``upload_fileobj``) cannot carry ``If-None-Match``
or ``If-Match``, so the upload is made of the low-level calls and the condition goes on
``CompleteMultipartUpload``, where S3 evaluates it atomically against every other writer (a
``HEAD`` before the upload refuses a write that is already bound to fail without sending its
parts). The write id of the lost-acknowledgement check is in the upload's metadata, as for a
put, and the expected ETag of a multipart object (MD5 of the parts' MD5s) recognizes a
retried ``CompleteMultipartUpload`` whose first attempt had landed.

Reads: a GET whose ``ContentLength`` is above the threshold keeps streaming its first part
into a temporary file while the other parts are fetched in parallel with ranged GETs that
carry ``If-Match`` with the ETag of the first answer: a concurrent overwrite makes them fail
(412) and the read starts again, so a value is never assembled from two versions. Before the
value is returned its length is checked, and its CRC32 against the one recorded in the
object's metadata by the upload (or the full-object CRC32 S3 returns, when the object has
one); a mismatch also restarts the read. After `_READ_ATTEMPTS` attempts the read fails with
a `BackendError`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tempfile
import zlib
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO, Final, cast

from persidict_core import BackendError, DeserializationError, deserialize, deserialize_from, serialize_to

from ._client import NOT_MODIFIED, S3Connection, WriteConflict, _conflict, _error_code, _retry_attempts

__all__ = [
    "CRC32_METADATA",
    "DEFAULT_MULTIPART_CHUNKSIZE",
    "DEFAULT_MULTIPART_CONCURRENCY",
    "DEFAULT_MULTIPART_THRESHOLD",
    "MAX_OBJECT_SIZE",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "PartSettings",
    "part_size_for",
    "read_value",
    "write_value",
]

MIB: Final = 1 << 20
MIN_PART_SIZE: Final = 5 * MIB
"""S3's smallest part (every part but the last)."""
MAX_PART_SIZE: Final = 5 * (1 << 30)
"""S3's largest part (5 GiB)."""
MAX_PARTS: Final = 10_000
"""S3's limit of parts per upload."""
MAX_OBJECT_SIZE: Final = 5 * (1 << 40)
"""S3's largest object (5 TiB)."""
DEFAULT_MULTIPART_THRESHOLD: Final = 8 * MIB
DEFAULT_MULTIPART_CHUNKSIZE: Final = 8 * MIB
DEFAULT_MULTIPART_CONCURRENCY: Final = 8

CRC32_METADATA: Final = "persidict-crc32"
"""User metadata of a multipart object: the CRC32 of its bytes (8 hex digits)."""

_READ_ATTEMPTS: Final = 3
_CHUNK: Final = MIB  # bytes read from a response body at a time


@dataclass(frozen=True)
class PartSettings:
    """When and how values travel in parts.

    Attributes:
        threshold: Values (and objects) larger than this many bytes are uploaded in parts and
            read in ranges.
        chunksize: The part size (raised for values that would need more than 10,000 parts).
        concurrency: Parts transferred at once by one read or write.
    """

    threshold: int = DEFAULT_MULTIPART_THRESHOLD
    chunksize: int = DEFAULT_MULTIPART_CHUNKSIZE
    concurrency: int = DEFAULT_MULTIPART_CONCURRENCY


def part_size_for(size: int, chunksize: int) -> int:
    """Return the part size for an object of ``size`` bytes: ``chunksize``, or larger if needed.

    Raises:
        ValueError: ``size`` exceeds S3's largest object (5 TiB).
    """
    if size > MAX_OBJECT_SIZE:
        raise ValueError(f"{size} bytes exceed the largest S3 object ({MAX_OBJECT_SIZE} bytes, 5 TiB)")
    needed = -(-size // MAX_PARTS)
    part = max(chunksize, -(-needed // MIB) * MIB)  # whole MiB: parts of a round size
    return min(part, MAX_PART_SIZE)


# ----------------------------------------------------------------------------- staging
class _Staging:
    """A write-only buffer: in memory up to ``limit`` bytes, then a temporary file.

    Keeps the size and CRC32 of what was written. A write that would cross the limit moves
    the buffer to the file first, so a large buffer handed over by pickle goes to the file as
    it is, never into memory.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.crc = 0
        self._memory: io.BytesIO | None = io.BytesIO()
        self.file: BinaryIO | None = None

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        if self._memory is not None and self.size + len(view) > self.limit:
            self.file = cast(BinaryIO, tempfile.TemporaryFile(buffering=0))
            self._write_file(self._memory.getbuffer())
            self._memory = None
        if self._memory is not None:
            self._memory.write(view)
        else:
            self._write_file(view)
        self.crc = zlib.crc32(view, self.crc)
        self.size += len(view)
        return len(view)

    def _write_file(self, view: memoryview) -> None:
        assert self.file is not None
        written = 0
        while written < len(view):
            written += self.file.write(view[written:]) or 0

    def flush(self) -> None:
        """Nothing to do: writes go straight to memory or the file (compressors call it)."""

    def getvalue(self) -> bytes:
        """The bytes written, while they are still in memory."""
        assert self._memory is not None
        return self._memory.getvalue()

    def close(self) -> None:
        self._memory = None
        if self.file is not None:
            self.file.close()


class _PartReader:
    """A file object over ``length`` bytes of a file from ``offset`` (botocore's part body).

    Reads with ``os.pread``, so threads uploading parts of one file never share a position;
    botocore reads it in blocks (to sign, checksum and send it) and seeks back to retry.
    """

    def __init__(self, fd: int, offset: int, length: int) -> None:
        self._fd, self._offset, self._length, self._position = fd, offset, length, 0

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        left = self._length - self._position
        count = left if size is None or size < 0 else min(size, left)
        if count <= 0:
            return b""
        data = os.pread(self._fd, count, self._offset + self._position)
        self._position += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: self._length}[whence]
        self._position = max(0, min(self._length, base + offset))
        return self._position

    def tell(self) -> int:
        return self._position

    def seekable(self) -> bool:
        return True


# ----------------------------------------------------------------------------- writes
def write_value(
    connection: S3Connection,
    name: str,
    value: Any,
    serialization_format: str,
    *,
    compression: str | None,
    content_type: str,
    settings: PartSettings,
    if_absent: bool = False,
    if_match: str | None = None,
    context: str | Callable[[], str],
    key: Any = None,
) -> str | WriteConflict:
    """Serialize ``value`` and write it to ``name``; return its ETag or a `WriteConflict`.

    Conditions and lost acknowledgements as in `S3Connection.put`, for a value of any size.

    Raises:
        persidict_core.SerializationError: The value cannot be encoded in this format.
        persidict_core.BackendError: S3 failed, or the value is larger than S3 allows.
    """
    staged = _Staging(settings.threshold)
    try:
        serialize_to(
            cast(BinaryIO, staged), value, serialization_format, context=context, compression=compression
        )
        if staged.file is None:
            return connection.put(
                name, staged.getvalue(), content_type, if_absent=if_absent, if_match=if_match, key=key
            )
        return _multipart_put(connection, name, staged, content_type, settings, if_absent, if_match, key)
    finally:
        staged.close()


def _precondition_fails(
    connection: S3Connection, name: str, if_absent: bool, if_match: str | None, key: Any
) -> WriteConflict | None:
    """A `WriteConflict` if the condition does not hold now (then no part is sent)."""
    if not if_absent and if_match is None:
        return None
    current = connection.head(name, key=key)
    if if_absent:
        return None if current is None else WriteConflict(retried=False, status=412)
    if current is None:
        return WriteConflict(retried=False, status=404)
    return None if current[0] == if_match else WriteConflict(retried=False, status=412)


def _multipart_put(
    connection: S3Connection,
    name: str,
    staged: _Staging,
    content_type: str,
    settings: PartSettings,
    if_absent: bool,
    if_match: str | None,
    key: Any,
) -> str | WriteConflict:
    size = staged.size
    try:
        part_size = part_size_for(size, settings.chunksize)
    except ValueError as exc:
        raise BackendError(
            f"Cannot write object {name!r} of bucket {connection.bucket_name!r}: {exc}",
            backend="s3",
            operation="create_multipart_upload",
            key=key,
        ) from None
    refused = _precondition_fails(connection, name, if_absent, if_match, key)
    if refused is not None:
        return refused
    client, bucket = connection.client, connection.bucket_name
    write_id, metadata, lineage = connection.write_metadata(name, None if if_absent else if_match)
    metadata[CRC32_METADATA] = f"{staged.crc:08x}"
    create: dict[str, Any] = {
        "Bucket": bucket,
        "Key": name,
        "ContentType": content_type,
        "Metadata": metadata,
    }
    # As boto3's managed uploads: CRC32 part checksums when botocore computes checksums.
    checksum = getattr(client.meta.config, "request_checksum_calculation", None) == "when_supported"
    if checksum:
        create["ChecksumAlgorithm"] = "CRC32"
    try:
        upload_id = client.create_multipart_upload(**create)["UploadId"]
    except Exception as exc:
        raise connection.translate(exc, "create_multipart_upload", "write", name, key) from exc
    completed = False
    try:
        assert staged.file is not None
        fd = staged.file.fileno()

        def upload(number: int, offset: int) -> dict[str, Any]:
            length = min(part_size, size - offset)
            kwargs: dict[str, Any] = {
                "Bucket": bucket,
                "Key": name,
                "UploadId": upload_id,
                "PartNumber": number,
                "Body": _PartReader(fd, offset, length),
                "ContentLength": length,
            }
            if checksum:
                kwargs["ChecksumAlgorithm"] = "CRC32"
            try:
                response = client.upload_part(**kwargs)
            except Exception as exc:
                raise connection.translate(exc, "upload_part", "write", name, key) from exc
            part = {"PartNumber": number, "ETag": response["ETag"]}
            if checksum and "ChecksumCRC32" in response:
                part["ChecksumCRC32"] = response["ChecksumCRC32"]
            return part

        offsets = range(0, size, part_size)
        parts = _run_all(
            settings.concurrency, [(upload, (n + 1, offset)) for n, offset in enumerate(offsets)]
        )
        complete: dict[str, Any] = {
            "Bucket": bucket,
            "Key": name,
            "UploadId": upload_id,
            "MultipartUpload": {"Parts": parts},
        }
        if if_absent:
            complete["IfNoneMatch"] = "*"
        elif if_match is not None:
            complete["IfMatch"] = if_match
        try:
            response = client.complete_multipart_upload(**complete)
        except Exception as exc:
            conflict = _conflict(exc) if if_absent or if_match is not None else None
            code, _ = _error_code(exc)
            # A retry whose first attempt had completed the upload finds it gone (or the
            # object there, for a condition): look whether the object is our write.
            if (conflict is not None or code == "NoSuchUpload") and _retry_attempts(exc) > 0:
                expected = _multipart_etag(part["ETag"] for part in parts)
                etag = connection.landed_etag(name, expected, write_id, key)
                if etag is not None:
                    completed = True
                    connection.note_written(name, etag, write_id, lineage)
                    return etag
            if conflict is not None:
                return conflict
            raise connection.translate(exc, "complete_multipart_upload", "write", name, key) from exc
        completed = True
        etag = str(response["ETag"])
        connection.note_written(name, etag, write_id, lineage)
        return etag
    finally:
        if not completed:
            try:  # never leave parts behind (S3 bills them until the upload is aborted)
                client.abort_multipart_upload(Bucket=bucket, Key=name, UploadId=upload_id)
            except Exception:
                pass  # the original error is the one to report


def _multipart_etag(part_etags: Any) -> str:
    """The ETag S3 gives a multipart object: MD5 of the parts' binary MD5s, ``-<count>``."""
    digests = [bytes.fromhex(str(etag).strip('"')) for etag in part_etags]
    return f'"{hashlib.md5(b"".join(digests)).hexdigest()}-{len(digests)}"'


def _run_all(concurrency: int, calls: list[tuple[Any, tuple[Any, ...]]]) -> list[Any]:
    """Run ``func(*args)`` of every call on up to ``concurrency`` threads; results in order.

    The first failure cancels the calls not started yet and is raised once the running ones
    end.
    """
    if len(calls) == 1:
        func, args = calls[0]
        return [func(*args)]
    pool = ThreadPoolExecutor(
        max_workers=max(1, min(concurrency, len(calls))), thread_name_prefix="persidict-s3-part"
    )
    try:
        futures: list[Future[Any]] = [pool.submit(func, *args) for func, args in calls]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ----------------------------------------------------------------------------- reads
class _Retry(Exception):
    """One read attempt failed in a way a new attempt may not: overwritten, cut, or corrupt."""


class _CheckedReader:
    """Reads a file for the decoder while computing the CRC32 and length of what was read."""

    def __init__(self, file: BinaryIO) -> None:
        self.file, self.crc, self.size = file, 0, 0

    def _saw(self, data: Any) -> None:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self._saw(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self.file.readline(size)
        self._saw(data)
        return data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        count = cast(io.BufferedRandom, self.file).readinto(view)
        self._saw(view[:count])
        return count

    def drain(self) -> None:
        """Read what the decoder left (normally nothing), so the CRC covers every byte."""
        while self.read(_CHUNK):
            pass


def read_value(
    connection: S3Connection,
    name: str,
    if_none_match: str | None,
    serialization_format: str,
    *,
    settings: PartSettings,
    context: str | Callable[[], str],
    key: Any = None,
) -> tuple[Any, str] | object | None:
    """Read and decode the object ``name``: ``(value, etag)``, `NOT_MODIFIED` or None (absent).

    Raises:
        persidict_core.DeserializationError: The object is not a value of this format.
        persidict_core.BackendError: S3 failed, or a large object kept changing or arriving
            damaged during every attempt.
    """
    problem: _Retry | None = None
    for _ in range(_READ_ATTEMPTS):
        response = connection.open_object(name, if_none_match, key=key)
        if response is None or response is NOT_MODIFIED:
            return response
        assert isinstance(response, Mapping)
        etag = str(response["ETag"])
        if int(response["ContentLength"]) <= settings.threshold:
            try:
                body = response["Body"].read()
            except Exception as exc:
                raise connection.translate(exc, "get_object", "read", name, key) from exc
            return deserialize(body, serialization_format, context=context), etag
        try:
            return _ranged_read(
                connection, name, response, serialization_format, settings, context, key
            ), etag
        except _Retry as exc:
            problem = exc
    raise BackendError(
        f"Cannot read object {name!r} of bucket {connection.bucket_name!r}: {problem} "
        f"(in each of {_READ_ATTEMPTS} attempts)",
        backend="s3",
        operation="get_object",
        key=key,
    ) from problem


def _copy_body(body: Any, fd: int, offset: int, length: int, what: str) -> None:
    """Write the next ``length`` bytes of a response ``body`` into ``fd`` at ``offset``."""
    done = 0
    try:
        while done < length:
            chunk = body.read(min(_CHUNK, length - done))
            if not chunk:
                break
            view = memoryview(chunk)
            while view:
                written = os.pwrite(fd, view, offset + done)
                view = view[written:]
                done += written
    except OSError:
        raise  # the temporary file's (disk full...): not the transfer's
    except Exception as exc:
        raise _Retry(
            f"{what} broke off after {done} of {length} bytes ({type(exc).__name__}: {exc})"
        ) from exc
    if done < length:
        raise _Retry(f"{what} ended after {done} of {length} bytes")


def _expected_crc(response: Mapping[str, Any]) -> int | None:
    """The CRC32 the object's bytes must have: ours from its metadata, else S3's full-object one."""
    recorded = response.get("Metadata", {}).get(CRC32_METADATA)
    if recorded:
        try:
            return int(recorded, 16)
        except ValueError:
            return None
    s3_crc = response.get("ChecksumCRC32")
    # A multipart object's checksum may be a checksum of its parts' checksums ("...-<n>").
    if s3_crc and "-" not in s3_crc and response.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT":
        return int.from_bytes(base64.b64decode(s3_crc), "big")
    return None


def _ranged_read(
    connection: S3Connection,
    name: str,
    response: Mapping[str, Any],
    serialization_format: str,
    settings: PartSettings,
    context: str | Callable[[], str],
    key: Any,
) -> Any:
    client, bucket = connection.client, connection.bucket_name
    size, etag = int(response["ContentLength"]), str(response["ETag"])
    expected_crc = _expected_crc(response)
    part_size = part_size_for(size, settings.chunksize)
    first = min(part_size, size)
    with tempfile.TemporaryFile() as file:
        fd = file.fileno()

        def fetch(offset: int, length: int) -> None:
            try:
                part = client.get_object(
                    Bucket=bucket, Key=name, Range=f"bytes={offset}-{offset + length - 1}", IfMatch=etag
                )
            except Exception as exc:
                code, status = _error_code(exc)
                if status == 412 or code in {"PreconditionFailed", "NoSuchKey", "404"}:
                    raise _Retry(f"the object changed while it was read ({code or status})") from exc
                raise connection.translate(exc, "get_object", "read", name, key) from exc
            try:
                if part.get("ETag", etag) != etag:
                    raise _Retry("a ranged read answered another version of the object")
                if int(part["ContentLength"]) != length:
                    raise _Retry(f"bytes {offset}- arrived as {part['ContentLength']} bytes, not {length}")
                _copy_body(part["Body"], fd, offset, length, f"bytes {offset}-")
            finally:
                part["Body"].close()

        calls = [(fetch, (offset, min(part_size, size - offset))) for offset in range(first, size, part_size)]
        pool = ThreadPoolExecutor(max_workers=max(1, min(settings.concurrency, len(calls) or 1)))
        try:
            futures = [pool.submit(func, *args) for func, args in calls]
            try:
                # Meanwhile, the first part comes from the GET already open (then it is closed:
                # the rest of its body is not wanted).
                _copy_body(response["Body"], fd, 0, first, "the first part")
            finally:
                response["Body"].close()
            for future in futures:
                future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        file.seek(0)
        head = os.pread(fd, 4, 0)
        reader = _CheckedReader(cast(BinaryIO, file))
        try:
            value = deserialize_from(cast(BinaryIO, reader), head, serialization_format, context=context)
        except DeserializationError:
            reader.drain()
            _check(reader, size, expected_crc)  # damaged in transit: say so, and try again
            raise
        reader.drain()
        _check(reader, size, expected_crc)
        return value


def _check(reader: _CheckedReader, size: int, expected_crc: int | None) -> None:
    if reader.size != size:
        raise _Retry(f"{reader.size} bytes were assembled, the object has {size}")
    if expected_crc is not None and reader.crc != expected_crc:
        raise _Retry(f"the CRC32 of the bytes read is {reader.crc:08x}, the object's is {expected_crc:08x}")
