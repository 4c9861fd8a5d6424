"""``SafeStrTuple`` and ``NonEmptySafeStrTuple``: flat, immutable tuples of safe strings."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, SupportsIndex, TypeVar, overload

from ._bounded import BoundedCache, BoundedSet
from ._safe_chars import _invalid_element_error, _match_safe_element

_T = TypeVar("_T", bound="SafeStrTuple")

_NO_ARG: Final = object()
_tuple_new: Final = tuple.__new__

# Bounded caches. Stores normalise the same keys over and over, and a Python-level constructor
# is dominated by the class call and ``tuple.__new__`` for a subclass, so a hit skips both the
# validation and the allocation.
_valid_elements: Final[BoundedSet[str]] = BoundedSet()
"""Strings that passed ``is_safe_str_element`` (never anything else)."""
_nonempty_cache: Final[BoundedCache[object, NonEmptySafeStrTuple]] = BoundedCache()
"""Plain ``str`` or plain ``tuple`` of str -> the equal ``NonEmptySafeStrTuple``."""
# Typed Any: the constructors return a hit as their own type variable (`type(x) is cls` checks
# that a static checker cannot follow).
_nonempty_cache_get: Final[Callable[[object], Any]] = _nonempty_cache.get
_elements_known: Final = _valid_elements.issuperset
_remember_element: Final = _valid_elements.remember


def _check_element(s: str) -> None:
    """Raise ValueError unless ``s`` (a str) is a valid key element."""
    if s in _valid_elements:
        return
    if _match_safe_element(s) is None:
        raise _invalid_element_error(s)
    _remember_element(s)


def _known_strings(items: Iterable[object]) -> bool:
    """Tell whether every item is a string already known to be a valid element."""
    try:
        return _elements_known(items)
    except TypeError:  # unhashable items: let the general path explain
        return False


def _is_flat_str_tuple(arg: object) -> bool:
    """Tell whether ``arg`` is a non-empty plain tuple of plain str."""
    return type(arg) is tuple and bool(arg) and all(type(element) is str for element in arg)


def _is_flattenable(obj: object) -> bool:
    """Tell whether ``obj`` is a sequence (not a mapping, not str or bytes) to flatten."""
    if isinstance(obj, (str, bytes, bytearray, memoryview)):
        return False
    if isinstance(obj, Sequence):
        return not isinstance(obj, Mapping)
    if isinstance(obj, Mapping) or callable(getattr(obj, "keys", None)):
        return False
    return all(callable(getattr(obj, name, None)) for name in ("__getitem__", "__len__", "__iter__"))


def _flatten_into(args: Iterable[Any], out: list[str]) -> None:
    """Append the validated strings of ``args`` to ``out``, flattening nested sequences.

    The items are Any: the exact-type checks (faster than isinstance) are runtime ones.
    """
    for arg in args:
        kind = type(arg)
        if kind is str:
            _check_element(arg)
            out.append(arg)
        elif kind is tuple or kind is list:
            _flatten_into(arg, out)
        elif isinstance(arg, SafeStrTuple):
            out.extend(arg)
        elif isinstance(arg, str):
            _check_element(arg)
            out.append(arg)
        elif _is_flattenable(arg):
            _flatten_into(arg, out)
        else:
            raise TypeError(
                f"Invalid argument type: {type(arg).__name__} ({arg!r:.60}); a key is built from str, "
                "sequences of str and SafeStrTuples"
            )


def _strings_of(args: tuple[object, ...]) -> tuple[str, ...]:
    """Flatten and validate constructor arguments (the general, slower path)."""
    out: list[str] = []
    _flatten_into(args, out)
    return tuple(out)


class SafeStrTuple(tuple[str, ...]):
    """A flat, immutable, hashable tuple of safe strings: a hierarchical key.

    Built from any number of arguments, each a ``str``, a ``SafeStrTuple``, or any nesting of
    sequences of those (not mappings, not bytes), flattened in order:
    ``SafeStrTuple("a", ["b", ("c",)], SafeStrTuple("d")) == ("a", "b", "c", "d")``.
    Every string must pass :func:`is_safe_str_element`; otherwise a ``ValueError`` names the
    element and says what is wrong. Any other argument type is a ``TypeError``.

    It subclasses ``tuple``: hashing, comparison with plain tuples of the same strings,
    indexing and iteration behave (and cost) as for a tuple, and it is interchangeable with
    the plain tuple as a dict key. Slicing and ``reversed()`` give a ``SafeStrTuple``; ``+``
    accepts a str, list, tuple or SafeStrTuple on either side. ``==`` also accepts what could
    be turned into a key (``SafeStrTuple("a") == "a"``) and never raises.
    """

    __slots__ = ()

    def __new__(cls: type[_T], arg: Any = _NO_ARG, /, *more: Any) -> _T:
        """Build a key from its parts (see the class docstring)."""
        # ``arg`` is Any: on this hottest path the checks are ``type(x) is ...`` (cheaper than
        # isinstance), which narrow nothing for a static checker.
        if not more:
            kind = type(arg)
            if kind is cls:
                same: _T = arg
                return same
            if kind is str:
                _check_element(arg)
                return _tuple_new(cls, (arg,))
            if kind is tuple and _known_strings(arg):
                return _tuple_new(cls, arg)
            if arg is _NO_ARG:
                return _tuple_new(cls)
            return _tuple_new(cls, _strings_of((arg,)))
        return _tuple_new(cls, _strings_of((arg, *more)))

    @classmethod
    def from_trusted_strings(cls: type[_T], strings: Iterable[str]) -> _T:
        """Build an instance from strings without validating them (the fast path of listings).

        For stores that have validated the names themselves (e.g. with `is_safe_str_element`
        while listing a directory): building a key costs one ``tuple.__new__``. Passing
        strings that are not valid elements breaks every guarantee of the class.

        Args:
            strings: Valid key elements (for `NonEmptySafeStrTuple`, at least one).

        Returns:
            An instance of ``cls`` holding ``strings``.
        """
        return _tuple_new(cls, strings)

    @property
    def strings(self) -> tuple[str, ...]:
        """The elements as a plain tuple."""
        return tuple(self)

    @property
    def str_chain(self) -> tuple[str, ...]:
        """The elements as a plain tuple (an alias of :attr:`strings`)."""
        return tuple(self)

    @overload
    def __getitem__(self, index: SupportsIndex, /) -> str: ...

    @overload
    def __getitem__(self, index: slice, /) -> SafeStrTuple: ...

    def __getitem__(self, index: SupportsIndex | slice, /) -> str | SafeStrTuple:
        """Return one element (a str) or, for a slice, a ``SafeStrTuple``."""
        if isinstance(index, slice):
            return _tuple_new(SafeStrTuple, tuple.__getitem__(self, index))
        return tuple.__getitem__(self, index)

    def __reversed__(self: _T) -> _T:  # type: ignore[override]
        """Return the elements in reverse order, as a key of the same class."""
        return _tuple_new(type(self), tuple.__getitem__(self, slice(None, None, -1)))

    def __add__(self, other: object, /) -> SafeStrTuple:
        """Append ``other`` (a str, sequence of str or SafeStrTuple) and return a new key.

        The result is a ``NonEmptySafeStrTuple`` when either operand is one, otherwise a
        ``SafeStrTuple``.
        """
        right = other if isinstance(other, SafeStrTuple) else SafeStrTuple(other)
        cls = (
            NonEmptySafeStrTuple
            if isinstance(self, NonEmptySafeStrTuple) or isinstance(right, NonEmptySafeStrTuple)
            else SafeStrTuple
        )
        return _tuple_new(cls, tuple.__add__(self, right))

    def __radd__(self, other: object, /) -> SafeStrTuple:
        """Prepend ``other`` (a str, sequence of str or SafeStrTuple) and return a new key."""
        # The body repeats __add__'s on purpose: ``prefix + key`` (a plain tuple first) runs on
        # every access of a LocalDict sub-dict, and a shared helper would add a call to it.
        left = other if isinstance(other, SafeStrTuple) else SafeStrTuple(other)
        cls = (
            NonEmptySafeStrTuple
            if isinstance(self, NonEmptySafeStrTuple) or isinstance(left, NonEmptySafeStrTuple)
            else SafeStrTuple
        )
        return _tuple_new(cls, tuple.__add__(left, self))

    def __eq__(self, other: object, /) -> bool:
        """Compare with a key, a plain tuple, or anything that can be turned into a key.

        Never raises: a value that cannot be a key compares unequal. When ``other`` is a key
        whose class defines a different ``__eq__``, that ``__eq__`` decides (so a subclass can
        refuse equality with other keys, whichever side of ``==`` it is on).
        """
        if isinstance(other, tuple):
            if isinstance(other, SafeStrTuple):
                if type(other).__eq__ is not type(self).__eq__:
                    delegated = _delegate_eq(self, other)
                    if delegated is not NotImplemented:
                        return bool(delegated)
                return tuple.__eq__(self, other)
            if tuple.__eq__(self, other):
                return True
        elif not isinstance(other, (str, list)):
            return NotImplemented
        try:
            coerced = SafeStrTuple(other)
        except (TypeError, ValueError, RecursionError):
            return False
        return tuple.__eq__(self, coerced)

    def __ne__(self, other: object, /) -> bool:
        """The negation of ``==`` (also never raises)."""
        result = self.__eq__(other)
        if result is NotImplemented:
            return NotImplemented
        return not result

    __hash__ = tuple.__hash__

    def __repr__(self) -> str:
        """Return the plain tuple's repr, ``('a', 'b')``: short, as keys appear in lists and messages."""
        return tuple.__repr__(self)

    def __str__(self) -> str:
        """Return ``ClassName(('a', 'b'))``, naming the type."""
        return f"{type(self).__name__}({tuple.__repr__(self)})"

    def __getnewargs__(self) -> tuple[tuple[str, ...]]:
        """Arguments that rebuild the key when unpickling (it is validated again)."""
        return (tuple(self),)

    def __copy__(self: _T) -> _T:
        """Return ``self``: a key is immutable."""
        return self

    def __deepcopy__(self: _T, memo: dict[int, Any]) -> _T:
        """Return ``self``: a key is immutable and holds only strings."""
        return self

    @classmethod
    def __get_pydantic_core_schema__(cls, source_type: Any, handler: Any) -> Any:
        """Let a pydantic v2 model use this class as a field type.

        Validates from a str, a list or tuple of str, or a ``SafeStrTuple``; serializes to JSON as
        a list of str. pydantic is imported only here, when pydantic asks.
        """
        from ._pydantic import core_schema_for

        return core_schema_for(cls)


_delegations = threading.local()


def _delegate_eq(key: SafeStrTuple, other: SafeStrTuple) -> Any:
    """Return ``other.__eq__(key)``, unless ``other`` is itself delegating to ``key`` right now.

    The guard stops the ping-pong of two classes whose ``__eq__`` overrides end in this one
    (``super().__eq__``): the second delegation compares the strings instead.
    """
    active: set[tuple[int, int]] | None = getattr(_delegations, "pairs", None)
    if active is None:
        active = _delegations.pairs = set()
    if (id(other), id(key)) in active:
        return NotImplemented
    pair = (id(key), id(other))
    active.add(pair)
    try:
        return other.__eq__(key)
    finally:
        active.discard(pair)


class NonEmptySafeStrTuple(SafeStrTuple):
    """A :class:`SafeStrTuple` with at least one element: the key type of every store.

    ``NonEmptySafeStrTuple(k)`` returns ``k`` itself when ``k`` already is one, and does not
    validate again when ``k`` is a non-empty ``SafeStrTuple``, so normalising keys that came
    from a store costs next to nothing.
    """

    __slots__ = ()

    def __new__(cls: type[_T], arg: Any = _NO_ARG, /, *more: Any) -> _T:
        """Build a key from its parts; an empty result is a ``ValueError``."""
        # ``arg`` is Any, as in SafeStrTuple.__new__.
        kind = type(arg)
        if (kind is tuple or kind is str) and cls is NonEmptySafeStrTuple and not more:
            try:
                hit = _nonempty_cache_get(arg)
            except TypeError:  # a tuple holding something unhashable: the general path
                pass
            else:
                if hit is None:
                    hit = _make_nonempty_and_remember(arg)
                found: _T = hit  # hit is Any: this branch runs only for cls NonEmptySafeStrTuple
                return found
        elif kind is cls and not more:
            same: _T = arg
            return same
        if not more:
            if isinstance(arg, SafeStrTuple):
                if not arg:
                    raise _empty_error()
                return _tuple_new(cls, arg)
            if arg is _NO_ARG:
                raise _empty_error()
            strings = _strings_of((arg,))
        else:
            strings = _strings_of((arg, *more))
        if not strings:
            raise _empty_error()
        return _tuple_new(cls, strings)


def _make_nonempty_and_remember(arg: Any) -> NonEmptySafeStrTuple:
    """Build a ``NonEmptySafeStrTuple`` from a hashable str or plain tuple and cache it."""
    if type(arg) is str:
        _check_element(arg)
        made = _tuple_new(NonEmptySafeStrTuple, (arg,))
    elif arg and _known_strings(arg):
        made = _tuple_new(NonEmptySafeStrTuple, arg)
    elif _is_flat_str_tuple(arg):
        for element in arg:
            _check_element(element)
        made = _tuple_new(NonEmptySafeStrTuple, arg)
    else:
        made = _tuple_new(NonEmptySafeStrTuple, _strings_of((arg,)))
        if not made:
            raise _empty_error()
    return _nonempty_cache.remember(arg, made)


def _empty_error() -> ValueError:
    return ValueError("A NonEmptySafeStrTuple must contain at least one string")
