"""Conditional operations on S3 over real HTTP: races, lost acknowledgements, conditional GETs.

Every race runs real threads, each with its own `BasicS3Dict` (own client, own connection
pool), against moto's HTTP server behind our proxy. moto evaluates ``If-Match`` and
``If-None-Match`` but then writes without a lock, so the proxy forwards the PUTs and DELETEs
of one object one at a time, as S3 does; with that, S3's atomic check-and-write is what the
clients race against, and outcomes are counted exactly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from persidict_cache import MutableDictCached
from persidict_core import (
    ANY_ETAG,
    ETAG_HAS_CHANGED,
    ETAG_IS_THE_SAME,
    IF_ETAG_CHANGED,
    ITEM_NOT_AVAILABLE,
    NEVER_RETRIEVE,
    VALUE_NOT_RETRIEVED,
    LocalDict,
    PersiDict,
)
from persidict_s3 import BasicS3Dict, S3Dict
from tests.s3._proxy import Fault, S3Proxy
from tests.s3.conftest import GetObjectMeter

MakeProxy = Callable[..., S3Proxy]
# Enough retries that injected faults never exhaust them.
RETRYING: dict[str, Any] = {"retries": {"mode": "standard", "max_attempts": 8}}


def increment(value: Any) -> int:
    return 1 if value is ITEM_NOT_AVAILABLE else int(value) + 1


def run_threads(count: int, target: Callable[[int], Any]) -> list[Any]:
    """Run ``target(i)`` on ``count`` threads started together; return results or exceptions."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait(timeout=60)
        try:
            results[i] = target(i)
        except Exception as exc:  # noqa: BLE001 - returned to the test, which reports it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a thread hangs"
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    return results


def write(store: PersiDict, key: str, value: Any) -> str:
    """Store ``value`` and return its ETag."""
    etag = store.set_item_get_etag(key, value)
    assert isinstance(etag, str)
    return etag


def stores_over(proxy: S3Proxy, bucket: str, count: int, **params: Any) -> list[BasicS3Dict]:
    return [BasicS3Dict(bucket, endpoint_url=proxy.url, **params) for _ in range(count)]


# ---------------------------------------------------------------- races
def test_transform_item_from_4_threads_leaves_the_exact_count(
    make_proxy: MakeProxy, bucket_name: str
) -> None:
    proxy = make_proxy(serialize_writes=True)
    stores = stores_over(proxy, bucket_name, 4)
    per_thread = 25
    calls = [0] * 4

    def work(i: int) -> None:
        def counted(value: Any) -> int:
            calls[i] += 1
            return increment(value)

        for _ in range(per_thread):
            stores[i].transform_item("counter", transformer=counted, n_retries=None)

    run_threads(4, work)
    assert stores[0]["counter"] == 4 * per_thread
    # The threads did race: some compare-and-swaps were refused and retried.
    assert proxy.statuses[412] > 0
    assert sum(calls) == 4 * per_thread + proxy.statuses[412]


@pytest.mark.parametrize("racers", [8])
def test_of_n_set_item_if_racers_exactly_one_wins(
    make_proxy: MakeProxy, bucket_name: str, racers: int
) -> None:
    proxy = make_proxy(serialize_writes=True)
    stores = stores_over(proxy, bucket_name, racers)
    for round_number in range(4):
        key = f"k{round_number}"
        start = write(stores[0], key, "start")

        def race(i: int, key: str = key, start: str = start) -> Any:
            return stores[i].set_item_if(
                key, value=f"writer {i}", condition=ETAG_IS_THE_SAME, expected_etag=start
            )

        results = run_threads(racers, race)
        winners = [i for i, r in enumerate(results) if r.condition_was_satisfied]
        assert len(winners) == 1, results
        winner = results[winners[0]]
        assert stores[0][key] == f"writer {winners[0]}" == winner.new_value
        assert stores[0].etag(key) == winner.resulting_etag
        for loser in (r for r in results if not r.condition_was_satisfied):
            assert loser.actual_etag != start
            assert loser.resulting_etag == loser.actual_etag


def test_of_n_discard_if_racers_exactly_one_wins(make_proxy: MakeProxy, bucket_name: str) -> None:
    proxy = make_proxy(serialize_writes=True)
    stores = stores_over(proxy, bucket_name, 6)
    for round_number in range(4):
        key = f"k{round_number}"
        start = write(stores[0], key, "doomed")

        def race(i: int, key: str = key, start: str = start) -> Any:
            return stores[i].discard_if(key, condition=ETAG_IS_THE_SAME, expected_etag=start)

        results = run_threads(6, race)
        assert sum(r.condition_was_satisfied for r in results) == 1, results
        assert key not in stores[0]


def test_setdefault_race_gives_every_caller_the_stored_value(make_proxy: MakeProxy, bucket_name: str) -> None:
    proxy = make_proxy(serialize_writes=True)
    stores = stores_over(proxy, bucket_name, 6)
    for round_number in range(4):
        key = f"k{round_number}"

        def race(i: int, key: str = key) -> Any:
            return stores[i].setdefault(key, f"writer {i}")

        results = run_threads(6, race)
        stored = stores[0][key]
        assert results == [stored] * 6


def test_setdefault_if_race_has_one_inserter(make_proxy: MakeProxy, bucket_name: str) -> None:
    proxy = make_proxy(serialize_writes=True)
    stores = stores_over(proxy, bucket_name, 6)
    results = run_threads(
        6,
        lambda i: stores[i].setdefault_if(
            "k", default_value=i, condition=ETAG_IS_THE_SAME, expected_etag=ITEM_NOT_AVAILABLE
        ),
    )
    inserted = [r for r in results if r.condition_was_satisfied]
    assert len(inserted) == 1
    assert stores[0]["k"] == inserted[0].new_value


# ---------------------------------------------------------------- faults and lost replies
def _first(method: str, fault: Fault) -> Callable[[str, str, int], Fault | None]:
    """A hook failing the first request of ``method`` whose path is an object (not the bucket)."""
    fired = threading.Event()

    def hook(request_method: str, path: str, number: int) -> Fault | None:
        is_object = "/" in path.split("?", 1)[0].strip("/")
        if request_method == method and is_object and not fired.is_set():
            fired.set()
            return fault
        return None

    return hook


@pytest.mark.parametrize("after_forward", [False, True], ids=["before", "after"])
@pytest.mark.parametrize("status,code", [(500, "InternalError"), (503, "SlowDown")])
def test_a_conditional_put_through_a_5xx_ends_with_the_right_answer(
    make_proxy: MakeProxy, bucket_name: str, after_forward: bool, status: int, code: str
) -> None:
    writer = BasicS3Dict(bucket_name, endpoint_url=make_proxy().url)
    etag = write(writer, "k", "old")
    proxy = make_proxy(fault=_first("PUT", Fault(status, code, after_forward=after_forward)))
    store = BasicS3Dict(bucket_name, endpoint_url=proxy.url, client_config=RETRYING)
    result = store.set_item_if("k", value="new", condition=ETAG_IS_THE_SAME, expected_etag=etag)
    assert proxy.statuses[status] == 1  # the fault did happen
    # botocore retried; after a landed first attempt the retry was refused (412), and the
    # write was still recognized as ours.
    assert proxy.statuses[412] == (1 if after_forward else 0)
    assert result.condition_was_satisfied
    assert result.resulting_etag == writer.etag("k") != etag
    assert writer["k"] == "new" == result.new_value


@pytest.mark.parametrize("after_forward", [False, True], ids=["before", "after"])
def test_an_insert_if_absent_through_a_5xx_ends_with_the_right_answer(
    make_proxy: MakeProxy, bucket_name: str, after_forward: bool
) -> None:
    BasicS3Dict(bucket_name, endpoint_url=make_proxy().url)
    proxy = make_proxy(fault=_first("PUT", Fault(500, "InternalError", after_forward=after_forward)))
    store = BasicS3Dict(bucket_name, endpoint_url=proxy.url, client_config=RETRYING)
    result = store.setdefault_if(
        "k", default_value="mine", condition=ANY_ETAG, expected_etag=ITEM_NOT_AVAILABLE
    )
    assert result.condition_was_satisfied
    assert result.new_value == "mine" == store["k"]
    assert result.resulting_etag == store.etag("k")
    assert store.setdefault("k", "other") == "mine"


@pytest.mark.parametrize("after_forward", [False, True], ids=["before", "after"])
def test_a_conditional_delete_through_a_5xx_ends_with_the_right_answer(
    make_proxy: MakeProxy, bucket_name: str, after_forward: bool
) -> None:
    writer = BasicS3Dict(bucket_name, endpoint_url=make_proxy().url)
    etag = write(writer, "k", "doomed")
    proxy = make_proxy(fault=_first("DELETE", Fault(500, "InternalError", after_forward=after_forward)))
    store = BasicS3Dict(bucket_name, endpoint_url=proxy.url, client_config=RETRYING)
    result = store.discard_if("k", condition=ETAG_IS_THE_SAME, expected_etag=etag)
    assert proxy.statuses[500] == 1
    assert result.condition_was_satisfied
    assert result.resulting_etag is ITEM_NOT_AVAILABLE
    assert "k" not in writer


def test_a_lost_race_is_not_mistaken_for_a_lost_reply(make_proxy: MakeProxy, bucket_name: str) -> None:
    # Our first attempt fails before reaching the server, another writer then replaces the
    # object, and botocore's retry is refused: that is a lost race, not a lost reply.
    writer = BasicS3Dict(bucket_name, endpoint_url=make_proxy().url)
    etag = write(writer, "k", "old")

    def fault(method: str, path: str, number: int) -> Fault | None:
        if method == "PUT" and "/k." in path and not fired.is_set():
            fired.set()
            writer["k"] = "someone else"  # lands while our request waits for its retry
            return Fault(503, "SlowDown")
        return None

    fired = threading.Event()
    store = BasicS3Dict(bucket_name, endpoint_url=make_proxy(fault=fault).url, client_config=RETRYING)
    result = store.set_item_if("k", value="mine", condition=ETAG_IS_THE_SAME, expected_etag=etag)
    assert not result.condition_was_satisfied
    assert writer["k"] == "someone else"
    assert result.actual_etag == writer.etag("k")


def test_transform_item_with_lost_replies_and_races_leaves_the_exact_count(
    make_proxy: MakeProxy, bucket_name: str
) -> None:
    # One PUT in four lands and then loses its reply; meanwhile the other threads read the
    # new value and write over it. Each thread must still recognize its landed write (the
    # versions written over it record its write id), or the count would come out too high.
    BasicS3Dict(bucket_name, endpoint_url=make_proxy().url)
    counter = [0]
    lock = threading.Lock()

    def fault(method: str, path: str, number: int) -> Fault | None:
        if method != "PUT" or "/counter." not in path:
            return None
        with lock:
            counter[0] += 1
            return Fault(500, "InternalError", after_forward=True) if counter[0] % 4 == 0 else None

    proxy = make_proxy(serialize_writes=True, fault=fault)
    stores = stores_over(proxy, bucket_name, 4, client_config=RETRYING)
    per_thread = 15

    def work(i: int) -> None:
        for _ in range(per_thread):
            stores[i].transform_item("counter", transformer=increment, n_retries=None)

    run_threads(4, work)
    assert proxy.statuses[500] > 0
    assert stores[0]["counter"] == 4 * per_thread


# ---------------------------------------------------------------- conditional GET
def test_get_item_if_with_a_matching_etag_transfers_no_value(
    make_proxy: MakeProxy, bucket_name: str, meter: GetObjectMeter
) -> None:
    proxy = make_proxy()
    store = BasicS3Dict(bucket_name, endpoint_url=proxy.url)
    etag = write(store, "k", list(range(1000)))
    meter.attach(store.connection.client)
    proxy.reset_counts()
    result = store.get_item_if(
        "k", condition=ETAG_IS_THE_SAME, expected_etag=etag, retrieve_value=IF_ETAG_CHANGED
    )
    assert result.condition_was_satisfied
    assert result.actual_etag == etag
    assert result.new_value is VALUE_NOT_RETRIEVED
    assert meter.calls == ["GetObject"]
    assert meter.get_statuses == [304]
    assert meter.value_bytes == 0
    assert proxy.requests == {"GET": 1} and proxy.body_bytes["GET"] == 0


def test_get_with_etag_is_one_get(make_proxy: MakeProxy, bucket_name: str, meter: GetObjectMeter) -> None:
    store = BasicS3Dict(bucket_name, endpoint_url=make_proxy().url)
    etag = write(store, "k", {"a": 1})
    meter.attach(store.connection.client)
    result = store.get_with_etag("k")
    assert (result.new_value, result.actual_etag) == ({"a": 1}, etag)
    assert meter.calls == ["GetObject"]
    meter.reset()
    absent = store.get_with_etag("nothing")
    assert absent.new_value is ITEM_NOT_AVAILABLE and absent.actual_etag is ITEM_NOT_AVAILABLE
    assert meter.calls == ["GetObject"]


def test_a_changed_etag_fetches_the_value_in_the_same_get(
    make_proxy: MakeProxy, bucket_name: str, meter: GetObjectMeter
) -> None:
    store = BasicS3Dict(bucket_name, endpoint_url=make_proxy().url)
    old = write(store, "k", 1)
    new = write(store, "k", 2)
    meter.attach(store.connection.client)
    result = store.get_item_if("k", condition=ETAG_HAS_CHANGED, expected_etag=old)
    assert result.condition_was_satisfied and result.new_value == 2 and result.actual_etag == new
    assert meter.calls == ["GetObject"] and meter.get_statuses == [200]
    meter.reset()
    unchanged = store.get_item_if("k", condition=ETAG_HAS_CHANGED, expected_etag=new)
    assert not unchanged.condition_was_satisfied and unchanged.new_value is VALUE_NOT_RETRIEVED
    assert meter.get_statuses == [304]


# ---------------------------------------------------------------- the same through the wrappers
def _s3dict(url: str, bucket: str, tmp_path: Path, i: int) -> PersiDict:
    return S3Dict(bucket, endpoint_url=url, base_dir=tmp_path / f"cache{i}")


def _cached(url: str, bucket: str, tmp_path: Path, i: int) -> PersiDict:
    return MutableDictCached(BasicS3Dict(bucket, endpoint_url=url), LocalDict(), LocalDict())


@pytest.mark.parametrize("make_store", [_s3dict, _cached], ids=["S3Dict", "MutableDictCached"])
def test_wrappers_race_like_the_store(
    make_proxy: MakeProxy, bucket_name: str, tmp_path: Path, make_store: Callable[..., PersiDict]
) -> None:
    proxy = make_proxy(serialize_writes=True)
    stores = [make_store(proxy.url, bucket_name, tmp_path, i) for i in range(4)]
    run_threads(
        4,
        lambda i: [
            stores[i].transform_item("counter", transformer=increment, n_retries=None) for _ in range(15)
        ],
    )
    assert [store["counter"] for store in stores] == [60] * 4  # every cache serves the final value
    start = write(stores[0], "k", "start")
    results = run_threads(
        4,
        lambda i: stores[i].set_item_if("k", value=i, condition=ETAG_IS_THE_SAME, expected_etag=start),
    )
    winners = [i for i, r in enumerate(results) if r.condition_was_satisfied]
    assert len(winners) == 1
    assert [store["k"] for store in stores] == [winners[0]] * 4


@pytest.mark.parametrize("make_store", [_s3dict, _cached], ids=["S3Dict", "MutableDictCached"])
def test_wrappers_answer_a_matching_etag_with_one_304(
    make_proxy: MakeProxy, bucket_name: str, tmp_path: Path, make_store: Callable[..., PersiDict]
) -> None:
    proxy = make_proxy()
    store = make_store(proxy.url, bucket_name, tmp_path, 0)
    etag = write(store, "k", list(range(1000)))
    proxy.reset_counts()
    result = store.get_item_if("k", condition=ETAG_IS_THE_SAME, expected_etag=etag)
    assert result.condition_was_satisfied and result.new_value is VALUE_NOT_RETRIEVED
    assert proxy.requests == {"GET": 1} and proxy.statuses == {304: 1}
    proxy.reset_counts()
    seen = store.get_item_if(
        "k", condition=ETAG_IS_THE_SAME, expected_etag=etag, retrieve_value=NEVER_RETRIEVE
    )
    assert seen.actual_etag == etag
    assert proxy.body_bytes["GET"] == 0


@pytest.mark.parametrize("make_store", [_s3dict, _cached], ids=["S3Dict", "MutableDictCached"])
def test_wrappers_refresh_their_cache_from_conditional_results(
    make_proxy: MakeProxy, bucket_name: str, tmp_path: Path, make_store: Callable[..., PersiDict]
) -> None:
    url = make_proxy().url
    store = make_store(url, bucket_name, tmp_path, 0)
    other = BasicS3Dict(bucket_name, endpoint_url=url)
    etag = write(store, "k", "mine")
    assert store["k"] == "mine"
    other["k"] = "theirs"  # behind the wrapper's back
    refused = store.set_item_if("k", value="again", condition=ETAG_IS_THE_SAME, expected_etag=etag)
    assert not refused.condition_was_satisfied and refused.new_value == "theirs"
    assert store["k"] == "theirs"
    done = store.set_item_if("k", value="last", condition=ETAG_IS_THE_SAME, expected_etag=refused.actual_etag)
    assert done.condition_was_satisfied and store["k"] == "last" == other["k"]
    gone = store.discard_if("k", condition=ETAG_IS_THE_SAME, expected_etag=done.resulting_etag)
    assert gone.condition_was_satisfied
    assert "k" not in store and store.get("k") is None
