"""Evaluating CloudWatch metric math (the tree from ``math_syntax.py``) over time series.

Values are a scalar (``float``), a time series (:class:`Series`: timestamp → value, and its
period) or an array of time series (``list[Series]``), the S, TS and TS[] of the CloudWatch User
Guide's "Metric math syntax and functions", whose rules this follows:

* arithmetic (``+ - * / ^``) and comparisons (``== != < <= > >=``, giving 1 or 0) and ``AND`` /
  ``OR`` work on any mix of scalars, series and arrays; between two series the timestamps of
  both count and a value missing from one is taken as 0;
* a data point whose value is not a number (division by zero, the log of a negative) is
  dropped, and :attr:`Evaluator.dropped` says so;
* SUM, AVG, MIN, MAX and STDDEV of a series are a scalar over its points; of an array, a
  series over the timestamps (SUM and AVG take a missing value as 0, as AWS documents for
  AVG; MIN, MAX and STDDEV look at the values present);
* FILL fills every period of the requested range that has no value: with a number, another
  series' value at that time, REPEAT (the last value before; none before the first value) or
  LINEAR (a straight line between the values on either side; none outside them).

Problems a request can cause (a function given the wrong kind of value, an unknown function)
are :class:`MathError`; functions AWS has and Headwater does not evaluate say so.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from headwater.cloudwatch.math_syntax import Array, Binary, Call, Node, Number, Ref, Text, Unary
from headwater.cloudwatch.math_syntax import Word as Keyword
from headwater.cloudwatch.series import period_starts


class MathError(ValueError):
    """The expression cannot be evaluated (a wrong kind of argument, an unknown function)."""


@dataclass
class Series:
    label: str
    points: dict[float, float] = field(default_factory=dict)  # timestamp -> value
    period: int = 60

    def like(self, points: dict[float, float], label: str | None = None) -> Series:
        return Series(self.label if label is None else label, points, self.period)

    def ordered(self) -> list[tuple[float, float]]:
        return sorted(self.points.items())


Value = float | Series | list[Series]


class Sources(Protocol):
    """What an expression can see of its request."""

    start: float
    end: float

    def value(self, query_id: str) -> Value:
        """The result of the query with that Id (a metric's series, or an expression's value)."""
        ...

    def metrics(self) -> list[tuple[str, Series]]:
        """(Id, series) of every MetricStat query, in request order: what METRICS() returns."""
        ...


NOT_EVALUATED = frozenset(
    {"ANOMALY_DETECTION_BAND", "INSIGHT_RULE_METRIC", "SEARCH", "SERVICE_QUOTA", "LAMBDA"}
)


def kind(value: Value) -> str:
    if isinstance(value, list):
        return "an array of time series"
    return "a time series" if isinstance(value, Series) else "a number"


class Evaluator:
    def __init__(self, sources: Sources, period: int) -> None:
        self.sources = sources
        self.period = period  # for series made from nothing (TIME_SERIES)
        self.dropped = False  # a data point was dropped: its value was not a number

    # -- the tree ------------------------------------------------------------------------

    def evaluate(self, node: Node) -> Value:
        if isinstance(node, Number):
            return node.value
        if isinstance(node, Ref):
            return self.sources.value(node.name)
        if isinstance(node, Unary):
            return self._map(self.evaluate(node.operand), lambda v: -v)
        if isinstance(node, Binary):
            return self._binary(node.op, self.evaluate(node.left), self.evaluate(node.right))
        if isinstance(node, Array):
            return self._array(node.items)
        if isinstance(node, Call):
            return self._call(node)
        if isinstance(node, Text):
            raise MathError(f'The text "{node.value}" can only be an argument of METRICS')
        raise MathError(f"{node.name} can only be an argument of a function such as FILL")

    def _array(self, items: Iterable[Node]) -> list[Series]:
        out: list[Series] = []
        for item in items:
            value = self.evaluate(item)
            if isinstance(value, list):
                out.extend(value)
            elif isinstance(value, Series):
                out.append(value)
            else:
                raise MathError("An array can hold only time series, not a number")
        return out

    # -- arithmetic ----------------------------------------------------------------------

    def _binary(self, op: str, left: Value, right: Value) -> Value:
        apply = _OPERATIONS[op]
        if isinstance(left, list) or isinstance(right, list):
            if isinstance(left, list) and isinstance(right, list):
                if len(left) != len(right):
                    raise MathError(
                        f"The arrays on either side of {op} hold {len(left)} and {len(right)} "
                        "time series: they must hold as many"
                    )
                return [
                    _as_series(self._binary(op, a, b)) for a, b in zip(left, right, strict=True)
                ]
            if isinstance(left, list):
                return [_as_series(self._binary(op, a, right)) for a in left]
            assert isinstance(right, list)
            return [_as_series(self._binary(op, left, b)) for b in right]
        if isinstance(left, Series) and isinstance(right, Series):
            stamps = left.points.keys() | right.points.keys()
            pairs = ((t, left.points.get(t, 0.0), right.points.get(t, 0.0)) for t in stamps)
            return left.like(self._kept((t, apply(a, b)) for t, a, b in pairs))
        if isinstance(left, Series):
            assert isinstance(right, float)
            return left.like(self._kept((t, apply(v, right)) for t, v in left.points.items()))
        if isinstance(right, Series):
            return right.like(self._kept((t, apply(left, v)) for t, v in right.points.items()))
        return apply(left, right)

    def _kept(self, points: Iterable[tuple[float, float]]) -> dict[float, float]:
        """The points whose value is a number; notes when any was dropped."""
        out = {}
        for stamp, value in points:
            if math.isfinite(value):
                out[stamp] = value
            else:
                self.dropped = True
        return out

    def _map(self, value: Value, each: Callable[[float], float]) -> Value:
        if isinstance(value, list):
            return [_as_series(self._map(s, each)) for s in value]
        if isinstance(value, Series):
            return value.like(self._kept((t, _safe(each, v)) for t, v in value.points.items()))
        return _safe(each, value)

    # -- functions -----------------------------------------------------------------------

    def _call(self, call: Call) -> Value:
        name = call.name
        handler = _FUNCTIONS.get(name)
        if handler is None:
            if name in NOT_EVALUATED:
                raise MathError(f"The function {name} is not supported by Headwater")
            raise MathError(f"Unknown function {name}")
        return handler(self, call)

    def args(self, call: Call, low: int, high: int | None = None) -> list[Node]:
        count = len(call.args)
        high = low if high is None else high
        if not low <= count <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise MathError(f"{call.name} takes {wanted} arguments, not {count}")
        return list(call.args)

    def series_or_array(self, call: Call, node: Node) -> Series | list[Series]:
        value = self.evaluate(node)
        if isinstance(value, float):
            raise MathError(f"{call.name} needs a time series or an array of them, not a number")
        return value

    def array(self, call: Call, node: Node) -> list[Series]:
        value = self.evaluate(node)
        if not isinstance(value, list):
            raise MathError(f"{call.name} needs an array of time series, not {kind(value)}")
        return value

    def series(self, call: Call, node: Node) -> Series:
        value = self.evaluate(node)
        if not isinstance(value, Series):
            raise MathError(f"{call.name} needs a time series, not {kind(value)}")
        return value

    def scalar(self, call: Call, node: Node) -> float:
        value = self.evaluate(node)
        if not isinstance(value, float):
            raise MathError(f"{call.name} needs a number, not {kind(value)}")
        return value

    def grid(self, period: int) -> list[float]:
        """Every period's start in the requested range."""
        first, count = period_starts(self.sources.start, self.sources.end, period)
        return [first + i * period for i in range(count)]


Handler = Callable[[Evaluator, Call], Value]
_FUNCTIONS: dict[str, Handler] = {}


def _function(*names: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in names:
            _FUNCTIONS[name] = handler
        return handler

    return register


# -- element by element ---------------------------------------------------------------------

_EACH: dict[str, Callable[[float], float]] = {
    "ABS": abs,
    "CEIL": lambda v: float(math.ceil(v)),
    "FLOOR": lambda v: float(math.floor(v)),
    "LOG": math.log,
    "LOG10": math.log10,
}


@_function(*_EACH)
def _each(ev: Evaluator, call: Call) -> Value:
    (node,) = ev.args(call, 1)
    return ev._map(ev.series_or_array(call, node), _EACH[call.name])


# -- reductions -----------------------------------------------------------------------------


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


_OVER_SERIES: dict[str, Callable[[list[float]], float]] = {
    "SUM": lambda vs: float(sum(vs)),
    "AVG": _mean,
    "MIN": lambda vs: min(vs, default=math.nan),
    "MAX": lambda vs: max(vs, default=math.nan),
    "STDDEV": lambda vs: statistics.pstdev(vs) if vs else math.nan,
    "DATAPOINT_COUNT": lambda vs: float(len(vs)),
}


@_function(*_OVER_SERIES)
def _reduce(ev: Evaluator, call: Call) -> Value:
    (node,) = ev.args(call, 1)
    value = ev.series_or_array(call, node)
    reduce = _OVER_SERIES[call.name]
    if isinstance(value, Series):
        return float(reduce(list(value.points.values())))
    if not value:
        return Series(call.name, {}, ev.period)
    stamps = sorted(set().union(*(s.points.keys() for s in value)))
    out: dict[float, float] = {}
    for stamp in stamps:
        present = [s.points[stamp] for s in value if stamp in s.points]
        if call.name == "SUM":
            out[stamp] = sum(present)
        elif call.name == "AVG":  # missing values count as 0
            out[stamp] = sum(present) / len(value)
        else:
            out[stamp] = reduce(present)
    return value[0].like(ev._kept(out.items()), call.name)


@_function("METRIC_COUNT")
def _metric_count(ev: Evaluator, call: Call) -> Value:
    (node,) = ev.args(call, 1)
    return float(len(ev.array(call, node)))


@_function("PERIOD")
def _period(ev: Evaluator, call: Call) -> Value:
    (node,) = ev.args(call, 1)
    return float(ev.series(call, node).period)


# -- along one series -----------------------------------------------------------------------


def _diff(points: list[tuple[float, float]]) -> dict[float, float]:
    return {t: v - points[i][1] for i, (t, v) in enumerate(points[1:])}


def _diff_time(points: list[tuple[float, float]]) -> dict[float, float]:
    return {t: t - points[i][0] for i, (t, _v) in enumerate(points[1:])}


def _rate(points: list[tuple[float, float]]) -> dict[float, float]:
    return {t: (v - points[i][1]) / (t - points[i][0]) for i, (t, v) in enumerate(points[1:])}


def _running_sum(points: list[tuple[float, float]]) -> dict[float, float]:
    out, total = {}, 0.0
    for stamp, value in points:
        total += value
        out[stamp] = total
    return out


_ALONG: dict[str, Callable[[list[tuple[float, float]]], dict[float, float]]] = {
    "DIFF": _diff,
    "DIFF_TIME": _diff_time,
    "RATE": _rate,
    "RUNNING_SUM": _running_sum,
}


@_function(*_ALONG)
def _along(ev: Evaluator, call: Call) -> Value:
    (node,) = ev.args(call, 1)
    value = ev.series_or_array(call, node)
    along = _ALONG[call.name]
    if isinstance(value, Series):
        return value.like(ev._kept(along(value.ordered()).items()))
    return [s.like(ev._kept(along(s.ordered()).items())) for s in value]


# -- filling --------------------------------------------------------------------------------


@_function("FILL")
def _fill(ev: Evaluator, call: Call) -> Value:
    target, how = ev.args(call, 2)
    value = ev.series_or_array(call, target)
    filler: float | Series | str
    if isinstance(how, Keyword):
        if how.name not in ("REPEAT", "LINEAR"):
            raise MathError(f"FILL takes a number, a time series, REPEAT or LINEAR, not {how.name}")
        filler = how.name
    else:
        found = ev.evaluate(how)
        if isinstance(found, list):
            raise MathError("FILL takes a number, a time series, REPEAT or LINEAR to fill with")
        filler = found
    if isinstance(value, Series):
        return _filled(ev, value, filler)
    return [_filled(ev, s, filler) for s in value]


def _filled(ev: Evaluator, series: Series, filler: float | Series | str) -> Series:
    points = dict(series.points)
    known = series.ordered()
    for stamp in ev.grid(series.period):
        if stamp in points:
            continue
        if isinstance(filler, float):
            points[stamp] = filler
        elif isinstance(filler, Series):
            if stamp in filler.points:
                points[stamp] = filler.points[stamp]
        else:
            before = [(t, v) for t, v in known if t < stamp]
            after = [(t, v) for t, v in known if t > stamp]
            if filler == "REPEAT" and before:
                points[stamp] = before[-1][1]
            elif filler == "LINEAR" and before and after:
                (t0, v0), (t1, v1) = before[-1], after[0]
                points[stamp] = v0 + (v1 - v0) * (stamp - t0) / (t1 - t0)
    return series.like(ev._kept(points.items()))


@_function("TIME_SERIES")
def _time_series(ev: Evaluator, call: Call) -> Value:
    (node,) = ev.args(call, 1)
    value = ev.scalar(call, node)
    return Series(call.name, ev._kept((t, value) for t in ev.grid(ev.period)), ev.period)


def _utc(stamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(stamp, dt.UTC)


_CALENDAR: dict[str, Callable[[float], float]] = {
    "MINUTE": lambda t: _utc(t).minute,
    "HOUR": lambda t: _utc(t).hour,
    "DAY": lambda t: _utc(t).isoweekday(),  # 1 is Monday, 7 Sunday
    "DATE": lambda t: _utc(t).day,
    "MONTH": lambda t: _utc(t).month,
    "YEAR": lambda t: _utc(t).year,
    "EPOCH": lambda t: t,
}


@_function(*_CALENDAR)
def _calendar(ev: Evaluator, call: Call) -> Value:
    (node,) = ev.args(call, 1)
    series = ev.series(call, node)
    when = _CALENDAR[call.name]
    return series.like({t: float(when(t)) for t in ev.grid(series.period)}, call.name)


# -- arrays ---------------------------------------------------------------------------------


@_function("METRICS")
def _metrics(ev: Evaluator, call: Call) -> Value:
    nodes = ev.args(call, 0, 1)
    wanted = ""
    if nodes:
        if not isinstance(nodes[0], Text):
            raise MathError('METRICS takes nothing, or text to look for in Ids: METRICS("errors")')
        wanted = nodes[0].value
    return [series for query_id, series in ev.sources.metrics() if wanted in query_id]


@_function("REMOVE_EMPTY")
def _remove_empty(ev: Evaluator, call: Call) -> Value:
    (node,) = ev.args(call, 1)
    return [s for s in ev.array(call, node) if s.points]


@_function("FIRST", "LAST")
def _first_last(ev: Evaluator, call: Call) -> Value:
    (node,) = ev.args(call, 1)
    found = ev.array(call, node)
    if not found:
        return Series(call.name, {}, ev.period)
    return found[0] if call.name == "FIRST" else found[-1]


@_function("SORT")
def _sort(ev: Evaluator, call: Call) -> Value:
    nodes = ev.args(call, 3, 4)
    found = ev.array(call, nodes[0])
    by, order = nodes[1], nodes[2]
    if not isinstance(by, Keyword) or by.name not in ("AVG", "MIN", "MAX", "SUM"):
        raise MathError("SORT sorts by AVG, MIN, MAX or SUM")
    if not isinstance(order, Keyword) or order.name not in ("ASC", "DESC"):
        raise MathError("SORT's order is ASC or DESC")
    reduce = _OVER_SERIES[by.name]

    def key(series: Series) -> float:
        value = reduce(list(series.points.values()))
        return -math.inf if math.isnan(value) else value

    ordered = sorted(found, key=key, reverse=order.name == "DESC")
    if len(nodes) == 4:
        ordered = ordered[: max(0, int(ev.scalar(call, nodes[3])))]
    return ordered


@_function("SLICE")
def _slice(ev: Evaluator, call: Call) -> Value:
    nodes = ev.args(call, 2, 3)
    found = ev.array(call, nodes[0])
    bounds = [ev.scalar(call, n) for n in nodes[1:]]
    if not all(math.isfinite(b) for b in bounds):
        raise MathError("SLICE needs whole numbers")
    start = int(bounds[0])
    end = int(bounds[1]) if len(bounds) == 2 else len(found)
    return found[max(0, start) : max(0, end)]


# -- IF -------------------------------------------------------------------------------------


@_function("IF")
def _if(ev: Evaluator, call: Call) -> Value:
    nodes = ev.args(call, 2, 3)
    condition = ev.evaluate(nodes[0])
    then = ev.evaluate(nodes[1])
    otherwise = ev.evaluate(nodes[2]) if len(nodes) == 3 else None
    if any(isinstance(v, list) for v in (condition, then, otherwise)):
        raise MathError("IF takes numbers and time series, not arrays")
    if isinstance(condition, float):
        chosen = then if condition != 0 else otherwise
        if isinstance(chosen, Series):
            return chosen.like(dict(chosen.points), "IF")
        if chosen is None:
            return Series("IF", {}, ev.period)
        raise MathError("IF with a number as its condition must choose between time series")
    assert isinstance(condition, Series)
    out: dict[float, float] = {}
    for stamp, test in condition.points.items():
        chosen = then if test != 0 else otherwise
        if isinstance(chosen, float):
            out[stamp] = chosen
        elif isinstance(chosen, Series):
            if stamp in chosen.points:
                out[stamp] = chosen.points[stamp]
            elif test != 0:
                out[stamp] = 0.0  # a true condition without a value to take gives 0
    return condition.like(ev._kept(out.items()), "IF")


# -- helpers --------------------------------------------------------------------------------


def _safe(each: Callable[[float], float], value: float) -> float:
    try:
        return float(each(value))
    except (ValueError, OverflowError, ZeroDivisionError):
        return math.nan


def _divide(a: float, b: float) -> float:
    return a / b if b != 0 else math.nan


def _power(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except (ValueError, OverflowError, ZeroDivisionError):
        return math.nan


def _truth(value: bool) -> float:
    return 1.0 if value else 0.0


_OPERATIONS: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _divide,
    "^": _power,
    "==": lambda a, b: _truth(a == b),
    "!=": lambda a, b: _truth(a != b),
    "<": lambda a, b: _truth(a < b),
    "<=": lambda a, b: _truth(a <= b),
    ">": lambda a, b: _truth(a > b),
    ">=": lambda a, b: _truth(a >= b),
    "AND": lambda a, b: _truth(a != 0 and b != 0),
    "OR": lambda a, b: _truth(a != 0 or b != 0),
}


def _as_series(value: Value) -> Series:
    assert isinstance(value, Series)
    return value
