"""Rounds of plain FileDirDict writes and reads, timed in this interpreter, on request.

``bench_conditional.py`` runs this script once in an environment holding persidict-core as it
was before writers took a lock and once in its own interpreter (twice, to check its method),
and alternates the rounds it asks of them, so both sides are driven alike and meet the same
load. Protocol, one line each way: the parent writes ``<operation> <fsync 0|1> <calls>``
(operation: ``new``, ``overwrite`` or ``read``) and reads back the time per call in seconds;
an empty line ends the child.

The workload and the timing are the parent's own functions (imported from
``bench_conditional.py``, which imports whichever persidict-core this interpreter has), in
folders under the directory given as the first argument, which the other side's stores share:
each side's key names start with a prefix of its own (the second argument, ``before`` if not
given).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_conditional import FileDirDict, new_keys, one_round, overwrite, read  # noqa: E402


def main() -> None:
    work = sys.argv[1]
    side = sys.argv[2] if len(sys.argv) > 2 else "before"  # the prefix of this process's key names
    # The parent's store of the same fsync writes into the same folder, with its own key names.
    stores = {
        fsync: FileDirDict(base_dir=os.path.join(work, f"fsync-{fsync}"), fsync=fsync)
        for fsync in (True, False)
    }
    calls = {}
    for fsync, store in stores.items():
        calls[fsync] = {
            "new": new_keys(store, side),
            "overwrite": overwrite(store, side),
            "read": read(store, side),
        }
    for line in sys.stdin:
        if not line.strip():
            break
        name, fsync, n = line.split()
        print(repr(one_round(calls[fsync == "1"][name], int(n))), flush=True)


if __name__ == "__main__":
    main()
