"""CloudWatch metric math: reading expressions (math_syntax), evaluating them (math_eval), and
answering a request's queries (metric_data). Worked examples are the CloudWatch User Guide's."""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.clock import Clock
from headwater.cloudwatch.math_eval import Evaluator, MathError, Series, Value
from headwater.cloudwatch.math_syntax import (
    Binary,
    Call,
    MathSyntaxError,
    Number,
    Ref,
    Unary,
    Word,
    parse,
    references,
)
from headwater.cloudwatch.metric_data import (
    ARITHMETIC_ERROR,
    ExpressionFailed,
    ExpressionQuery,
    MetricQuery,
    Query,
    answer,
    reference_problems,
)
from headwater.cloudwatch.series import MetricId, MetricSeries

# -- reading --------------------------------------------------------------------------------


def test_precedence_and_associativity() -> None:
    assert parse("m1 + m2 * 2") == Binary(
        "+", Ref("m1", 1), Binary("*", Ref("m2", 6), Number(2.0, 11), 9), 4
    )
    assert parse("-2^2") == Unary("-", Binary("^", Number(2.0, 2), Number(2.0, 4), 3), 1)
    tree = parse("2^3^2")  # right-associative
    assert isinstance(tree, Binary) and isinstance(tree.right, Binary)
    tree = parse("10 - 4 - 3")  # left-associative
    assert isinstance(tree, Binary) and isinstance(tree.left, Binary)
    tree = parse("a < 3 AND b > 1 || c")
    assert isinstance(tree, Binary) and tree.op == "OR"
    assert isinstance(tree.left, Binary) and tree.left.op == "AND"


def test_calls_words_texts_and_arrays() -> None:
    tree = parse('FILL(METRICS("errors"), REPEAT)')
    assert isinstance(tree, Call) and tree.name == "FILL"
    assert tree.args[1] == Word("REPEAT", 25)
    assert references(parse("SUM([m1, e2 / m1]) - AVG(m3)")) == ["m1", "e2", "m3"]
    assert parse("METRICS(\u201c4xx\u201d)") == parse('METRICS("4xx")')  # the guide's quotes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The expression is empty at character 1"),
        ("m1 +", "Unexpected end of the expression: expected a number, an Id, a function or '('"),
        ("(m1", "Unexpected end of the expression: expected ')'"),
        ("m1 m2", "Unexpected 'm2': expected an operator at character 4"),
        ("m1 $ 2", "Unexpected character '$' at character 4"),
        ('METRICS("x)', "Unterminated text at character 9"),
        ("_m", "Unexpected '_m' at character 1"),
        ("AND m1", "Unexpected 'AND': expected a value before it"),
        ("(" * 100 + "m1" + ")" * 100, "The expression is nested too deeply"),
    ],
)
def test_syntax_errors_say_what_and_where(text: str, message: str) -> None:
    with pytest.raises(MathSyntaxError) as caught:
        parse(text)
    assert str(caught.value).startswith(message)


def test_long_chains_are_refused_before_they_could_overflow_the_stack() -> None:
    assert _run("+".join(["m1"] * 150), m1=_series(1, 2)) is not None
    for text in ("+".join(["1"] * 1500), "-" * 1500 + "1", "2" + "^2" * 1500):
        with pytest.raises(MathSyntaxError):
            parse(text)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_any_text_parses_or_raises_its_own_error(text: str) -> None:
    with contextlib.suppress(MathSyntaxError):  # anything else fails the test
        parse(text)


_PIECES = [
    "m1", "m2", "e1", "1", "2.5", ".5", "(", ")", "[", "]", ",", "+", "-", "*", "/", "^", "<",
    "<=", "==", "!=", "&&", "||", "AND", "OR", "SUM(", "FILL(", "METRICS(", '"m"', "REPEAT",
    "LINEAR", " ", "IF(", "\u201c", "'",
]  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30))
def test_near_misses_parse_or_raise_their_own_error(pieces: list[str]) -> None:
    with contextlib.suppress(MathSyntaxError):
        parse("".join(pieces))


# -- evaluating -----------------------------------------------------------------------------

START, END = 0.0, 300.0  # five one-minute periods: 0, 60, 120, 180, 240


def _series(*values: float | None, label: str = "s") -> Series:
    """A one-minute series from 0: None leaves a period without a value."""
    points = {i * 60.0: v for i, v in enumerate(values) if v is not None}
    return Series(label, points)


def _values(value: Value) -> list[float | None]:
    assert isinstance(value, Series)
    return [value.points.get(i * 60.0) for i in range(5)]


@dataclass
class _Sources:
    named: dict[str, Value]
    start: float = START
    end: float = END
    metric_ids: list[str] = field(default_factory=list)

    def value(self, query_id: str) -> Value:
        return self.named[query_id]

    def metrics(self) -> list[tuple[str, Series]]:
        out = []
        for query_id in self.metric_ids:
            series = self.named[query_id]
            assert isinstance(series, Series)
            out.append((query_id, series))
        return out


def _run(text: str, **named: Value) -> Value:
    return _evaluator(**named).evaluate(parse(text))


def _evaluator(**named: Value) -> Evaluator:
    metric_ids = [k for k, v in named.items() if isinstance(v, Series)]
    return Evaluator(_Sources(named, metric_ids=metric_ids), 60)


def test_scalar_arithmetic_follows_precedence() -> None:
    assert _run("2 + 3 * 4") == 14
    assert _run("(2 + 3) * 4") == 20
    assert _run("-2^2") == -4
    assert _run("2^3^2") == 512
    assert _run("10 - 4 - 3") == 3
    assert _run("7 / 2") == 3.5


def test_series_with_scalars_and_series() -> None:
    m1 = _series(1, 2, None, 4, 5)
    m2 = _series(10, None, 30, None, 50)
    assert _values(_run("m1 * 2 + 1", m1=m1)) == [3, 5, None, 9, 11]
    assert _values(_run("100 / m1", m1=m1)) == [100, 50, None, 25, 20]
    # Between two series a missing value counts as 0.
    assert _values(_run("m1 + m2", m1=m1, m2=m2)) == [11, 2, 30, 4, 55]
    assert _values(_run("-m1", m1=m1)) == [-1, -2, None, -4, -5]


def test_comparisons_and_logic_as_the_guide_shows() -> None:
    metric1 = _series(30, 20, 0, 0)
    metric2 = _series(20, None, 20, None)
    both = {"metric1": metric1, "metric2": metric2}
    assert _values(_run("metric1 < metric2", **both))[:4] == [0, 0, 1, 0]
    assert _values(_run("metric1 >= 30", **both))[:4] == [1, 0, 0, 0]
    assert _values(_run("metric1 > 15 AND metric2 > 15", **both))[:4] == [1, 0, 0, 0]


def test_points_that_are_not_numbers_are_dropped_and_noted() -> None:
    evaluator = _evaluator(m1=_series(4, 0, 2), m2=_series(2, 0, None))
    assert _values(evaluator.evaluate(parse("m1 / m2"))) == [2, None, None, None, None]
    assert evaluator.dropped
    quiet = _evaluator(m1=_series(4, 0, 2))
    quiet.evaluate(parse("m1 * 2"))
    assert not quiet.dropped
    assert _values(_run("LOG10(m1)", m1=_series(100, -1, 1000))) == [2, None, 3, None, None]


def test_reductions_of_a_series_and_of_an_array() -> None:
    m1 = _series(1, 2, None, 4, 5)
    m2 = _series(3, None, 6, None, 1)
    assert _run("SUM(m1)", m1=m1) == 12
    assert _run("AVG(m1)", m1=m1) == 3
    assert _run("MIN(m1) + MAX(m1)", m1=m1) == 6
    assert _run("DATAPOINT_COUNT(m1)", m1=m1) == 4
    assert _values(_run("m1 - AVG(m1)", m1=m1)) == [-2, -1, None, 1, 2]
    both = {"m1": m1, "m2": m2}
    assert _values(_run("SUM([m1, m2])", **both)) == [4, 2, 6, 4, 6]
    assert _values(_run("AVG([m1, m2])", **both)) == [2, 1, 3, 2, 3]  # missing counts as 0
    assert _values(_run("MAX([m1, m2])", **both)) == [3, 2, 6, 4, 5]
    assert _values(_run("MIN(METRICS())", **both)) == [1, 2, 6, 4, 1]
    assert _values(_run("SUM(100 / [m1, m2])", **both)) == [
        pytest.approx(100 + 100 / 3),
        50,
        pytest.approx(100 / 6),
        25,
        120,
    ]


def test_metrics_function_filters_by_id() -> None:
    named = {"errors_a": _series(1), "errors_b": _series(2), "calls": _series(10)}
    found = _run('METRICS("errors")', **named)
    assert isinstance(found, list) and [s.points[0.0] for s in found] == [1, 2]
    assert _run("METRIC_COUNT(METRICS())", **named) == 3
    scaled = _run("METRICS() * 100", **named)
    assert isinstance(scaled, list) and [s.points[0.0] for s in scaled] == [100, 200, 1000]


def test_fill() -> None:
    m1 = _series(None, 2, None, None, 8)
    assert _values(_run("FILL(m1, 0)", m1=m1)) == [0, 2, 0, 0, 8]
    assert _values(_run("FILL(m1, REPEAT)", m1=m1)) == [None, 2, 2, 2, 8]
    assert _values(_run("FILL(m1, LINEAR)", m1=m1)) == [None, 2, 4, 6, 8]
    other = _series(9, 9, None, 7, 9)
    assert _values(_run("FILL(m1, m2)", m1=m1, m2=other)) == [9, 2, None, 7, 8]
    assert _values(_run("FILL(m1, MIN(m1))", m1=m1)) == [2, 2, 2, 2, 8]
    filled = _run("FILL(METRICS(), 1)", m1=m1, m2=other)
    assert isinstance(filled, list) and _values(filled[1]) == [9, 9, 1, 7, 9]


def test_rate_diff_abs_and_running_sum() -> None:
    m1 = _series(10, 70, None, 10, 40)
    assert _values(_run("DIFF(m1)", m1=m1)) == [None, 60, None, -60, 30]
    assert _values(_run("RATE(m1)", m1=m1)) == [None, 1, None, -0.5, 0.5]  # per second
    assert _values(_run("DIFF_TIME(m1)", m1=m1)) == [None, 60, None, 120, 60]
    assert _values(_run("ABS(DIFF(m1))", m1=m1)) == [None, 60, None, 60, 30]
    assert _values(_run("RUNNING_SUM(m1)", m1=m1)) == [10, 80, None, 90, 130]
    assert _run("PERIOD(m1)", m1=m1) == 60


def test_if_as_the_guide_shows() -> None:
    named = {
        "metric1": _series(1, 1, 0, 0, None),
        "metric2": _series(30, None, 0, 0, 30),
        "metric3": _series(0, 0, 20, None, 20),
    }
    assert _values(_run("IF(metric1, metric2, metric3)", **named)) == [30, 0, 20, None, None]
    assert _values(_run("IF(metric1, 5, metric3)", **named)) == [5, 5, 20, None, None]
    assert _values(_run("IF(metric1, metric2, 5)", **named)) == [30, 0, 5, 5, None]
    assert _values(_run("IF(metric2 < 10, 1, 0)", **named)) == [0, None, 1, 1, 0]


def test_series_made_from_the_range() -> None:
    assert _values(_run("TIME_SERIES(7)")) == [7, 7, 7, 7, 7]
    assert _values(_run("MINUTE(m1)", m1=_series(1))) == [0, 1, 2, 3, 4]
    assert _values(_run("DAY(m1)", m1=_series(1))) == [4] * 5  # 1 Jan 1970 was a Thursday


def test_sort_slice_first_last() -> None:
    named = {"a": _series(1, 1), "b": _series(5, 5), "c": _series(3)}
    top = _run("FIRST(SORT(METRICS(), SUM, DESC))", **named)
    assert isinstance(top, Series) and top.points[0.0] == 5
    found = _run("SLICE(SORT(METRICS(), MAX, ASC), 1)", **named)
    assert isinstance(found, list) and [s.points[0.0] for s in found] == [3, 5]
    assert _run("METRIC_COUNT(REMOVE_EMPTY([a, a * 0 / 0]))", **named) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("NOPE(m1)", "Unknown function NOPE"),
        ("SEARCH('{AWS/EC2} x', 'Average')", "The function SEARCH is not supported by Headwater"),
        ("ABS(2)", "ABS needs a time series or an array of them, not a number"),
        ("ABS(m1, m1)", "ABS takes 1 arguments, not 2"),
        ("FILL(m1, SIDEWAYS)", "FILL takes a number, a time series, REPEAT or LINEAR"),
        ("[m1, 2]", "An array can hold only time series, not a number"),
        ("m1 + REPEAT", "REPEAT can only be an argument of a function such as FILL"),
        ('"x"', 'The text "x" can only be an argument of METRICS'),
        ("PERIOD(METRICS())", "PERIOD needs a time series, not an array of time series"),
        ("[m1] + [m1, m1]", "The arrays on either side of + hold 1 and 2 time series"),
    ],
)
def test_evaluation_errors(text: str, message: str) -> None:
    with pytest.raises(MathError) as caught:
        _run(text, m1=_series(1, 2))
    assert str(caught.value).startswith(message)


_LEAVES = st.sampled_from(["m1", "m2", "2", "0", "-1", "REPEAT", "METRICS()", '"x"'])
_FUNCTIONS = ["SUM", "AVG", "MIN", "MAX", "ABS", "FILL", "RATE", "DIFF", "IF", "LOG", "FIRST"]


def _expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^", "<", "AND"]), inner)
        call = st.tuples(st.sampled_from(_FUNCTIONS), st.lists(inner, min_size=1, max_size=3))
        return st.one_of(
            binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            call.map(lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.lists(inner, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
        )

    return st.recursive(_LEAVES, extend, max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(_expressions())
def test_any_expression_evaluates_or_raises_a_math_error(text: str) -> None:
    named: dict[str, Value] = {"m1": _series(1, None, -3, 0, 5), "m2": _series(None, 2, 2)}
    try:
        value = _run(text, **named)
    except MathError:
        return
    for series in value if isinstance(value, list) else [value]:
        if isinstance(series, Series):
            assert all(math.isfinite(v) for v in series.points.values())


# -- answering a request --------------------------------------------------------------------

REGION = "us-east-1"


def _metric(query_id: str, name: str, **extra: object) -> MetricQuery:
    fields: dict[str, object] = {
        "id": query_id,
        "label": name,
        "metric": MetricId("App", name),
        "period": 60,
        "stat": "Sum",
        "unit": None,
        "return_data": True,
    }
    fields.update(extra)
    return MetricQuery(**fields)  # type: ignore[arg-type]


def _expression(
    query_id: str, text: str, label: str | None = None, **extra: object
) -> ExpressionQuery:
    return ExpressionQuery(
        id=query_id,
        label=label,
        text=text,
        tree=parse(text),
        period=None,
        return_data=bool(extra.get("return_data", True)),
        at="MetricDataQueries.member.9",
    )


@pytest.fixture
def store() -> MetricSeries:
    """Errors and Calls for three minutes from 600 s, on a clock that stands just after."""
    series = MetricSeries(Clock(offset=900.0 - time.time()))
    for minute, (errors, calls) in enumerate([(1, 10), (0, 20), (5, 0)]):
        when = 600.0 + minute * 60
        series.put(REGION, MetricId("App", "Errors"), errors, timestamp=when)
        series.put(REGION, MetricId("App", "Calls"), calls, timestamp=when)
    return series


def test_answer_evaluates_in_dependency_order_and_hides_what_is_not_returned(
    store: MetricSeries,
) -> None:
    queries: list[Query] = [
        _expression("rate", "100 * e1", label="Error rate"),  # uses an expression defined later
        _metric("errors", "Errors", return_data=False),
        _metric("calls", "Calls", return_data=False),
        _expression("e1", "errors / calls", return_data=False),
    ]
    assert reference_problems(queries) == []
    [result] = answer(store, REGION, queries, 600, 780)
    assert (result.id, result.label) == ("rate", "Error rate")
    assert result.points == [(600.0, 10.0), (660.0, 0.0)]  # 5 / 0 dropped...
    assert result.messages == []  # ...in e1, which reports it (but returns nothing)


def test_answer_labels_and_messages(store: MetricSeries) -> None:
    queries: list[Query] = [
        _metric("errors", "Errors"),
        _metric("calls", "Calls", label="All calls"),
        _expression("ratio", "errors / calls"),
        _expression("scaled", "METRICS() * 2", label="Doubled"),
        _expression("plain", "METRICS()"),
    ]
    results = answer(store, REGION, queries, 600, 780)
    labels = [(r.id, r.label) for r in results]
    assert labels == [
        ("errors", "Errors"),
        ("calls", "All calls"),
        ("ratio", "ratio"),  # an expression without a label is labelled by its Id
        ("scaled", "Doubled Errors"),
        ("scaled", "Doubled All calls"),
        ("plain", "Errors"),
        ("plain", "All calls"),
    ]
    ratio = results[2]
    assert ratio.points == [(600.0, 0.1), (660.0, 0.0)]
    assert ratio.messages == [ARITHMETIC_ERROR]


def test_a_long_chain_of_expressions_is_evaluated_in_order(store: MetricSeries) -> None:
    chain: list[Query] = [_expression(f"e{i}", f"e{i - 1} + 1") for i in range(600, 0, -1)]
    queries: list[Query] = [*chain, _metric("e0", "Calls", return_data=False)]
    assert reference_problems(queries) == []
    results = answer(store, REGION, queries, 600, 780)
    assert results[0].id == "e600" and results[0].points[0] == (600.0, 610.0)


def test_reference_problems() -> None:
    queries: list[Query] = [
        _metric("m1", "Errors"),
        _expression("e1", "m1 + m9"),
        _expression("e2", "e3 * 2"),
        _expression("e3", "e2 + m1"),
        _expression("e4", "e4"),
    ]
    assert reference_problems(queries) == [
        "The value m1 + m9 for parameter MetricDataQueries.member.9.Expression is not valid: "
        "no query in the request has the Id m9.",
        "The value e3 * 2 for parameter MetricDataQueries.member.9.Expression is not valid: "
        "it uses itself (e2 -> e3 -> e2).",
        "The value e4 for parameter MetricDataQueries.member.9.Expression is not valid: "
        "it uses itself (e4 -> e4).",
    ]


def test_an_expression_must_give_a_time_series(store: MetricSeries) -> None:
    queries: list[Query] = [_metric("m1", "Errors"), _expression("e1", "SUM(m1)")]
    with pytest.raises(ExpressionFailed) as caught:
        answer(store, REGION, queries, 600, 780)
    assert str(caught.value) == (
        "The value SUM(m1) for parameter MetricDataQueries.member.9.Expression is not valid: "
        "it gives a number; it must give a time series or an array of them."
    )
