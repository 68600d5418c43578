"""GetMetricData: several metrics at once and metric math over them, with MaxDatapoints paging
(NextToken).

Every query's problems are gathered and reported together, one line each, as CloudWatch does
("ValidationError: The value x for parameter MetricDataQueries.member.1.Id is not matching the
expected pattern ^[a-z][a-zA-Z0-9_]*$.\\n..."): an expression that cannot be read, or that uses
an Id no query has, is one such line. Expressions are evaluated by
``cloudwatch/metric_data.py``; Metrics Insights queries (``SELECT ...``) are refused.

Paging: the datapoints of all queries, in query order and each query's scan order, are cut
after MaxDatapoints; the NextToken says how many were already returned and to which request it
belongs, so a token only continues the request that produced it. A request with an expression
is answered whole, without a NextToken, as the API reference says of metric math.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import re
from typing import Any

import orjson

from headwater.api.cloudwatch_params import (
    Body,
    epoch,
    metric_of,
    require,
    valid_period,
    valid_statistic,
)
from headwater.api.cloudwatch_shapes import check
from headwater.api.context import RequestContext
from headwater.cloudwatch.errors import InvalidNextToken, ValidationFailed
from headwater.cloudwatch.math_syntax import MathSyntaxError, parse
from headwater.cloudwatch.metric_data import (
    ExpressionFailed,
    ExpressionQuery,
    MetricQuery,
    Query,
    Result,
    answer,
    expression_problem,
    reference_problems,
)
from headwater.cloudwatch.series import MetricSeries
from headwater.runtime import Runtime

MAX_QUERIES = 500
DEFAULT_MAX_DATAPOINTS = 100_800
_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")


def _expression(query: Body, qid: str, at: str, problems: list[str]) -> ExpressionQuery | None:
    text = query["Expression"]
    period = query.get("Period")
    if period is not None and not valid_period(period):
        problems.append(  # INFERRED wording
            f"The value {period} for parameter {at}.Period is not a valid period: "
            "use 1, 5, 10, 20, 30, 60 or a multiple of 60."
        )
    if text.lstrip()[:6].upper() == "SELECT":
        detail = "Metrics Insights queries are not supported by Headwater"
        problems.append(expression_problem(text, at, detail))
        return None
    try:
        tree = parse(text)
    except MathSyntaxError as error:
        problems.append(expression_problem(text, at, str(error)))
        return None
    return ExpressionQuery(
        id=qid,
        label=query.get("Label"),
        text=text,
        tree=tree,
        period=period,
        return_data=query.get("ReturnData", True) is not False,
        at=at,
    )


def _check(body: Body) -> tuple[list[Query], float, float]:
    queries: list[Any] = body["MetricDataQueries"]
    problems: list[str] = []
    if len(queries) > MAX_QUERIES:
        problems.append(  # INFERRED wording
            f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
        )
    ids = [q.get("Id") for q in queries]
    if len(set(ids)) != len(ids):
        # Observed on AWS (aws-solutions/quota-monitor-for-aws issue 171).
        problems.append("The values for parameter id in MetricDataQueries are not unique.")
    checked: list[Query] = []
    for i, query in enumerate(queries, 1):
        at = f"MetricDataQueries.member.{i}"
        qid = query.get("Id") or ""
        if not _ID.match(qid):
            # Observed on AWS (influxdata/telegraf issue 5420).
            problems.append(
                f"The value {qid} for parameter {at}.Id is not matching the expected pattern "
                "^[a-z][a-zA-Z0-9_]*$."
            )
        stat_spec = query.get("MetricStat")
        if query.get("Expression") is not None:
            if stat_spec is not None:
                problems.append(  # INFERRED wording
                    f"The parameters {at}.MetricStat and {at}.Expression are mutually exclusive "
                    "and you have specified both."
                )
                continue
            expression = _expression(query, qid, at, problems)
            if expression is not None:
                checked.append(expression)
            continue
        if stat_spec is None:
            problems.append(  # INFERRED wording
                f"The parameter {at}.MetricStat or {at}.Expression is required."
            )
            continue
        stat = stat_spec.get("Stat") or ""
        if not valid_statistic(stat):
            # Observed on AWS (prometheus-community/yet-another-cloudwatch-exporter issue 385).
            problems.append(
                f"The value {stat} for parameter {at}.MetricStat.Stat is not a valid statistic."
            )
        period = stat_spec.get("Period")
        if not isinstance(period, int) or isinstance(period, bool) or not valid_period(period):
            problems.append(  # INFERRED wording
                f"The value {period} for parameter {at}.MetricStat.Period is not a valid period: "
                "use 1, 5, 10, 20, 30, 60 or a multiple of 60."
            )
            period = 60
        metric_spec = stat_spec.get("Metric") or {}
        if not metric_spec.get("Namespace") or not metric_spec.get("MetricName"):
            problems.append(  # INFERRED wording
                f"The parameters {at}.MetricStat.Metric.Namespace and "
                f"{at}.MetricStat.Metric.MetricName are required."
            )
            continue
        metric = metric_of(
            metric_spec["Namespace"], metric_spec["MetricName"], metric_spec.get("Dimensions")
        )
        label = query.get("Label")
        checked.append(
            MetricQuery(
                id=qid,
                label=label if label is not None else metric.name,
                metric=metric,
                period=period,
                stat=stat,
                unit=stat_spec.get("Unit"),
                return_data=query.get("ReturnData", True) is not False,
            )
        )
    start = epoch(body["StartTime"], "StartTime")
    end = epoch(body["EndTime"], "EndTime")
    if start == end:
        # Observed on AWS (elastic/beats issue 32687).
        problems.append("The parameter StartTime must not equal parameter EndTime.")
    elif start > end:
        problems.append(  # INFERRED wording
            "The parameter StartTime must be less than the parameter EndTime."
        )
    if not problems:
        problems = reference_problems(checked)
    if problems:
        raise ValidationFailed(problems)
    return checked, start, end


def _fingerprint(body: Body) -> str:
    fields = {k: body.get(k) for k in ("MetricDataQueries", "StartTime", "EndTime", "ScanBy")}
    return hashlib.sha256(orjson.dumps(fields, default=str)).hexdigest()[:16]


def _skip(token: str | None, fingerprint: str) -> int:
    if not token:
        return 0
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        skip, owner = decoded["skip"], decoded["request"]
    except (binascii.Error, ValueError, orjson.JSONDecodeError, KeyError, TypeError):
        skip, owner = None, None
    if not isinstance(skip, int) or skip < 0 or owner != fingerprint:
        raise InvalidNextToken("The service couldn't process the NextToken.")  # INFERRED wording
    return skip


def _answer(
    series: MetricSeries, region: str, body: Body, queries: list[Query], start: float, end: float
) -> Body:
    try:
        found = answer(series, region, queries, start, end)
    except ExpressionFailed as error:
        raise ValidationFailed([str(error)]) from None
    descending = body.get("ScanBy", "TimestampDescending") != "TimestampAscending"
    if any(isinstance(q, ExpressionQuery) for q in queries):
        whole = [_result(r, r.points, descending) for r in found]
        return {"MetricDataResults": whole, "Messages": []}
    fingerprint = _fingerprint(body)
    skip = _skip(body.get("NextToken"), fingerprint)
    budget = body.get("MaxDatapoints") or DEFAULT_MAX_DATAPOINTS
    results: list[Body] = []
    returned = skip
    more = False
    for result in found:
        points = result.points[::-1] if descending else result.points
        take_from = min(skip, len(points))
        skip -= take_from
        room = max(0, budget)
        page = points[take_from : take_from + room]
        budget -= len(page)
        returned += len(page)
        partial = take_from + len(page) < len(points)
        more = more or partial
        results.append(_result(result, page, False, partial))
    out: Body = {"MetricDataResults": results, "Messages": []}
    if more:
        token = orjson.dumps({"skip": returned, "request": fingerprint})
        out["NextToken"] = base64.urlsafe_b64encode(token).decode()
    return out


def _result(
    result: Result, points: list[tuple[float, float]], reverse: bool, partial: bool = False
) -> Body:
    if reverse:
        points = points[::-1]
    return {
        "Id": result.id,
        "Label": result.label,
        "Timestamps": [t for t, _v in points],
        "Values": [v for _t, v in points],
        "StatusCode": "PartialData" if partial else "Complete",
        "Messages": [{"Code": code, "Value": text} for code, text in result.messages],
    }


async def get_metric_data(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    require(body, "MetricDataQueries", "StartTime", "EndTime")
    check("GetMetricData", body)
    queries, start, end = _check(body)
    return await asyncio.to_thread(_answer, rt.metric_series, ctx.region, body, queries, start, end)
