"""Turning values into bytes and back: the one home of every serialization format.

* ``pkl``: :mod:`pickle` at the highest protocol, optionally compressed as an lz4 frame
  (detected on read by the frame's magic number, so compressed and plain files mix freely).
* ``json``: :mod:`jsonpickle`, indented and UTF-8, never lossy: a value that jsonpickle cannot
  represent faithfully raises `SerializationError` instead of being stored wrong. numpy and pandas
  handlers are registered only once those libraries are in use, so importing persidict never
  imports them.
* any other format name: plain UTF-8 text; values must be ``str``.

Security: ``pkl`` and ``json`` rebuild arbitrary objects (unpickling and jsonpickle's object
reconstruction can execute code). Never read them from a store that untrusted parties can
write; the text formats never execute anything.
"""

from __future__ import annotations

import importlib.util
import pickle
import sys
import threading
import warnings
from typing import Any, Final

from ._errors import DeserializationError, SerializationError

__all__ = [
    "BINARY_FORMATS",
    "COMPRESSIONS",
    "deserialize",
    "is_text_format",
    "serialize",
]

BINARY_FORMATS: Final = frozenset({"pkl", "json"})
"""Formats that store arbitrary objects; every other format name means plain text."""

COMPRESSIONS: Final = frozenset({"lz4"})
"""Compression schemes accepted for the ``pkl`` format."""

_LZ4_FRAME_MAGIC: Final = b"\x04\x22\x4d\x18"
_JSON_INDENT: Final = 4
_handlers_lock = threading.Lock()
_registered_handlers: set[str] = set()


def is_text_format(serialization_format: str) -> bool:
    """Return True when ``serialization_format`` stores plain ``str`` values as UTF-8 text."""
    return serialization_format not in BINARY_FORMATS


def serialize(
    value: Any, serialization_format: str, *, context: str, compression: str | None = None
) -> bytes:
    """Encode ``value`` in ``serialization_format``.

    Args:
        value: The value to encode.
        serialization_format: ``"pkl"``, ``"json"`` or a text format name.
        context: Where the value is going (key and location), for error messages.
        compression: ``None`` or ``"lz4"`` (applies to ``pkl`` only).

    Returns:
        The encoded bytes.

    Raises:
        SerializationError: The value cannot be encoded faithfully in this format.
    """
    if serialization_format == "pkl":
        try:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise SerializationError(f"Cannot pickle the value for {context}: {exc}") from exc
        if compression == "lz4":
            import lz4.frame  # imported on first use: most stores never compress

            data = lz4.frame.compress(data)
        return data
    if serialization_format == "json":
        return _encode_json(value, context)
    if not isinstance(value, str):
        raise SerializationError(
            f"The text format {serialization_format!r} stores str values only, "
            f"got {type(value).__name__} for {context}"
        )
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SerializationError(f"Cannot encode the text for {context} as UTF-8: {exc}") from exc


def deserialize(data: bytes, serialization_format: str, *, context: str) -> Any:
    """Decode bytes written by :func:`serialize`.

    Raises:
        DeserializationError: The bytes are truncated, garbled or not of this format.
    """
    if serialization_format == "pkl":
        try:
            if data[:4] == _LZ4_FRAME_MAGIC:
                import lz4.frame

                data = lz4.frame.decompress(data)
            return pickle.loads(data)
        except Exception as exc:
            raise DeserializationError(f"Cannot unpickle {context}: {type(exc).__name__}: {exc}") from exc
    if serialization_format == "json":
        return _decode_json(data, context)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DeserializationError(f"{context} is not valid UTF-8 text: {exc}") from exc


def _register_handlers_for(library: str) -> None:
    """Register jsonpickle's handlers for numpy or pandas, once, if the library is installed."""
    if library in _registered_handlers:
        return
    with _handlers_lock:
        if library in _registered_handlers:
            return
        if importlib.util.find_spec(library) is not None:
            if library == "numpy":
                import jsonpickle.ext.numpy as jsonpickle_numpy

                jsonpickle_numpy.register_handlers()
            else:
                import jsonpickle.ext.pandas as jsonpickle_pandas

                jsonpickle_pandas.register_handlers()
        _registered_handlers.add(library)


def _encode_json(value: Any, context: str) -> bytes:
    import jsonpickle
    import jsonpickle.errors

    # A value can only hold numpy or pandas objects if the library is already imported.
    for library in ("numpy", "pandas"):
        if library in sys.modules:
            _register_handlers_for(library)
    with warnings.catch_warnings():
        # jsonpickle *warns* and writes null for what it cannot encode (lambdas, open files):
        # that would be silent data loss, so that warning becomes an error.
        _silence_jsonpickle_deprecations()
        warnings.filterwarnings("error", message="jsonpickle cannot pickle", category=UserWarning)
        try:
            pickler = _strict_pickler_class()(keys=True, warn=True)
            text: str = jsonpickle.encode(value, keys=True, warn=True, indent=_JSON_INDENT, context=pickler)
        except Exception as exc:
            raise SerializationError(f"Cannot encode the value for {context} as JSON: {exc}") from exc
        try:
            # A class that cannot be imported back (defined inside a function) decodes to a plain
            # dict: decode once now so that such a value is refused instead of stored wrong.
            jsonpickle.decode(text, keys=True, on_missing="error")
        except (Exception, jsonpickle.errors.ClassNotFoundError) as exc:
            raise SerializationError(
                f"The JSON of the value for {context} does not decode back: {exc}"
            ) from exc
    return text.encode("utf-8")


_strict_pickler: type | None = None


def _strict_pickler_class() -> type:
    """A jsonpickle ``Pickler`` that refuses what jsonpickle would silently leave out.

    jsonpickle drops, without any warning, a dict entry or an object attribute whose value is a
    lambda, a nested function or a method, and a dict entry whose key is one of its reserved
    tags (``"py/object"``, ``"py/id"``, ...): ``{"f": lambda: 1}`` would be stored as ``{}``.
    Likewise it writes ``null`` for a lambda or an open file found elsewhere, with only a warning.
    This subclass raises instead, so such a value is a `SerializationError`, not data loss.
    """
    global _strict_pickler
    if _strict_pickler is None:
        import jsonpickle.pickler
        import jsonpickle.util

        base = jsonpickle.pickler.Pickler

        def refusing(method_name: str) -> Any:
            inherited = getattr(base, method_name)

            def flatten_pair(self: Any, k: Any, v: Any, data: Any) -> Any:
                if not jsonpickle.util.is_picklable(k, v):
                    raise TypeError(f"jsonpickle would silently leave out the entry {k!r}: {v!r}")
                return inherited(self, k, v, data)

            return flatten_pair

        names = (
            "_flatten_key_value_pair",
            "_flatten_non_string_key_value_pair",
            "_flatten_string_key_value_pair",
        )
        overrides: dict[str, Any] = {name: refusing(name) for name in names if hasattr(base, name)}

        def pickle_warning(self: Any, obj: Any) -> None:
            # jsonpickle would warn and write null; raising here does not depend on the
            # process-wide warning filters, which another thread may be changing.
            raise TypeError(f"jsonpickle cannot pickle {obj!r}: it would be replaced with None")

        if hasattr(base, "_pickle_warning"):
            overrides["_pickle_warning"] = pickle_warning
        _strict_pickler = type("_StrictPickler", (base,), overrides)
    return _strict_pickler


def _silence_jsonpickle_deprecations() -> None:
    """Ignore jsonpickle's own DeprecationWarnings (call inside ``warnings.catch_warnings()``).

    Its pandas handler calls ``encode()``/``decode()`` without ``keys=``, which warns "keys will
    default to True in jsonpickle 5.0.0". That says nothing about the value, but under
    ``-W error`` (or pytest's ``filterwarnings = error``) it made every pandas Series or Index
    fail to encode and decode.
    """
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="jsonpickle")


def _decode_json(data: bytes, context: str) -> Any:
    import jsonpickle
    import jsonpickle.errors

    try:
        text = data.decode("utf-8")
        for library in ("numpy", "pandas"):
            if library in text:
                _register_handlers_for(library)
        with warnings.catch_warnings():
            _silence_jsonpickle_deprecations()
            return jsonpickle.decode(text, keys=True, safe=True, on_missing="error")
    except (Exception, jsonpickle.errors.ClassNotFoundError) as exc:
        raise DeserializationError(
            f"Cannot decode the JSON of {context}: {type(exc).__name__}: {exc}"
        ) from exc
