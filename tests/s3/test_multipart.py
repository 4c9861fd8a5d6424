"""Large values on S3: multipart uploads, parallel ranged reads, conditions and integrity.

The part size is S3's minimum, 5 MiB (moto enforces it too: a smaller part that is not the
last is refused at CompleteMultipartUpload), so a value of ~12 MiB is three parts. Every
path runs against moto in-process and over moto's HTTP server; races, lost replies and
damaged answers go through our proxy in front of the server.

moto evaluates ``If-None-Match: *`` on CompleteMultipartUpload but not ``If-Match`` there
(it completes regardless). The create race below therefore shows the atomic condition on
CompleteMultipartUpload; for ``If-Match`` the tests show the request carries it and that a
stale ETag is refused before any part is sent.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from pydantic import ValidationError

from persidict_core import (
    ANY_ETAG,
    ETAG_IS_THE_SAME,
    ITEM_NOT_AVAILABLE,
    BackendError,
    MutationPolicyError,
    open_store,
)
from persidict_s3 import BasicS3Dict, S3Dict
from persidict_s3._transfer import (
    CRC32_METADATA,
    MAX_OBJECT_SIZE,
    MAX_PART_SIZE,
    MAX_PARTS,
    MIB,
    MIN_PART_SIZE,
    part_size_for,
)
from tests.s3._proxy import Fault, S3Proxy
from tests.s3.conftest import GetObjectMeter

MakeProxy = Callable[..., S3Proxy]
SMALL_PARTS: dict[str, Any] = {
    "multipart_threshold": MIN_PART_SIZE,
    "multipart_chunksize": MIN_PART_SIZE,
    "multipart_concurrency": 3,
}
BIG = 12 * MIB  # three parts of 5 MiB, 5 MiB and ~2 MiB
RETRYING: dict[str, Any] = {"retries": {"mode": "standard", "max_attempts": 8}}


def big_value(seed: int = 0) -> bytes:
    return bytes([seed]) * 16 + os.urandom(BIG)


@pytest.fixture(params=["in-process", "http"])
def endpoint(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for moto in-process, or moto's HTTP server URL."""
    if request.param == "in-process":
        request.getfixturevalue("mocked_aws")
        yield None
    else:
        yield request.getfixturevalue("server_url")


def calls(meter: GetObjectMeter, name: str) -> int:
    return meter.calls.count(name)


# ----------------------------------------------------------------------------- round trips
def test_a_large_value_goes_up_in_parts_and_comes_back_in_ranges(
    endpoint: str | None, bucket_name: str, meter: GetObjectMeter
) -> None:
    store = BasicS3Dict(bucket_name, endpoint_url=endpoint, **SMALL_PARTS)
    meter.attach(store.connection.client)
    value = big_value()
    store["big"] = value
    assert calls(meter, "CreateMultipartUpload") == 1
    assert calls(meter, "UploadPart") == 3
    assert calls(meter, "CompleteMultipartUpload") == 1
    assert calls(meter, "PutObject") == 0
    head = store.connection.client.head_object(Bucket=bucket_name, Key="big.pkl")
    assert head["ETag"].endswith('-3"')
    assert len(head["Metadata"][CRC32_METADATA]) == 8
    assert head["ContentType"] == "application/octet-stream"
    assert store.etag("big") == head["ETag"]

    meter.reset()
    assert store["big"] == value
    assert calls(meter, "GetObject") == 3  # the GET of the first part, two ranged GETs
    assert store.connection.client.list_multipart_uploads(Bucket=bucket_name).get("Uploads", []) == []


def test_a_small_value_is_still_one_request_each_way(
    endpoint: str | None, bucket_name: str, meter: GetObjectMeter
) -> None:
    store = BasicS3Dict(bucket_name, endpoint_url=endpoint, **SMALL_PARTS)
    meter.attach(store.connection.client)
    store["small"] = b"x" * (MIN_PART_SIZE - 100)
    assert meter.calls == ["PutObject"]
    meter.reset()
    assert store["small"] == b"x" * (MIN_PART_SIZE - 100)
    assert meter.calls == ["GetObject"]


@pytest.mark.parametrize(
    ("serialization_format", "compression", "value"),
    [
        ("pkl", "lz4", b"persidict " * (BIG // 10)),
        ("txt", None, "a line of text\n" * (BIG // 15)),
        ("json", None, {"payload": "z" * BIG, "n": 1}),
    ],
)
def test_every_format_travels_in_parts(
    mocked_aws: None, bucket_name: str, serialization_format: str, compression: Any, value: Any
) -> None:
    store = BasicS3Dict(
        bucket_name, serialization_format=serialization_format, compression=compression, **SMALL_PARTS
    )
    meter = GetObjectMeter().attach(store.connection.client)
    store["k"] = value
    size = store.connection.client.head_object(Bucket=bucket_name, Key=f"k.{serialization_format}")
    if int(size["ContentLength"]) > MIN_PART_SIZE:
        assert calls(meter, "UploadPart") >= 1
    assert store["k"] == value


def test_s3dict_passes_the_settings_to_its_main_store_and_caches_large_values(
    mocked_aws: None, bucket_name: str, tmp_path: Any
) -> None:
    store = S3Dict(bucket_name, base_dir=tmp_path, **SMALL_PARTS)
    assert store.main_dict.config.multipart_chunksize == MIN_PART_SIZE  # type: ignore[attr-defined]
    meter = GetObjectMeter().attach(store.main_dict.connection.client)
    value = big_value()
    store["big"] = value
    assert calls(meter, "UploadPart") == 3
    assert store["big"] == value
    sub = store.get_subdict("a")
    assert sub.main_dict.config.multipart_threshold == MIN_PART_SIZE  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- settings
def test_the_part_size_grows_so_no_upload_needs_more_than_10000_parts() -> None:
    assert part_size_for(100 * MIB, 8 * MIB) == 8 * MIB
    for size in (6 * 2**30, 100 * 2**30, 2**40, MAX_OBJECT_SIZE):
        part = part_size_for(size, 8 * MIB)
        assert part % MIB == 0 and 8 * MIB <= part <= MAX_PART_SIZE
        assert -(-size // part) <= MAX_PARTS
    assert part_size_for(6 * 2**30, 8 * MIB) == 8 * MIB  # 6 GB: 769 parts of 8 MiB
    assert part_size_for(200 * 2**30, 8 * MIB) == 21 * MIB
    with pytest.raises(ValueError, match="5 TiB"):
        part_size_for(MAX_OBJECT_SIZE + 1, 8 * MIB)


def test_settings_are_config_fields_with_checked_bounds(mocked_aws: None, bucket_name: str) -> None:
    store = BasicS3Dict(bucket_name)
    assert store.config.multipart_threshold == 8 * MIB  # type: ignore[attr-defined]
    assert store.config.multipart_chunksize == 8 * MIB  # type: ignore[attr-defined]
    assert store.config.multipart_concurrency == 8  # type: ignore[attr-defined]
    for bad in (MIN_PART_SIZE - 1, MAX_PART_SIZE + 1):
        with pytest.raises(ValidationError, match="multipart_chunksize"):
            BasicS3Dict(bucket_name, multipart_chunksize=bad)
    for name in ("multipart_threshold", "multipart_concurrency"):
        zero: dict[str, Any] = {name: 0}
        with pytest.raises(ValidationError, match=name):
            BasicS3Dict(bucket_name, **zero)
    tuned = BasicS3Dict(bucket_name, **SMALL_PARTS)
    url = tuned.to_url()
    assert f"multipart_chunksize={MIN_PART_SIZE}" in url
    again = open_store(url)
    assert again.config.multipart_concurrency == 3  # type: ignore[union-attr]
    # Other stores accept (and ignore) the names, as every name of the shared vocabulary.
    from persidict_core import LocalDict

    assert "multipart_threshold" not in LocalDict(multipart_threshold=1).get_params()


# ----------------------------------------------------------------------------- conditions
def test_a_large_create_if_absent_is_refused_without_sending_parts(
    endpoint: str | None, bucket_name: str
) -> None:
    store = BasicS3Dict(bucket_name, endpoint_url=endpoint, append_only=True, **SMALL_PARTS)
    first = big_value(1)
    store["k"] = first
    meter = GetObjectMeter().attach(store.connection.client)
    with pytest.raises(MutationPolicyError):
        store["k"] = big_value(2)
    assert meter.calls == ["HeadObject"]  # refused before CreateMultipartUpload
    assert store["k"] == first


def test_a_large_conditional_write_carries_if_match_and_a_stale_etag_sends_nothing(
    endpoint: str | None, bucket_name: str
) -> None:
    store = BasicS3Dict(bucket_name, endpoint_url=endpoint, **SMALL_PARTS)
    store["k"] = big_value(1)
    etag = store.etag("k")
    assert etag is not None
    sent: list[Mapping[str, Any]] = []
    client = store.connection.client

    def record(params: Mapping[str, Any], **_: Any) -> None:
        sent.append(dict(params))

    client.meta.events.register("provide-client-params.s3.CompleteMultipartUpload", record)
    meter = GetObjectMeter().attach(client)
    second = big_value(2)
    result = store.set_item_if("k", value=second, condition=ETAG_IS_THE_SAME, expected_etag=etag)
    assert result.condition_was_satisfied
    assert [params.get("IfMatch") for params in sent] == [etag]
    new_etag = result.resulting_etag
    assert new_etag != etag and new_etag == store.etag("k")
    assert store["k"] == second

    meter.reset()
    stale = store.set_item_if("k", value=big_value(3), condition=ETAG_IS_THE_SAME, expected_etag=etag)
    assert not stale.condition_was_satisfied
    assert "CreateMultipartUpload" not in meter.calls and "UploadPart" not in meter.calls
    assert store["k"] == second


def test_exactly_one_of_four_racing_large_creates_wins(
    make_proxy: MakeProxy, bucket_name: str, meter: GetObjectMeter
) -> None:
    # Each thread has its own client; the proxy serializes requests of one object as S3
    # does. All four pass the HEAD before the upload, then wait for each other before
    # CompleteMultipartUpload: S3's If-None-Match there is what decides.
    proxy = make_proxy(serialize_writes=True)
    count = 4
    stores = [
        BasicS3Dict(bucket_name, endpoint_url=proxy.url, append_only=True, **SMALL_PARTS)
        for _ in range(count)
    ]
    barrier = threading.Barrier(count)
    completes: list[int] = []

    def wait_for_all(**_: Any) -> None:  # (a handler returning something would answer the call)
        barrier.wait(timeout=120)

    for store in stores:
        store.connection.client.meta.events.register("before-call.s3.CompleteMultipartUpload", wait_for_all)
        store.connection.client.meta.events.register(
            "after-call.s3.CompleteMultipartUpload",
            lambda http_response, **_: completes.append(http_response.status_code),
        )
    values = [big_value(i) for i in range(count)]
    outcomes: list[Any] = [None] * count

    def create(i: int) -> None:
        try:
            stores[i]["k"] = values[i]
            outcomes[i] = "won"
        except MutationPolicyError:
            outcomes[i] = "refused"
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes[i] = exc

    threads = [threading.Thread(target=create, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert sorted(map(str, outcomes)) == ["refused"] * (count - 1) + ["won"]
    assert sorted(completes) == [200] + [412] * (count - 1)
    winner = outcomes.index("won")
    assert stores[0]["k"] == values[winner]
    assert stores[0].connection.client.list_multipart_uploads(Bucket=bucket_name).get("Uploads", []) == []


def test_a_lost_reply_to_a_large_conditional_create_is_the_success_it_was(
    make_proxy: MakeProxy, bucket_name: str
) -> None:
    lost: list[str] = []

    def lose_first_complete(method: str, path: str, number: int) -> Fault | None:
        if method == "POST" and "uploadId=" in path and not lost:
            lost.append(path)
            return Fault(status=500, code="InternalError", after_forward=True)
        return None

    proxy = make_proxy(fault=lose_first_complete, serialize_writes=True)
    store = BasicS3Dict(bucket_name, endpoint_url=proxy.url, client_config=RETRYING, **SMALL_PARTS)
    value = big_value()
    result = store.setdefault_if(
        "k", default_value=value, condition=ANY_ETAG, expected_etag=ITEM_NOT_AVAILABLE
    )
    assert lost  # the first CompleteMultipartUpload landed, its answer was lost
    assert result.condition_was_satisfied
    assert result.resulting_etag == store.etag("k")
    assert store["k"] == value


@pytest.mark.parametrize(
    "retry_answer",
    [Fault(status=412, code="PreconditionFailed"), Fault(status=404, code="NoSuchUpload")],
    ids=["412", "NoSuchUpload"],
)
def test_a_refused_retry_of_a_complete_that_had_landed_is_recognized_by_its_write_id(
    make_proxy: MakeProxy, bucket_name: str, retry_answer: Fault
) -> None:
    # S3 may answer the retry of a CompleteMultipartUpload whose first attempt completed with
    # 412 (the object now exists) or NoSuchUpload (the upload is gone); moto answers 200. The
    # proxy plays S3: the first Complete lands and its answer is lost, the retry is refused.
    completes: list[str] = []
    armed: list[bool] = []

    def lose_then_refuse(method: str, path: str, number: int) -> Fault | None:
        if armed and method == "POST" and "uploadId=" in path:
            completes.append(path)
            if len(completes) == 1:
                return Fault(status=500, code="InternalError", after_forward=True)
            return retry_answer
        return None

    proxy = make_proxy(fault=lose_then_refuse, serialize_writes=True)
    store = BasicS3Dict(bucket_name, endpoint_url=proxy.url, client_config=RETRYING, **SMALL_PARTS)
    store["k"] = big_value(1)
    etag = store.etag("k")
    assert etag is not None
    armed.append(True)
    value = big_value(2)
    result = store.set_item_if("k", value=value, condition=ETAG_IS_THE_SAME, expected_etag=etag)
    assert len(completes) == 2
    assert result.condition_was_satisfied
    assert result.resulting_etag == store.etag("k") != etag
    assert store["k"] == value


def test_a_failed_upload_leaves_no_parts_behind(make_proxy: MakeProxy, bucket_name: str) -> None:
    def refuse_parts(method: str, path: str, number: int) -> Fault | None:
        return Fault(status=403, code="AccessDenied") if method == "PUT" and "partNumber=" in path else None

    proxy = make_proxy(fault=refuse_parts)
    store = BasicS3Dict(bucket_name, endpoint_url=proxy.url, **SMALL_PARTS)
    with pytest.raises(BackendError, match="access denied"):
        store["k"] = big_value()
    assert "k" not in store
    assert store.connection.client.list_multipart_uploads(Bucket=bucket_name).get("Uploads", []) == []


# ----------------------------------------------------------------------------- reads
def _overwrite_on_ranged_get(store: BasicS3Dict, other: BasicS3Dict, times: int | None) -> list[int]:
    """Make ``other`` overwrite ``k`` just before each of ``store``'s ranged GETs (``times`` at most)."""
    done: list[int] = []

    def overwrite(params: Mapping[str, Any], **_: Any) -> None:
        if "Range" in params and (times is None or len(done) < times):
            done.append(1)
            other["k"] = big_value(100 + len(done))

    store.connection.client.meta.events.register("provide-client-params.s3.GetObject", overwrite)
    return done


def test_an_overwrite_during_a_ranged_read_restarts_it(endpoint: str | None, bucket_name: str) -> None:
    store = BasicS3Dict(bucket_name, endpoint_url=endpoint, **SMALL_PARTS)
    other = BasicS3Dict(bucket_name, endpoint_url=endpoint, **SMALL_PARTS)
    store["k"] = big_value(1)
    overwrites = _overwrite_on_ranged_get(store, other, times=1)
    meter = GetObjectMeter().attach(store.connection.client)
    value = store["k"]
    assert overwrites == [1]
    assert value == other["k"]  # the new version, whole: never parts of two versions
    assert 412 in meter.get_statuses


def test_a_value_overwritten_during_every_attempt_fails_clearly(
    endpoint: str | None, bucket_name: str
) -> None:
    store = BasicS3Dict(bucket_name, endpoint_url=endpoint, **SMALL_PARTS)
    other = BasicS3Dict(bucket_name, endpoint_url=endpoint, **SMALL_PARTS)
    store["k"] = big_value(1)
    _overwrite_on_ranged_get(store, other, times=None)
    with pytest.raises(BackendError, match="changed while it was read") as info:
        store["k"]
    assert info.value.operation == "get_object"


def _damage_ranged_answers(how: Callable[[bytes], bytes], times: int | None) -> Callable[..., bytes]:
    damaged: list[int] = []

    def transform(method: str, path: str, headers: Mapping[str, str], status: int, data: bytes) -> bytes:
        ranged = any(name.lower() == "range" for name in headers)
        if method == "GET" and ranged and status == 206 and (times is None or len(damaged) < times):
            damaged.append(1)
            return how(data)
        return data

    return transform


def _flip(data: bytes) -> bytes:
    return data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]


@pytest.mark.parametrize(
    ("how", "message"),
    [(lambda data: data[: len(data) // 2], "arrived as"), (_flip, "CRC32")],
    ids=["truncated", "flipped-byte"],
)
def test_a_damaged_ranged_answer_is_detected(
    make_proxy: MakeProxy, bucket_name: str, how: Callable[[bytes], bytes], message: str
) -> None:
    writer = BasicS3Dict(bucket_name, endpoint_url=make_proxy().url, **SMALL_PARTS)
    value = big_value()
    writer["k"] = value
    # Damaged once: detected, read again, the right value.
    once = BasicS3Dict(
        bucket_name, endpoint_url=make_proxy(transform=_damage_ranged_answers(how, 1)).url, **SMALL_PARTS
    )
    assert once["k"] == value
    # Damaged every time: a clear error, nothing returned, the object intact.
    always = BasicS3Dict(
        bucket_name, endpoint_url=make_proxy(transform=_damage_ranged_answers(how, None)).url, **SMALL_PARTS
    )
    with pytest.raises(BackendError, match=message):
        always["k"]
    assert writer["k"] == value


def test_the_crc32_s3_returns_checks_a_large_object_written_in_one_put(
    make_proxy: MakeProxy, bucket_name: str
) -> None:
    # An object larger than the threshold written by another tool in one PutObject (botocore
    # sends its CRC32): no CRC in our metadata, so S3's full-object checksum is the check.
    writer = BasicS3Dict(bucket_name, endpoint_url=make_proxy().url, **SMALL_PARTS)
    import pickle

    value = big_value()
    writer.connection.client.put_object(
        Bucket=bucket_name, Key="k.pkl", Body=pickle.dumps(value, protocol=5), ChecksumAlgorithm="CRC32"
    )
    head = writer.connection.client.head_object(Bucket=bucket_name, Key="k.pkl", ChecksumMode="ENABLED")
    assert "ChecksumCRC32" in head and CRC32_METADATA not in head["Metadata"]
    assert writer["k"] == value
    damaged = BasicS3Dict(
        bucket_name, endpoint_url=make_proxy(transform=_damage_ranged_answers(_flip, None)).url, **SMALL_PARTS
    )
    with pytest.raises(BackendError, match="CRC32"):
        damaged["k"]
