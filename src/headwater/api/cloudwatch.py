"""CloudWatch metrics (a subset): GetMetricStatistics, GetMetricData, ListMetrics, PutMetricData.

The operations take and return protocol-neutral dicts (timestamps as epoch seconds); the wires
(JSON 1.0, Smithy RPC v2 CBOR, query/XML) live in ``api/cloudwatch_wire.py``. Data comes from
the runtime's :class:`~headwater.cloudwatch.series.MetricSeries`: what functions and event
source mappings publish in ``AWS/Lambda``, plus whatever users put.

Error texts are AWS's where one was observed (cited beside each); the rest are marked INFERRED.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
from dataclasses import dataclass, replace
from typing import Any

import orjson

from headwater.api.cloudwatch_data import get_metric_data
from headwater.api.cloudwatch_params import (
    BASIC_STATISTICS,
    Body,
    dimensions_out,
    epoch,
    metric_of,
    require,
    valid_period,
)
from headwater.api.cloudwatch_shapes import check
from headwater.api.context import RequestContext
from headwater.cloudwatch.errors import (
    InvalidNextToken,
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
)
from headwater.cloudwatch.series import MetricId, MetricSeries, percentile_fraction
from headwater.runtime import Runtime

MAX_STATISTICS_DATAPOINTS = 1440
LIST_PAGE = 500
RECENT_SECONDS = 3 * 3600  # ListMetrics RecentlyActive=PT3H
PUT_MAX_AGE = 14 * 24 * 3600  # PutMetricData accepts two weeks back...
PUT_MAX_AHEAD = 2 * 3600  # ...and two hours ahead (CloudWatch User Guide)
MAX_METRIC_DATA = 1000
MAX_VALUES = 150


# -- GetMetricStatistics --------------------------------------------------------------------


async def get_metric_statistics(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    require(body, "Namespace", "MetricName", "StartTime", "EndTime", "Period")
    statistics = body.get("Statistics") or []
    extended = body.get("ExtendedStatistics") or []
    # These come before the model's checks, which would word a bad Statistics differently.
    for i, name in enumerate(statistics if isinstance(statistics, list) else [], 1):
        if isinstance(name, str) and name not in BASIC_STATISTICS:
            # Observed on AWS (cloud-custodian issue 9137, 2023).
            raise InvalidParameterValue(
                f"The parameter Statistics.member.{i}.<list element> must be a value in the set "
                "[SampleCount, Average, Sum, Minimum, Maximum]."
            )
    for i, name in enumerate(extended if isinstance(extended, list) else [], 1):
        if isinstance(name, str) and percentile_fraction(name) is None:
            raise InvalidParameterValue(  # INFERRED wording
                f"The value {name} for parameter ExtendedStatistics.member.{i} is not a valid "
                "percentile statistic."
            )
    period = body["Period"]
    if isinstance(period, int) and not isinstance(period, bool) and not valid_period(period):
        raise InvalidParameterValue(  # INFERRED wording
            "The parameter Period must be 1, 5, 10, 20, 30, 60 or a multiple of 60."
        )
    check("GetMetricStatistics", body)
    if bool(statistics) == bool(extended):
        # INFERRED wording (the API reference: "you must specify either Statistics or
        # ExtendedStatistics, but not both").
        raise InvalidParameterCombination(
            "Must specify either Statistics or ExtendedStatistics, but not both."
        )
    start = epoch(body["StartTime"], "StartTime")
    end = epoch(body["EndTime"], "EndTime")
    if start == end:
        # Observed on AWS (influxdata/telegraf issue 2022).
        raise InvalidParameterValue("The parameter StartTime must not equal parameter EndTime.")
    if start > end:
        raise InvalidParameterValue(  # INFERRED wording
            "The parameter StartTime must be less than the parameter EndTime."
        )
    periods = math.ceil((end - math.floor(start / 60) * 60) / period)
    if periods > MAX_STATISTICS_DATAPOINTS:
        # Observed on AWS (cloud-custodian issues 7683, 9897).
        raise InvalidParameterCombination(
            f"You have requested up to {periods} datapoints, which exceeds the limit of 1440. "
            "You may reduce the datapoints requested by increasing Period, or decreasing the "
            "time range."
        )
    metric = metric_of(body["Namespace"], body["MetricName"], body.get("Dimensions"))
    unit = body.get("Unit")
    aggregates = await asyncio.to_thread(
        rt.metric_series.aggregate,
        ctx.region,
        metric,
        start,
        end,
        period,
        unit=unit,
        by_unit=True,
    )
    datapoints: list[Body] = []
    for aggregate in aggregates:
        point: Body = {"Timestamp": aggregate.timestamp}
        for name in statistics:
            point[name] = aggregate.statistic(name)
        if extended:
            values = {name: aggregate.statistic(name) for name in extended}
            point["ExtendedStatistics"] = {k: v for k, v in values.items() if v is not None}
        point["Unit"] = aggregate.unit
        datapoints.append(point)
    return {"Label": body["MetricName"], "Datapoints": datapoints}


# -- ListMetrics ----------------------------------------------------------------------------


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"list": offset})).decode()


def _page_offset(token: str) -> int:
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        offset = decoded["list"]
    except (binascii.Error, ValueError, orjson.JSONDecodeError, KeyError, TypeError):
        raise InvalidNextToken("The service couldn't process the NextToken.") from None  # INFERRED
    if not isinstance(offset, int) or offset < 0:
        raise InvalidNextToken("The service couldn't process the NextToken.")
    return offset


def _matches(metric: MetricId, body: Body) -> bool:
    namespace = body.get("Namespace")
    if namespace is not None and metric.namespace != namespace:
        return False
    name = body.get("MetricName")
    if name is not None and metric.name != name:
        return False
    have = dict(metric.dimensions)
    for wanted in body.get("Dimensions") or []:
        key = wanted.get("Name")
        if key not in have:
            return False
        value = wanted.get("Value")
        if value is not None and have[key] != value:
            return False
    return True


async def list_metrics(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    check("ListMetrics", body)
    series = rt.metric_series
    since = None
    if body.get("RecentlyActive") == "PT3H":
        since = series.clock.time() - RECENT_SECONDS
    found = [m for m in series.metrics(ctx.region, since) if _matches(m, body)]
    token = body.get("NextToken")
    offset = _page_offset(token) if token else 0
    page = found[offset : offset + LIST_PAGE]
    out: Body = {
        "Metrics": [
            {"Namespace": m.namespace, "MetricName": m.name, "Dimensions": dimensions_out(m)}
            for m in page
        ]
    }
    if offset + LIST_PAGE < len(found):
        out["NextToken"] = _page_token(offset + LIST_PAGE)
    return out


# -- PutMetricData --------------------------------------------------------------------------


def _number(value: Any, parameter: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterValue(f"The value {value} for parameter {parameter} is invalid.")
    if not math.isfinite(value):
        raise InvalidParameterValue(  # INFERRED wording
            f"The value {value} for parameter {parameter} is invalid."
        )
    return float(value)


@dataclass(frozen=True)
class _Datum:
    """One MetricData entry, checked and converted, ready to store."""

    metric: MetricId
    unit: str
    timestamp: float
    value: float | None = None
    statistics: tuple[float, float, float, float] | None = None  # count, sum, min, max
    values: list[float] | None = None
    counts: list[float] | None = None

    def store(self, series: MetricSeries, region: str) -> None:
        unit, when = self.unit, self.timestamp
        if self.value is not None:
            series.put(region, self.metric, self.value, unit=unit, timestamp=when)
        elif self.statistics is not None:
            series.put_statistics(region, self.metric, *self.statistics, unit=unit, timestamp=when)
        else:
            values = self.values or []
            series.put_values(region, self.metric, values, self.counts, unit=unit, timestamp=when)


def _read_datum(namespace: str, datum: Body, at: str, now: float) -> _Datum:
    name = datum.get("MetricName")
    if name is None:
        raise MissingParameter.named(f"{at}.MetricName")
    value = datum.get("Value")
    stats = datum.get("StatisticValues")
    values = datum.get("Values")
    counts = datum.get("Counts")
    if value is not None and stats is not None:
        # Observed on AWS (AdRoll/goamz issue 355).
        raise InvalidParameterCombination(
            f"The parameters {at}.Value and {at}.StatisticValues are mutually exclusive and you "
            "have specified both."
        )
    if values and (value is not None or stats is not None):
        other = "Value" if value is not None else "StatisticValues"
        raise InvalidParameterCombination(  # INFERRED wording, after the one above
            f"The parameters {at}.{other} and {at}.Values are mutually exclusive and you have "
            "specified both."
        )
    if value is None and stats is None and not values:
        raise MissingParameter.named(f"{at}.Value")  # INFERRED wording
    if values and len(values) > MAX_VALUES:
        raise InvalidParameterValue(  # INFERRED wording
            f"The collection {at}.Values must not have a size greater than {MAX_VALUES}."
        )
    if counts and (not values or len(counts) != len(values)):
        raise InvalidParameterValue(  # INFERRED wording
            f"The parameters {at}.Values and {at}.Counts must be of the same size."
        )
    resolution = datum.get("StorageResolution")
    if resolution is not None and resolution not in (1, 60):
        raise InvalidParameterValue(  # INFERRED wording
            f"The value {resolution} for parameter {at}.StorageResolution is invalid."
        )
    timestamp = now
    if datum.get("Timestamp") is not None:
        timestamp = epoch(datum["Timestamp"], f"{at}.Timestamp")
        if timestamp < now - PUT_MAX_AGE or timestamp > now + PUT_MAX_AHEAD:
            raise InvalidParameterValue(  # INFERRED wording
                f"The parameter {at}.Timestamp must specify a time no more than two weeks in the "
                "past and no more than two hours in the future."
            )
    read = _Datum(
        metric_of(namespace, name, datum.get("Dimensions")), datum.get("Unit") or "None", timestamp
    )
    if value is not None:
        return replace(read, value=_number(value, f"{at}.Value"))
    if stats is not None:
        part = f"{at}.StatisticValues"
        return replace(
            read,
            statistics=(
                _number(stats.get("SampleCount"), f"{part}.SampleCount"),
                _number(stats.get("Sum"), f"{part}.Sum"),
                _number(stats.get("Minimum"), f"{part}.Minimum"),
                _number(stats.get("Maximum"), f"{part}.Maximum"),
            ),
        )
    return replace(
        read,
        values=[_number(v, f"{at}.Values.member.{i}") for i, v in enumerate(values or [], 1)],
        counts=(
            [_number(c, f"{at}.Counts.member.{i}") for i, c in enumerate(counts, 1)]
            if counts
            else None
        ),
    )


async def put_metric_data(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    require(body, "Namespace")
    namespace = body["Namespace"]
    if isinstance(namespace, str) and namespace.startswith("AWS/"):
        # Observed on AWS (boto/boto3 issue 1847).
        raise InvalidParameterValue("The value AWS/ for parameter Namespace is invalid.")
    check("PutMetricData", body)
    data: list[tuple[Body, str]] = [
        (d, f"MetricData.member.{i}") for i, d in enumerate(body.get("MetricData") or [], 1)
    ]
    for j, entity in enumerate(body.get("EntityMetricData") or [], 1):
        data += [
            (d, f"EntityMetricData.member.{j}.MetricData.member.{i}")
            for i, d in enumerate(entity.get("MetricData") or [], 1)
        ]
    if not data:
        raise MissingParameter.named("MetricData")  # INFERRED wording
    if len(data) > MAX_METRIC_DATA:
        raise InvalidParameterValue(  # INFERRED wording
            f"The collection MetricData must not have a size greater than {MAX_METRIC_DATA}."
        )
    series = rt.metric_series
    now = series.clock.time()
    # Every datum is checked before any is stored: a bad one rejects the whole request.
    checked = [_read_datum(namespace, datum, at, now) for datum, at in data]
    for datum in checked:
        datum.store(series, ctx.region)
    return {}


OPERATIONS: dict[str, Any] = {
    "GetMetricStatistics": get_metric_statistics,
    "GetMetricData": get_metric_data,
    "ListMetrics": list_metrics,
    "PutMetricData": put_metric_data,
}
