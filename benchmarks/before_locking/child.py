"""Rounds of plain FileDirDict writes and reads, timed in this interpreter, on request.

``bench_conditional.py`` runs this script in an environment holding persidict-core as it was
before writers took a lock, and alternates its own rounds with the rounds asked of this
process, so both sides meet the same load. Protocol, one line each way: the parent writes
``<operation> <fsync 0|1> <calls>`` (operation: ``new``, ``overwrite`` or ``read``) and reads
back the time per call in seconds; an empty line ends the child.

The workload is the parent's: the same value, new keys numbered from a counter, overwrites
and reads of one key, in a store of its own under the directory given as the argument.
"""

from __future__ import annotations

import gc
import itertools
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from persidict_core import FileDirDict

VALUE = {"user": "alice", "scores": list(range(20)), "active": True}


def operation(store: Any, name: str, counter: itertools.count[int]) -> Callable[[], None]:
    """The call that one round repeats."""
    if name == "new":
        return lambda: store.__setitem__(f"k{next(counter)}", VALUE)
    if name == "overwrite":
        return lambda: store.__setitem__("same", VALUE)
    if name == "read":
        return lambda: store["same"]
    raise ValueError(f"unknown operation {name!r}")


def main() -> None:
    work = sys.argv[1]
    stores = {
        fsync: FileDirDict(base_dir=os.path.join(work, f"before-{fsync}"), fsync=fsync)
        for fsync in (True, False)
    }
    for store in stores.values():
        store["same"] = VALUE
    counter = itertools.count()
    for line in sys.stdin:
        if not line.strip():
            break
        name, fsync, calls = line.split()
        call = operation(stores[fsync == "1"], name, counter)
        n = int(calls)
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        for _ in range(n):
            call()
        elapsed = (time.perf_counter() - start) / n
        gc.enable()
        print(repr(elapsed), flush=True)


if __name__ == "__main__":
    main()
