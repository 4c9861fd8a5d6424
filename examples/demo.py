"""A tour of persidict as a user sees it. Run it with ``nox -s demo`` (or ``python examples/demo.py``).

1. A FileDirDict in a temporary folder: hierarchical keys, timestamps, newest_keys, a subdict.
2. A second Python process opens the same folder and reads what the first one wrote.
3. An S3Dict talking real HTTP to a moto S3 server on 127.0.0.1.
4. MutableDictCached: the same reads with and without a cache.
5. WriteOnceDict: the second write of a key is ignored.

Everything is written under one temporary folder, removed at the end.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path


def title(text: str) -> None:
    print(f"\n=== {text} " + "=" * max(0, 70 - len(text)))


def show(label: str, value: object) -> None:
    print(f"  {label:<38} {value}")


def demo_files(work: Path) -> Path:
    from persidict import FileDirDict

    title("1. FileDirDict: a dict that lives in a folder")
    base_dir = work / "store"
    store = FileDirDict(base_dir=str(base_dir), serialization_format="json")
    store["greeting"] = "hello"
    time.sleep(0.02)
    store[("users", "alice", "profile")] = {"age": 30, "city": "Paris"}
    time.sleep(0.02)
    store[("users", "bob", "profile")] = {"age": 25, "city": "Kyiv"}
    time.sleep(0.02)
    store[("configs", "database")] = {"host": "localhost", "port": 5432}

    files = sorted(str(p.relative_to(base_dir)) for p in base_dir.rglob("*") if p.is_file())
    show("files on disk:", files)
    show("len(store):", len(store))
    show("store['users', 'alice', 'profile']:", store[("users", "alice", "profile")])
    show("'greeting' in store:", "greeting" in store)
    show("timestamp('greeting'):", f"{store.timestamp('greeting'):.3f} (POSIX seconds)")
    show("newest_keys(max_n=2):", [tuple(k) for k in store.newest_keys(max_n=2)])
    show("oldest_keys(max_n=1):", [tuple(k) for k in store.oldest_keys(max_n=1)])
    users = store.get_subdict("users")
    show("get_subdict('users') keys:", sorted(tuple(k) for k in users.keys()))
    show("users['bob', 'profile']:", users[("bob", "profile")])
    return base_dir


def demo_second_process(base_dir: Path) -> None:
    title("2. A second process reads what the first wrote")
    code = textwrap.dedent(
        f"""
        from persidict import FileDirDict
        store = FileDirDict(base_dir={str(base_dir)!r}, serialization_format="json")
        print("  [child pid %d] sees %d keys; alice is %s" % (
            __import__("os").getpid(), len(store), store["users", "alice", "profile"]))
        store["written_by_child"] = "hi from the child process"
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    from persidict import FileDirDict

    store = FileDirDict(base_dir=str(base_dir), serialization_format="json")
    show(f"[parent pid {os.getpid()}] reads back:", store["written_by_child"])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def demo_s3(work: Path) -> None:
    title("3. S3Dict on a moto S3 server (real HTTP on 127.0.0.1)")
    from moto.server import ThreadedMotoServer

    from persidict import S3Dict

    # moto accepts any credentials; set dummy ones so boto3 never looks for real ones.
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    os.environ.pop("AWS_PROFILE", None)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log from the moto server
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        url = f"http://127.0.0.1:{port}"
        show("moto server:", url)
        store = S3Dict(bucket_name="demo-bucket", base_dir=str(work / "s3_cache"), endpoint_url=url)
        store[("experiments", "run_1")] = {"accuracy": 0.93, "epochs": 10}
        store[("experiments", "run_2")] = {"accuracy": 0.95, "epochs": 20}
        show("len(store):", len(store))
        show("store['experiments', 'run_2']:", store[("experiments", "run_2")])
        show("newest_keys(max_n=1):", [tuple(k) for k in store.newest_keys(max_n=1)])
        other = S3Dict(bucket_name="demo-bucket", base_dir=str(work / "s3_cache_2"), endpoint_url=url)
        show("another S3Dict (own cache) reads:", other[("experiments", "run_1")])
    finally:
        server.stop()


def _best_of(func: Callable[[], object], rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def demo_cache(work: Path) -> None:
    title("4. MutableDictCached: reads from memory while the ETag holds")
    from persidict import FileDirDict, LocalDict, MutableDictCached

    plain = FileDirDict(base_dir=str(work / "cache_demo"))
    cached = MutableDictCached(main_dict=plain, data_cache=LocalDict(), etag_cache=LocalDict())
    value = os.urandom(100_000)  # a ~100 KB blob, e.g. a serialized model
    cached["big"] = value
    size = sum(p.stat().st_size for p in (work / "cache_demo").rglob("*") if p.is_file())
    reads = 200

    def read_plain() -> None:
        for _ in range(reads):
            plain["big"]

    def read_cached() -> None:
        for _ in range(reads):
            cached["big"]

    assert cached["big"] == value == plain["big"]
    uncached_s = _best_of(read_plain)
    cached_s = _best_of(read_cached)
    show("value size on disk:", f"{size / 1024:.0f} KB")
    show(f"{reads} reads, FileDirDict:", f"{uncached_s * 1000:.1f} ms")
    show(f"{reads} reads, MutableDictCached:", f"{cached_s * 1000:.1f} ms")
    show("speed-up:", f"{uncached_s / cached_s:.1f}x")
    plain["big"] = "changed behind the cache's back"
    show("after another writer changed it:", repr(cached["big"]))  # the ETag check sees the change


def demo_write_once(work: Path) -> None:
    title("5. WriteOnceDict: the first write wins")
    from persidict import FileDirDict, WriteOnceDict

    store = WriteOnceDict(
        wrapped_dict=FileDirDict(base_dir=str(work / "cas"), append_only=True), p_consistency_checks=0
    )
    store["result"] = "first value"
    store["result"] = "second value"
    show("after writing twice, store['result']:", store["result"])


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="persidict-demo-") as tmp:
        work = Path(tmp)
        print(f"persidict demo, working in {work}")
        skipped: list[str] = []

        def part(name: str, run: Callable[[], object]) -> object:
            try:
                return run()
            except ImportError as exc:  # a package of the monorepo that is not installed (yet)
                print(f"  SKIPPED ({name}): {exc}")
                skipped.append(name)
                return None

        base_dir = part("files", lambda: demo_files(work))
        if isinstance(base_dir, Path):
            part("second process", lambda: demo_second_process(base_dir))
        part("s3", lambda: demo_s3(work))
        part("cache", lambda: demo_cache(work))
        part("write-once", lambda: demo_write_once(work))
        print("\ndone" + (f"; skipped: {', '.join(skipped)}" if skipped else ": every part ran"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
