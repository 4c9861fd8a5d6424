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

import pickle
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import int_option, large_value_benchmark, measure_array_operation, run_if_child  # noqa: E402
from bench_cli import _environment, _start_moto  # noqa: E402  (moto's server in its own process)

ROUNDS = 2
MEMORY_BUDGET = 0.25  # of the value's size
BUCKET = "bench-large-s3"


def child(operation: str, endpoint: str, mb: str) -> None:
    """Run one operation and print ``{"seconds", "growth"}`` (peak RSS growth, in bytes)."""
    import io

    import boto3
    from boto3.s3.transfer import TransferConfig

    from persidict_s3 import BasicS3Dict

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

    def raw_write(array: Any) -> None:
        data = io.BytesIO(pickle.dumps(array, protocol=5))
        raw.upload_fileobj(data, BUCKET, "raw.pkl", Config=transfer)

    def raw_read() -> Any:
        buffer = io.BytesIO()
        raw.download_fileobj(BUCKET, "raw.pkl", buffer, Config=transfer)
        return pickle.loads(buffer.getbuffer())

    measure_array_operation(operation, int(mb), store, raw_write, raw_read)


def main() -> int:
    if run_if_child(child):
        return 0
    try:
        import boto3  # noqa: F401
        import moto.server  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as exc:
        print(f"bench_large_s3 needs numpy, moto[server] and boto3 ({exc})")
        return 1
    mb = int_option("--mb", 200)
    size = mb * 2**20
    env = _environment()
    server, endpoint = _start_moto(env)
    try:
        return large_value_benchmark(
            "large_s3",
            __file__,
            lambda operation: [operation, endpoint, str(mb)],
            rounds=ROUNDS,
            label=f"S3 {mb} MB array",
            size=size,
            budget=MEMORY_BUDGET * size,
            baselines=("raw boto3", "boto3 upload_fileobj", "boto3 download_fileobj"),
            speed_target=None,
            env=env,
            timeout=1800,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    raise SystemExit(main())
