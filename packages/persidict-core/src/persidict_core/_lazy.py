"""`lazy_exports`: a package's public names imported from their private modules on first access."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """Return a module ``__getattr__`` (PEP 562) that imports ``names`` on first access.

    A package assigns the result to ``__getattr__`` so that importing it does not import the
    modules behind some of its names (pydantic config models, for one). Each name is read from
    its module once and then kept in the package's namespace, so later accesses are plain
    attribute lookups.

    Args:
        package: The package's ``__name__`` (it must be imported: this runs inside it).
        names: Public name -> the package's module that defines it (``"_config_models"``).

    Returns:
        The ``__getattr__`` function; it raises AttributeError for any other name.
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        try:
            module_name = names[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(f"{package}.{module_name}"), name)
        namespace[name] = value
        return value

    return __getattr__
