"""Answering GetMetricData's queries, protocol-neutral: metrics (MetricStat) read from the
store, and metric math expressions evaluated over them (``math_syntax.py``, ``math_eval.py``).

An expression uses the other queries by Id, whether they return data or not (``ReturnData``
false hides a query's own result, not its use). Each query is worked out once, in dependency
order; :func:`reference_problems` refuses unknown Ids and cycles before any data is read.

Labels: a metric's defaults to its metric name; an expression's to its Id (INFERRED: AWS says
only that it "generates a default"). An expression giving an array of time series answers
with one result per series, under the same Id, labelled "<expression label> <series label>"
(the form the CloudWatch User Guide gives for graph legends), or the series label alone when
the expression has none.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from headwater.cloudwatch.math_eval import Evaluator, MathError, Series, Value, kind
from headwater.cloudwatch.math_syntax import Node, references
from headwater.cloudwatch.series import MetricId, MetricSeries

# What AWS reports (as a result's message) when values that are not numbers were dropped.
# INFERRED wording: recalled from AWS's answers, not found in its documentation.
ARITHMETIC_ERROR = (
    "ArithmeticError",
    "One or more data points have been dropped due to non-numeric values "
    "(NaN, -Infinite, +Infinite)",
)
DEFAULT_PERIOD = 60


@dataclass(frozen=True)
class MetricQuery:
    id: str
    label: str
    metric: MetricId
    period: int
    stat: str
    unit: str | None
    return_data: bool


@dataclass(frozen=True)
class ExpressionQuery:
    id: str
    label: str | None
    text: str
    tree: Node
    period: int | None
    return_data: bool
    at: str  # the request member it came from, for messages: MetricDataQueries.member.3


Query = MetricQuery | ExpressionQuery


@dataclass
class Result:
    id: str
    label: str
    points: list[tuple[float, float]]  # oldest first
    messages: list[tuple[str, str]] = field(default_factory=list)  # (code, text)


class ExpressionFailed(MathError):
    """An expression could not be evaluated; the message names the query."""


def expression_problem(text: str, at: str, detail: str) -> str:
    """One line of a ValidationError about the expression ``text`` of query ``at`` (INFERRED
    wording, in the form AWS uses for invalid parameter values)."""
    return f"The value {text} for parameter {at}.Expression is not valid: {detail}."


def _problem(query: ExpressionQuery, detail: str) -> str:
    return expression_problem(query.text, query.at, detail)


def reference_problems(queries: list[Query]) -> list[str]:
    """Expressions that use an Id no query has, or that use themselves (directly or not)."""
    ids = {q.id for q in queries}
    expressions = {q.id: q for q in queries if isinstance(q, ExpressionQuery)}
    problems: list[str] = []
    for query in expressions.values():
        unknown = [name for name in references(query.tree) if name not in ids]
        if unknown:
            problems.append(_problem(query, f"no query in the request has the Id {unknown[0]}"))
    reported: set[str] = set()
    for query in expressions.values():
        cycle = _cycle_from(query.id, expressions)
        if cycle and not reported & set(cycle):
            reported.update(cycle)
            problems.append(_problem(query, f"it uses itself ({' -> '.join([*cycle, cycle[0]])})"))
    return problems


def _cycle_from(start: str, expressions: dict[str, ExpressionQuery]) -> list[str]:
    """The Ids of a cycle through ``start``, or [] (depth-first, without recursion)."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        current, path = stack.pop()
        for name in references(expressions[current].tree):
            if name == start:
                return path
            if name in expressions and name not in seen:
                seen.add(name)
                stack.append((name, [*path, name]))
    return []


def _dependency_order(queries: list[Query]) -> list[str]:
    """The Ids of the expressions, each after the expressions it uses (cycles were refused
    before; one here is cut where it closes)."""
    expressions = {q.id: q for q in queries if isinstance(q, ExpressionQuery)}
    order: list[str] = []
    placed: set[str] = set()
    visiting: set[str] = set()  # on the current path: met again, it closes a cycle
    for root in expressions:
        stack: list[tuple[str, bool]] = [(root, False)]
        while stack:
            current, ready = stack.pop()
            if ready:
                visiting.discard(current)
                if current not in placed:
                    placed.add(current)
                    order.append(current)
                continue
            if current in placed or current in visiting:
                continue
            visiting.add(current)
            stack.append((current, True))
            for name in references(expressions[current].tree):
                if name in expressions and name not in placed:
                    stack.append((name, False))
    return order


class _Sources:
    """What the expressions of one request see: each query's value, worked out once."""

    def __init__(
        self,
        store: MetricSeries,
        region: str,
        queries: list[Query],
        start: float,
        end: float,
    ) -> None:
        self.store = store
        self.region = region
        self.start = start
        self.end = end
        self.queries = {q.id: q for q in queries}
        self.metric_queries = [q for q in queries if isinstance(q, MetricQuery)]
        periods = [q.period for q in self.metric_queries]
        self.default_period = min(periods, default=DEFAULT_PERIOD)
        self.values: dict[str, Value] = {}
        self.dropped: set[str] = set()  # expressions that dropped values that are not numbers

    def value(self, query_id: str) -> Value:
        found = self.values.get(query_id)
        if found is not None:
            return found
        query = self.queries[query_id]
        if isinstance(query, MetricQuery):
            found = Series(query.label, dict(self._read(query)), query.period)
        else:
            found = self._evaluate(query)
        self.values[query_id] = found
        return found

    def metrics(self) -> list[tuple[str, Series]]:
        out = []
        for query in self.metric_queries:
            value = self.value(query.id)
            assert isinstance(value, Series)
            out.append((query.id, value))
        return out

    def _read(self, query: MetricQuery) -> list[tuple[float, float]]:
        aggregates = self.store.aggregate(
            self.region, query.metric, self.start, self.end, query.period, unit=query.unit
        )
        points = []
        for aggregate in aggregates:
            value = aggregate.statistic(query.stat)
            if value is not None:
                points.append((aggregate.timestamp, float(value)))
        return points

    def _evaluate(self, query: ExpressionQuery) -> Value:
        evaluator = Evaluator(self, query.period or self.default_period)
        try:
            value = evaluator.evaluate(query.tree)
        except ExpressionFailed:
            raise
        except MathError as error:
            raise ExpressionFailed(_problem(query, str(error))) from None
        if isinstance(value, float):
            raise ExpressionFailed(
                _problem(
                    query, f"it gives {kind(value)}; it must give a time series or an array of them"
                )
            )
        if evaluator.dropped:
            self.dropped.add(query.id)
        if isinstance(value, Series):
            return value.like(value.points, query.label or query.id)
        return value


def answer(
    store: MetricSeries, region: str, queries: list[Query], start: float, end: float
) -> list[Result]:
    """The results of the queries that return data, in request order (an expression giving an
    array of time series gives one result per series). Raises ExpressionFailed. The queries
    must have passed :func:`reference_problems`."""
    sources = _Sources(store, region, queries, start, end)
    # Every expression is evaluated, returned or not, each after those it uses: so a long
    # chain of expressions never nests one evaluation in another.
    for query_id in _dependency_order(queries):
        sources.value(query_id)
    results: list[Result] = []
    for query in queries:
        if not query.return_data:
            continue
        value = sources.value(query.id)
        messages = [ARITHMETIC_ERROR] if query.id in sources.dropped else []
        if isinstance(query, MetricQuery) or isinstance(value, Series):
            assert isinstance(value, Series)
            label = query.label if isinstance(query, MetricQuery) else value.label
            results.append(Result(query.id, label, value.ordered(), messages))
            continue
        assert isinstance(value, list) and isinstance(query, ExpressionQuery)
        if not value:
            results.append(Result(query.id, query.label or query.id, [], messages))
        for series in value:
            label = f"{query.label} {series.label}" if query.label else series.label
            results.append(Result(query.id, label, series.ordered(), list(messages)))
    return results
