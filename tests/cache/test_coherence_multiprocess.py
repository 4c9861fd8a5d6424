"""Two processes: one writes through the main FileDirDict, the other reads through a cache.

The reader must see every change on its next read and see a deletion as a KeyError, never a
stale cached value.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from persidict_cache import AppendOnlyDictCached, MutableDictCached
from persidict_core import FileDirDict, LocalDict

_MISSING = "<missing>"


def cached_reader(base_dir: str, append_only: bool, commands: Any, answers: Any) -> None:
    """Serve read requests through a cache wrapper until told to stop."""
    main = FileDirDict(base_dir=base_dir, append_only=append_only)
    store: MutableDictCached | AppendOnlyDictCached
    if append_only:
        store = AppendOnlyDictCached(main, LocalDict())
    else:
        store = MutableDictCached(main, LocalDict(), LocalDict())
    while True:
        command = commands.get(timeout=60)
        if command is None:
            return
        op, key = command
        if op == "get":
            try:
                answers.put(store[key])
            except KeyError:
                answers.put(_MISSING)
        elif op == "in":
            answers.put(key in store)
        elif op == "len":
            answers.put(len(store))


class Reader:
    """The other process, driven by commands."""

    def __init__(self, base_dir: Path, append_only: bool = False) -> None:
        context = multiprocessing.get_context("spawn")
        self.commands = context.Queue()
        self.answers = context.Queue()
        self.process = context.Process(
            target=cached_reader, args=(str(base_dir), append_only, self.commands, self.answers)
        )
        self.process.start()

    def ask(self, op: str, key: Any = None) -> Any:
        self.commands.put((op, key))
        return self.answers.get(timeout=60)

    def stop(self) -> None:
        self.commands.put(None)
        self.process.join(timeout=60)
        assert self.process.exitcode == 0


def test_reader_sees_every_change_and_every_deletion(tmp_path: Path) -> None:
    writer = FileDirDict(base_dir=tmp_path, fsync=False)
    reader = Reader(tmp_path)
    try:
        assert reader.ask("get", "k") == _MISSING
        writer["k"] = "v1"
        assert reader.ask("get", "k") == "v1"
        assert reader.ask("get", "k") == "v1"  # served from the cache
        for n in range(2, 30):
            value = f"v{n}"  # same size as the previous one now and then: the ETag still differs
            writer["k"] = value
            assert reader.ask("get", "k") == value
        del writer["k"]
        assert reader.ask("get", "k") == _MISSING
        assert reader.ask("in", "k") is False
        writer["k"] = "back"
        assert reader.ask("get", "k") == "back"
        writer[("deep", "key")] = [1]
        assert reader.ask("get", ("deep", "key")) == [1]
        assert reader.ask("len") == 2
    finally:
        reader.stop()


def test_append_only_reader_sees_keys_added_by_others(tmp_path: Path) -> None:
    writer = FileDirDict(base_dir=tmp_path, append_only=True, fsync=False)
    reader = Reader(tmp_path, append_only=True)
    try:
        assert reader.ask("in", "k") is False
        assert reader.ask("len") == 0
        writer["k"] = "v"
        assert reader.ask("in", "k") is True
        assert reader.ask("len") == 1
        assert reader.ask("get", "k") == "v"
        assert reader.ask("get", "k") == "v"
    finally:
        reader.stop()
