"""Names that operating systems, file managers and sync tools create inside folders.

They are never keys: a store's listing skips them, and a `FileDirDict` refuses a key whose
file or folder would have one of these names (so no real key is ever hidden). Compared
case-insensitively, because the systems that write them often have case-insensitive file
systems. Names starting with ``._`` (macOS AppleDouble files) are refused by the key type
itself. Everything else that is not ``<key element>.<format>`` (editor swap and backup
files, Office ``~$`` lock files, ``#...#`` autosaves, temporary files) is never a key anyway:
such names hold characters a key element cannot hold or lack the format's extension.
"""

from __future__ import annotations

from typing import Final

__all__ = ["OS_FILE_NAMES", "OS_NAME_PREFIXES", "is_os_name"]

OS_FILE_NAMES: Final[frozenset[str]] = frozenset(
    name.lower()
    for name in (
        # macOS
        ".DS_Store",
        ".localized",
        ".Trashes",
        ".Trash",
        ".Spotlight-V100",
        ".fseventsd",
        ".TemporaryItems",
        ".DocumentRevisions-V100",
        ".VolumeIcon.icns",
        ".apdisk",
        ".AppleDouble",
        ".AppleDB",
        ".AppleDesktop",
        "__MACOSX",
        # Windows
        "Thumbs.db",
        "ehthumbs.db",
        "ehthumbs_vista.db",
        "desktop.ini",
        # Linux desktops
        ".directory",
        # sync tools and file servers
        ".dropbox",
        ".dropbox.attr",
        ".dropbox.cache",
        ".stfolder",
        ".stversions",
        ".sync",
        ".snapshot",
        ".snapshots",
        ".zfs",
    )
)
"""Exact names (files or folders, lowercased) that are never keys."""

OS_NAME_PREFIXES: Final[tuple[str, ...]] = ("._", ".trash-")
"""Lowercased prefixes of names that are never keys (AppleDouble, per-user trash folders)."""


def is_os_name(name: str) -> bool:
    """Tell whether a file or folder name is one the system or a tool creates (never a key)."""
    folded = name.lower()
    return folded in OS_FILE_NAMES or folded.startswith(OS_NAME_PREFIXES)
