"""Checks shared by the load scenarios over files (processes) and S3 (threads)."""

from __future__ import annotations

from collections.abc import Sequence

from persidict_core import PersiDict
from tests.reliability import _report
from tests.reliability._workers import Stats, check_value, key_name, make_value

__all__ = ["final_value_problems", "prefill", "tally"]


def tally(stats: list[Stats], extra_violations: list[str]) -> None:
    """Add the workers' figures to the report and fail on any violation."""
    _report.add("operations", sum(int(s["ops"]) for s in stats))
    violations = sum(int(s["violations"]) for s in stats) + len(extra_violations)
    _report.add("violations", violations)
    messages = [m for s in stats for m in s["errors"]] + extra_violations
    assert violations == 0, messages
    assert all(s["ops"] > 0 for s in stats), "a worker did no work"


def final_value_problems(store: PersiDict, key: tuple[str, ...], stats: list[Stats]) -> list[str]:
    """The key's final value must be the last value some worker wrote to it."""
    name = key_name(key)
    value = store[key]
    problem = check_value(value, name)
    if problem:
        return [problem]
    lasts = {int(s["index"]): s["last"][name] for s in stats if name in s["last"]}
    if lasts and lasts.get(value["writer"]) != value["seq"]:
        return [f"{name!r} ends with writer {value['writer']} seq {value['seq']}, not a last write {lasts}"]
    return []


def prefill(store: PersiDict, keys: Sequence[tuple[str, ...]]) -> None:
    for key in keys:
        store[key] = make_value(key_name(key), -1, -1, 100)
