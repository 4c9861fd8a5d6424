"""LocalDict hands every read its own copy, made the cheapest correct way for the value."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from persidict_core import LocalDict
from persidict_safestr import NonEmptySafeStrTuple

np = pytest.importorskip("numpy")  # the whole module is about numpy values

KEY = NonEmptySafeStrTuple("k")


@pytest.mark.parametrize(
    "value",
    [
        [1, 2.5, "x", None, b"y"],
        {"a": 1, "b": "two", 3: None},
        {1, 2, 3},
        bytearray(b"abc"),
        [[1], [2]],  # a list of lists: deep, via the stored pickle
        {"a": [1, 2]},
        ([1], 2),  # a tuple holding a list is mutable
    ],
    ids=["flat-list", "flat-dict", "set", "bytearray", "nested-list", "nested-dict", "tuple-with-list"],
)
def test_mutating_a_read_value_never_changes_the_store(value: Any) -> None:
    store = LocalDict()
    store["k"] = value
    expected = copy.deepcopy(value)
    first = store["k"]
    assert first == expected and first is not store["k"]
    if isinstance(first, tuple):
        first[0].append(99)
    elif isinstance(first, dict):
        first["new"] = 1
        for item in first.values():
            if isinstance(item, list):
                item.append(99)
    elif isinstance(first, set):
        first.add(99)
    else:
        first.append(99)  # list or bytearray
        for item in first:
            if isinstance(item, list):
                item.append(99)
    assert store["k"] == expected
    assert type(store["k"]) is type(value)


def test_mutating_the_written_object_never_changes_the_store() -> None:
    store = LocalDict()
    flat, nested = [1, 2], {"a": [1]}
    store["flat"], store["nested"] = flat, nested
    flat.append(3)
    nested["a"].append(2)
    assert store["flat"] == [1, 2] and store["nested"] == {"a": [1]}


def test_immutable_values_are_handed_out_without_a_copy() -> None:
    store = LocalDict()
    for value in ("text", b"bytes", 12345678901234, (1, "a", None), frozenset({1})):
        store["k"] = value
        assert store["k"] is store["k"]
        assert store["k"] == value


def test_numpy_arrays_are_copied_with_their_layout() -> None:
    store = LocalDict()
    array = np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4))
    store["k"] = array
    read = store["k"]
    assert read.dtype == np.float32 and read.flags.f_contiguous and np.array_equal(read, array)
    read[0, 0] = -1
    array[0, 1] = -1
    assert np.array_equal(store["k"], np.arange(12, dtype=np.float32).reshape(3, 4))


def test_object_arrays_are_copied_deeply() -> None:
    store = LocalDict()
    array = np.empty(2, dtype=object)
    array[0], array[1] = [1], [2]
    store["k"] = array
    read = store["k"]
    read[0].append(5)
    assert store["k"][0] == [1]


def test_subclasses_of_containers_keep_their_class() -> None:
    class Tagged(list[int]):
        tag = "t"

    store = LocalDict()
    store["k"] = Tagged([1, 2])
    assert type(store["k"]) is Tagged and store["k"] == [1, 2]


def test_uncopied_reads_share_one_object_and_leave_copies_intact() -> None:
    store = LocalDict()
    store["flat"] = [1, 2]
    store["nested"] = {"a": [1]}
    store["text"] = "t"
    for name in ("flat", "nested", "text"):
        key = NonEmptySafeStrTuple(name)
        assert store.read_value_uncopied(key) is store.read_value_uncopied(key)
    shared = store.read_value_uncopied(NonEmptySafeStrTuple("nested"))
    assert shared == {"a": [1]} and shared is not store["nested"]
    with pytest.raises(KeyError):
        store.read_value_uncopied(NonEmptySafeStrTuple("absent"))


def test_stores_with_copied_values_pickle_and_deepcopy() -> None:
    store = LocalDict()
    store["flat"] = [1, 2]
    store["array"] = np.arange(3)
    store["nested"] = {"a": [1]}
    store.read_value_uncopied(NonEmptySafeStrTuple("nested"))
    for same in (pickle.loads(pickle.dumps(store)), copy.deepcopy(store)):
        assert same["flat"] == [1, 2] and same["nested"] == {"a": [1]}
        assert np.array_equal(same["array"], np.arange(3))
    # An unpickled store holds its own contents; a deep copy opens the same location (as copy does).
    restored = pickle.loads(pickle.dumps(store))
    restored["flat"] = [9]
    assert store["flat"] == [1, 2]
