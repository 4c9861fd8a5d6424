"""The model-based test itself: it catches a store that strays from dict, and ships without hypothesis.

Every store and wrapper runs it through `PersiDictConformance.test_behaves_like_a_dict`; here
are the checks that it can fail, and the other ways of running it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from persidict_core import KeyLike, LocalDict
from persidict_core.testing import run_state_machine, store_state_machine


class ForgetfulPop(LocalDict):
    """Returns the value but forgets to remove it when a default is given."""

    def pop(self, key: KeyLike, *default: Any) -> Any:
        if default:
            return self.get(key, default[0])
        return super().pop(key)


class LaxAppendOnly(LocalDict):
    """An append-only store that silently ignores an overwrite instead of refusing it."""

    def __setitem__(self, key: KeyLike, value: Any) -> None:
        if self.append_only and key in self:
            return
        super().__setitem__(key, value)


def _failure(factory: Any) -> str:
    # Deterministic, and one failure reported (not a group of the distinct ones it may find).
    quiet = settings(
        max_examples=300, derandomize=True, report_multiple_bugs=False, database=None, deadline=None
    )
    with pytest.raises(AssertionError) as info:
        run_state_machine_as_test(store_state_machine(factory), settings=quiet)
    return str(info.value)


def test_a_store_that_keeps_a_popped_item_fails() -> None:
    _failure(ForgetfulPop)


def test_an_append_only_store_that_accepts_an_overwrite_fails() -> None:
    assert "accepted a change" in _failure(lambda: LaxAppendOnly(append_only=True))


def test_correct_stores_pass() -> None:
    run_state_machine(LocalDict, max_examples=10, steps=10)
    run_state_machine(lambda: LocalDict(append_only=True), max_examples=10, steps=10)


# The unittest route: a TestCase that pytest (or unittest) collects, with settings of its own.
LocalDictMachine = store_state_machine(LocalDict)
LocalDictMachine.TestCase.settings = settings(max_examples=10, stateful_step_count=10, database=None)
TestLocalDictMachine = LocalDictMachine.TestCase


def test_the_classic_suite_imports_without_hypothesis() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["hypothesis"] = None  # as if it were not installed
        import persidict_core.testing as testing
        assert testing.PersiDictConformance and testing.InputConformance
        try:
            testing.StoreStateMachine
        except ImportError:
            print("ImportError")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "ImportError"
