from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.errors import SerializationError, ValidationError
from headwater.model.numbers import parse_number
from headwater.model.values import validate_item, validate_sized_item, validate_value

INVALID = "One or more parameter values were invalid: "


def message_of(value: Any, **kwargs: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_value(value, **kwargs)
    return caught.value.message


@pytest.mark.parametrize(
    "value", [{}, {"a": ""}, {"M": {"a": {}}}, {"L": [{}]}, {"L": [{"a": {}}]}, {"S": None}]
)
def test_value_without_a_type_is_empty(value: Any) -> None:
    assert message_of(value) == (
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
    )


def test_value_with_two_types_is_rejected() -> None:
    assert message_of({"S": "a", "N": "1"}) == (
        "Supplied AttributeValue has more than one datatypes set, "
        "must contain exactly one of the supported datatypes"
    )


def test_member_errors_win_over_two_types() -> None:
    assert message_of({"S": "", "N": ""}) == "The parameter cannot be converted to a numeric value"


def test_null_must_be_true() -> None:
    assert (
        message_of({"NULL": False})
        == INVALID + "Null attribute value types must have the value of true"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"SS": []}, "An string set  may not be empty"),
        ({"NS": []}, "An number set  may not be empty"),
        ({"BS": []}, "Binary sets should not be empty"),
    ],
)
def test_empty_sets_are_rejected(value: Any, expected: str) -> None:
    assert message_of(value) == INVALID + expected


def test_duplicate_strings_print_the_whole_set() -> None:
    assert (
        message_of({"SS": ["a", "a"]}) == INVALID + "Input collection [a, a] contains duplicates."
    )


def test_duplicate_binaries_use_aws_spacing() -> None:
    assert message_of({"BS": ["Yg==", "Yg=="]}) == (
        INVALID + "Input collection [Yg==, Yg==]of type BS contains duplicates."
    )


def test_numerically_equal_numbers_are_duplicates() -> None:
    assert message_of({"NS": ["1", "1.0"]}) == "Input collection contains duplicates"


def test_empty_number_in_set_is_not_numeric() -> None:
    assert message_of({"NS": ["1", ""]}) == "The parameter cannot be converted to a numeric value"


def test_bad_number_in_set_names_it() -> None:
    assert (
        message_of({"NS": ["1", "b"]}) == "The parameter cannot be converted to a numeric value: b"
    )


def test_numbers_are_normalised() -> None:
    assert validate_value({"N": "1.50"}) == {"N": "1.5"}


def test_number_sets_are_normalised_and_keep_order() -> None:
    assert validate_value({"NS": ["10", "01", "2e0"]}) == {"NS": ["10", "1", "2"]}


def test_string_sets_keep_order() -> None:
    assert validate_value({"SS": ["b", "a"]}) == {"SS": ["b", "a"]}


def test_empty_string_is_allowed_outside_keys() -> None:
    assert validate_value({"S": ""}) == {"S": ""}


def test_nested_values_are_validated_and_normalised() -> None:
    value = {"M": {"a": {"L": [{"N": "01"}, {"BOOL": True}, {"NULL": True}]}}}
    assert validate_value(value) == {
        "M": {"a": {"L": [{"N": "1"}, {"BOOL": True}, {"NULL": True}]}}
    }


def test_unknown_members_are_dropped() -> None:
    assert validate_value({"S": "a", "X": 1}) == {"S": "a"}


def test_binary_is_canonical_base64() -> None:
    assert validate_value({"B": "YWJj"}) == {"B": "YWJj"}


def test_binary_with_bad_length_is_a_serialization_error() -> None:
    with pytest.raises(SerializationError, match="multiple of 4 bytes but found: 5"):
        validate_value({"B": "23456"})


def test_binary_with_bad_characters_is_a_serialization_error() -> None:
    with pytest.raises(SerializationError):
        validate_value({"B": "=+/="})


def test_number_given_as_json_number_is_a_serialization_error() -> None:
    with pytest.raises(SerializationError, match="NUMBER_VALUE cannot be converted to String"):
        validate_value({"N": 123})


def test_boolean_given_as_string_is_a_serialization_error() -> None:
    with pytest.raises(SerializationError, match="Unexpected token received from parser"):
        validate_value({"BOOL": "true"})


def test_scalar_instead_of_value_is_a_serialization_error() -> None:
    with pytest.raises(SerializationError, match="Unexpected value type in payload"):
        validate_value("a")


def test_thirty_two_nested_levels_are_allowed() -> None:
    value: dict[str, Any] = {"S": "x"}
    for _ in range(32):
        value = {"L": [value]}
    assert validate_value(value) == value


def test_thirty_three_nested_levels_are_rejected() -> None:
    value: dict[str, Any] = {"S": "x"}
    for _ in range(33):
        value = {"M": {"a": value}}
    assert message_of(value) == "Nesting Levels have exceeded supported limits"


def test_starting_key_prefixes_the_empty_value_message() -> None:
    assert message_of({}, path="exclusiveStartKey").startswith(
        "The provided starting key is invalid: "
    )


def test_starting_key_does_not_prefix_string_set_duplicates() -> None:
    assert message_of({"SS": ["a", "a"]}, path="exclusiveStartKey").startswith(INVALID)


def test_validate_item_returns_a_normalised_copy() -> None:
    item = {"id": {"S": "a"}, "n": {"N": "1.50"}}
    assert validate_item(item) == {"id": {"S": "a"}, "n": {"N": "1.5"}}
    assert item["n"] == {"N": "1.50"}


def test_validate_item_rejects_empty_attribute_name() -> None:
    with pytest.raises(ValidationError, match="Empty attribute name"):
        validate_item({"": {"S": "a"}})


def test_validate_item_rejects_names_over_65535_bytes() -> None:
    with pytest.raises(ValidationError, match="65536"):
        validate_item({"a" * 65536: {"S": "a"}})


def test_validate_item_accepts_names_of_65535_bytes() -> None:
    assert validate_item({"a" * 65535: {"S": "a"}})


def test_validate_item_rejects_a_list() -> None:
    with pytest.raises(SerializationError):
        validate_item([])


@given(st.integers(min_value=-(10**40), max_value=10**40))
def test_the_integer_fast_path_agrees_with_the_full_number_parser(n: int) -> None:
    text = str(n)
    try:
        number = parse_number(text)
    except ValidationError:
        with pytest.raises(ValidationError):
            validate_sized_item({"n": {"N": text}})
        return
    item, size = validate_sized_item({"n": {"N": text}})
    assert item == {"n": {"N": number.text()}}
    assert size == 1 + (len(number.digits) + 1) // 2 + 1
