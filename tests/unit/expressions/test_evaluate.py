from typing import Any

import pytest

from headwater.expressions.conditions import parse_condition
from headwater.expressions.evaluate import attribute_size, evaluate_condition
from headwater.expressions.names import ExpressionParams

ITEM: dict[str, Any] = {
    "id": {"S": "abc"},
    "n": {"N": "5"},
    "b": {"B": "AAEC"},
    "ss": {"SS": ["red", "blue"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": ["AQ=="]},
    "l": {"L": [{"S": "x"}, {"N": "1"}]},
    "m": {"M": {"child": {"M": {"deep": {"N": "7"}}}, "arr": {"L": [{"S": "z"}]}}},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "u": {"S": "é𝄞"},
}
VALUES: dict[str, Any] = {
    ":five": {"N": "5.0"},
    ":four": {"N": "4"},
    ":six": {"N": "6"},
    ":seven": {"N": "7"},
    ":two": {"N": "2"},
    ":three": {"N": "3"},
    ":ab": {"S": "ab"},
    ":abc": {"S": "abc"},
    ":b": {"S": "b"},
    ":red": {"S": "red"},
    ":x": {"S": "x"},
    ":one": {"N": "1"},
    ":twohalf": {"N": "2.50"},
    ":bin": {"B": "AAE="},
    ":binone": {"B": "AQ=="},
    ":S": {"S": "S"},
    ":SS": {"S": "SS"},
    ":M": {"S": "M"},
    ":list": {"L": [{"S": "x"}, {"N": "1"}]},
    ":nums": {"NS": ["2.5", "1"]},
    ":true": {"BOOL": True},
}


def holds(text: str, item: dict[str, Any] | None = ITEM) -> bool:
    condition = parse_condition(text, ExpressionParams(None, VALUES))
    return evaluate_condition(condition, item)


def test_equal_numbers_match_numerically() -> None:
    assert holds("n = :five")


def test_equal_fails_on_type_mismatch() -> None:
    assert not holds("id = :five")


def test_equal_with_gone_attribute_is_false() -> None:
    assert not holds("gone = :five")


def test_not_equal_with_gone_attribute_is_true() -> None:
    assert holds("gone <> :five")


def test_two_gone_attributes_are_not_equal() -> None:
    assert holds("q <> r")


def test_lists_compare_element_by_element() -> None:
    assert holds("l = :list")


def test_sets_compare_without_order() -> None:
    assert holds("ns = :nums")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n < :six", True),
        ("n < :five", False),
        ("n <= :five", True),
        ("n > :four", True),
        ("n >= :six", False),
        ("id > :ab", True),
        ("b > :bin", True),
    ],
)
def test_ordering_comparisons(text: str, expected: bool) -> None:
    assert holds(text) is expected


def test_ordering_across_types_is_false() -> None:
    assert not holds("id < :six")


def test_ordering_with_gone_attribute_is_false() -> None:
    assert not holds("gone < :six")


def test_ordering_two_gone_attributes_is_false() -> None:
    assert not holds("q >= r")


def test_between_is_inclusive() -> None:
    assert holds("n BETWEEN :five AND :six")


def test_between_outside_range_is_false() -> None:
    assert not holds("n BETWEEN :six AND :seven")


def test_in_matches_any_choice() -> None:
    assert holds("n IN (:four, :five)")


def test_in_without_match_is_false() -> None:
    assert not holds("n IN (:four, :six)")


def test_nested_map_paths_resolve() -> None:
    assert holds("m.child.deep = :seven")


def test_list_index_paths_resolve() -> None:
    assert holds("l[1] = :one AND m.arr[0] <> :x")


def test_out_of_range_index_is_gone() -> None:
    assert holds("attribute_not_exists(l[5])")


def test_attribute_exists() -> None:
    assert holds("attribute_exists(m.child)")


def test_attribute_not_exists_on_absent_item() -> None:
    assert holds("attribute_not_exists(id)", None)


def test_everything_is_gone_on_absent_item() -> None:
    assert not holds("attribute_exists(id)", None)


def test_attribute_type_matches_the_stored_type() -> None:
    assert holds("attribute_type(id, :S) AND attribute_type(ss, :SS) AND attribute_type(m, :M)")


def test_attribute_type_of_gone_attribute_is_false() -> None:
    assert not holds("attribute_type(gone, :S)")


def test_begins_with_string() -> None:
    assert holds("begins_with(id, :ab)")


def test_begins_with_binary() -> None:
    assert holds("begins_with(b, :bin)")


def test_begins_with_wrong_type_is_false() -> None:
    assert not holds("begins_with(n, :ab)")


def test_contains_substring() -> None:
    assert holds("contains(id, :b)")


def test_contains_string_set_member() -> None:
    assert holds("contains(ss, :red)")


def test_contains_number_set_member_numerically() -> None:
    assert holds("contains(ns, :twohalf)")


def test_contains_binary_set_member() -> None:
    assert holds("contains(bs, :binone)")


def test_contains_list_element() -> None:
    assert holds("contains(l, :x)")


def test_contains_on_number_is_false() -> None:
    assert not holds("contains(n, :five)")


def test_size_of_string() -> None:
    assert holds("size(id) = :three")


def test_size_of_string_counts_utf16_units() -> None:
    assert holds("size(u) = :three")


def test_size_of_collections_counts_elements() -> None:
    assert holds("size(ss) = :two AND size(l) = :two AND size(m) = :two")


def test_size_of_number_makes_the_comparison_false() -> None:
    assert not holds("size(n) > :one")


def test_size_of_gone_attribute_is_false() -> None:
    assert not holds("size(gone) >= :one")


def test_not_negates() -> None:
    assert holds("NOT n = :four")


def test_or_needs_one_true_branch() -> None:
    assert holds("n = :four OR n = :five")


def test_and_needs_every_branch() -> None:
    assert not holds("n = :five AND n = :four")


def test_attribute_size_of_binary_counts_bytes() -> None:
    assert attribute_size({"B": "AAEC"}) == 3


def test_attribute_size_of_bool_is_undefined() -> None:
    assert attribute_size({"BOOL": True}) is None
