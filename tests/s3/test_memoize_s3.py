"""memoize over S3: 4 threads, each with its own BasicS3Dict (own client), over moto's HTTP server.

The proxy forwards the PUTs and DELETEs of one object one at a time, as S3 does (moto checks
``If-None-Match`` / ``If-Match`` but writes without a lock), so the lease and the write-once
result race against S3's own atomic conditional writes. Body runs are logged to a file opened
with O_APPEND and counted exactly.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from persidict_s3 import BasicS3Dict, S3Dict
from tests.cache._memo_workers import memoized_slow_square, runs
from tests.s3._proxy import S3Proxy

MakeProxy = Callable[..., S3Proxy]


def _four_threads_times_five_calls(stores: list[Any], log: str) -> list[dict[int, Any]]:
    squares = [memoized_slow_square(store, lease_seconds=5.0) for store in stores]
    barrier = threading.Barrier(len(stores))
    answers: list[dict[int, Any]] = [{} for _ in stores]

    def caller(i: int) -> None:
        barrier.wait(timeout=60)
        for x in range(5):
            try:
                answers[i][x] = squares[i](x, log)
            except Exception as exc:  # noqa: BLE001 - compared below
                answers[i][x] = exc

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert sum(square.stats().computations for square in squares) == 5
    assert sum(square.stats().waits for square in squares) >= 1
    return answers


def test_four_threads_over_basic_s3_dict_compute_each_result_once(
    make_proxy: MakeProxy, bucket_name: str, tmp_path: Path
) -> None:
    proxy = make_proxy(serialize_writes=True)
    log = str(tmp_path / "runs.log")
    stores = [BasicS3Dict(bucket_name, endpoint_url=proxy.url, root_prefix="memo") for _ in range(4)]
    answers = _four_threads_times_five_calls(stores, log)
    assert Counter(runs(log)) == {str(x): 1 for x in range(5)}
    assert answers == [{x: {"x": x, "square": x * x} for x in range(5)}] * 4
    keys = sorted(tuple(k) for k in stores[0].keys())
    assert len(keys) == 5  # results only: every lease was deleted
    assert all(k[:2] == ("tests.cache._memo_workers", "slow_square") for k in keys)


def test_four_threads_over_s3_dict_with_local_caches(
    make_proxy: MakeProxy, bucket_name: str, tmp_path: Path
) -> None:
    proxy = make_proxy(serialize_writes=True)
    log = str(tmp_path / "runs.log")
    stores = [
        S3Dict(bucket_name=bucket_name, endpoint_url=proxy.url, base_dir=tmp_path / f"cache{i}")
        for i in range(4)
    ]
    answers = _four_threads_times_five_calls(stores, log)
    assert Counter(runs(log)) == {str(x): 1 for x in range(5)}
    assert answers == [{x: {"x": x, "square": x * x} for x in range(5)}] * 4
