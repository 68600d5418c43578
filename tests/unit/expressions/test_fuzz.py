"""Property tests: no input text can make a parser raise anything but ValidationError."""

import contextlib
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater.errors import ValidationError
from headwater.expressions.conditions import parse_condition
from headwater.expressions.evaluate import evaluate_condition
from headwater.expressions.names import ExpressionParams
from headwater.expressions.projection import apply_projection, parse_projection
from headwater.expressions.update import apply_update
from headwater.expressions.updates import parse_update

FRAGMENTS = [
    *"ab#:()[].,=<>+-019 \t",
    " AND ",
    " OR ",
    " NOT ",
    " BETWEEN ",
    " IN ",
    "SET ",
    "REMOVE ",
    "ADD ",
    "DELETE ",
    "size",
    "contains",
    "if_not_exists",
    "list_append",
    "attribute_exists",
    "attribute_type",
    "begins_with",
    ":n",
    ":s",
    ":l",
    "#n",
    "status",
    "<>",
    ">=",
]
TEXTS = st.one_of(
    st.text(max_size=200), st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
)
ITEM: dict[str, Any] = {
    "id": {"S": "k"},
    "a": {"N": "1"},
    "b": {"L": [{"S": "x"}]},
    "n": {"M": {"a": {"SS": ["q"]}}},
}


def params() -> ExpressionParams:
    return ExpressionParams(
        {"#n": "n"}, {":n": {"N": "2"}, ":s": {"SS": ["q", "r"]}, ":l": {"L": [{"S": "y"}]}}
    )


def outcome(run: Callable[[], object]) -> None:
    with contextlib.suppress(ValidationError):
        run()


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_condition_parser_only_raises_validation_errors(text: str) -> None:
    def run() -> object:
        return evaluate_condition(parse_condition(text, params()), ITEM)

    outcome(run)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_update_parser_only_raises_validation_errors(text: str) -> None:
    def run() -> object:
        return apply_update(parse_update(text, params()), ITEM, {"id": {"S": "k"}}, ("id",))

    outcome(run)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_projection_parser_only_raises_validation_errors(text: str) -> None:
    def run() -> object:
        return apply_projection(ITEM, parse_projection(text, params()))

    outcome(run)
