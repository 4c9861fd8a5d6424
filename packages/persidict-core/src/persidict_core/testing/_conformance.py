"""The conformance suite: the behaviour every `PersiDict` must show."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import pickle
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Final, Protocol

import pytest

from persidict_safestr import NonEmptySafeStrTuple, SafeStrTuple

from .._conditional import (
    ALWAYS_RETRIEVE,
    ANY_ETAG,
    ETAG_HAS_CHANGED,
    ETAG_IS_THE_SAME,
    IF_ETAG_CHANGED,
    ITEM_NOT_AVAILABLE,
    NEVER_RETRIEVE,
    VALUE_NOT_RETRIEVED,
    ConditionalOperationResult,
    OperationResult,
)
from .._config import store_from_config
from .._errors import ConcurrencyConflictError, MutationPolicyError
from .._jokers import DELETE_CURRENT, ETAG_HAS_NOT_CHANGED, KEEP_CURRENT
from .._persidict import PersiDict

__all__ = ["InputConformance", "PersiDictConformance", "StoreFactory"]


class StoreFactory(Protocol):
    """Builds a new, empty store at a fresh location, with the parameters given.

    A store that is always append-only (a write-once wrapper) may ignore ``append_only=False``.
    """

    def __call__(
        self,
        *,
        serialization_format: str = "pkl",
        append_only: bool = False,
        base_class_for_values: type | None = None,
    ) -> PersiDict: ...


# ----------------------------------------------------------------- conditional operations
_CONDITIONS: Final = (ANY_ETAG, ETAG_IS_THE_SAME, ETAG_HAS_CHANGED)
_RETRIEVALS: Final = (ALWAYS_RETRIEVE, NEVER_RETRIEVE, IF_ETAG_CHANGED)
_FOREIGN_ETAG: Final = "no-such-etag"


def _reported_value(expected: Any, actual: Any, retrieve: Any, value: Any) -> Any:
    """What a result must carry as the value of a key that was not changed."""
    if actual is ITEM_NOT_AVAILABLE:
        return ITEM_NOT_AVAILABLE
    if retrieve is NEVER_RETRIEVE or (retrieve is IF_ETAG_CHANGED and expected == actual):
        return VALUE_NOT_RETRIEVED
    return value


def _satisfied(condition: Any, expected: Any, actual: Any) -> bool:
    if condition is ETAG_IS_THE_SAME:
        return bool(expected == actual)
    if condition is ETAG_HAS_CHANGED:
        return bool(expected != actual)
    return True


def _rewrite(store: PersiDict, key: str, value: Any) -> None:
    """Write an existing ``key`` of an append-only store again: refused, or ignored when write-once."""
    if store.mutation_policy == "write-once":
        store[key] = value  # the first write wins: a rewrite is ignored
        return
    with pytest.raises(MutationPolicyError) as info:
        store[key] = value
    _check_refusal(info.value, store)


def _check_refusal(error: BaseException, store: PersiDict) -> None:
    """A refused mutation is a MutationPolicyError naming the store's policy (and KeyError, TypeError)."""
    assert isinstance(error, MutationPolicyError)
    assert isinstance(error, KeyError) and isinstance(error, TypeError)
    assert error.policy == store.mutation_policy


_MODES: Final = ("mutable", "append-only")


class _StoreFixtures:
    """The fixtures and descriptions every part of the suite uses (see `PersiDictConformance`)."""

    formats: ClassVar[tuple[str, ...]] = ("pkl", "json", "txt")
    timestamp_resolution: ClassVar[float] = 0.02
    serializes_values: ClassVar[bool] = True
    config_reopens_data: ClassVar[bool] = True

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        """Override in the subclass."""
        raise NotImplementedError("define a store_factory fixture in the subclass")

    @pytest.fixture
    def store(self, store_factory: StoreFactory) -> PersiDict:
        """An empty pkl store in its default mode (mutable unless the store is always append-only)."""
        return store_factory()

    @pytest.fixture(params=_MODES)
    def store_in_each_mode(self, request: pytest.FixtureRequest, store_factory: StoreFactory) -> PersiDict:
        """An empty store built mutable, then append-only: tests whose expectations differ by mode.

        The expectations follow the store's ``append_only`` and ``mutation_policy``: a mutable
        store overwrites and deletes; an append-only one refuses both with `MutationPolicyError`,
        except that a ``"write-once"`` store ignores a rewrite (the first value stays).
        """
        if request.param == "append-only":
            store = store_factory(append_only=True)
            assert store.append_only is True
            return store
        store = store_factory(append_only=False)
        if store.append_only:
            pytest.skip("the store is always append-only: it has no mutable mode (its append-only mode runs)")
        return store


class ConditionalConformance(_StoreFixtures):
    """The conditional operations (compare-and-swap by ETag), mixed into `PersiDictConformance`.

    Every case of the result table is checked: each method x condition x present/absent key x
    expected ETag (the actual one, a foreign one, `ITEM_NOT_AVAILABLE`) x retrieval flag, jokers
    included. Append-only stores must refuse what would change or delete an existing key. The
    race tests run when the store's `atomic_conditional_writes` is True, the ETag-uniqueness test
    when its `strong_etags` is True.
    """

    race_threads: ClassVar[int] = 8
    race_rounds: ClassVar[int] = 25
    races_unsupported: ClassVar[str] = ""
    """Why the race tests cannot run against this test environment (empty: they run)."""

    @staticmethod
    def _cases(store: PersiDict, tag: object) -> Iterator[tuple[str, bool, Any, Any]]:
        """Yield ``(key, present, expected_etag, actual_etag)``, setting up each (new) key."""
        number = 0
        for present in (True, False):
            for expectation in ("actual", "foreign", "absent"):
                key = f"case{tag}-{number}"
                number += 1
                if present:
                    store[key] = "old"
                    actual: Any = store.etag(key)
                else:
                    actual = ITEM_NOT_AVAILABLE
                    if expectation == "absent":
                        continue  # for an absent key "actual" is ITEM_NOT_AVAILABLE already
                expected = {"actual": actual, "foreign": _FOREIGN_ETAG, "absent": ITEM_NOT_AVAILABLE}[
                    expectation
                ]
                yield key, present, expected, actual

    def test_get_with_etag(self, store: PersiDict) -> None:
        absent = store.get_with_etag("missing")
        assert absent == ConditionalOperationResult(
            True, ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE
        )
        etag: Any = store.set_item_get_etag("k", [1, 2])
        result = store.get_with_etag("k")
        assert result == ConditionalOperationResult(True, etag, etag, [1, 2])
        assert result.actual_etag == store.etag("k")

    def test_get_item_if_result_table(self, store: PersiDict) -> None:
        for key, present, expected, actual in list(self._cases(store, 0)):
            for condition in _CONDITIONS:
                for retrieve in _RETRIEVALS:
                    case = (key, present, expected, condition, retrieve)
                    result = store.get_item_if(
                        key, condition=condition, expected_etag=expected, retrieve_value=retrieve
                    )
                    want = ConditionalOperationResult(
                        _satisfied(condition, expected, actual),
                        actual,
                        actual,
                        _reported_value(expected, actual, retrieve, "old"),
                    )
                    assert result == want, case
                    assert (key in store) is present, case

    def test_set_item_if_result_table(self, store_in_each_mode: PersiDict) -> None:
        store = store_in_each_mode
        tags = itertools.count()
        for condition in _CONDITIONS:
            for retrieve in _RETRIEVALS:
                for value in ("new", KEEP_CURRENT, DELETE_CURRENT):
                    for key, present, expected, actual in list(self._cases(store, next(tags))):
                        case = (key, present, expected, condition, retrieve, value)
                        satisfied = _satisfied(condition, expected, actual)
                        unchanged = ConditionalOperationResult(
                            satisfied, actual, actual, _reported_value(expected, actual, retrieve, "old")
                        )

                        def attempt(
                            key: str = key,
                            expected: Any = expected,
                            value: Any = value,
                            condition: Any = condition,
                            retrieve: Any = retrieve,
                        ) -> Any:
                            return store.set_item_if(
                                key,
                                value=value,
                                condition=condition,
                                expected_etag=expected,
                                retrieve_value=retrieve,
                            )

                        if store.append_only and (
                            value is DELETE_CURRENT or (value == "new" and satisfied and present)
                        ):
                            with pytest.raises(MutationPolicyError) as info:
                                attempt()
                            _check_refusal(info.value, store)
                            assert (store[key] if present else key in store) == (
                                "old" if present else False
                            ), case
                            continue
                        result = attempt()
                        if not satisfied:
                            assert result == dataclasses.replace(unchanged, condition_was_satisfied=False), (
                                case
                            )
                            assert (store[key] if present else key in store) == ("old" if present else False)
                        elif value is KEEP_CURRENT:
                            assert result == unchanged, case
                            assert (key in store) is present, case
                        elif value is DELETE_CURRENT:
                            gone = ConditionalOperationResult[Any](
                                True, actual, ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE
                            )
                            assert result == gone, case
                            assert key not in store, case
                        else:
                            assert result.condition_was_satisfied is True, case
                            assert result.actual_etag == actual, case
                            assert result.new_value == "new", case
                            assert result.resulting_etag not in (actual, ITEM_NOT_AVAILABLE), case
                            assert result.resulting_etag == store.etag(key), case
                            assert store[key] == "new", case

    def test_setdefault_if_result_table(self, store: PersiDict) -> None:
        tags = itertools.count()
        for condition in _CONDITIONS:
            for retrieve in _RETRIEVALS:
                for key, present, expected, actual in list(self._cases(store, next(tags))):
                    case = (key, present, expected, condition, retrieve)
                    satisfied = _satisfied(condition, expected, actual)
                    result = store.setdefault_if(
                        key,
                        default_value="default",
                        condition=condition,
                        expected_etag=expected,
                        retrieve_value=retrieve,
                    )
                    if not present and satisfied:
                        assert result.condition_was_satisfied is True, case
                        assert result.actual_etag is ITEM_NOT_AVAILABLE, case
                        assert result.new_value == "default", case
                        assert result.resulting_etag == store.etag(key), case
                        assert store[key] == "default", case
                    else:
                        want = ConditionalOperationResult(
                            satisfied, actual, actual, _reported_value(expected, actual, retrieve, "old")
                        )
                        assert result == want, case
                        assert (store[key] if present else key in store) == ("old" if present else False), (
                            case
                        )
        with pytest.raises(TypeError):
            store.setdefault_if(
                "j", default_value=KEEP_CURRENT, condition=ANY_ETAG, expected_etag=ITEM_NOT_AVAILABLE
            )
        assert "j" not in store

    def test_discard_if_result_table(self, store_in_each_mode: PersiDict) -> None:
        store = store_in_each_mode
        for tag, condition in enumerate(_CONDITIONS):
            for key, present, expected, actual in list(self._cases(store, tag)):
                case = (key, present, expected, condition)
                satisfied = _satisfied(condition, expected, actual)
                if store.append_only:
                    with pytest.raises(MutationPolicyError) as info:
                        store.discard_if(key, condition=condition, expected_etag=expected)
                    _check_refusal(info.value, store)
                    assert (key in store) is present, case
                    continue
                result = store.discard_if(key, condition=condition, expected_etag=expected)
                if not present:
                    assert result == ConditionalOperationResult(
                        satisfied, ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE
                    ), case
                elif satisfied:
                    assert result == ConditionalOperationResult(
                        True, actual, ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE
                    ), case
                    assert key not in store, case
                else:
                    assert result == ConditionalOperationResult(False, actual, actual, VALUE_NOT_RETRIEVED), (
                        case
                    )
                    assert store[key] == "old", case

    def test_transform_item(self, store_in_each_mode: PersiDict) -> None:
        store = store_in_each_mode
        seen: list[Any] = []

        def increment(value: Any) -> Any:
            seen.append(value)
            return 1 if value is ITEM_NOT_AVAILABLE else value + 1

        first = store.transform_item("n", transformer=increment)
        assert seen == [ITEM_NOT_AVAILABLE]
        assert first == OperationResult[Any](store.etag("n") or "", 1)
        keep = store.transform_item("n", transformer=lambda value: KEEP_CURRENT)
        assert keep == OperationResult(first.resulting_etag, 1)
        absent_keep = store.transform_item("none", transformer=lambda value: KEEP_CURRENT)
        assert absent_keep == OperationResult(ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE)
        assert "none" not in store
        if store.append_only:
            for transformer in (increment, lambda value: DELETE_CURRENT):
                with pytest.raises(MutationPolicyError) as info:
                    store.transform_item("n", transformer=transformer)
                _check_refusal(info.value, store)
            assert store["n"] == 1
            return
        second = store.transform_item("n", transformer=increment)
        assert second == OperationResult[Any](store.etag("n") or "", 2)
        assert second.resulting_etag != first.resulting_etag
        assert store["n"] == 2
        gone = store.transform_item("n", transformer=lambda value: DELETE_CURRENT)
        assert gone == OperationResult(ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE)
        assert "n" not in store
        with pytest.raises(TypeError):
            store.transform_item("n", transformer=lambda value: store)

    def test_transform_item_gives_up_after_n_retries(self, store_in_each_mode: PersiDict) -> None:
        store = store_in_each_mode
        calls = itertools.count(1)

        def meddling(value: Any) -> Any:
            # Another writer changes the key between every read and write of ours.
            number = next(calls)
            if store.append_only:
                store["k"] = number  # creates the key: our create-if-absent then loses
            else:  # a longer value each time, so even a store with weak ETags sees the change
                store["k"] = "concurrent" + "!" * number
            return "ours"

        n_retries = 0 if store.append_only else 3
        with pytest.raises(ConcurrencyConflictError) as info:
            store.transform_item("k", transformer=meddling, n_retries=n_retries)
        assert info.value.attempts == n_retries + 1
        key: Any = info.value.key
        assert tuple(key) == ("k",)
        assert isinstance(info.value, RuntimeError)
        assert next(calls) == n_retries + 2  # the transformer ran once per attempt
        assert store["k"] != "ours"

    def test_seed_etag_api_agrees_with_get_with_etag(self, store_in_each_mode: PersiDict) -> None:
        store = store_in_each_mode
        inserted = store.setdefault_if(
            "k", default_value="v1", condition=ANY_ETAG, expected_etag=ITEM_NOT_AVAILABLE
        )
        etag: Any = inserted.resulting_etag
        assert etag == store.etag("k") == store.get_with_etag("k").actual_etag
        assert store.get_item_if_etag_changed("k", etag) is ETAG_HAS_NOT_CHANGED
        assert store.get_item_if_etag_changed("k", None) == ("v1", etag)
        other: Any = store.set_item_get_etag("j", "v2")
        assert store.get_with_etag("j") == ConditionalOperationResult(True, other, other, "v2")
        check = store.get_item_if("j", condition=ETAG_IS_THE_SAME, expected_etag=other)
        assert check == ConditionalOperationResult(True, other, other, VALUE_NOT_RETRIEVED)
        if not store.append_only:
            time.sleep(self.timestamp_resolution)
            written = store.set_item_if("k", value="v3", condition=ETAG_IS_THE_SAME, expected_etag=etag)
            assert written.condition_was_satisfied
            assert written.resulting_etag == store.etag("k") != etag
            assert store.get_item_if_etag_changed("k", etag) == ("v3", written.resulting_etag)

    def test_insert_if_absent_and_compare_and_swap(self, store_in_each_mode: PersiDict) -> None:
        store = store_in_each_mode
        first = store.set_item_if(
            "k", value="a", condition=ETAG_IS_THE_SAME, expected_etag=ITEM_NOT_AVAILABLE
        )
        second = store.set_item_if(
            "k", value="b", condition=ETAG_IS_THE_SAME, expected_etag=ITEM_NOT_AVAILABLE
        )
        assert first.condition_was_satisfied and not second.condition_was_satisfied
        assert second.actual_etag == first.resulting_etag
        assert second.new_value == "a"  # the caller's view was stale: the value is sent
        assert store["k"] == "a"
        assert store.setdefault("k", "c") == "a"
        if store.append_only:
            return
        time.sleep(self.timestamp_resolution)
        swapped = store.set_item_if(
            "k", value="b", condition=ETAG_IS_THE_SAME, expected_etag=first.resulting_etag
        )
        stale = store.set_item_if(
            "k", value="c", condition=ETAG_IS_THE_SAME, expected_etag=first.resulting_etag
        )
        assert swapped.condition_was_satisfied and not stale.condition_was_satisfied
        assert stale.actual_etag == swapped.resulting_etag and stale.new_value == "b"
        assert store["k"] == "b"
        known = store.discard_if("k", condition=ETAG_IS_THE_SAME, expected_etag=first.resulting_etag)
        assert not known.condition_was_satisfied and store["k"] == "b"
        assert store.discard_if(
            "k", condition=ETAG_IS_THE_SAME, expected_etag=swapped.resulting_etag
        ).condition_was_satisfied
        assert "k" not in store

    def test_pop_removes_exactly_the_value_it_returns(
        self, store_in_each_mode: PersiDict, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store = store_in_each_mode
        store["k"] = "first"
        if store.append_only:
            with pytest.raises(MutationPolicyError) as info:
                store.pop("k")
            _check_refusal(info.value, store)
            assert store["k"] == "first"
            return
        real_read = store.read_entry
        meddled: list[bool] = []

        def read_then_meddle(key: Any, *args: Any, **kwargs: Any) -> Any:
            result = real_read(key, *args, **kwargs)
            if not meddled:  # another writer replaces the value right after our first read
                meddled.append(True)
                monkeypatch.undo()
                time.sleep(self.timestamp_resolution)
                store["k"] = "second"
                monkeypatch.setattr(store, "read_entry", read_then_meddle)
            return result

        monkeypatch.setattr(store, "read_entry", read_then_meddle)
        assert store.pop("k") == "second"
        monkeypatch.undo()
        assert "k" not in store

    def test_strong_etags_never_repeat(self, store: PersiDict) -> None:
        if not store.strong_etags:
            pytest.skip("the store does not promise that ETags identify writes (strong_etags is False)")
        if store.append_only:
            pytest.skip("the store is always append-only: a key is written once, so no ETag can repeat")
        seen = set()
        for round_number in range(300):
            if round_number % 3 == 2:
                del store["k"]  # frees the inode, so the next write may reuse it
            seen.add(store.set_item_get_etag("k", "x"))  # same size every time, in a tight loop
        assert len(seen) == 300

    def test_threads_racing_compare_and_swap(self, store_in_each_mode: PersiDict) -> None:
        store = store_in_each_mode
        self._skip_unless_races_apply(store)
        base: Any = store.set_item_get_etag("k", "start")
        barrier = threading.Barrier(self.race_threads)
        winners: list[int] = []

        def racer(number: int) -> None:
            barrier.wait()
            result = store.set_item_if(
                "k", value=f"v{number}", condition=ETAG_IS_THE_SAME, expected_etag=base
            )
            if result.condition_was_satisfied:
                winners.append(number)

        if store.append_only:
            # Insert-if-absent is the compare-and-swap append-only stores offer.
            def racer(number: int) -> None:  # noqa: F811
                barrier.wait()
                result = store.setdefault_if(
                    "new",
                    default_value=f"v{number}",
                    condition=ETAG_IS_THE_SAME,
                    expected_etag=ITEM_NOT_AVAILABLE,
                )
                if result.resulting_etag != result.actual_etag:
                    winners.append(number)

        threads = [threading.Thread(target=racer, args=(number,)) for number in range(self.race_threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(winners) == 1
        assert store["new" if store.append_only else "k"] == f"v{winners[0]}"

    def test_threads_racing_transform_item_count_exactly(self, store_in_each_mode: PersiDict) -> None:
        store = store_in_each_mode
        self._skip_unless_races_apply(store)
        barrier = threading.Barrier(self.race_threads)

        refused: list[int] = []

        def worker() -> None:
            barrier.wait()
            refusals = 0
            for _ in range(self.race_rounds):
                try:
                    store.transform_item(
                        "counter",
                        transformer=lambda v: 1 if v is ITEM_NOT_AVAILABLE else v + 1,
                        n_retries=None,
                    )
                except MutationPolicyError:
                    refusals += 1
            refused.append(refusals)

        threads = [threading.Thread(target=worker) for _ in range(self.race_threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if store.append_only:
            # One racer creates the counter; every other increment is refused, never lost silently.
            assert store["counter"] == 1
            assert sorted(refused) == [self.race_rounds - 1] + [self.race_rounds] * (self.race_threads - 1)
            return
        assert store["counter"] == self.race_threads * self.race_rounds

    def _skip_unless_races_apply(self, store: PersiDict) -> None:
        if not store.atomic_conditional_writes:
            pytest.skip(
                "conditional writes of this store are not atomic (atomic_conditional_writes is False)"
            )
        if self.races_unsupported:
            pytest.skip(self.races_unsupported)


class InputConformance(_StoreFixtures):
    """What a store must refuse, and its empty state: holds even for a store that keeps nothing.

    Part of `PersiDictConformance`; subclass it alone only for a store that accepts writes and
    keeps nothing (`EmptyDict`), where the rest of the contract does not apply.
    """

    def test_empty_store(self, store: PersiDict) -> None:
        assert len(store) == 0
        assert list(store) == []
        assert list(store.keys()) == []
        assert "a" not in store
        assert store.get("a") is None
        assert store.get("a", 7) == 7
        assert store.random_key() is None
        assert store.oldest_keys() == []
        assert store.newest_values(3) == []
        assert store.subdicts() == {}
        with pytest.raises(KeyError, match="missing"):
            store["missing"]

    @pytest.mark.parametrize(
        ("bad_key", "error"),
        [
            ("a/b", ValueError),
            ("", ValueError),
            ((), ValueError),
            ("..", ValueError),
            (("a", "."), ValueError),
            ("a b", ValueError),
            ("x" * 300, ValueError),
            (5, TypeError),
            (None, TypeError),
            ({"a": 1}, TypeError),
            (b"a", TypeError),
            (["a", 5], TypeError),
        ],
    )
    def test_invalid_keys_are_refused(self, store: PersiDict, bad_key: Any, error: type[Exception]) -> None:
        store["good"] = 1
        before = dict(store.items())
        with pytest.raises(error):
            store[bad_key] = 2
        with pytest.raises(error):
            store[bad_key]
        if error is TypeError:  # can never be a key: not in the store, as for a dict
            assert bad_key not in store
        else:  # the right type, but not a valid key
            with pytest.raises(error):
                bad_key in store  # noqa: B015
        assert dict(store.items()) == before

    def test_refuses_a_store_as_value(self, store: PersiDict) -> None:
        with pytest.raises(TypeError):
            store["s"] = store
        assert "s" not in store

    def test_base_class_for_values_is_enforced(self, store_factory: StoreFactory) -> None:
        store = store_factory(base_class_for_values=int)
        assert store.base_class_for_values is int
        store["ok"] = 3
        store["also"] = True  # bool is an int
        before = dict(store.items())
        with pytest.raises(TypeError):
            store["bad"] = "3"
        with pytest.raises(TypeError):
            store.setdefault("bad", "3")
        assert "bad" not in store
        assert dict(store.items()) == before

    def test_text_format_refuses_other_values(self, store_factory: StoreFactory) -> None:
        if "txt" not in self.formats:
            pytest.skip("this store does not offer a text format")
        store = store_factory(serialization_format="txt")
        assert store.base_class_for_values is str
        with pytest.raises(TypeError):
            store["n"] = 5
        assert "n" not in store

    def test_jokers_are_never_values(self, store: PersiDict) -> None:
        with pytest.raises(TypeError):
            store.setdefault("j", KEEP_CURRENT)
        with pytest.raises(TypeError):
            store.setdefault_if(
                "j", default_value=KEEP_CURRENT, condition=ANY_ETAG, expected_etag=ITEM_NOT_AVAILABLE
            )
        with pytest.raises(TypeError):
            store.transform_item("j", transformer=lambda value: store)
        assert "j" not in store
        store["absent"] = KEEP_CURRENT
        assert "absent" not in store
        assert store.set_item_get_etag("x", KEEP_CURRENT) is None
        assert "x" not in store

    def test_bad_flags_are_refused_before_any_io(
        self, store: PersiDict, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store["k"] = "v"
        before = store.get("k")
        for primitive in (
            "read_entry",
            "read_entry_if_changed",
            "entry_etag",
            "write_entry",
            "delete_entry",
            "write_entry_if_etag",
            "delete_entry_if_etag",
            "has_entry",
        ):

            def forbidden(*args: Any, _name: str = primitive, **kwargs: Any) -> Any:
                raise AssertionError(f"{_name} was called before the arguments were checked")

            monkeypatch.setattr(store, primitive, forbidden)
        etag = "some-etag"
        # Typed Any: these are the wrong kinds of argument on purpose.
        same: Any = "same"
        retrieve_flag: Any = ALWAYS_RETRIEVE
        condition_flag: Any = ANY_ETAG
        number: Any = 5
        nothing: Any = None
        always: Any = "always"
        sentinel: Any = VALUE_NOT_RETRIEVED
        raw: Any = b"etag"
        calls: list[tuple[str, Callable[[], Any]]] = [
            ("condition", lambda: store.get_item_if("k", condition=same, expected_etag=etag)),
            ("condition", lambda: store.get_item_if("k", condition=retrieve_flag, expected_etag=etag)),
            (
                "retrieve_value",
                lambda: store.get_item_if(
                    "k", condition=ANY_ETAG, expected_etag=etag, retrieve_value=condition_flag
                ),
            ),
            ("expected_etag", lambda: store.get_item_if("k", condition=ANY_ETAG, expected_etag=number)),
            ("expected_etag", lambda: store.get_item_if("k", condition=ANY_ETAG, expected_etag=nothing)),
            ("condition", lambda: store.set_item_if("k", value=1, condition=nothing, expected_etag=etag)),
            (
                "retrieve_value",
                lambda: store.set_item_if(
                    "k", value=1, condition=ANY_ETAG, expected_etag=etag, retrieve_value=always
                ),
            ),
            (
                "condition",
                lambda: store.setdefault_if(
                    "k", default_value=1, condition=retrieve_flag, expected_etag=etag
                ),
            ),
            (
                "expected_etag",
                lambda: store.setdefault_if("k", default_value=1, condition=ANY_ETAG, expected_etag=sentinel),
            ),
            ("condition", lambda: store.discard_if("k", condition=same, expected_etag=etag)),
            ("expected_etag", lambda: store.discard_if("k", condition=ANY_ETAG, expected_etag=raw)),
        ]
        for parameter, call in calls:
            with pytest.raises(ValueError, match=parameter) as info:
                call()
            assert isinstance(info.value, TypeError), parameter
        monkeypatch.undo()
        assert store.get("k") == before

    @pytest.mark.parametrize(
        ("n_retries", "error"), [(-1, ValueError), (1.5, TypeError), ("3", TypeError), (True, TypeError)]
    )
    def test_transform_item_refuses_bad_retry_counts(
        self, store: PersiDict, n_retries: Any, error: type[Exception]
    ) -> None:
        with pytest.raises(error):
            store.transform_item("k", transformer=lambda value: 1, n_retries=n_retries)
        assert "k" not in store

    def test_params_repr_and_config(self, store_factory: StoreFactory) -> None:
        store = store_factory(serialization_format="json", append_only=True)
        params = store.get_params()
        assert params["serialization_format"] == "json"
        assert params["append_only"] is True
        assert type(store).__name__ in repr(store)
        # get_params() is the config, plus what a config cannot hold (a LocalDict's backend).
        assert store.config.model_dump().keys() <= params.keys()
        assert type(store).from_config(params).config == store.config

    def test_store_factory_gives_fresh_locations(self, store_factory: StoreFactory) -> None:
        one, two = store_factory(), store_factory()
        one["k"] = 1
        assert "k" not in two


class PersiDictConformance(InputConformance, ConditionalConformance):
    """The whole contract: the behaviour every store and wrapper must show.

    Subclass it in a test module and define a ``store_factory`` fixture returning a
    `StoreFactory`: each call builds an empty store at a fresh location with the given
    parameters (a store that is always append-only may ignore ``append_only=False``). Nothing
    else is needed: which variant of a test applies is read from the store itself, from
    ``append_only`` and ``mutation_policy`` (a mutable store overwrites and deletes; an
    append-only one must refuse both with `MutationPolicyError`, a ``"write-once"`` one ignores
    a rewrite), ``atomic_conditional_writes`` (the races) and ``strong_etags``. Tests whose
    expectations depend on the mode run twice, on a store built mutable and on one built
    append-only.

    Class attributes describe the test environment rather than the store:

    * ``formats``: serialization formats to exercise;
    * ``timestamp_resolution``: seconds between writes needed for distinct timestamps;
    * ``serializes_values``: values go through a real format (not an in-memory copy);
    * ``config_reopens_data``: a store opened from the JSON config alone sees the data;
    * ``races_unsupported``: why the thread races cannot run here (a mock that evaluates
      conditions without a lock), or empty;
    * ``model_examples`` and ``model_steps``: the size of the model-based test (hypothesis
      examples, operations per example); ``model_examples = 0`` turns it off, with
      ``model_unsupported`` saying why.
    """

    model_examples: ClassVar[int] = 25
    model_steps: ClassVar[int] = 20
    model_unsupported: ClassVar[str] = ""

    # ------------------------------------------------------------- basics
    def test_set_get_with_every_key_form(self, store: PersiDict) -> None:
        store["a"] = 1
        store[("b", "c")] = 2
        store[["d", "e", "f"]] = 3
        store[SafeStrTuple("g")] = 4
        assert store["a"] == store[("a",)] == store[SafeStrTuple("a")] == 1
        assert store["b", "c"] == 2
        assert store[("d", "e", "f")] == 3
        assert store["g"] == 4
        keys = list(store.keys())
        assert all(type(key) is NonEmptySafeStrTuple for key in keys)
        assert set(keys) == {("a",), ("b", "c"), ("d", "e", "f"), ("g",)}
        assert len(store) == 4

    def test_overwrite_and_delete(self, store_in_each_mode: PersiDict) -> None:
        store = store_in_each_mode
        store["k"] = "first"
        if store.append_only:
            _rewrite(store, "k", "second")
            _rewrite(store, "k", "first")  # even the same value
            assert store["k"] == "first"
            assert len(store) == 1
            with pytest.raises(MutationPolicyError) as info:
                del store["k"]
            _check_refusal(info.value, store)
            assert store["k"] == "first"
            with pytest.raises(KeyError):
                store["other"]
            return
        store["k"] = "second"
        assert store["k"] == "second"
        assert len(store) == 1
        del store["k"]
        assert "k" not in store
        with pytest.raises(KeyError):
            del store["k"]
        with pytest.raises(KeyError):
            store["k"]

    def test_views_and_iteration(self, store: PersiDict) -> None:
        data = {("x",): 1, ("y", "z"): [2, 3], ("w",): {"a": None}}
        store.update(data)
        assert len(store.keys()) == 3
        assert ("y", "z") in store.keys()
        assert set(store) == set(data)
        assert sorted(map(repr, store.values())) == sorted(map(repr, data.values()))
        assert dict(store.items()) == data
        assert {k: v for k, v, _ in store.items_and_timestamps()} == data
        assert sorted(map(repr, (v for v, _ in store.values_and_timestamps()))) == sorted(
            map(repr, data.values())
        )
        assert {k for k, _ in store.keys_and_timestamps()} == set(data)

    def test_dict_methods(self, store_in_each_mode: PersiDict) -> None:
        store = store_in_each_mode
        assert store.setdefault("s", 5) == 5
        assert store.setdefault("s", 6) == 5
        if store.append_only:
            store["p"] = 9
            for action in (
                lambda: store.pop("s"),
                lambda: store.pop("s", "gone"),
                lambda: store.pop("absent", "gone"),
                lambda: store.popitem(),
                lambda: store.discard("s"),
                lambda: store.discard("absent"),
                lambda: store.delete_if_exists("s"),
                lambda: store.clear(),
            ):
                with pytest.raises(MutationPolicyError) as info:
                    action()
                _check_refusal(info.value, store)
            store.update({"a": 1}, b=2)
            assert dict(store.items()) == {("s",): 5, ("p",): 9, ("a",): 1, ("b",): 2}
            return
        assert store.pop("s") == 5
        assert store.pop("s", "gone") == "gone"
        with pytest.raises(KeyError):
            store.pop("s")
        store.update({"a": 1}, b=2)
        assert store.discard("a") is True
        assert store.discard("a") is False
        assert store.delete_if_exists("b") is True
        store["p"] = 9
        assert store.popitem() == (("p",), 9)
        with pytest.raises(KeyError):
            store.popitem()
        store.update({"c": 1, ("d", "e"): 2})
        store.clear()
        assert len(store) == 0

    def test_equality(self, store: PersiDict) -> None:
        store.update({"a": 1, ("b", "c"): "two"})
        assert store == {"a": 1, ("b", "c"): "two"}
        assert store == {("a",): 1, SafeStrTuple("b", "c"): "two"}
        assert store != {"a": 1}
        assert store != {"a": 2, ("b", "c"): "two"}
        assert store != {"a": 1, "bad key": 2}
        assert (store == 5) is False
        assert store == store.get_subdict(())

    # ------------------------------------------------------------- values and formats
    def test_pickle_format_round_trips_values(self, store_factory: StoreFactory) -> None:
        store = store_factory(serialization_format="pkl")
        values: dict[str, Any] = {
            "none": None,
            "int": 12345678901234567890,
            "float": 1.5,
            "bytes": b"\x00\xff",
            "nested": {"a": [1, (2, 3), {4, 5}], 6: frozenset({"x"})},
            "text": "h\u00e9llo\r\nw\u00f6rld",
        }
        for name, value in values.items():
            store[name] = value
        for name, value in values.items():
            assert store[name] == value
            assert type(store[name]) is type(value)

    def test_json_format_is_faithful(self, store_factory: StoreFactory) -> None:
        if "json" not in self.formats:
            pytest.skip("this store does not offer the json format")
        store = store_factory(serialization_format="json")
        value = {"a": (1, 2), 3: [None, True, 1.25], "s": {"x"}, "u": "\u00fc"}
        store["v"] = value
        assert store["v"] == value
        assert type(store["v"]["a"]) is tuple
        if self.serializes_values:
            with pytest.raises((TypeError, ValueError)):
                store["lambda"] = lambda x: x
            assert "lambda" not in store

    def test_text_format_stores_strings_exactly(self, store_factory: StoreFactory) -> None:
        if "txt" not in self.formats:
            pytest.skip("this store does not offer a text format")
        store = store_factory(serialization_format="txt")
        text = "line one\r\nline two\n\u00e9\u4e2d\U0001f600\n"
        store["t"] = text
        assert store["t"] == text

    def test_base_class_for_values_keeps_accepted_values(self, store_factory: StoreFactory) -> None:
        store = store_factory(base_class_for_values=int)
        store["ok"] = 3
        store["also"] = True
        assert dict(store.items()) == {("ok",): 3, ("also",): True}
        assert type(store["also"]) is bool

    def test_unserializable_value_leaves_store_intact(self, store: PersiDict) -> None:
        store["keep"] = 1
        with pytest.raises(TypeError):
            store["lock"] = threading.Lock()
        assert "lock" not in store
        assert dict(store.items()) == {("keep",): 1}

    # ------------------------------------------------------------- jokers and append-only
    def test_jokers(self, store_in_each_mode: PersiDict) -> None:
        store = store_in_each_mode
        store["k"] = 1
        store["k"] = KEEP_CURRENT
        assert store["k"] == 1
        store["absent"] = KEEP_CURRENT
        assert "absent" not in store
        if store.append_only:
            for key in ("k", "absent"):
                with pytest.raises(MutationPolicyError) as info:
                    store[key] = DELETE_CURRENT
                _check_refusal(info.value, store)
            assert dict(store.items()) == {("k",): 1}
            return
        store["k"] = DELETE_CURRENT
        assert "k" not in store
        store["absent"] = DELETE_CURRENT
        assert len(store) == 0

    def test_append_only_is_reported(self, store_factory: StoreFactory) -> None:
        store = store_factory(append_only=True)
        assert store.append_only is True
        assert store.get_params()["append_only"] is True
        assert store.config.append_only is True
        assert type(store).from_config(store.get_params()).append_only is True

    def test_in_place_union_is_update(self, store: PersiDict) -> None:
        store["a"] = 1
        same = store
        same |= {"b": 2, ("c", "d"): 3}
        assert same is store
        same |= [("e", 4)]
        assert dict(store.items()) == {("a",): 1, ("b",): 2, ("c", "d"): 3, ("e",): 4}
        as_any: Any = store
        with pytest.raises(TypeError):
            as_any | {"f": 5}  # no new store without a location of its own
        with pytest.raises(ValueError):
            store |= {"a/b": 6}
        assert dict(store.items()) == {("a",): 1, ("b",): 2, ("c", "d"): 3, ("e",): 4}

    # ------------------------------------------------------------- timestamps
    def test_timestamps_order_keys(self, store: PersiDict) -> None:
        before = time.time()
        for name in ("first", "second", "third"):
            store[name] = name
            time.sleep(self.timestamp_resolution)
        assert store.timestamp("first") <= store.timestamp("second") <= store.timestamp("third")
        assert store.timestamp("first") >= before - 2.0 - self.timestamp_resolution
        assert store.oldest_keys() == [("first",), ("second",), ("third",)]
        assert store.newest_keys(2) == [("third",), ("second",)]
        assert store.oldest_values(1) == ["first"]
        assert store.newest_values() == ["third", "second", "first"]
        assert store.oldest_keys(0) == []
        assert store.newest_keys(10) == [("third",), ("second",), ("first",)]
        with pytest.raises(TypeError):
            not_an_int: Any = 2.5
            store.oldest_keys(not_an_int)
        with pytest.raises(KeyError):
            store.timestamp("missing")

    # ------------------------------------------------------------- etags
    def test_etags(self, store_in_each_mode: PersiDict) -> None:
        store = store_in_each_mode
        etag = store.set_item_get_etag("k", "v1")
        assert etag is not None and etag == store.etag("k")
        assert store.get_item_if_etag_changed("k", etag) is ETAG_HAS_NOT_CHANGED
        assert store.get_item_if_etag_changed("k", None) == ("v1", etag)
        time.sleep(self.timestamp_resolution)
        if store.append_only:
            # Each key is written once: a second key gives a second ETag, the first keeps its own.
            other = store.set_item_get_etag("j", "v2 longer")
            assert other is not None and other != etag
            assert store.get_item_if_etag_changed("k", other) == ("v1", etag)
            if store.mutation_policy == "write-once":
                assert store.set_item_get_etag("k", "v1") == etag  # ignored: the stored value's ETag
            else:
                with pytest.raises(MutationPolicyError) as info:
                    store.set_item_get_etag("k", "v1")
                _check_refusal(info.value, store)
            assert store.etag("k") == etag
        else:
            new_etag = store.set_item_get_etag("k", "v2 longer")
            assert new_etag != etag
            assert store.get_item_if_etag_changed("k", etag) == ("v2 longer", new_etag)
        with pytest.raises(KeyError):
            store.etag("missing")
        with pytest.raises(KeyError):
            store.get_item_if_etag_changed("missing", etag)

    # ------------------------------------------------------------- hierarchy
    def test_subdicts_share_storage(self, store: PersiDict) -> None:
        store[("users", "alice", "profile")] = {"age": 30}
        store[("users", "bob", "profile")] = {"age": 25}
        store[("configs", "db")] = "localhost"
        users = store.get_subdict("users")
        assert type(users) is type(store)
        assert users.append_only is store.append_only
        assert len(users) == 2
        assert users[("alice", "profile")] == {"age": 30}
        alice = store.get_subdict(("users", "alice"))
        assert alice["profile"] == {"age": 30}
        users[("carol", "profile")] = {"age": 41}
        assert store[("users", "carol", "profile")] == {"age": 41}
        assert set(store.subdicts()) == {"users", "configs"}
        assert len(store.subdicts()["configs"]) == 1
        assert len(store.get_subdict("nothing_here")) == 0

    def test_random_key_is_uniform_enough(self, store: PersiDict) -> None:
        store.update({"a": 1, "b": 2, "c": 3})
        seen = {store.random_key() for _ in range(60)}
        assert seen == {("a",), ("b",), ("c",)}

    def test_iteration_survives_concurrent_changes(self, store_in_each_mode: PersiDict) -> None:
        store = store_in_each_mode
        store.update({f"k{i}": i for i in range(20)})
        if store.append_only:
            # Keys cannot vanish here; keys added while listing may or may not be seen.
            listed = []
            for number, key in enumerate(store.keys()):
                listed.append(key)
                store[f"new{number}"] = number
            assert len(listed) == len(set(listed))
            assert {(f"k{i}",) for i in range(20)} <= set(listed)
            assert len(store) == 20 + len(listed)
            return
        seen = 0
        for key in store.keys():
            store.discard(key)
            store.discard(f"k{19 - seen}")
            seen += 1
        assert len(store) == 0

    # ------------------------------------------------------------- configuration
    def test_get_params_round_trips_through_the_constructor(self, store: PersiDict) -> None:
        store["k"] = [1, 2]
        reopened = type(store)(**store.get_params())
        assert type(reopened) is type(store)
        assert reopened.config == store.config
        assert reopened["k"] == [1, 2]
        reopened["other"] = 3
        assert store["other"] == 3

    def test_copies_and_pickles_open_the_same_data(self, store: PersiDict) -> None:
        store["k"] = [1, 2]
        duplicate = copy.copy(store)
        assert duplicate == store
        assert duplicate["k"] == [1, 2]
        duplicate["other"] = 3
        assert store["other"] == 3
        if self.config_reopens_data:
            reopened = store_from_config(store.config.model_dump_json())
            assert type(reopened) is type(store)
            assert reopened["k"] == [1, 2]
            unpickled = pickle.loads(pickle.dumps(store))
            assert unpickled["k"] == [1, 2]

    def test_values_read_are_independent_copies(self, store: PersiDict) -> None:
        store["list"] = [1, 2]
        value = store["list"]
        value.append(3)
        assert store["list"] == [1, 2]

    # ------------------------------------------------------------- model-based
    @pytest.mark.parametrize("mode", _MODES)
    def test_behaves_like_a_dict(self, store_factory: StoreFactory, mode: str) -> None:
        """Random sequences of operations give the same results as on a plain ``dict``."""
        if not self.model_examples:
            pytest.skip(self.model_unsupported or "the model-based test is turned off for this store")
        pytest.importorskip("hypothesis", reason="the model-based test needs persidict-core[testing]")
        from ._state_machine import run_state_machine

        append_only = mode == "append-only"
        if not append_only and store_factory().append_only:
            pytest.skip("the store is always append-only: it has no mutable mode (its append-only mode runs)")
        run_state_machine(
            lambda: store_factory(append_only=append_only),
            max_examples=self.model_examples,
            steps=self.model_steps,
        )

    @staticmethod
    def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll ``condition`` until it holds or ``timeout`` passes (for eventually consistent stores)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.01)
        return condition()
