"""Reading CloudWatch request members that every operation shares: timestamps (epoch numbers
from JSON, datetimes from CBOR, ISO 8601 text from the query protocol), metrics with their
dimensions, periods and statistic names."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from headwater.cloudwatch.errors import InvalidParameterValue, MissingParameter
from headwater.cloudwatch.series import MetricId, dimension_set, percentile_fraction

BASIC_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
SUB_MINUTE_PERIODS = (1, 5, 10, 20, 30)

Body = dict[str, Any]


def epoch(value: Any, parameter: str) -> float:
    """Seconds since the epoch from any wire's timestamp form."""
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return float(aware.timestamp())
    if isinstance(value, bool):
        raise InvalidParameterValue(f"The parameter {parameter} is not a valid timestamp.")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise InvalidParameterValue(f"The parameter {parameter} is not a valid timestamp.")
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidParameterValue(
                f"The parameter {parameter} is not a valid timestamp."  # INFERRED wording
            ) from None
        return epoch(parsed, parameter)
    raise InvalidParameterValue(f"The parameter {parameter} is not a valid timestamp.")


def plain(value: Any) -> Any:
    """A decoded request with datetimes turned into epoch seconds (what the shape checks and
    the operations expect from every wire)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return epoch(value, "")
    return value


def require(body: Body, *names: str) -> None:
    for name in names:
        if body.get(name) is None:
            raise MissingParameter.named(name)


def metric_of(namespace: str, name: str, dimensions: list[Body] | None) -> MetricId:
    return MetricId(
        namespace,
        name,
        dimension_set((d.get("Name", ""), d.get("Value", "")) for d in dimensions or []),
    )


def dimensions_out(metric: MetricId) -> list[Body]:
    return [{"Name": name, "Value": value} for name, value in metric.dimensions]


def valid_period(period: int) -> bool:
    return period > 0 and (period % 60 == 0 or period in SUB_MINUTE_PERIODS)


def valid_statistic(name: str) -> bool:
    return name in BASIC_STATISTICS or percentile_fraction(name) is not None
