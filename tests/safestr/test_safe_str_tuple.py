"""SafeStrTuple and NonEmptySafeStrTuple: construction, errors and tuple behaviour."""

from __future__ import annotations

import copy
import pickle
from collections import UserList
from collections.abc import Hashable, Sequence

import pytest

from persidict_safestr import NonEmptySafeStrTuple, SafeStrTuple, is_safe_str_element


def test_flattens_arguments_in_order() -> None:
    t = SafeStrTuple("a", ["b", ("c", ["d"])], SafeStrTuple("e", "f"), [], ())
    assert t == ("a", "b", "c", "d", "e", "f")
    assert t.strings == ("a", "b", "c", "d", "e", "f")
    assert type(t.strings) is tuple and type(t.str_chain) is tuple


def test_is_a_tuple_and_a_hashable_sequence() -> None:
    t = SafeStrTuple("a", "b")
    assert isinstance(t, tuple) and isinstance(t, Sequence) and isinstance(t, Hashable)


def test_empty_safe_str_tuple() -> None:
    assert SafeStrTuple() == ()
    assert SafeStrTuple([]) == ()
    assert len(SafeStrTuple([[], ()])) == 0


def test_user_sequences_are_flattened() -> None:
    assert SafeStrTuple(UserList(["a", "b"])) == ("a", "b")


@pytest.mark.parametrize("cls", [SafeStrTuple, NonEmptySafeStrTuple])
@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("", "non-empty"),
        ("x" * 254, "254"),
        ("a/b", "'/'"),
        ("a b", "unsafe character"),
        (".", "parent directory"),
        ("..", "parent directory"),
        (("ok", "no/pe"), "'no/pe'"),
        (["ok", ["deep", ".."]], "'..'"),
    ],
)
def test_invalid_elements_raise_value_error_naming_them(
    cls: type[SafeStrTuple], bad: object, words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        cls(bad)


def test_too_long_message_states_the_limit() -> None:
    with pytest.raises(ValueError, match="shorter than 254"):
        SafeStrTuple("a" * 300)
    assert SafeStrTuple("a" * 253)[0] == "a" * 253


@pytest.mark.parametrize("cls", [SafeStrTuple, NonEmptySafeStrTuple])
@pytest.mark.parametrize(
    ("bad", "type_name"),
    [
        (5, "int"),
        (None, "NoneType"),
        ({"a": 1}, "dict"),
        ({"a"}, "set"),
        (1.5, "float"),
        (b"ab", "bytes"),
        (["a", [3]], "int"),
        (("a", ["b"], {"c": 1}), "dict"),
    ],
)
def test_wrong_types_raise_type_error_naming_the_type(
    cls: type[SafeStrTuple], bad: object, type_name: str
) -> None:
    with pytest.raises(TypeError, match=f"Invalid argument type: {type_name}"):
        cls(bad)


def test_keyword_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        SafeStrTuple("a", strings=("b",))  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        NonEmptySafeStrTuple(x="a")  # type: ignore[call-arg]


@pytest.mark.parametrize("empty", [(), [], [[]], SafeStrTuple(), "NOARG"])
def test_non_empty_refuses_empty(empty: object) -> None:
    with pytest.raises(ValueError, match="at least one string"):
        if empty == "NOARG":
            NonEmptySafeStrTuple()
        else:
            NonEmptySafeStrTuple(empty)


def test_non_empty_returns_an_existing_instance_itself() -> None:
    k = NonEmptySafeStrTuple("a", "b")
    assert NonEmptySafeStrTuple(k) is k
    assert SafeStrTuple(k) == k


def test_non_empty_from_safe_str_tuple() -> None:
    s = SafeStrTuple("a", "b")
    k = NonEmptySafeStrTuple(s)
    assert type(k) is NonEmptySafeStrTuple and k == s


@pytest.mark.parametrize("cls", [SafeStrTuple, NonEmptySafeStrTuple])
@pytest.mark.parametrize(
    ("arg", "parts"),
    [
        ("a", ("a",)),
        (("a", "b"), ("a", "b")),
        (["a", "b"], ("a", "b")),
        (("a", ["b", ("c",)]), ("a", ["b", ("c",)])),
    ],
)
def test_fast_and_general_paths_agree(
    cls: type[SafeStrTuple], arg: object, parts: tuple[object, ...]
) -> None:
    first = cls(arg)
    second = cls(arg)  # served by the caches
    assert type(first) is cls and type(second) is cls
    assert first == second == cls(*parts)


def test_repeated_construction_after_an_error_still_validates() -> None:
    for _ in range(2):
        with pytest.raises(ValueError):
            NonEmptySafeStrTuple(("a", "b/c"))
        with pytest.raises(ValueError):
            NonEmptySafeStrTuple("b/c")


def test_from_trusted_strings_skips_validation() -> None:
    k = NonEmptySafeStrTuple.from_trusted_strings(("a", "b"))
    assert type(k) is NonEmptySafeStrTuple and k == ("a", "b")


def test_subclass_of_non_empty_keeps_its_class() -> None:
    class MyKey(NonEmptySafeStrTuple):
        __slots__ = ()

    assert type(MyKey("a")) is MyKey
    assert type(MyKey(("a", "b"))) is MyKey
    assert type(NonEmptySafeStrTuple("a")) is NonEmptySafeStrTuple


def test_len_indexing_iteration_membership() -> None:
    t = SafeStrTuple("a", "b", "c")
    assert len(t) == 3
    assert t[0] == "a" and t[-1] == "c" and type(t[1]) is str
    assert list(t) == ["a", "b", "c"]
    assert "b" in t and "z" not in t
    assert t.index("c") == 2 and t.count("a") == 1
    with pytest.raises(IndexError):
        t[len(t)]


@pytest.mark.parametrize("cls", [SafeStrTuple, NonEmptySafeStrTuple])
def test_slicing_gives_a_safe_str_tuple(cls: type[SafeStrTuple]) -> None:
    t = cls("a", "b", "c")
    assert type(t[1:]) is SafeStrTuple and t[1:] == ("b", "c")
    assert t[5:] == () and type(t[5:]) is SafeStrTuple
    assert t[::-1] == ("c", "b", "a")


def test_reversed_gives_a_key_of_the_same_class() -> None:
    assert reversed(SafeStrTuple("a", "b")) == ("b", "a")
    assert type(reversed(SafeStrTuple("a", "b"))) is SafeStrTuple
    assert type(reversed(NonEmptySafeStrTuple("a", "b"))) is NonEmptySafeStrTuple


def test_addition_on_both_sides() -> None:
    t = SafeStrTuple("a", "b")
    assert t + "c" == ("a", "b", "c")
    assert t + ("c", "d") == ("a", "b", "c", "d")
    assert t + ["c"] == ("a", "b", "c")
    assert t + SafeStrTuple("c") == ("a", "b", "c")
    assert "z" + t == ("z", "a", "b")
    assert ("y", "z") + t == ("y", "z", "a", "b")
    assert ["z"] + t == ("z", "a", "b")
    for result in (t + "c", "z" + t, ("z",) + t, ["z"] + t, t + SafeStrTuple()):
        assert isinstance(result, SafeStrTuple)
    assert type(t + SafeStrTuple()) is SafeStrTuple
    assert type(NonEmptySafeStrTuple("a") + "b") is NonEmptySafeStrTuple
    assert type("b" + NonEmptySafeStrTuple("a")) is NonEmptySafeStrTuple
    assert type(SafeStrTuple() + NonEmptySafeStrTuple("a")) is NonEmptySafeStrTuple


def test_addition_validates_the_other_operand() -> None:
    with pytest.raises(ValueError):
        SafeStrTuple("a") + "b/c"
    with pytest.raises(TypeError):
        SafeStrTuple("a") + 5
    with pytest.raises(ValueError):
        ("..",) + SafeStrTuple("a")


def test_equality_and_hash_match_plain_tuples() -> None:
    t = NonEmptySafeStrTuple("a", "b")
    assert t == ("a", "b") and ("a", "b") == t
    assert t == SafeStrTuple("a", "b")
    assert hash(t) == hash(("a", "b")) == hash(SafeStrTuple("a", "b"))
    d: dict[tuple[str, ...], int] = {("a", "b"): 1}
    assert d[t] == 1
    d[t] = 2
    assert d == {("a", "b"): 2}
    assert t in {("a", "b")}


def test_equality_coerces_str_and_list() -> None:
    assert SafeStrTuple("a") == "a"
    assert SafeStrTuple("a", "b") == ["a", "b"]
    assert SafeStrTuple("a", "b") == ("a", ["b"])
    assert not (SafeStrTuple("a") != "a")
    assert SafeStrTuple("a") != "b"


@pytest.mark.parametrize("other", [5, None, "a/b", "", [5], {"a": 1}, object(), ("a", ["b/c"]), 1.5, b"a"])
def test_equality_never_raises(other: object) -> None:
    t = SafeStrTuple("a")
    assert not (t == other)
    assert t != other
    assert not (other == t)
    assert other != t


def test_repr_and_str() -> None:
    assert repr(SafeStrTuple("a", "b")) == "('a', 'b')"
    assert repr(NonEmptySafeStrTuple("a")) == "('a',)"
    assert repr(SafeStrTuple()) == "()"
    assert repr([NonEmptySafeStrTuple("users", "bob")]) == "[('users', 'bob')]"
    assert str(SafeStrTuple("a", "b")) == "SafeStrTuple(('a', 'b'))"
    assert str(NonEmptySafeStrTuple("a")) == "NonEmptySafeStrTuple(('a',))"


@pytest.mark.parametrize("key", [SafeStrTuple(), SafeStrTuple("a", "b"), NonEmptySafeStrTuple("x", "y", "z")])
def test_pickle_and_copy_round_trip(key: SafeStrTuple) -> None:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(key, protocol=protocol))
        assert back == key and type(back) is type(key)
    assert copy.copy(key) is key
    assert copy.deepcopy(key) is key
    assert copy.deepcopy({"k": [key]})["k"][0] == key


def test_keys_are_immutable() -> None:
    t = SafeStrTuple("a")
    with pytest.raises(AttributeError):
        t.strings = ("b",)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        t.anything = 1  # type: ignore[attr-defined]


def test_many_distinct_keys_beyond_the_cache_bound() -> None:
    keys = [NonEmptySafeStrTuple(("k", f"n{i}")) for i in range(20_000)]
    assert all(key == ("k", f"n{i}") for i, key in enumerate(keys))
    assert NonEmptySafeStrTuple(("k", "n0")) == keys[0]


# ----------------------------------------------------------------- '._' and __eq__ delegation
@pytest.mark.parametrize("element", ["._k", "._", "._.pkl", "._DS_Store"])
def test_appledouble_names_are_not_key_elements(element: str) -> None:
    assert not is_safe_str_element(element)
    with pytest.raises(ValueError, match="AppleDouble"):
        SafeStrTuple(element)
    with pytest.raises(ValueError, match="AppleDouble"):
        NonEmptySafeStrTuple(("a", element))


@pytest.mark.parametrize("element", ["a._b", "_.x", ".x", "..a", "x._"])
def test_names_merely_containing_dot_underscore_stay_valid(element: str) -> None:
    assert SafeStrTuple(element) == (element,)


class _Refusing(NonEmptySafeStrTuple):
    """A key class that is never equal to keys of other classes."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SafeStrTuple) and not isinstance(other, _Refusing):
            return False
        return super().__eq__(other)

    __hash__ = NonEmptySafeStrTuple.__hash__


class _Delegating(SafeStrTuple):
    """A key class whose __eq__ only adds to the base one (ends in super().__eq__)."""

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other)

    __hash__ = SafeStrTuple.__hash__


def test_equality_is_decided_by_the_other_class_when_its_eq_differs() -> None:
    refusing, delegating = _Refusing("a"), _Delegating("a")
    plain, nonempty = SafeStrTuple("a"), NonEmptySafeStrTuple("a")
    # The refusing class decides, on either side of ==, against its siblings and its bases.
    for other in (delegating, plain, nonempty):
        assert (other == refusing) is False and (refusing == other) is False
        assert other != refusing and refusing != other
    assert refusing == _Refusing("a") and refusing == ("a",)
    # Classes whose __eq__ ends in the base one compare the strings (no endless ping-pong).
    assert delegating == plain and plain == delegating and delegating == nonempty
    assert delegating != _Delegating("b")
