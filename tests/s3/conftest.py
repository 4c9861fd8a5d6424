"""Fixtures of the S3 tests: moto in-process, moto's HTTP server, proxies, dummy credentials.

Every test here runs without AWS: either against moto's in-process mock (``mock_aws``, fast,
no sockets) or against moto's real HTTP server on 127.0.0.1 (the integration tests: real
requests, real retries, real connection pools). Credentials are dummies set per test, and
the user's own AWS configuration (profiles, endpoint overrides, shared files) is hidden, so
a developer's ~/.aws can neither leak into nor break the tests.
"""

from __future__ import annotations

import sys
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The proxy helper is shared with benchmarks/bench_s3.py: make `tests.s3._proxy` importable.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.s3._proxy import FaultHook, S3Proxy, TransformHook  # noqa: E402

DUMMY_KEY_ID = "AKIAPERSIDICTTESTKEY"
DUMMY_SECRET = "persidict-test-secret-0123456789abcdefSECRET"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder ``s3`` (select or skip them with ``-m s3``)."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.s3)


@pytest.fixture(autouse=True)
def aws_credentials(use_dummy_aws_credentials: Callable[[str, str], None]) -> None:
    """Dummy credentials and an isolated AWS configuration for every S3 test."""
    use_dummy_aws_credentials(DUMMY_KEY_ID, DUMMY_SECRET)


@pytest.fixture
def mocked_aws(aws_credentials: None) -> Iterator[None]:
    """moto's in-process mock of AWS for the duration of the test."""
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        yield


@pytest.fixture
def server_url(moto_server: str, aws_credentials: None) -> Iterator[str]:
    """The moto server's URL, with dummy credentials set; resets moto's state afterwards."""
    yield moto_server
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


@pytest.fixture
def make_proxy(server_url: str) -> Iterator[Callable[..., S3Proxy]]:
    """Factory of `S3Proxy` instances in front of the moto server, all stopped at teardown."""
    proxies: list[S3Proxy] = []

    def make(
        *,
        latency: float = 0.0,
        fault: FaultHook | None = None,
        serialize_writes: bool = False,
        transform: TransformHook | None = None,
    ) -> S3Proxy:
        proxy = S3Proxy(
            server_url, latency=latency, fault=fault, serialize_writes=serialize_writes, transform=transform
        ).start()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.stop()


@pytest.fixture
def bucket_name() -> str:
    """A fresh, valid bucket name."""
    return f"persidict-test-{uuid.uuid4().hex[:12]}"


class GetObjectMeter:
    """Counts S3 requests and the value bytes GetObject transferred, via botocore event hooks."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.get_statuses: list[int] = []
        self.value_bytes = 0

    def attach(self, client: Any) -> GetObjectMeter:
        """Listen to every request of ``client`` (a boto3 S3 client)."""
        client.meta.events.register("before-call.s3", self._before_call)
        client.meta.events.register("after-call.s3.GetObject", self._after_get)
        return self

    def _before_call(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def _after_get(self, http_response: Any, parsed: Any, **_: Any) -> None:
        self.get_statuses.append(http_response.status_code)
        if http_response.status_code == 200:
            self.value_bytes += int(parsed.get("ContentLength", 0))

    def reset(self) -> None:
        """Forget what was counted."""
        self.calls.clear()
        self.get_statuses.clear()
        self.value_bytes = 0


@pytest.fixture
def meter() -> GetObjectMeter:
    """A fresh `GetObjectMeter` (attach it to a store's client)."""
    return GetObjectMeter()
