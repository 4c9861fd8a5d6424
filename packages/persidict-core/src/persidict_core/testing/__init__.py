"""Reusable tests that every persidict store and wrapper must pass.

Subclass `PersiDictConformance` in a test module and provide a ``store_factory`` fixture; see
its docstring. That one class carries the whole contract, including the model-based test.
Requires pytest (imported only by this subpackage).

The model-based test (`StoreStateMachine`, `store_state_machine`, `run_state_machine`) needs
hypothesis, installed by ``pip install persidict-core[testing]``; its names are imported on
first use, so the rest of this module works without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._conformance import InputConformance, PersiDictConformance, StoreFactory

if TYPE_CHECKING:
    from ._state_machine import StoreStateMachine, run_state_machine, store_state_machine

__all__ = [
    "InputConformance",
    "PersiDictConformance",
    "StoreFactory",
    "StoreStateMachine",
    "run_state_machine",
    "store_state_machine",
]

_NEEDS_HYPOTHESIS = frozenset({"StoreStateMachine", "run_state_machine", "store_state_machine"})


def __getattr__(name: str) -> Any:
    if name in _NEEDS_HYPOTHESIS:
        from . import _state_machine

        return getattr(_state_machine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
