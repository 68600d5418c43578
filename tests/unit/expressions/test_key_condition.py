import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.errors import ValidationError
from headwater.expressions.conditions import parse_condition
from headwater.expressions.key_condition import (
    KeyPredicate,
    KeyRange,
    key_conditions,
    plan_query,
    prefix_end,
)
from headwater.expressions.names import ExpressionParams
from headwater.model.compare import b64_bytes, compare
from headwater.model.keys import KeySchema, encode_key
from headwater.model.types import AttrValue

VALUES = {
    ":a": {"S": "a"},
    ":b": {"S": "b"},
    ":n": {"N": "1"},
    ":m": {"N": "2"},
    ":x": {"B": base64.b64encode(b"\x01").decode()},
}
TABLE = KeySchema("pk", "S", "sk", "N")
HASH_ONLY = KeySchema("pk", "S")


def conditions(text: str, values: dict[str, AttrValue] | None = None) -> dict[str, KeyPredicate]:
    params = ExpressionParams({"#k": "sk"}, values or VALUES)
    return key_conditions(parse_condition(text, params, "KeyConditionExpression"))


def error_of(text: str, values: dict[str, AttrValue] | None = None) -> str:
    with pytest.raises(ValidationError) as caught:
        conditions(text, values)
    return caught.value.message


def plan_error(
    schema: KeySchema, found: dict[str, KeyPredicate], start: dict[str, AttrValue] | None = None
) -> str:
    with pytest.raises(ValidationError) as caught:
        plan_query(schema, found, start)
    return caught.value.message


def eq(value: AttrValue) -> KeyPredicate:
    return KeyPredicate("EQ", (value,))


# -- step 1: the expression's shape --------------------------------------------------------


def test_hash_equality_and_range_comparison_become_predicates() -> None:
    assert conditions("pk = :a AND sk > :n") == {
        "pk": KeyPredicate("EQ", ({"S": "a"},)),
        "sk": KeyPredicate("GT", ({"N": "1"},)),
    }


@pytest.mark.parametrize(
    ("text", "op"),
    [
        (":n = #k", "EQ"),
        (":n < #k", "GT"),
        (":n <= #k", "GE"),
        (":n > #k", "LT"),
        (":n >= #k", "LE"),
    ],
)
def test_value_on_the_left_mirrors_the_operator(text: str, op: str) -> None:
    assert conditions(f"pk = :a AND {text}")["sk"] == KeyPredicate(op, ({"N": "1"},))


def test_between_keeps_both_bounds_in_order() -> None:
    found = conditions("pk = :a AND sk BETWEEN :n AND :m")
    assert found["sk"] == KeyPredicate("BETWEEN", ({"N": "1"}, {"N": "2"}))


def test_begins_with_becomes_a_prefix_predicate() -> None:
    assert conditions("pk = :a AND begins_with(#k, :b)")["sk"] == KeyPredicate(
        "BEGINS_WITH", ({"S": "b"},)
    )


def test_parenthesised_groups_are_flattened() -> None:
    assert set(conditions("(pk = :a) AND (sk < :n)")) == {"pk", "sk"}


@pytest.mark.parametrize(
    ("text", "operator"),
    [
        ("a > :a and size(b) > :n or a > :b", "OR"),
        ("a in (:a, :b)", "IN"),
        ("attribute_exists(a)", "attribute_exists"),
        ("attribute_not_exists(a)", "attribute_not_exists"),
        ("contains(a.d, :a)", "contains"),
        ("attribute_type(a, :a)", "attribute_type"),
        ("not a > :a", "NOT"),
        ("a <> :a", "<>"),
    ],
)
def test_operators_a_key_condition_cannot_use(text: str, operator: str) -> None:
    values = {**VALUES, ":a": {"S": "S"}}
    assert error_of(text, values) == f"Invalid operator used in KeyConditionExpression: {operator}"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (":a between size(b) and size(a) and b > :b", "BETWEEN"),
        ("begins_with(:a, b)", "begins_with"),
    ],
)
def test_key_must_be_the_first_operand(text: str, name: str) -> None:
    assert error_of(text) == (
        f"Invalid condition in KeyConditionExpression: {name} operator must have the key "
        "attribute as its first operand"
    )


@pytest.mark.parametrize(
    "text", ["size(b) > a AND a.b > b AND b > c", "a > size(b.d)", "a between size(b) and size(a)"]
)
def test_functions_inside_a_condition_are_nested_operations(text: str) -> None:
    assert error_of(text) == "KeyConditionExpressions cannot contain nested operations"


@pytest.mark.parametrize(
    "text", ["b > a.b", "b between c[1] and d", "a between b and size(a)", "begins_with(a, b)"]
)
def test_two_attributes_in_one_condition(text: str) -> None:
    assert error_of(text) == (
        "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
        "condition"
    )


@pytest.mark.parametrize("text", ["b.d > a AND c.d > e.f", "a.d > c", "b[0] > a"])
def test_nested_attributes(text: str) -> None:
    assert error_of(text) == "KeyConditionExpressions cannot have conditions on nested attributes"


@pytest.mark.parametrize("text", [":b > :a AND a < :b", ":a > b AND :a < :b"])
def test_conditions_without_an_attribute(text: str) -> None:
    values = {":a": {"N": "1"}, ":b": {"N": "1"}}
    assert error_of(text, values) == (
        "Invalid condition in KeyConditionExpression: No key attribute specified"
    )


@pytest.mark.parametrize(
    "text",
    ["b > :n AND b < :n and c = :n and d = :n", "(a > :n and b > :n) and (b > :n and c > :n)"],
)
def test_two_conditions_on_one_key(text: str) -> None:
    assert error_of(text, {":n": {"N": "1"}}) == (
        "KeyConditionExpressions must only contain one condition per key"
    )


@pytest.mark.parametrize(
    "text", [":a = a and b = :a and :a = c", "(a > :a and b > :a) and (c > :a and d > :a)"]
)
def test_more_than_two_conditions(text: str) -> None:
    assert error_of(text, {":a": {"S": "a"}}) == "Conditions can be of length 1 or 2 only"


# -- step 2: against the schema ------------------------------------------------------------


def test_missing_partition_key_condition() -> None:
    found = {"sk": KeyPredicate("GT", ({"N": "1"},))}
    assert plan_error(TABLE, found) == "Query condition missed key schema element: pk"


def test_condition_on_a_non_key_attribute_names_the_missing_sort_key() -> None:
    found = {"pk": eq({"S": "a"}), "other": eq({"S": "a"})}
    assert plan_error(TABLE, found) == "Query condition missed key schema element: sk"


def test_second_condition_on_a_hash_only_table_is_not_supported() -> None:
    found = {"pk": eq({"S": "a"}), "sk": eq({"N": "1"})}
    assert plan_error(HASH_ONLY, found) == "Query key condition not supported"


def test_partition_key_needs_equality() -> None:
    found = {"pk": KeyPredicate("BEGINS_WITH", ({"S": "a"},))}
    assert plan_error(TABLE, found) == "Query key condition not supported"


@pytest.mark.parametrize("op", ["NULL", "NOT_NULL", "NE", "CONTAINS", "NOT_CONTAINS", "IN"])
def test_legacy_operators_that_cannot_use_the_key_order(op: str) -> None:
    values = () if op in ("NULL", "NOT_NULL") else ({"S": "a"},)
    found = {"pk": KeyPredicate(op, values)}
    assert (
        plan_error(TABLE, found) == "Attempted conditional constraint is not an indexable operation"
    )


def test_value_type_must_match_the_key_type() -> None:
    found = {"pk": eq({"S": "a"}), "sk": KeyPredicate("GT", ({"S": "1"},))}
    assert plan_error(TABLE, found) == (
        "One or more parameter values were invalid: Condition parameter type does not match "
        "schema type"
    )


def test_empty_partition_value_is_refused() -> None:
    assert plan_error(TABLE, {"pk": eq({"S": ""})}) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: pk"
    )


def test_partition_value_over_2048_bytes_is_refused() -> None:
    assert "limit of2048 bytes" in plan_error(TABLE, {"pk": eq({"S": "x" * 2049})})


def test_plan_encodes_the_partition_and_bounds() -> None:
    found = {"pk": eq({"S": "a"}), "sk": KeyPredicate("GE", ({"N": "5"},))}
    planned = plan_query(TABLE, found)
    assert planned == KeyRange({"S": "a"}, b"a", encode_key({"N": "5"}), None)


def test_hash_only_plan_reads_the_whole_partition() -> None:
    assert plan_query(HASH_ONLY, {"pk": eq({"S": "a"})}) == KeyRange({"S": "a"}, b"a", b"", None)


# -- ExclusiveStartKey ---------------------------------------------------------------------

PK_EQ = {"pk": eq({"S": "a"})}


def test_start_key_with_the_wrong_number_of_attributes() -> None:
    assert plan_error(TABLE, PK_EQ, {"pk": {"S": "a"}}) == "The provided starting key is invalid"
    assert plan_error(TABLE, PK_EQ, {}) == "The provided starting key is invalid"


def test_start_key_with_a_foreign_attribute() -> None:
    start = {"pk": {"S": "a"}, "other": {"N": "1"}}
    assert plan_error(TABLE, PK_EQ, start) == "The provided starting key is invalid"


def test_start_key_of_the_wrong_type() -> None:
    start = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    assert plan_error(TABLE, PK_EQ, start) == "The provided key element does not match the schema"


def test_start_key_in_another_partition() -> None:
    start = {"pk": {"S": "b"}, "sk": {"N": "1"}}
    assert plan_error(TABLE, PK_EQ, start) == (
        "The provided starting key is outside query boundaries based on provided conditions"
    )


def test_start_key_outside_the_sort_key_range() -> None:
    found = {**PK_EQ, "sk": KeyPredicate("GT", ({"N": "5"},))}
    start = {"pk": {"S": "a"}, "sk": {"N": "5"}}
    assert plan_error(TABLE, found, start) == (
        "The provided starting key does not match the range key predicate"
    )


def test_start_key_in_range_but_another_partition() -> None:
    found = {**PK_EQ, "sk": KeyPredicate("LT", ({"N": "5"},))}
    start = {"pk": {"S": "b"}, "sk": {"N": "1"}}
    assert plan_error(TABLE, found, start) == (
        "The query can return at most one row and cannot be restarted"
    )


def test_numerically_equal_start_partition_is_the_same_partition() -> None:
    schema = KeySchema("pk", "N", "sk", "N")
    planned = plan_query(schema, {"pk": eq({"N": "1.0"})}, {"pk": {"N": "1"}, "sk": {"N": "3"}})
    assert planned.hk == encode_key({"N": "1"})


# -- the byte ranges are exactly the predicates --------------------------------------------


def test_prefix_end_skips_trailing_ff_bytes() -> None:
    assert prefix_end(b"ab") == b"ac"
    assert prefix_end(b"a\xff\xff") == b"b"
    assert prefix_end(b"\xff") is None
    assert prefix_end(b"") is None


def _holds(predicate: KeyPredicate, value: AttrValue) -> bool:
    op, bounds = predicate.op, predicate.values
    if op == "BEGINS_WITH":
        if "S" in value:
            return bool(value["S"].startswith(bounds[0]["S"]))
        return b64_bytes(value["B"]).startswith(b64_bytes(bounds[0]["B"]))
    if op == "BETWEEN":
        return compare(value, bounds[0]) >= 0 and compare(value, bounds[1]) <= 0
    order = compare(value, bounds[0])
    return {
        "EQ": order == 0,
        "LT": order < 0,
        "LE": order <= 0,
        "GT": order > 0,
        "GE": order >= 0,
    }[op]


_TEXT = st.text(alphabet="ab\u00e9\u00ff\u0100\u20ac\U0001f600", min_size=1, max_size=4)
_BYTES = st.binary(min_size=1, max_size=3).map(lambda b: b.replace(b"\x00", b"\xff"))
_NUMBERS = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False).map(
    lambda d: {"N": str(d)}
)
_KEYS = st.one_of(
    st.tuples(st.just("S"), st.lists(_TEXT.map(lambda t: {"S": t}), min_size=3, max_size=12)),
    st.tuples(
        st.just("B"),
        st.lists(
            _BYTES.map(lambda b: {"B": base64.b64encode(b).decode()}), min_size=3, max_size=12
        ),
    ),
    st.tuples(st.just("N"), st.lists(_NUMBERS, min_size=3, max_size=12)),
)


@given(_KEYS, st.data())
def test_range_holds_exactly_the_keys_the_predicate_accepts(
    keys: tuple[str, list[AttrValue]], data: st.DataObject
) -> None:
    type_name, values = keys
    ops = ["EQ", "LT", "LE", "GT", "GE", "BETWEEN"]
    if type_name != "N":
        ops.append("BEGINS_WITH")
    op = data.draw(st.sampled_from(ops))
    first, second = data.draw(st.sampled_from(values)), data.draw(st.sampled_from(values))
    if op == "BETWEEN":
        low, high = sorted([first, second], key=lambda v: encode_key(v))
        predicate = KeyPredicate(op, (low, high))
    elif op == "BEGINS_WITH":
        raw = b64_bytes(first["B"]) if type_name == "B" else None
        prefix: AttrValue = (
            {"B": base64.b64encode(raw[:1]).decode()} if raw is not None else {"S": first["S"][:1]}
        )
        predicate = KeyPredicate(op, (prefix,))
    else:
        predicate = KeyPredicate(op, (first,))
    schema = KeySchema("pk", "S", "sk", type_name)
    planned = plan_query(schema, {"pk": eq({"S": "p"}), "sk": predicate})
    for value in values:
        assert planned.holds(encode_key(value)) == _holds(predicate, value), value
