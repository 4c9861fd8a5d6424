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

The errors carry their facts as attributes, so code can react without parsing messages:

* `MutationPolicyError`: ``policy`` (``"append-only"``, ``"write-once"``), ``key`` (None
  for whole-store operations such as ``clear``) and ``operation`` (``"overwrite"``,
  ``"delete"``, ``"clear"``...);
* `BackendError`: ``backend`` (``"filesystem"``, ``"s3"``), ``operation`` (the failed call:
  ``"open"``, ``"unlink"``, ``"put_object"``, ``"head_bucket"``...) and ``key`` (or None);
* `SerializationError` and `DeserializationError`: ``key`` and ``location`` (the file path
  or ``s3://bucket/object``), None when the value was not bound to a stored item.
"""

from __future__ import annotations

import functools
from typing import Any

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

    Args:
        policy: The policy that forbids the mutation: ``"append-only"`` or ``"write-once"``.
        key: The key concerned, or None for an operation on the whole store.
        operation: What was refused (``"overwrite"``, ``"delete"``, ``"pop"``, ``"clear"``...),
            or None.

    Attributes:
        policy: As given.
        key: As given.
        operation: As given.
    """

    def __init__(self, policy: str = "append-only", *, key: Any = None, operation: str | None = None) -> None:
        # args is (policy,): the builtin pickling calls cls(*args) and then restores the
        # other attributes from __dict__.
        super().__init__(policy)
        self.policy = policy
        self.key = key
        self.operation = operation

    def __str__(self) -> str:
        # KeyError.__str__ shows the repr of its argument; a policy error reads better as text.
        action = self.operation or "change"
        target = f"key {tuple(self.key)!r}" if self.key is not None else "the store"
        if self.key is None and self.operation is None:
            return f"The {self.policy} policy of the store forbids this mutation"
        return f"Cannot {action} {target}: the store is {self.policy}"


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
    """The storage backend failed (I/O error, S3 error, ...); ``__cause__`` holds the original.

    Args:
        message: What failed and what to do about it.
        backend: ``"filesystem"`` or ``"s3"`` (another backend names itself).
        operation: The failed call (``"open"``, ``"rename"``, ``"put_object"``...).
        key: The key concerned, or None.

    Attributes:
        backend: As given.
        operation: As given.
        key: As given.
    """

    def __init__(self, message: str, *, backend: str, operation: str, key: Any = None) -> None:
        super().__init__(message)
        self.backend = backend
        self.operation = operation
        self.key = key

    def __reduce__(self) -> tuple[Any, ...]:
        # The keyword-only arguments are not in args: rebuild through the constructor.
        rebuild = functools.partial(
            type(self), self.args[0], backend=self.backend, operation=self.operation, key=self.key
        )
        return (rebuild, (), self.__dict__)


class MissingBackendError(PersiDictError, ImportError):
    """An optional persidict distribution is needed but not installed; the message says which."""


class _ItemError(PersiDictError):
    """An error about the value of one stored item: ``key`` and ``location`` name the item."""

    def __init__(self, message: str, *, key: Any = None, location: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.location = location


class SerializationError(_ItemError, TypeError, ValueError):
    """A value cannot be written in the store's serialization format; nothing was written.

    Attributes:
        key: The key being written (None when the value was serialized on its own).
        location: The file path or ``s3://bucket/object`` it was meant for (or None).
    """


class DeserializationError(_ItemError, ValueError):
    """A stored value cannot be decoded (truncated, garbled or foreign data).

    Attributes:
        key: The key whose value is unreadable (None when bytes were decoded on their own).
        location: The file path or ``s3://bucket/object`` read (or None).
    """


class ConsistencyCheckError(PersiDictError, ValueError):
    """A write-once key was written again with a value that differs from the stored one."""
