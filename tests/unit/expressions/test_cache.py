"""The parse cache: a cached parse must give exactly what parsing again would, per request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater.errors import ValidationError
from headwater.expressions.ast import Compare, Literal, Path
from headwater.expressions.cache import ParseCache
from headwater.expressions.conditions import parse_condition, parse_condition_uncached
from headwater.expressions.names import ExpressionParams
from headwater.expressions.projection import parse_projection, parse_projection_uncached
from headwater.expressions.updates import parse_update, parse_update_uncached


def params(values: dict[str, Any] | None, names: dict[str, str] | None = None) -> ExpressionParams:
    return ExpressionParams(names, values)


def outcome(run: Callable[[], object]) -> object:
    try:
        return run()
    except ValidationError as error:
        return ("error", error.message)


def test_a_cached_parse_holds_this_requests_values() -> None:
    first = parse_condition("cache_a = :v", params({":v": {"N": "1"}}))
    second = parse_condition("cache_a = :v", params({":v": {"N": "2"}}))
    assert second == Compare("=", Path(("cache_a",)), Literal(":v", {"N": "2"}))
    assert first == Compare("=", Path(("cache_a",)), Literal(":v", {"N": "1"}))  # untouched


def test_a_parse_without_values_is_shared() -> None:
    first = parse_projection("cache_p, cache_q.r", params(None))
    assert parse_projection("cache_p, cache_q.r", params(None)) is first


def test_unused_values_are_reported_on_every_call() -> None:
    for _ in range(2):
        request = params({":v": {"S": "x"}, ":w": {"S": "y"}})
        parse_condition("cache_b = :v", request)
        with pytest.raises(ValidationError) as caught:
            request.check_unused()
        assert caught.value.message == (
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"
        )


def test_names_a_cached_parse_uses_count_as_used_and_the_rest_as_unused() -> None:
    for _ in range(2):
        used = params({":v": {"S": "x"}}, {"#n": "cache_c"})
        parse_condition("#n = :v", used)
        used.check_unused()
        extra = params({":v": {"S": "x"}}, {"#n": "cache_c", "#m": "other"})
        parse_condition("#n = :v", extra)
        with pytest.raises(ValidationError, match="ExpressionAttributeNames unused"):
            extra.check_unused()


def test_names_are_part_of_what_is_cached() -> None:
    first = parse_condition("#n = :v", params({":v": {"S": "x"}}, {"#n": "cache_d1"}))
    second = parse_condition("#n = :v", params({":v": {"S": "x"}}, {"#n": "cache_d2"}))
    assert isinstance(first, Compare) and first.left == Path(("cache_d1",))
    assert isinstance(second, Compare) and second.left == Path(("cache_d2",))


def test_a_value_of_another_type_is_parsed_again() -> None:
    parse_condition("begins_with(cache_e, :v)", params({":v": {"S": "x"}}))
    with pytest.raises(ValidationError, match="operand type: N"):
        parse_condition("begins_with(cache_e, :v)", params({":v": {"N": "1"}}))


def test_an_undefined_value_is_reported_after_a_successful_parse() -> None:
    parse_condition("cache_f = :v", params({":v": {"S": "x"}}))
    with pytest.raises(ValidationError, match="attribute value: :v"):
        parse_condition("cache_f = :v", params({":w": {"S": "x"}}))


@pytest.mark.parametrize(
    ("text", "good", "bad"),
    [
        (
            "cache_g BETWEEN :lo AND :hi",
            {":lo": {"N": "1"}, ":hi": {"N": "2"}},
            {":lo": {"N": "3"}, ":hi": {"N": "2"}},
        ),
        (
            "cache_g = :x AND NOT attribute_type(cache_h, :t)",
            {":x": {"S": "a"}, ":t": {"S": "SS"}},
            {":x": {"S": "a"}, ":t": {"S": "STRING"}},
        ),
    ],
)
def test_checks_that_read_values_run_again_on_a_hit(
    text: str, good: dict[str, Any], bad: dict[str, Any]
) -> None:
    parse_condition(text, params(good), "FilterExpression")
    expected = outcome(lambda: parse_condition_uncached(text, params(bad), "FilterExpression"))
    assert isinstance(expected, tuple)
    assert outcome(lambda: parse_condition(text, params(bad), "FilterExpression")) == expected
    assert parse_condition(text, params(good), "FilterExpression") is not None


def test_the_kind_named_in_messages_is_part_of_what_is_cached() -> None:
    text = "cache_i BETWEEN :lo AND :hi"
    parse_condition(text, params({":lo": {"N": "1"}, ":hi": {"N": "2"}}), "KeyConditionExpression")
    with pytest.raises(ValidationError) as caught:
        parse_condition(text, params({":lo": {"N": "3"}, ":hi": {"N": "2"}}), "FilterExpression")
    assert caught.value.message.startswith("Invalid FilterExpression: ")


def test_the_cache_keeps_a_bounded_number_of_parses() -> None:
    cache = ParseCache(max_entries=3)
    for index in range(5):
        text = f"cache_j{index} = :v"
        request = params({":v": {"S": "x"}})
        cache.parse("c", text, request, lambda t=text, r=request: (parse_condition(t, r), ()))
    assert len(cache) == 3


def test_failed_parses_are_not_cached() -> None:
    cache = ParseCache()

    def fail() -> tuple[Any, tuple[str, ...]]:
        raise ValidationError("no")

    for _ in range(2):
        with pytest.raises(ValidationError):
            cache.parse("c", "cache_k = = :v", params({":v": {"S": "x"}}), fail)
    assert (len(cache), cache.hits, cache.misses) == (0, 0, 0)


# -- property: the cache agrees with parsing again, whatever the text and values ------------

FRAGMENTS = [
    *"ab#:()[].,=<>+- ",
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
    "attribute_type",
    "begins_with",
    "list_append",
    "if_not_exists",
    ":a",
    ":b",
    "#n",
]
# Valid shapes too, so that most examples hit the cache with values the first parse never saw.
SHAPES = [
    "a = :a",
    "a BETWEEN :a AND :b",
    "begins_with(a, :a) AND #n <> :b",
    "attribute_type(a, :a)",
    "size(a) > :a OR NOT contains(#n, :b)",
    "a IN (:a, :b)",
    "SET a = :a + :b",
    "SET a = list_append(:a, :b) REMOVE c",
    "ADD a :a DELETE #n :b",
    "a, #n.b[1]",
]
TEXTS = st.one_of(
    st.sampled_from(SHAPES),
    st.sampled_from(SHAPES),
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=14).map("".join),
)
# Values by type: a hit needs the same types, and the checks that read values (BETWEEN's
# order, attribute_type's name) need different values of one type.
POOLS: dict[str, list[Any]] = {
    "N": ["1", "7", "-3"],
    "S": ["S", "x", "NOPE", "SS"],
    "B": ["AQ==", "Ag=="],
    "L": [[], [{"S": "y"}]],
    "SS": [["q"], ["q", "r"]],
    "BOOL": [True, False],
}


@st.composite
def value_maps(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two ExpressionAttributeValues: mostly with the same types, sometimes not."""
    keys = [":a", ":b"] if draw(st.integers(0, 5)) else [draw(st.sampled_from([":a", ":b"]))]
    kinds = st.sampled_from(["N", "N", "N", "S", "S", "B", "L", "SS", "BOOL"])
    first, second = {}, {}
    for key in keys:
        kind = draw(kinds)
        other = kind if draw(st.integers(0, 5)) else draw(kinds)
        first[key] = {kind: draw(st.sampled_from(POOLS[kind]))}
        second[key] = {other: draw(st.sampled_from(POOLS[other]))}
    return first, second


def _same(
    cached: Callable[[ExpressionParams], object],
    uncached: Callable[[ExpressionParams], object],
    first: dict[str, Any],
    second: dict[str, Any],
) -> None:
    names = {"#n": "n"}
    outcome(lambda: cached(params(first, names)))  # fills the cache when it parses
    request, fresh = params(second, names), params(second, names)
    assert outcome(lambda: cached(request)) == outcome(lambda: uncached(fresh))
    assert outcome(request.check_unused) == outcome(fresh.check_unused)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, value_maps())
def test_cached_conditions_agree_with_parsing_again(
    text: str, values: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    first, second = values
    _same(
        lambda p: parse_condition(text, p, "FilterExpression"),
        lambda p: parse_condition_uncached(text, p, "FilterExpression"),
        first,
        second,
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, value_maps())
def test_cached_updates_agree_with_parsing_again(
    text: str, values: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    first, second = values
    _same(
        lambda p: parse_update(text, p),
        lambda p: parse_update_uncached(text, p),
        first,
        second,
    )


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_cached_projections_agree_with_parsing_again(text: str) -> None:
    _same(
        lambda p: parse_projection(text, p),
        lambda p: parse_projection_uncached(text, p),
        {":a": {"N": "1"}},
        {":a": {"N": "1"}},
    )
