from typing import Any

import pytest

from headwater.errors import ValidationError
from headwater.expressions.names import ExpressionParams


def error(names: Any, values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        ExpressionParams(names, values)
    return caught.value.message


def test_empty_names_map_is_rejected() -> None:
    assert error({}, None) == "ExpressionAttributeNames must not be empty"


def test_empty_values_map_is_rejected() -> None:
    assert error(None, {}) == "ExpressionAttributeValues must not be empty"


def test_name_key_without_hash_is_a_syntax_error() -> None:
    assert (
        error({"a": "b"}, None)
        == 'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'
    )


def test_name_key_with_dash_is_a_syntax_error() -> None:
    assert "#sryLiyD8D-" in error({"#sryLiyD8D-": "b"}, None)


def test_value_key_without_colon_is_a_syntax_error() -> None:
    assert error(None, {"b": {"S": "a"}}) == (
        'ExpressionAttributeValues contains invalid key: Syntax error; key: "b"'
    )


def test_invalid_value_is_wrapped_with_its_key() -> None:
    assert error(None, {":b": {"SS": []}}) == (
        "ExpressionAttributeValues contains invalid value: One or more parameter values were "
        "invalid: An string set  may not be empty for key :b"
    )


def test_invalid_number_value_is_wrapped_without_prefix() -> None:
    assert error(None, {":b": {"NS": ["1", "1"]}}) == (
        "ExpressionAttributeValues contains invalid value: Input collection contains duplicates "
        "for key :b"
    )


def test_invalid_keys_are_reported_before_invalid_values() -> None:
    assert "invalid key" in error(None, {":b": {"a": ""}, "b": {"S": "a"}})


def test_values_are_normalised() -> None:
    assert ExpressionParams(None, {":n": {"N": "01"}}).value(":n") == {"N": "1"}


def test_undefined_name_resolves_to_none() -> None:
    assert ExpressionParams({"#a": "x"}, None).name("#b") is None


def test_unused_names_are_listed() -> None:
    params = ExpressionParams({"#a": "x", "#b": "y", "#c": "z"}, None)
    params.name("#b")
    with pytest.raises(ValidationError) as caught:
        params.check_unused()
    assert caught.value.message == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #c}"
    )


def test_unused_values_are_listed() -> None:
    params = ExpressionParams(None, {":v": {"S": "a"}})
    with pytest.raises(ValidationError) as caught:
        params.check_unused()
    assert caught.value.message == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}"
    )


def test_everything_used_passes_the_unused_check() -> None:
    params = ExpressionParams({"#a": "x"}, {":v": {"S": "a"}})
    params.name("#a")
    params.value(":v")
    params.check_unused()


def test_no_maps_at_all_pass_the_unused_check() -> None:
    ExpressionParams(None, None).check_unused()
