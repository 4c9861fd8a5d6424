"""The ``persidict`` command line: look into, copy and verify any store given by its URL.

Every command takes store URLs (see `persidict_core.open_store`): ``./data``,
``file:///abs/path``, ``s3://bucket/prefix?endpoint_url=...``, ``memory://``, ``@config.json``.
Keys are written ``a/b/c`` or as a JSON list (``'["a", "b", "c"]'``). ``--json`` prints one JSON
document. Errors are one line on stderr; the exit status is 0 on success, 1 on a failure and 2
on a usage error (a bad URL, an unknown parameter, a bad key). ``--debug`` shows tracebacks.

This module is imported only by the console script and ``python -m persidict``, never by
``import persidict``, so the library does not load click or rich.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import reprlib
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import click

if TYPE_CHECKING:
    from persidict_core import EntryInfo, PersiDict
    from persidict_safestr import NonEmptySafeStrTuple, SafeStrTuple

__all__ = ["main"]

EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_USAGE: Final = 2
_PROGRAM: Final = "persidict"
_DEFAULT_WORKERS: Final = 16
_T = TypeVar("_T")


class UsageProblem(Exception):
    """A usage error found by a command (bad URL, unknown parameter, bad key): exit status 2."""


class Failure(Exception):
    """A command failed in a way already explained by its message: exit status 1."""


# ----------------------------------------------------------------------------- helpers
def _one_line(text: str) -> str:
    return " ".join(text.split())


def _describe(exc: BaseException) -> str:
    """One line saying what went wrong (pydantic's multi-line errors condensed)."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            parts.append(f"{where}: {error['msg']}" if where else error["msg"])
        return _one_line(f"invalid store parameters ({exc.title}): " + "; ".join(parts))
    if type(exc) is KeyError and exc.args:
        key = exc.args[0]
        return f"no such key: {key if isinstance(key, str) else _key_text(tuple(key))}"
    message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return _one_line(message or type(exc).__name__)


def _key_text(key: Sequence[str]) -> str:
    return "/".join(key)


def _parse_key(text: str, *, allow_empty: bool = False) -> SafeStrTuple:
    """Parse ``a/b/c`` or a JSON list of strings into a key (or a prefix when ``allow_empty``)."""
    from persidict_safestr import NonEmptySafeStrTuple, SafeStrTuple

    elements: Any
    if text.lstrip().startswith("["):
        try:
            elements = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageProblem(f"the key {text!r} is not a valid JSON list: {exc.msg}") from None
        if not isinstance(elements, list) or not all(isinstance(e, str) for e in elements):
            raise UsageProblem(f"a JSON key must be a list of strings, got {text!r}")
    else:
        elements = [part for part in text.strip("/").split("/")] if text.strip("/") else []
    try:
        if allow_empty:
            return SafeStrTuple(elements)
        return NonEmptySafeStrTuple(elements)
    except (ValueError, TypeError) as exc:
        raise UsageProblem(f"invalid key {text!r}: {_describe(exc)}") from None


def _local_dir(url: str) -> str | None:
    """The local directory a file URL or path names (None for other URLs)."""
    if url.startswith("@"):
        return None
    parts = urlsplit(url, allow_fragments=False)
    if not parts.scheme or len(parts.scheme) == 1:
        return os.path.expanduser(url.partition("?")[0])
    if parts.scheme.lower() == "file":
        return unquote(parts.path)
    return None


def _cli_url(url: str) -> str:
    """The URL as the command line opens it: S3 stores without a local cache by default.

    A one-shot command gains nothing from S3Dict's local file cache (and it would leave a
    ``__s3_dict__`` folder in the current directory), so ``s3://`` URLs open a BasicS3Dict
    unless they ask for a cache (``cache=local`` or a ``base_dir``).
    """
    parts = urlsplit(url, allow_fragments=False)
    if parts.scheme.lower() != "s3":
        return url
    query = parse_qs(parts.query, keep_blank_values=True)
    if "cache" in query or "base_dir" in query:
        return url
    return url + ("&" if parts.query else "?") + "cache=none"


def _open(url: str, *, must_exist: bool = True, **params: Any) -> PersiDict:
    """Open a store from a URL; usage errors become `UsageProblem`, a missing folder a `Failure`."""
    from pydantic import ValidationError

    from persidict_core import MissingBackendError, PersiDict, open_store

    local = _local_dir(url)
    if must_exist and local is not None and not os.path.isdir(local):
        raise Failure(f"no store at {url!r}: the directory {local!r} does not exist")
    try:
        store = open_store(_cli_url(url), **params)
    except (ValidationError, MissingBackendError, ValueError, TypeError) as exc:
        raise UsageProblem(f"{url}: {_describe(exc)}") from exc
    if not isinstance(store, PersiDict):
        raise UsageProblem(f"{url}: describes a {type(store).__name__}, not a single store")
    return store


def _subdict(store: PersiDict, prefix: str | None) -> tuple[PersiDict, tuple[str, ...]]:
    """The store under ``prefix`` (``a/b`` or a JSON list) and the prefix as a tuple."""
    if not prefix:
        return store, ()
    head = _parse_key(prefix, allow_empty=True)
    return (store.get_subdict(head), tuple(head)) if len(head) else (store, ())


def _write_lines(lines: Iterable[str]) -> None:
    """Print many lines fast: one write per chunk instead of one per line."""
    out = sys.stdout
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= 4096:
            out.write("\n".join(chunk) + "\n")
            chunk.clear()
    if chunk:
        out.write("\n".join(chunk) + "\n")


def _print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _iso(timestamp: float) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _short_repr(value: Any) -> str:
    shortener = reprlib.Repr()
    shortener.maxstring = shortener.maxother = 200
    shortener.maxlist = shortener.maxtuple = shortener.maxdict = shortener.maxset = 20
    shortener.maxlevel = 4
    return shortener.repr(value)


def _jsonable(value: Any) -> Any:
    """``value`` when it is plain JSON data, else None."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        return None


def _progress(total: int, description: str, enabled: bool) -> Any:
    """A rich progress bar on stderr (only on a terminal), or a stand-in that does nothing."""
    if not enabled or not sys.stderr.isatty():
        return _NoProgress()
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    return _RichProgress(progress, total, description)


class _NoProgress:
    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def advance(self) -> None:
        return None


class _RichProgress:
    def __init__(self, progress: Any, total: int, description: str) -> None:
        self._progress = progress
        self._task = progress.add_task(description, total=total)

    def __enter__(self) -> _RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def advance(self) -> None:
        self._progress.advance(self._task)


def _run_parallel(
    func: Callable[[NonEmptySafeStrTuple], _T],
    keys: Sequence[NonEmptySafeStrTuple],
    workers: int,
    description: str,
    show_progress: bool,
) -> Iterator[tuple[NonEmptySafeStrTuple, _T]]:
    """Run ``func`` on every key on ``workers`` threads, yielding results as they finish."""
    with _progress(len(keys), description, show_progress) as bar:
        if workers <= 1:
            for key in keys:
                result = func(key)
                bar.advance()
                yield key, result
            return
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="persidict-cli") as pool:
            futures = {pool.submit(func, key): key for key in keys}
            try:
                for future in as_completed(futures):
                    bar.advance()
                    yield futures[future], future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise


# ----------------------------------------------------------------------------- the group
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.version_option(package_name="persidict", prog_name=_PROGRAM)
def cli(debug: bool) -> None:
    """Look into, copy and verify persidict stores.

    A store is given by its URL: ./data, /abs/path, file:///abs/path, memory://,
    s3://bucket/prefix (add ?endpoint_url=... for MinIO, moto, ...; S3 is read without a
    local cache unless ?cache=local), or @config.json (a saved config, as `info` prints).
    Query parameters set store parameters: ./data?serialization_format=json&digest_len=8.
    Keys are written a/b/c or as a JSON list. Exit status: 0 ok, 1 failure, 2 usage error.
    """


url_argument = click.argument("url", metavar="URL")
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
workers_option = click.option(
    "--workers",
    "-w",
    default=_DEFAULT_WORKERS,
    show_default=True,
    type=click.IntRange(min=1),
    help="Threads.",
)


@cli.command("ls")
@url_argument
@click.argument("prefix", required=False, default="")
@click.option("--long", "-l", "long_format", is_flag=True, help="Show size, timestamp and etag.")
@json_option
def ls_command(url: str, prefix: str, long_format: bool, as_json: bool) -> int:
    """List the keys of a store (under PREFIX, if given)."""
    store, head = _subdict(_open(url), prefix)
    if not long_format:
        # The hot path of a large listing: iterate the store itself (no view), join each key
        # once, sort the texts (cheaper than sorting tuples), print in one write.
        texts = sorted(map("/".join, store))
        if head:
            start = "/".join(head) + "/"
            texts = [start + text for text in texts]
        if as_json:
            _print_json({"keys": [{"key": text} for text in texts]})
        elif texts:
            sys.stdout.write("\n".join(texts) + "\n")
        return EXIT_OK
    entries = sorted(store.list_entries(), key=lambda entry: "/".join(entry.key))
    if as_json:
        _print_json({"keys": [_entry_json(entry, head) for entry in entries]})
    else:
        _write_lines(
            f"{entry.size:>10}  {_iso(entry.timestamp)}  {entry.etag or '-'}  "
            + _key_text(head + tuple(entry.key))
            for entry in entries
        )
    return EXIT_OK


def _entry_json(entry: EntryInfo, head: tuple[str, ...]) -> dict[str, Any]:
    return {
        "key": _key_text(head + tuple(entry.key)),
        "size": entry.size,
        "timestamp": entry.timestamp,
        "etag": entry.etag,
    }


@cli.command("tree")
@url_argument
def tree_command(url: str) -> int:
    """Show the keys of a store as a folder tree."""
    store = _open(url)
    keys = sorted(tuple(key) for key in store.keys())
    root: _Node = _Node()
    for key in keys:
        node = root
        for element in key[:-1]:
            node = node.folders.setdefault(element, _Node())
        node.leaves.append(key[-1])
    lines = [url]
    root.render("", lines)
    lines.append(f"{len(keys)} keys")
    _write_lines(lines)
    return EXIT_OK


@dataclass
class _Node:
    folders: dict[str, _Node] = field(default_factory=dict)
    leaves: list[str] = field(default_factory=list)

    def render(self, indent: str, lines: list[str]) -> None:
        entries = [(name, True) for name in self.folders] + [(name, False) for name in self.leaves]
        entries.sort()
        for index, (name, is_folder) in enumerate(entries):
            last = index == len(entries) - 1
            lines.append(f"{indent}{'└── ' if last else '├── '}{name}{'/' if is_folder else ''}")
            if is_folder:
                self.folders[name].render(indent + ("    " if last else "│   "), lines)


@cli.command("du")
@url_argument
@click.option("--depth", "-d", default=1, show_default=True, type=click.IntRange(min=0), help="Prefix depth.")
@json_option
def du_command(url: str, depth: int, as_json: bool) -> int:
    """Count the keys and stored bytes per prefix."""
    store = _open(url)
    totals: dict[tuple[str, ...], list[int]] = {}
    all_keys = all_bytes = 0
    for entry in store.list_entries():
        key = tuple(entry.key)
        group = key[: min(depth, len(key) - 1)]
        counts = totals.setdefault(group, [0, 0])
        counts[0] += 1
        counts[1] += entry.size
        all_keys += 1
        all_bytes += entry.size
    rows = sorted(totals.items())
    if as_json:
        _print_json(
            {
                "prefixes": [{"prefix": _key_text(group), "keys": n, "bytes": b} for group, (n, b) in rows],
                "total": {"keys": all_keys, "bytes": all_bytes},
            }
        )
        return EXIT_OK
    lines = [f"{'keys':>10}  {'bytes':>14}  prefix"]
    lines += [f"{n:>10}  {b:>14}  {_key_text(group) + '/' if group else '.'}" for group, (n, b) in rows]
    lines.append(f"{all_keys:>10}  {all_bytes:>14}  (total)")
    _write_lines(lines)
    return EXIT_OK


@cli.command("get")
@url_argument
@click.argument("key")
@click.option("--raw", is_flag=True, help="Write the stored bytes as they are.")
@json_option
def get_command(url: str, key: str, raw: bool, as_json: bool) -> int:
    """Print the value of KEY (json and text formats as text, pkl as a short repr)."""
    from persidict_core import deserialize

    if raw and as_json:
        raise UsageProblem("--raw and --json exclude each other")
    store = _open(url)
    k = _parse_key(key)
    if raw:
        sys.stdout.flush()
        sys.stdout.buffer.write(store.read_bytes(k))
        sys.stdout.buffer.flush()
        return EXIT_OK
    fmt = store.serialization_format
    data: Any
    if fmt == "json":
        # One read: the stored JSON is the text to print, and decoding it checks it.
        stored = store.read_bytes(k)
        value = deserialize(stored, fmt, context=f"key {_key_text(k)!r}")
        text = stored.decode("utf-8")
        data = json.loads(text)
    else:
        value = store[k]
        if isinstance(value, str) and fmt != "pkl":
            text, data = value, value
        else:
            text, data = _short_repr(value), _jsonable(value)
    if as_json:
        _print_json({"key": _key_text(k), "format": fmt, "value": data, "repr": _short_repr(value)})
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


@cli.command("put")
@url_argument
@click.argument("key")
@click.argument("value", required=False)
@click.option(
    "--file",
    "-f",
    "file",
    type=click.File("rb"),
    help="Read the value from a file ('-': stdin), in the store's format (what `get --raw` prints).",
)
@click.option("--text", is_flag=True, help="Store VALUE as a string even if it is valid JSON.")
@json_option
def put_command(url: str, key: str, value: str | None, file: Any, text: bool, as_json: bool) -> int:
    """Store VALUE (JSON if it parses, else a string) or the value in --file under KEY."""
    from persidict_core import DeserializationError, deserialize, is_text_format

    if (value is None) == (file is None):
        raise UsageProblem("give either VALUE or --file")
    store = _open(url, must_exist=False)
    k = _parse_key(key)
    fmt = store.serialization_format
    stored: Any
    if file is not None:
        data = file.read()
        try:
            stored = deserialize(data, fmt, context=f"the file {file.name!r}")
        except DeserializationError as exc:
            raise UsageProblem(f"--file does not hold a value of the store's format {fmt!r}: {exc}") from None
    elif text or is_text_format(fmt):
        stored = value
    else:
        assert value is not None
        try:
            stored = json.loads(value)
        except json.JSONDecodeError:
            stored = value
    etag = store.set_item_get_etag(k, stored)
    if as_json:
        _print_json({"key": _key_text(k), "etag": etag})
    return EXIT_OK


@cli.command("rm")
@url_argument
@click.argument("keys", nargs=-1)
@click.option("--prefix", "-p", default=None, help="Delete every key under this prefix.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before deleting a prefix.")
@json_option
def rm_command(url: str, keys: tuple[str, ...], prefix: str | None, yes: bool, as_json: bool) -> int:
    """Delete KEYS, or every key under --prefix."""
    if bool(keys) == (prefix is not None):
        raise UsageProblem("give either KEYs or --prefix")
    store = _open(url)
    if prefix is not None:
        head = _parse_key(prefix)
        sub = store.get_subdict(head)
        count = len(sub)
        if count and not yes:
            if not sys.stdin.isatty():
                raise UsageProblem(f"refusing to delete {count} keys under {prefix!r} without --yes")
            click.confirm(f"Delete {count} keys under {_key_text(head)!r}?", abort=True, err=True)
        sub.clear()
        if as_json:
            _print_json({"deleted": count, "missing": []})
        else:
            click.echo(f"deleted {count} keys under {_key_text(head)}/")
        return EXIT_OK
    parsed = [_parse_key(key) for key in keys]
    missing = [_key_text(k) for k in parsed if not store.discard(k)]
    deleted = len(parsed) - len(missing)
    if as_json:
        _print_json({"deleted": deleted, "missing": missing})
    else:
        for text in missing:
            click.echo(f"{_PROGRAM}: no such key: {text}", err=True)
        click.echo(f"deleted {deleted} keys")
    return EXIT_FAILURE if missing else EXIT_OK


# ----------------------------------------------------------------------------- cp
_COPIED: Final = "copied"
_SKIPPED: Final = "skipped"


def _content_digest(store: PersiDict, entry: EntryInfo) -> str:
    """MD5 of the stored bytes: S3's ETag of a single-part object is it, else read the bytes."""
    etag = (entry.etag or "").strip('"')
    if len(etag) == 32 and all(c in "0123456789abcdef" for c in etag):
        return etag
    return hashlib.md5(store.read_bytes(entry.key)).hexdigest()


def _already_copied(source: PersiDict, target: PersiDict, src: EntryInfo, dst: EntryInfo) -> bool:
    """True if the destination holds the source's value: equal bytes, or else equal values."""
    if source.serialization_format == target.serialization_format and src.size == dst.size:
        if _content_digest(source, src) == _content_digest(target, dst):
            return True
    try:
        return bool(source[src.key] == target[dst.key])
    except Exception:
        return False  # unreadable, or values that do not compare (numpy arrays): copy again


@cli.command("cp")
@click.argument("src", metavar="SRC")
@click.argument("dst", metavar="DST")
@click.option("--prefix", "-p", default=None, help="Copy only the keys under this prefix.")
@workers_option
@click.option("--dry-run", "-n", is_flag=True, help="Show what would be copied; write nothing.")
@click.option("--skip-existing", is_flag=True, help="Skip every key the destination has, without comparing.")
@json_option
def cp_command(
    src: str, dst: str, prefix: str | None, workers: int, dry_run: bool, skip_existing: bool, as_json: bool
) -> int:
    """Copy every key of SRC to DST, in parallel; a rerun skips what was copied already."""
    source, head = _subdict(_open(src), prefix)
    target, _ = _subdict(_open(dst, must_exist=False), prefix)
    started = time.perf_counter()
    sources = {entry.key: entry for entry in source.list_entries()}
    existing = {entry.key: entry for entry in target.list_entries()}
    keys = sorted(sources, key=tuple)

    def copy(key: NonEmptySafeStrTuple) -> str:
        present = existing.get(key)
        if present is not None and (skip_existing or _already_copied(source, target, sources[key], present)):
            return _SKIPPED
        if not dry_run:
            target[key] = source[key]
        return _COPIED

    counts = {_COPIED: 0, _SKIPPED: 0}
    failed: list[dict[str, str]] = []
    for key, outcome in _run_parallel(_guarded(copy), keys, workers, "copying", not as_json):
        if isinstance(outcome, BaseException):
            failed.append({"key": _key_text(head + tuple(key)), "error": _describe(outcome)})
        else:
            counts[outcome] += 1
    failed.sort(key=lambda item: item["key"])
    elapsed = time.perf_counter() - started
    if as_json:
        _print_json(
            {
                "source": src,
                "destination": dst,
                "dry_run": dry_run,
                "copied": counts[_COPIED],
                "skipped": counts[_SKIPPED],
                "failed": failed,
            }
        )
    else:
        for item in failed:
            click.echo(f"{_PROGRAM}: failed {item['key']}: {item['error']}", err=True)
        verb = "would copy" if dry_run else "copied"
        click.echo(
            f"{verb} {counts[_COPIED]}, skipped {counts[_SKIPPED]}, failed {len(failed)} "
            f"({len(keys)} keys in {elapsed:.1f} s)"
        )
    return EXIT_FAILURE if failed else EXIT_OK


def _guarded(func: Callable[[NonEmptySafeStrTuple], _T]) -> Callable[[NonEmptySafeStrTuple], _T | Exception]:
    """``func`` returning its exception instead of raising it (one failed key stops nothing)."""

    def call(key: NonEmptySafeStrTuple) -> _T | Exception:
        try:
            return func(key)
        except Exception as exc:
            return exc

    return call


# ----------------------------------------------------------------------------- verify, info
@cli.command("verify")
@url_argument
@workers_option
@json_option
def verify_command(url: str, workers: int, as_json: bool) -> int:
    """Read every value; list the keys that cannot be read (exit status 1 if any)."""
    store = _open(url)
    keys = sorted(store.keys(), key=tuple)

    def read(key: NonEmptySafeStrTuple) -> bool:
        try:
            store[key]
        except KeyError:
            return False  # deleted meanwhile: nothing to verify
        return True

    checked = 0
    unreadable: list[dict[str, str]] = []
    for key, outcome in _run_parallel(_guarded(read), keys, workers, "verifying", not as_json):
        if isinstance(outcome, BaseException):
            unreadable.append(
                {"key": _key_text(key), "error": f"{type(outcome).__name__}: {_describe(outcome)}"}
            )
        elif outcome:
            checked += 1
    unreadable.sort(key=lambda item: item["key"])
    checked += len(unreadable)
    if as_json:
        _print_json({"checked": checked, "unreadable": unreadable})
    else:
        _write_lines(f"unreadable {item['key']}: {item['error']}" for item in unreadable)
        click.echo(f"checked {checked} keys: {len(unreadable)} unreadable")
    return EXIT_FAILURE if unreadable else EXIT_OK


@cli.command("info")
@url_argument
def info_command(url: str) -> int:
    """Print the store's config as JSON (save it and open the store with @file.json)."""
    store = _open(url)
    _print_json(store.config.model_dump(mode="json"))
    return EXIT_OK


# ----------------------------------------------------------------------------- entry point
def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        result = cli.main(args=args, prog_name=_PROGRAM, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo(f"{_PROGRAM}: aborted", err=True)
        return EXIT_FAILURE
    except click.UsageError as exc:
        if debug:
            raise
        click.echo(f"{_PROGRAM}: error: {_one_line(exc.format_message())}", err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        if debug:
            raise
        click.echo(f"{_PROGRAM}: error: {_one_line(exc.format_message())}", err=True)
        return int(exc.exit_code)
    except UsageProblem as exc:
        if debug:
            raise
        click.echo(f"{_PROGRAM}: error: {_one_line(str(exc))}", err=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        click.echo(f"{_PROGRAM}: interrupted", err=True)
        return 130
    except BrokenPipeError:
        # `persidict ls URL | head`: the reader left; that is not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        if debug:
            raise
        click.echo(f"{_PROGRAM}: error: {_describe(exc)}", err=True)
        return EXIT_FAILURE
    return int(result) if isinstance(result, int) else EXIT_OK
