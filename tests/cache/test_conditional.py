"""Conditional operations through the wrappers: caches follow the results, policies refuse.

The result table of every method is in the conformance suite (every wrapper runs it); here:
what each wrapper's caches hold after a conditional operation (a successful write caches the
new value and ETag, a failed one refreshes from what its result carries, a delete evicts),
the refusals of the append-only and write-once policies, and races between threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from persidict_cache import AppendOnlyDictCached, MutableDictCached, WriteOnceDict
from persidict_core import (
    ALWAYS_RETRIEVE,
    ANY_ETAG,
    DELETE_CURRENT,
    ETAG_IS_THE_SAME,
    ITEM_NOT_AVAILABLE,
    NEVER_RETRIEVE,
    VALUE_NOT_RETRIEVED,
    FileDirDict,
    LocalDict,
    MutationPolicyError,
    PersiDict,
)


def increment(value: Any) -> int:
    return 1 if value is ITEM_NOT_AVAILABLE else int(value) + 1


def etag_of(store: PersiDict, key: str) -> str:
    etag = store.etag(key)
    assert isinstance(etag, str)
    return etag


MainFactory = Callable[..., PersiDict]


@pytest.fixture(params=["local_dict", "file_dir_dict"])
def make_main(request: pytest.FixtureRequest, tmp_path: Path) -> MainFactory:
    """Main stores over one location: every call opens the same data."""
    if request.param == "local_dict":
        shared = LocalDict()
        return lambda **params: LocalDict(backend=shared.backend, **params)
    return lambda **params: FileDirDict(base_dir=tmp_path / "main", **params)


# ----------------------------------------------------------------- MutableDictCached
def test_mutable_cache_follows_conditional_results(make_main: MainFactory) -> None:
    main = make_main()
    data, etags = LocalDict(), LocalDict()
    store = MutableDictCached(main, data, etags)

    inserted = store.setdefault_if("k", default_value=1, condition=ANY_ETAG, expected_etag=ITEM_NOT_AVAILABLE)
    assert inserted.condition_was_satisfied
    assert inserted.resulting_etag == etag_of(main, "k")
    assert (data["k"], etags["k"]) == (1, inserted.resulting_etag)

    written = store.set_item_if(
        "k", value=2, condition=ETAG_IS_THE_SAME, expected_etag=inserted.resulting_etag
    )
    assert written.condition_was_satisfied
    assert (data["k"], etags["k"]) == (2, written.resulting_etag)
    assert written.resulting_etag == etag_of(main, "k")

    # Another writer changes the main store: a refused write carries the new value and ETag,
    # and the caches take them.
    main["k"] = 3
    refused = store.set_item_if(
        "k", value=4, condition=ETAG_IS_THE_SAME, expected_etag=written.resulting_etag
    )
    assert not refused.condition_was_satisfied
    assert refused.new_value == 3
    assert (data["k"], etags["k"]) == (3, etag_of(main, "k"))

    # A refused write that carries no value evicts a cached value of another version.
    main["k"] = 5
    blind = store.set_item_if(
        "k",
        value=6,
        condition=ETAG_IS_THE_SAME,
        expected_etag=refused.actual_etag,
        retrieve_value=NEVER_RETRIEVE,
    )
    assert not blind.condition_was_satisfied and blind.new_value is VALUE_NOT_RETRIEVED
    assert "k" not in data and "k" not in etags
    assert store["k"] == 5

    transformed = store.transform_item("k", transformer=increment)
    assert (data["k"], etags["k"]) == (6, transformed.resulting_etag)

    deleted = store.discard_if("k", condition=ETAG_IS_THE_SAME, expected_etag=transformed.resulting_etag)
    assert deleted.condition_was_satisfied
    assert "k" not in data and "k" not in etags and "k" not in main


def test_mutable_cache_serves_get_item_if_from_the_cache(make_main: MainFactory) -> None:
    store = MutableDictCached(make_main(), LocalDict(), LocalDict())
    store["k"] = {"big": list(range(100))}
    old = etag_of(store, "k")
    store["k"] = {"big": list(range(200))}
    result = store.get_item_if(
        "k", condition=ETAG_IS_THE_SAME, expected_etag=old, retrieve_value=ALWAYS_RETRIEVE
    )
    assert not result.condition_was_satisfied
    assert result.new_value == {"big": list(range(200))}
    assert result.actual_etag == etag_of(store, "k")
    with_etag = store.get_with_etag("k")
    assert (with_etag.new_value, with_etag.actual_etag) == (result.new_value, result.actual_etag)


def test_mutable_cache_pop_and_setdefault_go_through_the_main_store(make_main: MainFactory) -> None:
    main = make_main()
    data, etags = LocalDict(), LocalDict()
    store = MutableDictCached(main, data, etags)
    assert store.setdefault("k", "first") == "first"
    assert store.setdefault("k", "second") == "first"
    assert data["k"] == "first"
    assert store.pop("k") == "first"
    assert "k" not in main and "k" not in data and "k" not in etags
    assert store.pop("k", None) is None


def test_mutable_cache_transform_item_from_8_threads_is_exact(make_main: MainFactory) -> None:
    # Each thread has its own wrapper (own caches) over the same main data.
    wrappers = [MutableDictCached(make_main(), LocalDict(), LocalDict()) for _ in range(8)]
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work(store: PersiDict) -> None:
        barrier.wait(timeout=60)
        try:
            for _ in range(50):
                store.transform_item("counter", transformer=increment, n_retries=None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in wrappers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert [w["counter"] for w in wrappers] == [400] * 8


# ----------------------------------------------------------------- append-only and write-once
def _append_only(make_main: MainFactory) -> PersiDict:
    return AppendOnlyDictCached(make_main(append_only=True), LocalDict())


def _write_once(make_main: MainFactory) -> PersiDict:
    return WriteOnceDict(make_main(append_only=True))


@pytest.mark.parametrize("wrap", [_append_only, _write_once], ids=["AppendOnlyDictCached", "WriteOnceDict"])
def test_append_only_policies_refuse_what_they_must(
    make_main: MainFactory, wrap: Callable[..., PersiDict]
) -> None:
    store = wrap(make_main)
    created = store.setdefault_if(
        "k", default_value="v", condition=ANY_ETAG, expected_etag=ITEM_NOT_AVAILABLE
    )
    assert created.condition_was_satisfied and store["k"] == "v"
    etag = created.resulting_etag
    assert isinstance(etag, str)
    with pytest.raises(MutationPolicyError):
        store.set_item_if("k", value="w", condition=ETAG_IS_THE_SAME, expected_etag=etag)
    with pytest.raises(MutationPolicyError):
        store.set_item_if("k", value=DELETE_CURRENT, condition=ANY_ETAG, expected_etag=etag)
    with pytest.raises(MutationPolicyError):
        store.discard_if("k", condition=ETAG_IS_THE_SAME, expected_etag=etag)
    with pytest.raises(MutationPolicyError):
        store.transform_item("k", transformer=lambda value: value + "!")
    assert store["k"] == "v"
    # A condition that does not hold changes nothing and refuses nothing.
    kept = store.set_item_if("k", value="w", condition=ETAG_IS_THE_SAME, expected_etag=ITEM_NOT_AVAILABLE)
    assert not kept.condition_was_satisfied and kept.actual_etag == etag
    # Creating a key that is absent works, by every method.
    assert store.set_item_if(
        "new", value=1, condition=ETAG_IS_THE_SAME, expected_etag=ITEM_NOT_AVAILABLE
    ).condition_was_satisfied
    assert store.transform_item("counter", transformer=increment).new_value == 1
    assert store.setdefault("other", 2) == 2 and store.setdefault("other", 3) == 2
    assert (store["new"], store["counter"], store["other"]) == (1, 1, 2)


def test_append_only_cache_keeps_what_results_carry(make_main: MainFactory) -> None:
    main = make_main(append_only=True)
    cache = LocalDict()
    store = AppendOnlyDictCached(main, cache)
    store.setdefault_if("mine", default_value=1, condition=ANY_ETAG, expected_etag=ITEM_NOT_AVAILABLE)
    assert cache["mine"] == 1
    main["theirs"] = 2  # written by another process
    seen = store.setdefault_if(
        "theirs",
        default_value=3,
        condition=ETAG_IS_THE_SAME,
        expected_etag=ITEM_NOT_AVAILABLE,
        retrieve_value=ALWAYS_RETRIEVE,
    )
    assert not seen.condition_was_satisfied and seen.new_value == 2
    assert cache["theirs"] == 2


def test_write_once_insert_race_has_one_winner(make_main: MainFactory) -> None:
    stores = [WriteOnceDict(make_main(append_only=True)) for _ in range(8)]
    barrier = threading.Barrier(8)
    results: list[Any] = [None] * 8

    def race(i: int) -> None:
        barrier.wait(timeout=60)
        results[i] = stores[i].setdefault_if(
            "k", default_value=i, condition=ETAG_IS_THE_SAME, expected_etag=ITEM_NOT_AVAILABLE
        )

    threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [i for i, r in enumerate(results) if r.condition_was_satisfied]
    assert len(winners) == 1
    assert stores[0]["k"] == winners[0]
