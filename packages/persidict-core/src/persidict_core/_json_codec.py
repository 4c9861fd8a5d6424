"""The ``json`` format: jsonpickle's document format, decoded as data only.

A json value is data: JSON scalars and containers, plus the jsonpickle-tagged values of an
allowlist of classes (tuple, set, frozenset, ``datetime`` types, ``Decimal``, ``Fraction``,
``UUID``, ``complex``, ``bytes``, ``pathlib`` paths, ``collections`` types, numpy arrays,
scalars and dtypes, pandas ``DataFrame``/``Series``/``Index``/``Timestamp``/``Timedelta``/
``Categorical``) and of the classes registered with `register_json_class`.

Decoding never imports a module named by the document and never calls anything outside the
allowlist: the parsed document is checked as a whole, before jsonpickle's ``Unpickler`` sees
it, and every class or function it names must be in the allowlist (jsonpickle then finds
each one through its ``classes=`` option, without importing). Tags that name code
(``py/mod``, ``py/repr``, ``py/iterator``...) are refused outright. jsonpickle's own pandas
handlers decode nested documents without any such check, so ``DataFrame`` and ``Index`` use
handlers of ours that send every nested document through the same check.

Encoding checks the value against the same allowlist first (a value that could not be read
back is refused at write time, never stored wrong), then encodes it: plain JSON data goes
through the standard :mod:`json` module, anything else through jsonpickle, and the result is
decoded once to prove it reads back. Documents without any jsonpickle tag decode with
orjson alone (the standard :func:`json.loads` for what orjson would read differently: NaN,
Infinity and integers beyond 64 bits).
"""

from __future__ import annotations

import collections
import importlib
import importlib.util
import json
import sys
import threading
import warnings
import zlib
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar

__all__ = ["decode_json", "encode_json", "register_json_class"]

_T = TypeVar("_T", bound=type)

_JSON_INDENT: Final = 4

# jsonpickle's tags (checked against jsonpickle.tags when jsonpickle is first imported).
_TUPLE, _SET, _B64, _B85, _ID = "py/tuple", "py/set", "py/b64", "py/b85", "py/id"
_OBJECT, _TYPE, _FUNCTION, _REDUCE = "py/object", "py/type", "py/function", "py/reduce"
_NEWOBJ = "py/newobj"
_JSON_KEY: Final = "json://"
# How a tag key and an encoded non-str key begin in a document's text, and in its bytes.
_TAG_MARK: Final = '"py/'
_KEY_MARK: Final = f'"{_JSON_KEY}'
_TAG_MARK_BYTES: Final = _TAG_MARK.encode()
_KEY_MARK_BYTES: Final = _KEY_MARK.encode()
# orjson reads an integer beyond 64 bits as a float; every such integer has 19 digits or more,
# which show as a run of 19 zeros once every digit is made a zero (faster than a regex search).
_DIGITS_AS_ZEROS: Final = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER: Final = b"0" * 19
# Tags that carry data, or name a class or function the allowlist must hold.
_DATA_TAGS: Final = frozenset(
    {_TUPLE, _SET, _B64, _B85, _ID, "py/state", "py/newargs", "py/newargsex", "py/initargs", "py/seq"}
)
_NAMING_TAGS: Final = frozenset({_OBJECT, _TYPE, _FUNCTION})
# Tags that name code or state we never rebuild: a module, an eval'd repr, a live iterator...
_REFUSED_TAGS: Final = frozenset(
    {"py/mod", "py/repr", "py/iterator", "py/bytes", "py/ref", "py/property", _NEWOBJ}
)
_CALLABLE_TAGS: Final = frozenset({_TYPE, _FUNCTION, _ID})
_KNOWN_TAGS: Final = _DATA_TAGS | _NAMING_TAGS | _REFUSED_TAGS | {_REDUCE}
_RESERVED_KEY_PREFIXES: Final = ("py/", _JSON_KEY)

_PLAIN_SCALARS: Final = frozenset({str, int, float, bool, type(None)})


def _stdlib_leaves() -> tuple[type, ...]:
    """The standard library's data types stored whole (imported here: most stores never need them)."""
    import datetime
    import decimal
    import fractions
    import pathlib
    import uuid
    import zoneinfo

    return (
        bytes,
        complex,
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
        datetime.timezone,
        decimal.Decimal,
        fractions.Fraction,
        uuid.UUID,
        zoneinfo.ZoneInfo,
        pathlib.PurePath,
        pathlib.PurePosixPath,
        pathlib.PureWindowsPath,
        pathlib.Path,
        pathlib.PosixPath,
        pathlib.WindowsPath,
    )


_STDLIB_CONTAINERS: Final[tuple[type, ...]] = (
    tuple,
    set,
    frozenset,
    list,
    dict,
    collections.OrderedDict,
    collections.defaultdict,
    collections.deque,
    collections.Counter,
    collections.ChainMap,
    collections.UserDict,
    collections.UserList,
    collections.UserString,
)
# Classes that only appear as names inside the documents of allowed values.
_STDLIB_NAMED: Final[tuple[type, ...]] = (str, int, float, bool, type(None))
_LIBRARIES: Final = ("numpy", "pandas")
_LIBRARY_PREFIXES: Final = tuple(f"{library}." for library in _LIBRARIES)

_lock = threading.RLock()
_allowed: dict[str, Any] = {}
"""jsonpickle name -> class or function a document may name (filled once jsonpickle is used)."""
_leaf_types: set[type] = set()
"""Exact types of values stored whole (their encoding is checked on the way); see `_ensure_leaves`."""
_registered: dict[type, str] = {}
"""Classes added with `register_json_class`, and their jsonpickle names."""
_enabled_libraries: set[str] = set()
_jsonpickle_ready = threading.Event()


class _Refused(Exception):
    """A value or document holds something the json format does not allow."""


# ----------------------------------------------------------------- registration
def register_json_class(cls: _T) -> _T:
    """Allow instances of ``cls`` in ``json`` values, for writing and for reading.

    The json format stores data only: a class outside its built-in allowlist is refused when
    written and when read (reading never imports or calls it). Registering a class says that
    rebuilding it from a stored document is safe: jsonpickle creates the instance without
    calling ``__init__`` and sets its attributes (or calls its ``__setstate__``). Register the
    class in every process that reads or writes such values, e.g. next to its definition;
    usable as a class decorator.

    Args:
        cls: A class defined at module level (its module and qualified name identify it in
            the stored documents).

    Returns:
        ``cls`` itself.

    Raises:
        TypeError: ``cls`` is not a class.
        ValueError: ``cls`` is defined inside a function.
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_json_class() takes a class, got {cls!r}")
    name = f"{cls.__module__}.{cls.__qualname__}"
    if "<locals>" in cls.__qualname__:
        raise ValueError(
            f"{cls!r} cannot be registered for json: a class defined inside a function has no "
            f"name another process could find it by ({name!r}); define it at module level"
        )
    with _lock:
        # A class of the same name registered before (a reloaded module) is replaced.
        for old in [old for old, old_name in _registered.items() if old_name == name]:
            del _registered[old]
        _registered[cls] = name
        if _jsonpickle_ready.is_set():
            _allowed[name] = cls
    return cls


def _name_of(obj: Any) -> str:
    module = getattr(obj, "__module__", None) or "?"
    return f"{module}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def _enable_library(library: str) -> bool:
    """Allow numpy's or pandas's values (importing the library if installed); True if done."""
    if library in _enabled_libraries:
        return True
    if library not in sys.modules and importlib.util.find_spec(library) is None:
        return False
    with _lock:
        if library in _enabled_libraries:
            return True
        _ensure_jsonpickle()
        if library == "numpy":
            _enable_numpy()
        else:
            _enable_numpy()
            _enable_pandas()
        _enabled_libraries.add(library)
    return True


def _allow(objects: Any) -> None:
    import jsonpickle.util

    for obj in objects:
        _allowed[jsonpickle.util.importable_name(obj)] = obj


def _enable_numpy() -> None:
    if "numpy" in _enabled_libraries:
        return
    import jsonpickle.ext.numpy
    import numpy as np

    jsonpickle.ext.numpy.register_handlers()
    scalars: set[type] = {t for t in np.sctypeDict.values() if isinstance(t, type)}
    scalars = {t for t in scalars if issubclass(t, np.generic)}
    dtypes: set[type] = {type(np.dtype(t)) for t in scalars if t is not np.void}
    dtypes |= {np.dtype, type(np.dtype("V8"))}
    _allow([np.ndarray, *scalars, *dtypes])
    _leaf_types.update(scalars, dtypes, [np.ndarray])
    _enabled_libraries.add("numpy")


def _enable_pandas() -> None:
    import jsonpickle.ext.pandas
    import jsonpickle.handlers
    import pandas as pd

    jsonpickle.ext.pandas.register_handlers()
    _register_pandas_handlers()
    classes = [
        pd.DataFrame,
        pd.Series,
        pd.Index,
        pd.RangeIndex,
        pd.MultiIndex,
        pd.DatetimeIndex,
        pd.TimedeltaIndex,
        pd.CategoricalIndex,
        pd.Timestamp,
        pd.Timedelta,
        pd.Categorical,
        pd.CategoricalDtype,
        pd.StringDtype,
    ]
    _allow(classes)
    # pandas 3 names these classes by their public path (pandas.Index), pandas 2 by the module
    # that defines them: accept both, so documents written under either version read back.
    _allowed.update({f"pandas.{cls.__name__}": cls for cls in classes})
    # pandas pickles Timedelta and Categorical through these module functions.
    for module_name, function in (
        ("pandas._libs.tslibs.timedeltas", "_timedelta_unpickle"),
        ("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked"),
    ):
        found = getattr(sys.modules.get(module_name), function, None)
        if found is not None:
            _allowed[f"{module_name}.{function}"] = found
    _leaf_types.update(classes)


def _ensure_leaves() -> None:
    if not _leaf_types:
        with _lock:
            _leaf_types.update(_stdlib_leaves())


def _ensure_jsonpickle() -> None:
    """Import jsonpickle once and check that it still works the way this module relies on."""
    if _jsonpickle_ready.is_set():
        return
    with _lock:
        if _jsonpickle_ready.is_set():
            return
        import inspect

        import jsonpickle.tags
        import jsonpickle.unpickler
        import jsonpickle.util

        # If jsonpickle grows a tag we do not know, its meaning could be code: refuse to run.
        unknown = set(jsonpickle.tags.RESERVED) - _KNOWN_TAGS
        ours = {
            _TUPLE: jsonpickle.tags.TUPLE,
            _OBJECT: jsonpickle.tags.OBJECT,
            _REDUCE: jsonpickle.tags.REDUCE,
            _JSON_KEY: jsonpickle.tags.JSON_KEY,
            _NEWOBJ: jsonpickle.tags.NEWOBJ,
        }
        parameters = inspect.signature(jsonpickle.unpickler.Unpickler.restore).parameters
        if unknown or any(mine != theirs for mine, theirs in ours.items()) or "classes" not in parameters:
            raise ImportError(
                f"jsonpickle {getattr(jsonpickle, '__version__', '?')} is not supported by persidict's "
                f"data-only json decoder (unknown tags {sorted(unknown)} or a changed Unpickler API); "
                "install a supported jsonpickle version"
            )
        _ensure_leaves()
        _allow([*_stdlib_leaves(), *_STDLIB_CONTAINERS, *_STDLIB_NAMED])
        # Aware datetimes pickle their zone as ZoneInfo._unpickle(key): it reads the named
        # zone from the system's time zone database (ZoneInfo refuses keys that are paths).
        import zoneinfo

        unpickle_zone = getattr(zoneinfo.ZoneInfo, "_unpickle", None)
        if unpickle_zone is not None:
            _allowed["zoneinfo.ZoneInfo._unpickle"] = unpickle_zone
        for cls, name in _registered.items():
            _allowed[name] = cls
        _jsonpickle_ready.set()


# ----------------------------------------------------------------- reading
def _check_document(tree: Any) -> set[str] | None:
    """Check a parsed document against the allowlist; return the names it uses.

    Returns None when the document holds no jsonpickle tag at all (it is plain JSON and
    decodes as it is).

    Raises:
        _Refused: A tag or a name outside the allowlist.
    """
    names: set[str] | None = None
    stack = [tree]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        node = pop()
        kind = type(node)
        if kind is list:
            extend(node)
        elif kind is dict:
            for key, item in node.items():
                if key.startswith("py/"):
                    if names is None:
                        names = set()
                    _check_tag(key, item, names)
                elif key.startswith(_JSON_KEY):
                    if names is None:
                        names = set()
                    push(json.loads(key[len(_JSON_KEY) :]))
                push(item)
    return names


def _check_tag(tag: str, item: Any, names: set[str]) -> None:
    if tag in _DATA_TAGS:
        return
    if tag in _NAMING_TAGS:
        if type(item) is not str:
            raise _Refused(f"a malformed {tag} tag (not a name)")
        _check_name(item, tag)
        names.add(item)
        return
    if tag == _REDUCE:
        callable_part = item[0] if type(item) is list and item else None
        named = type(callable_part) is dict and not _CALLABLE_TAGS.isdisjoint(callable_part)
        if callable_part != _NEWOBJ and not named:
            raise _Refused("a py/reduce tag whose callable is not a named class or function")
        return
    if tag in _REFUSED_TAGS:
        raise _Refused(f"the tag {tag!r}, which names code rather than data")
    raise _Refused(f"the unknown tag {tag!r}")


def _check_name(name: str, tag: str) -> None:
    if not _jsonpickle_ready.is_set():
        _ensure_jsonpickle()
    if name in _allowed:
        return
    library = name.partition(".")[0]
    if library in _LIBRARIES and library not in _enabled_libraries and _enable_library(library):
        if name in _allowed:
            return
    raise _Refused(
        f"the class or function {name!r} ({tag}), which the json format does not allow "
        "(nothing was imported or called; to allow a class, call persidict.register_json_class(cls) "
        "in every process that reads or writes it, or use the pkl format)"
    )


def _restore(tree: Any, names: set[str]) -> Any:
    _ensure_jsonpickle()
    import jsonpickle.unpickler

    classes = {name: _allowed[name] for name in names}
    unpickler = jsonpickle.unpickler.Unpickler(keys=True, safe=True, on_missing="error")
    libraries = {name.partition(".")[0] for name in names if name.startswith(_LIBRARY_PREFIXES)}
    if not libraries:
        return unpickler.restore(tree, classes=classes)
    if "pandas" in libraries:
        _register_pandas_handlers()  # in case someone put jsonpickle's own back
    with warnings.catch_warnings():
        # jsonpickle's numpy/pandas handlers warn about their own deprecated calls; under
        # ``-W error`` that would make every such value unreadable.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="jsonpickle")
        return unpickler.restore(tree, classes=classes)


def _decode_document(text: str) -> Any:
    tree = json.loads(text)
    if _TAG_MARK not in text and _KEY_MARK not in text and "\\" not in text:
        # Every tag is a key starting with py/ and every non-str key a string starting with
        # json://, so without either in the text (and no escape that could spell one) the
        # document is plain data: the walk of `_check_document` would find nothing.
        return tree
    names = _check_document(tree)
    if names is None:
        return tree
    return _restore(tree, names)


def _load_with_orjson(data: bytes) -> Any:
    """`_fast_loads` on its first call: imports orjson (a file store that never reads json never loads it)."""
    global _fast_loads
    import orjson

    _fast_loads = orjson.loads
    return _fast_loads(data)


_fast_loads: Callable[[bytes], Any] = _load_with_orjson


def decode_json(data: bytes) -> Any:
    """Decode a json document, data only (see the module docstring).

    Raises:
        ValueError: Not UTF-8, not JSON, or a tag or class the json format does not allow.
    """
    if (
        _TAG_MARK_BYTES not in data
        and _KEY_MARK_BYTES not in data
        and b"\\" not in data
        and _LONG_NUMBER not in data.translate(_DIGITS_AS_ZEROS)
    ):
        # Plain data (see `_decode_document`) with no integer beyond 64 bits: orjson reads it
        # straight from the bytes, several times faster than the standard decoder, with the
        # same result. It refuses NaN and Infinity, which the standard encoder writes; those
        # documents (and anything not JSON) go to the standard decoder, which has the last word.
        try:
            return _fast_loads(data)
        except ValueError:
            pass
    try:
        return _decode_document(data.decode("utf-8"))
    except _Refused as exc:
        raise ValueError(f"the document names {exc}") from None


# ----------------------------------------------------------------- writing
def _describe(value: Any) -> str:
    kind = type(value)
    name = _name_of(kind)
    if isinstance(value, Iterator):
        return f"a one-shot iterator ({name}), which can be read only once; store list(...) of it instead"
    if callable(value) and not isinstance(value, type):
        return f"a callable ({_name_of(value)}): json stores data, not code; use the pkl format"
    if isinstance(value, type):
        return f"the class {name} itself, which is not in the json allowlist"
    return (
        f"an instance of {name}, a class the json format does not allow: register it with "
        f"persidict.register_json_class({kind.__qualname__}) or use the pkl format"
    )


def _check_value(value: Any) -> bool:
    """Check ``value`` against the allowlist; return True if it is plain JSON data.

    Plain means: dicts with str keys, lists, str, int, float, bool and None, no object
    shared between two places (the standard json module would write it twice).

    Raises:
        _Refused: Something the json format cannot store faithfully or does not allow.
    """
    plain = True
    # id -> object: holding the objects keeps their ids from being reused by temporaries.
    seen: dict[int, Any] = {}
    stack = [value]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        node = pop()
        kind = type(node)
        if kind in _PLAIN_SCALARS:
            continue
        if id(node) in seen:
            plain = False  # a shared or cyclic object: jsonpickle keeps it as a reference
            continue
        seen[id(node)] = node
        if kind is list:
            extend(node)
        elif kind is dict:
            for key, item in node.items():
                if type(key) is str:
                    if key.startswith(_RESERVED_KEY_PREFIXES):
                        raise _Refused(
                            f"the dict key {key!r}: keys starting with 'py/' or 'json://' are "
                            "reserved by the json format"
                        )
                else:
                    plain = False
                    push(key)
                push(item)
        else:
            plain = False
            _push_parts(node, kind, push, extend)
    return plain


def _push_parts(node: Any, kind: type, push: Any, extend: Any) -> None:
    """Queue the parts of a non-plain value, or refuse it."""
    _ensure_leaves()
    if kind in _STDLIB_CONTAINERS:
        if kind is collections.defaultdict:
            push(node.default_factory)
        if kind is collections.ChainMap:
            extend(node.maps)
        elif issubclass(kind, (dict, collections.UserDict)):
            extend(node.keys())
            extend(node.values())
        elif kind is collections.UserList:
            extend(node.data)
        elif kind is not collections.UserString:
            extend(node)
        return
    if kind in _leaf_types:
        _push_library_parts(node, push, extend)
        return
    if kind in _registered:
        getstate = getattr(node, "__getstate__", None)
        state = getstate() if getstate is not None else getattr(node, "__dict__", None)
        if state is not None:
            push(state)
        for slot in getattr(kind, "__slots__", ()):
            if hasattr(node, slot):
                push(getattr(node, slot))
        return
    if isinstance(node, type) and (
        node in _registered or node in _STDLIB_CONTAINERS or node in _PLAIN_SCALARS or node in _leaf_types
    ):
        return
    library = kind.__module__.partition(".")[0]
    if library in _LIBRARIES and library not in _enabled_libraries:
        _enable_library(library)
        if kind in _leaf_types:
            _push_library_parts(node, push, extend)
            return
    raise _Refused(_describe(node))


def _push_library_parts(node: Any, push: Any, extend: Any) -> None:
    """Queue what an object-dtype numpy or pandas value holds (other values are leaves)."""
    dtype = getattr(node, "dtype", None)
    if getattr(dtype, "kind", None) == "O" and hasattr(node, "tolist"):
        push(node.tolist())
    elif hasattr(node, "columns") and hasattr(node, "dtypes"):  # a DataFrame
        for column, column_dtype in zip(node.columns, node.dtypes, strict=True):
            if getattr(column_dtype, "kind", None) == "O":
                extend(node[column].tolist())
        extend(node.columns.tolist())


def encode_json(value: Any) -> bytes:
    """Encode ``value`` as a json document that `decode_json` reads back as an equal value.

    Raises:
        ValueError: The value holds something the json format does not allow or cannot store
            faithfully (the message says what and what to do).
    """
    try:
        plain = _check_value(value)
    except _Refused as exc:
        raise ValueError(f"it holds {exc}") from None
    if plain:
        return json.dumps(value, indent=_JSON_INDENT, ensure_ascii=False).encode("utf-8")
    _ensure_jsonpickle()
    for library in _LIBRARIES:
        if library in sys.modules:  # a value can hold numpy or pandas objects only then
            _enable_library(library)
    import jsonpickle

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="jsonpickle")
        text: str = jsonpickle.encode(value, keys=True, indent=_JSON_INDENT)
    try:
        # Prove it reads back under the reading rules (a class jsonpickle wrote for an inner
        # part, e.g. a pandas extension dtype, may be outside the allowlist).
        _decode_document(text)
    except _Refused as exc:
        raise ValueError(f"its JSON would name {exc}") from None
    return text.encode("utf-8")


# ----------------------------------------------------------------- pandas handlers
def _register_pandas_handlers() -> None:
    """Put our DataFrame and Index handlers in jsonpickle's registry (if not there)."""
    import jsonpickle.handlers

    for cls, handler in _pandas_handlers().items():
        if jsonpickle.handlers.get(cls) is not handler:
            jsonpickle.handlers.register(cls, handler, base=True)


_handler_classes: dict[type, type] = {}


def _pandas_handlers() -> dict[type, type]:
    if _handler_classes:
        return _handler_classes
    import jsonpickle.ext.pandas as jp_pandas
    import numpy as np
    import pandas as pd
    from jsonpickle.tags_pd import REVERSE_TYPE_MAP

    def restore_buffer(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if data.get("txt", True):
            buf = data["values"]
        else:
            raw = jp_pandas.b64decode(data["values"])
            buf = (zlib.decompress(raw) if data.get("comp", False) else raw).decode()
        return buf, data.get("meta", {})

    def restore_frame(self: Any, obj: dict[str, Any]) -> Any:
        """Restore a DataFrame of jsonpickle's format, checking every nested document."""
        encoded, meta = restore_buffer(obj)
        if "dtypes_rle" not in meta:
            raise _Refused("a DataFrame in the format of jsonpickle < 3.4, which is not supported")
        data_columns = _decode_document(encoded)
        type_codes = jp_pandas.rle_decode(meta["dtypes_rle"])
        columns_decoded = _decode_document(meta["columns"])
        if meta.get("is_multicolumns", False):
            columns = pd.MultiIndex.from_tuples(columns_decoded, names=meta.get("column_names"))
        else:
            columns = columns_decoded
        frame_data: dict[Any, Any] = {}
        dtypes: dict[Any, str] = {}
        for column, type_code in zip(columns, type_codes, strict=False):
            column_data = data_columns[column]
            if type_code == "py/jp":
                frame_data[column] = [_decode_document(item) for item in column_data]
            else:
                frame_data[column] = column_data
                dtypes[column] = REVERSE_TYPE_MAP.get(type_code, "object")
        frame = pd.DataFrame(frame_data)
        frame.columns = columns
        for column in frame.columns:
            try:
                frame[column] = frame[column].astype(np.dtype(dtypes.get(column, "object")))
            except (TypeError, ValueError):
                pass  # what jsonpickle's own handler does: keep the column as decoded
        index_values = _decode_document(meta["index"])
        if meta.get("is_multiindex", False):
            frame.index = pd.MultiIndex.from_tuples(index_values, names=meta.get("index_names"))
        else:
            frame.index = pd.Index(index_values, name=meta.get("index_names"))
        if "column_names" in meta:
            if meta.get("is_multicolumns", False):
                frame.columns.names = meta["column_names"]
            else:
                frame.columns.name = meta["column_names"]
        return frame

    def restore_index(self: Any, data: dict[str, Any]) -> Any:
        """Restore an Index of jsonpickle's format, checking its nested document."""
        buf, meta = restore_buffer(data)
        values = _decode_document(buf)
        if "names" in meta:
            return pd.MultiIndex.from_tuples(values, names=meta["names"])
        return pd.Index(values, dtype=meta.get("dtype"), name=meta.get("name"))

    restoring = {"restore": restore_index}
    # Classes built with type(): jsonpickle is untyped, and a class statement over its
    # handler would subclass Any.
    _handler_classes[pd.DataFrame] = type(
        "DataFrameHandler", (jp_pandas.PandasDfHandler,), {"restore": restore_frame}
    )
    _handler_classes[pd.Index] = type("IndexHandler", (jp_pandas.PandasIndexHandler,), restoring)
    multi_base = jp_pandas.PandasMultiIndexHandler
    _handler_classes[pd.MultiIndex] = type("MultiIndexHandler", (multi_base,), restoring)
    return _handler_classes
