"""`FileDirDict`: one file per key in a directory tree on a local (or network) file system."""

from __future__ import annotations

import errno
import functools
import io
import itertools
import os
import re
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, Final, Literal, NamedTuple, cast, overload

from persidict_safestr import (
    SAFE_CHARS,
    SAFE_STRING_MAX_LENGTH,
    BoundedCache,
    BoundedSet,
    NonEmptySafeStrTuple,
    SafeStrTuple,
    is_safe_str_element,
    sign_safe_str,
    unsign_safe_str,
)

from ._conditional import ITEM_NOT_AVAILABLE, ETagIfExists, ETagValue, ItemNotAvailableFlag
from ._config import deferred_config_class
from ._errors import BackendError, DeserializationError, SerializationError
from ._jokers import ETAG_HAS_NOT_CHANGED, ETagHasNotChangedFlag
from ._os_names import OS_FILE_NAMES, OS_NAME_PREFIXES, is_os_name
from ._persidict import EntryInfo, KeyLike, PersiDict, _key, _key_or_none
from ._serialization import deserialize, deserialize_from, serialize, serialize_to, streams

if TYPE_CHECKING:
    from ._config_models import FileDirDictConfig, StoreConfig

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

__all__ = ["FileDirDict"]

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
_DIR_FLAGS: Final = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
# Where a directory cannot be locked itself (Windows; NFS, whose flock needs a file open for
# writing), one lock file per directory is used; '#' is not a safe character, so it is never a key.
_LOCK_FILE: Final = ".#dir.lock"
_LOCK_FILE_FLAGS: Final = (
    os.O_RDWR
    | os.O_CREAT
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NOFOLLOW", 0)
)
_DIR_LOCK_UNSUPPORTED: Final = frozenset(
    {errno.EBADF, errno.EINVAL, errno.ENOLCK, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)}
)
_UTIME_FD: Final = os.utime in os.supports_fd
# Steps tried when a file system keeps coarser timestamps than nanoseconds (1 us ... FAT's 2 s).
_MTIME_STEPS: Final = (1_000, 1_000_000, 1_000_000_000, 2_000_000_000)
# In-process locks for the lock-file fallback, whose POSIX locks belong to the whole process.
_THREAD_LOCKS: Final = tuple(threading.Lock() for _ in range(64))
# Per-store caches (paths of keys, on-disk names, verified directories): bounded memory. One
# bound for the name caches; a listing's validated names (~160 bytes each) stay under ~16 MB, so
# a million distinct names are validated again rather than held.
_MAX_VERIFIED_DIRS: Final = 100_000
_MAX_CACHED_NAMES: Final = 100_000

# Temporary names: a random salt per process (drawn again in a forked child) and a counter,
# so a write needs no random bytes from the kernel; O_EXCL still refuses a name in use.
_temp_counter = itertools.count()
_temp_salt = os.urandom(4).hex()


def _new_temp_salt() -> None:
    global _temp_salt  # noqa: PLW0603 - one salt per process, replaced in a forked child
    _temp_salt = os.urandom(4).hex()


def _temp_tag(fresh: bool) -> str:
    """12 hex digits naming a temporary file (random ones if ``fresh``)."""
    if fresh:
        return os.urandom(6).hex()
    return f"{_temp_salt}{next(_temp_counter) & 0xFFFF:04x}"


class _Held(NamedTuple):
    """A directory lock held: its descriptor, and the in-process lock taken with it (if any).

    ``kept``: the descriptor is an `_OpenDir`'s, released without being closed.
    """

    fd: int
    thread_lock: threading.Lock | None
    kept: bool = False


# Directories kept open by this process for writes and deletes: their lock (flock on the
# descriptor) and their entries (openat, lstat, renameat, linkat, unlinkat relative to it) are
# reached without resolving the directory's path on every call. Shared by every store of the
# process, bounded, and forgotten in a forked child (whose copies of the descriptors share
# their locks with the parent's).
# (os.lstat takes dir_fd wherever os.stat does, but is not listed in os.supports_dir_fd.)
_DIR_HANDLES: Final = sys.platform != "win32" and all(
    func in os.supports_dir_fd for func in (os.open, os.stat, os.unlink, os.rename, os.link)
)
_MAX_OPEN_DIRS: Final = 64
# The extended attribute of a directory that holds a time no locked delete in it was past.
_DELETION_RECORD: Final = "user.persidict.deleted"
# How far ahead of the clock a deletion record is set, so that the deletes of the next moment
# find it already past their time and need not write it (one write per folder per period).
_DELETION_RECORD_AHEAD_NS: Final = 50_000_000


class _OpenDir:
    """A directory kept open: its descriptor and how many calls are using it.

    ``thread_lock`` is taken by this process's writers around their ``flock`` of ``fd``: a
    flock belongs to the open descriptor, which the threads share, so it alone would not keep
    them from each other. A ``stale`` descriptor (its directory was removed, or the table was
    full) is closed by its last user.
    """

    __slots__ = ("fd", "held", "path", "stale", "thread_lock", "users")

    def __init__(self, fd: int, path: str) -> None:
        self.fd = fd
        self.path = path
        self.thread_lock = threading.Lock()
        self.held = _Held(fd, self.thread_lock, kept=True)  # what `_lock` returns, made once
        self.users = 1
        self.stale = False


class _OpenDirs:
    """The table of `_OpenDir` by path, under one short in-process lock."""

    def __init__(self) -> None:
        self.table: dict[str, _OpenDir] = {}
        self.guard = threading.Lock()

    def acquire(self, directory: str) -> _OpenDir:
        """Return ``directory`` open (opening it if needed), counted as in use until `release`.

        Raises:
            OSError: What ``os.open`` raised (FileNotFoundError if the directory is absent).
        """
        with self.guard:
            opened = self.table.get(directory)
            if opened is not None:
                opened.users += 1
                return opened
        fd = os.open(directory, _DIR_FLAGS)
        with self.guard:
            opened = self.table.get(directory)
            if opened is not None:  # opened meanwhile by another thread
                opened.users += 1
                os.close(fd)
                return opened
            opened = _OpenDir(fd, directory)
            if len(self.table) >= _MAX_OPEN_DIRS:
                for path, idle in list(self.table.items()):
                    if not idle.users:
                        del self.table[path]
                        os.close(idle.fd)
            if len(self.table) < _MAX_OPEN_DIRS:
                self.table[directory] = opened
            else:
                opened.stale = True  # every kept directory is in use: this one is not kept
            return opened

    def release(self, opened: _OpenDir) -> None:
        with self.guard:
            opened.users -= 1
            if opened.stale and not opened.users:
                os.close(opened.fd)

    def discard(self, opened: _OpenDir) -> None:
        """Forget ``opened`` (its directory was removed): the next `acquire` opens the path anew."""
        with self.guard:
            if self.table.get(opened.path) is opened:
                del self.table[opened.path]
            opened.stale = True


_open_dirs = _OpenDirs()


def _forget_open_dirs() -> None:
    global _open_dirs  # noqa: PLW0603 - a forked child must not share its parent's descriptors
    for opened in _open_dirs.table.values():
        try:
            os.close(opened.fd)
        except OSError:
            pass
    _open_dirs = _OpenDirs()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_temp_salt)
    os.register_at_fork(after_in_child=_forget_open_dirs)


def _refuse_os_name(name: str, key: SafeStrTuple, file_name: str | None = None) -> None:
    """Refuse a key whose file or folder name is one the listing skips (it would be hidden).

    ``file_name``: the name of a key's file (``name`` with the store's extension), checked
    too. The extension starts with a dot, so the file name has a prefix the listing skips
    exactly when ``name`` has.
    """
    if is_os_name(name):
        hidden = name
    elif file_name is not None and file_name.lower() in OS_FILE_NAMES:
        hidden = file_name
    else:
        return
    raise ValueError(
        f"Key {tuple(key)!r} cannot be stored in a FileDirDict: its path would hold {hidden!r}, "
        "a name that operating systems and sync tools create, which the store never lists"
    )


# Files larger than this are read by the codec straight from the file (pickle.load: a large
# buffer is read into its final memory), not as one bytes object first; smaller ones in one read.
_STREAM_READ_MIN: Final = 1 << 20
# What a read of a value asks for first: a file shorter than this is read whole by one read.
# Below the C allocator's usual threshold for mapping memory (128 KiB), so the buffer, shrunk
# to the file's size at once, costs no mmap and munmap.
_ONE_READ_BYTES: Final = 120 * 1024


# Buffers at least this large, read into memory the unpickler allocated, are first marked for
# transparent huge pages (Linux): fresh memory is faulted in a 4 KB page at a time otherwise,
# which made reading a 400 MB array ~2x slower than np.fromfile (numpy asks for huge pages for
# its own large arrays; a read into np.empty memory is as fast as np.fromfile).
_HUGE_PAGE_READ_MIN: Final = 8 << 20
_MADV_HUGEPAGE: Final = 14
_madvise: Callable[[int, int, int], int] | None = None


def _advise_huge_pages(buffer: memoryview) -> None:
    """Ask the kernel to back the untouched ``buffer`` with huge pages (best effort, Linux)."""
    global _madvise  # noqa: PLW0603 - libc's madvise, looked up once
    import ctypes  # only for large reads: ~3 ms to import

    if _madvise is None:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.madvise
        function.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
        function.restype = ctypes.c_int
        _madvise = function
    address = ctypes.addressof(ctypes.c_char.from_buffer(buffer))
    page = os.sysconf("SC_PAGESIZE")
    start = -(-address // page) * page  # the first whole page inside the buffer
    length = (address + buffer.nbytes - start) // page * page
    if length > 0:
        _madvise(start, length, _MADV_HUGEPAGE)  # a refusal only leaves the default pages


class _HugePageReader(io.FileIO):
    """The file a large value is unpickled from: large buffers are read into huge pages."""

    def readinto(self, buffer: Any) -> int | None:
        """Read into ``buffer``, first marking a large writable one for huge pages."""
        if _HUGE_PAGE_SUPPORT:
            view = memoryview(buffer)
            if view.nbytes >= _HUGE_PAGE_READ_MIN and not view.readonly and view.c_contiguous:
                try:
                    _advise_huge_pages(view.cast("B"))
                except (OSError, AttributeError, TypeError, ValueError):
                    pass  # no madvise here: read as before
        return super().readinto(buffer)


_HUGE_PAGE_SUPPORT: Final = sys.platform.startswith("linux")


class _FdWriter:
    """The file object a codec dumps into: every ``write`` goes to the descriptor in full.

    Unbuffered on purpose: pickle frames small data itself and hands a large buffer (a numpy
    array's memory) over as it is, which goes to the file without a copy.
    """

    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, data: Any) -> int:
        if type(data) is bytes:  # pickle's frames: usually written by one call
            total = len(data)
            written = os.write(self.fd, data)
            if written == total:
                return total
            view = memoryview(data)[written:]
        else:
            view = memoryview(data).cast("B")
            total = len(view)
        while view:
            written = os.write(self.fd, view)  # may be partial (at most ~2 GB per call on Linux)
            view = view[written:]
        return total

    def flush(self) -> None:
        """Nothing is buffered here."""


def _location_text(key: SafeStrTuple, path: str) -> Callable[[], str]:
    """What names a key's value in an error message, formatted only if an error is raised."""
    return lambda: f"key {tuple(key)!r} in file {path!r}"


def _etag_of(st: os.stat_result, mtime_ns: int | None = None) -> str:
    """A file's ETag: its mtime (``mtime_ns`` if given, e.g. just set), size and inode."""
    return f"{st.st_mtime_ns if mtime_ns is None else mtime_ns}:{st.st_size}:{st.st_ino}"


@functools.cache
def _key_files_matcher(extension: str) -> Callable[[str], object]:
    """Return a test of ``"name/name/.../"``: True if every name is a key file (``digest_len=0``).

    One regex over the joined names checks a whole directory at C speed; ``/`` cannot occur in
    a file name, so it separates them unambiguously.
    """
    chars = "".join(re.escape(char) for char in sorted(SAFE_CHARS))
    ext = re.escape(extension)
    # Not "." or ".." (as elements), nor starting with "._" (macOS AppleDouble files).
    one = rf"(?!\.\.?{ext}/)(?!\._)[{chars}]{{1,{SAFE_STRING_MAX_LENGTH - 1}}}{ext}/"
    return re.compile(rf"(?:{one})*").fullmatch


@functools.cache
def _os_names_search(extension: str) -> Callable[[str], object]:
    """Return a search of ``"/name/name/.../"`` (lowercased) for a name that `is_os_name` refuses.

    As a file name or as the element before ``extension``: the rules of a listing, checked at
    C speed over a whole folder of names. Each candidate starts with ``/``, a literal the
    regex engine scans for quickly (case-folding the text once is much faster than a
    case-insensitive search).
    """
    exact = "|".join(re.escape(name) for name in sorted(OS_FILE_NAMES))
    prefixes = "|".join(re.escape(prefix) for prefix in OS_NAME_PREFIXES)
    ext = re.escape(extension.lower())
    return re.compile(rf"/(?:(?:{prefixes})|(?:{exact})(?:{ext})?/)").search


def _os_name_in(extension: str, joined: str) -> bool:
    """Tell whether ``"name/name/.../"`` holds a name that `is_os_name` refuses."""
    return _os_names_search(extension)("/" + joined.lower()) is not None


def _list_folder(directory: str) -> tuple[list[os.DirEntry[str]], list[os.DirEntry[str]]] | None:
    """Return the regular files and the directories of ``directory`` (no symlinks).

    None if the directory cannot be listed (vanished, not a directory, unreadable), which a
    listing skips. The split is two C loops; one by one only under a file system without
    ``d_type`` where an entry vanished meanwhile.
    """
    try:
        with os.scandir(directory) as iterator:
            entries = list(iterator)
    except OSError:
        return None
    try:
        # is_file/is_dir with follow_symlinks=False: symlinks are never keys.
        files = [entry for entry in entries if entry.is_file(follow_symlinks=False)]
        if len(files) == len(entries):
            return files, []
        return files, [entry for entry in entries if entry.is_dir(follow_symlinks=False)]
    except OSError:
        files, dirs = [], []
        for entry in entries:
            try:
                if entry.is_file(follow_symlinks=False):
                    files.append(entry)
                elif entry.is_dir(follow_symlinks=False):
                    dirs.append(entry)
            except OSError:
                continue
        return files, dirs


def _os_error(exc: OSError, operation: str, path: str, key: SafeStrTuple | None = None) -> BackendError:
    """Translate a failed file-system call into the `BackendError` to raise (chained by the caller).

    The one translation point of this backend: every `OSError` that is a storage failure
    (not an absent key) becomes a `BackendError` naming the call, the path and the key.
    """
    subject = f" for key {tuple(key)!r}" if key is not None else ""
    return BackendError(
        f"Cannot {operation} {path!r}{subject}: {exc}",
        backend="filesystem",
        operation=operation,
        key=None if key is None else NonEmptySafeStrTuple(key),
    )


def _lstat_or_none(path: str, dir_fd: int | None = None) -> os.stat_result | None:
    try:
        return os.lstat(path, dir_fd=dir_fd)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _regular_etag(st: os.stat_result | None, path: str) -> ETagIfExists:
    """The ETag of what ``lstat`` found at a key's path (`ITEM_NOT_AVAILABLE` if nothing)."""
    if st is None:
        return ITEM_NOT_AVAILABLE
    if not stat.S_ISREG(st.st_mode):
        raise BackendError(
            f"{path!r} is not a regular file: cannot replace or delete it as a key",
            backend="filesystem",
            operation="lstat",
        )
    return _etag_of(st)


class FileDirDict(PersiDict):
    """A persistent dict storing each value in its own file under ``base_dir``.

    Key ``("a", "b", "c")`` is the file ``base_dir/a/b/c.<format>``. Writes are atomic (a
    temporary file in the same directory, then a rename), so readers in other processes see
    the whole old value or the whole new one. Append-only creation is atomic too: of two
    processes creating the same key, exactly one succeeds.

    Writers of one directory (threads, processes, and clients of a network file system with
    working POSIX locks) take a short exclusive lock on that directory around the final check
    and rename, so conditional writes (`set_item_if`, `transform_item`, ...) are atomic and a
    plain write is never lost to one. Readers never lock. Each key's modification time is kept
    strictly increasing under the lock, so its ETag (``mtime_ns:size:inode``) identifies one
    write. ``locking=False`` turns both off, for folders synchronized by services that do not
    propagate locks (Dropbox and the like): conditional operations are then best-effort.

    Args:
        base_dir: Root directory; created if missing. A path to a file is an error.
        serialization_format: ``"pkl"`` (default), ``"json"``, or another name for plain text.
        append_only: If True, keys can be added but never changed or deleted.
        digest_len: If > 0, add a hash suffix of this length to every path element, so keys
            that differ only by case don't collide on case-insensitive file systems.
        base_class_for_values: If set, every value must be an instance of this class.
        fsync: If True (default), sync every write to disk before returning.
        compression: ``"lz4"`` to compress ``pkl`` values.
        locking: If True (default), writers lock the key's directory for the check and the
            rename, which makes conditional operations atomic. False: best-effort, no locks.
        **other_params: Other names of the shared parameter vocabulary are ignored; unknown
            names are a `ValidationError`.

    Raises:
        pydantic.ValidationError: An invalid parameter.
        ValueError: ``base_dir`` exists and is not a directory.
        BackendError: ``base_dir`` cannot be created.
    """

    # Pickles name the class by its public home, so they survive moves between private modules.
    __module__ = "persidict_core"

    config_class: ClassVar[type[StoreConfig]] = deferred_config_class(
        "persidict_core._config_models:FileDirDictConfig", "file_dir_dict"
    )
    atomic_conditional_writes: ClassVar[bool] = True  # with locking=True (False per instance otherwise)
    strong_etags: ClassVar[bool] = True
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
        locking: bool = True,
        **other_params: Any,
    ) -> None:
        config = self.make_config(
            dict(
                base_dir=base_dir,
                serialization_format=serialization_format,
                append_only=append_only,
                digest_len=digest_len,
                base_class_for_values=base_class_for_values,
                fsync=fsync,
                compression=compression,
                locking=locking,
                **other_params,
            )
        )
        super().__init__(config)
        self._base_dir: str = self._config.base_dir
        self._digest_len: int = self._config.digest_len
        self._fsync: bool = self._config.fsync
        self._compression: str | None = self._config.compression
        self._locking: bool = self._config.locking
        if not self._locking:
            # The capability flags describe this instance: without locks nothing is atomic.
            vars(self)["atomic_conditional_writes"] = False
            vars(self)["strong_etags"] = False
        self._lock_files = sys.platform == "win32"  # no directory locks there
        # Directories' deletion records (see `_deleted_before`): Linux extended attributes.
        self._deletion_records: bool = self._locking and hasattr(os, "getxattr")
        self._deletion_record_missing = False  # a check without the lock found a folder without one
        # A subclass that reads its own way keeps every read going through its read_entry.
        self._plain_reads: bool = type(self).read_entry is FileDirDict.read_entry
        self._large_values = False  # see _read_value
        # Plain writes link a new key's file in while the store writes new keys (_link_if_new).
        self._hard_links = self._link_new_keys = True
        self._stripes: dict[str, int] = {}
        # Devices seen to keep mtimes to the nanosecond: a stamp there needs no read-back.
        self._exact_mtime_devs: set[int] = set()
        self._extension: str = "." + self._format
        self._streams: bool = streams(self._format)
        suffix_len = self._digest_len + 1 if self._digest_len else 0
        self._max_dir_name: int = _NAME_MAX - suffix_len
        self._max_file_name: int = _NAME_MAX - suffix_len - len(self._extension)
        self._verified_dirs: BoundedSet[str] = BoundedSet(_MAX_VERIFIED_DIRS)
        self._verified_dirs.remember(self._base_dir)
        self._encoded_names: BoundedCache[str, str] = BoundedCache(_MAX_CACHED_NAMES)
        self._valid_names: BoundedCache[str, str] = BoundedCache(_MAX_CACHED_NAMES)
        self._paths: BoundedCache[NonEmptySafeStrTuple, tuple[str, str]] = BoundedCache(_MAX_CACHED_NAMES)
        # str key -> file path, for the delete and `in` fast paths
        self._top_level_paths: BoundedCache[str, str] = BoundedCache(_MAX_CACHED_NAMES)
        self._make_base_dir()

    def _make_base_dir(self) -> None:
        if os.path.exists(self._base_dir) and not os.path.isdir(self._base_dir):
            raise ValueError(f"base_dir {self._base_dir!r} is a file, not a directory")
        try:
            os.makedirs(self._base_dir, exist_ok=True)
        except OSError as exc:
            raise _os_error(exc, "mkdir", self._base_dir) from exc
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
            name = self._encoded_names.remember(element, sign_safe_str(element, self._digest_len))
        return name

    def _decode_name(self, name: str) -> str | None:
        """Return the key element stored under ``name``, or None for a foreign name."""
        if not is_safe_str_element(name) or is_os_name(name):
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
        for name in names:
            _refuse_os_name(name, key)
        return os.path.join(self._base_dir, *names)

    def _file_path(self, key: NonEmptySafeStrTuple) -> tuple[str, str]:
        """Return ``(directory, file path)`` of ``key``, checking each element's length.

        Paths are remembered (bounded): building them is a large part of a small read.
        """
        paths = self._paths.get(key)
        if paths is None:
            directory = self._dir_path(key, len(key) - 1)
            name = self._encode_name(key[-1], self._max_file_name)
            leaf = name + self._extension
            _refuse_os_name(name, key, file_name=leaf)
            # abspath leaves a separator at the end of a root directory only.
            paths = (directory, (directory if directory[-1] == os.sep else directory + os.sep) + leaf)
            # Its temporary file's path is longer. A character is at most 4 bytes in UTF-8: the
            # exact length is needed only near the limit.
            length = len(paths[1]) * 4 + _TEMP_EXTRA
            if length > _PATH_MAX:
                length = len(os.fsencode(paths[1])) + _TEMP_EXTRA
            if length > _PATH_MAX:
                raise ValueError(
                    f"Key {repr(tuple(key))[:200]} is too long for this store: writing it needs a path of "
                    f"{length} bytes under {self._base_dir!r}, the operating system allows {_PATH_MAX}"
                )
            self._paths.remember(key, paths)
            if len(key) == 1:
                self._top_level_paths.remember(key[0], paths[1])
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
        self._verified_dirs.remember(directory)
        return True

    def _ensure_dir(self, directory: str, key: SafeStrTuple) -> None:
        """Create ``directory`` and its parents under base_dir, refusing to follow symlinks.

        ``os.makedirs`` would follow a symlink planted inside the store and write outside it,
        so each component is created or checked with ``lstat`` (once per process: verified
        directories are remembered).
        """
        if directory in self._verified_dirs:
            return
        if not os.path.isdir(self._base_dir):
            # The store's folder was removed since the store was opened (by hand, by a tool):
            # make it again, as opening the store did, rather than fail every later write.
            self._make_base_dir()
        self._verified_dirs.remember(self._base_dir)
        if directory == self._base_dir:
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
                    raise NotADirectoryError(
                        errno.ENOTDIR, f"a symlink or a file, not a directory of the store {self._base_dir!r}"
                    )
        except OSError as exc:
            raise _os_error(exc, "mkdir", current, key) from exc
        for verified in created:
            self._verified_dirs.remember(verified)

    # ----------------------------------------------------------------- primitives
    def _entry_path(self, key: NonEmptySafeStrTuple) -> str:
        """The path of ``key``'s file; KeyError if a directory on the way is not the store's own."""
        directory, path = self._file_path(key)
        if len(key) > 1 and not self._is_inside(directory):
            raise KeyError(key)
        return path

    def read_entry(self, key: NonEmptySafeStrTuple) -> tuple[Any, str]:
        """Read the key's file: one ``open``, one ``fstat`` (see `PersiDict.read_entry`)."""
        value, st = self._read_file(self._entry_path(key), key, decode=True)
        return value, _etag_of(st)

    def read_entry_if_changed(
        self, key: NonEmptySafeStrTuple, etag: str
    ) -> tuple[Any, str] | ETagHasNotChangedFlag:
        """Read the key's file unless its ETag is ``etag``: an unchanged file costs one ``lstat``."""
        path = self._entry_path(key)
        try:
            # The cache's revalidation, inline: most calls end here.
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and _etag_of(st) == etag:
                return ETAG_HAS_NOT_CHANGED
        except OSError:
            pass  # absent or failing: the read below says which
        value, st = self._read_file(path, key, decode=True)
        new_etag = _etag_of(st)
        # Replaced by the same version between the lstat and the open: still unchanged.
        return ETAG_HAS_NOT_CHANGED if new_etag == etag else (value, new_etag)

    def _open_key_file(self, path: str, key: NonEmptySafeStrTuple) -> int:
        """Open the key's file for reading (KeyError if absent or a symlink)."""
        try:
            return os.open(path, _READ_FLAGS)
        except (FileNotFoundError, NotADirectoryError):
            raise KeyError(key) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # the file is a symlink: not a key of ours
                raise KeyError(key) from None
            raise _os_error(exc, "open", path, key) from exc

    def _read_value(self, path: str, key: NonEmptySafeStrTuple) -> Any:
        """Return the value of the key's file, when no ETag is wanted.

        A file below 120 KiB takes one ``read`` and no ``fstat``: a read shorter than asked
        for, and not empty, has read a whole regular file (files are replaced, never modified
        in place). Anything else (empty, a read that filled the buffer, not a regular file)
        goes on as `_read_file` does, with the file's ``fstat``.
        """
        fd = self._open_key_file(path, key)
        try:
            if self._large_values:
                first = b""  # the last value was larger than one first read: fstat at once
            else:
                try:
                    first = os.read(fd, _ONE_READ_BYTES)
                except OSError:
                    first = b""  # a directory, or a read error that the fstat path reports
            if not first or len(first) == _ONE_READ_BYTES:
                value, st = self._read_open_file(fd, path, key, decode=True, first=first)
                # A hint for the next read (stores tend to hold values of one size): no
                # first read that would only be the start of a larger file.
                self._large_values = st.st_size >= _ONE_READ_BYTES
                return value
        finally:
            os.close(fd)
        return self._decode_value(first, key, path)

    def _decode_value(self, data: bytes, key: NonEmptySafeStrTuple, path: str) -> Any:
        try:
            return deserialize(data, self._format, context=_location_text(key, path))
        except DeserializationError as exc:
            exc.key, exc.location = key, path
            raise

    @overload
    def _read_file(
        self, path: str, key: NonEmptySafeStrTuple, *, decode: Literal[False]
    ) -> tuple[bytes, os.stat_result]: ...

    @overload
    def _read_file(
        self, path: str, key: NonEmptySafeStrTuple, *, decode: bool
    ) -> tuple[Any, os.stat_result]: ...

    def _read_file(self, path: str, key: NonEmptySafeStrTuple, *, decode: bool) -> tuple[Any, os.stat_result]:
        """Return ``(value, stat)`` of the key's file (its stored bytes unless ``decode``).

        The stat is that of the open file, so ``_etag_of(stat)`` is the ETag of the bytes read.
        """
        fd = self._open_key_file(path, key)
        try:
            return self._read_open_file(fd, path, key, decode=decode)
        finally:
            os.close(fd)

    def _read_open_file(
        self, fd: int, path: str, key: NonEmptySafeStrTuple, *, decode: bool, first: bytes = b""
    ) -> tuple[Any, os.stat_result]:
        """`_read_file` once the file is open (``first``: the bytes already read from it)."""
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise KeyError(key)
            if decode and st.st_size >= _STREAM_READ_MIN and self._streams:
                # Large: the codec reads the value out of the file, without the file's bytes in
                # memory beside the value (the first bytes tell whether it is compressed).
                head = first[:4] or os.read(fd, 4)
                os.lseek(fd, 0, os.SEEK_SET)
                with _HugePageReader(fd, "rb", closefd=False) as file:
                    context = _location_text(key, path)
                    try:
                        return deserialize_from(file, head, self._format, context=context), st
                    except DeserializationError as exc:
                        exc.key, exc.location = key, path
                        raise
            # Files are replaced, never modified in place, so st_size is this inode's size: a
            # read that asked for one byte more and got exactly the rest has reached the end
            # (no second read to see it). A file that grew anyway is read to its end.
            chunks = [first] if first else []
            remaining = st.st_size - len(first)
            while True:
                chunk = os.read(fd, max(remaining, 0) + 1)
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
                if not remaining:
                    break
        except OSError as exc:
            raise _os_error(exc, "read", path, key) from exc
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if not decode:
            return data, st
        return self._decode_value(data, key, path), st

    def read_bytes(self, key: KeyLike) -> bytes:
        """Return the bytes of ``key``'s file as stored (KeyError if absent)."""
        k = NonEmptySafeStrTuple(key)
        data, _ = self._read_file(self._entry_path(k), k, decode=False)
        return data

    def write_entry(self, key: NonEmptySafeStrTuple, value: Any, *, only_if_absent: bool = False) -> str:
        etag = self._put(key, value, ITEM_NOT_AVAILABLE if only_if_absent else None)
        if etag is None:
            raise self._refuse_mutation(key, "overwrite")
        return etag

    def write_entry_if_etag(
        self, key: NonEmptySafeStrTuple, value: Any, expected_etag: ETagValue | ItemNotAvailableFlag
    ) -> str | None:
        return self._put(key, value, expected_etag)

    def _put(self, key: NonEmptySafeStrTuple, value: Any, expected: ETagIfExists | None) -> str | None:
        """Write ``value`` (if the key's ETag is ``expected``, when given); return the new ETag.

        The value goes to a temporary file first; only the check and the rename happen under
        the directory's lock. `ITEM_NOT_AVAILABLE` creates the file with ``link``, which fails
        if the name exists, so creation is atomic even against writers that do not lock; so
        does a plain write while the store is writing new keys (the link is its check). Where
        hard links are not available, both rename under the lock instead.
        Returns None when the condition does not hold.
        """
        directory, path = self._file_path(key)
        if type(expected) is str and _regular_etag(_lstat_or_none(path), path) != expected:
            # A race lost already (under contention, often) costs one lstat, not a temporary
            # file: ETags never repeat, so the check under the lock would fail as well.
            return None
        context = _location_text(key, path)
        # A format that streams writes straight into the temporary file (a large value is never
        # held as bytes); any other is serialized before touching the disk. Either way a value
        # that cannot be stored leaves nothing behind (the temporary file is removed).
        try:
            data = (
                None
                if self._streams
                else serialize(value, self._format, context=context, compression=self._compression)
            )
        except SerializationError as exc:
            exc.key, exc.location = key, path
            raise
        opened, temp, fd = self._open_temp(directory, path, key)
        # With the directory open, every call below names entries relative to it.
        dir_fd = None if opened is None else opened.fd
        target = path if opened is None else path.rpartition(os.sep)[2]  # the file's name
        held: _Held | None = None
        linked = False
        try:
            try:
                try:
                    if data is None:
                        writer = cast(BinaryIO, _FdWriter(fd))  # the part of a binary file pickle uses
                        try:
                            serialize_to(
                                writer, value, self._format, context=context, compression=self._compression
                            )
                        except SerializationError as exc:
                            exc.key, exc.location = key, path
                            raise
                    else:
                        view = memoryview(data)
                        while view:
                            written = os.write(fd, view)
                            view = view[written:]
                    if self._locking and self._fsync:
                        # Settle the modification time before the sync, so that it is as durable
                        # as the data (a change after it would cost a second sync). A new key's
                        # file whose own mtime is past the deletion record keeps it (the record
                        # can be read before the lock: see `_deleted_before`); any other is
                        # stamped with the clock, and checked against the file it replaces once
                        # the lock is held.
                        st = os.fstat(fd)
                        mtime = st.st_mtime_ns
                        if not (
                            expected is None
                            and self._link_new_keys
                            and self._deleted_before(opened, mtime, locked=False)
                        ):
                            mtime = self._stamp(fd, temp, dir_fd, st, time.time_ns())
                        os.fsync(fd)
                    else:
                        st = os.fstat(fd)
                        mtime = st.st_mtime_ns
                        if self._fsync:
                            os.fsync(fd)
                    if self._locking:
                        held = self._lock(directory, opened)
                        if expected is None and self._link_new_keys:
                            # Most likely a new key, as the last ones were: link it in (which fails
                            # if the name exists) instead of looking first.
                            mtime = self._new_key_mtime(opened, fd, temp, st, mtime)
                            linked = self._link_if_new(temp, target, dir_fd)
                        if not linked:
                            current = _lstat_or_none(target, dir_fd)
                            if expected is not None and _regular_etag(current, path) != expected:
                                os.close(fd)
                                fd = -1
                                os.unlink(temp, dir_fd=dir_fd)
                                return None
                            if current is None:
                                self._link_new_keys = self._hard_links  # the store is writing new keys
                                mtime = self._new_key_mtime(opened, fd, temp, st, mtime)
                            elif mtime <= current.st_mtime_ns:
                                # Usually the file's own mtime (set by the write) is already past
                                # the old one; within one clock tick it is not, and is stepped past.
                                mtime = self._stamp(
                                    fd, temp, dir_fd, st, current.st_mtime_ns + 1, at_least=True
                                )
                                if self._fsync:
                                    os.fsync(fd)  # the step, as durable as the data
                    elif (
                        type(expected) is str
                        and _regular_etag(_lstat_or_none(target, dir_fd), path) != expected
                    ):
                        # Best effort without the lock: the check and the rename are two steps.
                        os.close(fd)
                        fd = -1
                        os.unlink(temp, dir_fd=dir_fd)
                        return None
                finally:
                    if fd >= 0:
                        os.close(fd)
                if linked:
                    os.unlink(temp, dir_fd=dir_fd)
                elif expected is ITEM_NOT_AVAILABLE:
                    if not self._create(temp, target, dir_fd, locked=held is not None):
                        return None  # the key has a file (under the lock: made by a writer without one)
                else:
                    os.replace(temp, target, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            except BaseException as exc:
                try:
                    os.unlink(temp, dir_fd=dir_fd)
                except OSError:
                    pass
                if isinstance(exc, OSError):
                    raise _os_error(exc, "write", path, key) from exc
                raise
            finally:
                if held is not None:
                    self._unlock(held, directory, sync=self._fsync)
            if self._fsync and held is None:
                self._fsync_dir(directory, dir_fd)
        finally:
            if opened is not None:
                _open_dirs.release(opened)
        return _etag_of(st, mtime)

    def _new_key_mtime(
        self, opened: _OpenDir | None, fd: int, temp: str, st: os.stat_result, mtime: int
    ) -> int:
        """The mtime a new key's file must have (under the lock): stamped with the clock if needed.

        A new file may get the inode of the key's deleted file, whose mtime is unknown now but
        was not past the clock when set. A file written with fsync was settled before its sync.
        """
        if self._fsync:
            if self._deletion_record_missing:
                self._deletion_record_missing = False
                self._deleted_before(opened, mtime)  # starts a missing record, under the lock
            return mtime
        if self._deleted_before(opened, mtime):
            return mtime
        return self._stamp(fd, temp, None if opened is None else opened.fd, st, time.time_ns())

    def _link_if_new(self, temp: str, target: str, dir_fd: int | None) -> bool:
        """Link the written file in as the key's file (under the lock) if the key has none.

        A plain write of a new key costs one ``link`` this way instead of a lookup and a
        ``rename`` (the link fails if the name exists, so it is its own check). True if linked;
        False if the key has a file (the store is overwriting: later writes look first) or
        this file system keeps no hard links (this store stops trying).
        """
        try:
            os.link(temp, target, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            return True
        except FileExistsError:
            self._link_new_keys = False
        except OSError:
            self._hard_links = self._link_new_keys = False  # e.g. EPERM on FAT: rename instead
        return False

    def _create(self, temp: str, target: str, dir_fd: int | None, *, locked: bool) -> bool:
        """Move the written file in as the key's file if the key has none; False if it has one.

        With hard links the ``link`` is the check, atomic even against writers that do not
        lock. Without them (e.g. FAT) the file is renamed in: atomic among writers that lock
        (``locked``: the caller checked under the lock), best effort otherwise.
        """
        if self._hard_links:
            linked = self._link_if_new(temp, target, dir_fd)
            if linked or self._hard_links:  # linked, or the name was taken
                os.unlink(temp, dir_fd=dir_fd)
                return linked
        if not locked and _lstat_or_none(target, dir_fd) is not None:
            os.unlink(temp, dir_fd=dir_fd)
            return False
        os.replace(temp, target, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        return True

    def _deleted_before(self, opened: _OpenDir | None, mtime: int, *, locked: bool = True) -> bool:
        """Tell whether every file ever deleted from the directory is older than ``mtime``.

        Locked deletes keep the directory's deletion record (an extended attribute) at or past
        the time of each of them, and a deleted file's mtime was never past its deletion. So a
        new file whose own mtime is past the record cannot repeat the ETag of a deleted version
        of its key, even in that version's reused inode, and needs no clock stamp. Deletes write
        the record before they unlink, so the record may be read without the lock once the new
        file exists (``locked=False``): a file deleted later had an inode other than the new
        file's, which was in use. Without a record (a folder made by another tool, or an
        earlier version of this one) the answer is no, and a record is started under the lock
        (a folder's earlier deletions were all before now; without the lock, the next locked
        check starts it). False wherever extended attributes are not available (then every
        new key is stamped).
        """
        if opened is None or not self._deletion_records:
            return False
        try:
            return int(os.getxattr(opened.fd, _DELETION_RECORD)) < mtime
        except ValueError:
            return False  # not a record of ours: stamp
        except OSError as exc:
            if exc.errno != errno.ENODATA:
                self._deletion_records = False  # e.g. ENOTSUP: this file system keeps none
            elif locked:
                self._start_deletion_record(opened)
            else:
                self._deletion_record_missing = True  # some folder has none: start it when locked
            return False

    def _record_deletion(self, opened: _OpenDir | None) -> None:
        """Note in the directory's deletion record (under its lock) that a file left it now.

        The record only grows. A delete that finds it past the clock writes nothing; one that
        finds it behind (or absent) sets it a little ahead, so the deletes of the next moment
        in the folder only read it. The cost is that new keys made in the folder before the
        record's time are stamped.
        """
        if opened is None or not self._deletion_records:
            return
        now = time.time_ns()
        try:
            try:
                if int(os.getxattr(opened.fd, _DELETION_RECORD)) > now:
                    return
            except ValueError:
                pass  # not a record of ours: replaced
            except OSError as exc:
                if exc.errno != errno.ENODATA:
                    raise
            os.setxattr(opened.fd, _DELETION_RECORD, str(now + _DELETION_RECORD_AHEAD_NS).encode())
        except OSError:
            # No record can be kept here: this store stamps new keys from now on, and a record
            # left from before, now stale, is removed, so that other writers start a new one.
            self._deletion_records = False
            try:
                os.removexattr(opened.fd, _DELETION_RECORD)
            except OSError:
                pass

    def _start_deletion_record(self, opened: _OpenDir) -> None:
        """Start the record of a folder that has none: its earlier deletions were all before now."""
        try:
            os.setxattr(opened.fd, _DELETION_RECORD, str(time.time_ns()).encode())
        except OSError:
            self._deletion_records = False  # none can be kept here: every new key is stamped

    def _stamp(
        self, fd: int, temp: str, dir_fd: int | None, st: os.stat_result, mtime: int, at_least: bool = False
    ) -> int:
        """Set the new file's modification time to ``mtime``; return the one it now has.

        Writers keep each key's mtime strictly increasing (checked under the lock), so its
        ETag (``mtime_ns:size:inode``) never repeats, even for equal sizes and a reused inode.
        With ``at_least``, a file system that keeps coarser timestamps gets the next value it
        can represent that is not below ``mtime``. ``st`` is the file's stat before the change.
        """
        exact = st.st_dev in self._exact_mtime_devs
        for step in (0, *_MTIME_STEPS) if at_least and not exact else (0,):
            stamp = mtime + step
            if _UTIME_FD:
                os.utime(fd, ns=(stamp, stamp))
            else:
                os.utime(temp, ns=(stamp, stamp), dir_fd=dir_fd)
            if exact:
                return stamp  # this file system keeps nanoseconds: no need to read it back
            kept = os.fstat(fd).st_mtime_ns
            if kept == stamp and stamp % 2 and stamp % 5:
                # Kept exactly a value no coarser granularity (a divisor of a second) could
                # represent: the file system keeps nanoseconds (per device, learned once).
                self._exact_mtime_devs.add(st.st_dev)
            if kept >= mtime:
                return kept
        return kept

    def _lock(self, directory: str, opened: _OpenDir | None = None) -> _Held:
        """Take the exclusive lock of ``directory``; return what holds it (for `_unlock`).

        The lock is on the directory itself (``flock``), so it depends only on where the
        key's file lives: sub-dicts and other processes opening the same tree contend on it,
        and no lock file is left behind. With the directory kept open (``opened``), its
        descriptor is locked, after the in-process lock that keeps this process's threads
        from each other (they share the descriptor, and a flock belongs to it); otherwise each
        call opens its own descriptor. Where directories cannot be locked (Windows, NFS), a
        lock file in the directory is locked instead; those locks belong to the process, so
        threads first take an in-process lock chosen by the directory's real path.
        """
        if opened is not None and not self._lock_files:
            opened.thread_lock.acquire()
            try:
                fcntl.flock(opened.fd, fcntl.LOCK_EX)
                return opened.held
            except OSError as exc:
                opened.thread_lock.release()
                if exc.errno not in _DIR_LOCK_UNSUPPORTED:
                    raise
                self._lock_files = True
            except BaseException:
                opened.thread_lock.release()
                raise
        if not self._lock_files:
            fd = os.open(directory, _DIR_FLAGS)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                return _Held(fd, None)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in _DIR_LOCK_UNSUPPORTED:
                    raise
                self._lock_files = True
        thread_lock = self._thread_lock(directory)
        thread_lock.acquire()
        try:
            fd = os.open(os.path.join(directory, _LOCK_FILE), _LOCK_FILE_FLAGS, 0o666)
            try:
                if sys.platform == "win32":
                    while True:
                        try:
                            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                            break
                        except OSError:
                            continue  # LK_LOCK gives up after 10 s; keep waiting as flock does
                else:
                    fcntl.lockf(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
        except BaseException:
            thread_lock.release()
            raise
        return _Held(fd, thread_lock)

    def _thread_lock(self, directory: str) -> threading.Lock:
        stripe = self._stripes.get(directory)
        if stripe is None:
            stripe = hash(os.path.realpath(directory)) % len(_THREAD_LOCKS)
            if len(self._stripes) < _MAX_VERIFIED_DIRS:
                self._stripes[directory] = stripe
        return _THREAD_LOCKS[stripe]

    def _unlock(self, held: _Held, directory: str, sync: bool) -> None:
        """Release the lock taken by `_lock` (syncing the directory first if ``sync``)."""
        fd, thread_lock, kept = held
        if kept:
            assert thread_lock is not None  # a kept descriptor is always locked with its thread lock
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                thread_lock.release()
            if sync:
                try:
                    os.fsync(fd)  # still open: the caller holds its directory until it is done
                except OSError:
                    pass
            return
        try:
            if thread_lock is None:
                # The descriptor is the directory's own: release first, then sync through it.
                if sync:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    try:
                        os.fsync(fd)
                    except OSError:
                        pass
                return
            if sys.platform == "win32":
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        finally:
            os.close(fd)
            if thread_lock is not None:
                thread_lock.release()
        if sync:
            self._fsync_dir(directory)

    def _open_temp(
        self, directory: str, path: str, key: NonEmptySafeStrTuple
    ) -> tuple[_OpenDir | None, str, int]:
        """Create the temporary file of a write: ``(open directory, name, descriptor)``.

        With directories kept open (every system but Windows), the name is relative to the
        open directory, and the file lives in that directory for sure: a directory removed
        meanwhile (by ``clear()`` elsewhere) refuses new files, and is opened anew. Otherwise
        the open directory is None and the name a full path.
        """
        # Cut the file's name so that the temporary name fits in a directory entry too.
        stem = f"{_TEMP_PREFIX}{path.rpartition(os.sep)[2][: _NAME_MAX - _TEMP_EXTRA]}."
        fresh = False
        for _ in range(4):
            temp = f"{stem}{_temp_tag(fresh)}{_TEMP_SUFFIX}"
            if directory not in self._verified_dirs:
                self._ensure_dir(directory, key)
            opened = None
            try:
                if _DIR_HANDLES:
                    opened = _open_dirs.acquire(directory)
                    return opened, temp, os.open(temp, _WRITE_FLAGS, 0o666, dir_fd=opened.fd)
                temp = os.path.join(directory, temp)
                return None, temp, os.open(temp, _WRITE_FLAGS, 0o666)  # 0666 minus the umask
            except FileNotFoundError:
                # Another process removed the (empty) directory: create it again.
                self._verified_dirs.discard(directory)
                if opened is not None:
                    _open_dirs.discard(opened)
            except FileExistsError:
                fresh = True  # a name in use (e.g. left by a crashed process): draw a random one
            except OSError as exc:
                if opened is not None:
                    _open_dirs.release(opened)
                raise _os_error(exc, "open", os.path.join(directory, os.path.basename(temp)), key) from exc
            if opened is not None:
                _open_dirs.release(opened)
        vanished = FileNotFoundError(errno.ENOENT, "the directory keeps disappearing", directory)
        raise _os_error(vanished, "mkdir", directory, key)

    @staticmethod
    def _fsync_dir(directory: str, dir_fd: int | None = None) -> None:
        """Sync ``directory`` (through ``dir_fd``, the directory kept open, if given)."""
        if dir_fd is not None:
            try:
                os.fsync(dir_fd)
            except OSError:
                pass
            return
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
                    if self._locking:
                        if self._unlink_locked(self._base_dir, path, None):
                            return
                    else:
                        os.unlink(path)
                        return
                except (OSError, BackendError):
                    pass
        k = NonEmptySafeStrTuple(key)
        if self._append_only:
            raise self._refuse_mutation(k, "delete")
        if not self.delete_entry(k):
            raise KeyError(k)

    def __getitem__(self, key: Any) -> Any:
        """Return the value of ``key``; KeyError if absent."""
        if not self._plain_reads:  # a subclass reads its own way, through read_entry
            return super().__getitem__(key)
        # A known top-level str key (so a valid one) maps straight to its file, skipping key
        # construction and path lookup (as in __contains__).
        path = self._top_level_paths.get(key) if type(key) is str else None
        if path is None:
            k = _key(key)
            path = self._entry_path(k)
        else:
            k = NonEmptySafeStrTuple.from_trusted_strings((key,))
        # The value without its ETag: no fstat, for a small file (see _read_value).
        return self._checked_read_value(k, self._read_value(path, k))

    def __contains__(self, key: object) -> bool:
        """Return True if ``key`` is present (False for what can never be a key, as in `PersiDict`)."""
        if type(key) is str:
            # The fast path of __delitem__: a known top-level str key needs no key construction.
            path = self._top_level_paths.get(key)
            if path is not None:
                try:
                    return stat.S_ISREG(os.lstat(path).st_mode)
                except OSError:
                    pass  # the general path answers (or raises) as usual
        k = _key_or_none(key)
        return k is not None and self.has_entry(k)

    def delete_entry(self, key: NonEmptySafeStrTuple) -> bool:
        # The cached path inline: a method call is ~10% of the Python cost of a delete.
        directory, path = self._paths.get(key) or self._file_path(key)
        if len(key) > 1 and not self._is_inside(directory):
            return False
        return self._unlink(key, directory, path, None)

    def delete_entry_if_etag(self, key: NonEmptySafeStrTuple, expected_etag: ETagValue) -> bool:
        directory, path = self._file_path(key)
        if len(key) > 1 and not self._is_inside(directory):
            return False
        return self._unlink(key, directory, path, expected_etag)

    def _unlink(self, key: NonEmptySafeStrTuple, directory: str, path: str, expected: str | None) -> bool:
        """Delete a key's file (only if its ETag is ``expected``, when given); False if not."""
        try:
            if self._locking:
                return self._unlink_locked(directory, path, expected)
            if expected is not None:
                st = _lstat_or_none(path)
                if st is None or not stat.S_ISREG(st.st_mode) or _etag_of(st) != expected:
                    return False
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return False
        except PermissionError as exc:
            if os.path.isdir(path):  # EPERM for a directory on some systems
                return False
            raise _os_error(exc, "unlink", path, key) from exc
        except OSError as exc:
            raise _os_error(exc, "unlink", path, key) from exc
        return True

    def _unlink_locked(self, directory: str, path: str, expected: str | None) -> bool:
        """`_unlink` under the directory's lock (OSErrors propagate; a missing directory is False)."""
        locked = self._lock_for_delete(directory)
        if locked is None:
            return False
        opened, held = locked
        try:
            # Relative to the locked directory: the file looked at is the one in the directory
            # that is locked, even if the path named another directory meanwhile.
            name, dir_fd = (path, None) if opened is None else (path.rpartition(os.sep)[2], opened.fd)
            if expected is not None:
                st = _lstat_or_none(name, dir_fd)
                if st is None or not stat.S_ISREG(st.st_mode) or _etag_of(st) != expected:
                    return False
            # Recorded before the unlink: a writer that reads the record without the lock
            # (see `_deleted_before`) must see every deletion that freed an inode it may get.
            self._record_deletion(opened)
            os.unlink(name, dir_fd=dir_fd)
            return True
        finally:
            self._unlock_after_delete(opened, held, directory)

    def _lock_for_delete(self, directory: str) -> tuple[_OpenDir | None, _Held] | None:
        """Lock ``directory`` for deletes: ``(open directory, lock held)``, None if it is absent.

        A directory kept open may have been removed since (``clear()`` removes emptied
        folders): under the lock, a removed directory has no links left, and is opened anew.
        """
        for _ in range(3):
            opened = None
            try:
                if _DIR_HANDLES:
                    opened = _open_dirs.acquire(directory)
                held = self._lock(directory, opened)
            except (FileNotFoundError, NotADirectoryError):
                if opened is not None:
                    _open_dirs.release(opened)
                return None
            except BaseException:
                if opened is not None:
                    _open_dirs.release(opened)
                raise
            if opened is None:
                return None, held
            try:
                removed = os.fstat(opened.fd).st_nlink == 0
            except BaseException:
                self._unlock_after_delete(opened, held, directory)
                raise
            if not removed:
                return opened, held
            _open_dirs.discard(opened)
            self._unlock_after_delete(opened, held, directory)
        return None  # removed again and again: nothing to delete there

    def _unlock_after_delete(self, opened: _OpenDir | None, held: _Held, directory: str) -> None:
        try:
            self._unlock(held, directory, sync=False)
        finally:
            if opened is not None:
                _open_dirs.release(opened)

    def _stat(self, key: NonEmptySafeStrTuple) -> os.stat_result:
        directory, path = self._file_path(key)
        if len(key) > 1 and not self._is_inside(directory):
            raise KeyError(key)
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise KeyError(key) from None
        except OSError as exc:
            raise _os_error(exc, "lstat", path, key) from exc
        if not stat.S_ISREG(st.st_mode):
            raise KeyError(key)
        return st

    def has_entry(self, key: NonEmptySafeStrTuple) -> bool:
        directory, path = self._file_path(key)
        if len(key) > 1 and not self._is_inside(directory):
            return False
        try:
            return stat.S_ISREG(os.lstat(path).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise _os_error(exc, "lstat", path, key) from exc

    def entry_timestamp(self, key: NonEmptySafeStrTuple) -> float:
        return self._stat(key).st_mtime_ns / 1e9

    def entry_etag(self, key: NonEmptySafeStrTuple) -> str:
        return _etag_of(self._stat(key))

    # ----------------------------------------------------------------- listing
    def _scan(self, with_entries: bool) -> Iterator[Any]:
        """Yield every key (or ``(key, entry)`` pairs), in directory-listing order.

        Skips temporary and foreign files, symlinks, and directories that vanish meanwhile.
        This loop is the cost of iterations, ``keys()`` and listings, so it works a folder at a
        time (see `_new_elements`).
        """
        known = self._valid_names
        make_key = NonEmptySafeStrTuple.from_trusted_strings
        decode = self._decode_name
        stack: list[tuple[str, tuple[str, ...]]] = [(self._base_dir, ())]
        while stack:
            directory, prefix = stack.pop()
            listed = _list_folder(directory)
            if listed is None:
                continue
            files, dirs = listed
            names = [entry.name for entry in files]
            unknown = [name for name in names if name not in known]
            fresh, _, remembered = self._new_elements(unknown)
            if not remembered and len(unknown) < len(names):
                fresh.update({name: known[name] for name in names if name in known})
            lookup = known.get if remembered else fresh.get
            for entry in files:
                element = lookup(entry.name)
                if element is not None:
                    key = make_key((*prefix, element) if prefix else (element,))
                    yield (key, entry) if with_entries else key
            for entry in dirs:
                element = decode(entry.name)
                if element is not None:
                    stack.append((entry.path, (*prefix, element)))

    def _new_elements(self, names: list[str], *, elements: bool = True) -> tuple[dict[str, str], int, bool]:
        """Validate a folder's file names not seen before: ``(elements, count, remembered)``.

        ``elements`` maps each key file among ``names`` to its key element, ``count`` is how
        many there are, and ``remembered`` tells whether they were added to the bounded memory
        of validated names (while it has room). With ``digest_len=0`` one regular expression
        checks them all at C speed (one by one only if a foreign name is among them). A store
        larger than that memory costs a regex per folder on each listing, rather than a memory
        emptied and refilled every time; ``elements=False`` (counting) then builds no mapping.
        """
        if not names:
            return {}, 0, True
        extension = self._extension
        cut = -len(extension)
        known = self._valid_names
        room = len(known) + len(names) <= known.max_size
        joined = "/".join(names) + "/"
        all_key_files = not self._digest_len and _key_files_matcher(extension)(joined)
        if all_key_files and not _os_name_in(extension, joined):
            if not room and not elements:
                return {}, len(names), False
            fresh = {name: name[:cut] for name in names}
        else:
            decode = self._decode_name
            fresh = {}
            for name in names:
                if name.endswith(extension):
                    element = None if is_os_name(name) else decode(name[:cut])
                    if element is not None:
                        fresh[name] = element
        if len(known) + len(fresh) <= known.max_size:
            known.update(fresh)
            return fresh, len(fresh), True
        return fresh, len(fresh), False

    def iter_entry_keys(self) -> Iterator[NonEmptySafeStrTuple]:
        return self._scan(with_entries=False)

    def count_entries(self) -> int:
        """Count the keys with the skip rules of `_scan`, building no key (``len`` is a walk).

        The per-entry work is done by C loops: a set intersection with the names already
        validated counts them, and a folder's new names are validated together (`_new_elements`).
        """
        known = self._valid_names
        known_names = known.keys()
        decode = self._decode_name
        count = 0
        stack = [self._base_dir]
        while stack:
            listed = _list_folder(stack.pop())
            if listed is None:
                continue
            file_entries, dirs = listed
            stack.extend(entry.path for entry in dirs if decode(entry.name) is not None)
            files = [entry.name for entry in file_entries]
            valid = len(known_names & files)
            if valid < len(files):
                unknown = [name for name in files if name not in known] if valid else files
                valid += self._new_elements(unknown, elements=False)[1]
            count += valid
        return count

    def iter_entries(
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
                    value = self._read_value(entry.path, key)
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
        from ._urls import file_url, format_store_url  # urllib.parse: not needed to import a store

        return format_store_url(file_url(self._base_dir), self._config, {"base_dir": self._base_dir})

    def clear_entries(self) -> None:
        """Delete every key file (the skip rules of `_scan`), then the folders left empty.

        Walks folder by folder, building no key: memory stays bounded by one folder's entries
        and the list of folders, whatever the number of keys. With locking, each folder's lock
        is taken once for all its files (writers of that folder wait, as for any delete).
        """
        decode = self._decode_name
        known = self._valid_names
        emptied = []
        stack = [self._base_dir]
        while stack:
            directory = stack.pop()
            listed = _list_folder(directory)
            if listed is None:
                continue
            file_entries, dirs = listed
            stack.extend(entry.path for entry in dirs if decode(entry.name) is not None)
            names = [entry.name for entry in file_entries]
            fresh = self._new_elements([name for name in names if name not in known])[0]
            doomed = [name for name in names if name in known or name in fresh]
            if doomed and self._delete_files(directory, doomed) and directory != self._base_dir:
                emptied.append(directory)
        # Remove the folders that are now empty, deepest first (never base_dir itself).
        for directory in sorted(emptied, key=len, reverse=True):
            while directory != self._base_dir and directory.startswith(self._base_dir):
                try:
                    os.rmdir(directory)
                except OSError:
                    break  # not empty: other formats or keys live here
                self._verified_dirs.discard(directory)
                directory = os.path.dirname(directory)

    def _delete_files(self, directory: str, names: list[str]) -> bool:
        """Delete the files ``names`` of ``directory`` (under its lock, once); True if any was."""
        opened: _OpenDir | None = None
        held = None
        if self._locking:
            try:
                locked = self._lock_for_delete(directory)
            except OSError as exc:
                raise _os_error(exc, "lock", directory) from exc
            if locked is None:
                return False
            opened, held = locked
        dir_fd = None if opened is None else opened.fd
        deleted = False
        try:
            if held is not None and names:
                self._record_deletion(opened)  # before the unlinks, as in `_unlink_locked`
            for name in names:
                try:
                    os.unlink(name if dir_fd is not None else os.path.join(directory, name), dir_fd=dir_fd)
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    raise _os_error(exc, "unlink", os.path.join(directory, name)) from exc
                deleted = True
        finally:
            if held is not None:
                self._unlock_after_delete(opened, held, directory)
        return deleted

    def subdict_at(self, prefix: SafeStrTuple) -> FileDirDict:
        directory = self._dir_path(prefix, len(prefix))
        self._ensure_dir(directory, NonEmptySafeStrTuple(prefix))
        params = {**self._config.model_dump(exclude={"kind"}), "base_dir": directory}
        return type(self)(**params)

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
