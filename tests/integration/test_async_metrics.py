"""The asynchronous invocation metrics Lambda publishes in AWS/Lambda (AsyncEventsReceived,
AsyncEventAge, AsyncEventsDropped, DestinationDeliveryFailures), read back with boto3's
CloudWatch client. Real server, real workers; retries on the server's clock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from headwater.testing import HeadwaterServer
from tests.conftest import create_function, create_queue, unique, wait_until
from tests.integration.cloudwatch_support import window

ACCOUNT = "000000000000"

HANDLER = """
import os

def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(context.aws_request_id + "\\n")
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"ok": True}
"""


@pytest.fixture(scope="module")
def cw(server: HeadwaterServer) -> Any:
    return server.client("cloudwatch")


def _datapoints(
    cw: Any,
    server: HeadwaterServer,
    metric: str,
    dimensions: dict[str, str],
    statistics: list[str],
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = cw.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        Period=60,
        Statistics=statistics,
        **window(server),
    )["Datapoints"]
    return found


def _sum(cw: Any, server: HeadwaterServer, metric: str, dimensions: dict[str, str]) -> float:
    return float(sum(d["Sum"] for d in _datapoints(cw, server, metric, dimensions, ["Sum"])))


def _lines(out: Path) -> int:
    return len(out.read_text().split()) if out.exists() else 0


def test_received_age_and_dropped_events_are_published(
    server: HeadwaterServer, lam: Any, cw: Any, tmp_path: Path
) -> None:
    out = tmp_path / "attempts"
    fn = create_function(lam, HANDLER, env={"OUT": str(out)})
    # A missing queue as OnFailure: the record cannot be delivered.
    missing = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{unique('no-such-queue')}"
    lam.put_function_event_invoke_config(
        FunctionName=fn,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": missing}},
    )
    lam.invoke(FunctionName=fn, InvocationType="Event", Payload=b"{}")
    lam.invoke(FunctionName=fn, InvocationType="Event", Payload=json.dumps({"fail": True}))
    wait_until(lambda: _lines(out) == 2)
    server.advance_clock(60)  # the failing event's retry, a minute after its first attempt
    wait_until(lambda: _lines(out) == 3)
    by_name = {"FunctionName": fn}
    wait_until(lambda: _sum(cw, server, "DestinationDeliveryFailures", by_name) == 1)

    assert _sum(cw, server, "AsyncEventsReceived", by_name) == 2
    assert _sum(cw, server, "AsyncEventsDropped", by_name) == 1  # the success is not dropped
    ages = _datapoints(cw, server, "AsyncEventAge", by_name, ["SampleCount", "Maximum"])
    assert sum(d["SampleCount"] for d in ages) == 3  # one per attempt that reached the function
    assert max(d["Maximum"] for d in ages) >= 60_000  # the retry waited a minute on the clock
    assert {d["Unit"] for d in ages} == {"Milliseconds"}
    received = _datapoints(cw, server, "AsyncEventsReceived", by_name, ["Sum"])
    assert {d["Unit"] for d in received} == {"Count"}
    # Synchronous invocations are not asynchronous events.
    lam.invoke(FunctionName=fn, Payload=b"{}")
    assert _sum(cw, server, "AsyncEventsReceived", by_name) == 2


def test_a_qualified_event_is_published_under_its_resource_too(
    server: HeadwaterServer, lam: Any, cw: Any, tmp_path: Path
) -> None:
    out = tmp_path / "attempts"
    fn = create_function(lam, HANDLER, env={"OUT": str(out)})
    lam.publish_version(FunctionName=fn)
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=0)
    lam.invoke(FunctionName=f"{fn}:live", InvocationType="Event", Payload=b"{}")
    resource = {"FunctionName": fn, "Resource": f"{fn}:live"}
    # Reserved concurrency zero: given up unrun, so dropped without an age.
    wait_until(lambda: _sum(cw, server, "AsyncEventsDropped", resource) == 1)
    assert _sum(cw, server, "AsyncEventsReceived", resource) == 1
    assert _sum(cw, server, "AsyncEventsReceived", {"FunctionName": fn}) == 1
    assert _datapoints(cw, server, "AsyncEventAge", {"FunctionName": fn}, ["SampleCount"]) == []
    assert _lines(out) == 0


def test_a_delivered_record_is_no_delivery_failure(
    server: HeadwaterServer, lam: Any, cw: Any, tmp_path: Path
) -> None:
    sqs = server.client("sqs")
    out = tmp_path / "attempts"
    fn = create_function(lam, HANDLER, env={"OUT": str(out)})
    url, queue_arn = create_queue(sqs, unique("async-metrics-ok"))
    lam.put_function_event_invoke_config(
        FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": queue_arn}}
    )
    lam.invoke(FunctionName=fn, InvocationType="Event", Payload=b"{}")
    wait_until(lambda: sqs.receive_message(QueueUrl=url).get("Messages"))
    by_name = {"FunctionName": fn}
    assert _sum(cw, server, "AsyncEventsReceived", by_name) == 1
    assert _sum(cw, server, "DestinationDeliveryFailures", by_name) == 0
    assert _sum(cw, server, "AsyncEventsDropped", by_name) == 0
