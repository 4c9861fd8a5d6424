"""WriteOnceDict: the first write wins, consistency checks, counters, errors."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from persidict_cache import WriteOnceDict
from persidict_core import (
    DELETE_CURRENT,
    KEEP_CURRENT,
    ConsistencyCheckError,
    FileDirDict,
    LocalDict,
    MutationPolicyError,
)


@pytest.fixture
def wrapped(tmp_path: Path) -> FileDirDict:
    return FileDirDict(base_dir=tmp_path / "wrapped", append_only=True)


def test_rewrites_are_ignored(wrapped: FileDirDict) -> None:
    store = WriteOnceDict(wrapped)
    store["k"] = "first"
    store["k"] = "second"
    store.update({"k": "third"})
    assert store["k"] == "first"
    assert store.consistency_checks_attempted == 0


def test_no_check_at_p_zero(wrapped: FileDirDict) -> None:
    store = WriteOnceDict(wrapped, p_consistency_checks=0)
    store["k"] = 1
    for value in range(20):
        store["k"] = value + 2
    assert store["k"] == 1
    assert store.consistency_checks_attempted == 0
    assert store.consistency_checks_failed == 0


def test_a_mismatch_is_detected_at_p_one(wrapped: FileDirDict) -> None:
    store = WriteOnceDict(wrapped_dict=wrapped, p_consistency_checks=1.0)
    store[("dir", "k")] = {"a": [1, 2, 3], "b": "same"}
    with pytest.raises(ConsistencyCheckError) as info:
        store[("dir", "k")] = {"a": [1, 2, 4], "b": "same"}
    message = str(info.value)
    assert "('dir', 'k')" in message
    assert "root['a'][2]" in message and "3" in message and "4" in message
    assert isinstance(info.value, ValueError)
    assert store[("dir", "k")] == {"a": [1, 2, 3], "b": "same"}  # the first value stays
    assert store.consistency_checks_attempted == 1
    assert store.consistency_checks_passed == 0
    assert store.consistency_checks_failed == 1


def test_equal_rewrites_pass_and_are_counted(wrapped: FileDirDict) -> None:
    store = WriteOnceDict(wrapped, 1.0)
    value = {"x": {1, 2, 3}, "y": ("t", None), "z": float("nan")}
    store["k"] = value
    store["k"] = {"z": float("nan"), "y": ("t", None), "x": {3, 2, 1}}  # order does not matter
    assert store.consistency_checks_attempted == 1
    assert store.consistency_checks_passed == 1
    with pytest.raises(ConsistencyCheckError):
        store["k"] = {"x": {1, 2, 3}, "y": ["t", None], "z": float("nan")}  # a list is not a tuple
    assert (store.consistency_checks_attempted, store.consistency_checks_failed) == (2, 1)


def test_numpy_and_pandas_compare_by_content(wrapped: FileDirDict) -> None:
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    store = WriteOnceDict(wrapped, 1.0)
    array = np.arange(1000, dtype=float)
    frame = pd.DataFrame({"a": [1, 2], "b": [3.5, np.nan]})
    store["array"] = array
    store["frame"] = frame
    store["nested"] = {"f": frame, "a": array}
    store["array"] = array.copy()
    store["frame"] = frame.copy()
    store["nested"] = {"f": frame.copy(), "a": array.copy()}
    assert store.consistency_checks_passed == 3
    changed_array = array.copy()
    changed_array[7] = -1
    with pytest.raises(ConsistencyCheckError, match=r"root\[7\]"):
        store["array"] = changed_array
    changed_frame = frame.copy()
    changed_frame.iloc[0, 0] = 99
    with pytest.raises(ConsistencyCheckError, match="99"):
        store["frame"] = changed_frame
    with pytest.raises(ConsistencyCheckError, match=r"root\['f'\]"):
        store["nested"] = {"f": changed_frame, "a": array}
    assert store.consistency_checks_failed == 3


def test_checks_are_sampled(wrapped: FileDirDict) -> None:
    store = WriteOnceDict(wrapped, 0.5)
    store["k"] = 1
    for _ in range(400):
        store["k"] = 1
    assert 100 < store.consistency_checks_attempted < 300
    assert store.consistency_checks_passed == store.consistency_checks_attempted


def test_p_can_change_later(wrapped: FileDirDict) -> None:
    store = WriteOnceDict(wrapped)
    assert store.p_consistency_checks == 0.0
    store.p_consistency_checks = 1
    assert store.p_consistency_checks == 1.0
    assert store.get_params()["p_consistency_checks"] == 1.0
    store.p_consistency_checks = KEEP_CURRENT
    assert store.p_consistency_checks == 1.0
    store.p_consistency_checks = None
    assert store.p_consistency_checks == 0.0
    with pytest.raises(ValueError):
        store.p_consistency_checks = 1.5
    assert store.p_consistency_checks == 0.0


@pytest.mark.parametrize("p", [-0.1, 1.01, float("nan"), float("inf"), "0.5", True, [0.5]])
def test_invalid_p_is_refused(wrapped: FileDirDict, p: Any) -> None:
    with pytest.raises(ValidationError, match="p_consistency_checks"):
        WriteOnceDict(wrapped, p)


def test_keep_current_in_the_constructor_means_zero(wrapped: FileDirDict) -> None:
    # The original recursed forever here.
    assert WriteOnceDict(wrapped, KEEP_CURRENT).p_consistency_checks == 0.0


def test_non_append_only_wrapped_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="append-only"):
        WriteOnceDict(FileDirDict(base_dir=tmp_path))
    with pytest.raises(TypeError, match="wrapped_dict"):
        WriteOnceDict({"a": 1})


def test_default_wrapped_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = WriteOnceDict()
    assert isinstance(store.wrapped_dict, FileDirDict)
    assert store.wrapped_dict.append_only is True
    assert store.base_dir == str(tmp_path / "__file_dir_dict__")  # forwarded to the wrapped store
    assert store.digest_len == 0
    store["k"] = 1
    assert (tmp_path / "__file_dir_dict__" / "k.pkl").is_file()


def test_attribute_forwarding_is_narrow(wrapped: FileDirDict) -> None:
    store = WriteOnceDict(wrapped)
    with pytest.raises(AttributeError):
        store._not_there  # noqa: B018
    with pytest.raises(AttributeError):
        store.not_there  # noqa: B018


def test_bad_input_fails_at_once(wrapped: FileDirDict) -> None:
    # The original retried with sleeps (seconds) before reporting bad keys or values.
    store = WriteOnceDict(wrapped)
    start = time.monotonic()
    with pytest.raises(ValueError):
        store["a/b"] = 1
    with pytest.raises(TypeError):
        store[5] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        store["k"] = LocalDict()
    with pytest.raises(TypeError):
        store["lam"] = lambda: 0
    assert time.monotonic() - start < 1.0
    assert len(store) == 0


def test_deletes_are_refused(wrapped: FileDirDict) -> None:
    store = WriteOnceDict(wrapped)
    store["k"] = 1
    with pytest.raises(MutationPolicyError):
        del store["k"]
    with pytest.raises(MutationPolicyError):
        store["k"] = DELETE_CURRENT
    with pytest.raises(MutationPolicyError):
        store.discard("k")
    assert store["k"] == 1


def test_set_item_get_etag_returns_the_stored_etag(wrapped: FileDirDict) -> None:
    store = WriteOnceDict(wrapped, 1.0)
    etag = store.set_item_get_etag("k", "v")
    assert etag == wrapped.etag("k") == store.etag("k")
    assert store.set_item_get_etag("k", "v") == etag


def test_setdefault_returns_the_stored_value(wrapped: FileDirDict) -> None:
    store = WriteOnceDict(wrapped)
    assert store.setdefault("k", 1) == 1
    assert store.setdefault("k", 2) == 1


def test_subdicts_keep_p(wrapped: FileDirDict) -> None:
    store = WriteOnceDict(wrapped, 1.0)
    store[("a", "b")] = 1
    sub = store.get_subdict("a")
    assert isinstance(sub, WriteOnceDict)
    assert sub.p_consistency_checks == 1.0
    assert sub["b"] == 1
    with pytest.raises(ConsistencyCheckError):
        sub["b"] = 2
    assert isinstance(store.subdicts()["a"], WriteOnceDict)


def test_reads_delegate(wrapped: FileDirDict) -> None:
    store = WriteOnceDict(wrapped)
    wrapped["k"] = "v"
    assert "k" in store and store["k"] == "v" and len(store) == 1
    assert store.timestamp("k") == wrapped.timestamp("k")
    assert store.etag("k") == wrapped.etag("k")
    assert store.serialization_format == wrapped.serialization_format
