"""The conformance suite: the behaviour every `PersiDict` must show."""

from __future__ import annotations

import copy
import pickle
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import pytest

from persidict_safestr import NonEmptySafeStrTuple, SafeStrTuple

from .._config import store_from_config
from .._errors import MutationPolicyError
from .._jokers import DELETE_CURRENT, ETAG_HAS_NOT_CHANGED, KEEP_CURRENT
from .._persidict import PersiDict

__all__ = ["PersiDictConformance", "StoreFactory"]


class StoreFactory(Protocol):
    """Builds a new, empty store at a fresh location."""

    def __call__(
        self,
        *,
        serialization_format: str = "pkl",
        append_only: bool = False,
        base_class_for_values: type | None = None,
    ) -> PersiDict: ...


class PersiDictConformance:
    """Behaviour shared by every store and wrapper.

    Subclass it in a test module and define a ``store_factory`` fixture returning a
    `StoreFactory`: each call builds an empty store at a fresh location with the given
    parameters. Class attributes describe what the store can do:

    * ``formats``: serialization formats to exercise;
    * ``timestamp_resolution``: seconds between writes needed for distinct timestamps;
    * ``serializes_values``: values go through a real format (not an in-memory copy);
    * ``config_reopens_data``: a store opened from the JSON config alone sees the data.
    """

    formats: ClassVar[tuple[str, ...]] = ("pkl", "json", "txt")
    timestamp_resolution: ClassVar[float] = 0.02
    serializes_values: ClassVar[bool] = True
    config_reopens_data: ClassVar[bool] = True

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        """Override in the subclass."""
        raise NotImplementedError("define a store_factory fixture in the subclass")

    @pytest.fixture
    def store(self, store_factory: StoreFactory) -> PersiDict:
        """An empty mutable pkl store."""
        return store_factory()

    # ------------------------------------------------------------- basics
    def test_empty_store(self, store: PersiDict) -> None:
        assert len(store) == 0
        assert list(store) == []
        assert list(store.keys()) == []
        assert "a" not in store
        assert store.get("a") is None
        assert store.get("a", 7) == 7
        assert store.random_key() is None
        assert store.oldest_keys() == []
        assert store.newest_values(3) == []
        assert store.subdicts() == {}
        with pytest.raises(KeyError, match="missing"):
            store["missing"]

    def test_set_get_with_every_key_form(self, store: PersiDict) -> None:
        store["a"] = 1
        store[("b", "c")] = 2
        store[["d", "e", "f"]] = 3
        store[SafeStrTuple("g")] = 4
        assert store["a"] == store[("a",)] == store[SafeStrTuple("a")] == 1
        assert store["b", "c"] == 2
        assert store[("d", "e", "f")] == 3
        assert store["g"] == 4
        keys = list(store.keys())
        assert all(type(key) is NonEmptySafeStrTuple for key in keys)
        assert set(keys) == {("a",), ("b", "c"), ("d", "e", "f"), ("g",)}
        assert len(store) == 4

    def test_overwrite_and_delete(self, store: PersiDict) -> None:
        store["k"] = "first"
        store["k"] = "second"
        assert store["k"] == "second"
        assert len(store) == 1
        del store["k"]
        assert "k" not in store
        with pytest.raises(KeyError):
            del store["k"]
        with pytest.raises(KeyError):
            store["k"]

    def test_views_and_iteration(self, store: PersiDict) -> None:
        data = {("x",): 1, ("y", "z"): [2, 3], ("w",): {"a": None}}
        store.update(data)
        assert len(store.keys()) == 3
        assert ("y", "z") in store.keys()
        assert set(store) == set(data)
        assert sorted(map(repr, store.values())) == sorted(map(repr, data.values()))
        assert dict(store.items()) == data
        assert {k: v for k, v, _ in store.items_and_timestamps()} == data
        assert sorted(map(repr, (v for v, _ in store.values_and_timestamps()))) == sorted(
            map(repr, data.values())
        )
        assert {k for k, _ in store.keys_and_timestamps()} == set(data)

    def test_dict_methods(self, store: PersiDict) -> None:
        assert store.setdefault("s", 5) == 5
        assert store.setdefault("s", 6) == 5
        assert store.pop("s") == 5
        assert store.pop("s", "gone") == "gone"
        with pytest.raises(KeyError):
            store.pop("s")
        store.update({"a": 1}, b=2)
        assert store.discard("a") is True
        assert store.discard("a") is False
        assert store.delete_if_exists("b") is True
        store["p"] = 9
        assert store.popitem() == (("p",), 9)
        with pytest.raises(KeyError):
            store.popitem()
        store.update({"c": 1, ("d", "e"): 2})
        store.clear()
        assert len(store) == 0
        with pytest.raises(TypeError):
            store.setdefault("j", KEEP_CURRENT)

    def test_equality(self, store: PersiDict) -> None:
        store.update({"a": 1, ("b", "c"): "two"})
        assert store == {"a": 1, ("b", "c"): "two"}
        assert store == {("a",): 1, SafeStrTuple("b", "c"): "two"}
        assert store != {"a": 1}
        assert store != {"a": 2, ("b", "c"): "two"}
        assert store != {"a": 1, "bad key": 2}
        assert (store == 5) is False
        assert store == store.get_subdict(())

    # ------------------------------------------------------------- values and formats
    def test_pickle_format_round_trips_values(self, store_factory: StoreFactory) -> None:
        store = store_factory(serialization_format="pkl")
        values: dict[str, Any] = {
            "none": None,
            "int": 12345678901234567890,
            "float": 1.5,
            "bytes": b"\x00\xff",
            "nested": {"a": [1, (2, 3), {4, 5}], 6: frozenset({"x"})},
            "text": "h\u00e9llo\r\nw\u00f6rld",
        }
        for name, value in values.items():
            store[name] = value
        for name, value in values.items():
            assert store[name] == value
            assert type(store[name]) is type(value)

    def test_json_format_is_faithful(self, store_factory: StoreFactory) -> None:
        if "json" not in self.formats:
            pytest.skip("this store does not offer the json format")
        store = store_factory(serialization_format="json")
        value = {"a": (1, 2), 3: [None, True, 1.25], "s": {"x"}, "u": "\u00fc"}
        store["v"] = value
        assert store["v"] == value
        assert type(store["v"]["a"]) is tuple
        if self.serializes_values:
            with pytest.raises((TypeError, ValueError)):
                store["lambda"] = lambda x: x
            assert "lambda" not in store

    def test_text_format_stores_strings_exactly(self, store_factory: StoreFactory) -> None:
        if "txt" not in self.formats:
            pytest.skip("this store does not offer a text format")
        store = store_factory(serialization_format="txt")
        text = "line one\r\nline two\n\u00e9\u4e2d\U0001f600\n"
        store["t"] = text
        assert store["t"] == text
        with pytest.raises(TypeError):
            store["n"] = 5
        assert "n" not in store
        assert store.base_class_for_values is str

    def test_base_class_for_values(self, store_factory: StoreFactory) -> None:
        store = store_factory(base_class_for_values=int)
        store["ok"] = 3
        store["also"] = True  # bool is an int
        with pytest.raises(TypeError):
            store["bad"] = "3"
        assert "bad" not in store
        assert len(store) == 2

    def test_refuses_a_store_as_value(self, store: PersiDict) -> None:
        with pytest.raises(TypeError):
            store["s"] = store
        assert "s" not in store

    def test_unserializable_value_leaves_store_intact(self, store: PersiDict) -> None:
        store["keep"] = 1
        with pytest.raises(TypeError):
            store["lock"] = threading.Lock()
        assert "lock" not in store
        assert dict(store.items()) == {("keep",): 1}

    # ------------------------------------------------------------- jokers and append-only
    def test_jokers(self, store: PersiDict) -> None:
        store["k"] = 1
        store["k"] = KEEP_CURRENT
        assert store["k"] == 1
        store["absent"] = KEEP_CURRENT
        assert "absent" not in store
        store["k"] = DELETE_CURRENT
        assert "k" not in store
        store["absent"] = DELETE_CURRENT
        assert len(store) == 0
        assert store.set_item_get_etag("x", KEEP_CURRENT) is None

    def test_append_only(self, store_factory: StoreFactory) -> None:
        store = store_factory(append_only=True)
        assert store.append_only is True
        store["k"] = "v"
        store[("a", "b")] = "w"
        for action in (
            lambda: store.__setitem__("k", "other"),
            lambda: store.__setitem__("k", "v"),
            lambda: store.__delitem__("k"),
            lambda: store.__setitem__("k", DELETE_CURRENT),
            lambda: store.discard("k"),
            lambda: store.pop("k"),
            lambda: store.clear(),
        ):
            with pytest.raises(MutationPolicyError) as info:
                action()
            assert isinstance(info.value, KeyError) and isinstance(info.value, TypeError)
        store["k"] = KEEP_CURRENT
        assert store["k"] == "v"
        assert store.setdefault("k", "x") == "v"
        assert store.setdefault("new", "n") == "n"
        assert dict(store.items()) == {("k",): "v", ("a", "b"): "w", ("new",): "n"}

    # ------------------------------------------------------------- bad keys
    @pytest.mark.parametrize(
        ("bad_key", "error"),
        [
            ("a/b", ValueError),
            ("", ValueError),
            ((), ValueError),
            ("..", ValueError),
            (("a", "."), ValueError),
            ("a b", ValueError),
            ("x" * 300, ValueError),
            (5, TypeError),
            (None, TypeError),
            ({"a": 1}, TypeError),
            (b"a", TypeError),
            (["a", 5], TypeError),
        ],
    )
    def test_invalid_keys_are_refused(self, store: PersiDict, bad_key: Any, error: type[Exception]) -> None:
        store["good"] = 1
        with pytest.raises(error):
            store[bad_key] = 2
        with pytest.raises(error):
            store[bad_key]
        if error is TypeError:  # can never be a key: not in the store, as for a dict
            assert bad_key not in store
        else:  # the right type, but not a valid key
            with pytest.raises(error):
                bad_key in store  # noqa: B015
        assert dict(store.items()) == {("good",): 1}

    def test_in_place_union_is_update(self, store: PersiDict) -> None:
        store["a"] = 1
        same = store
        same |= {"b": 2, ("c", "d"): 3}
        assert same is store
        same |= [("e", 4)]
        assert dict(store.items()) == {("a",): 1, ("b",): 2, ("c", "d"): 3, ("e",): 4}
        as_any: Any = store
        with pytest.raises(TypeError):
            as_any | {"f": 5}  # no new store without a location of its own
        with pytest.raises(ValueError):
            store |= {"a/b": 6}
        assert dict(store.items()) == {("a",): 1, ("b",): 2, ("c", "d"): 3, ("e",): 4}

    # ------------------------------------------------------------- timestamps
    def test_timestamps_order_keys(self, store: PersiDict) -> None:
        before = time.time()
        for name in ("first", "second", "third"):
            store[name] = name
            time.sleep(self.timestamp_resolution)
        assert store.timestamp("first") <= store.timestamp("second") <= store.timestamp("third")
        assert store.timestamp("first") >= before - 2.0 - self.timestamp_resolution
        assert store.oldest_keys() == [("first",), ("second",), ("third",)]
        assert store.newest_keys(2) == [("third",), ("second",)]
        assert store.oldest_values(1) == ["first"]
        assert store.newest_values() == ["third", "second", "first"]
        assert store.oldest_keys(0) == []
        assert store.newest_keys(10) == [("third",), ("second",), ("first",)]
        with pytest.raises(TypeError):
            store.oldest_keys(2.5)  # type: ignore[arg-type]
        with pytest.raises(KeyError):
            store.timestamp("missing")

    # ------------------------------------------------------------- etags
    def test_etags(self, store: PersiDict) -> None:
        etag = store.set_item_get_etag("k", "v1")
        assert etag is not None and etag == store.etag("k")
        assert store.get_item_if_etag_changed("k", etag) is ETAG_HAS_NOT_CHANGED
        assert store.get_item_if_etag_changed("k", None) == ("v1", etag)
        time.sleep(self.timestamp_resolution)
        new_etag = store.set_item_get_etag("k", "v2 longer")
        assert new_etag != etag
        assert store.get_item_if_etag_changed("k", etag) == ("v2 longer", new_etag)
        with pytest.raises(KeyError):
            store.etag("missing")
        with pytest.raises(KeyError):
            store.get_item_if_etag_changed("missing", etag)

    # ------------------------------------------------------------- hierarchy
    def test_subdicts_share_storage(self, store: PersiDict) -> None:
        store[("users", "alice", "profile")] = {"age": 30}
        store[("users", "bob", "profile")] = {"age": 25}
        store[("configs", "db")] = "localhost"
        users = store.get_subdict("users")
        assert type(users) is type(store)
        assert len(users) == 2
        assert users[("alice", "profile")] == {"age": 30}
        alice = store.get_subdict(("users", "alice"))
        assert alice["profile"] == {"age": 30}
        users[("carol", "profile")] = {"age": 41}
        assert store[("users", "carol", "profile")] == {"age": 41}
        assert set(store.subdicts()) == {"users", "configs"}
        assert len(store.subdicts()["configs"]) == 1
        assert len(store.get_subdict("nothing_here")) == 0

    def test_random_key_is_uniform_enough(self, store: PersiDict) -> None:
        store.update({"a": 1, "b": 2, "c": 3})
        seen = {store.random_key() for _ in range(60)}
        assert seen == {("a",), ("b",), ("c",)}

    def test_iteration_survives_concurrent_deletes(self, store: PersiDict) -> None:
        store.update({f"k{i}": i for i in range(20)})
        seen = 0
        for key in store.keys():
            store.discard(key)
            store.discard(f"k{19 - seen}")
            seen += 1
        assert len(store) == 0

    # ------------------------------------------------------------- configuration
    def test_params_repr_and_config(self, store_factory: StoreFactory) -> None:
        store = store_factory(serialization_format="json", append_only=True)
        params = store.get_params()
        assert params["serialization_format"] == "json"
        assert params["append_only"] is True
        assert type(store).__name__ in repr(store)
        assert store.config.model_dump() == params

    def test_copies_and_pickles_open_the_same_data(self, store: PersiDict) -> None:
        store["k"] = [1, 2]
        duplicate = copy.copy(store)
        assert duplicate == store
        assert duplicate["k"] == [1, 2]
        duplicate["other"] = 3
        assert store["other"] == 3
        if self.config_reopens_data:
            reopened = store_from_config(store.config.model_dump_json())
            assert type(reopened) is type(store)
            assert reopened["k"] == [1, 2]
            unpickled = pickle.loads(pickle.dumps(store))
            assert unpickled["k"] == [1, 2]

    def test_values_read_are_independent_copies(self, store: PersiDict) -> None:
        store["list"] = [1, 2]
        value = store["list"]
        value.append(3)
        assert store["list"] == [1, 2]

    def test_store_factory_gives_fresh_locations(self, store_factory: StoreFactory) -> None:
        one, two = store_factory(), store_factory()
        one["k"] = 1
        assert "k" not in two

    @staticmethod
    def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll ``condition`` until it holds or ``timeout`` passes (for eventually consistent stores)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.01)
        return condition()
