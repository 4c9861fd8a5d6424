"""Scenarios 1 and 3 on S3: threads over BasicS3Dict on moto's server, with and without faults.

* Load: the four workloads of the file scenario, on 4 threads sharing one store (and its
  connection pool), checked the same way.
* Faults: a proxy in front of moto answers 503 SlowDown / 500 InternalError on a fraction of
  requests (some after forwarding, as when a reply is lost) and a botocore hook drops the
  connection of others; every operation retries and succeeds; afterwards nothing is lost.
* Race: threads write the same new key to an append-only store through a proxy that
  serializes writes of one object as S3 does: exactly one wins, the others get
  `MutationPolicyError`, the stored value is the winner's.
* Compare-and-swap: threads count with ``transform_item(+1)`` on one key through that proxy
  while some conditional PUTs lose their reply after landing: the count is exact.

Skipped only where persidict-s3 or moto is not installed (the isolated core environment).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from persidict_core import ITEM_NOT_AVAILABLE, MutationPolicyError, PersiDict
from tests.reliability import _report
from tests.reliability._checks import final_value_problems, prefill, tally
from tests.reliability._workers import Stats, check_value, key_name, new_stats, run_workload

pytest.importorskip("persidict_s3")
pytest.importorskip("moto")
pytestmark = pytest.mark.s3

from persidict_s3 import BasicS3Dict  # noqa: E402
from tests.s3._proxy import Fault, S3Proxy  # noqa: E402

SECONDS = float(os.environ.get("PERSIDICT_RELIABILITY_S3_SECONDS", "1.5"))
THREADS = 4
MAX_OPS = 5_000

RETRYING = {"retries": {"mode": "standard", "max_attempts": 12}, "connect_timeout": 5, "read_timeout": 30}


@pytest.fixture
def proxies(s3_url: str) -> Iterator[Callable[..., S3Proxy]]:
    started: list[S3Proxy] = []

    def make(**kwargs: Any) -> S3Proxy:
        proxy = S3Proxy(s3_url, **kwargs).start()
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()


def run_threads(
    workload: str, store: PersiDict, threads: int = THREADS, seconds: float = SECONDS
) -> list[Stats]:
    stats = [new_stats(i) for i in range(threads)]
    workers = [
        threading.Thread(target=run_workload, args=(workload, store, i, threads, seconds, MAX_OPS, stats[i]))
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=seconds + 120)
    _report.add("threads", threads)
    assert not any(worker.is_alive() for worker in workers), "a worker thread hangs"
    return stats


def content_problems(workload: str, store: PersiDict, stats: list[Stats]) -> list[str]:
    """What the store must hold after a workload (as in test_load.py)."""
    problems: list[str] = []
    if workload == "disjoint":
        expected = {name: (int(s["index"]), seq) for s in stats for name, seq in s["last"].items()}
    elif workload == "deleters":
        expected = {name: (int(s["index"]), seq) for s in stats for name, seq in s["live"].items()}
    else:
        for key in store:
            problems += final_value_problems(store, tuple(key), stats)
        return problems
    listed = {key_name(tuple(k)) for k in store}
    if listed != set(expected):
        problems.append(f"extra keys {listed - set(expected)}, lost keys {set(expected) - listed}")
    for name, (writer, seq) in expected.items():
        if name in listed:
            value = store[tuple(name.split("/"))]
            if check_value(value, name) or (value["writer"], value["seq"]) != (writer, seq):
                problems.append(f"{name!r} does not hold its last write")
    return problems


@pytest.mark.parametrize("workload", ["disjoint", "same_keys", "readers", "deleters"])
def test_threads_over_basic_s3_dict(s3_url: str, bucket: str, workload: str) -> None:
    store = BasicS3Dict(
        bucket_name=bucket, endpoint_url=s3_url, root_prefix=workload, max_pool_connections=16
    )
    if workload == "same_keys":
        prefill(store, [("same", f"k{i}") for i in range(8)])
    if workload == "readers":
        prefill(store, [("hot", f"k{i}") for i in range(4)])
    stats = run_threads(workload, store)
    fresh = BasicS3Dict(bucket_name=bucket, endpoint_url=s3_url, root_prefix=workload)
    tally(stats, content_problems(workload, fresh, stats))
    fresh[("after", "run")] = 1
    assert fresh[("after", "run")] == 1


def test_faults_are_retried_and_nothing_is_lost(
    s3_url: str, bucket: str, proxies: Callable[..., S3Proxy]
) -> None:
    BasicS3Dict(bucket_name=bucket, endpoint_url=s3_url)  # the bucket, made without faults
    counter = itertools.count(1)
    lock = threading.Lock()
    faults = [Fault(503, "SlowDown"), Fault(500, "InternalError"), Fault(503, "SlowDown", after_forward=True)]

    def hook(method: str, path: str, number: int) -> Fault | None:
        with lock:
            n = next(counter)
        return faults[(n // 6) % len(faults)] if n % 6 == 0 else None  # 1 request in 6

    proxy = proxies(fault=hook)
    store = BasicS3Dict(
        bucket_name=bucket, endpoint_url=proxy.url, root_prefix="faulty", client_config=RETRYING
    )
    botocore_exceptions = pytest.importorskip("botocore.exceptions")
    drops = itertools.count(1)
    dropped = [0]

    def drop_connection(request: Any, **_: Any) -> None:
        if next(drops) % 9 == 0:  # 1 request in 9 never gets an answer
            dropped[0] += 1
            raise botocore_exceptions.ConnectionClosedError(endpoint_url=request.url)

    store.connection.client.meta.events.register("before-send.s3", drop_connection)
    problems: list[str] = []
    stats: list[Stats] = []
    for workload in ("disjoint", "deleters"):
        sub = store.get_subdict(workload)
        stats += (run := run_threads(workload, sub, seconds=SECONDS))
        clean = BasicS3Dict(bucket_name=bucket, endpoint_url=s3_url, root_prefix=f"faulty/{workload}")
        problems += content_problems(workload, clean, run)
    injected = proxy.statuses[503] + proxy.statuses[500] + dropped[0]
    _report.add("faults", injected)
    tally(stats, problems)
    assert proxy.statuses[503] > 0 and proxy.statuses[500] > 0 and dropped[0] > 0, (proxy.statuses, dropped)


def test_append_only_race_has_exactly_one_winner(
    s3_url: str, bucket: str, proxies: Callable[..., S3Proxy]
) -> None:
    proxy = proxies(serialize_writes=True)
    writers = 8
    stores = [
        BasicS3Dict(bucket_name=bucket, endpoint_url=proxy.url, append_only=True, serialization_format="json")
        for _ in range(writers)
    ]
    problems = []
    for round_number in range(6):
        key = ("race", f"k{round_number}")
        barrier = threading.Barrier(writers)
        outcomes: list[Any] = [None] * writers

        def write(
            i: int,
            key: tuple[str, str] = key,
            barrier: threading.Barrier = barrier,
            outcomes: list[Any] = outcomes,
        ) -> None:
            barrier.wait(timeout=60)
            try:
                stores[i][key] = f"writer {i}"
                outcomes[i] = "won"
            except MutationPolicyError:
                outcomes[i] = "lost"
            except Exception as exc:  # noqa: BLE001 - reported below
                outcomes[i] = repr(exc)

        threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        _report.add("threads", writers)
        _report.add("operations", writers)
        if sorted(map(str, outcomes)) != ["lost"] * (writers - 1) + ["won"]:
            problems.append(f"round {round_number}: {outcomes}")
        elif stores[0][key] != f"writer {outcomes.index('won')}":
            problems.append(f"round {round_number}: the stored value is not the winner's")
    _report.add("violations", len(problems))
    assert not problems, problems


def test_compare_and_swap_counter_under_faults_and_races_is_exact(
    s3_url: str, bucket: str, proxies: Callable[..., S3Proxy]
) -> None:
    """4 threads x transform_item(+1) on one key while 1 PUT in 5 loses its reply after landing.

    Each lost reply makes botocore retry a conditional PUT that had already been applied; the
    retry is refused (412) and must still count as the success it was, even when the other
    threads have written over it meanwhile. Any mistake shows in the final count.
    """
    BasicS3Dict(bucket_name=bucket, endpoint_url=s3_url)
    puts = itertools.count(1)
    lock = threading.Lock()

    def hook(method: str, path: str, number: int) -> Fault | None:
        if method != "PUT" or "/cas/" not in path:
            return None
        with lock:
            n = next(puts)
        return Fault(503, "SlowDown", after_forward=True) if n % 5 == 0 else None

    proxy = proxies(fault=hook, serialize_writes=True)
    stores = [
        BasicS3Dict(bucket_name=bucket, endpoint_url=proxy.url, root_prefix="cas", client_config=RETRYING)
        for _ in range(THREADS)
    ]
    per_thread = 10
    barrier = threading.Barrier(THREADS)
    errors: list[str] = []

    def work(store: BasicS3Dict) -> None:
        barrier.wait(timeout=60)
        try:
            for _ in range(per_thread):
                store.transform_item(
                    "counter", transformer=lambda v: 1 if v is ITEM_NOT_AVAILABLE else v + 1, n_retries=None
                )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    workers = [threading.Thread(target=work, args=(store,)) for store in stores]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    _report.add("threads", THREADS)
    _report.add("operations", THREADS * per_thread)
    _report.add("faults", proxy.statuses[503])
    final = BasicS3Dict(bucket_name=bucket, endpoint_url=s3_url, root_prefix="cas")["counter"]
    problems = errors + (
        [f"counter is {final}, expected {THREADS * per_thread}"] if final != THREADS * per_thread else []
    )
    _report.add("violations", len(problems))
    assert proxy.statuses[503] > 0
    assert not problems, problems
