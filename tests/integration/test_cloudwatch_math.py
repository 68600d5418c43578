"""Metric math in GetMetricData with real boto3 against the real server: expressions over
metrics put a few minutes back (by the server clock), labels, hidden queries, arrays of time
series, the ArithmeticError message, and the ValidationErrors for expressions that cannot be
read or evaluated. The evaluator itself: tests/unit/test_metric_math.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from headwater.testing import HeadwaterServer
from tests.conftest import unique
from tests.integration.cloudwatch_support import client_error, server_now


@pytest.fixture(scope="module")
def cw(server: HeadwaterServer) -> Any:
    return server.client("cloudwatch")


@pytest.fixture
def minutes(server: HeadwaterServer, cw: Any) -> tuple[str, dt.datetime]:
    """A namespace with Errors and Calls for five minutes, ten minutes back: (namespace, the
    first minute). Errors has no value in the third minute; Calls is 0 in the fourth."""
    namespace = unique("Math")
    now = server_now(server)
    first = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=10)
    data = []
    for i, (errors, calls) in enumerate([(1, 10), (2, 20), (None, 30), (4, 0), (5, 50)]):
        when = first + dt.timedelta(minutes=i)
        if errors is not None:
            data.append({"MetricName": "Errors", "Value": errors, "Timestamp": when})
        data.append({"MetricName": "Calls", "Value": calls, "Timestamp": when})
    cw.put_metric_data(Namespace=namespace, MetricData=data)
    return namespace, first


def _stat(query_id: str, namespace: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": name},
            "Period": 60,
            "Stat": "Sum",
        },
        **extra,
    }


def _get(
    cw: Any, first: dt.datetime, queries: list[dict[str, Any]], **extra: Any
) -> list[dict[str, Any]]:
    answer = cw.get_metric_data(
        MetricDataQueries=queries,
        StartTime=first,
        EndTime=first + dt.timedelta(minutes=5),
        ScanBy="TimestampAscending",
        **extra,
    )
    assert "NextToken" not in answer
    results: list[dict[str, Any]] = answer["MetricDataResults"]
    return results


def test_expressions_over_metrics(cw: Any, minutes: tuple[str, dt.datetime]) -> None:
    namespace, first = minutes
    results = _get(
        cw,
        first,
        [
            _stat("errors", namespace, "Errors", ReturnData=False),
            _stat("calls", namespace, "Calls", ReturnData=False),
            {"Id": "rate", "Expression": "100 * errors / calls", "Label": "Error rate"},
            {"Id": "filled", "Expression": "FILL(errors, 0) + 2 * 3"},
            {"Id": "total", "Expression": "SUM(METRICS())"},
            {"Id": "growth", "Expression": "RATE(calls) * 60"},
            {"Id": "change", "Expression": "ABS(DIFF(calls))", "ReturnData": False},
            {"Id": "ups", "Expression": "change - AVG(change)"},
        ],
    )
    by_id = {r["Id"]: r for r in results}
    assert list(by_id) == ["rate", "filled", "total", "growth", "ups"]  # hidden ones left out
    stamps = [first + dt.timedelta(minutes=i) for i in range(5)]

    rate = by_id["rate"]
    assert rate["Label"] == "Error rate"
    # 4 / 0 is dropped, and said so; the missing minute of Errors counts as 0.
    assert rate["Timestamps"] == [stamps[0], stamps[1], stamps[2], stamps[4]]
    assert rate["Values"] == [10.0, 10.0, 0.0, 10.0]
    assert rate["StatusCode"] == "Complete"
    assert [m["Code"] for m in rate["Messages"]] == ["ArithmeticError"]

    filled = by_id["filled"]
    assert filled["Label"] == "filled"  # an expression's label defaults to its Id
    assert filled["Values"] == [7.0, 8.0, 6.0, 10.0, 11.0]
    assert filled["Messages"] == []
    assert by_id["total"]["Values"] == [11.0, 22.0, 30.0, 4.0, 55.0]
    assert by_id["growth"]["Values"] == [10.0, 10.0, -30.0, 50.0]  # per minute, from the 2nd
    changes = [10.0, 10.0, 30.0, 50.0]
    average = sum(changes) / len(changes)
    assert by_id["ups"]["Values"] == [c - average for c in changes]


def test_an_array_of_time_series_answers_one_result_per_series(
    cw: Any, minutes: tuple[str, dt.datetime]
) -> None:
    namespace, first = minutes
    results = _get(
        cw,
        first,
        [
            _stat("errors", namespace, "Errors", Label="Errors seen"),
            _stat("calls", namespace, "Calls", ReturnData=False),
            {"Id": "scaled", "Expression": "METRICS() / 10", "Label": "Tenth of"},
            {"Id": "some", "Expression": 'FILL(METRICS("err"), REPEAT)'},
        ],
    )
    assert [(r["Id"], r["Label"]) for r in results] == [
        ("errors", "Errors seen"),
        ("scaled", "Tenth of Errors seen"),
        ("scaled", "Tenth of Calls"),
        ("some", "Errors seen"),
    ]
    assert results[2]["Values"] == [1.0, 2.0, 3.0, 0.0, 5.0]
    assert results[3]["Values"] == [1.0, 2.0, 2.0, 4.0, 5.0]  # the gap repeats 2


def test_newest_first_by_default(cw: Any, minutes: tuple[str, dt.datetime]) -> None:
    namespace, first = minutes
    answer = cw.get_metric_data(
        MetricDataQueries=[
            _stat("calls", namespace, "Calls", ReturnData=False),
            {"Id": "half", "Expression": "calls / 2"},
        ],
        StartTime=first,
        EndTime=first + dt.timedelta(minutes=5),
        MaxDatapoints=2,  # no paging with metric math: the whole answer at once
    )
    assert "NextToken" not in answer
    [half] = answer["MetricDataResults"]
    assert half["Values"] == [25.0, 0.0, 15.0, 10.0, 5.0]


def test_expressions_that_cannot_be_read_or_evaluated(
    cw: Any, minutes: tuple[str, dt.datetime]
) -> None:
    namespace, first = minutes
    period = {"StartTime": first, "EndTime": first + dt.timedelta(minutes=5)}
    unknown = client_error(
        lambda: cw.get_metric_data(
            MetricDataQueries=[
                _stat("calls", namespace, "Calls"),
                {"Id": "e1", "Expression": "calls / callz"},
                {"Id": "e2", "Expression": "(calls + 1"},
                {"Id": "e3", "Expression": "e4 * 2"},
                {"Id": "e4", "Expression": "e3 + calls"},
            ],
            **period,
        )
    )
    assert unknown["Code"] == "ValidationError"
    assert unknown["Message"] == (
        "The value (calls + 1 for parameter MetricDataQueries.member.3.Expression is not valid: "
        "Unexpected end of the expression: expected ')' at character 11.\n"
    )  # a line for each problem; references are looked at once the syntax is right
    references = client_error(
        lambda: cw.get_metric_data(
            MetricDataQueries=[
                _stat("calls", namespace, "Calls"),
                {"Id": "e1", "Expression": "calls / callz"},
                {"Id": "e3", "Expression": "e4 * 2"},
                {"Id": "e4", "Expression": "e3 + calls"},
            ],
            **period,
        )
    )
    assert references["Message"] == (
        "The value calls / callz for parameter MetricDataQueries.member.2.Expression is not "
        "valid: no query in the request has the Id callz.\n"
        "The value e4 * 2 for parameter MetricDataQueries.member.3.Expression is not valid: "
        "it uses itself (e3 -> e4 -> e3).\n"
    )
    scalar = client_error(
        lambda: cw.get_metric_data(
            MetricDataQueries=[
                _stat("calls", namespace, "Calls"),
                {"Id": "e1", "Expression": "MAX(calls)"},
            ],
            **period,
        )
    )
    assert scalar["Code"] == "ValidationError"
    assert scalar["Message"].startswith(
        "The value MAX(calls) for parameter MetricDataQueries.member.2.Expression is not valid: "
        "it gives a number"
    )
    both = client_error(
        lambda: cw.get_metric_data(
            MetricDataQueries=[
                _stat("calls", namespace, "Calls", Expression="calls * 2"),
            ],
            **period,
        )
    )
    assert "mutually exclusive" in both["Message"]
    itself = client_error(
        lambda: cw.get_metric_data(
            MetricDataQueries=[{"Id": "e1", "Expression": "ANOMALY_DETECTION_BAND(e1)"}],
            **period,
        )
    )
    assert "uses itself" in itself["Message"]
    function = client_error(
        lambda: cw.get_metric_data(
            MetricDataQueries=[
                _stat("calls", namespace, "Calls"),
                {"Id": "e1", "Expression": "ANOMALY_DETECTION_BAND(calls)"},
            ],
            **period,
        )
    )
    assert function["Message"].endswith(
        "is not valid: The function ANOMALY_DETECTION_BAND is not supported by Headwater.\n"
    )
