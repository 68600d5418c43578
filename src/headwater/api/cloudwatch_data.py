"""GetMetricData: several metrics at once, with MaxDatapoints paging (NextToken).

Every query's problems are gathered and reported together, one line each, as CloudWatch does
("ValidationError: The value x for parameter MetricDataQueries.member.1.Id is not matching the
expected pattern ^[a-z][a-zA-Z0-9_]*$.\\n..."). Metric math (``Expression``) is not evaluated:
such a query is refused with the same error code.

Paging: the datapoints of all queries, in query order and each query's scan order, are cut
after MaxDatapoints; the NextToken says how many were already returned and to which request it
belongs, so a token only continues the request that produced it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
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
from headwater.cloudwatch.series import MetricId, MetricSeries
from headwater.runtime import Runtime

MAX_QUERIES = 500
DEFAULT_MAX_DATAPOINTS = 100_800
_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")


@dataclass(frozen=True)
class _Query:
    id: str
    label: str
    metric: MetricId
    period: int
    stat: str
    unit: str | None
    return_data: bool


def _check(body: Body) -> tuple[list[_Query], float, float]:
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
    checked: list[_Query] = []
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
            problems.append(
                f"The parameter {at}.Expression is not supported by Headwater: metric math and "
                "Metrics Insights queries are not evaluated; use MetricStat."
            )
            continue
        if stat_spec is None:
            problems.append(f"The parameter {at}.MetricStat is required.")  # INFERRED wording
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
            _Query(
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


def _series(
    series: MetricSeries,
    region: str,
    query: _Query,
    start: float,
    end: float,
    descending: bool,
) -> list[tuple[float, float]]:
    aggregates = series.aggregate(region, query.metric, start, end, query.period, unit=query.unit)
    points = []
    for aggregate in aggregates:
        value = aggregate.statistic(query.stat)
        if value is not None:
            points.append((aggregate.timestamp, value))
    if descending:
        points.reverse()
    return points


def _answer(
    series: MetricSeries, region: str, body: Body, queries: list[_Query], start: float, end: float
) -> Body:
    fingerprint = _fingerprint(body)
    skip = _skip(body.get("NextToken"), fingerprint)
    budget = body.get("MaxDatapoints") or DEFAULT_MAX_DATAPOINTS
    descending = body.get("ScanBy", "TimestampDescending") != "TimestampAscending"
    results: list[Body] = []
    returned = skip
    more = False
    for query in queries:
        if not query.return_data:
            continue
        points = _series(series, region, query, start, end, descending)
        take_from = min(skip, len(points))
        skip -= take_from
        room = max(0, budget)
        page = points[take_from : take_from + room]
        budget -= len(page)
        returned += len(page)
        partial = take_from + len(page) < len(points)
        more = more or partial
        results.append(
            {
                "Id": query.id,
                "Label": query.label,
                "Timestamps": [t for t, _v in page],
                "Values": [v for _t, v in page],
                "StatusCode": "PartialData" if partial else "Complete",
                "Messages": [],
            }
        )
    out: Body = {"MetricDataResults": results, "Messages": []}
    if more:
        token = orjson.dumps({"skip": returned, "request": fingerprint})
        out["NextToken"] = base64.urlsafe_b64encode(token).decode()
    return out


async def get_metric_data(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    require(body, "MetricDataQueries", "StartTime", "EndTime")
    check("GetMetricData", body)
    queries, start, end = _check(body)
    return await asyncio.to_thread(_answer, rt.metric_series, ctx.region, body, queries, start, end)
