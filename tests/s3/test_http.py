"""Integration tests over real HTTP against moto's server: races, faults, credentials, endpoints."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable
from typing import Any

import pytest

from persidict_core import BackendError, MutationPolicyError
from persidict_s3 import BasicS3Dict
from tests.s3._proxy import Fault, S3Proxy, every_nth
from tests.s3.conftest import DUMMY_KEY_ID, DUMMY_SECRET

MakeProxy = Callable[..., S3Proxy]


def test_endpoint_from_the_standard_environment_variable(
    server_url: str, bucket_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", server_url)
    store = BasicS3Dict(bucket_name)
    assert store.endpoint_url == server_url
    store["k"] = 1
    assert BasicS3Dict(bucket_name, endpoint_url=server_url)["k"] == 1


def test_append_only_race_has_exactly_one_winner(make_proxy: MakeProxy, bucket_name: str) -> None:
    # The proxy forwards PUTs of one object one at a time, as S3 does (moto alone would not).
    proxy = make_proxy(serialize_writes=True)
    writers = 8
    stores = [
        BasicS3Dict(bucket_name, endpoint_url=proxy.url, append_only=True, serialization_format="json")
        for _ in range(writers)
    ]
    for round_number in range(5):
        key = f"key{round_number}"
        barrier = threading.Barrier(writers)
        outcomes: list[Any] = [None] * writers

        def write(i: int, key: str, barrier: threading.Barrier, outcomes: list[Any]) -> None:
            barrier.wait()
            try:
                stores[i][key] = f"writer {i}"
                outcomes[i] = "won"
            except MutationPolicyError:
                outcomes[i] = "lost"
            except Exception as exc:  # pragma: no cover - reported by the assertion below
                outcomes[i] = exc

        threads = [threading.Thread(target=write, args=(i, key, barrier, outcomes)) for i in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(map(str, outcomes)) == ["lost"] * (writers - 1) + ["won"], outcomes
        winner = outcomes.index("won")
        assert stores[0][key] == f"writer {winner}"  # nothing was overwritten


def test_transient_errors_are_retried_and_nothing_is_lost(make_proxy: MakeProxy, bucket_name: str) -> None:
    BasicS3Dict(bucket_name, endpoint_url=make_proxy().url)  # create the bucket without faults
    slow_down = make_proxy(fault=every_nth(3, Fault(503, "SlowDown")))
    internal = make_proxy(fault=every_nth(4, Fault(500, "InternalError")))
    for proxy in (slow_down, internal):
        store = BasicS3Dict(bucket_name, endpoint_url=proxy.url, root_prefix=str(proxy.url[-5:]))
        data = {f"k{i}": list(range(i)) for i in range(6)}
        store.update(data)
        assert store == data
        assert dict(store.items()) == {(k,): v for k, v in data.items()}
        assert len(store) == 6
        del store["k0"]
        assert "k0" not in store
        assert proxy.statuses[503] + proxy.statuses[500] > 0  # faults did happen


def test_a_lost_reply_to_our_own_conditional_put_is_success(make_proxy: MakeProxy, bucket_name: str) -> None:
    BasicS3Dict(bucket_name, endpoint_url=make_proxy().url)
    lose_first_put = every_nth(1_000_000, Fault(500, "InternalError", after_forward=True))
    seen_puts = []

    def fault(method: str, path: str, number: int) -> Fault | None:
        if method == "PUT":
            seen_puts.append(path)
            if len(seen_puts) == 1:
                return Fault(500, "InternalError", after_forward=True)  # landed, reply lost
        return lose_first_put(method, path, number)

    store = BasicS3Dict(bucket_name, endpoint_url=make_proxy(fault=fault).url, append_only=True)
    etag = store.set_item_get_etag("k", {"value": 1})
    assert len(seen_puts) == 2  # botocore retried; the retry got 412 from our own first write
    assert store["k"] == {"value": 1}
    assert store.etag("k") == etag
    with pytest.raises(MutationPolicyError):
        store["k"] = {"value": 1}  # a second write (not a retry) is refused, same value or not


def test_throttling_that_outlasts_the_retries_is_a_backend_error(
    make_proxy: MakeProxy, bucket_name: str
) -> None:
    BasicS3Dict(bucket_name, endpoint_url=make_proxy().url)
    always = make_proxy(fault=every_nth(1, Fault(503, "SlowDown"), methods=frozenset({"GET"})))
    store = BasicS3Dict(bucket_name, endpoint_url=always.url, client_config={"retries": {"max_attempts": 1}})
    with pytest.raises(BackendError, match="throttling") as info:
        store["k"]
    assert bucket_name in str(info.value)
    assert "'k.pkl'" in str(info.value)
    assert type(info.value.__cause__).__name__ == "ClientError"


def test_a_forbidden_bucket_is_a_clear_error(make_proxy: MakeProxy, bucket_name: str) -> None:
    forbidden = make_proxy(fault=every_nth(1, Fault(403, "AccessDenied")))
    store = BasicS3Dict(bucket_name, endpoint_url=forbidden.url)  # 403 on HEAD: assumed to exist
    for action in (lambda: store["k"], lambda: store.__setitem__("k", 1), lambda: len(store)):
        with pytest.raises(BackendError, match="access denied") as info:
            action()
        assert bucket_name in str(info.value)
        assert info.value.__cause__ is not None


def test_a_bucket_owned_by_someone_else_is_a_clear_error(make_proxy: MakeProxy, bucket_name: str) -> None:
    def fault(method: str, path: str, number: int) -> Fault | None:
        if method == "HEAD":
            return Fault(404, "NotFound")
        return Fault(409, "BucketAlreadyExists")

    with pytest.raises(BackendError, match="another AWS account") as info:
        BasicS3Dict(bucket_name, endpoint_url=make_proxy(fault=fault).url)
    assert bucket_name in str(info.value)


def test_missing_credentials_are_a_clear_error(
    server_url: str, bucket_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(BackendError, match="no AWS credentials") as info:
        BasicS3Dict(bucket_name, endpoint_url=server_url)
    assert bucket_name in str(info.value)
    assert type(info.value.__cause__).__name__ == "NoCredentialsError"


def test_an_unreachable_endpoint_is_a_clear_error(bucket_name: str) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    with pytest.raises(BackendError, match="cannot reach"):
        BasicS3Dict(
            bucket_name,
            endpoint_url=f"http://127.0.0.1:{port}",
            client_config={"retries": {"max_attempts": 0}, "connect_timeout": 1},
        )


def test_credentials_never_leak(make_proxy: MakeProxy, bucket_name: str) -> None:
    store = BasicS3Dict(bucket_name, endpoint_url=make_proxy().url)
    store["k"] = 1
    forbidden = make_proxy(fault=every_nth(1, Fault(403, "AccessDenied")))
    blocked = BasicS3Dict(bucket_name, endpoint_url=forbidden.url)
    with pytest.raises(BackendError) as info:
        blocked["k"]
    texts = [
        repr(store),
        str(store.get_params()),
        store.config.model_dump_json(),
        pickle.dumps(store).decode("latin-1"),
        str(info.value),
        repr(info.value),
    ]
    for text in texts:
        assert DUMMY_SECRET not in text
        assert DUMMY_KEY_ID not in text


def test_parallel_reads_over_http(make_proxy: MakeProxy, bucket_name: str) -> None:
    keys = [f"k{i:02d}" for i in range(48)]
    writer = BasicS3Dict(bucket_name, endpoint_url=make_proxy().url)
    for key in keys:
        writer[key] = key
    proxy = make_proxy(latency=0.02)
    store = BasicS3Dict(bucket_name, endpoint_url=proxy.url, max_pool_connections=16)
    proxy.reset_counts()
    assert store.get_many(keys) == {(key,): key for key in keys}
    assert proxy.requests["GET"] == 48
    assert list(store.values()) == keys
