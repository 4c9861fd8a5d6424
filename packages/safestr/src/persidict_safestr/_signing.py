"""Signing of key elements for case-insensitive file systems.

On such file systems ``"abc"`` and ``"Abc"`` would name the same file. Signing appends
``"_" + lowercase(base32(md5(element)))[:digest_len]`` to each element, a digest of the
case-preserving element, so case variants get different names. Signing is applied exactly
once: :func:`sign_safe_str` always appends a suffix and :func:`unsign_safe_str` removes exactly
one suffix it can verify, so two different keys never share a name.
"""

from __future__ import annotations

import functools

from ._safe_chars import _FORBIDDEN_ELEMENTS, SAFE_STRING_MAX_LENGTH, _short_repr
from ._safe_str_tuple import NonEmptySafeStrTuple, SafeStrTuple

_B32_LENGTH = 32  # base32 of the 16 bytes of an MD5 digest, padding included


def _check_digest_len(digest_len: object) -> int:
    """Return ``digest_len`` if it is a non-negative int; raise TypeError or ValueError otherwise."""
    if not isinstance(digest_len, int) or isinstance(digest_len, bool):
        raise TypeError(f"digest_len must be an int, not {type(digest_len).__name__}")
    if digest_len < 0:
        raise ValueError(f"digest_len must be >= 0, got {digest_len}")
    return digest_len


@functools.lru_cache(maxsize=16384)
def _suffix(s: str, digest_len: int) -> str:
    """Return ``"_" + lowercase(base32(md5(s)))[:digest_len]`` (cached: stores sign the same names)."""
    # Imported here, not with the module: hashlib loads OpenSSL, a cost every import would pay
    # while most stores never sign (digest_len=0).
    import base64
    import hashlib

    digest = hashlib.md5(s.encode("utf-8"), usedforsecurity=False).digest()
    return "_" + base64.b32encode(digest).decode("ascii")[:digest_len].lower()


def _suffix_length(digest_len: int) -> int:
    return 1 + min(digest_len, _B32_LENGTH)


def sign_safe_str(s: str, digest_len: int) -> str:
    """Append the signature suffix to one key element.

    Args:
        s: A non-empty string (normally a key element).
        digest_len: How many base32 characters of the digest to append; 0 changes nothing.

    Returns:
        ``s + "_" + lowercase(base32(md5(s)))[:digest_len]``, e.g. ``sign_safe_str("abc", 4)``
        is ``"abc_saav"``. A suffix is always appended, even to a string that looks signed.

    Raises:
        TypeError: ``s`` is not a str, or ``digest_len`` is not an int.
        ValueError: ``digest_len`` is negative, ``s`` is empty, or the signed string would
            reach ``SAFE_STRING_MAX_LENGTH``.
    """
    digest_len = _check_digest_len(digest_len)
    if not isinstance(s, str):
        raise TypeError(f"a key element must be a str, not {type(s).__name__}")
    if not s:
        raise ValueError("cannot sign an empty string: a key element must be non-empty")
    if digest_len == 0:
        return s
    signed = s + _suffix(s, digest_len)
    if len(signed) >= SAFE_STRING_MAX_LENGTH:
        raise ValueError(
            f"Invalid key element {_short_repr(s)}: signed with digest_len={digest_len} it has "
            f"{len(signed)} characters; a key element must be shorter than {SAFE_STRING_MAX_LENGTH} "
            "characters, so use a shorter element or a smaller digest_len"
        )
    return signed


def unsign_safe_str(s: str, digest_len: int) -> str | None:
    """Remove one signature suffix from ``s`` if it carries a valid one.

    Args:
        s: A (possibly) signed string.
        digest_len: The digest length the string was signed with.

    Returns:
        ``s`` without its suffix when ``s`` ends with the suffix of what precedes it (and that
        part is non-empty); ``s`` unchanged when ``digest_len`` is 0; ``None`` when ``s`` does not
        carry a valid suffix (stores use this to skip files they did not write). The result is
        not checked further: callers that need a key element test it with ``is_safe_str_element``.

    Raises:
        TypeError: ``s`` is not a str, or ``digest_len`` is not an int.
        ValueError: ``digest_len`` is negative.
    """
    digest_len = _check_digest_len(digest_len)
    if not isinstance(s, str):
        raise TypeError(f"a key element must be a str, not {type(s).__name__}")
    if digest_len == 0:
        return s
    cut = _suffix_length(digest_len)
    if len(s) <= cut:
        return None
    base = s[:-cut]
    if s[-cut:] != _suffix(base, digest_len):
        return None
    return base


def _result_class(key: SafeStrTuple) -> type[SafeStrTuple]:
    return NonEmptySafeStrTuple if isinstance(key, NonEmptySafeStrTuple) else SafeStrTuple


def sign_safe_str_tuple(key: object, digest_len: int) -> SafeStrTuple:
    """Sign every element of a key (see :func:`sign_safe_str`).

    Args:
        key: Anything ``SafeStrTuple`` accepts (a str, a sequence of str, a SafeStrTuple).
        digest_len: How many digest characters to append to each element; 0 changes nothing.

    Returns:
        The signed key; a ``NonEmptySafeStrTuple`` when ``key`` is one, else a ``SafeStrTuple``.

    Raises:
        TypeError: ``digest_len`` is not an int, or ``key`` is not a valid key type.
        ValueError: ``digest_len`` is negative, ``key`` holds an invalid element, or a signed
            element would reach ``SAFE_STRING_MAX_LENGTH``.
    """
    digest_len = _check_digest_len(digest_len)
    safe_key = key if isinstance(key, SafeStrTuple) else SafeStrTuple(key)
    if digest_len == 0:
        return safe_key
    return _result_class(safe_key).from_trusted_strings(
        tuple(sign_safe_str(element, digest_len) for element in safe_key)
    )


def unsign_safe_str_tuple(key: object, digest_len: int) -> SafeStrTuple:
    """Remove the signature suffix from every element of a key that carries a valid one.

    An element without a verifiable suffix is left unchanged, and so is one whose unsigned form
    would be ``"."`` or ``".."``. ``unsign_safe_str_tuple(sign_safe_str_tuple(k, n), n) == k``
    for every key ``k`` and every ``n``.

    Args:
        key: Anything ``SafeStrTuple`` accepts (a str, a sequence of str, a SafeStrTuple).
        digest_len: The digest length the key was signed with; 0 changes nothing.

    Returns:
        The unsigned key; a ``NonEmptySafeStrTuple`` when ``key`` is one, else a ``SafeStrTuple``.

    Raises:
        TypeError: ``digest_len`` is not an int, or ``key`` is not a valid key type.
        ValueError: ``digest_len`` is negative, or ``key`` holds an invalid element.
    """
    digest_len = _check_digest_len(digest_len)
    safe_key = key if isinstance(key, SafeStrTuple) else SafeStrTuple(key)
    if digest_len == 0:
        return safe_key
    elements = []
    for element in safe_key:
        base = unsign_safe_str(element, digest_len)
        elements.append(element if base is None or base in _FORBIDDEN_ELEMENTS else base)
    return _result_class(safe_key).from_trusted_strings(tuple(elements))
