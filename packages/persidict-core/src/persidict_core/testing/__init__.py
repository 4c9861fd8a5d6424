"""Reusable tests that every persidict store and wrapper must pass.

Subclass `PersiDictConformance` in a test module and provide a ``store_factory`` fixture; see
its docstring. Requires pytest (imported only by this subpackage).
"""

from ._conformance import PersiDictConformance, StoreFactory

__all__ = ["PersiDictConformance", "StoreFactory"]
