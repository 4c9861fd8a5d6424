"""The conditional API's names: flags, sentinels, results, errors, and EmptyDict's answers."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from persidict_core import (
    ALWAYS_RETRIEVE,
    ANY_ETAG,
    DELETE_CURRENT,
    ETAG_HAS_CHANGED,
    ETAG_IS_THE_SAME,
    IF_ETAG_CHANGED,
    ITEM_NOT_AVAILABLE,
    KEEP_CURRENT,
    NEVER_RETRIEVE,
    VALUE_NOT_RETRIEVED,
    AlwaysRetrieveFlag,
    AnyETagFlag,
    ConcurrencyConflictError,
    ConditionalOperationResult,
    EmptyDict,
    ETagConditionFlag,
    ETagHasChangedFlag,
    ETagIsTheSameFlag,
    IfETagChangedRetrieveFlag,
    ItemNotAvailableFlag,
    NeverRetrieveFlag,
    OperationResult,
    PersiDictError,
    RetrieveValueFlag,
    ValueNotRetrievedFlag,
)

persidict = pytest.importorskip("persidict")  # the facade exports are checked here too

FLAGS: list[tuple[Any, type, type, str]] = [
    (ANY_ETAG, AnyETagFlag, ETagConditionFlag, "ANY_ETAG"),
    (ETAG_IS_THE_SAME, ETagIsTheSameFlag, ETagConditionFlag, "ETAG_IS_THE_SAME"),
    (ETAG_HAS_CHANGED, ETagHasChangedFlag, ETagConditionFlag, "ETAG_HAS_CHANGED"),
    (ALWAYS_RETRIEVE, AlwaysRetrieveFlag, RetrieveValueFlag, "ALWAYS_RETRIEVE"),
    (NEVER_RETRIEVE, NeverRetrieveFlag, RetrieveValueFlag, "NEVER_RETRIEVE"),
    (IF_ETAG_CHANGED, IfETagChangedRetrieveFlag, RetrieveValueFlag, "IF_ETAG_CHANGED"),
    (ITEM_NOT_AVAILABLE, ItemNotAvailableFlag, ItemNotAvailableFlag, "ITEM_NOT_AVAILABLE"),
    (VALUE_NOT_RETRIEVED, ValueNotRetrievedFlag, ValueNotRetrievedFlag, "VALUE_NOT_RETRIEVED"),
]


@pytest.mark.parametrize(("flag", "cls", "base", "name"), FLAGS)
def test_flags_are_named_singletons_that_survive_pickling(
    flag: Any, cls: type, base: type, name: str
) -> None:
    assert type(flag) is cls and isinstance(flag, base)
    assert cls() is flag
    assert pickle.loads(pickle.dumps(flag)) is flag
    assert copy.copy(flag) is flag and copy.deepcopy(flag) is flag
    assert repr(flag) == name
    assert getattr(persidict, name) is flag and getattr(persidict, cls.__name__) is cls


def test_item_not_available_equals_only_itself() -> None:
    sentinel: Any = ITEM_NOT_AVAILABLE
    assert sentinel == ITEM_NOT_AVAILABLE
    assert sentinel != VALUE_NOT_RETRIEVED
    assert sentinel != "ITEM_NOT_AVAILABLE"
    assert sentinel != None  # noqa: E711
    assert ETAG_IS_THE_SAME.is_satisfied(ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE)
    assert ETAG_HAS_CHANGED.is_satisfied("e", ITEM_NOT_AVAILABLE)


def test_results_are_frozen_generic_dataclasses() -> None:
    result: ConditionalOperationResult[int] = ConditionalOperationResult(True, "e1", "e2", 5)
    assert (result.condition_was_satisfied, result.actual_etag, result.resulting_etag, result.new_value) == (
        True,
        "e1",
        "e2",
        5,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.new_value = 6  # type: ignore[misc]
    outcome: OperationResult[int] = OperationResult("e", 1)
    assert pickle.loads(pickle.dumps(outcome)) == outcome
    assert persidict.ConditionalOperationResult is ConditionalOperationResult
    assert persidict.OperationResult is OperationResult


def test_concurrency_conflict_error_carries_key_and_attempts() -> None:
    error = ConcurrencyConflictError(("a", "b"), 7)
    assert (error.key, error.attempts) == (("a", "b"), 7)
    assert isinstance(error, RuntimeError) and isinstance(error, PersiDictError)
    assert "7" in str(error) and "'a', 'b'" in str(error)
    copied = pickle.loads(pickle.dumps(error))
    assert (copied.key, copied.attempts) == (("a", "b"), 7)


def test_empty_dict_answers_as_an_always_empty_store() -> None:
    store = EmptyDict()
    absent: ConditionalOperationResult[Any] = ConditionalOperationResult(
        True, ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE
    )
    assert store.get_with_etag("k") == absent
    assert store.setdefault("k", 1) == 1  # stored, and gone at once, as every write here
    assert "k" not in store
    written = store.set_item_if("k", value=1, condition=ETAG_IS_THE_SAME, expected_etag=ITEM_NOT_AVAILABLE)
    assert written == absent
    stale = store.set_item_if("k", value=1, condition=ETAG_IS_THE_SAME, expected_etag="e")
    assert stale == dataclasses.replace(absent, condition_was_satisfied=False)
    assert (
        store.setdefault_if("k", default_value=2, condition=ANY_ETAG, expected_etag=ITEM_NOT_AVAILABLE)
        == absent
    )
    assert store.discard_if("k", condition=ANY_ETAG, expected_etag="e") == absent
    assert store.set_item_if("k", value=DELETE_CURRENT, condition=ANY_ETAG, expected_etag="e") == absent
    assert store.set_item_if("k", value=KEEP_CURRENT, condition=ANY_ETAG, expected_etag="e") == absent
    assert store.transform_item("k", transformer=lambda value: 1) == OperationResult(
        ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE
    )
    assert store.get_item_if("k", condition=ETAG_HAS_CHANGED, expected_etag="e") == absent
    assert store.pop("k", "default") == "default"
    with pytest.raises(TypeError):
        store.set_item_if("k", value=EmptyDict(), condition=ANY_ETAG, expected_etag="e")
    with pytest.raises(ValueError, match="condition"):
        store.get_item_if("k", condition=NEVER_RETRIEVE, expected_etag="e")  # type: ignore[arg-type]
