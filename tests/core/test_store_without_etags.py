"""A store that keeps values but has no ETags: the conditional operations end, with correct results.

Its `write_entry` returns None (no ETag) and the default conditional primitives are the base
class's. Such a store reports ``""`` as every present key's ETag to the conditional operations,
and a write they make reports ``""`` too, so a write that took place is never mistaken for a
lost race (which would make ``set_item_if`` loop forever and ``transform_item`` give up).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Literal

import pytest

from persidict_core import (
    ANY_ETAG,
    ETAG_HAS_CHANGED,
    ETAG_IS_THE_SAME,
    ITEM_NOT_AVAILABLE,
    KEEP_CURRENT,
    PersiDict,
    StoreConfig,
)
from persidict_safestr import NonEmptySafeStrTuple, SafeStrTuple


class NoETagDictConfig(StoreConfig):
    kind: Literal["no_etag_dict"] = "no_etag_dict"


class NoETagDict(PersiDict):
    """Values in a plain dict, no ETags, and the base class's (check, then act) primitives."""

    config_class: ClassVar[type[StoreConfig]] = NoETagDictConfig
    provides_etags: ClassVar[bool] = False

    def __init__(self, **params: Any) -> None:
        super().__init__(self.make_config(params))
        self._items: dict[NonEmptySafeStrTuple, tuple[Any, float]] = {}

    def read_entry(self, key: NonEmptySafeStrTuple) -> tuple[Any, str | None]:
        return copy.deepcopy(self._items[key][0]), None

    def write_entry(
        self, key: NonEmptySafeStrTuple, value: Any, *, only_if_absent: bool = False
    ) -> str | None:
        if only_if_absent and key in self._items:
            raise self._refuse_mutation(key, "overwrite")
        self._items[key] = (copy.deepcopy(value), time.time())
        return None

    def delete_entry(self, key: NonEmptySafeStrTuple) -> bool:
        return self._items.pop(key, None) is not None

    def has_entry(self, key: NonEmptySafeStrTuple) -> bool:
        return key in self._items

    def entry_timestamp(self, key: NonEmptySafeStrTuple) -> float:
        return self._items[key][1]

    def entry_etag(self, key: NonEmptySafeStrTuple) -> str | None:
        self._items[key]  # KeyError if absent
        return None

    def iter_entries(
        self, with_values: bool, with_timestamps: bool
    ) -> Iterator[tuple[NonEmptySafeStrTuple, Any, float | None]]:
        for key, (value, timestamp) in list(self._items.items()):
            yield key, value if with_values else None, timestamp if with_timestamps else None

    def subdict_at(self, prefix: SafeStrTuple) -> PersiDict:
        raise NotImplementedError("not needed here")


def _within_seconds(call: Callable[[], Any], seconds: float = 10.0) -> Any:
    """Run ``call`` on a thread; fail (instead of hanging the run) if it does not end in time."""
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:
            outcome.append((False, exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the operation did not end: it loops"
    succeeded, value = outcome[0]
    if not succeeded:
        raise value
    return value


@pytest.fixture
def store() -> NoETagDict:
    return NoETagDict()


def test_set_item_if_on_an_absent_key_writes_once_and_ends(store: NoETagDict) -> None:
    result = _within_seconds(
        lambda: store.set_item_if("k", value=1, condition=ETAG_IS_THE_SAME, expected_etag=ITEM_NOT_AVAILABLE)
    )
    assert result.condition_was_satisfied
    assert result.actual_etag is ITEM_NOT_AVAILABLE
    assert result.resulting_etag == ""
    assert result.new_value == 1
    assert store["k"] == 1


def test_set_item_if_over_a_present_key_compares_the_empty_etag(store: NoETagDict) -> None:
    store["k"] = 1
    result = _within_seconds(
        lambda: store.set_item_if("k", value=2, condition=ETAG_IS_THE_SAME, expected_etag="")
    )
    assert (result.condition_was_satisfied, result.actual_etag, result.resulting_etag) == (True, "", "")
    assert result.new_value == 2
    refused = store.set_item_if("k", value=3, condition=ETAG_HAS_CHANGED, expected_etag="")
    assert not refused.condition_was_satisfied
    assert store["k"] == 2


def test_setdefault_if_reports_the_absent_key_it_filled(store: NoETagDict) -> None:
    result = _within_seconds(
        lambda: store.setdefault_if(
            "k", default_value=5, condition=ANY_ETAG, expected_etag=ITEM_NOT_AVAILABLE
        )
    )
    assert result.condition_was_satisfied
    assert result.actual_etag is ITEM_NOT_AVAILABLE  # it was absent: this call created it
    assert (result.resulting_etag, result.new_value) == ("", 5)
    again = store.setdefault_if("k", default_value=6, condition=ANY_ETAG, expected_etag=ITEM_NOT_AVAILABLE)
    assert again.actual_etag == ""
    assert store["k"] == 5


def test_transform_item_succeeds_at_the_first_attempt(store: NoETagDict) -> None:
    calls: list[Any] = []

    def increment(value: Any) -> Any:
        calls.append(value)
        return 1 if value is ITEM_NOT_AVAILABLE else value + 1

    first = _within_seconds(lambda: store.transform_item("n", transformer=increment, n_retries=0))
    second = _within_seconds(lambda: store.transform_item("n", transformer=increment, n_retries=None))
    assert (first.resulting_etag, first.new_value) == ("", 1)
    assert (second.resulting_etag, second.new_value) == ("", 2)
    assert calls == [ITEM_NOT_AVAILABLE, 1]  # one call each: no write was taken for a lost race
    assert store["n"] == 2


def test_keep_current_and_delete_end_too(store: NoETagDict) -> None:
    store["k"] = 1
    kept = _within_seconds(lambda: store.transform_item("k", transformer=lambda value: KEEP_CURRENT))
    assert (kept.resulting_etag, kept.new_value) == ("", 1)
    deleted = _within_seconds(lambda: store.discard_if("k", condition=ETAG_IS_THE_SAME, expected_etag=""))
    assert deleted.condition_was_satisfied
    assert "k" not in store


def test_setdefault_and_pop_end(store: NoETagDict) -> None:
    assert _within_seconds(lambda: store.setdefault("k", 7)) == 7
    assert _within_seconds(lambda: store.pop("k")) == 7
    assert "k" not in store
