import pytest

from headwater.errors import ValidationError
from headwater.expressions.ast import (
    AddAction,
    Arithmetic,
    Call,
    DeleteAction,
    Path,
    RemoveAction,
    SetAction,
)
from headwater.expressions.names import ExpressionParams
from headwater.expressions.updates import parse_update

PREFIX = "Invalid UpdateExpression: "


def params() -> ExpressionParams:
    return ExpressionParams(
        {"#s": "status"},
        {
            ":n": {"N": "1"},
            ":s": {"S": "x"},
            ":l": {"L": []},
            ":ss": {"SS": ["a"]},
            ":m": {"M": {}},
            ":t": {"BOOL": True},
        },
    )


def error(text: str) -> str:
    with pytest.raises(ValidationError) as caught:
        parse_update(text, params())
    return caught.value.message


def test_all_four_sections_parse_in_order() -> None:
    plan = parse_update("SET a = :n REMOVE b ADD c :n DELETE d :ss", params())
    kinds = [type(action) for action in plan.actions]
    assert kinds == [SetAction, RemoveAction, AddAction, DeleteAction]


def test_sections_may_come_in_any_order() -> None:
    plan = parse_update("remove b set a = :n", params())
    assert [type(a) for a in plan.actions] == [RemoveAction, SetAction]


def test_actions_in_one_section_are_comma_separated() -> None:
    assert len(parse_update("SET a = :n, b = :s, c = a", params()).actions) == 3


def test_set_with_plus_parses_arithmetic() -> None:
    action = parse_update("SET a = a + :n", params()).actions[0]
    assert isinstance(action, SetAction) and isinstance(action.value, Arithmetic)


def test_set_arithmetic_may_be_parenthesised() -> None:
    action = parse_update("SET a = (b - :n)", params()).actions[0]
    assert isinstance(action, SetAction) and isinstance(action.value, Arithmetic)


def test_set_with_functions_parses_calls() -> None:
    action = parse_update("SET a = list_append(if_not_exists(a, :l), :l)", params()).actions[0]
    assert isinstance(action, SetAction) and isinstance(action.value, Call)


def test_changed_attributes_are_top_level_names() -> None:
    plan = parse_update("SET a.b = :n, c[0] = :n REMOVE #s", params())
    assert plan.changed_attributes == ("a", "c", "status")


def test_paths_follow_the_text() -> None:
    plan = parse_update("SET a.b = :n REMOVE c[2]", params())
    assert plan.paths == (Path(("a", "b")), Path(("c", 2)))


@pytest.mark.parametrize(
    "text",
    [
        "whatever",
        "set a",
        "add a",
        "delete a",
        "set a=set",
        "remove a = b",
        "add a = b",
        "delete a b",
        "remove a b",
        "set a b",
        "set :a = b",
        "add :a b",
        "remove :a",
        "set a = b / c",
        "set a = b * c",
        'set a[1] = "eight"',
        "SET a = if_not_exist(a, 100)",
        "SET if_not_exist(a, b) = a",
        "set (a = (b + c))",
        "set a = (b.c).d + e",
        "set a = b + c + d",
        "SET a = :n,",
    ],
)
def test_syntax_errors_use_aws_wording(text: str) -> None:
    assert error(text).startswith(PREFIX + "Syntax error; token: ")


@pytest.mark.parametrize("section", ["SET", "REMOVE", "ADD", "DELETE"])
def test_a_section_may_appear_once(section: str) -> None:
    clause = {
        "SET": "SET a = :n",
        "REMOVE": "REMOVE a",
        "ADD": "ADD a :n",
        "DELETE": "DELETE a :ss",
    }
    text = clause[section] + " " + clause[section].replace(" a", " b", 1)
    assert error(text) == (
        PREFIX + f'The "{section}" section can only be used once in an update expression;'
    )


def test_overlapping_paths_are_rejected() -> None:
    assert error("SET a = :n REMOVE a.b") == (
        PREFIX + "Two document paths overlap with each other; must remove or rewrite one of these "
        "paths; path one: [a], path two: [a, b]"
    )


def test_setting_one_path_twice_overlaps() -> None:
    assert error("SET f = :n, f = :s").endswith("path one: [f], path two: [f]")


def test_conflicting_paths_are_rejected() -> None:
    assert error("SET a.b = :n, a[1] = :n") == (
        PREFIX + "Two document paths conflict with each other; must remove or rewrite one of these "
        "paths; path one: [a, b], path two: [a, [1]]"
    )


def test_sibling_paths_do_not_clash() -> None:
    assert parse_update("SET a.b = :n, a.c = :n, a.d[1] = :n, a.d[2] = :n", params())


@pytest.mark.parametrize(
    ("text", "op", "type_name"), [("SET a = :s + :n", "+", "S"), ("SET a = b - :t", "-", "BOOL")]
)
def test_arithmetic_with_non_number_literal_is_rejected(text: str, op: str, type_name: str) -> None:
    assert error(text) == (
        PREFIX + "Incorrect operand type for operator or function; "
        f"operator or function: {op}, operand type: {type_name}"
    )


def test_list_append_with_non_list_literal_is_rejected() -> None:
    assert error("SET a = list_append(a, :s)").endswith(
        "operator or function: list_append, operand type: S"
    )


def test_if_not_exists_needs_a_path_first() -> None:
    assert error("SET a = if_not_exists(:n, a)") == (
        PREFIX
        + "Operator or function requires a document path; operator or function: if_not_exists"
    )


def test_nested_if_not_exists_needs_a_path_first() -> None:
    assert "requires a document path" in error("SET a = if_not_exists(if_not_exists(a, :n), :n)")


def test_if_not_exists_arity_is_checked() -> None:
    assert error("SET a = if_not_exists(a)") == (
        PREFIX + "Incorrect number of operands for operator or function; "
        "operator or function: if_not_exists, number of operands: 1"
    )


@pytest.mark.parametrize(
    ("text", "operator", "type_name"),
    [
        ("ADD a :s", "ADD", "STRING"),
        ("ADD a :l", "ADD", "LIST"),
        ("ADD a :m", "ADD", "MAP"),
        ("ADD a :t", "ADD", "BOOLEAN"),
        ("DELETE a :n", "DELETE", "NUMBER"),
        ("DELETE a :s", "DELETE", "STRING"),
    ],
)
def test_add_and_delete_reject_wrong_literal_types(
    text: str, operator: str, type_name: str
) -> None:
    assert error(text) == (
        PREFIX + "Incorrect operand type for operator or function; "
        f"operator: {operator}, operand type: {type_name}"
    )


def test_unknown_function_is_rejected() -> None:
    assert error("SET a = foo(b)") == PREFIX + "Invalid function name; function: foo"


def test_condition_function_in_set_is_misused() -> None:
    assert error("SET a = size(b)") == (
        PREFIX + "The function is not allowed to be used this way in an expression; function: size"
    )


def test_reserved_word_is_rejected() -> None:
    assert (
        error("SET status = :n")
        == PREFIX + "Attribute name is a reserved keyword; reserved keyword: status"
    )


def test_undefined_name_outranks_undefined_value() -> None:
    assert "attribute name" in error("SET a = :zz, #zz = :n")


def test_reserved_word_outranks_duplicate_section() -> None:
    assert "reserved" in error("SET a = :n SET status = :n")
