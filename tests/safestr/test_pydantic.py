"""pydantic v2 models with key fields (skipped when pydantic is not installed)."""

from __future__ import annotations

import pytest

pydantic = pytest.importorskip("pydantic")

from persidict_safestr import NonEmptySafeStrTuple, SafeStrTuple  # noqa: E402


class Model(pydantic.BaseModel):  # type: ignore[name-defined,misc]
    key: NonEmptySafeStrTuple
    prefix: SafeStrTuple = SafeStrTuple()


def test_validation_from_str_list_tuple_and_key() -> None:
    assert Model(key="a").key == ("a",)
    assert Model(key=["a", "b"]).key == ("a", "b")
    assert Model(key=("a", "b")).key == ("a", "b")
    key = NonEmptySafeStrTuple("a", "b")
    assert Model(key=key).key is key
    assert type(Model(key="a").key) is NonEmptySafeStrTuple
    assert type(Model(key="a", prefix=["p"]).prefix) is SafeStrTuple


def test_json_round_trip() -> None:
    model = Model(key=("a", "b"), prefix="p")
    text = model.model_dump_json()
    assert '"key":["a","b"]' in text.replace(" ", "")
    back = Model.model_validate_json(text)
    assert back == model
    assert type(back.key) is NonEmptySafeStrTuple


@pytest.mark.parametrize("bad", ["a/b", "", [], [".."], 5, None, {"a": 1}])
def test_invalid_input_is_a_validation_error(bad: object) -> None:
    with pytest.raises(pydantic.ValidationError):
        Model(key=bad)


def test_invalid_json_is_a_validation_error() -> None:
    with pytest.raises(pydantic.ValidationError):
        Model.model_validate_json('{"key": ["a", "b/c"]}')
    with pytest.raises(pydantic.ValidationError):
        Model.model_validate_json('{"key": 5}')


def test_json_schema() -> None:
    schema = Model.model_json_schema()
    assert "key" in schema["properties"]
