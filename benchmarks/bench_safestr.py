"""Benchmark: turning a key into a ``NonEmptySafeStrTuple``, as a ratio to ``tuple(...)``.

Every store operation normalises its key this way, so construction must stay close to the
cost of building a plain tuple of the same strings. Each figure is measured against
``tuple(...)`` of the same input in the same run.

"Repeated" figures construct the same key again and again (the common case in a store, and the
one the bounded construction cache serves); "first-seen" figures construct keys that were never
seen before (a fresh batch of distinct keys per round), so they pay for full validation.

Run: ``python benchmarks/bench_safestr.py`` (``--no-fail`` to report without failing).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import best_time, header  # noqa: E402

from persidict_safestr import NonEmptySafeStrTuple  # noqa: E402
from persidict_safestr import _safe_str_tuple as _impl  # noqa: E402

NUMBER = 200_000
REPEAT = 7
BATCH = 2_000


def _fresh_batch(round_no: list[int]) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Return never-seen strings and 3-tuples (the caches are emptied too)."""
    round_no[0] += 1
    r = round_no[0]
    _impl._nonempty_cache.clear()
    _impl._valid_elements.clear()
    strings = [f"key_{r}_{i}" for i in range(BATCH)]
    triples = [(f"users_{r}_{i}", f"item-{i}", f"v{r}.{i}=x") for i in range(BATCH)]
    return strings, triples


def main() -> int:
    """Measure, print and save the figures; return the exit code."""
    report = header("safestr")
    s = "my_key_name"
    t3 = ("users", "alice_01", "profile.json")
    existing = NonEmptySafeStrTuple(t3)

    ours = best_time(lambda: NonEmptySafeStrTuple(s), number=NUMBER, repeat=REPEAT)
    base = best_time(lambda: tuple((s,)), number=NUMBER, repeat=REPEAT)
    report.add("NonEmptySafeStrTuple(str), repeated", ours, base, target=0.2)

    ours = best_time(lambda: NonEmptySafeStrTuple(t3), number=NUMBER, repeat=REPEAT)
    base = best_time(lambda: tuple(t3), number=NUMBER, repeat=REPEAT)
    report.add("NonEmptySafeStrTuple(3-tuple of str), repeated", ours, base, target=0.2)

    ours = best_time(lambda: NonEmptySafeStrTuple(existing), number=NUMBER, repeat=REPEAT)
    base = best_time(lambda: tuple(existing), number=NUMBER, repeat=REPEAT)
    report.add("NonEmptySafeStrTuple(NonEmptySafeStrTuple)", ours, base, target=0.5)

    # First-seen keys: one call per distinct key, the loop over the batch timed on both sides.
    state = [0]
    batch: dict[str, list[object]] = {}

    def refill() -> None:
        strings, triples = _fresh_batch(state)
        batch["strings"], batch["triples"] = list(strings), list(triples)

    def ours_str() -> None:
        for x in batch["strings"]:
            NonEmptySafeStrTuple(x)

    def base_str() -> None:
        for x in batch["strings"]:
            tuple((x,))

    def ours_t3() -> None:
        for x in batch["triples"]:
            NonEmptySafeStrTuple(x)

    def base_t3() -> None:
        for x in batch["triples"]:
            tuple(x)

    for name, ours_f, base_f in (
        ("NonEmptySafeStrTuple(str), first-seen", ours_str, base_str),
        ("NonEmptySafeStrTuple(3-tuple), first-seen", ours_t3, base_t3),
    ):
        ours = best_time(ours_f, repeat=REPEAT, setup=refill) / BATCH
        base = best_time(base_f, repeat=REPEAT, setup=refill) / BATCH
        report.add(name, ours, base, target=None, note="(informational: full validation)")

    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
