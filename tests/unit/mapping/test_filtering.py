"""Event filtering (FilterCriteria, EventBridge pattern syntax; spec §6.8, §5.2, §5.5)."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater.errors import InvalidParameterValue
from headwater.mapping.filtering import MAX_FILTERS, FilterSet, compile_filters
from headwater.streams.records import build_record

INVALID = r"^Invalid filter pattern definition\.$"
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def criteria(*patterns: Any) -> dict[str, Any]:
    return {"Filters": [{"Pattern": p if isinstance(p, str) else json.dumps(p)} for p in patterns]}


def compiled(*patterns: Any) -> FilterSet:
    filters = compile_filters(criteria(*patterns))
    assert filters is not None
    return filters


def passes(pattern: Any, record: dict[str, Any]) -> bool:
    return compiled(pattern).matches(record)


def assert_rejected(pattern: Any) -> None:
    with pytest.raises(InvalidParameterValue, match=INVALID):
        compile_filters(criteria(pattern))


def ddb_record(
    name: str = "INSERT",
    *,
    keys: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    view_type: str = "NEW_AND_OLD_IMAGES",
    user_identity: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A DynamoDB stream record as Lambda delivers it (spec §3.2), through real JSON."""
    keys = keys or {"id": {"S": "id_value"}}
    record = build_record(
        name=name,
        view_type=view_type,
        keys=keys,
        old=old,
        new=new if new is not None or name == "REMOVE" else keys,
        region="us-east-1",
        sequence_number="100000000000000000001",
        created=1_764_085_660.0,
        event_id="0" * 32,
        user_identity=user_identity,
    )
    record["eventSourceARN"] = STREAM_ARN
    loaded: dict[str, Any] = orjson.loads(orjson.dumps(record))
    return loaded


# -- no filtering ----------------------------------------------------------------------------


def test_no_criteria_means_no_filtering() -> None:
    assert compile_filters(None) is None


def test_empty_criteria_object_means_no_filtering() -> None:
    assert compile_filters({}) is None


def test_empty_filter_list_means_no_filtering() -> None:
    assert compile_filters({"Filters": []}) is None


def test_filter_set_knows_how_many_filters_it_holds() -> None:
    assert len(compiled({"a": ["x"]}, {"b": ["y"]})) == 2


# -- validation --------------------------------------------------------------------------------


def test_pattern_that_is_not_json_is_rejected() -> None:
    assert_rejected("single-string")


def test_malformed_json_pattern_is_rejected() -> None:
    assert_rejected('[{"eventName": ["INSERT"=123}]')


@pytest.mark.parametrize("pattern", ['["a"]', '"text"', "5", "true", "null"])
def test_pattern_that_is_not_a_json_object_is_rejected(pattern: str) -> None:
    assert_rejected(pattern)


def test_leaf_that_is_not_a_list_is_rejected() -> None:
    assert_rejected({"eventName": "INSERT"})


def test_empty_matcher_list_is_rejected() -> None:
    assert_rejected({"eventName": []})


@pytest.mark.parametrize("pattern", [{}, {"dynamodb": {}}])
def test_empty_pattern_object_is_rejected(pattern: Any) -> None:
    assert_rejected(pattern)


def test_list_inside_a_matcher_list_is_rejected() -> None:
    assert_rejected({"a": [["x"]]})


@pytest.mark.parametrize("operator", ["wildcard", "cidr", "exact", "contains", "Prefix"])
def test_unknown_operator_is_rejected(operator: str) -> None:
    assert_rejected({"a": [{operator: "x"}]})


def test_operator_object_with_two_keys_is_rejected() -> None:
    assert_rejected({"a": [{"prefix": "x", "suffix": "y"}]})


def test_empty_operator_object_is_rejected() -> None:
    assert_rejected({"a": [{}]})


@pytest.mark.parametrize("operator", ["prefix", "suffix", "equals-ignore-case"])
@pytest.mark.parametrize("operand", [5, None, True, ["x"], {"x": 1}])
def test_string_operator_with_a_non_string_operand_is_rejected(operator: str, operand: Any) -> None:
    assert_rejected({"a": [{operator: operand}]})


@pytest.mark.parametrize("operand", ["true", 1, 0, None, [True]])
def test_exists_with_a_non_bool_is_rejected(operand: Any) -> None:
    assert_rejected({"a": [{"exists": operand}]})


@pytest.mark.parametrize(
    "operand",
    [
        5,
        "> 5",
        [],
        ["="],
        ["=", "5"],
        ["==", 5],
        ["=", True],
        [">", None],
        [5, ">"],
        [">", 1, "<"],
        ["=", 1, "<", 2],
        ["<", 5, ">", 1],
        [">", 1, ">", 2],
        [">", 1, "<", 2, "<", 3],
        [">", 10, "<", 5],
        [">=", 5, "<=", 5],
        [{">": 1}, 2, "<", 3],
    ],
)
def test_bad_numeric_operand_is_rejected(operand: Any) -> None:
    assert_rejected({"a": [{"numeric": operand}]})


@pytest.mark.parametrize("pattern", ['{"a": [{"numeric": [">", NaN]}]}', '{"a": [Infinity]}'])
def test_non_finite_number_is_rejected(pattern: str) -> None:
    assert_rejected(pattern)


def test_numeric_bound_that_overflows_to_infinity_is_rejected() -> None:
    assert_rejected('{"a": [{"numeric": ["<", 1e999]}]}')


@pytest.mark.parametrize(
    "operand",
    [[], None, True, [None], [True], ["a", 1], {"prefix": "a"}, [["a"]], {"x": 1}],
)
def test_bad_anything_but_operand_is_rejected(operand: Any) -> None:
    assert_rejected({"a": [{"anything-but": operand}]})


@pytest.mark.parametrize("operand", ["x", {"a": ["x"]}, [{"a": ["x"]}], [{"a": ["x"]}, "b"]])
def test_or_that_is_not_a_list_of_two_or_more_objects_is_rejected(operand: Any) -> None:
    assert_rejected({"$or": operand})


def test_or_branch_that_is_itself_invalid_is_rejected() -> None:
    assert_rejected({"$or": [{"a": ["x"]}, {"b": "not-a-list"}]})


def test_more_filters_than_the_quota_are_rejected_with_their_own_message() -> None:
    too_many = criteria(*[{"a": [str(i)]} for i in range(MAX_FILTERS + 1)])
    with pytest.raises(InvalidParameterValue, match=r"at most 5 filters; 6 were given"):
        compile_filters(too_many)


def test_as_many_filters_as_the_quota_are_accepted() -> None:
    assert len(compiled(*[{"a": [str(i)]} for i in range(MAX_FILTERS)])) == MAX_FILTERS


def test_pattern_longer_than_4096_characters_is_rejected() -> None:
    pattern = json.dumps({"a": ["x" * 4090]})
    assert len(pattern) > 4096
    assert_rejected(pattern)


def test_pattern_of_exactly_4096_characters_is_accepted() -> None:
    pattern = json.dumps({"a": ["x"]})
    pattern = pattern[:-1] + " " * (4096 - len(pattern)) + "}"
    assert len(pattern) == 4096
    assert compiled(pattern).matches({"a": "x"})


def test_deeply_nested_pattern_is_rejected_not_crashed_on() -> None:
    assert_rejected('{"a":' + "[" * 2000 + "]" * 2000 + "}")


@pytest.mark.parametrize("filters", ["x", {"Pattern": "{}"}, 5])
def test_filters_that_is_not_a_list_is_rejected(filters: Any) -> None:
    with pytest.raises(InvalidParameterValue, match=INVALID):
        compile_filters({"Filters": filters})


@pytest.mark.parametrize("item", [{}, {"Pattern": None}, {"Pattern": {"a": ["x"]}}, "{}", None])
def test_filter_without_a_pattern_string_is_rejected(item: Any) -> None:
    with pytest.raises(InvalidParameterValue, match=INVALID):
        compile_filters({"Filters": [item]})


def test_criteria_that_is_not_an_object_is_rejected() -> None:
    with pytest.raises(InvalidParameterValue, match=INVALID):
        compile_filters(["Filters"])  # type: ignore[arg-type]


def test_one_bad_filter_rejects_the_whole_criteria() -> None:
    with pytest.raises(InvalidParameterValue, match=INVALID):
        compile_filters(criteria({"a": ["x"]}, "not json"))


# -- combining ---------------------------------------------------------------------------------


def test_filters_are_ored() -> None:
    filters = compiled({"a": ["x"]}, {"b": ["y"]})
    assert filters.matches({"a": "x"})
    assert filters.matches({"b": "y"})
    assert not filters.matches({"a": "y", "b": "x"})


def test_fields_in_one_pattern_are_anded() -> None:
    pattern = {"Location": ["New York"], "Day": ["Monday"]}
    assert passes(pattern, {"Location": "New York", "Day": "Monday"})
    assert not passes(pattern, {"Location": "New York", "Day": "Tuesday"})


def test_values_in_a_matcher_list_are_ored() -> None:
    pattern = {"PaymentType": ["Credit", "Debit"]}
    assert passes(pattern, {"PaymentType": "Debit"})
    assert not passes(pattern, {"PaymentType": "Cash"})


def test_or_matches_when_any_branch_matches() -> None:
    pattern = {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}
    assert passes(pattern, {"Location": "Boston", "Day": "Monday"})
    assert passes(pattern, {"Location": "New York", "Day": "Friday"})
    assert not passes(pattern, {"Location": "Boston", "Day": "Friday"})


def test_or_is_anded_with_its_sibling_fields() -> None:
    pattern = {"source": ["s"], "$or": [{"a": ["1"]}, {"b": ["2"]}]}
    assert passes(pattern, {"source": "s", "b": "2"})
    assert not passes(pattern, {"source": "t", "b": "2"})


def test_or_inside_a_nested_object_matches_relative_to_it() -> None:
    pattern = {"detail": {"$or": [{"c": [{"numeric": [">", 0, "<=", 5]}]}, {"d": ["x"]}]}}
    assert passes(pattern, {"detail": {"c": 3}})
    assert passes(pattern, {"detail": {"d": "x"}})
    assert not passes(pattern, {"c": 3, "detail": {"c": 9}})


def test_nested_or_inside_an_or_branch() -> None:
    pattern = {"$or": [{"a": ["1"]}, {"$or": [{"b": ["2"]}, {"c": ["3"]}]}]}
    assert passes(pattern, {"c": "3"})
    assert not passes(pattern, {"d": "4"})


def test_duplicate_keys_in_a_pattern_last_one_wins() -> None:
    pattern = '{"a": ["first"], "a": ["second"]}'
    assert passes(pattern, {"a": "second"})
    assert not passes(pattern, {"a": "first"})


# -- fields and nesting ------------------------------------------------------------------------


def test_nested_pattern_descends_into_the_record() -> None:
    pattern = {"detail": {"state": ["running"]}}
    assert passes(pattern, {"detail": {"state": "running"}})
    assert not passes(pattern, {"state": "running", "detail": {"state": "stopped"}})


def test_fields_not_named_in_the_pattern_are_ignored() -> None:
    assert passes({"a": ["x"]}, {"a": "x", "b": "anything", "c": {"d": [1, 2]}})


def test_named_field_missing_from_the_record_does_not_match() -> None:
    assert not passes({"a": ["x"], "b": ["y"]}, {"a": "x"})


def test_nested_pattern_on_a_missing_parent_does_not_match() -> None:
    assert not passes({"detail": {"state": ["running"]}}, {"other": 1})


def test_nested_pattern_on_a_scalar_does_not_match() -> None:
    assert not passes({"detail": {"state": ["running"]}}, {"detail": "running"})


def test_leaf_matchers_on_an_object_value_do_not_match() -> None:
    assert not passes({"detail": ["running"]}, {"detail": {"state": "running"}})


# -- equality ----------------------------------------------------------------------------------


def test_exact_string_match_is_case_sensitive() -> None:
    assert passes({"Name": ["Alice"]}, {"Name": "Alice"})
    assert not passes({"Name": ["Alice"]}, {"Name": "alice"})


def test_exact_string_match_does_no_normalization() -> None:
    assert not passes({"Name": ["Alice"]}, {"Name": " Alice"})


def test_string_in_pattern_does_not_equal_a_number_in_record() -> None:
    assert not passes({"Price": ["300"]}, {"Price": 300})


def test_number_in_pattern_does_not_equal_a_numeric_string_in_record() -> None:
    assert not passes({"Price": [300]}, {"Price": "300"})


def test_number_equals_a_record_number_with_the_same_json_text() -> None:
    assert passes({"Price": [300]}, {"Price": 300})
    assert passes({"Price": [300.5]}, {"Price": 300.5})


@pytest.mark.parametrize("literal", ["300.0", "3.0e2", "3e2"])
def test_numbers_written_differently_are_not_equal(literal: str) -> None:
    assert not passes('{"Price": [' + literal + "]}", {"Price": 300})


def test_float_record_value_equals_only_its_own_json_text() -> None:
    assert passes('{"t": [1764085660.0]}', {"t": 1764085660.0})
    assert not passes('{"t": [1764085660]}', {"t": 1764085660.0})


def test_true_matches_json_true_only() -> None:
    assert passes({"flag": [True]}, {"flag": True})
    assert not passes({"flag": [True]}, {"flag": 1})
    assert not passes({"flag": [True]}, {"flag": "true"})


def test_false_does_not_match_zero() -> None:
    assert not passes({"flag": [False]}, {"flag": 0})


def test_number_one_does_not_match_true() -> None:
    assert not passes({"n": [1]}, {"n": True})


def test_null_matches_an_explicit_null() -> None:
    assert passes({"UserID": [None]}, {"UserID": None})


def test_null_does_not_match_a_missing_field() -> None:
    assert not passes({"UserID": [None]}, {"Other": 1})


def test_null_does_not_match_an_empty_string() -> None:
    assert not passes({"UserID": [None]}, {"UserID": ""})


def test_empty_string_matches_only_an_empty_string() -> None:
    assert passes({"LastName": [""]}, {"LastName": ""})
    assert not passes({"LastName": [""]}, {"LastName": None})
    assert not passes({"LastName": [""]}, {})


# -- operators ---------------------------------------------------------------------------------


def test_equals_ignore_case_matches_any_casing() -> None:
    pattern = {"Name": [{"equals-ignore-case": "alice"}]}
    assert passes(pattern, {"Name": "ALICE"})
    assert passes(pattern, {"Name": "aLiCe"})
    assert not passes(pattern, {"Name": "alicia"})


def test_equals_ignore_case_applies_only_to_strings() -> None:
    assert not passes({"n": [{"equals-ignore-case": "true"}]}, {"n": True})


def test_anything_but_single_string_excludes_that_value() -> None:
    pattern = {"Weather": [{"anything-but": "Raining"}]}
    assert passes(pattern, {"Weather": "Sunny"})
    assert not passes(pattern, {"Weather": "Raining"})


def test_anything_but_list_excludes_every_value_in_it() -> None:
    pattern = {"Weather": [{"anything-but": ["Raining", "Snowing"]}]}
    assert passes(pattern, {"Weather": "Sunny"})
    assert not passes(pattern, {"Weather": "Snowing"})


def test_anything_but_is_case_sensitive() -> None:
    assert passes({"Weather": [{"anything-but": "Raining"}]}, {"Weather": "raining"})


def test_anything_but_numbers_compare_by_value() -> None:
    pattern = {"code": [{"anything-but": [101, 200]}]}
    assert passes(pattern, {"code": 42})
    assert not passes(pattern, {"code": 101.0})
    assert not passes(pattern, {"code": 200})


def test_anything_but_string_accepts_a_number_with_the_same_digits() -> None:
    assert passes({"code": [{"anything-but": "101"}]}, {"code": 101})


def test_anything_but_number_accepts_a_string_with_the_same_digits() -> None:
    assert passes({"code": [{"anything-but": 101}]}, {"code": "101"})


def test_anything_but_needs_the_field_to_exist() -> None:
    assert not passes({"Weather": [{"anything-but": "Raining"}]}, {"Other": "x"})


def test_numeric_equals_compares_values_not_text() -> None:
    pattern = {"Price": [{"numeric": ["=", 100]}]}
    assert passes(pattern, {"Price": 100})
    assert passes(pattern, {"Price": 100.0})
    assert not passes(pattern, {"Price": 101})


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        (">", 10, False),
        (">", 11, True),
        (">=", 10, True),
        (">=", 9.5, False),
        ("<", 10, False),
        ("<", 9.99, True),
        ("<=", 10, True),
        ("<=", 10.01, False),
    ],
)
def test_numeric_single_bound(operator: str, value: float, expected: bool) -> None:
    assert passes({"Price": [{"numeric": [operator, 10]}]}, {"Price": value}) is expected


@pytest.mark.parametrize(
    ("value", "expected"), [(10, False), (10.5, True), (20, True), (20.001, False), (-1, False)]
)
def test_numeric_range_open_below_closed_above(value: float, expected: bool) -> None:
    pattern = {"Price": [{"numeric": [">", 10, "<=", 20]}]}
    assert passes(pattern, {"Price": value}) is expected


@pytest.mark.parametrize(("value", "expected"), [(10, True), (19.9, True), (20, False)])
def test_numeric_range_closed_below_open_above(value: float, expected: bool) -> None:
    pattern = {"Price": [{"numeric": [">=", 10, "<", 20]}]}
    assert passes(pattern, {"Price": value}) is expected


def test_numeric_accepts_negative_and_fractional_bounds() -> None:
    pattern = {"t": [{"numeric": [">", -1.5, "<", -0.25]}]}
    assert passes(pattern, {"t": -1})
    assert not passes(pattern, {"t": 0})


def test_numeric_never_matches_a_numeric_string() -> None:
    assert not passes({"Price": [{"numeric": [">", 0]}]}, {"Price": "100"})


def test_numeric_never_matches_a_bool() -> None:
    assert not passes({"flag": [{"numeric": [">", 0]}]}, {"flag": True})


def test_numeric_compares_huge_integers_exactly() -> None:
    assert passes({"n": [{"numeric": [">", 1e300]}]}, {"n": 10**400})


def test_exists_true_matches_a_present_leaf() -> None:
    assert passes({"ProductName": [{"exists": True}]}, {"ProductName": "Widget"})


def test_exists_true_matches_a_null_leaf() -> None:
    assert passes({"ProductName": [{"exists": True}]}, {"ProductName": None})


def test_exists_true_does_not_match_a_missing_field() -> None:
    assert not passes({"ProductName": [{"exists": True}]}, {"Other": 1})


def test_exists_true_does_not_match_an_object_because_it_is_not_a_leaf() -> None:
    assert not passes({"ProductName": [{"exists": True}]}, {"ProductName": {"S": "Widget"}})


def test_exists_false_matches_a_missing_field() -> None:
    assert passes({"ProductName": [{"exists": False}]}, {"Other": 1})


def test_exists_false_does_not_match_a_present_leaf() -> None:
    assert not passes({"ProductName": [{"exists": False}]}, {"ProductName": "Widget"})


def test_exists_false_does_not_match_a_null_leaf() -> None:
    assert not passes({"ProductName": [{"exists": False}]}, {"ProductName": None})


def test_exists_false_matches_an_object_because_it_is_not_a_leaf() -> None:
    assert passes({"ProductName": [{"exists": False}]}, {"ProductName": {"S": "Widget"}})


def test_exists_false_matches_when_the_parent_is_missing() -> None:
    assert passes({"detail": {"ProductName": [{"exists": False}]}}, {"other": 1})


def test_exists_false_is_ored_with_other_matchers_in_its_list() -> None:
    pattern = {"state": [{"exists": False}, "ready"]}
    assert passes(pattern, {})
    assert passes(pattern, {"state": "ready"})
    assert not passes(pattern, {"state": "busy"})


def test_prefix_matches_the_start_of_a_string() -> None:
    pattern = {"Region": [{"prefix": "us-"}]}
    assert passes(pattern, {"Region": "us-east-1"})
    assert not passes(pattern, {"Region": "eu-west-1"})


def test_prefix_applies_only_to_strings() -> None:
    assert not passes({"n": [{"prefix": "12"}]}, {"n": 123})


def test_suffix_matches_the_end_of_a_string() -> None:
    pattern = {"FileName": [{"suffix": ".png"}]}
    assert passes(pattern, {"FileName": "cat.png"})
    assert not passes(pattern, {"FileName": "cat.png.txt"})


def test_suffix_applies_only_to_strings() -> None:
    assert not passes({"n": [{"suffix": "3"}]}, {"n": 123})


def test_operators_and_values_mix_in_one_matcher_list() -> None:
    pattern = {"x": ["exact", {"prefix": "pre"}, {"numeric": [">", 10]}]}
    assert passes(pattern, {"x": "exact"})
    assert passes(pattern, {"x": "prefixed"})
    assert passes(pattern, {"x": 11})
    assert not passes(pattern, {"x": 5})


# -- arrays in the record ----------------------------------------------------------------------


def test_array_in_the_record_matches_when_any_element_matches() -> None:
    pattern = {"tags": ["blue"]}
    assert passes(pattern, {"tags": ["red", "blue"]})
    assert not passes(pattern, {"tags": ["red", "green"]})


def test_array_of_objects_matches_when_one_element_satisfies_the_sub_pattern() -> None:
    pattern = {"items": {"kind": ["book"], "qty": [2]}}
    assert passes(pattern, {"items": [{"kind": "pen", "qty": 5}, {"kind": "book", "qty": 2}]})


def test_array_of_objects_needs_the_whole_sub_pattern_in_the_same_element() -> None:
    pattern = {"items": {"kind": ["book"], "qty": [2]}}
    assert not passes(pattern, {"items": [{"kind": "book", "qty": 5}, {"kind": "pen", "qty": 2}]})


def test_nested_arrays_in_the_record_are_flattened() -> None:
    assert passes({"grid": [5]}, {"grid": [[1, 2], [3, [4, 5]]]})


def test_empty_array_has_no_leaves() -> None:
    assert not passes({"tags": [{"exists": True}]}, {"tags": []})
    assert passes({"tags": [{"exists": False}]}, {"tags": []})
    assert not passes({"tags": [None]}, {"tags": []})


def test_array_holding_only_objects_has_no_leaves() -> None:
    assert passes({"tags": [{"exists": False}]}, {"tags": [{"a": 1}]})


def test_numeric_matches_any_number_in_an_array() -> None:
    assert passes({"scores": [{"numeric": [">=", 90]}]}, {"scores": [12, 95]})


def test_anything_but_passes_when_any_element_is_not_excluded() -> None:
    assert passes({"tags": [{"anything-but": "red"}]}, {"tags": ["red", "blue"]})
    assert not passes({"tags": [{"anything-but": "red"}]}, {"tags": ["red"]})


# -- DynamoDB stream records (AWS-verified examples, spec §6.8) -----------------------------


def test_event_name_filter_passes_inserts_and_drops_modifies() -> None:
    item = {"id": {"S": "id_value"}, "id2": {"S": "id2_value"}}
    filters = compiled({"eventName": ["INSERT"]})
    assert filters.matches(ddb_record("INSERT", new=item))
    assert not filters.matches(ddb_record("MODIFY", old=item, new=item))


def test_event_name_list_passes_inserts_and_modifies() -> None:
    old = {"id": {"S": "id_value"}}
    new = {"id": {"S": "id_value"}, "id2": {"S": "id2_new_value"}}
    filters = compiled({"eventName": ["INSERT", "MODIFY"]})
    assert filters.matches(ddb_record("INSERT", new=old))
    assert filters.matches(ddb_record("MODIFY", old=old, new=new))


def test_event_name_and_event_source_must_both_match() -> None:
    old = {"id": {"S": "id_value"}}
    new = {"id": {"S": "id_value"}, "id2": {"S": "id2_new_value"}}
    filters = compiled({"eventName": ["INSERT"], "eventSource": ["aws:dynamodb"]})
    assert filters.matches(ddb_record("INSERT", new=old))
    assert not filters.matches(ddb_record("MODIFY", old=old, new=new))


def test_attribute_value_pattern_with_its_type_key_matches() -> None:
    filters = compiled({"dynamodb": {"NewImage": {"presentKey": {"S": ["presentValue"]}}}})
    present = {"id": {"S": "id_value_1"}, "presentKey": {"S": "presentValue"}}
    assert filters.matches(ddb_record(new=present))
    assert not filters.matches(ddb_record(new={"id": {"S": "id_value_2"}}))


def test_attribute_value_pattern_without_its_type_key_does_not_match() -> None:
    present = {"id": {"S": "id_value_1"}, "presentKey": {"S": "presentValue"}}
    pattern = {"dynamodb": {"NewImage": {"presentKey": ["presentValue"]}}}
    assert not passes(pattern, ddb_record(new=present))


def test_exists_with_the_type_key_matches_a_present_attribute() -> None:
    filters = compiled({"dynamodb": {"NewImage": {"presentKey": {"S": [{"exists": True}]}}}})
    assert filters.matches(ddb_record(new={"id": {"S": "1"}, "presentKey": {"S": "v"}}))
    assert not filters.matches(ddb_record(new={"id": {"S": "2"}}))


def test_exists_without_the_type_key_does_not_match_a_present_attribute() -> None:
    pattern = {"dynamodb": {"NewImage": {"presentKey": [{"exists": True}]}}}
    assert not passes(pattern, ddb_record(new={"id": {"S": "1"}, "presentKey": {"S": "v"}}))


def test_exists_false_matches_a_record_lacking_the_attribute() -> None:
    pattern = {"dynamodb": {"NewImage": {"presentKey": [{"exists": False}]}}}
    assert passes(pattern, ddb_record(new={"id": {"S": "id_value_1"}}))


def test_exists_false_with_the_type_key_drops_a_record_with_the_attribute() -> None:
    pattern = {"dynamodb": {"NewImage": {"presentKey": {"S": [{"exists": False}]}}}}
    assert not passes(pattern, ddb_record(new={"id": {"S": "1"}, "presentKey": {"S": "v"}}))


def test_numeric_never_matches_dynamodb_n_values_but_anything_but_does() -> None:
    filters = compiled(
        {
            "dynamodb": {
                "NewImage": {
                    "numericFilter": {"N": [{"numeric": [">", 100]}, {"anything-but": "101"}]}
                }
            }
        }
    )
    assert filters.matches(ddb_record(new={"id": {"S": "1"}, "numericFilter": {"N": "42"}}))
    assert not filters.matches(ddb_record(new={"id": {"S": "2"}, "numericFilter": {"N": "101"}}))


def test_prefix_on_a_string_attribute() -> None:
    filters = compiled({"dynamodb": {"NewImage": {"prefix": {"S": [{"prefix": "us-1"}]}}}})
    assert filters.matches(ddb_record(new={"id": {"S": "1"}, "prefix": {"S": "us-1-other"}}))
    assert not filters.matches(ddb_record(new={"id": {"S": "1"}, "prefix": {"S": "other"}}))


def test_numeric_matches_approximate_creation_date_time_because_it_is_a_json_number() -> None:
    pattern = {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0]}]}}
    assert passes(pattern, ddb_record(new={"id": {"S": "id_value_1"}}))


def test_table_key_filter_from_the_lambda_guide() -> None:
    pattern = {"dynamodb": {"Keys": {"CustomerName": {"S": ["AnyCompany Industries"]}}}}
    keys = {"CustomerName": {"S": "AnyCompany Industries"}}
    other = {"CustomerName": {"S": "Example Corp"}}
    assert passes(pattern, ddb_record(keys=keys, new=keys))
    assert not passes(pattern, ddb_record(keys=other, new=other))


def test_attribute_filter_from_the_lambda_guide_ors_two_managers() -> None:
    pattern = {
        "dynamodb": {"NewImage": {"AccountManager": {"S": ["Pat Candella", "Shirley Rodriguez"]}}}
    }
    keys = {"CustomerName": {"S": "AnyCompany Industries"}}
    for manager, expected in [("Shirley Rodriguez", True), ("Someone Else", False)]:
        record = ddb_record(keys=keys, new={**keys, "AccountManager": {"S": manager}})
        assert passes(pattern, record) is expected


def test_boolean_attribute_matches_its_bool_type_key() -> None:
    pattern = {"dynamodb": {"NewImage": {"active": {"BOOL": [True]}}}}
    assert passes(pattern, ddb_record(new={"id": {"S": "1"}, "active": {"BOOL": True}}))
    assert not passes(pattern, ddb_record(new={"id": {"S": "1"}, "active": {"BOOL": False}}))


def test_list_attribute_matches_element_wise() -> None:
    pattern = {"dynamodb": {"NewImage": {"Organizations": {"L": {"S": [{"exists": True}]}}}}}
    orgs = {"L": [{"S": "Sales"}, {"S": "Marketing"}]}
    assert passes(pattern, ddb_record(new={"id": {"S": "1"}, "Organizations": orgs}))
    numbers_only = {"L": [{"N": "1"}]}
    assert not passes(pattern, ddb_record(new={"id": {"S": "1"}, "Organizations": numbers_only}))


def test_string_set_attribute_matches_any_member() -> None:
    pattern = {"dynamodb": {"NewImage": {"colors": {"SS": ["blue"]}}}}
    assert passes(pattern, ddb_record(new={"id": {"S": "1"}, "colors": {"SS": ["red", "blue"]}}))


def test_ttl_deletions_are_selected_by_user_identity() -> None:
    filters = compiled(
        {"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}}
    )
    item = {"id": {"S": "1"}}
    assert filters.matches(ddb_record("REMOVE", old=item, user_identity=TTL_IDENTITY))
    assert not filters.matches(ddb_record("REMOVE", old=item))


def test_new_image_pattern_does_not_match_a_keys_only_record() -> None:
    pattern = {"dynamodb": {"NewImage": {"id": {"S": ["1"]}}}}
    assert not passes(pattern, ddb_record(new={"id": {"S": "1"}}, view_type="KEYS_ONLY"))


def test_old_image_pattern_selects_removes_of_a_given_item() -> None:
    pattern = {"eventName": ["REMOVE"], "dynamodb": {"OldImage": {"status": {"S": ["done"]}}}}
    done = {"id": {"S": "1"}, "status": {"S": "done"}}
    assert passes(pattern, ddb_record("REMOVE", old=done))
    assert not passes(pattern, ddb_record("MODIFY", old=done, new=done))


def test_event_source_arn_is_filterable() -> None:
    assert passes({"eventSourceARN": [{"prefix": "arn:aws:dynamodb:"}]}, ddb_record())


# -- never anything but InvalidParameterValue ------------------------------------------------

OPERATOR_WORDS = [
    "$or",
    "prefix",
    "suffix",
    "numeric",
    "anything-but",
    "exists",
    "equals-ignore-case",
    "wildcard",
    "=",
    ">",
    "<=",
]
NAMES = st.sampled_from(["a", "b", *OPERATOR_WORDS]) | st.text(max_size=4)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from(OPERATOR_WORDS)
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
    max_leaves=25,
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def compiles_or_rejects(value: Any) -> FilterSet | None:
    try:
        return compile_filters(value)
    except InvalidParameterValue as error:
        assert error.message
        return None


@FUZZ
@given(JSONISH)
def test_any_json_pattern_compiles_or_raises_invalid_parameter_value(pattern: Any) -> None:
    compiles_or_rejects({"Filters": [{"Pattern": json.dumps(pattern)}]})


@FUZZ
@given(st.text(max_size=60))
def test_any_text_pattern_compiles_or_raises_invalid_parameter_value(text: str) -> None:
    compiles_or_rejects({"Filters": [{"Pattern": text}]})


@FUZZ
@given(JSONISH)
def test_any_criteria_value_compiles_or_raises_invalid_parameter_value(value: Any) -> None:
    compiles_or_rejects(value)
    compiles_or_rejects({"Filters": value})
    compiles_or_rejects({"Filters": [value]})
    compiles_or_rejects({"Filters": [{"Pattern": value}]})


FIELDS = st.sampled_from(["a", "b", "c"])
NUMBERS = st.integers(-5, 5) | st.floats(-5, 5)
MATCHERS = st.one_of(
    st.none(),
    st.booleans(),
    NUMBERS,
    st.text("ab", max_size=2),
    st.builds(lambda s: {"prefix": s}, st.text("ab", max_size=2)),
    st.builds(lambda s: {"suffix": s}, st.text("ab", max_size=2)),
    st.builds(lambda s: {"equals-ignore-case": s}, st.text("aB", max_size=2)),
    st.builds(lambda b: {"exists": b}, st.booleans()),
    st.builds(lambda v: {"anything-but": v}, st.text("ab", max_size=2) | NUMBERS),
    st.builds(lambda op, n: {"numeric": [op, n]}, st.sampled_from(["=", "<", ">="]), NUMBERS),
    st.builds(lambda lo, hi: {"numeric": [">", lo, "<=", hi]}, NUMBERS, NUMBERS),
)
LEAVES = st.lists(MATCHERS, min_size=1, max_size=3)
PATTERNS = st.recursive(
    st.dictionaries(FIELDS, LEAVES, min_size=1, max_size=2),
    lambda inner: (
        st.dictionaries(FIELDS, inner | LEAVES, min_size=1, max_size=2)
        | st.builds(lambda x, y: {"$or": [x, y]}, inner, inner)
    ),
    max_leaves=6,
)
RECORD_VALUES = st.recursive(
    st.none() | st.booleans() | NUMBERS | st.text("aAb", max_size=2),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(FIELDS, inner, max_size=3),
    max_leaves=10,
)


@FUZZ
@given(st.lists(PATTERNS, min_size=1, max_size=3), st.dictionaries(FIELDS, RECORD_VALUES))
def test_compiled_filters_answer_a_bool_for_any_record(
    patterns: list[Any], record: dict[str, Any]
) -> None:
    filters = compiles_or_rejects(criteria(*patterns))
    if filters is not None:
        assert filters.matches(record) in (True, False)
