"""Hierarchical keys that are safe as file names and URL parts, usable on their own.

Public API (everything else lives in private modules):

- :class:`SafeStrTuple`, :class:`NonEmptySafeStrTuple`: immutable tuples of safe strings;
  the second is the key type of every persidict store.
- :data:`SAFE_CHARS`, :data:`SAFE_STRING_MAX_LENGTH`, :func:`get_safe_chars`,
  :func:`replace_unsafe_chars`, :func:`contains_unsafe_chars`, :func:`is_safe_str_element`:
  the safe character set and the validity test of one key element.
- :func:`sign_safe_str`, :func:`unsign_safe_str`, :func:`sign_safe_str_tuple`,
  :func:`unsign_safe_str_tuple`: digest suffixes for case-insensitive file systems.
- :class:`BoundedCache`, :class:`BoundedSet`: the bounded caches of key elements, names and
  paths (one rule: emptied when full), shared by every persidict package.
"""

from ._bounded import BoundedCache, BoundedSet
from ._safe_chars import (
    SAFE_CHARS,
    SAFE_STRING_MAX_LENGTH,
    contains_unsafe_chars,
    get_safe_chars,
    is_safe_str_element,
    replace_unsafe_chars,
)
from ._safe_str_tuple import NonEmptySafeStrTuple, SafeStrTuple
from ._signing import sign_safe_str, sign_safe_str_tuple, unsign_safe_str, unsign_safe_str_tuple
from ._version import __version__

__all__ = [
    "SAFE_CHARS",
    "SAFE_STRING_MAX_LENGTH",
    "BoundedCache",
    "BoundedSet",
    "NonEmptySafeStrTuple",
    "SafeStrTuple",
    "__version__",
    "contains_unsafe_chars",
    "get_safe_chars",
    "is_safe_str_element",
    "replace_unsafe_chars",
    "sign_safe_str",
    "sign_safe_str_tuple",
    "unsign_safe_str",
    "unsign_safe_str_tuple",
]
