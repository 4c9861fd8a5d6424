"""Benchmark: a 200 MB numpy array written to and read from a BasicS3Dict on moto's server.

moto's S3 server runs in a child process of its own (its memory is not ours). Each operation
runs in a fresh interpreter, which opens the store, allocates the array (for writes), resets
its peak RSS (``/proc/self/clear_refs``; ``ru_maxrss`` elsewhere), runs the operation once
and reports the time and the growth of the peak RSS, as ``bench_large.py`` does for files.

Figures:

* peak RSS above the value, write (``store[k] = array``: multipart upload from a temporary
  file) and read (``store[k]``: parallel ranged GETs into a temporary file, unpickled from
  it): the growth of the peak, minus the value itself for a read; the budget is 0.25x the
  value (50 MB), so the row's baseline is the budget, ``unit="B"`` and the target 1.0;
* for information (no target): write and read time against boto3's managed transfers with the
  same part size and concurrency (``upload_fileobj`` of the pickled bytes, ``download_fileobj``
  into memory + ``pickle.loads``), whose memory the notes show. On moto both are slow to read:
  moto builds the whole object for every ranged GET and then slices it.

Two rounds; the best time and the largest memory growth of each side are kept.

Needs numpy, moto[server] and boto3. Run: ``python benchmarks/bench_large_s3.py [--mb N]
[--no-fail]`` (default 200 MB).
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import header, peak_rss_bytes, reset_peak_rss  # noqa: E402
from bench_cli import _environment, _start_moto  # noqa: E402  (moto's server in its own process)

ROUNDS = 2
MEMORY_BUDGET = 0.25  # of the value's size
BUCKET = "bench-large-s3"


def value_mb() -> int:
    for index, arg in enumerate(sys.argv):
        if arg == "--mb" and index + 1 < len(sys.argv):
            return int(sys.argv[index + 1])
    return 200


def child(operation: str, endpoint: str, mb: int) -> None:
    """Run one operation and print ``{"seconds", "growth"}`` (peak RSS growth, in bytes)."""
    import io

    import boto3
    import numpy as np
    from boto3.s3.transfer import TransferConfig

    from persidict_s3 import BasicS3Dict

    n = mb * 2**20 // 8
    store = BasicS3Dict(BUCKET, endpoint_url=endpoint)
    raw = boto3.client("s3", endpoint_url=endpoint)
    store["warm"] = 1  # the client's first request (credentials, connection) is not measured
    raw.head_bucket(Bucket=BUCKET)
    config = store.config
    transfer = TransferConfig(
        multipart_threshold=config.multipart_threshold,  # type: ignore[attr-defined]
        multipart_chunksize=config.multipart_chunksize,  # type: ignore[attr-defined]
        max_concurrency=config.multipart_concurrency,  # type: ignore[attr-defined]
    )
    array = np.arange(n, dtype=np.float64) if operation.endswith("write") else None
    reset_peak_rss()
    start_rss = peak_rss_bytes()
    started = time.perf_counter()
    if operation == "ours-write":
        store["value"] = array
    elif operation == "raw-write":
        raw.upload_fileobj(io.BytesIO(pickle.dumps(array, protocol=5)), BUCKET, "raw.pkl", Config=transfer)
    elif operation == "ours-read":
        array = store["value"]
    else:
        buffer = io.BytesIO()
        raw.download_fileobj(BUCKET, "raw.pkl", buffer, Config=transfer)
        array = pickle.loads(buffer.getbuffer())
    seconds = time.perf_counter() - started
    growth = peak_rss_bytes() - start_rss
    assert array is not None and array.shape == (n,) and array[-1] == n - 1
    if operation.endswith("read"):
        growth -= array.nbytes  # the value itself is not overhead
    print(json.dumps({"seconds": seconds, "growth": growth}))


def run(operation: str, endpoint: str, mb: int, env: dict[str, str]) -> tuple[float, int]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", operation, endpoint, str(mb)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return float(result["seconds"]), int(result["growth"])


def main() -> int:
    if "--child" in sys.argv:
        index = sys.argv.index("--child")
        child(sys.argv[index + 1], sys.argv[index + 2], int(sys.argv[index + 3]))
        return 0
    try:
        import boto3  # noqa: F401
        import moto.server  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as exc:
        print(f"bench_large_s3 needs numpy, moto[server] and boto3 ({exc})")
        return 1
    mb = value_mb()
    size = mb * 2**20
    report = header("large_s3")
    env = _environment()
    server, endpoint = _start_moto(env)
    try:
        best: dict[str, float] = {}
        worst: dict[str, int] = {}
        for _ in range(ROUNDS):
            for operation in ("raw-write", "ours-write", "raw-read", "ours-read"):
                seconds, growth = run(operation, endpoint, mb, env)
                best[operation] = min(best.get(operation, float("inf")), seconds)
                worst[operation] = max(worst.get(operation, 0), growth)
    finally:
        server.terminate()
        server.wait(timeout=30)
    budget = MEMORY_BUDGET * size
    for side in ("write", "read"):
        ours = max(worst[f"ours-{side}"], 1)
        note = f"(raw boto3's own: {worst[f'raw-{side}'] / 2**20:.1f} MB)"
        report.add(f"S3 {mb} MB array, {side}: peak RSS above value", ours, budget, 1.0, note=note, unit="B")
    for side, raw in (("write", "upload_fileobj"), ("read", "download_fileobj")):
        ours_s, raw_s = best[f"ours-{side}"], best[f"raw-{side}"]
        note = f"({size / ours_s / 2**20:.0f} MB/s vs {size / raw_s / 2**20:.0f} MB/s)"
        report.add(f"S3 {mb} MB array, {side} vs boto3 {raw}", ours_s, raw_s, None, note=note)
    report.extra["value_bytes"] = size
    report.extra["peak_rss_growth_bytes"] = worst
    report.extra["best_seconds"] = best
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
