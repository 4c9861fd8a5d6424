"""Benchmark: persidict-core's `FileDirDict` and `LocalDict` as ratios to raw file operations.

Every figure is ``baseline_time / our_time`` measured in one run (see ``_harness``); our rounds
and the baseline's are interleaved and the fastest round of each wins, which keeps the figures
stable on a noisy machine (fsync times especially).

Baselines (the same in our run and in the original's):

* read: ``open(path, "rb")`` + ``read()`` + ``pickle.loads``;
* write: ``pickle.dumps`` + write a temporary file in the same directory + ``os.replace``;
  the "fsync" variant also flushes and ``os.fsync``s the file and then the directory;
* delete: ``os.remove``; ``in``: ``os.path.isfile``;
* listing: an ``os.scandir`` walk collecting the names that end in ``.pkl``;
* ``newest_keys(10)``: the same walk with ``stat`` of each file and ``heapq.nlargest``;
* LocalDict get: ``d[NonEmptySafeStrTuple(k)]`` on a plain dict;
* json get: ``open`` + ``read`` + ``jsonpickle.decode`` of the same files (how the original
  reads json), and the raw pickle read of the same values; json set: ``jsonpickle.encode`` +
  a raw write (see `measure_json`; these rows are ours only).

The same workload runs against the original persidict (0.309.0, which shares our import name)
in a virtual environment of its own, as a subprocess (``benchmarks/original/run_original.py``);
its ratios, each against its own raw baseline measured in that subprocess, are shown in the
``original`` note of every row and saved under ``extra``. The environment is looked up in
``$PERSIDICT_ORIGINAL_PYTHON`` or ``.bench/original-venv`` (``nox -s bench`` creates it).

Run: ``python benchmarks/bench_core.py`` (``--no-fail`` to report without failing,
``--no-original`` to skip the original's run).
"""

from __future__ import annotations

import heapq
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import best_time, header, raw_walk  # noqa: E402

N_SMALL = 2_000  # small values for get, set, delete, in
N_SYNC = 50  # values per round of the fsync=True figures (each write costs ~0.5 ms of fsync here)
N_BIG = 200  # values of 100 KB
N_LIST = 20_000  # keys for listing: 20 directories of 1,000
LIST_DIRS = 20
ROUNDS = 11  # reads and listings: short rounds, so many of them
LEN_ROUNDS = 21  # len is as fast as the walk it is compared with: more rounds, a steadier ratio
N_NOSYNC = 200  # values per round of the fsync=False figures
WRITE_ROUNDS = 25  # short rounds again: one slow round of the machine must not decide
ROUNDS_SYNC = 40  # many short rounds: the best of each side escapes the I/O of other processes
ROOT = Path(__file__).resolve().parent.parent
ORIGINAL_RUNNER = Path(__file__).resolve().parent / "original" / "run_original.py"

# (figure name, target ratio); the names are shared with the original's run.
FIGURES: list[tuple[str, float | None]] = [
    ("get, 2,000 small values", 0.7),
    ("hierarchical get (3-element keys)", 0.7),
    ("get, 200 x 100 KB values", 0.7),
    ("set new keys, fsync=True", 0.95),
    ("overwrite, fsync=True", 0.95),
    ("set new keys, fsync=False", 0.8),
    ("overwrite, fsync=False", 0.8),
    ("delete", 0.85),
    ("in", 0.7),
    ("len, 2,000 keys", 1.0),
    ("len, 20,000 keys", 1.0),
    ("for k in store, 20,000 keys", 0.5),
    ("keys() iteration, 20,000 keys", 0.5),
    ("list(store.keys())", None),
    ("newest_keys(10), 20,000 keys", 0.5),
    ("newest_keys(10): 100 KB vs small values", None),
    ("LocalDict get, str values", 0.2),
    ("LocalDict get, dict values", None),
]


def small_value(i: int) -> dict[str, Any]:
    return {"id": i, "name": f"item-{i}", "tags": ["a", "b"], "score": i * 0.5}


def big_value(i: int) -> Any:
    """A 100 KB value: a float64 numpy array (bytes when numpy is missing)."""
    try:
        import numpy as np
    except ImportError:
        return bytes([i % 256]) * 102_400
    return np.arange(12_800, dtype=np.float64) + i


# ----------------------------------------------------------------- raw baselines
def raw_write(path: str, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    temp = path + ".tmp"
    with open(temp, "wb") as f:
        f.write(data)
    os.replace(temp, path)


def raw_write_fsync(path: str, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    temp = path + ".tmp"
    with open(temp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)
    fd = os.open(os.path.dirname(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def raw_read(path: str) -> Any:
    with open(path, "rb") as f:
        return pickle.loads(f.read())


def raw_newest(base: str, n: int) -> list[str]:
    def stamped() -> Iterator[tuple[int, str]]:
        stack = [base]
        while stack:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.name.endswith(".pkl"):
                        yield entry.stat(follow_symlinks=False).st_mtime_ns, entry.name

    return [name for _, name in heapq.nlargest(n, stamped())]


# ----------------------------------------------------------------- helpers
def paired(
    ours: Callable[[], object],
    base: Callable[[], object],
    *,
    rounds: int = ROUNDS,
    number: int = 1,
    setup_ours: Callable[[], object] | None = None,
    setup_base: Callable[[], object] | None = None,
) -> tuple[float, float]:
    """Interleave rounds of ours and the baseline; return the best time of each."""
    best_ours = best_base = float("inf")
    for _ in range(rounds):
        best_ours = min(best_ours, best_time(ours, number=number, repeat=1, setup=setup_ours))
        best_base = min(best_base, best_time(base, number=number, repeat=1, setup=setup_base))
    return best_ours, best_base


def empty_dir(directory: str) -> None:
    for entry in os.scandir(directory):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.remove(entry.path)


def link_tree(source: str, target: str) -> None:
    """Fill ``target`` with hard links to every file under ``source`` (a quick, exact copy)."""
    for directory, _subdirs, files in os.walk(source):
        rel = os.path.relpath(directory, source)
        destination = os.path.normpath(os.path.join(target, rel))
        os.makedirs(destination, exist_ok=True)
        for name in files:
            os.link(os.path.join(directory, name), os.path.join(destination, name))


# ----------------------------------------------------------------- the workload
def measure(
    make_file_store: Callable[..., Any],
    make_local_store: Callable[[], Any],
    key_class: Callable[[Any], Any],
    *,
    log: Callable[[str], None] = lambda message: None,
    write_rounds: int = WRITE_ROUNDS,
    n_nosync: int = N_NOSYNC,
) -> dict[str, tuple[float, float]]:
    """Run every figure against a store implementation; return ``{name: (ours_s, base_s)}``.

    ``make_file_store(base_dir, fsync)`` builds a FileDirDict with ``digest_len=0`` (the file
    layout ``base_dir/a/b.pkl``); a store without an fsync option ignores ``fsync``. Times are
    per operation (per key), except listing figures (per listing). ``write_rounds`` and
    ``n_nosync`` shorten the write figures of a store that always fsyncs (the original).
    """
    results: dict[str, tuple[float, float]] = {}
    work = tempfile.mkdtemp(prefix="persidict-bench-")
    try:

        def fresh(name: str) -> str:
            path = os.path.join(work, name)
            os.makedirs(path)
            return path

        started = time.perf_counter()

        def add(name: str, ours_s: float, base_s: float, per: int = 1) -> None:
            results[name] = (ours_s / per, base_s / per)
            log(f"{name}: {base_s / ours_s:.2f}x ({time.perf_counter() - started:.0f} s)")

        # ---- reads
        keys = [f"k{i}" for i in range(N_SMALL)]
        values = [small_value(i) for i in range(N_SMALL)]
        store_dir = fresh("get")
        store = make_file_store(store_dir, False)
        raw_dir = fresh("get-raw")
        paths = [os.path.join(raw_dir, k + ".pkl") for k in keys]
        for k, p, v in zip(keys, paths, values, strict=True):
            store[k] = v
            raw_write(p, v)

        def get_ours() -> None:
            for k in keys:
                store[k]

        def get_raw() -> None:
            for p in paths:
                raw_read(p)

        add("get, 2,000 small values", *paired(get_ours, get_raw), per=N_SMALL)

        hkeys = [("users", f"u{i % 40}", f"item{i}") for i in range(N_SMALL)]
        hstore = make_file_store(fresh("hget"), False)
        hraw = fresh("hget-raw")
        hpaths = [os.path.join(hraw, *k[:-1], k[-1] + ".pkl") for k in hkeys]
        for k, p, v in zip(hkeys, hpaths, values, strict=True):
            hstore[k] = v
            os.makedirs(os.path.dirname(p), exist_ok=True)
            raw_write(p, v)

        def hget_ours() -> None:
            for k in hkeys:
                hstore[k]

        def hget_raw() -> None:
            for p in hpaths:
                raw_read(p)

        add("hierarchical get (3-element keys)", *paired(hget_ours, hget_raw), per=N_SMALL)

        bkeys = [f"big{i}" for i in range(N_BIG)]
        bstore = make_file_store(fresh("bget"), False)
        braw = fresh("bget-raw")
        bpaths = [os.path.join(braw, k + ".pkl") for k in bkeys]
        for i, (k, p) in enumerate(zip(bkeys, bpaths, strict=True)):
            bstore[k] = big_value(i)
            raw_write(p, big_value(i))

        def bget_ours() -> None:
            for k in bkeys:
                bstore[k]

        def bget_raw() -> None:
            for p in bpaths:
                raw_read(p)

        add("get, 200 x 100 KB values", *paired(bget_ours, bget_raw), per=N_BIG)

        # ---- writes: new keys (the directory is emptied before each round) and overwrites
        def write_figures(fsync: bool, n: int, rounds: int) -> None:
            wkeys, wvalues = keys[:n], values[:n]
            wstore_dir = fresh(f"set-{fsync}")
            wstore = make_file_store(wstore_dir, fsync)
            wraw = fresh(f"set-raw-{fsync}")
            wpaths = [os.path.join(wraw, k + ".pkl") for k in wkeys]
            write = raw_write_fsync if fsync else raw_write

            def set_ours() -> None:
                for k, v in zip(wkeys, wvalues, strict=True):
                    wstore[k] = v

            def set_raw() -> None:
                for p, v in zip(wpaths, wvalues, strict=True):
                    write(p, v)

            add(
                f"set new keys, fsync={fsync}",
                *paired(
                    set_ours,
                    set_raw,
                    rounds=rounds,
                    setup_ours=lambda: empty_dir(wstore_dir),
                    setup_base=lambda: empty_dir(wraw),
                ),
                per=n,
            )
            set_ours()
            set_raw()
            add(f"overwrite, fsync={fsync}", *paired(set_ours, set_raw, rounds=rounds), per=n)

        write_figures(True, N_SYNC, ROUNDS_SYNC)
        write_figures(False, n_nosync, write_rounds)

        # ---- delete (files restored by hard links from a template before each round) and `in`
        # The files of the get figure are the templates (its store holds exactly ``keys``).
        template, raw_template = store_dir, raw_dir
        dstore_dir = fresh("del")
        dstore = make_file_store(dstore_dir, False)
        draw = fresh("del-raw")
        dpaths = [os.path.join(draw, k + ".pkl") for k in keys]

        def refill(source: str, target: str) -> None:
            empty_dir(target)
            link_tree(source, target)

        def del_ours() -> None:
            for k in keys:
                del dstore[k]

        def del_raw() -> None:
            for p in dpaths:
                os.remove(p)

        add(
            "delete",
            *paired(
                del_ours,
                del_raw,
                setup_ours=lambda: refill(template, dstore_dir),
                setup_base=lambda: refill(raw_template, draw),
            ),
            per=N_SMALL,
        )

        def in_ours() -> None:
            for k in keys:
                k in store  # noqa: B015

        def in_raw() -> None:
            for p in paths:
                os.path.isfile(p)

        add("in", *paired(in_ours, in_raw), per=N_SMALL)

        # ---- len of 2,000 keys: the store of the get figure (2,000 top-level files)
        def len_walk_small() -> None:
            len(raw_walk(raw_template))

        add("len, 2,000 keys", *paired(lambda: len(store), len_walk_small, rounds=LEN_ROUNDS))

        # ---- listing: 20 directories of 1,000 keys, written raw in the layout of digest_len=0
        list_dir = fresh("list")
        per_dir = N_LIST // LIST_DIRS
        for d in range(LIST_DIRS):
            os.makedirs(os.path.join(list_dir, f"d{d}"))
            for i in range(per_dir):
                raw_write(os.path.join(list_dir, f"d{d}", f"k{i}.pkl"), i)
        lstore = make_file_store(list_dir, False)
        if len(lstore) != N_LIST:
            raise RuntimeError(f"listing store sees {len(lstore)} keys, expected {N_LIST}")

        def walk() -> None:
            raw_walk(list_dir)

        def len_walk() -> None:
            len(raw_walk(list_dir))

        def iterate() -> None:
            for _ in lstore:
                pass

        def iterate_keys() -> None:
            for _ in lstore.keys():
                pass

        add("len, 20,000 keys", *paired(lambda: len(lstore), len_walk, rounds=LEN_ROUNDS))
        add("for k in store, 20,000 keys", *paired(iterate, walk))
        add("keys() iteration, 20,000 keys", *paired(iterate_keys, walk))
        add("list(store.keys())", *paired(lambda: list(lstore.keys()), walk))
        add(
            "newest_keys(10), 20,000 keys",
            *paired(lambda: lstore.newest_keys(max_n=10), lambda: raw_newest(list_dir, 10)),
        )
        # Reading no value: newest_keys over 200 big values costs what it costs over 200 small ones.
        small_dir = fresh("newest-small")
        sstore = make_file_store(small_dir, False)
        for i in range(N_BIG):
            sstore[f"big{i}"] = i
        add(
            "newest_keys(10): 100 KB vs small values",
            *paired(lambda: bstore.newest_keys(max_n=10), lambda: sstore.newest_keys(max_n=10), rounds=15),
        )

        # ---- LocalDict: str values measure the store's own cost (key conversion, lookup, checks);
        # dict values add the copy a read makes so that mutating it never changes the store.
        for label, local_values in (
            ("str values", [f"value-{i}" for i in range(N_SMALL)]),
            ("dict values", values),
        ):
            local = make_local_store()
            plain: dict[Any, Any] = {}
            for k, v in zip(keys, local_values, strict=True):
                local[k] = v
                plain[key_class(k)] = v

            def local_get(local: Any = local) -> None:
                for k in keys:
                    local[k]

            def plain_get(plain: dict[Any, Any] = plain) -> None:
                for k in keys:
                    plain[key_class(k)]

            add(f"LocalDict get, {label}", *paired(local_get, plain_get, number=5), per=N_SMALL)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


# ----------------------------------------------------------------- json
JSON_FIGURES: list[tuple[str, float | None]] = [
    ("json get, small dict vs jsonpickle decode", 3.0),
    ("json get, small dict vs raw pickle read", None),
    ("json get, tuples and sets vs jsonpickle decode", None),
    ("json set, small dict vs jsonpickle encode", None),
]


def measure_json(log: Callable[[str], None] = lambda message: None) -> dict[str, tuple[float, float]]:
    """The ``json`` format against jsonpickle used the way the original persidict uses it.

    Baselines, over the same files: ``open`` + ``read`` + ``jsonpickle.decode`` (the original's
    json read), the raw pickle read of the same value, and ``jsonpickle.encode`` + the raw
    write. Documents with tags (tuples, sets) cannot take the fast path: their row shows the
    cost of the allowlist check on top of jsonpickle's decoder.
    """
    import jsonpickle

    from persidict_core import FileDirDict

    results: dict[str, tuple[float, float]] = {}
    keys = [f"k{i}" for i in range(N_SMALL)]
    with tempfile.TemporaryDirectory(prefix="persidict-bench-json-") as work:
        for label, make_value in (
            ("small dict", small_value),
            ("tuples and sets", lambda i: {"id": i, "pair": (i, i + 1), "tags": {"a", "b"}}),
        ):
            directory = os.path.join(work, label.replace(" ", "-"))
            store = FileDirDict(directory, serialization_format="json", digest_len=0, fsync=False)
            pickled = os.path.join(work, label.replace(" ", "-") + "-pkl")
            os.makedirs(pickled)
            paths = [os.path.join(directory, k + ".json") for k in keys]
            pickle_paths = [os.path.join(pickled, k + ".pkl") for k in keys]
            for i, (k, p) in enumerate(zip(keys, pickle_paths, strict=True)):
                store[k] = make_value(i)
                raw_write(p, make_value(i))

            def get_ours(store: Any = store) -> None:
                for k in keys:
                    store[k]

            def jsonpickle_read(paths: list[str] = paths) -> None:
                for p in paths:
                    with open(p, encoding="utf-8") as f:
                        jsonpickle.decode(f.read(), keys=True)

            def pickle_read(pickle_paths: list[str] = pickle_paths) -> None:
                for p in pickle_paths:
                    raw_read(p)

            ours_s, base_s = paired(get_ours, jsonpickle_read)
            results[f"json get, {label} vs jsonpickle decode"] = (ours_s / N_SMALL, base_s / N_SMALL)
            log(f"json get, {label}: {base_s / ours_s:.2f}x of jsonpickle")
            if label == "small dict":
                ours_s, base_s = paired(get_ours, pickle_read)
                results["json get, small dict vs raw pickle read"] = (ours_s / N_SMALL, base_s / N_SMALL)
                values = [small_value(i) for i in range(N_NOSYNC)]
                raw_dir = os.path.join(work, "json-set-raw")
                os.makedirs(raw_dir)
                raw_paths = [os.path.join(raw_dir, k + ".json") for k in keys[:N_NOSYNC]]

                def set_ours(store: Any = store, values: list[Any] = values) -> None:
                    for k, v in zip(keys, values, strict=False):
                        store[k] = v

                def set_raw(raw_paths: list[str] = raw_paths, values: list[Any] = values) -> None:
                    for p, v in zip(raw_paths, values, strict=True):
                        temp = p + ".tmp"
                        with open(temp, "w", encoding="utf-8") as f:
                            f.write(jsonpickle.encode(v, keys=True, indent=4))
                        os.replace(temp, p)

                ours_s, base_s = paired(set_ours, set_raw, rounds=WRITE_ROUNDS)
                results["json set, small dict vs jsonpickle encode"] = (ours_s / N_NOSYNC, base_s / N_NOSYNC)
    return results


# ----------------------------------------------------------------- our run
def _original_python() -> str | None:
    configured = os.environ.get("PERSIDICT_ORIGINAL_PYTHON")
    if configured:
        return configured
    bindir = "Scripts" if os.name == "nt" else "bin"
    candidate = ROOT / ".bench" / "original-venv" / bindir / ("python.exe" if os.name == "nt" else "python")
    return str(candidate) if candidate.exists() else None


def run_original() -> tuple[dict[str, tuple[float, float]] | None, str]:
    """Run the workload against persidict 0.309.0 in its own environment; return its figures."""
    python = _original_python()
    if python is None:
        return None, "no environment with persidict==0.309.0 (.bench/original-venv): run `nox -s bench`"
    try:
        done = subprocess.run(
            [python, str(ORIGINAL_RUNNER)],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tempfile.gettempdir(),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"the original's run failed: {exc}"
    if done.returncode != 0:
        return None, f"the original's run failed: {done.stderr.strip()[-500:]}"
    payload = json.loads(done.stdout.strip().splitlines()[-1])
    figures = {name: (pair[0], pair[1]) for name, pair in payload["figures"].items()}
    return figures, f"persidict {payload['version']}"


def count_reads_of_newest_keys() -> int:
    """Return how many values ``newest_keys`` reads (it must read none)."""
    from persidict_core import FileDirDict

    calls = [0]

    class CountingFileDirDict(FileDirDict):
        def _open_key_file(self, *args: Any, **kwargs: Any) -> Any:
            calls[0] += 1  # every read of a value opens its file here
            return super()._open_key_file(*args, **kwargs)

    with tempfile.TemporaryDirectory() as tmp:
        store = CountingFileDirDict(tmp, fsync=False)
        for i in range(50):
            store[("a", f"k{i}")] = i
        store["x"] = 0
        store["x"]  # one read, to prove the counter counts
        if calls[0] != 1:
            raise RuntimeError("the read counter does not see reads")
        calls[0] = 0
        store.newest_keys(10)
        store.oldest_keys(10)
        return calls[0]


def main() -> int:
    from persidict_core import FileDirDict, LocalDict
    from persidict_safestr import NonEmptySafeStrTuple

    report = header("core")
    ours = measure(
        lambda base_dir, fsync: FileDirDict(base_dir, digest_len=0, fsync=fsync),
        LocalDict,
        NonEmptySafeStrTuple,
        log=lambda message: print(f"  measured {message}", flush=True),
    )
    original: dict[str, tuple[float, float]] | None = None
    if "--no-original" in sys.argv:
        label = "skipped (--no-original)"
    else:
        print("(running the same workload on the original persidict in its own environment...)", flush=True)
        original, label = run_original()
    json_figures = measure_json(log=lambda message: print(f"  measured {message}", flush=True))
    reads = count_reads_of_newest_keys()
    for name, target in FIGURES:
        ours_s, base_s = ours[name]
        if original is not None and name in original:
            o_ours, o_base = original[name]
            note = f"original {o_base / o_ours:.2f}x"
        else:
            note = "original -"
        report.add(name, ours_s, base_s, target, note)
    for name, target in JSON_FIGURES:
        report.add(name, *json_figures[name], target)
    report.extra["original"] = label
    report.extra["original_figures"] = (
        {name: {"ours_s": o, "baseline_s": b, "ratio": b / o} for name, (o, b) in original.items()}
        if original
        else None
    )
    report.extra["values_read_by_newest_keys"] = reads
    report.extra["machine"] = f"{os.cpu_count()} cores, {sys.platform}"
    print(f"original: {label}")
    print(f"values read by newest_keys/oldest_keys: {reads} (must be 0)")
    code = report.finish()
    if reads:
        print("FAILED: newest_keys read values")
        return 1
    return code


if __name__ == "__main__":
    raise SystemExit(main())
