"""Two processes sharing one FileDirDict: nothing lost, nothing partial."""

from __future__ import annotations

import hashlib
import multiprocessing
from pathlib import Path
from typing import Any

from persidict_core import FileDirDict, MutationPolicyError


def payload(writer: int, seq: int) -> dict[str, Any]:
    body = bytes([writer, seq % 256]) * 20_000
    return {"writer": writer, "seq": seq, "body": body, "digest": hashlib.sha256(body).hexdigest()}


def is_whole(value: dict[str, Any]) -> bool:
    return bool(hashlib.sha256(value["body"]).hexdigest() == value["digest"])


def hammer(base_dir: str, writer: int, rounds: int, queue: Any) -> None:
    store = FileDirDict(base_dir=base_dir, fsync=False)
    partial = 0
    for seq in range(rounds):
        store[("own", f"w{writer}", f"k{seq}")] = payload(writer, seq)
        store[("shared", f"k{seq % 5}")] = payload(writer, seq)
        try:
            value = store[("shared", f"k{(seq + 1) % 5}")]
            partial += not is_whole(value)
        except KeyError:
            pass
        len(store)
    queue.put(partial)


def create_once(base_dir: str, writer: int, queue: Any) -> None:
    store = FileDirDict(base_dir=base_dir, append_only=True)
    won = 0
    for seq in range(50):
        try:
            store[("race", f"k{seq}")] = writer
            won += 1
        except MutationPolicyError:
            pass
    queue.put((writer, won))


def test_two_processes_lose_nothing_and_never_see_partial_values(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    rounds = 60
    workers = [context.Process(target=hammer, args=(str(tmp_path), w, rounds, queue)) for w in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert [queue.get(timeout=5), queue.get(timeout=5)] == [0, 0]
    store = FileDirDict(base_dir=str(tmp_path))
    for writer in (1, 2):
        for seq in range(rounds):
            value = store[("own", f"w{writer}", f"k{seq}")]
            assert value["seq"] == seq and is_whole(value)
    for slot in range(5):
        assert is_whole(store[("shared", f"k{slot}")])
    assert len(store) == 2 * rounds + 5
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_append_only_race_has_exactly_one_winner_per_key(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=create_once, args=(str(tmp_path), w, queue)) for w in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    results = dict(queue.get(timeout=5) for _ in workers)
    assert sum(results.values()) == 50
    store = FileDirDict(base_dir=str(tmp_path), append_only=True)
    assert len(store) == 50
    assert all(store[("race", f"k{seq}")] in (1, 2) for seq in range(50))
