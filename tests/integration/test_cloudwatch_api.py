"""The CloudWatch API with real boto3: PutMetricData round trips, percentiles, periods over
clock-advanced minutes, paging, AWS's validation errors, gzip bodies, and the three wires
(JSON 1.0, Smithy RPC v2 CBOR, query). What Lambda publishes: test_cloudwatch.py."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from botocore.config import Config

from headwater.testing import HeadwaterServer
from tests.conftest import unique
from tests.integration.cloudwatch_support import client_error, server_now, window


@pytest.fixture(scope="module")
def cw(server: HeadwaterServer) -> Any:
    return server.client("cloudwatch")


# -- PutMetricData, ListMetrics, GetMetricData ---------------------------------------------


def test_put_list_and_get_round_trip(server: HeadwaterServer, cw: Any) -> None:
    namespace = unique("App")
    dims = [{"Name": "Api", "Value": "orders"}, {"Name": "Stage", "Value": "dev"}]
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "Latency", "Dimensions": dims, "Value": 10, "Unit": "Milliseconds"},
            {
                "MetricName": "Latency",
                "Dimensions": list(reversed(dims)),  # the same metric: order does not matter
                "Values": [20, 30],
                "Counts": [1, 2],
                "Unit": "Milliseconds",
            },
            {
                "MetricName": "Latency",
                "Dimensions": dims,
                "StatisticValues": {"SampleCount": 2, "Sum": 100, "Minimum": 40, "Maximum": 60},
                "Unit": "Milliseconds",
            },
            {"MetricName": "Orders", "Value": 3, "Unit": "Count"},
        ],
    )
    listed = cw.list_metrics(Namespace=namespace)["Metrics"]
    assert sorted(m["MetricName"] for m in listed) == ["Latency", "Orders"]
    latency = next(m for m in listed if m["MetricName"] == "Latency")
    assert sorted(latency["Dimensions"], key=lambda d: d["Name"]) == dims
    assert [
        m["MetricName"]
        for m in cw.list_metrics(Namespace=namespace, Dimensions=[{"Name": "Api"}])["Metrics"]
    ] == ["Latency"]
    assert (
        cw.list_metrics(Namespace=namespace, Dimensions=[{"Name": "Api", "Value": "x"}])["Metrics"]
        == []
    )
    assert len(cw.list_metrics(Namespace=namespace, RecentlyActive="PT3H")["Metrics"]) == 2

    stats = cw.get_metric_statistics(
        Namespace=namespace,
        MetricName="Latency",
        Dimensions=dims,
        Period=3600,
        Statistics=["SampleCount", "Sum", "Minimum", "Maximum", "Average"],
        **window(server, 30),
    )["Datapoints"]
    total = {k: sum(d[k] for d in stats) for k in ("SampleCount", "Sum")}
    assert total == {"SampleCount": 6, "Sum": 10 + 20 + 60 + 100}
    assert min(d["Minimum"] for d in stats) == 10 and max(d["Maximum"] for d in stats) == 60
    # Only the exact dimension set matches: none, or a subset, is another metric.
    assert (
        cw.get_metric_statistics(
            Namespace=namespace,
            MetricName="Latency",
            Dimensions=dims[:1],
            Period=60,
            Statistics=["Sum"],
            **window(server),
        )["Datapoints"]
        == []
    )
    # A unit that does not match selects nothing.
    assert (
        cw.get_metric_statistics(
            Namespace=namespace,
            MetricName="Latency",
            Dimensions=dims,
            Period=60,
            Statistics=["Sum"],
            Unit="Seconds",
            **window(server),
        )["Datapoints"]
        == []
    )

    result = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "orders",
                "Label": "orders placed",
                "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": "Orders"},
                    "Period": 3600,
                    "Stat": "Sum",
                },
            },
            {
                "Id": "hidden",
                "ReturnData": False,
                "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": "Orders"},
                    "Period": 60,
                    "Stat": "Sum",
                },
            },
        ],
        **window(server, 30),
    )["MetricDataResults"]
    assert [(r["Id"], r["Label"], sum(r["Values"])) for r in result] == [
        ("orders", "orders placed", 3)
    ]


def test_percentiles_come_from_the_raw_values(server: HeadwaterServer, cw: Any) -> None:
    namespace = unique("App")
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[{"MetricName": "Size", "Values": [float(v) for v in range(1, 101)]}],
    )
    point = cw.get_metric_statistics(
        Namespace=namespace,
        MetricName="Size",
        Period=3600,
        ExtendedStatistics=["p50", "p90", "p99", "p100"],
        **window(server, 30),
    )["Datapoints"]
    merged: dict[str, float] = {}
    for datapoint in point:
        merged.update(datapoint["ExtendedStatistics"])
    assert merged == {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p100": 100.0}


def test_periods_aggregate_clock_advanced_minutes(server: HeadwaterServer, cw: Any) -> None:
    namespace = unique("Clock")
    first = server_now(server).replace(second=0, microsecond=0)
    for i in range(3):
        cw.put_metric_data(
            Namespace=namespace, MetricData=[{"MetricName": "Ticks", "Value": i + 1}]
        )
        server.advance_clock(60)
    span = {"StartTime": first, "EndTime": first + dt.timedelta(minutes=5)}

    def datapoints(period: int, stat: str = "Sum") -> list[tuple[dt.datetime, float]]:
        found = cw.get_metric_statistics(
            Namespace=namespace, MetricName="Ticks", Period=period, Statistics=[stat], **span
        )["Datapoints"]
        return sorted((d["Timestamp"], d[stat]) for d in found)

    minutes = datapoints(60)
    assert [v for _t, v in minutes] == [1, 2, 3]
    assert [t - first for t, _v in minutes] == [dt.timedelta(minutes=m) for m in range(3)]
    assert datapoints(300) == [(first, 6)]
    assert datapoints(120, "Maximum") == [(first, 2), (first + dt.timedelta(minutes=2), 3)]

    def values(scan_by: str, max_points: int, token: str | None = None) -> dict[str, Any]:
        extra = {"NextToken": token} if token else {}
        return dict(
            cw.get_metric_data(
                MetricDataQueries=[
                    {
                        "Id": "ticks",
                        "MetricStat": {
                            "Metric": {"Namespace": namespace, "MetricName": "Ticks"},
                            "Period": 60,
                            "Stat": "Sum",
                        },
                    }
                ],
                ScanBy=scan_by,
                MaxDatapoints=max_points,
                **span,
                **extra,
            )
        )

    assert values("TimestampAscending", 10)["MetricDataResults"][0]["Values"] == [1, 2, 3]
    page = values("TimestampDescending", 2)
    assert page["MetricDataResults"][0]["Values"] == [3, 2]
    assert page["MetricDataResults"][0]["StatusCode"] == "PartialData"
    rest = values("TimestampDescending", 2, page["NextToken"])
    assert rest["MetricDataResults"][0]["Values"] == [1]
    assert rest["MetricDataResults"][0]["StatusCode"] == "Complete"
    assert "NextToken" not in rest


def test_data_older_than_fifteen_days_is_gone() -> None:
    with HeadwaterServer(in_memory=True) as own:  # a clock of its own: 15 days is a long jump
        cw = own.client("cloudwatch")
        cw.put_metric_data(Namespace="Old", MetricData=[{"MetricName": "Gone", "Value": 1}])
        cw.put_metric_data(Namespace="Old", MetricData=[{"MetricName": "Kept", "Value": 1}])
        own.advance_clock(15 * 24 * 3600 - 300)
        cw.put_metric_data(Namespace="Old", MetricData=[{"MetricName": "Kept", "Value": 2}])
        own.advance_clock(420)
        assert [m["MetricName"] for m in cw.list_metrics(Namespace="Old")["Metrics"]] == ["Kept"]
        [point] = cw.get_metric_statistics(
            Namespace="Old", MetricName="Kept", Period=3600, Statistics=["Sum"], **window(own, 60)
        )["Datapoints"]
        assert point["Sum"] == 2


# -- validation errors ----------------------------------------------------------------------


def _stats_call(cw: Any, server: HeadwaterServer, **overrides: Any) -> Callable[[], Any]:
    now = server_now(server)
    params: dict[str, Any] = {
        "Namespace": "AWS/Lambda",
        "MetricName": "Invocations",
        "StartTime": now - dt.timedelta(hours=1),
        "EndTime": now,
        "Period": 60,
        "Statistics": ["Sum"],
        **overrides,
    }
    return lambda: cw.get_metric_statistics(**{k: v for k, v in params.items() if v is not None})


def test_get_metric_statistics_validation(server: HeadwaterServer, cw: Any) -> None:
    now = server_now(server)
    too_many = client_error(_stats_call(cw, server, StartTime=now - dt.timedelta(days=2)))
    assert too_many["Code"] == "InvalidParameterCombination"
    assert too_many["Message"].startswith("You have requested up to 2881 datapoints, which ")
    assert too_many["Message"].endswith(
        "exceeds the limit of 1440. You may reduce the datapoints requested by increasing "
        "Period, or decreasing the time range."
    )
    neither = client_error(_stats_call(cw, server, Statistics=None))
    both = client_error(_stats_call(cw, server, ExtendedStatistics=["p99"]))
    assert neither["Code"] == both["Code"] == "InvalidParameterCombination"
    same = client_error(_stats_call(cw, server, StartTime=now, EndTime=now))
    assert same == {
        "Code": "InvalidParameterValue",
        "Message": "The parameter StartTime must not equal parameter EndTime.",
        "QueryErrorCode": "InvalidParameterValueException",
        "Type": "Sender",
    }
    assert client_error(_stats_call(cw, server, Period=45))["Code"] == "InvalidParameterValue"
    bad_stat = client_error(_stats_call(cw, server, Statistics=["Median"]))
    assert bad_stat["Message"] == (
        "The parameter Statistics.member.1.<list element> must be a value in the set "
        "[SampleCount, Average, Sum, Minimum, Maximum]."
    )
    assert (
        client_error(_stats_call(cw, server, Statistics=None, ExtendedStatistics=["p101"]))["Code"]
        == "InvalidParameterValue"
    )


def test_get_metric_data_reports_every_problem(server: HeadwaterServer, cw: Any) -> None:
    now = server_now(server)
    metric = {"Namespace": "AWS/Lambda", "MetricName": "Invocations"}
    error = client_error(
        lambda: cw.get_metric_data(
            MetricDataQueries=[
                {"Id": "Upper", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}},
                {"Id": "b", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Median"}},
            ],
            StartTime=now,
            EndTime=now,
        )
    )
    assert error["Code"] == "ValidationError"
    assert error["Message"] == (
        "The value Upper for parameter MetricDataQueries.member.1.Id is not matching the "
        "expected pattern ^[a-z][a-zA-Z0-9_]*$.\n"
        "The value Median for parameter MetricDataQueries.member.2.MetricStat.Stat is not a "
        "valid statistic.\n"
        "The parameter StartTime must not equal parameter EndTime.\n"
    )
    duplicated = client_error(
        lambda: cw.get_metric_data(
            MetricDataQueries=[
                {"Id": "a", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}},
                {"Id": "a", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}},
            ],
            StartTime=now - dt.timedelta(hours=1),
            EndTime=now,
        )
    )
    assert (
        duplicated["Message"]
        == "The values for parameter id in MetricDataQueries are not unique.\n"
    )
    math = client_error(
        lambda: cw.get_metric_data(
            MetricDataQueries=[
                {"Id": "e", "Expression": "SUM(METRICS()"},
                {"Id": "f", "Expression": "SELECT AVG(x) FROM y"},
            ],
            StartTime=now - dt.timedelta(hours=1),
            EndTime=now,
        )
    )
    assert math["Code"] == "ValidationError"
    assert math["Message"] == (
        "The value SUM(METRICS() for parameter MetricDataQueries.member.1.Expression is not "
        "valid: Unexpected end of the expression: expected ')' at character 14.\n"
        "The value SELECT AVG(x) FROM y for parameter MetricDataQueries.member.2.Expression is "
        "not valid: Metrics Insights queries are not supported by Headwater.\n"
    )
    token = client_error(
        lambda: cw.get_metric_data(
            MetricDataQueries=[
                {"Id": "a", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}}
            ],
            StartTime=now - dt.timedelta(hours=1),
            EndTime=now,
            NextToken="bm90LWEtdG9rZW4=",
        )
    )
    assert token["Code"] == "InvalidNextToken"


def test_put_metric_data_validation(cw: Any) -> None:
    reserved = client_error(
        lambda: cw.put_metric_data(
            Namespace="AWS/Lambda", MetricData=[{"MetricName": "Invocations", "Value": 1}]
        )
    )
    assert reserved["Code"] == "InvalidParameterValue"
    assert reserved["Message"] == "The value AWS/ for parameter Namespace is invalid."
    both = client_error(
        lambda: cw.put_metric_data(
            Namespace="App",
            MetricData=[
                {"MetricName": "ok", "Value": 1},
                {
                    "MetricName": "bad",
                    "Value": 1,
                    "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1},
                },
            ],
        )
    )
    assert both == {
        "Code": "InvalidParameterCombination",
        "Message": "The parameters MetricData.member.2.Value and MetricData.member.2."
        "StatisticValues are mutually exclusive and you have specified both.",
        "QueryErrorCode": "InvalidParameterCombinationException",
        "Type": "Sender",
    }
    # Nothing of a rejected request is kept, not even its valid entries.
    assert cw.list_metrics(Namespace="App", MetricName="ok")["Metrics"] == []
    mismatch = client_error(
        lambda: cw.put_metric_data(
            Namespace="App", MetricData=[{"MetricName": "x", "Values": [1, 2], "Counts": [1]}]
        )
    )
    assert mismatch["Code"] == "InvalidParameterValue"


def test_a_big_put_arrives_gzip_compressed_and_is_read(server: HeadwaterServer, cw: Any) -> None:
    """botocore compresses PutMetricData bodies over 10 KB."""
    namespace = unique("Big")
    data = [
        {"MetricName": "Bulk", "Dimensions": [{"Name": "Shard", "Value": f"s{i:04d}"}], "Value": i}
        for i in range(400)
    ]
    seen: list[bytes] = []

    def spy(request: Any, **_: Any) -> None:
        seen.append(request.headers.get("Content-Encoding", b""))

    cw.meta.events.register("before-send.cloudwatch.PutMetricData", spy)
    try:
        cw.put_metric_data(Namespace=namespace, MetricData=data)
    finally:
        cw.meta.events.unregister("before-send.cloudwatch.PutMetricData", spy)
    assert seen == [b"gzip"]
    listed = cw.list_metrics(Namespace=namespace)
    assert len(listed["Metrics"]) == 400


# -- the CBOR and query wires ---------------------------------------------------------------


@pytest.fixture(scope="module")
def forced(
    server: HeadwaterServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Any]]:
    """Clients speaking one chosen protocol: botocore loads a copy of the CloudWatch model,
    with only that protocol listed, from a data path searched before its own."""
    made: list[Any] = []

    def make(protocol: str) -> Any:
        root = tmp_path_factory.mktemp(protocol)
        model = botocore.loaders.create_loader().load_service_model("cloudwatch", "service-2")
        model["metadata"]["protocol"] = protocol
        model["metadata"]["protocols"] = [protocol]
        folder = root / "cloudwatch" / "2010-08-01"
        folder.mkdir(parents=True)
        (folder / "service-2.json").write_text(json.dumps(model))
        session = botocore.session.get_session()
        session.set_config_variable("data_path", str(root))
        client = session.create_client(
            "cloudwatch",
            endpoint_url=server.url,
            region_name="eu-west-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )
        assert client.meta.service_model.resolved_protocol == protocol
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.mark.parametrize("protocol", ["smithy-rpc-v2-cbor", "query", "json"])
def test_every_wire_round_trips(
    server: HeadwaterServer, forced: Callable[[str], Any], protocol: str
) -> None:
    client = forced(protocol)
    namespace = unique("Wire")
    client.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": "Hits",
                "Dimensions": [{"Name": "Page", "Value": "home"}],
                "Values": [1.5, 2.5],
                "Counts": [2, 2],
                "Unit": "Count",
            }
        ],
    )
    assert client.list_metrics(Namespace=namespace)["Metrics"] == [
        {
            "Namespace": namespace,
            "MetricName": "Hits",
            "Dimensions": [{"Name": "Page", "Value": "home"}],
        }
    ]
    span = window(server)
    [point] = client.get_metric_statistics(
        Namespace=namespace,
        MetricName="Hits",
        Dimensions=[{"Name": "Page", "Value": "home"}],
        Period=3600,
        Statistics=["Sum", "SampleCount", "Average"],
        **span,
    )["Datapoints"]
    assert (point["Sum"], point["SampleCount"], point["Average"], point["Unit"]) == (
        8.0,
        4.0,
        2.0,
        "Count",
    )
    assert isinstance(point["Timestamp"], dt.datetime)
    results = client.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "hits",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": "Hits",
                        "Dimensions": [{"Name": "Page", "Value": "home"}],
                    },
                    "Period": 3600,
                    "Stat": "p50",
                },
            },
            {"Id": "twice", "Expression": "hits * 2"},
            {"Id": "nothing", "Expression": "hits / (hits - hits)"},
        ],
        **span,
    )["MetricDataResults"]
    result, twice, nothing = results
    assert result["Values"] == [1.5] and result["Timestamps"] == [point["Timestamp"]]
    assert (twice["Label"], twice["Values"]) == ("twice", [3.0])  # metric math on every wire
    assert nothing["Values"] == [] and nothing["Messages"][0]["Code"] == "ArithmeticError"
    # The region of the signature keeps metrics apart: the default client is in us-east-1.
    assert server.client("cloudwatch").list_metrics(Namespace=namespace)["Metrics"] == []
    error = client_error(
        lambda: client.get_metric_statistics(
            Namespace=namespace,
            MetricName="Hits",
            StartTime=span["StartTime"],
            EndTime=span["StartTime"],
            Period=60,
            Statistics=["Sum"],
        )
    )
    assert error["Code"] == "InvalidParameterValue"
    assert error["Message"] == "The parameter StartTime must not equal parameter EndTime."
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.put_metric_data(Namespace="AWS/X", MetricData=[{"MetricName": "m", "Value": 1}])
