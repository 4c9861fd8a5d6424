"""The exceptions raised by persidict stores.

Every error is a `PersiDictError` and also a builtin exception, so code that catches the
builtin (as code written for `dict` or for the original persidict does) keeps working::

    PersiDictError(Exception)
    ├── MutationPolicyError(KeyError, TypeError)   forbidden overwrite or delete (append-only)
    ├── ConcurrencyConflictError(RuntimeError)     a conditional write lost a race
    ├── BackendError(RuntimeError)                 the storage failed; the cause is attached
    ├── MissingBackendError(ImportError)           an optional distribution is not installed
    ├── SerializationError(TypeError, ValueError)  a value cannot be stored in the format
    ├── DeserializationError(ValueError)           a stored value cannot be decoded (corrupt)
    └── ConsistencyCheckError(ValueError)          a write-once key was rewritten differently

A missing key is a plain `KeyError` naming the key, from every method of every store.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "ConcurrencyConflictError",
    "ConsistencyCheckError",
    "DeserializationError",
    "MissingBackendError",
    "MutationPolicyError",
    "PersiDictError",
    "SerializationError",
]


class PersiDictError(Exception):
    """Base class of every exception raised by persidict itself."""


class MutationPolicyError(PersiDictError, KeyError, TypeError):
    """A write or delete that the store's policy forbids (e.g. overwriting an append-only key).

    It is a `KeyError` (what the original persidict raised) and a `TypeError` (what its later
    versions raise), so either ``except`` clause catches it.
    """

    def __str__(self) -> str:
        # KeyError.__str__ shows the repr of its argument; a policy error reads better as text.
        return str(self.args[0]) if self.args else ""


class ConcurrencyConflictError(PersiDictError, RuntimeError):
    """A read-modify-write lost every race against other writers; retrying later may succeed.

    Raised by `PersiDict.transform_item` when all its attempts found the key changed between
    reading it and writing it back.

    Attributes:
        key: The key that was being updated.
        attempts: How many attempts were made (each lost its race).
    """

    def __init__(self, key: object, attempts: int) -> None:
        super().__init__(key, attempts)  # both in args, so the error pickles and copies
        self.key = key
        self.attempts = attempts

    def __str__(self) -> str:
        key = tuple(self.key) if isinstance(self.key, tuple) else self.key
        return (
            f"Key {key!r} was changed by another writer during each of {self.attempts} "
            "read-modify-write attempts"
        )


class BackendError(PersiDictError, RuntimeError):
    """The storage backend failed (I/O error, S3 error, ...); ``__cause__`` holds the original."""


class MissingBackendError(PersiDictError, ImportError):
    """An optional persidict distribution is needed but not installed; the message says which."""


class SerializationError(PersiDictError, TypeError, ValueError):
    """A value cannot be written in the store's serialization format; nothing was written."""


class DeserializationError(PersiDictError, ValueError):
    """A stored value cannot be decoded (truncated, garbled or foreign data)."""


class ConsistencyCheckError(PersiDictError, ValueError):
    """A write-once key was written again with a value that differs from the stored one."""
