import pytest

from headwater.errors import ValidationError
from headwater.expressions.ast import And, Between, Call, Compare, In, Literal, Not, Or, Path
from headwater.expressions.conditions import parse_condition
from headwater.expressions.names import ExpressionParams

PREFIX = "Invalid ConditionExpression: "


def params() -> ExpressionParams:
    return ExpressionParams(
        {"#s": "status", "#a": "a", "#y": "y"},
        {":n": {"N": "1"}, ":m": {"N": "2"}, ":s": {"S": "x"}, ":t": {"S": "S"}, ":l": {"L": []}},
    )


def parse(text: str) -> object:
    return parse_condition(text, params())


def error(text: str, kind: str = "ConditionExpression") -> str:
    with pytest.raises(ValidationError) as caught:
        parse_condition(text, params(), kind)
    return caught.value.message


def test_comparison_parses_to_compare() -> None:
    assert parse("a = :n") == Compare("=", Path(("a",)), Literal(":n", {"N": "1"}))


def test_names_are_substituted_in_paths() -> None:
    expected = Compare("<>", Path(("status", "b", 2)), Literal(":n", {"N": "1"}))
    assert parse("#s.b[2] <> :n") == expected


def test_and_binds_tighter_than_or() -> None:
    assert isinstance(parse("a = :n OR b = :n AND c = :n"), Or)


def test_not_binds_tighter_than_and() -> None:
    node = parse("NOT a = :n AND b = :n")
    assert isinstance(node, And) and isinstance(node.items[0], Not)


def test_parentheses_override_precedence() -> None:
    node = parse("(a = :n OR b = :n) AND c = :n")
    assert isinstance(node, And) and isinstance(node.items[0], Or)


def test_chained_and_is_flat() -> None:
    node = parse("a = :n AND b = :n AND c = :n")
    assert isinstance(node, And) and len(node.items) == 3


def test_keywords_are_case_insensitive() -> None:
    assert isinstance(parse("a = :n and not b = :n"), And)


def test_between_parses() -> None:
    assert isinstance(parse("a BETWEEN :n AND :m"), Between)


def test_between_inside_and_keeps_its_own_and() -> None:
    node = parse("a BETWEEN :n AND :m AND b = :n")
    assert isinstance(node, And) and isinstance(node.items[0], Between)


def test_in_parses_its_list() -> None:
    node = parse("a IN (:n, :m, b)")
    assert isinstance(node, In) and len(node.choices) == 3


def test_function_condition_parses_to_call() -> None:
    assert parse("attribute_exists(a.b)") == Call("attribute_exists", (Path(("a", "b")),))


def test_size_is_an_operand() -> None:
    node = parse("size(a) > :n")
    assert isinstance(node, Compare) and isinstance(node.left, Call)


def test_parenthesised_operand_is_allowed() -> None:
    assert parse("(a) = :n") == parse("a = :n")


def test_double_not_is_allowed() -> None:
    assert isinstance(parse("NOT NOT a = :n"), Not)


def test_empty_expression_is_rejected() -> None:
    assert error("") == PREFIX + "The expression can not be empty;"


def test_kind_names_the_request_member() -> None:
    assert (
        error("", "FilterExpression")
        == "Invalid FilterExpression: The expression can not be empty;"
    )


@pytest.mark.parametrize(
    "text",
    [
        "things are not gonna be ok",
        "a > 4",
        "attribute_exists(Pictures-RearView)",
        'attribute_exists("Pictures.RearView")',
        "a..b = :n",
        "asdf[a] = :n",
        "a in b, c",
        "a > between",
        "a in (b,c,)",
        "#$.b > a",
        "a > :things.stuff",
        "b[:a] > a",
        "ü > a",
        "b.c[4.5] = a",
        "size(a).b > a",
        "size(a)[0] > a",
        "a",
        "(a)",
        "a = :n AND",
        "a = :n AND b",
        "(a = :n) = b",
        "a = b = c",
        "a[99999999999] = :n",
        "   ",
    ],
)
def test_syntax_errors_use_aws_wording(text: str) -> None:
    assert error(text).startswith(PREFIX + "Syntax error; token: ")


def test_syntax_error_names_token_and_context() -> None:
    assert error("a > 4") == PREFIX + 'Syntax error; token: "4", near: "> 4"'


def test_syntax_error_at_end_names_eof() -> None:
    assert error("a =") == PREFIX + 'Syntax error; token: "<EOF>", near: "="'


def test_bare_hash_is_a_syntax_error_token() -> None:
    assert 'token: "#"' in error("a = #")


def test_reserved_word_is_rejected_as_written() -> None:
    assert (
        error("Status = :n")
        == PREFIX + "Attribute name is a reserved keyword; reserved keyword: Status"
    )


def test_reserved_word_through_a_name_is_fine() -> None:
    assert parse("#s = :n")


def test_undefined_name_is_reported() -> None:
    assert error("#zz = :n") == (
        PREFIX + "An expression attribute name used in the document path is not defined; "
        "attribute name: #zz"
    )


def test_undefined_value_is_reported() -> None:
    assert error("a = :zz") == (
        PREFIX
        + "An expression attribute value used in expression is not defined; attribute value: :zz"
    )


@pytest.mark.parametrize(
    "text", ["((a = :n))", "((a)) = :n", "(((a < :n)))", "((a = :n AND b = :n))"]
)
def test_redundant_parentheses_are_rejected(text: str) -> None:
    assert error(text) == PREFIX + "The expression has redundant parentheses;"


def test_unknown_function_is_rejected() -> None:
    assert (
        error("attRIbute_exIsts(a)") == PREFIX + "Invalid function name; function: attRIbute_exIsts"
    )


@pytest.mark.parametrize(
    ("text", "function"),
    [
        ("size(a)", "size"),
        ("attribute_exists(a) = :n", "attribute_exists"),
        ("if_not_exists(a, :n) = b", "if_not_exists"),
        ("list_append(a, :l) = b", "list_append"),
        ("begins_with(attribute_exists(a), :s)", "attribute_exists"),
    ],
)
def test_function_in_the_wrong_place_is_misused(text: str, function: str) -> None:
    assert error(text) == (
        PREFIX + "The function is not allowed to be used this way in an expression; "
        f"function: {function}"
    )


@pytest.mark.parametrize(
    ("text", "function", "count"),
    [
        ("attribute_exists(a, b)", "attribute_exists", 2),
        ("attribute_type(a)", "attribute_type", 1),
        ("begins_with(a)", "begins_with", 1),
        ("begins_with(a, b, c)", "begins_with", 3),
        ("contains(a)", "contains", 1),
        ("size(a, b) = :n", "size", 2),
    ],
)
def test_wrong_number_of_operands_is_rejected(text: str, function: str, count: int) -> None:
    assert error(text) == (
        PREFIX + "Incorrect number of operands for operator or function; "
        f"operator or function: {function}, number of operands: {count}"
    )


def test_existence_function_needs_a_path() -> None:
    assert error("attribute_exists(:n)") == (
        PREFIX
        + "Operator or function requires a document path; operator or function: attribute_exists"
    )


def test_begins_with_rejects_a_number_literal() -> None:
    assert error("begins_with(a, :n)") == (
        PREFIX + "Incorrect operand type for operator or function; "
        "operator or function: begins_with, operand type: N"
    )


def test_size_rejects_a_number_literal() -> None:
    assert error("size(:n) = :n").endswith("operator or function: size, operand type: N")


def test_attribute_type_needs_a_string_literal() -> None:
    assert error("attribute_type(a, :n)").endswith(
        "operator or function: attribute_type, operand type: N"
    )


def test_attribute_type_rejects_unknown_type_names() -> None:
    assert error("attribute_type(a, :s)") == (
        PREFIX
        + "Invalid attribute type name found; type: x, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
    )


def test_attribute_type_accepts_a_type_name() -> None:
    assert parse("attribute_type(a, :t)")


@pytest.mark.parametrize(
    ("text", "op"), [("a = a", "="), ("a <> #a", "<>"), ("contains(x.y, x.#y)", "contains")]
)
def test_same_path_on_both_sides_is_rejected(text: str, op: str) -> None:
    assert error(text).startswith(
        PREFIX + "The first operand must be distinct from the remaining operands for this operator "
        f"or function; operator: {op}, first operand: ["
    )


def test_distinct_error_prints_the_path() -> None:
    assert error("a.b[1] = a.b[1]").endswith("first operand: [a, b, [1]]")


def test_between_bounds_of_different_types_are_rejected() -> None:
    assert error("a between :n and :s") == (
        PREFIX + "The BETWEEN operator requires same data type for lower and upper bounds; "
        "lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:x}"
    )


def test_between_bounds_in_wrong_order_are_rejected() -> None:
    assert error("a between :m and :n") == (
        PREFIX + "The BETWEEN operator requires upper bound to be greater than or equal to lower "
        "bound; lower bound operand: AttributeValue: {N:2}, "
        "upper bound operand: AttributeValue: {N:1}"
    )


def test_ordering_a_list_literal_is_rejected() -> None:
    assert error("a < :l").endswith("operator or function: <, operand type: L")


def test_equality_with_a_list_literal_is_fine() -> None:
    assert parse("a = :l")


def test_unknown_function_outranks_reserved_word() -> None:
    assert "Invalid function name" in error("foo(status)")


def test_redundant_parentheses_outrank_undefined_names() -> None:
    assert "redundant" in error("((#zz = :n))")


def test_reserved_word_outranks_undefined_value() -> None:
    assert "reserved" in error("a = :zz AND status = :n")


def test_first_condition_with_a_problem_decides() -> None:
    assert "distinct" in error("a = a AND b = :zz")


def test_path_of_32_levels_is_allowed() -> None:
    assert parse(".".join(["a"] * 32) + " = :n")


def test_path_of_33_levels_is_rejected() -> None:
    assert error(".".join(["a"] * 33) + " = :n") == (
        PREFIX + "The document path has too many nesting levels; nesting levels: 33"
    )


def test_expression_over_4096_bytes_is_rejected() -> None:
    assert "Expression size has exceeded" in error("a = :n OR " * 410 + "a = :n")


def test_deep_nesting_is_rejected_not_crashed() -> None:
    assert error("NOT " * 900 + "a = :n").startswith(PREFIX)


def test_deep_parentheses_are_rejected_not_crashed() -> None:
    assert error("(" * 1000 + "a = :n" + ")" * 1000).startswith(PREFIX)


def test_names_used_by_a_condition_count_as_used() -> None:
    shared = ExpressionParams({"#a": "a"}, {":n": {"N": "1"}})
    parse_condition("#a = :n", shared)
    shared.check_unused()
