from typing import Any

import pytest

from headwater.errors import ValidationError
from headwater.expressions.ast import Path, Projection
from headwater.expressions.names import ExpressionParams
from headwater.expressions.projection import apply_projection, parse_projection

PREFIX = "Invalid ProjectionExpression: "
ITEM: dict[str, Any] = {
    "a": {"S": "x"},
    "b": {"M": {"c": {"N": "1"}, "d": {"L": [{"S": "p"}, {"S": "q"}, {"S": "r"}]}}},
    "l": {"L": [{"M": {"k": {"S": "v0"}, "j": {"S": "w0"}}}, {"M": {"k": {"S": "v1"}}}]},
}


def project(text: str, names: dict[str, str] | None = None) -> dict[str, Any]:
    return apply_projection(ITEM, parse_projection(text, ExpressionParams(names, None)))


def error(text: str, names: dict[str, str] | None = None) -> str:
    with pytest.raises(ValidationError) as caught:
        parse_projection(text, ExpressionParams(names, None))
    return caught.value.message


def test_parse_lists_the_paths() -> None:
    assert parse_projection("a, b.c[1]", ExpressionParams(None, None)) == Projection(
        (Path(("a",)), Path(("b", "c", 1)))
    )


def test_top_level_attributes_are_kept() -> None:
    assert project("a") == {"a": {"S": "x"}}


def test_nested_map_members_keep_their_structure() -> None:
    assert project("b.c") == {"b": {"M": {"c": {"N": "1"}}}}


def test_list_elements_close_up_in_index_order() -> None:
    assert project("b.d[2], b.d[0]") == {"b": {"M": {"d": {"L": [{"S": "p"}, {"S": "r"}]}}}}


def test_paths_through_lists_of_maps() -> None:
    assert project("l[1].k, l[0].j") == {
        "l": {"L": [{"M": {"j": {"S": "w0"}}}, {"M": {"k": {"S": "v1"}}}]}
    }


def test_missing_paths_are_left_out() -> None:
    assert project("zz, b.zz, b.d[9], a.x") == {}


def test_names_are_substituted() -> None:
    assert project("#n", {"#n": "a"}) == {"a": {"S": "x"}}


def test_projection_copies_values() -> None:
    result = project("b")
    result["b"]["M"]["c"] = {"N": "9"}
    assert ITEM["b"]["M"]["c"] == {"N": "1"}


@pytest.mark.parametrize(
    "text", ["whatever(stuff)", ":a", "abort,", "a,,b", "a..b", "a[b]", "(a.b).c", "(a)", "a-b"]
)
def test_syntax_errors_use_aws_wording(text: str) -> None:
    assert error(text).startswith(PREFIX + "Syntax error; token: ")


def test_empty_projection_is_rejected() -> None:
    assert error("") == PREFIX + "The expression can not be empty;"


def test_reserved_word_is_rejected() -> None:
    assert (
        error("abort") == PREFIX + "Attribute name is a reserved keyword; reserved keyword: abort"
    )


def test_overlapping_paths_are_rejected() -> None:
    assert error("c[1].a, c") == (
        PREFIX + "Two document paths overlap with each other; must remove or rewrite one of these "
        "paths; path one: [c, [1], a], path two: [c]"
    )


def test_conflicting_paths_are_rejected() -> None:
    assert error("a.b, a[1]").endswith("path one: [a, b], path two: [a, [1]]")


def test_undefined_name_is_reported() -> None:
    assert error("#x") == (
        PREFIX + "An expression attribute name used in the document path is not defined; "
        "attribute name: #x"
    )


def test_reserved_word_outranks_undefined_name() -> None:
    assert "reserved" in error("#x, abort")
