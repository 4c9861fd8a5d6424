"""The example backend of the guide's "Writing a backend" page, run through the conformance suite.

The page includes the section between the markers below, so the code a reader copies is the
code tested here. It uses only what a third-party package can use: public names of
persidict_core and persidict_safestr, and the shipped conformance suite.
"""

from __future__ import annotations

# --8<-- [start:example]
import itertools
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, Literal

import pytest

from persidict_core import (
    ITEM_NOT_AVAILABLE,
    ETagIfExists,
    ETagValue,
    ItemNotAvailableFlag,
    MutationPolicyError,
    PersiDict,
    StoreConfig,
    deserialize,
    serialize,
)
from persidict_core.testing import PersiDictConformance, StoreFactory
from persidict_safestr import NonEmptySafeStrTuple, SafeStrTuple

# Named spaces of this process: {space: {full key: (stored bytes, timestamp, etag)}}. A store
# is a view of one space under a key prefix, so its config alone (JSON, a pickle) reopens it.
_Entry = tuple[bytes, float, str]
_SPACES: dict[str, dict[tuple[str, ...], _Entry]] = {}
_LOCK = threading.Lock()  # every mutation holds it: the conditional primitives are atomic
_ETAGS = itertools.count()  # one counter for all spaces: two writes never share an ETag


class BytesDictConfig(StoreConfig):
    """Configuration of a `BytesDict`: the space and the key prefix it works under."""

    kind: Literal["bytes_dict"] = "bytes_dict"  # registers the kind when the store class is made
    space: str = "default"
    key_prefix: tuple[str, ...] = ()


class BytesDict(PersiDict):
    """A store over a plain dict of bytes: values are serialized as files and S3 objects are."""

    config_class: ClassVar[type[StoreConfig]] = BytesDictConfig
    atomic_conditional_writes: ClassVar[bool] = True
    strong_etags: ClassVar[bool] = True

    def __init__(
        self,
        space: str = "default",
        key_prefix: Sequence[str] = (),
        serialization_format: str = "pkl",
        append_only: bool = False,
        base_class_for_values: type | None = None,
        **other_params: Any,
    ) -> None:
        config = self.make_config(
            dict(
                space=space,
                key_prefix=tuple(key_prefix),
                serialization_format=serialization_format,
                append_only=append_only,
                base_class_for_values=base_class_for_values,
                **other_params,
            )
        )
        super().__init__(config)
        assert isinstance(config, BytesDictConfig)
        self._prefix = config.key_prefix
        with _LOCK:
            self._items = _SPACES.setdefault(f"{config.space}.{config.serialization_format}", {})

    def _full(self, key: NonEmptySafeStrTuple) -> tuple[str, ...]:
        return (*self._prefix, *key)

    def _encode(self, key: NonEmptySafeStrTuple, value: Any) -> bytes:
        return serialize(value, self.serialization_format, context=f"key {tuple(key)!r}")

    def _entry(self, key: NonEmptySafeStrTuple) -> _Entry:
        try:
            return self._items[self._full(key)]
        except KeyError:
            raise KeyError(key) from None

    # ---- the abstract methods of the contract
    def read_entry(self, key: NonEmptySafeStrTuple) -> tuple[Any, str | None]:
        data, _, etag = self._entry(key)
        return deserialize(data, self.serialization_format, context=f"key {tuple(key)!r}"), etag

    def write_entry(self, key: NonEmptySafeStrTuple, value: Any, *, only_if_absent: bool = False) -> str:
        data = self._encode(key, value)  # before taking the lock: encoding may be slow
        with _LOCK:
            if only_if_absent and self._full(key) in self._items:
                raise MutationPolicyError(self.mutation_policy, key=key, operation="overwrite")
            etag = str(next(_ETAGS))
            self._items[self._full(key)] = (data, time.time(), etag)
        return etag

    def delete_entry(self, key: NonEmptySafeStrTuple) -> bool:
        with _LOCK:
            return self._items.pop(self._full(key), None) is not None

    def has_entry(self, key: NonEmptySafeStrTuple) -> bool:
        return self._full(key) in self._items

    def entry_timestamp(self, key: NonEmptySafeStrTuple) -> float:
        return self._entry(key)[1]

    def entry_etag(self, key: NonEmptySafeStrTuple) -> str | None:
        return self._entry(key)[2]

    def iter_entries(
        self, with_values: bool, with_timestamps: bool
    ) -> Iterator[tuple[NonEmptySafeStrTuple, Any, float | None]]:
        depth = len(self._prefix)
        with _LOCK:  # a snapshot: writers may go on while the caller iterates
            listed = [
                (full, entry)
                for full, entry in self._items.items()
                if len(full) > depth and full[:depth] == self._prefix  # the prefix itself is no key here
            ]
        for full, (data, timestamp, _) in listed:
            # Names this store wrote from valid keys: no validation needed.
            key = NonEmptySafeStrTuple.from_trusted_strings(full[depth:])
            value = deserialize(data, self.serialization_format, context=repr(key)) if with_values else None
            yield key, value, timestamp if with_timestamps else None

    def subdict_at(self, prefix: SafeStrTuple) -> BytesDict:
        params = self.config.model_dump(exclude={"kind"})
        params["key_prefix"] = (*self._prefix, *prefix)
        return type(self)(**params)

    # ---- atomic conditional primitives (the defaults would check, then act)
    def write_entry_if_etag(
        self, key: NonEmptySafeStrTuple, value: Any, expected_etag: ETagValue | ItemNotAvailableFlag
    ) -> ETagIfExists | None:
        data = self._encode(key, value)
        with _LOCK:
            entry = self._items.get(self._full(key))
            if (entry[2] if entry is not None else ITEM_NOT_AVAILABLE) != expected_etag:
                return None  # the condition does not hold: nothing is written
            etag = str(next(_ETAGS))
            self._items[self._full(key)] = (data, time.time(), etag)
        return etag

    def delete_entry_if_etag(self, key: NonEmptySafeStrTuple, expected_etag: ETagValue) -> bool:
        with _LOCK:
            entry = self._items.get(self._full(key))
            if entry is None or entry[2] != expected_etag:
                return False
            del self._items[self._full(key)]
        return True


class TestBytesDict(PersiDictConformance):
    """The whole conformance suite, as a third-party backend runs it."""

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        spaces = itertools.count()

        def factory(**params: Any) -> PersiDict:
            return BytesDict(space=f"test-{id(self)}-{next(spaces)}", **params)

        return factory


# --8<-- [end:example]


class TestBytesDictSubdict(TestBytesDict):
    """A sub-dict of the example store behaves like a whole store."""

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        spaces = itertools.count()

        def factory(**params: Any) -> PersiDict:
            return BytesDict(space=f"sub-{id(self)}-{next(spaces)}", **params).get_subdict(("outer", "s"))

        return factory


def test_the_example_is_opened_by_its_kind() -> None:
    from persidict_core import store_from_config

    store = BytesDict(space="by-kind", serialization_format="json")
    store["k"] = {"a": 1}
    reopened = store_from_config(store.config.model_dump_json())
    assert type(reopened) is BytesDict
    assert reopened["k"] == {"a": 1}
