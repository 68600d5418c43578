"""Tumbling windows under the error ladder, the 1 MB window-state limit, and retry pauses that
follow the server clock (spec §6.3, §6.9), with real workers."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import create_function, create_queue, create_stream_table, wait_until

# A windowed handler: counts records in its state; fails (raises) on a key in FAIL_KEYS, or
# reports it as a batch item failure when REPORT is set, while the FAIL_WHILE file exists (or
# always, without FAIL_WHILE); pads its state past 1 MB when BIG is set.
WINDOWED = """
import json, os

def handler(event, context):
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
    state = dict(event["state"])
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps({
            "keys": keys,
            "final": event["isFinalInvokeForWindow"],
            "early": event["isWindowTerminatedEarly"],
            "count": state.get("count", 0),
        }) + "\\n")
    flag = os.environ.get("FAIL_WHILE")
    failing = not flag or os.path.exists(flag)
    bad = [r for r in event["Records"]
           if failing and r["dynamodb"]["Keys"]["pk"]["S"] in os.environ.get("FAIL_KEYS", "")]
    ok = [r for r in event["Records"] if r not in bad]
    if bad and not os.environ.get("REPORT"):
        raise RuntimeError("poison")
    if bad:
        ok = event["Records"][:event["Records"].index(bad[0])]
    state["count"] = state.get("count", 0) + len(ok)
    if os.environ.get("BIG") and keys:
        state["padding"] = "x" * (1024 * 1024 + 10)
    else:
        state.pop("padding", None)
    response = {"state": state}
    if bad:
        response["batchItemFailures"] = [
            {"itemIdentifier": bad[0]["dynamodb"]["SequenceNumber"]}]
    return response
"""

FLAKY = """
import json, os

def handler(event, context):
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(keys) + "\\n")
    if os.path.exists(os.environ["FAIL_WHILE"]):
        raise RuntimeError("not yet")
"""


def _scrape(server: Any) -> str:
    with urllib.request.urlopen(f"{server.url}/_headwater/metrics", timeout=10) as response:
        return str(response.read().decode())


def _metric(text: str, name: str, uuid: str) -> float:
    found = re.search(rf'^{name}\{{mapping="{uuid}"\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def _calls(path: Path) -> list[Any]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _mapping(lam: Any, fn: str, stream: str, **extra: Any) -> str:
    uuid = str(
        lam.create_event_source_mapping(
            FunctionName=fn, EventSourceArn=stream, StartingPosition="LATEST", **extra
        )["UUID"]
    )
    resting = "Enabled" if extra.get("Enabled", True) else "Disabled"
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == resting)
    return uuid


def test_retry_pauses_follow_the_server_clock(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    out, flag = tmp_path / "calls", tmp_path / "failing"
    flag.write_text("x")
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, FLAKY, env={"OUT": str(out), "FAIL_WHILE": str(flag)})
    _mapping(lam, fn, stream, BatchSize=1)
    ddb.put_item(TableName=table, Item={"pk": {"S": "flaky"}})
    # The pauses double from 0.1 s; advancing the clock cuts each one short.
    deadline = time.monotonic() + 20
    while len(_calls(out)) < 8 and time.monotonic() < deadline:
        server.advance_clock(6)
        time.sleep(0.05)
    assert len(_calls(out)) >= 8  # seven pauses, the last ones 5 s each, passed in far less
    flag.unlink()
    began = len(_calls(out))
    # The poller now sits in a 5 s pause; the clock ends it, not the wall clock.
    server.advance_clock(6)
    wait_until(lambda: len(_calls(out)) > began, timeout=2.5)


def test_window_retry_limit_gives_records_up_and_the_window_goes_on(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    sqs = server.client("sqs")
    queue_url, queue_arn = create_queue(sqs, "window-dlq")
    out = tmp_path / "calls"
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, WINDOWED, env={"OUT": str(out), "FAIL_KEYS": "poison"})
    uuid = _mapping(
        lam,
        fn,
        stream,
        BatchSize=1,
        TumblingWindowInSeconds=60,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    for key in ("a", "poison", "b"):
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    wait_until(lambda: any(c["keys"] == ["b"] for c in _calls(out)))
    calls = _calls(out)
    assert [c["keys"] for c in calls] == [["a"], ["poison"], ["poison"], ["b"]]
    assert calls[-1]["count"] == 1  # the state skipped the given-up record
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5)["Messages"]
    body = json.loads(messages[0]["Body"])
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["DDBStreamBatchInfo"]["batchSize"] == 1
    server.advance_clock(61)
    wait_until(lambda: _calls(out)[-1]["final"], timeout=15)
    assert _calls(out)[-1]["count"] == 2 and _calls(out)[-1]["keys"] == []
    metrics = _scrape(server)
    assert _metric(metrics, "headwater_esm_polled_events_total", uuid) == 3  # each record once
    assert _metric(metrics, "headwater_esm_failed_invoke_events_total", uuid) == 2
    assert _metric(metrics, "headwater_esm_dropped_events_total", uuid) == 1


def test_window_state_over_one_megabyte_ends_the_window_early(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    out = tmp_path / "calls"
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, WINDOWED, env={"OUT": str(out), "BIG": "1"})
    _mapping(lam, fn, stream, BatchSize=1, TumblingWindowInSeconds=900)
    ddb.put_item(TableName=table, Item={"pk": {"S": "first"}})
    # No clock advance: the oversized state alone closes the window.
    wait_until(lambda: any(c["final"] for c in _calls(out)), timeout=15)
    calls = _calls(out)
    assert calls[0]["keys"] == ["first"] and calls[0]["early"] is False
    assert calls[1]["final"] is True and calls[1]["early"] is True and calls[1]["count"] == 1
    ddb.put_item(TableName=table, Item={"pk": {"S": "second"}})
    wait_until(lambda: any(c["keys"] == ["second"] for c in _calls(out)))
    second = next(c for c in _calls(out) if c["keys"] == ["second"])
    assert second["count"] == 0 and second["early"] is False  # a fresh window, fresh state


def test_window_partial_failure_retries_from_the_failed_record(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    out, flag = tmp_path / "calls", tmp_path / "failing"
    flag.write_text("x")
    table, stream = create_stream_table(ddb)
    env = {"OUT": str(out), "FAIL_KEYS": "b", "FAIL_WHILE": str(flag), "REPORT": "1"}
    fn = create_function(lam, WINDOWED, env=env)
    uuid = _mapping(
        lam,
        fn,
        stream,
        BatchSize=10,
        TumblingWindowInSeconds=60,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        Enabled=False,
    )
    for key in ("a", "b", "c"):
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    wait_until(lambda: len(_calls(out)) >= 2)
    flag.unlink()
    wait_until(lambda: any(c["keys"] == ["b", "c"] and c["count"] == 1 for c in _calls(out)))
    calls = _calls(out)
    assert calls[0]["keys"] == ["a", "b", "c"] and calls[0]["count"] == 0
    # Every retry starts at b and carries the state that counted a.
    assert all(c["keys"] == ["b", "c"] and c["count"] == 1 for c in calls[1:])
    server.advance_clock(61)
    wait_until(lambda: _calls(out)[-1]["final"], timeout=15)
    assert _calls(out)[-1]["count"] == 3


def test_window_partial_failure_behind_done_records_starts_a_fresh_retry_count(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    # As without windows (spec §6.5): the invocation that moved the position on to b is not
    # counted, so b and c run 1 + MaximumRetryAttempts times before they are given up.
    out = tmp_path / "calls"
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, WINDOWED, env={"OUT": str(out), "FAIL_KEYS": "b", "REPORT": "1"})
    uuid = _mapping(
        lam,
        fn,
        stream,
        BatchSize=10,
        TumblingWindowInSeconds=60,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=1,
        Enabled=False,
    )
    for key in ("a", "b", "c"):
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    wait_until(lambda: len(_calls(out)) >= 3)
    server.advance_clock(61)
    wait_until(lambda: _calls(out)[-1]["final"], timeout=15)
    calls = _calls(out)
    assert [c["keys"] for c in calls] == [["a", "b", "c"], ["b", "c"], ["b", "c"], []]
    assert calls[-1]["count"] == 1  # only a was done; b and c were given up
