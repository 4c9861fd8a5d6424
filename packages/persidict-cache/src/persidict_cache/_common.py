"""Helpers shared by the wrappers: argument checks and configs derived from a wrapped store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from persidict_core import KNOWN_PARAMETER_NAMES, PersiDict, StoreConfig

__all__ = ["require_store", "wrapper_config"]


def require_store(name: str, value: object, owner: str) -> PersiDict:
    """Return ``value`` if it is a `PersiDict`; raise a TypeError naming the argument otherwise."""
    if not isinstance(value, PersiDict):
        raise TypeError(f"{owner}: {name} must be a PersiDict (a store), got {type(value).__name__}")
    return value


def wrapper_config(
    cls: type[PersiDict],
    source: PersiDict,
    params: Mapping[str, Any],
    append_only: bool | None = None,
) -> StoreConfig:
    """Build ``cls``'s config from constructor ``params``.

    The wrapper's ``serialization_format`` and ``base_class_for_values`` come from ``source``
    (the main or wrapped store), as does ``append_only`` unless given. Those three names are
    therefore ignored when passed to a wrapper (a config reopened from JSON passes them back);
    other names of the shared vocabulary that don't apply are ignored, unknown names are a
    pydantic ``ValidationError``.
    """
    applicable = cls.applicable_parameters
    # Unknown names are kept so that the model (extra="forbid") rejects them by name.
    kept = {
        name: value
        for name, value in params.items()
        if name in applicable or name not in KNOWN_PARAMETER_NAMES
    }
    kind = cls.config_class.model_fields["kind"].default
    return cls.config_class(
        kind=kind,
        serialization_format=source.serialization_format,
        append_only=source.append_only if append_only is None else append_only,
        base_class_for_values=source.base_class_for_values,
        **kept,
    )
