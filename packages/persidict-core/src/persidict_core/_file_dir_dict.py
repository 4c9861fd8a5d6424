"""`FileDirDict`: one file per key in a directory tree on a local (or network) file system."""

from __future__ import annotations

import errno
import os
import stat
import sys
import time
from collections.abc import Iterator
from typing import Any, ClassVar, Final, Literal

from pydantic import NonNegativeInt, StrictBool

from persidict_safestr import (
    NonEmptySafeStrTuple,
    SafeStrTuple,
    is_safe_str_element,
    sign_safe_str,
    unsign_safe_str,
)

from ._config import LocalDirPath, StoreConfig
from ._errors import BackendError, MutationPolicyError
from ._jokers import ETAG_HAS_NOT_CHANGED, ETagHasNotChangedFlag
from ._persidict import EntryInfo, KeyLike, PersiDict
from ._serialization import deserialize, serialize
from ._urls import file_url, format_store_url

__all__ = ["FileDirDict", "FileDirDictConfig"]

_NAME_MAX: Final = 255  # bytes per file name on ext4, XFS, APFS, NTFS; names here are ASCII
_TEMP_PREFIX: Final = ".#"  # '#' is not a safe character: a temp file can never look like a key
_TEMP_SUFFIX: Final = ".tmp"
_TEMP_EXTRA: Final = len(_TEMP_PREFIX) + 13 + len(_TEMP_SUFFIX)  # ".#" + name + ".<12 hex>" + ".tmp"
# Longest path one system call accepts, in bytes (PATH_MAX less its NUL: 4096 on Linux, 1024 on macOS).
_PATH_MAX: Final = 4095 if sys.platform.startswith("linux") else 1023
# O_NONBLOCK: opening a FIFO planted under a key's name must not wait for a writer (it is then
# refused as not a regular file); it changes nothing for regular files.
_READ_FLAGS: Final = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NONBLOCK", 0)
)
_WRITE_FLAGS: Final = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)
_MAX_VERIFIED_DIRS: Final = 100_000
_MAX_CACHED_NAMES: Final = 200_000  # file name -> key element, bounded memory


class FileDirDictConfig(StoreConfig):
    """Configuration of a `FileDirDict`."""

    kind: Literal["file_dir_dict"] = "file_dir_dict"
    base_dir: LocalDirPath
    """Absolute path of the store's root directory."""
    digest_len: NonNegativeInt = 0
    """Length of the hash suffix added to every path element (for case-insensitive file systems)."""
    fsync: StrictBool = True
    """Sync each written file and its directory, so an acknowledged write survives power loss."""
    compression: Literal["lz4"] | None = None
    """Compress ``pkl`` values as lz4 frames (read back either way)."""


def _etag_of(st: os.stat_result) -> str:
    return f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}"


class FileDirDict(PersiDict):
    """A persistent dict storing each value in its own file under ``base_dir``.

    Key ``("a", "b", "c")`` is the file ``base_dir/a/b/c.<format>``. Writes are atomic (a
    temporary file in the same directory, then a rename), so readers in other processes see
    the whole old value or the whole new one. Append-only creation is atomic too: of two
    processes creating the same key, exactly one succeeds.

    Args:
        base_dir: Root directory; created if missing. A path to a file is an error.
        serialization_format: ``"pkl"`` (default), ``"json"``, or another name for plain text.
        append_only: If True, keys can be added but never changed or deleted.
        digest_len: If > 0, add a hash suffix of this length to every path element, so keys
            that differ only by case don't collide on case-insensitive file systems.
        base_class_for_values: If set, every value must be an instance of this class.
        fsync: If True (default), sync every write to disk before returning.
        compression: ``"lz4"`` to compress ``pkl`` values.
        **other_params: Other names of the shared parameter vocabulary are ignored; unknown
            names are a `ValidationError`.

    Raises:
        pydantic.ValidationError: An invalid parameter.
        ValueError: ``base_dir`` exists and is not a directory.
        BackendError: ``base_dir`` cannot be created.
    """

    config_class: ClassVar[type[StoreConfig]] = FileDirDictConfig
    applicable_parameters: ClassVar[frozenset[str]] = PersiDict.applicable_parameters | {
        "base_dir",
        "digest_len",
        "fsync",
        "compression",
    }
    _config: FileDirDictConfig

    def __init__(
        self,
        base_dir: str | os.PathLike[str] = "__file_dir_dict__",
        serialization_format: str = "pkl",
        append_only: bool = False,
        digest_len: int = 0,
        base_class_for_values: type | None = None,
        *,
        fsync: bool = True,
        compression: Literal["lz4"] | None = None,
        **other_params: Any,
    ) -> None:
        config = self._make_config(
            dict(
                base_dir=base_dir,
                serialization_format=serialization_format,
                append_only=append_only,
                digest_len=digest_len,
                base_class_for_values=base_class_for_values,
                fsync=fsync,
                compression=compression,
                **other_params,
            )
        )
        super().__init__(config)
        self._base_dir: str = self._config.base_dir
        self._digest_len: int = self._config.digest_len
        self._fsync: bool = self._config.fsync
        self._compression: str | None = self._config.compression
        self._extension: str = "." + self._format
        suffix_len = self._digest_len + 1 if self._digest_len else 0
        self._max_dir_name: int = _NAME_MAX - suffix_len
        self._max_file_name: int = _NAME_MAX - suffix_len - len(self._extension)
        self._verified_dirs: set[str] = {self._base_dir}
        self._encoded_names: dict[str, str] = {}
        self._valid_names: dict[str, str] = {}
        self._paths: dict[NonEmptySafeStrTuple, tuple[str, str]] = {}
        self._top_level_paths: dict[str, str] = {}  # str key -> file path, for the delete fast path
        self._make_base_dir()

    def _make_base_dir(self) -> None:
        if os.path.exists(self._base_dir) and not os.path.isdir(self._base_dir):
            raise ValueError(f"base_dir {self._base_dir!r} is a file, not a directory")
        try:
            os.makedirs(self._base_dir, exist_ok=True)
        except OSError as exc:
            raise BackendError(f"Cannot create base_dir {self._base_dir!r}: {exc}") from exc
        self._real_base_dir = os.path.realpath(self._base_dir)

    # ----------------------------------------------------------------- properties
    @property
    def base_dir(self) -> str:
        """Absolute path of the store's root directory."""
        return self._base_dir

    @property
    def digest_len(self) -> int:
        """Length of the hash suffix of every path element (0: none)."""
        return self._digest_len

    # ----------------------------------------------------------------- paths
    def _encode_name(self, element: str, limit: int) -> str:
        """Return the on-disk name of a key element (signed when digest_len > 0)."""
        if len(element) > limit:
            raise ValueError(
                f"Key element {element[:40]!r}... has {len(element)} characters; with this store's "
                f"format and digest_len a file name allows at most {limit}"
            )
        if not self._digest_len:
            return element
        name = self._encoded_names.get(element)
        if name is None:
            name = sign_safe_str(element, self._digest_len)
            if len(self._encoded_names) < _MAX_VERIFIED_DIRS:
                self._encoded_names[element] = name
        return name

    def _decode_name(self, name: str) -> str | None:
        """Return the key element stored under ``name``, or None for a foreign name."""
        if not is_safe_str_element(name):
            return None
        if not self._digest_len:
            return name
        element = unsign_safe_str(name, self._digest_len)
        # unsign only checks the suffix: ".._l" carries a valid one but names "..".
        return element if element is not None and is_safe_str_element(element) else None

    def _dir_path(self, key: SafeStrTuple, upto: int) -> str:
        if upto == 0:
            return self._base_dir
        names = [self._encode_name(element, self._max_dir_name) for element in key[:upto]]
        return os.path.join(self._base_dir, *names)

    def _file_path(self, key: NonEmptySafeStrTuple) -> tuple[str, str]:
        """Return ``(directory, file path)`` of ``key``, checking each element's length.

        Paths are remembered (bounded): building them is a large part of a small read.
        """
        paths = self._paths.get(key)
        if paths is None:
            directory = self._dir_path(key, len(key) - 1)
            leaf = self._encode_name(key[-1], self._max_file_name) + self._extension
            paths = (directory, os.path.join(directory, leaf))
            length = len(os.fsencode(paths[1])) + _TEMP_EXTRA  # its temporary file's path is longer
            if length > _PATH_MAX:
                raise ValueError(
                    f"Key {repr(tuple(key))[:200]} is too long for this store: writing it needs a path of "
                    f"{length} bytes under {self._base_dir!r}, the operating system allows {_PATH_MAX}"
                )
            if len(self._paths) >= _MAX_CACHED_NAMES:
                self._paths.clear()
                self._top_level_paths.clear()
            self._paths[key] = paths
            if len(key) == 1:
                self._top_level_paths[key[0]] = paths[1]
        return paths

    def _is_inside(self, directory: str) -> bool:
        """True if ``directory`` is a real directory of this store (no symlink on the way)."""
        if directory in self._verified_dirs:
            return True
        real = os.path.realpath(directory)
        if real != os.path.join(self._real_base_dir, os.path.relpath(directory, self._base_dir)):
            return False  # a symlink somewhere below base_dir: never follow it
        if not os.path.isdir(real):
            return False
        if len(self._verified_dirs) < _MAX_VERIFIED_DIRS:
            self._verified_dirs.add(directory)
        return True

    def _ensure_dir(self, directory: str, key: SafeStrTuple) -> None:
        """Create ``directory`` and its parents under base_dir, refusing to follow symlinks.

        ``os.makedirs`` would follow a symlink planted inside the store and write outside it,
        so each component is created or checked with ``lstat`` (once per process: verified
        directories are remembered).
        """
        if directory in self._verified_dirs:
            return
        current = self._base_dir
        created = []
        try:
            for part in os.path.relpath(directory, self._base_dir).split(os.sep):
                current = os.path.join(current, part)
                created.append(current)
                if current in self._verified_dirs:
                    continue
                try:
                    os.mkdir(current)
                    continue
                except FileExistsError:
                    pass
                if not stat.S_ISDIR(os.lstat(current).st_mode):
                    raise BackendError(
                        f"Refusing to write key {tuple(key)!r}: {current!r} is a symlink or a file, "
                        f"not a directory of the store {self._base_dir!r}"
                    )
        except OSError as exc:
            raise BackendError(f"Cannot create {current!r} for key {tuple(key)!r}: {exc}") from exc
        if len(self._verified_dirs) < _MAX_VERIFIED_DIRS:
            self._verified_dirs.update(created)

    # ----------------------------------------------------------------- primitives
    def _read(
        self, key: NonEmptySafeStrTuple, if_etag_differs: str | None = None
    ) -> tuple[Any, str | None] | ETagHasNotChangedFlag:
        directory, path = self._file_path(key)
        if len(key) > 1 and not self._is_inside(directory):
            raise KeyError(key)
        return self._read_path(path, key, if_etag_differs)

    def _read_path(
        self, path: str, key: NonEmptySafeStrTuple, if_etag_differs: str | None = None
    ) -> tuple[Any, str] | ETagHasNotChangedFlag:
        result = self._read_file(path, key, if_etag_differs)
        if result is ETAG_HAS_NOT_CHANGED:
            return result
        data, etag = result  # type: ignore[misc]
        value = deserialize(data, self._format, context=f"key {tuple(key)!r} in file {path!r}")
        return value, etag

    def _read_file(
        self, path: str, key: NonEmptySafeStrTuple, if_etag_differs: str | None = None
    ) -> tuple[bytes, str] | ETagHasNotChangedFlag:
        """Return ``(stored bytes, etag)`` of the key's file, or `ETAG_HAS_NOT_CHANGED`."""
        if if_etag_differs is not None:
            # An unchanged file is answered by one lstat, without opening it (cache revalidation).
            try:
                st = os.lstat(path)
            except (FileNotFoundError, NotADirectoryError):
                raise KeyError(key) from None
            except OSError as exc:
                raise BackendError(f"Cannot stat {path!r} for key {tuple(key)!r}: {exc}") from exc
            if stat.S_ISREG(st.st_mode) and _etag_of(st) == if_etag_differs:
                return ETAG_HAS_NOT_CHANGED
        try:
            fd = os.open(path, _READ_FLAGS)
        except (FileNotFoundError, NotADirectoryError):
            raise KeyError(key) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # the file is a symlink: not a key of ours
                raise KeyError(key) from None
            raise BackendError(f"Cannot open {path!r} for key {tuple(key)!r}: {exc}") from exc
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise KeyError(key)
            etag = _etag_of(st)
            if if_etag_differs is not None and etag == if_etag_differs:
                return ETAG_HAS_NOT_CHANGED
            # Files are replaced, never modified in place, so st_size is this inode's size.
            chunks = []
            remaining = st.st_size
            while True:
                chunk = os.read(fd, max(remaining, 0) + 1)
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
        except OSError as exc:
            raise BackendError(f"Cannot read {path!r} for key {tuple(key)!r}: {exc}") from exc
        finally:
            os.close(fd)
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return data, etag

    def read_bytes(self, key: KeyLike) -> bytes:
        """Return the bytes of ``key``'s file as stored (KeyError if absent)."""
        k = NonEmptySafeStrTuple(key)
        directory, path = self._file_path(k)
        if len(k) > 1 and not self._is_inside(directory):
            raise KeyError(k)
        data, _ = self._read_file(path, k)  # type: ignore[misc]
        return data

    def _write(self, key: NonEmptySafeStrTuple, value: Any, only_if_absent: bool) -> str:
        directory, path = self._file_path(key)
        # Serialize before touching the disk: a value that cannot be stored leaves nothing behind.
        data = serialize(
            value, self._format, context=f"key {tuple(key)!r} in {path!r}", compression=self._compression
        )
        temp_path = self._open_temp(directory, path, key)
        fd = temp_path[1]
        temp = temp_path[0]
        try:
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                if self._fsync:
                    os.fsync(fd)
                st = os.fstat(fd)
            finally:
                os.close(fd)
            if only_if_absent:
                try:
                    # link() fails if the name exists: an atomic create-if-absent.
                    os.link(temp, path)
                except FileExistsError:
                    raise self._refuse_mutation(key, "overwrite") from None
                finally:
                    os.unlink(temp)
            else:
                os.replace(temp, path)
        except MutationPolicyError:
            raise
        except BaseException as exc:
            try:
                os.unlink(temp)
            except OSError:
                pass
            if isinstance(exc, OSError):
                raise BackendError(f"Cannot write key {tuple(key)!r} to {path!r}: {exc}") from exc
            raise
        if self._fsync:
            self._fsync_dir(directory)
        return _etag_of(st)

    def _open_temp(self, directory: str, path: str, key: NonEmptySafeStrTuple) -> tuple[str, int]:
        # Cut the file's name so that the temporary name fits in a directory entry too.
        name = os.path.basename(path)[: _NAME_MAX - _TEMP_EXTRA]
        temp = f"{directory}{os.sep}{_TEMP_PREFIX}{name}.{os.urandom(6).hex()}{_TEMP_SUFFIX}"
        for _ in range(3):
            if directory not in self._verified_dirs:
                self._ensure_dir(directory, key)
            try:
                return temp, os.open(temp, _WRITE_FLAGS, 0o666)  # 0666 minus the umask
            except FileNotFoundError:
                # Another process removed the (empty) directory: create it again.
                self._verified_dirs.discard(directory)
            except OSError as exc:
                raise BackendError(f"Cannot create a temporary file in {directory!r}: {exc}") from exc
        raise BackendError(f"The directory {directory!r} keeps disappearing; cannot write key {tuple(key)!r}")

    @staticmethod
    def _fsync_dir(directory: str) -> None:
        try:
            fd = os.open(directory, os.O_RDONLY)
        except OSError:
            return  # e.g. Windows cannot open directories: nothing to sync there
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def __delitem__(self, key: Any) -> None:
        """Delete ``key``; KeyError if absent, `MutationPolicyError` if append-only."""
        if type(key) is str and not self._append_only:
            # Fast path: a str already seen as a top-level key (so a valid one) whose path is
            # known is unlinked at once. Any failure falls back to the general path below,
            # which handles every case (the same file fails the same way again).
            path = self._top_level_paths.get(key)
            if path is not None:
                try:
                    os.unlink(path)
                    return
                except OSError:
                    pass
        k = NonEmptySafeStrTuple(key)
        if self._append_only:
            raise self._refuse_mutation(k, "delete")
        if not self._delete(k):
            raise KeyError(k)

    def __contains__(self, key: object) -> bool:
        """Return True if ``key`` is present (invalid keys raise ValueError or TypeError)."""
        if type(key) is str:
            # The fast path of __delitem__: a known top-level str key needs no key construction.
            path = self._top_level_paths.get(key)
            if path is not None:
                try:
                    return stat.S_ISREG(os.lstat(path).st_mode)
                except OSError:
                    pass  # the general path answers (or raises) as usual
        return self._contains(NonEmptySafeStrTuple(key))

    def _delete(self, key: NonEmptySafeStrTuple) -> bool:
        # The cached path inline: a method call is ~10% of the Python cost of a delete.
        directory, path = self._paths.get(key) or self._file_path(key)
        if len(key) > 1 and not self._is_inside(directory):
            return False
        try:
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return False
        except PermissionError as exc:
            if os.path.isdir(path):  # EPERM for a directory on some systems
                return False
            raise BackendError(f"Cannot delete {path!r} for key {tuple(key)!r}: {exc}") from exc
        except OSError as exc:
            raise BackendError(f"Cannot delete {path!r} for key {tuple(key)!r}: {exc}") from exc
        return True

    def _stat(self, key: NonEmptySafeStrTuple) -> os.stat_result:
        directory, path = self._file_path(key)
        if len(key) > 1 and not self._is_inside(directory):
            raise KeyError(key)
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise KeyError(key) from None
        except OSError as exc:
            raise BackendError(f"Cannot stat {path!r} for key {tuple(key)!r}: {exc}") from exc
        if not stat.S_ISREG(st.st_mode):
            raise KeyError(key)
        return st

    def _contains(self, key: NonEmptySafeStrTuple) -> bool:
        directory, path = self._file_path(key)
        if len(key) > 1 and not self._is_inside(directory):
            return False
        try:
            return stat.S_ISREG(os.lstat(path).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise BackendError(f"Cannot stat {path!r} for key {tuple(key)!r}: {exc}") from exc

    def _timestamp(self, key: NonEmptySafeStrTuple) -> float:
        return self._stat(key).st_mtime_ns / 1e9

    def _etag(self, key: NonEmptySafeStrTuple) -> str:
        return _etag_of(self._stat(key))

    # ----------------------------------------------------------------- listing
    def _scan(self, with_entries: bool) -> Iterator[Any]:
        """Yield every key (or ``(key, entry)`` pairs), in directory-listing order.

        Skips temporary and foreign files, symlinks, and directories that vanish meanwhile.
        This loop is the cost of ``len``, ``keys()`` and every iteration, so it is kept flat
        and remembers the names it has already validated.
        """
        extension = self._extension
        cut = -len(extension)
        decode = self._decode_name
        known = self._valid_names
        make_key = NonEmptySafeStrTuple._from_trusted_strings
        stack: list[tuple[str, tuple[str, ...]]] = [(self._base_dir, ())]
        while stack:
            directory, prefix = stack.pop()
            try:
                entries = os.scandir(directory)
            except (FileNotFoundError, NotADirectoryError, PermissionError):
                continue
            with entries:
                for entry in entries:
                    name = entry.name
                    try:
                        # is_file/is_dir with follow_symlinks=False: symlinks are never keys.
                        if name.endswith(extension) and entry.is_file(follow_symlinks=False):
                            element = known.get(name)
                            if element is None:
                                element = decode(name[:cut])
                                if element is None:
                                    continue
                                if len(known) < _MAX_CACHED_NAMES:
                                    known[name] = element
                            key = make_key((*prefix, element) if prefix else (element,))
                            yield (key, entry) if with_entries else key
                        elif entry.is_dir(follow_symlinks=False):
                            element = decode(name)
                            if element is not None:
                                stack.append((entry.path, (*prefix, element)))
                    except OSError:
                        continue

    def _iter_keys(self) -> Iterator[NonEmptySafeStrTuple]:
        return self._scan(with_entries=False)

    def _count(self) -> int:
        count = 0
        for _ in self._scan(with_entries=False):
            count += 1
        return count

    def _iter_entries(
        self, with_values: bool, with_timestamps: bool
    ) -> Iterator[tuple[NonEmptySafeStrTuple, Any, float | None]]:
        for key, entry in self._scan(with_entries=True):
            value = timestamp = None
            if with_timestamps:
                try:
                    timestamp = entry.stat(follow_symlinks=False).st_mtime_ns / 1e9
                except FileNotFoundError:
                    continue  # deleted by another process while we iterate
            if with_values:
                try:
                    value, _ = self._read_path(entry.path, key)  # type: ignore[misc]
                except KeyError:
                    continue
            yield key, value, timestamp

    def list_entries(self) -> Iterator[EntryInfo]:
        """Iterate over `EntryInfo` of every key: one ``stat`` per file, no file is opened."""
        for key, entry in self._scan(with_entries=True):
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # deleted by another process while we iterate
            yield EntryInfo(key, st.st_size, st.st_mtime_ns / 1e9, _etag_of(st))

    def to_url(self) -> str:
        """Return the ``file://`` URL of this store (non-default parameters in its query)."""
        return format_store_url(file_url(self._base_dir), self._config, {"base_dir": self._base_dir})

    def _clear(self) -> None:
        directories = []
        for key, entry in self._scan(with_entries=True):
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise BackendError(f"Cannot delete {entry.path!r}: {exc}") from exc
            if len(key) > 1:
                directories.append(os.path.dirname(entry.path))
        # Remove the directories that are now empty, deepest first (never base_dir itself).
        for directory in sorted(set(directories), key=len, reverse=True):
            while directory != self._base_dir and directory.startswith(self._base_dir):
                try:
                    os.rmdir(directory)
                except OSError:
                    break  # not empty: other formats or keys live here
                self._verified_dirs.discard(directory)
                directory = os.path.dirname(directory)

    def _subdict(self, prefix: SafeStrTuple) -> FileDirDict:
        directory = self._dir_path(prefix, len(prefix))
        self._ensure_dir(directory, NonEmptySafeStrTuple(prefix))
        params = {**self._config.model_dump(exclude={"kind"}), "base_dir": directory}
        return FileDirDict(**params)

    # ----------------------------------------------------------------- maintenance
    def remove_stale_temp_files(self, min_age_seconds: float = 3600.0) -> int:
        """Delete temporary files left behind by writers that crashed; return how many.

        A write in progress owns its temporary file for a moment only, so files older than
        ``min_age_seconds`` are leftovers of killed processes. Safe to run at any time, from
        any process.
        """
        cutoff = time.time() - min_age_seconds
        removed = 0
        stack = [self._base_dir]
        while stack:
            directory = stack.pop()
            try:
                entries = os.scandir(directory)
            except OSError:
                continue
            with entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif (
                            entry.name.startswith(_TEMP_PREFIX)
                            and entry.name.endswith(_TEMP_SUFFIX)
                            and entry.is_file(follow_symlinks=False)
                            and entry.stat(follow_symlinks=False).st_mtime < cutoff
                        ):
                            os.unlink(entry.path)
                            removed += 1
                    except OSError:
                        continue
        return removed
