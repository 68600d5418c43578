from typing import Any

import pytest

from headwater.errors import ValidationError
from headwater.model.keys import KeySchema, key_string

HASH = KeySchema("id", "S")
RANGE = KeySchema("id", "S", "n", "N")
INVALID = "One or more parameter values were invalid: "
MISMATCH = "The provided key element does not match the schema"


def key_error(schema: KeySchema, key: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        schema.validate_key(key)
    return caught.value.message


def put_error(schema: KeySchema, item: Any, **kwargs: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        schema.validate_item_keys(item, **kwargs)
    return caught.value.message


def test_key_names_list_hash_then_range() -> None:
    assert RANGE.key_names == ("id", "n")


def test_hash_only_schema_has_one_key_name() -> None:
    assert HASH.key_names == ("id",)


def test_schema_rejects_non_key_types() -> None:
    with pytest.raises(ValueError):
        KeySchema("id", "BOOL")


def test_schema_needs_range_name_and_type_together() -> None:
    with pytest.raises(ValueError):
        KeySchema("id", "S", "n", None)


def test_extract_key_keeps_only_key_attributes() -> None:
    item = {"id": {"S": "a"}, "n": {"N": "1"}, "x": {"S": "y"}}
    assert RANGE.extract_key(item) == {"id": {"S": "a"}, "n": {"N": "1"}}


def test_validate_key_returns_normalised_key() -> None:
    assert RANGE.validate_key({"n": {"N": "1.0"}, "id": {"S": "a"}}) == {
        "id": {"S": "a"},
        "n": {"N": "1"},
    }


@pytest.mark.parametrize(
    "key",
    [
        {},
        {"b": {"S": "a"}},
        {"id": {"S": "a"}, "b": {"S": "a"}},
        {"id": {"N": "1"}},
        {"id": {"B": "YQ=="}},
        {"id": {"BOOL": True}},
        {"id": {"SS": ["a"]}},
        {"id": {"M": {}}},
    ],
)
def test_key_not_matching_schema_is_rejected(key: Any) -> None:
    assert key_error(HASH, key) == MISMATCH


def test_key_missing_range_is_rejected() -> None:
    assert key_error(RANGE, {"id": {"S": "a"}}) == MISMATCH


def test_key_with_empty_string_uses_get_item_wording() -> None:
    assert key_error(HASH, {"id": {"S": ""}}) == (
        INVALID
        + "The AttributeValue for a key attribute cannot contain an empty string value. Key: id"
    )


def test_key_with_empty_binary_uses_get_item_wording() -> None:
    schema = KeySchema("b", "B")
    assert key_error(schema, {"b": {"B": ""}}).endswith("empty binary value. Key: b")


def test_hash_key_over_2048_bytes_is_rejected() -> None:
    assert key_error(HASH, {"id": {"S": "a" * 2049}}) == (
        INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"
    )


def test_hash_key_of_2048_bytes_is_accepted() -> None:
    assert HASH.validate_key({"id": {"S": "a" * 2048}})


def test_hash_key_size_counts_utf8_bytes() -> None:
    assert "hashkey" in key_error(HASH, {"id": {"S": "é" * 1025}})


def test_range_key_over_1024_bytes_is_rejected() -> None:
    key = {"id": {"S": "a"}, "r": {"S": "a" * 1025}}
    assert key_error(KeySchema("id", "S", "r", "S"), key) == (
        INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
    )


def test_put_item_missing_hash_key_names_it() -> None:
    assert put_error(HASH, {"x": {"S": "a"}}) == INVALID + "Missing the key id in the item"


def test_put_item_missing_range_key_names_it() -> None:
    assert put_error(RANGE, {"id": {"S": "a"}}) == INVALID + "Missing the key n in the item"


def test_put_item_key_type_mismatch_names_both_types() -> None:
    assert put_error(HASH, {"id": {"N": "1"}}) == (
        INVALID + "Type mismatch for key id expected: S actual: N"
    )


def test_put_item_empty_string_key_uses_put_wording() -> None:
    assert put_error(HASH, {"id": {"S": ""}}) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: id"
    )


def test_batch_put_missing_key_is_a_schema_mismatch() -> None:
    assert put_error(HASH, {"x": {"S": "a"}}, batch=True) == MISMATCH


def test_put_item_returns_the_key() -> None:
    assert RANGE.validate_item_keys({"id": {"S": "a"}, "n": {"N": "2"}, "x": {"BOOL": True}}) == {
        "id": {"S": "a"},
        "n": {"N": "2"},
    }


def test_key_string_ignores_attribute_order() -> None:
    assert key_string({"a": {"S": "x"}, "b": {"N": "1"}}) == key_string(
        {"b": {"N": "1"}, "a": {"S": "x"}}
    )


def test_key_string_treats_equal_numbers_alike() -> None:
    assert key_string({"n": {"N": "1.50"}}) == key_string({"n": {"N": "1.5"}})


def test_key_string_separates_types() -> None:
    assert key_string({"n": {"N": "1"}}) != key_string({"n": {"S": "1"}})
