from __future__ import annotations

import pytest

from headwater.destinations import message_attributes as ma
from headwater.destinations.errors import InvalidMessageContents, MissingParameter
from headwater.destinations.message_attributes import MessageAttribute
from headwater.errors import ValidationError


def test_md5_of_string_attributes_matches_aws_example() -> None:
    attributes = {
        "test_attribute_name_2": MessageAttribute("String", "test_attribute_value_2"),
        "test_attribute_name_1": MessageAttribute("String", "test_attribute_value_1"),
    }
    assert ma.md5_of_attributes(attributes) == "d53f3b558fe951154770f25cb63dbba9"


def test_md5_of_binary_attribute_matches_aws_example() -> None:
    attributes = {
        "test_attribute_name": MessageAttribute("Binary", binary_value=b"test_attribute_value")
    }
    assert ma.md5_of_attributes(attributes) == "23f6bd27ea87aab7dfeadcc9aebee495"


def test_attributes_survive_storage() -> None:
    attributes = {
        "s": MessageAttribute("String", "x"),
        "n": MessageAttribute("Number.int", "12"),
        "b": MessageAttribute("Binary", binary_value=b"\x00\xff"),
    }
    assert ma.loads(ma.dumps(attributes)) == attributes
    assert ma.dumps({}) is None


@pytest.mark.parametrize(
    ("attributes", "text"),
    [
        ({"aws.reserved": MessageAttribute("String", "x")}, "name 'aws.reserved' is invalid"),
        ({"a..b": MessageAttribute("String", "x")}, "is invalid"),
        ({"t": MessageAttribute("Integer", "1")}, "supported type prefixes"),
        ({"e": MessageAttribute("String", "")}, "non-empty message attribute value"),
        ({"n": MessageAttribute("Number", "NaN")}, "to a number"),
        ({str(i): MessageAttribute("String", "x") for i in range(11)}, "exceeds the allowed"),
    ],
)
def test_invalid_attributes_are_refused(attributes: ma.Attributes, text: str) -> None:
    with pytest.raises(ValidationError, match=text):
        ma.check_attributes(attributes)


def test_attribute_size_counts_name_type_and_value() -> None:
    assert ma.check_attributes({"ab": MessageAttribute("String", "xyz")}) == 2 + 6 + 3


def test_body_must_be_present_and_valid_xml_characters() -> None:
    ma.check_body("tab\tnewline\nemoji \U0001f600")
    with pytest.raises(MissingParameter):
        ma.check_body("")
    with pytest.raises(InvalidMessageContents):
        ma.check_body("nul \x00")
    with pytest.raises(InvalidMessageContents):
        ma.check_body("\ufffe")


def test_select_by_name_prefix_or_all() -> None:
    attributes = {
        "a.x": MessageAttribute("String", "1"),
        "a.y": MessageAttribute("String", "2"),
        "b": MessageAttribute("String", "3"),
    }
    assert set(ma.select(attributes, ["a.*"])) == {"a.x", "a.y"}
    assert set(ma.select(attributes, ["b"])) == {"b"}
    assert set(ma.select(attributes, ["All"])) == {"a.x", "a.y", "b"}
    assert ma.select(attributes, []) == {}
