"""pydantic v2 support, imported only when pydantic builds a schema for a key field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic_core import core_schema

if TYPE_CHECKING:
    from ._safe_str_tuple import SafeStrTuple


def core_schema_for(cls: type[SafeStrTuple]) -> core_schema.CoreSchema:
    """Return the pydantic-core schema of ``cls`` (``SafeStrTuple`` or a subclass).

    Python input: anything the constructor accepts. JSON input: a str or a list of str.
    Serialization: the key itself in Python mode, a list of str in JSON mode.
    """

    def validate(value: Any) -> SafeStrTuple:
        if not isinstance(value, (str, list, tuple)):
            raise ValueError(
                f"a {cls.__name__} is built from a str, a list or tuple of str, or a SafeStrTuple; "
                f"got {type(value).__name__}"
            )
        try:
            return cls(value)
        except TypeError as exc:  # pydantic reports ValueError as a validation error, not TypeError
            raise ValueError(str(exc)) from exc

    validator = core_schema.no_info_plain_validator_function(validate)
    json_input = core_schema.union_schema(
        [core_schema.str_schema(), core_schema.list_schema(core_schema.str_schema())]
    )
    return core_schema.json_or_python_schema(
        json_schema=core_schema.chain_schema([json_input, validator]),
        python_schema=validator,
        serialization=core_schema.plain_serializer_function_ser_schema(
            list, return_schema=core_schema.list_schema(core_schema.str_schema()), when_used="json"
        ),
    )
