"""Content digests of Python values, stable across processes, machines, runs and Python versions.

The digest is a BLAKE2b hash (128 bits, hex) of a canonical encoding of the value, written in
the spirit of joblib's hasher: builtin types have an explicit encoding with a type tag,
containers are encoded element by element, dict entries and set elements are sorted by their
own digests (so insertion order and set order never matter), numpy arrays feed their raw
buffer to the hash (memory speed), pandas objects are hashed column by column, and any other
object is taken apart through the pickle reduction protocol (``__reduce_ex__``): its class by
qualified name, its constructor arguments and its state, recursively.

Never ``hash()`` (salted per process for str and bytes) and never a pickle of the whole value
(pickle output depends on object identity through its memo and changes between versions).
numpy and pandas are looked up in ``sys.modules``: they are never imported here; a value can
only be an array if its library is already loaded.

What cannot be hashed raises `TypeError` naming where in the value the problem is: objects
that refuse pickling (locks, open files, sockets, generators), lambdas and functions or
classes defined inside functions (they have no stable name), and values that contain
themselves.
"""

from __future__ import annotations

import hashlib
import struct
import sys
import types
from collections.abc import Callable
from typing import Any, Final

__all__ = ["DIGEST_HEX_LENGTH", "UnhashableValueError", "ValueHasher", "value_digest"]

_DIGEST_SIZE: Final = 16
DIGEST_HEX_LENGTH: Final = 2 * _DIGEST_SIZE
"""Length of a digest in hex characters."""

_pack_q: Final = struct.Struct("<q").pack
_pack_d: Final = struct.Struct("<d").pack
_pack_dd: Final = struct.Struct("<dd").pack


class UnhashableValueError(TypeError):
    """A value (or a part of it) has no stable content digest; the message says where and why."""


def _int_bytes(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)


class ValueHasher:
    """Feed values into one BLAKE2b hash; `hexdigest` gives the digest of everything fed."""

    __slots__ = ("_hash", "_on_path")

    def __init__(self) -> None:
        self._hash = hashlib.blake2b(digest_size=_DIGEST_SIZE)
        # ids of the containers being encoded, from the root to the current one: a value that
        # contains itself would otherwise recurse forever.
        self._on_path: set[int] = set()

    def hexdigest(self) -> str:
        """Return the digest (hex) of every value fed so far."""
        return self._hash.hexdigest()

    def raw(self, data: bytes) -> None:
        """Feed raw bytes (a separator or a name), not a value."""
        self._hash.update(data)

    def feed(self, value: Any, where: str) -> None:
        """Feed ``value``; ``where`` names it in error messages (e.g. ``"params['a'][2]"``)."""
        encoder = _ENCODERS.get(type(value))
        if encoder is not None:
            encoder(self, value, where)
        else:
            self._feed_other(value, where)

    # ------------------------------------------------------------------ helpers
    def _sub_digest(self, value: Any, where: str) -> bytes:
        """Digest of ``value`` alone (for sorting dict entries and set elements)."""
        sub = ValueHasher()
        sub._on_path = self._on_path
        sub.feed(value, where)
        return sub._hash.digest()

    def _enter(self, value: Any, where: str) -> int:
        ident = id(value)
        if ident in self._on_path:
            raise UnhashableValueError(f"{where} contains itself (a reference cycle) and cannot be hashed")
        self._on_path.add(ident)
        return ident

    def _feed_sequence(self, tag: bytes, items: Any, where: str) -> None:
        ident = self._enter(items, where)
        try:
            self._hash.update(tag + _pack_q(len(items)))
            for index, item in enumerate(items):
                self.feed(item, f"{where}[{index}]")
        finally:
            self._on_path.discard(ident)

    def _feed_mapping(self, tag: bytes, pairs: Any, where: str, owner: Any) -> None:
        ident = self._enter(owner, where)
        try:
            digests = []
            for key, item in pairs:
                sub = ValueHasher()
                sub._on_path = self._on_path
                sub.feed(key, f"{where} key {key!r}")
                sub.feed(item, f"{where}[{key!r}]")
                digests.append(sub._hash.digest())
            digests.sort()
            self._hash.update(tag + _pack_q(len(digests)) + b"".join(digests))
        finally:
            self._on_path.discard(ident)

    def _feed_set(self, tag: bytes, items: Any, where: str) -> None:
        ident = self._enter(items, where)
        try:
            digests = sorted(self._sub_digest(item, f"{where} element") for item in items)
            self._hash.update(tag + _pack_q(len(digests)) + b"".join(digests))
        finally:
            self._on_path.discard(ident)

    def _feed_name(self, tag: bytes, obj: Any, where: str) -> None:
        """A function, class or other global, by module and qualified name."""
        module = getattr(obj, "__module__", None) or ""
        qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
        if not isinstance(qualname, str) or "<" in qualname:
            raise UnhashableValueError(
                f"{where} is {obj!r}: lambdas and functions or classes defined inside a function "
                "have no stable name and cannot be hashed (define it at module level)"
            )
        self._hash.update(tag + f"{module}:{qualname}".encode() + b"\x00")

    # ------------------------------------------------------------------ everything else
    def _feed_other(self, value: Any, where: str) -> None:
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            if isinstance(value, numpy.ndarray):
                self._feed_ndarray(value, where, numpy)
                return
            if isinstance(value, numpy.generic):
                self._hash.update(b"g" + value.dtype.str.encode() + b"\x00")
                if value.dtype.hasobject:
                    self.feed(value.item(), where)
                else:
                    self._hash.update(value.tobytes())
                return
        pandas = sys.modules.get("pandas")
        if pandas is not None and self._feed_pandas(value, where, pandas):
            return
        if isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
            if isinstance(value, types.MethodType):
                self._feed_name(b"M", value.__func__, where)
                self.feed(value.__self__, f"{where}.__self__")
            else:
                self._feed_name(b"G", value, where)
            return
        if isinstance(value, types.ModuleType):
            self._hash.update(b"m" + value.__name__.encode() + b"\x00")
            return
        self._feed_reduced(value, where)

    def _feed_ndarray(self, array: Any, where: str, numpy: Any) -> None:
        dtype = array.dtype
        layout = str(dtype.descr) if dtype.fields is not None else dtype.str
        self._hash.update(b"a" + layout.encode() + b"\x00" + repr(array.shape).encode() + b"\x00")
        if dtype.hasobject:
            self._feed_sequence(b"l", array.ravel(order="C").tolist(), where)
            return
        # Logical (C) order, so a Fortran-ordered copy of an array has the same digest; a C
        # contiguous array is not copied. Viewed as bytes: datetime64 and structured dtypes do
        # not export the buffer protocol themselves.
        contiguous = numpy.ascontiguousarray(array).reshape(-1)
        self._hash.update(contiguous.view(numpy.uint8))

    def _feed_pandas(self, value: Any, where: str, pandas: Any) -> bool:
        if isinstance(value, pandas.DataFrame):
            self._hash.update(b"D" + _pack_q(value.shape[1]))
            self._feed_pandas_index(value.columns, f"{where}.columns", pandas)
            self._feed_pandas_index(value.index, f"{where}.index", pandas)
            for position in range(value.shape[1]):
                column = value.iloc[:, position]
                self._feed_values(column.dtype, column.to_numpy(), f"{where}.iloc[:, {position}]")
            return True
        if isinstance(value, pandas.Series):
            self._hash.update(b"S")
            self.feed(value.name, f"{where}.name")
            self._feed_pandas_index(value.index, f"{where}.index", pandas)
            self._feed_values(value.dtype, value.to_numpy(), where)
            return True
        if isinstance(value, pandas.Index):
            self._feed_pandas_index(value, where, pandas)
            return True
        return False

    def _feed_pandas_index(self, index: Any, where: str, pandas: Any) -> None:
        self._hash.update(b"I" + type(index).__name__.encode() + b"\x00")
        self.feed(list(index.names), f"{where}.names")
        if isinstance(index, pandas.RangeIndex):
            self._hash.update(_int_bytes(index.start) + b"," + _int_bytes(index.stop) + b",")
            self._hash.update(_int_bytes(index.step))
            return
        if isinstance(index, pandas.MultiIndex):
            self.feed([tuple(entry) for entry in index], f"{where}")
            return
        self._feed_values(index.dtype, index.to_numpy(), where)

    def _feed_values(self, dtype: Any, values: Any, where: str) -> None:
        """Pandas values: the dtype's name (categorical, nullable ...) and the numpy values."""
        self._hash.update(b"v" + str(dtype).encode() + b"\x00")
        self.feed(values, where)

    def _feed_reduced(self, value: Any, where: str) -> None:
        """Any other object: its class, constructor arguments and state, as pickle sees them."""
        try:
            reduced = value.__reduce_ex__(4)
        except Exception as exc:
            raise UnhashableValueError(
                f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which cannot be "
                f"hashed: it cannot be pickled ({exc})"
            ) from exc
        if isinstance(reduced, str):  # a global singleton, pickled by name
            self._hash.update(b"R" + f"{type(value).__module__}:{reduced}".encode() + b"\x00")
            return
        ident = self._enter(value, where)
        try:
            self._hash.update(b"O")
            self._feed_name(b"C", type(value), f"{where} (its class)")
            constructor, args, *rest = (*reduced, None, None, None, None)[:6]
            if getattr(constructor, "__name__", "") not in (
                "__newobj__",
                "__reconstructor",
                "_reconstructor",
            ):
                self.feed(constructor, f"{where} (its constructor)")
            self.feed(tuple(args or ()), f"{where} (its constructor arguments)")
            state, list_items, dict_items = rest[0], rest[1], rest[2]
            self.feed(state, f"{where}.__dict__")
            if list_items is not None:
                self.feed(list(list_items), f"{where} (its items)")
            if dict_items is not None:
                self._feed_mapping(b"d", list(dict_items), f"{where} (its items)", dict_items)
        finally:
            self._on_path.discard(ident)


def _feed_none(hasher: ValueHasher, value: Any, where: str) -> None:
    hasher._hash.update(b"N")


def _feed_bool(hasher: ValueHasher, value: bool, where: str) -> None:
    hasher._hash.update(b"T" if value else b"F")


def _feed_int(hasher: ValueHasher, value: int, where: str) -> None:
    data = _int_bytes(value)
    hasher._hash.update(b"i" + _pack_q(len(data)) + data)


def _feed_float(hasher: ValueHasher, value: float, where: str) -> None:
    hasher._hash.update(b"f" + _pack_d(value))


def _feed_complex(hasher: ValueHasher, value: complex, where: str) -> None:
    hasher._hash.update(b"c" + _pack_dd(value.real, value.imag))


def _feed_str(hasher: ValueHasher, value: str, where: str) -> None:
    data = value.encode("utf-8", "surrogatepass")
    hasher._hash.update(b"s" + _pack_q(len(data)) + data)


def _feed_bytes(hasher: ValueHasher, value: bytes, where: str) -> None:
    hasher._hash.update(b"b" + _pack_q(len(value)))
    hasher._hash.update(value)


def _feed_bytearray(hasher: ValueHasher, value: bytearray, where: str) -> None:
    hasher._hash.update(b"B" + _pack_q(len(value)))
    hasher._hash.update(value)


def _feed_tuple(hasher: ValueHasher, value: tuple[Any, ...], where: str) -> None:
    hasher._feed_sequence(b"t", value, where)


def _feed_list(hasher: ValueHasher, value: list[Any], where: str) -> None:
    hasher._feed_sequence(b"l", value, where)


def _feed_dict(hasher: ValueHasher, value: dict[Any, Any], where: str) -> None:
    if all(type(key) is str for key in value):
        # The common case, without a hash object per entry: str keys sort the same everywhere.
        ident = hasher._enter(value, where)
        try:
            hasher._hash.update(b"k" + _pack_q(len(value)))
            for key in sorted(value):
                _feed_str(hasher, key, where)
                hasher.feed(value[key], f"{where}[{key!r}]")
        finally:
            hasher._on_path.discard(ident)
        return
    hasher._feed_mapping(b"d", value.items(), where, value)


def _feed_set(hasher: ValueHasher, value: set[Any], where: str) -> None:
    hasher._feed_set(b"e", value, where)


def _feed_frozenset(hasher: ValueHasher, value: frozenset[Any], where: str) -> None:
    hasher._feed_set(b"z", value, where)


def _feed_range(hasher: ValueHasher, value: range, where: str) -> None:
    hasher._hash.update(b"r" + _int_bytes(value.start) + b"," + _int_bytes(value.stop) + b",")
    hasher._hash.update(_int_bytes(value.step))


def _feed_memoryview(hasher: ValueHasher, value: memoryview, where: str) -> None:
    _feed_bytes(hasher, value.tobytes(), where)


def _feed_function(hasher: ValueHasher, value: Any, where: str) -> None:
    hasher._feed_name(b"G", value, where)
    bound_to = getattr(value, "__self__", None)
    if isinstance(value, types.BuiltinFunctionType) and not isinstance(
        bound_to, (types.ModuleType, type(None))
    ):
        hasher.feed(bound_to, f"{where}.__self__")  # a builtin method such as [1].append


def _feed_unhashable(hasher: ValueHasher, value: Any, where: str) -> None:
    raise UnhashableValueError(
        f"{where} is a {type(value).__name__}, which cannot be hashed: its content is not a value "
        "(it is consumed by reading it)"
    )


# Exact types only: a subclass (an IntEnum, a namedtuple, an OrderedDict) goes through the
# reduction path, which includes its class, so it never collides with the builtin.
_ENCODERS: Final[dict[type, Callable[[ValueHasher, Any, str], None]]] = {
    type(None): _feed_none,
    bool: _feed_bool,
    int: _feed_int,
    float: _feed_float,
    complex: _feed_complex,
    str: _feed_str,
    bytes: _feed_bytes,
    bytearray: _feed_bytearray,
    memoryview: _feed_memoryview,
    tuple: _feed_tuple,
    list: _feed_list,
    dict: _feed_dict,
    set: _feed_set,
    frozenset: _feed_frozenset,
    range: _feed_range,
    types.FunctionType: _feed_function,
    types.BuiltinFunctionType: _feed_function,
    type: _feed_function,
    types.GeneratorType: _feed_unhashable,
    types.CoroutineType: _feed_unhashable,
    types.AsyncGeneratorType: _feed_unhashable,
}


def value_digest(value: Any, where: str = "the value") -> str:
    """Return the content digest of ``value`` (32 hex characters).

    Args:
        value: Any hashable-by-content value (see the module docstring for what is not).
        where: How to name the value in error messages.

    Raises:
        UnhashableValueError: A part of the value has no stable digest (a `TypeError`).
    """
    hasher = ValueHasher()
    hasher.feed(value, where)
    return hasher.hexdigest()
