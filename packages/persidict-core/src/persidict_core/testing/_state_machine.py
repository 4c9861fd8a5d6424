"""The model-based test: a store and a plain ``dict`` driven by the same random operations.

Needs hypothesis (``pip install persidict-core[testing]``); `persidict_core.testing` imports
this module only when one of its names is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

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
)
from .._errors import MutationPolicyError
from .._jokers import DELETE_CURRENT, KEEP_CURRENT
from .._persidict import PersiDict
from ._conformance import _FOREIGN_ETAG, _satisfied

__all__ = ["StoreStateMachine", "run_state_machine", "store_state_machine"]

Key = tuple[str, ...]

# Few keys, so operations often meet: a key, keys below a key of the same name, a deeper one.
_KEYS: Final[tuple[Key, ...]] = (("a",), ("b",), ("a", "x"), ("a", "y"), ("c", "x", "z"))
_PREFIXES: Final[tuple[Key, ...]] = (("a",), ("c",), ("c", "x"), ("nothing",))
_MISSING: Final = object()

_keys = st.sampled_from(_KEYS)
_values = st.one_of(
    st.none(),
    st.integers(min_value=-3, max_value=3),
    st.text(alphabet="ab\u00e9", max_size=3),
    st.lists(st.integers(min_value=0, max_value=2), max_size=3),
)
_conditions = st.sampled_from((ANY_ETAG, ETAG_IS_THE_SAME, ETAG_HAS_CHANGED))
_retrievals = st.sampled_from((ALWAYS_RETRIEVE, NEVER_RETRIEVE, IF_ETAG_CHANGED))
# Which ETag the caller claims to know: the current one, an older one, a made-up one, or "absent".
_expectations = st.sampled_from(("actual", "stale", "foreign", "absent"))


class StoreStateMachine(RuleBasedStateMachine):
    """Drive a store and a plain ``dict`` with the same operations; compare after every step.

    Subclass it and implement `make_store` (an empty store at a fresh location, called once per
    example), or build the subclass with `store_state_machine`. The rules cover item access,
    ``in``, ``len``, iteration, ``setdefault``, ``pop``, ``popitem``, ``update``, ``clear``,
    sub-dict views (read and written through), the jokers and the conditional operations
    (``get_with_etag``, ``set_item_if``, ``setdefault_if``, ``discard_if``). What the store must
    do follows its ``append_only`` and ``mutation_policy``: an append-only store must refuse
    every overwrite and delete with `MutationPolicyError` and stay unchanged, a
    ``"write-once"`` one ignores a rewrite instead. After every step the store's items and
    ETags must equal the model's; with ``strong_etags`` every write must give a new ETag.
    """

    def __init__(self) -> None:
        super().__init__()
        self.store = self.make_store()
        self.model: dict[Key, Any] = {}
        self.etags: dict[Key, Any] = {}  # the ETag of every key, as last written or read
        self.history: dict[Key, list[Any]] = {}  # every ETag each key has had
        self.append_only = self.store.append_only
        self.write_once = self.store.mutation_policy == "write-once"

    def make_store(self) -> PersiDict:
        """Return an empty store at a fresh location (override in a subclass)."""
        raise NotImplementedError("implement make_store, or build the machine with store_state_machine()")

    # ----------------------------------------------------------------- bookkeeping
    def _refused(self, action: Callable[[], Any]) -> None:
        try:
            action()
        except MutationPolicyError as error:
            assert error.policy == self.store.mutation_policy
            return
        raise AssertionError("an append-only store accepted a change of an existing key")

    def _record_write(self, key: Key, value: Any, etag: Any = _MISSING) -> None:
        """The key now holds ``value``: check and remember its (new) ETag."""
        current = self.store.etag(key)
        if etag is not _MISSING:
            assert etag == current, (etag, current)
        if self.store.strong_etags:
            assert current not in self.history.get(key, []), f"ETag {current!r} of {key} repeats"
        self.model[key] = value
        self.etags[key] = current
        self.history.setdefault(key, []).append(current)

    def _record_delete(self, key: Key) -> None:
        self.model.pop(key, None)
        self.etags.pop(key, None)

    def _actual_etag(self, key: Key) -> Any:
        return self.etags[key] if key in self.model else ITEM_NOT_AVAILABLE

    def _expected_etag(self, key: Key, expectation: str) -> Any:
        if expectation == "actual":
            return self._actual_etag(key)
        if expectation == "stale":
            older = [etag for etag in self.history.get(key, []) if etag != self._actual_etag(key)]
            return older[-1] if older else _FOREIGN_ETAG
        return _FOREIGN_ETAG if expectation == "foreign" else ITEM_NOT_AVAILABLE

    def _reported(self, key: Key, expected: Any, retrieve: Any) -> Any:
        """The value a result must carry for a key the operation left alone."""
        if key not in self.model:
            return ITEM_NOT_AVAILABLE
        if retrieve is NEVER_RETRIEVE or (retrieve is IF_ETAG_CHANGED and expected == self.etags[key]):
            return VALUE_NOT_RETRIEVED
        return self.model[key]

    def _write(self, key: Key, value: Any, write: Callable[[], Any], returns_etag: bool) -> None:
        """Run ``write`` (which stores ``value`` under ``key``) with the outcome the mode allows."""
        if self.append_only and key in self.model:
            if not self.write_once:
                self._refused(write)
                return
            result = write()  # ignored: the first value stays
            assert not returns_etag or result == self.etags[key]
            return
        result = write()
        self._record_write(key, value, result if returns_etag else _MISSING)

    # ----------------------------------------------------------------- plain dict API
    @rule(key=_keys, value=_values, with_etag=st.booleans())
    def set_item(self, key: Key, value: Any, with_etag: bool) -> None:
        if with_etag:
            self._write(key, value, lambda: self.store.set_item_get_etag(key, value), returns_etag=True)
        else:
            self._write(key, value, lambda: self.store.__setitem__(key, value), returns_etag=False)

    @rule(key=_keys, joker=st.sampled_from((KEEP_CURRENT, DELETE_CURRENT)))
    def set_joker(self, key: Key, joker: Any) -> None:
        if joker is KEEP_CURRENT:
            self.store[key] = KEEP_CURRENT
        elif self.append_only:
            self._refused(lambda: self.store.__setitem__(key, DELETE_CURRENT))
        else:
            self.store[key] = DELETE_CURRENT
            self._record_delete(key)

    @rule(key=_keys)
    def get(self, key: Key) -> None:
        assert self.store.get(key, _MISSING) == self.model.get(key, _MISSING)
        assert (key in self.store) is (key in self.model)
        if key not in self.model:
            try:
                self.store[key]
            except KeyError:
                return
            raise AssertionError(f"reading the absent key {key} gave no KeyError")

    @rule(key=_keys)
    def delete(self, key: Key) -> None:
        def delete() -> None:
            del self.store[key]

        if self.append_only:
            self._refused(delete)
        elif key in self.model:
            delete()
            self._record_delete(key)
        else:
            try:
                delete()
            except MutationPolicyError:
                raise
            except KeyError:
                return
            raise AssertionError(f"deleting the absent key {key} gave no KeyError")

    @rule(key=_keys)
    def discard(self, key: Key) -> None:
        if self.append_only:
            self._refused(lambda: self.store.discard(key))
            return
        assert self.store.discard(key) is (key in self.model)
        self._record_delete(key)

    @rule(key=_keys, value=_values)
    def setdefault(self, key: Key, value: Any) -> None:
        present = key in self.model
        assert self.store.setdefault(key, value) == self.model.get(key, value)
        if not present:
            self._record_write(key, value)

    @rule(key=_keys, default=st.sampled_from((_MISSING, "default")))
    def pop(self, key: Key, default: Any) -> None:
        args = () if default is _MISSING else (default,)
        if self.append_only:
            self._refused(lambda: self.store.pop(key, *args))
            return
        if key not in self.model and not args:
            try:
                self.store.pop(key)
            except KeyError:
                return
            raise AssertionError(f"popping the absent key {key} gave no KeyError")
        assert self.store.pop(key, *args) == self.model.get(key, default)
        self._record_delete(key)

    @rule()
    def popitem(self) -> None:
        if self.append_only:
            self._refused(self.store.popitem)
            return
        if not self.model:
            try:
                self.store.popitem()
            except KeyError:
                return
            raise AssertionError("popitem() of an empty store gave no KeyError")
        key, value = self.store.popitem()
        assert self.model[tuple(key)] == value
        self._record_delete(tuple(key))

    @rule(items=st.dictionaries(_keys, _values, max_size=3))
    def update(self, items: dict[Key, Any]) -> None:
        if self.append_only and not self.write_once and any(key in self.model for key in items):
            # Items are written in order: those before the first existing key are stored.
            self._refused(lambda: self.store.update(items))
            for key, value in items.items():
                if key in self.model:
                    break
                self._record_write(key, value)
            return
        self.store.update(items)
        for key, value in items.items():
            if not (self.append_only and key in self.model):
                self._record_write(key, value)

    @rule()
    def clear(self) -> None:
        if self.append_only:
            self._refused(self.store.clear)
            return
        self.store.clear()
        self.model.clear()
        self.etags.clear()

    @rule()
    def listing(self) -> None:
        listed = list(self.store)
        assert len(listed) == len(set(listed)) == len(self.model)
        assert set(listed) == set(self.model)
        assert set(self.store.keys()) == set(self.model)
        assert sorted(self.store.values(), key=repr) == sorted(self.model.values(), key=repr)

    @rule(prefix=st.sampled_from(_PREFIXES), rest=st.sampled_from((("x",), ("n",))), value=_values)
    def through_subdict(self, prefix: Key, rest: Key, value: Any) -> None:
        sub = self.store.get_subdict(prefix)
        below = {key[len(prefix) :]: v for key, v in self.model.items() if key[: len(prefix)] == prefix}
        below = {key: v for key, v in below.items() if key}
        assert dict(sub.items()) == below
        assert len(sub) == len(below)
        self._write(prefix + rest, value, lambda: sub.__setitem__(rest, value), returns_etag=False)

    # ----------------------------------------------------------------- conditional operations
    @rule(key=_keys)
    def get_with_etag(self, key: Key) -> None:
        actual = self._actual_etag(key)
        value = self.model.get(key, ITEM_NOT_AVAILABLE)
        assert self.store.get_with_etag(key) == ConditionalOperationResult(True, actual, actual, value)

    @rule(
        key=_keys,
        value=st.one_of(_values, st.sampled_from((KEEP_CURRENT, DELETE_CURRENT))),
        condition=_conditions,
        expectation=_expectations,
        retrieve=_retrievals,
    )
    def set_item_if(self, key: Key, value: Any, condition: Any, expectation: str, retrieve: Any) -> None:
        expected = self._expected_etag(key, expectation)
        actual = self._actual_etag(key)
        satisfied = _satisfied(condition, expected, actual)

        def attempt() -> ConditionalOperationResult[Any]:
            return self.store.set_item_if(
                key, value=value, condition=condition, expected_etag=expected, retrieve_value=retrieve
            )

        if self.append_only and (
            value is DELETE_CURRENT or (satisfied and key in self.model and value is not KEEP_CURRENT)
        ):
            self._refused(attempt)
            return
        result = attempt()
        if not satisfied or value is KEEP_CURRENT:
            reported = self._reported(key, expected, retrieve)
            assert result == ConditionalOperationResult(satisfied, actual, actual, reported)
        elif value is DELETE_CURRENT:
            assert result == ConditionalOperationResult[Any](
                True, actual, ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE
            )
            self._record_delete(key)
        else:
            assert result.condition_was_satisfied is True
            assert result.actual_etag == actual
            assert result.new_value == value
            self._record_write(key, value, result.resulting_etag)

    @rule(key=_keys, value=_values, condition=_conditions, expectation=_expectations, retrieve=_retrievals)
    def setdefault_if(self, key: Key, value: Any, condition: Any, expectation: str, retrieve: Any) -> None:
        expected = self._expected_etag(key, expectation)
        actual = self._actual_etag(key)
        satisfied = _satisfied(condition, expected, actual)
        result = self.store.setdefault_if(
            key, default_value=value, condition=condition, expected_etag=expected, retrieve_value=retrieve
        )
        if satisfied and key not in self.model:
            assert result.condition_was_satisfied is True
            assert result.actual_etag is ITEM_NOT_AVAILABLE
            assert result.new_value == value
            self._record_write(key, value, result.resulting_etag)
        else:
            reported = self._reported(key, expected, retrieve)
            assert result == ConditionalOperationResult(satisfied, actual, actual, reported)

    @rule(key=_keys, condition=_conditions, expectation=_expectations)
    def discard_if(self, key: Key, condition: Any, expectation: str) -> None:
        expected = self._expected_etag(key, expectation)
        actual = self._actual_etag(key)
        satisfied = _satisfied(condition, expected, actual)
        if self.append_only:
            self._refused(lambda: self.store.discard_if(key, condition=condition, expected_etag=expected))
            return
        result = self.store.discard_if(key, condition=condition, expected_etag=expected)
        if key not in self.model:
            absent = ITEM_NOT_AVAILABLE
            assert result == ConditionalOperationResult(satisfied, absent, absent, absent)
        elif satisfied:
            assert result == ConditionalOperationResult[Any](
                True, actual, ITEM_NOT_AVAILABLE, ITEM_NOT_AVAILABLE
            )
            self._record_delete(key)
        else:
            assert result == ConditionalOperationResult(False, actual, actual, VALUE_NOT_RETRIEVED)

    # ----------------------------------------------------------------- after every step
    @invariant()
    def matches_the_model(self) -> None:
        assert dict(self.store.items()) == self.model
        assert len(self.store) == len(self.model)
        etags = {tuple(entry.key): entry.etag for entry in self.store.list_entries()}
        assert etags == self.etags


def store_state_machine(factory: Callable[[], PersiDict]) -> type[StoreStateMachine]:
    """Return a `StoreStateMachine` whose stores ``factory`` builds (empty, at fresh locations).

    Its ``TestCase`` attribute is a unittest test case that runs it with hypothesis's settings;
    `run_state_machine` runs it with a given size.
    """

    class Machine(StoreStateMachine):
        def make_store(self) -> PersiDict:
            return factory()

    Machine.__name__ = Machine.__qualname__ = "StoreStateMachine"
    return Machine


def run_state_machine(factory: Callable[[], PersiDict], *, max_examples: int = 25, steps: int = 20) -> None:
    """Run the model-based test against the stores ``factory`` builds; raise on a difference.

    Args:
        factory: Builds an empty store at a fresh location (called once per example).
        max_examples: How many random operation sequences to try.
        steps: The most operations in one sequence.

    Raises:
        AssertionError: The store and the model disagreed; hypothesis reports the shortest
            sequence of operations it found that shows it.
    """
    run_state_machine_as_test(
        store_state_machine(factory),
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=steps,
            deadline=None,  # stores do I/O: a slow step is not a failure
            database=None,  # leave no example database in the caller's working directory
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
