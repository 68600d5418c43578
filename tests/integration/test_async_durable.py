"""The asynchronous invocation queue survives restarts and crashes: an accepted event is run
(again, if need be) after the server comes back, a finished one is not. Real boto3, a real
server on a data directory, real worker processes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from headwater.testing import HeadwaterServer
from tests.conftest import create_function, create_queue, metric_value, unique, wait_until

# Appends "<request id> <n>" to $OUT for each attempt, then fails if the event asks to.
RECORDING = """
import os

def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(f"{context.aws_request_id} {event.get('n')}\\n")
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"n": event.get("n")}
"""

# Writes "started <id>", waits until the file $GATE exists, then writes "done <id>".
GATED = """
import os, time

def handler(event, context):
    out = os.environ["OUT"]
    with open(out, "a") as f:
        f.write(f"started {context.aws_request_id}\\n")
    while not os.path.exists(os.environ["GATE"]):
        time.sleep(0.02)
    with open(out, "a") as f:
        f.write(f"done {context.aws_request_id}\\n")
"""


def _lines(out: Path) -> list[list[str]]:
    return [line.split() for line in out.read_text().splitlines()] if out.exists() else []


def _errors(server: HeadwaterServer, function: str) -> float:
    """Goes up once an attempt's failure is back from the worker; the attempt is then
    recorded even if the server stops."""
    return metric_value(server, "headwater_lambda_errors_total", function=function)


def _event(lam: Any, name: str, payload: dict[str, Any]) -> str:
    answer = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload))
    assert answer["StatusCode"] == 202
    request_id: str = answer["ResponseMetadata"]["RequestId"]
    return request_id


def test_a_failed_event_waits_for_its_retry_across_a_restart(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "attempts"
    with HeadwaterServer(data_dir=data) as server:
        lam = server.client("lambda")
        name = create_function(lam, RECORDING, env={"OUT": str(out)})
        failing = _event(lam, name, {"n": 1, "fail": True})
        wait_until(lambda: len(_lines(out)) == 1)  # the first attempt failed: retry in 60 s
        # Stop only once the failure is back from the worker (stopping between the handler's
        # line and its answer would make the attempt one the shutdown cut short).
        wait_until(lambda: _errors(server, name) >= 1)
    with HeadwaterServer(data_dir=data) as server:
        lam = server.client("lambda")
        # An event accepted after the restart runs at once; the reloaded one is not due yet.
        marker = _event(lam, name, {"n": 2})
        wait_until(lambda: len(_lines(out)) == 2)
        assert _lines(out) == [[failing, "1"], [marker, "2"]]
        server.advance_clock(60)
        wait_until(lambda: len(_lines(out)) == 3)
        assert _lines(out)[2] == [failing, "1"]  # the same request, its second attempt


def test_a_retried_event_keeps_its_attempt_count_and_last_response(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "attempts"
    with HeadwaterServer(data_dir=data) as server:
        lam, sqs = server.client("lambda"), server.client("sqs")
        name = create_function(lam, RECORDING, env={"OUT": str(out)})
        queue = unique("durable-dlq")
        _url, queue_arn = create_queue(sqs, queue)
        lam.put_function_event_invoke_config(
            FunctionName=name,
            MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": queue_arn}},
        )
        request_id = _event(lam, name, {"n": 5, "fail": True})
        wait_until(lambda: len(_lines(out)) == 1)
        wait_until(lambda: _errors(server, name) >= 1)  # its failure is back: it will count
    with HeadwaterServer(data_dir=data) as server:
        sqs = server.client("sqs")
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]  # the new server's port
        server.advance_clock(60)
        messages = wait_until(lambda: sqs.receive_message(QueueUrl=url).get("Messages"))
        record = json.loads(messages[0]["Body"])
        assert record["requestContext"]["requestId"] == request_id
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 2  # one before the restart
        assert record["responseContext"]["functionError"] == "Unhandled"
        assert len(_lines(out)) == 2


def test_a_finished_event_is_not_run_again_after_a_restart(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "attempts"
    with HeadwaterServer(data_dir=data) as server:
        lam, sqs = server.client("lambda"), server.client("sqs")
        name = create_function(lam, RECORDING, env={"OUT": str(out)})
        url, queue_arn = create_queue(sqs, unique("durable-ok"))
        lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": queue_arn}}
        )
        first = _event(lam, name, {"n": 1})
        wait_until(lambda: sqs.receive_message(QueueUrl=url).get("Messages"))
    with HeadwaterServer(data_dir=data) as server:
        lam = server.client("lambda")
        second = _event(lam, name, {"n": 2})
        wait_until(lambda: len(_lines(out)) >= 2)
        server.advance_clock(3600)  # nothing of the first event is waiting for a retry either
        assert _lines(out) == [[first, "1"], [second, "2"]]


def test_an_event_in_flight_at_a_hard_kill_runs_after_the_restart(tmp_path: Path) -> None:
    data, out, gate = tmp_path / "data", tmp_path / "attempts", tmp_path / "gate"
    server = HeadwaterServer(data_dir=data).start()
    try:
        lam = server.client("lambda")
        name = create_function(lam, GATED, timeout=60, env={"OUT": str(out), "GATE": str(gate)})
        request_id = _event(lam, name, {})
        wait_until(lambda: _lines(out) == [["started", request_id]])
    finally:
        server.kill()  # the attempt never finished
    with HeadwaterServer(data_dir=data):
        wait_until(lambda: len(_lines(out)) == 2, timeout=20)  # started again after the restart
        gate.touch()
        wait_until(lambda: ["done", request_id] in _lines(out), timeout=20)
        assert _lines(out)[:2] == [["started", request_id]] * 2
