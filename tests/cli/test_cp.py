"""``persidict cp``: folder -> S3 -> folder with equal content, reruns, an interrupted copy."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from persidict_core import FileDirDict, open_store
from tests.cli.conftest import Result
from tests.s3._proxy import S3Proxy

Run = Callable[..., Result]
KEYS = 2_000


def _fill(folder: Path, n: int) -> dict[tuple[str, ...], object]:
    store = FileDirDict(folder, fsync=False)
    expected: dict[tuple[str, ...], object] = {}
    for i in range(n):
        key = (f"group{i % 7}", f"k{i:05d}") if i % 3 else (f"k{i:05d}",)
        value = {"i": i, "name": f"value {i}", "tags": ["a", "b"][: i % 3]}
        store[key] = value
        expected[key] = value
    return expected


def _contents(url: str) -> dict[tuple[str, ...], object]:
    store = open_store(url)
    return {tuple(key): value for key, value in store.items()}


def _summary(result: Result) -> dict[str, object]:
    assert result.code in (0, 1), result
    document = json.loads(result.out)
    assert isinstance(document, dict)
    return document


@pytest.mark.slow
def test_copy_2000_keys_to_s3_and_back(
    run: Run, tmp_path: Path, s3_url: Callable[..., str], aws_env: dict[str, str]
) -> None:
    expected = _fill(tmp_path / "src", KEYS)
    remote = s3_url("copied")

    first = _summary(run("cp", str(tmp_path / "src"), remote, "--workers", "16", "--json"))
    assert (first["copied"], first["skipped"], first["failed"]) == (KEYS, 0, [])
    assert _contents(remote + "&cache=none") == expected

    again = _summary(run("cp", str(tmp_path / "src"), remote, "--json"))
    assert (again["copied"], again["skipped"], again["failed"]) == (0, KEYS, [])

    back = tmp_path / "back"
    down = run("cp", remote, str(back), "--workers", "8")
    assert down.code == 0, down.err
    assert down.out.startswith(f"copied {KEYS}, skipped 0, failed 0 ({KEYS} keys in ")
    assert _contents(str(back)) == expected
    # Same format on both sides: the very bytes arrive.
    source, copy = FileDirDict(tmp_path / "src"), FileDirDict(back)
    assert all(source.read_bytes(key) == copy.read_bytes(key) for key in expected)

    rerun = run("cp", remote, str(back))
    assert rerun.code == 0 and rerun.out.startswith(f"copied 0, skipped {KEYS}, failed 0")


def test_rerun_copies_only_what_changed_and_dry_run_writes_nothing(run: Run, tmp_path: Path) -> None:
    expected = _fill(tmp_path / "src", 60)
    dst = str(tmp_path / "dst")
    dry = _summary(run("cp", str(tmp_path / "src"), dst, "--dry-run", "--json"))
    assert (dry["dry_run"], dry["copied"], dry["skipped"]) == (True, 60, 0)
    assert _contents(dst) == {}
    assert _summary(run("cp", str(tmp_path / "src"), dst, "--json"))["copied"] == 60
    source = FileDirDict(tmp_path / "src", fsync=False)
    source["k00000"] = {"changed": True}  # same key, other value: copied again
    source["new"] = 1
    expected.update({("k00000",): {"changed": True}, ("new",): 1})
    second = _summary(run("cp", str(tmp_path / "src"), dst, "--json", "--workers", "3"))
    assert (second["copied"], second["skipped"]) == (2, 59)
    assert _contents(dst) == expected
    source["k00003"] = "changed again"
    skipping = _summary(run("cp", str(tmp_path / "src"), dst, "--skip-existing", "--json"))
    assert (skipping["copied"], skipping["skipped"]) == (0, 61)  # present keys are not compared
    assert _contents(dst)[("k00003",)] != "changed again"


def test_copy_with_a_prefix_and_across_formats(run: Run, tmp_path: Path) -> None:
    _fill(tmp_path / "src", 30)
    source = FileDirDict(tmp_path / "src", fsync=False)
    json_dst = str(tmp_path / "json") + "?serialization_format=json"
    result = _summary(run("cp", str(tmp_path / "src"), json_dst, "--prefix", "group1", "--json"))
    under = {key: value for key, value in source.items() if key[0] == "group1"}
    assert result["copied"] == len(under) > 0
    copied = open_store(json_dst)
    assert {tuple(key): value for key, value in copied.items()} == {tuple(k): v for k, v in under.items()}
    assert json.loads(copied.read_bytes(next(iter(under)))) == under[next(iter(under))]
    # A rerun across formats compares values (the bytes differ): nothing is copied again.
    assert _summary(run("cp", str(tmp_path / "src"), json_dst, "--prefix", "group1", "--json"))[
        "skipped"
    ] == len(under)


def test_values_the_destination_cannot_hold_fail_with_status_1(run: Run, tmp_path: Path) -> None:
    source = FileDirDict(tmp_path / "src", fsync=False)
    source["fine"] = "text"
    source["number"] = 5  # a text store holds str only
    result = run("cp", str(tmp_path / "src"), str(tmp_path / "txt") + "?serialization_format=txt")
    assert result.code == 1
    assert result.out.startswith("copied 1, skipped 0, failed 1")
    assert result.err.startswith("persidict: failed number: ")
    assert len(result.err.splitlines()) == 1


def test_copy_into_memory_reads_every_value(run: Run, tmp_path: Path) -> None:
    _fill(tmp_path / "src", 10)
    (tmp_path / "src" / "k00000.pkl").write_bytes(b"corrupt")
    result = run("cp", str(tmp_path / "src"), "memory://", "--json")
    summary = _summary(result)
    assert (summary["copied"], result.code) == (9, 1)
    failed = summary["failed"]
    assert isinstance(failed, list) and [item["key"] for item in failed] == ["k00000"]
    assert "UnpicklingError" in failed[0]["error"]


def _objects(bucket: str, endpoint: str) -> int:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    paginator = client.get_paginator("list_objects_v2")
    try:
        return sum(page.get("KeyCount", 0) for page in paginator.paginate(Bucket=bucket))
    except client.exceptions.NoSuchBucket:
        return 0  # the copy has not created it yet


@pytest.mark.slow
def test_an_interrupted_copy_is_finished_by_a_rerun(
    run: Run,
    tmp_path: Path,
    s3_url: Callable[..., str],
    s3_endpoint: str,
    aws_env: dict[str, str],
    cli_env: dict[str, str],
) -> None:
    n = 400
    expected = _fill(tmp_path / "src", n)
    with S3Proxy(s3_endpoint, latency=0.05) as proxy:  # slow enough to be killed midway
        slow_url = s3_url("resumed", endpoint=proxy.url)
        bucket = slow_url.split("/")[2]
        child = subprocess.Popen(
            [sys.executable, "-m", "persidict", "cp", str(tmp_path / "src"), slow_url, "--workers", "2"],
            env=cli_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 180
            while _objects(bucket, s3_endpoint) < 40:
                assert child.poll() is None, "the copy ended before it could be interrupted"
                assert time.monotonic() < deadline
                time.sleep(0.2)
        finally:
            child.kill()
            child.wait(timeout=30)
    done_before = _objects(bucket, s3_endpoint)
    assert 40 <= done_before < n

    url = s3_url("resumed")
    result = _summary(run("cp", str(tmp_path / "src"), url, "--json"))
    assert result["failed"] == []
    assert result["skipped"] == done_before  # every object the killed copy wrote is complete
    assert result["copied"] == n - done_before
    assert _contents(url + "&cache=none") == expected


def test_a_terminal_gets_a_progress_bar(tmp_path: Path, cli_env: dict[str, str]) -> None:
    import os
    import pty

    _fill(tmp_path / "src", 50)
    controller, terminal = pty.openpty()
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "persidict", "cp", str(tmp_path / "src"), str(tmp_path / "dst")],
            env={**cli_env, "COLUMNS": "100", "TERM": "xterm"},
            stdout=subprocess.PIPE,
            stderr=terminal,
            timeout=240,
        )
        os.close(terminal)
        terminal = -1
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break  # the terminal's other end is closed: everything was read
            if not chunk:
                break
            shown += chunk
    finally:
        if terminal != -1:
            os.close(terminal)
        os.close(controller)
    assert completed.returncode == 0
    assert completed.stdout.decode().startswith("copied 50, skipped 0, failed 0")
    assert b"copying" in shown and b"50/50" in shown  # rich drew the bar on the terminal
