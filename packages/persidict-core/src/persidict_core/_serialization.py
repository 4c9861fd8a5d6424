"""Turning values into bytes and back: the registry of serialization formats (codecs).

A store's ``serialization_format`` names a `Codec`; the name is also the file extension.
Three are built in:

* ``pkl``: :mod:`pickle` at the highest protocol. It can be compressed (``compression="lz4"``),
  which is detected on read by the frame's magic number, so compressed and plain files mix.
* ``json``: jsonpickle's documents, decoded as data only (see ``_json_codec``).
* ``txt``: UTF-8 text; values must be ``str``. Any other unregistered (safe) name is a
  plain-text format too (``"md"``, ``"csv"``...), so the file extension can say what it holds.

`register_codec` adds a format (a YAML or msgpack codec, for instance). Encoding and decoding
errors of every codec become `SerializationError` and `DeserializationError` naming the key
and the file or object.

Security: ``pkl`` runs code chosen by whoever wrote the file; ``json`` and the text formats
never import or run anything named by the stored data.
"""

from __future__ import annotations

import io
import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Final, cast

from persidict_safestr import is_safe_str_element

from ._errors import DeserializationError, SerializationError
from ._json_codec import decode_json, encode_json

__all__ = [
    "Codec",
    "check_format_name",
    "deserialize",
    "deserialize_from",
    "get_codec",
    "is_text_format",
    "register_codec",
    "serialize",
    "serialize_to",
    "streams",
]


@dataclass(frozen=True)
class Codec:
    """A serialization format: how a store turns values into bytes and back.

    Attributes:
        name: The format's name, used as ``serialization_format`` and as the file extension
            (a safe key element: letters, digits and ``()_-~.=``).
        encode: Turns a value into bytes; raises (any exception) for a value it cannot store.
        decode: Turns bytes written by ``encode`` back into an equal value; raises (any
            exception) for bytes that are not such an encoding, e.g. an empty or cut file.
        value_class: If set, every value must be an instance of it (``str`` for text formats);
            a store of this format gets it as its ``base_class_for_values`` by default.
        compressible: Whether a store's ``compression`` applies. The encoding must then never
            start with a compression's magic number (lz4: ``04 22 4D 18``).
        dump: Optional: writes the encoding of a value to a binary file object, so a large
            value is never held as bytes in memory (``pkl``: ``pickle.dump``, protocol 5).
            Stores that write files use it when given; the result must equal ``encode``'s.
        load: Optional: reads a value back from a binary file object holding its encoding
            (``pkl``: ``pickle.load``, which reads large buffers straight into their memory).
    """

    name: str
    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Any]
    value_class: type | None = None
    compressible: bool = False
    dump: Callable[[Any, BinaryIO], None] | None = None
    load: Callable[[BinaryIO], Any] | None = None


@dataclass(frozen=True)
class _Compression:
    name: str
    magic: bytes
    compress: Callable[[bytes], bytes]
    decompress: Callable[[bytes], bytes]
    writer: Callable[[BinaryIO], BinaryIO]  # a file object compressing into the given one
    reader: Callable[[BinaryIO], BinaryIO]  # a file object decompressing from the given one


Context = str | Callable[[], str]
"""What names a value in an error message (its key and location): the text itself, or a
function that makes it, called only when an error is raised (so a read or a write that
succeeds does not format it)."""


def _context_text(context: Context) -> str:
    return context if isinstance(context, str) else context()


def _encode_pickle(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _dump_pickle(value: Any, file: BinaryIO) -> None:
    # Protocol 5 (the highest here): a large buffer (bytes, a numpy array's data) is passed to
    # file.write as it is, never copied into the pickle.
    pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)


def _encode_text(value: str) -> bytes:
    return value.encode("utf-8")


def _decode_text(data: bytes) -> str:
    # An empty file is the empty string: the one valid encoding of "" in a text format.
    return data.decode("utf-8")


def _lz4_compress(data: bytes) -> bytes:
    import lz4.frame  # imported on first use: most stores never compress

    result: bytes = lz4.frame.compress(data)
    return result


def _lz4_decompress(data: bytes) -> bytes:
    import lz4.frame

    result: bytes = lz4.frame.decompress(data)
    return result


_CHUNK: Final = 1 << 20


class _ChunkedWriter:
    """Feeds a compressing file object 1 MiB at a time.

    Handed a whole 400 MB buffer by pickle, it would build one 400 MB compressed result.
    """

    __slots__ = ("file",)

    def __init__(self, file: BinaryIO) -> None:
        self.file = file

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        for start in range(0, len(view), _CHUNK):
            self.file.write(view[start : start + _CHUNK])
        return len(view)


class _ChunkedReader:
    """Reads a decompressing file object 1 MiB at a time into the caller's buffer."""

    __slots__ = ("file",)

    def __init__(self, file: BinaryIO) -> None:
        self.file = file

    def read(self, size: int = -1) -> bytes:
        return self.file.read(size)

    def readline(self, size: int = -1) -> bytes:
        return self.file.readline(size)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            # The decompressing files have readinto, which BinaryIO does not declare.
            got = cast("io.RawIOBase", self.file).readinto(view[filled : filled + _CHUNK])
            if not got:
                break
            filled += got
        return filled


def _lz4_writer(file: BinaryIO) -> BinaryIO:
    import lz4.frame

    # One lz4 frame of independent blocks, written as the value is pickled.
    writer: BinaryIO = lz4.frame.LZ4FrameFile(file, mode="wb")
    return writer


def _lz4_reader(file: BinaryIO) -> BinaryIO:
    import lz4.frame

    reader: BinaryIO = lz4.frame.LZ4FrameFile(file, mode="rb")
    return reader


_BUILT_IN: Final = ("pkl", "json", "txt")
_registry_lock = threading.Lock()
_codecs: dict[str, Codec] = {
    "pkl": Codec("pkl", _encode_pickle, pickle.loads, compressible=True, dump=_dump_pickle, load=pickle.load),
    "json": Codec("json", encode_json, decode_json),
    "txt": Codec("txt", _encode_text, _decode_text, value_class=str),
}
_text_codecs: dict[str, Codec] = {}
_compressions: dict[str, _Compression] = {
    "lz4": _Compression("lz4", b"\x04\x22\x4d\x18", _lz4_compress, _lz4_decompress, _lz4_writer, _lz4_reader),
}

# Names people reach for that are not formats here: the format they likely mean (None: a
# codec of that name has to be registered first).
_ALIASES: Final[dict[str, str | None]] = {
    "pickle": "pkl",
    "pckl": "pkl",
    "pk": "pkl",
    "jsonpickle": "json",
    "yaml": None,
    "yml": None,
    "msgpack": None,
    "parquet": None,
    "toml": None,
    "cbor": None,
}


def register_codec(codec: Codec, *, replace: bool = False) -> Codec:
    """Add a serialization format, usable as ``serialization_format=codec.name`` by every store.

    Register it in every process that opens such a store (e.g. where the codec is defined):
    a store of an unregistered name would read its files as plain text.

    Args:
        codec: The format.
        replace: Allow replacing a codec registered earlier under the same name (the
            built-in ``pkl``, ``json`` and ``txt`` cannot be replaced).

    Returns:
        ``codec`` itself.

    Raises:
        ValueError: The name is not a safe key element, is built in, differs from a
            registered name only by case, or is registered already (without ``replace``).
        TypeError: ``codec`` is not a `Codec`.
    """
    if not isinstance(codec, Codec):
        raise TypeError(f"register_codec() takes a Codec, got {type(codec).__name__}")
    name = codec.name
    if not is_safe_str_element(name):
        raise ValueError(f"A codec name must be a safe key element (it is a file extension), got {name!r}")
    with _registry_lock:
        if name in _BUILT_IN:
            raise ValueError(f"The built-in format {name!r} cannot be replaced")
        if name in _codecs and not replace:
            raise ValueError(f"A codec named {name!r} is registered already (replace=True replaces it)")
        clash = [other for other in _codecs if other.lower() == name.lower() and other != name]
        if clash:
            raise ValueError(f"The codec name {name!r} differs from the registered {clash[0]!r} only by case")
        _codecs[name] = codec
        _text_codecs.pop(name, None)
    return codec


def get_codec(serialization_format: str) -> Codec:
    """Return the codec of a format name: a registered one, else plain UTF-8 text."""
    codec = _codecs.get(serialization_format)
    if codec is None:
        codec = _text_codecs.get(serialization_format)
        if codec is None:
            codec = Codec(serialization_format, _encode_text, _decode_text, value_class=str)
            with _registry_lock:
                if len(_text_codecs) < 10_000:  # names come from configs: few, but bounded
                    _text_codecs[serialization_format] = codec
    return codec


def is_text_format(serialization_format: str) -> bool:
    """Return True when ``serialization_format`` stores plain ``str`` values as UTF-8 text."""
    return get_codec(serialization_format).value_class is str


def check_format_name(name: str) -> str:
    """Return ``name`` if it is a usable format name; raise ValueError with a hint otherwise.

    A registered name is fine, and so is any other safe name (a plain-text format). Refused,
    with a did-you-mean: a name that differs from a registered non-text format only by case
    or surrounding whitespace (``"JSON"``, ``" pkl"``), and well-known names of other formats
    (``"pickle"``, ``"yaml"``, ``"msgpack"``...) unless a codec of that name is registered.
    """
    if name in _codecs:
        return name
    folded = name.strip().lower()
    for registered, codec in _codecs.items():
        # "TXT" is a text format like "txt" (only the extension differs): not a near miss.
        if registered.lower() == folded and (codec.value_class is not str or folded != name.lower()):
            raise ValueError(
                f"unknown serialization_format {name!r}: did you mean {registered!r}? "
                "(format names are case-sensitive; any other name would store plain text)"
            )
    if folded in _ALIASES:
        meant = _ALIASES[folded]
        if meant is not None:
            raise ValueError(f"unknown serialization_format {name!r}: did you mean {meant!r}?")
        raise ValueError(
            f"serialization_format {name!r} is not a built-in format: register a codec named {folded!r} "
            "with persidict.register_codec(...) first (see the serialization guide), or use 'json' or 'pkl'"
        )
    if not is_safe_str_element(name):
        raise ValueError(
            f"serialization_format must be a non-empty name of safe characters "
            f"(letters, digits and ()_-~.=), got {name!r}"
        )
    return name


def serialize(
    value: Any, serialization_format: str, *, context: Context, compression: str | None = None
) -> bytes:
    """Encode ``value`` in ``serialization_format``.

    Args:
        value: The value to encode.
        serialization_format: A registered format name or a text format name.
        context: Where the value is going (key and location), for error messages: the
            text, or a function that makes it (called only on an error).
        compression: ``None`` or a compression name (``"lz4"``); applies to compressible
            formats (``pkl``) only.

    Returns:
        The encoded bytes.

    Raises:
        SerializationError: The value cannot be encoded faithfully in this format.
    """
    codec = _codecs.get(serialization_format) or get_codec(serialization_format)
    if codec.value_class is not None and not isinstance(value, codec.value_class):
        raise SerializationError(
            f"The format {serialization_format!r} stores {codec.value_class.__name__} values only, "
            f"got {type(value).__name__} for {_context_text(context)}"
        )
    try:
        data = codec.encode(value)
        if compression is not None and codec.compressible:
            data = _compressions[compression].compress(data)
    except Exception as exc:
        raise SerializationError(
            f"Cannot store the value for {_context_text(context)} in the {serialization_format} format: {exc}"
        ) from exc
    return data


def deserialize(data: bytes, serialization_format: str, *, context: Context) -> Any:
    """Decode bytes written by :func:`serialize`.

    Raises:
        DeserializationError: The bytes are empty, truncated, garbled or not of this format
            (for ``json``: also a document naming something the format does not allow).
    """
    codec = _codecs.get(serialization_format) or get_codec(serialization_format)
    try:
        if codec.compressible:
            for compression in _compressions.values():
                if data.startswith(compression.magic):
                    data = compression.decompress(data)
                    break
        return codec.decode(data)
    except Exception as exc:
        raise DeserializationError(
            f"Cannot decode {_context_text(context)} as {serialization_format}: {type(exc).__name__}: {exc}"
        ) from exc


def streams(serialization_format: str) -> bool:
    """True if the format writes to and reads from files without building the bytes in memory."""
    codec = _codecs.get(serialization_format) or get_codec(serialization_format)
    return codec.dump is not None and codec.load is not None


def serialize_to(
    file: BinaryIO, value: Any, serialization_format: str, *, context: Context, compression: str | None = None
) -> None:
    """Write the encoding of ``value`` to ``file``, as :func:`serialize` would return it.

    With a codec that can ``dump``, the encoding streams into the file (compressed on the fly
    as one frame); otherwise it is built in memory and written. OSErrors of ``file`` propagate.

    Raises:
        SerializationError: The value cannot be encoded faithfully in this format (part of
            the encoding may have been written: write to a temporary file).
    """
    codec = _codecs.get(serialization_format) or get_codec(serialization_format)
    if codec.dump is None:
        file.write(serialize(value, serialization_format, context=context, compression=compression))
        return
    if codec.value_class is not None and not isinstance(value, codec.value_class):
        raise SerializationError(
            f"The format {serialization_format!r} stores {codec.value_class.__name__} values only, "
            f"got {type(value).__name__} for {_context_text(context)}"
        )
    try:
        if compression is not None and codec.compressible:
            with _compressions[compression].writer(file) as compressed:
                codec.dump(value, cast(BinaryIO, _ChunkedWriter(compressed)))
        else:
            codec.dump(value, file)
    except OSError:
        raise  # the file's, not the value's
    except Exception as exc:
        raise SerializationError(
            f"Cannot store the value for {_context_text(context)} in the {serialization_format} format: {exc}"
        ) from exc


def deserialize_from(file: BinaryIO, head: bytes, serialization_format: str, *, context: Context) -> Any:
    """Read a value from ``file`` (positioned at the start; ``head``: its first bytes, >= 4).

    With a codec that can ``load``, the value is read straight from the file (decompressing on
    the fly); otherwise the rest of the file is read and decoded. OSErrors of ``file`` propagate.

    Raises:
        DeserializationError: The content is empty, truncated, garbled or not of this format.
    """
    codec = _codecs.get(serialization_format) or get_codec(serialization_format)
    if codec.load is None:
        return deserialize(file.read(), serialization_format, context=context)
    try:
        if codec.compressible:
            for compression in _compressions.values():
                if head.startswith(compression.magic):
                    with compression.reader(file) as decompressed:
                        return codec.load(cast(BinaryIO, _ChunkedReader(decompressed)))
        return codec.load(file)
    except OSError:
        raise
    except Exception as exc:
        raise DeserializationError(
            f"Cannot decode {_context_text(context)} as {serialization_format}: {type(exc).__name__}: {exc}"
        ) from exc
