"""CloudWatch metrics with real boto3 and real workers: what functions and stream mappings
publish in AWS/Lambda (the API itself: test_cloudwatch_api.py)."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from headwater.testing import HeadwaterServer
from tests.conftest import create_function, create_stream_table, unique, wait_until
from tests.integration.cloudwatch_support import client_error, window
from tests.integration.versions_support import invoke, two_versions

HANDLER = """
import time

def handler(event, context):
    if event.get("fail"):
        raise ValueError("boom")
    time.sleep(event.get("sleep", 0))
    return {"ok": True}
"""

RECORDER = """
def handler(event, context):
    for record in event["Records"]:
        key = record["dynamodb"]["Keys"]["pk"]["S"]
        print("handled", key)
        if key.startswith("bad"):
            raise ValueError("bad record " + key)
"""


@pytest.fixture(scope="module")
def cw(server: HeadwaterServer) -> Any:
    return server.client("cloudwatch")


def _function_total(
    cw: Any, server: HeadwaterServer, metric: str, function: str, statistic: str = "Sum"
) -> float:
    datapoints = cw.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        Period=60,
        Statistics=[statistic],
        **window(server),
    )["Datapoints"]
    values = [d[statistic] for d in datapoints]
    if statistic == "Maximum":
        return max(values, default=0.0)
    return float(sum(values))


def _mapping_total(cw: Any, server: HeadwaterServer, metric: str, uuid: str) -> float:
    result = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": metric,
                        "Dimensions": [{"Name": "EventSourceMappingUUID", "Value": uuid}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        **window(server),
    )["MetricDataResults"][0]
    return float(sum(result["Values"]))


# -- what functions publish -----------------------------------------------------------------


def test_boto3_talks_json_to_cloudwatch(cw: Any) -> None:
    """botocore 1.44.5 prefers "json" among the model's protocols; the CBOR and query wires
    are tested below with clients forced onto them."""
    assert cw.meta.service_model.resolved_protocol == "json"


def test_invocations_errors_and_duration_are_published(
    server: HeadwaterServer, lam: Any, cw: Any
) -> None:
    fn = create_function(lam, HANDLER, timeout=1)
    for payload in ({}, {}, {"fail": True}, {"sleep": 0.05}, {"sleep": 5}):
        lam.invoke(FunctionName=fn, Payload=json.dumps(payload))

    assert _function_total(cw, server, "Invocations", fn) == 5
    assert _function_total(cw, server, "Errors", fn) == 2  # the exception and the timeout
    assert _function_total(cw, server, "Errors", fn, "SampleCount") == 5  # 0 per success
    assert _function_total(cw, server, "Duration", fn, "SampleCount") == 5
    assert _function_total(cw, server, "Duration", fn, "Maximum") >= 900  # the 1 s timeout
    assert _function_total(cw, server, "ConcurrentExecutions", fn, "Maximum") == 1

    stats = cw.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="Duration",
        Dimensions=[{"Name": "FunctionName", "Value": fn}],
        Period=1200,
        ExtendedStatistics=["p50", "p99"],
        **window(server),
    )["Datapoints"]
    assert stats and all(d["Unit"] == "Milliseconds" for d in stats)
    assert max(d["ExtendedStatistics"]["p99"] for d in stats) >= 900

    result = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": stat.lower(),
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": name,
                        "Dimensions": [{"Name": "FunctionName", "Value": fn}],
                    },
                    "Period": 60,
                    "Stat": stat,
                },
            }
            for name, stat in (("Invocations", "Sum"), ("Errors", "Average"))
        ],
        **window(server),
    )["MetricDataResults"]
    by_id = {r["Id"]: r for r in result}
    assert sum(by_id["sum"]["Values"]) == 5
    assert by_id["sum"]["Label"] == "Invocations" and by_id["sum"]["StatusCode"] == "Complete"
    assert all(0 <= v <= 1 for v in by_id["average"]["Values"])  # the error rate


def _lambda_without_retries(server: HeadwaterServer) -> Any:
    """A Lambda client that reports a 429 at once (botocore retries it by default)."""
    return botocore.session.get_session().create_client(
        "lambda",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}),
    )


def test_throttled_invocations_count_as_throttles_only(
    server: HeadwaterServer, lam: Any, cw: Any
) -> None:
    fn = create_function(lam, HANDLER)
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=0)
    no_retry = _lambda_without_retries(server)
    with pytest.raises(ClientError):
        no_retry.invoke(FunctionName=fn, Payload=b"{}")
    assert _function_total(cw, server, "Throttles", fn) == 1
    assert _function_total(cw, server, "Invocations", fn) == 0


def test_account_wide_concurrency_has_no_dimensions(
    server: HeadwaterServer, lam: Any, cw: Any
) -> None:
    fn = create_function(lam, HANDLER)
    lam.invoke(FunctionName=fn, Payload=b"{}")
    listed = cw.list_metrics(Namespace="AWS/Lambda", MetricName="ConcurrentExecutions")
    assert {"Namespace": "AWS/Lambda", "MetricName": "ConcurrentExecutions", "Dimensions": []} in (
        listed["Metrics"]
    )
    datapoints = cw.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="ConcurrentExecutions",
        Period=60,
        Statistics=["Maximum"],
        **window(server),
    )["Datapoints"]
    assert max(d["Maximum"] for d in datapoints) >= 1


# -- what stream mappings publish -----------------------------------------------------------


def test_mapping_event_counts_with_a_filter_are_exact(
    server: HeadwaterServer, ddb: Any, lam: Any, cw: Any
) -> None:
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER)
    pattern = {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "keep"}]}}}}
    created = lam.create_event_source_mapping(
        FunctionName=fn,
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        BatchSize=100,
        FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]},
        MetricsConfig={"Metrics": ["EventCount"]},
    )
    uuid = created["UUID"]
    assert created["MetricsConfig"] == {"Metrics": ["EventCount"]}
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    start = len(server.output)
    for key in ("keep-1", "drop-1", "keep-2", "drop-2", "keep-3"):
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    server.wait_for_output(r"handled keep-3", start=start)

    wait_until(lambda: _mapping_total(cw, server, "PolledEventCount", uuid) == 5)
    assert _mapping_total(cw, server, "FilteredOutEventCount", uuid) == 2
    assert _mapping_total(cw, server, "InvokedEventCount", uuid) == 3
    assert _mapping_total(cw, server, "FailedInvokeEventCount", uuid) == 0
    assert _mapping_total(cw, server, "DroppedEventCount", uuid) == 0
    ages = cw.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="IteratorAge",
        Dimensions=[{"Name": "FunctionName", "Value": fn}],
        Period=60,
        Statistics=["SampleCount", "Maximum"],
        **window(server),
    )["Datapoints"]
    assert sum(d["SampleCount"] for d in ages) >= 1
    assert all(d["Unit"] == "Milliseconds" and d["Maximum"] >= 0 for d in ages)


def test_mappings_without_event_count_publish_no_event_counts(
    server: HeadwaterServer, ddb: Any, lam: Any, cw: Any
) -> None:
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER)
    uuid = lam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=stream, StartingPosition="TRIM_HORIZON"
    )["UUID"]
    assert "MetricsConfig" not in lam.get_event_source_mapping(UUID=uuid)
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    start = len(server.output)
    ddb.put_item(TableName=table, Item={"pk": {"S": "plain"}})
    server.wait_for_output(r"handled plain", start=start)
    wait_until(lambda: _function_total(cw, server, "Invocations", fn) == 1)
    by_uuid = cw.list_metrics(Dimensions=[{"Name": "EventSourceMappingUUID", "Value": uuid}])
    assert by_uuid["Metrics"] == []
    assert _function_total(cw, server, "IteratorAge", fn, "SampleCount") == 1

    lam.update_event_source_mapping(UUID=uuid, MetricsConfig={"Metrics": ["EventCount"]})
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    assert lam.get_event_source_mapping(UUID=uuid)["MetricsConfig"] == {"Metrics": ["EventCount"]}
    ddb.put_item(TableName=table, Item={"pk": {"S": "counted"}})
    wait_until(lambda: _mapping_total(cw, server, "InvokedEventCount", uuid) == 1)


def test_failed_batches_count_as_failed_then_dropped(
    server: HeadwaterServer, ddb: Any, lam: Any, cw: Any
) -> None:
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER)
    uuid = lam.create_event_source_mapping(
        FunctionName=fn,
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=1,
        MetricsConfig={"Metrics": ["EventCount"]},
    )["UUID"]
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    ddb.put_item(TableName=table, Item={"pk": {"S": "bad-1"}})
    wait_until(lambda: _mapping_total(cw, server, "DroppedEventCount", uuid) == 1)
    assert _mapping_total(cw, server, "InvokedEventCount", uuid) == 2  # a retry counts again
    assert _mapping_total(cw, server, "FailedInvokeEventCount", uuid) == 2
    assert _mapping_total(cw, server, "OnFailureDestinationDeliveredEventCount", uuid) == 0
    assert _function_total(cw, server, "Errors", fn) == 2


def test_records_sent_to_a_destination_are_delivered_not_dropped(
    server: HeadwaterServer, ddb: Any, lam: Any, cw: Any
) -> None:
    sqs = server.client("sqs")
    queue_url = sqs.create_queue(QueueName=unique("failures"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER)
    uuid = lam.create_event_source_mapping(
        FunctionName=fn,
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
        MetricsConfig={"Metrics": ["EventCount"]},
    )["UUID"]
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    ddb.put_item(TableName=table, Item={"pk": {"S": "bad-2"}})
    wait_until(
        lambda: _mapping_total(cw, server, "OnFailureDestinationDeliveredEventCount", uuid) == 1
    )
    assert _mapping_total(cw, server, "DroppedEventCount", uuid) == 0
    assert sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages")


def test_an_unknown_mapping_metric_is_refused(ddb: Any, lam: Any) -> None:
    _table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER)
    error = client_error(
        lambda: lam.create_event_source_mapping(
            FunctionName=fn,
            EventSourceArn=stream,
            StartingPosition="LATEST",
            MetricsConfig={"Metrics": ["Bogus"]},
        )
    )
    assert error["Code"] == "ValidationException"
    assert "metricsConfig.metrics" in error["Message"]


# -- versions and aliases -------------------------------------------------------------------


def _lambda_sum(
    cw: Any, server: HeadwaterServer, metric: str, statistic: str = "Sum", **dimensions: str
) -> float:
    datapoints = cw.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        Period=60,
        Statistics=[statistic],
        **window(server),
    )["Datapoints"]
    values = [d[statistic] for d in datapoints]
    return max(values, default=0.0) if statistic == "Maximum" else float(sum(values))


@pytest.mark.usefixtures("delete_made_functions")
def test_versions_and_aliases_publish_resource_and_executed_version(
    server: HeadwaterServer, lam: Any, cw: Any
) -> None:
    name = two_versions(lam)  # version 1 runs code "one", version 2 (and $LATEST) "two"
    lam.create_alias(
        FunctionName=name,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    ran: dict[str, int] = {}
    for _ in range(12):
        out, _body = invoke(lam, f"{name}:live")
        ran[out["ExecutedVersion"]] = ran.get(out["ExecutedVersion"], 0) + 1
    invoke(lam, name, Qualifier="2")
    invoke(lam, name)
    invoke(lam, name)

    on_live = {"FunctionName": name, "Resource": f"{name}:live"}
    assert _lambda_sum(cw, server, "Invocations", FunctionName=name) == 15
    assert _lambda_sum(cw, server, "Invocations", **on_live) == 12
    for version in ("1", "2"):  # what ran, as the X-Amz-Executed-Version headers said
        assert _lambda_sum(
            cw, server, "Invocations", **on_live, ExecutedVersion=version
        ) == ran.get(version, 0)
    assert _lambda_sum(cw, server, "Invocations", FunctionName=name, Resource=f"{name}:2") == 1
    assert _lambda_sum(cw, server, "Duration", "SampleCount", **on_live) == 12
    assert _lambda_sum(cw, server, "Errors", "SampleCount", **on_live) == 12
    assert _lambda_sum(cw, server, "ConcurrentExecutions", "Maximum", **on_live) == 1

    listed = cw.list_metrics(
        Namespace="AWS/Lambda",
        MetricName="Invocations",
        Dimensions=[{"Name": "FunctionName", "Value": name}],
    )["Metrics"]
    dimension_sets = {
        tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])) for m in listed
    }
    expected = {
        (("FunctionName", name),),
        (("FunctionName", name), ("Resource", f"{name}:live")),
        (("FunctionName", name), ("Resource", f"{name}:2")),
        *(
            (("ExecutedVersion", v), ("FunctionName", name), ("Resource", f"{name}:live"))
            for v in ran
        ),
    }
    assert dimension_sets == expected  # no ExecutedVersion for a version named directly

    result = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "live",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Invocations",
                        "Dimensions": [{"Name": k, "Value": v} for k, v in on_live.items()],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        **window(server),
    )["MetricDataResults"][0]
    assert sum(result["Values"]) == 12


@pytest.mark.usefixtures("delete_made_functions")
def test_a_throttled_alias_invocation_counts_under_its_resource(
    server: HeadwaterServer, lam: Any, cw: Any
) -> None:
    name = two_versions(lam)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    no_retry = _lambda_without_retries(server)
    with pytest.raises(ClientError):
        no_retry.invoke(FunctionName=f"{name}:live", Payload=b"{}")
    on_live = {"FunctionName": name, "Resource": f"{name}:live"}
    assert _lambda_sum(cw, server, "Throttles", **on_live) == 1
    assert _lambda_sum(cw, server, "Throttles", FunctionName=name) == 1
    assert _lambda_sum(cw, server, "Throttles", **on_live, ExecutedVersion="1") == 0
    assert _lambda_sum(cw, server, "Invocations", **on_live) == 0


@pytest.mark.usefixtures("delete_made_functions")
def test_a_mapping_on_an_alias_files_iterator_age_under_its_resource_too(
    server: HeadwaterServer, ddb: Any, lam: Any, cw: Any
) -> None:
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER)
    lam.publish_version(FunctionName=fn)
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    uuid = lam.create_event_source_mapping(
        FunctionName=f"{fn}:live", EventSourceArn=stream, StartingPosition="TRIM_HORIZON"
    )["UUID"]
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    start = len(server.output)
    ddb.put_item(TableName=table, Item={"pk": {"S": "aged"}})
    server.wait_for_output(r"handled aged", start=start)
    on_live = {"FunctionName": fn, "Resource": f"{fn}:live"}
    wait_until(lambda: _lambda_sum(cw, server, "IteratorAge", "SampleCount", **on_live) == 1)
    assert _lambda_sum(cw, server, "IteratorAge", "SampleCount", FunctionName=fn) == 1
