"""The event source mapping's error ladder with real workers: retry limits, partial batch
failures, bisecting and record age (spec §6.3–6.5, §6.7)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.conftest import create_function, create_queue, create_stream_table, unique, wait_until

# Records every invocation's keys; fails (raises) whenever a key listed in FAIL_KEYS is in the
# batch, or reports those keys as batch item failures when REPORT is set.
HANDLER = """
import json, os

def handler(event, context):
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(keys) + "\\n")
    fail = set(os.environ.get("FAIL_KEYS", "").split(","))
    flag = os.environ.get("FAIL_WHILE")
    if flag and not os.path.exists(flag):
        fail = set()
    bad = [r for r in event["Records"] if r["dynamodb"]["Keys"]["pk"]["S"] in fail]
    if not bad:
        return None
    if os.environ.get("REPORT"):
        response = os.environ["REPORT"]
        if response == "valid":
            return {"batchItemFailures": [
                {"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in bad]}
        return json.loads(response)
    raise RuntimeError("poison: " + ",".join(r["dynamodb"]["Keys"]["pk"]["S"] for r in bad))
"""


def _calls(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _setup(
    ddb: Any, lam: Any, tmp_path: Path, env: dict[str, str], **mapping: Any
) -> tuple[str, Path, str]:
    table, stream = create_stream_table(ddb)
    out = tmp_path / "calls"
    fn = create_function(lam, HANDLER, env={"OUT": str(out), **env})
    uuid = lam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=stream, StartingPosition="TRIM_HORIZON", **mapping
    )["UUID"]
    resting = "Enabled" if mapping.get("Enabled", True) else "Disabled"
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == resting)
    return table, out, uuid


def _put(ddb: Any, table: str, *keys: str) -> None:
    for key in keys:
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})


def test_maximum_retry_attempts_gives_the_batch_up_and_moves_on(
    ddb: Any, lam: Any, tmp_path: Path
) -> None:
    table, out, _ = _setup(
        ddb, lam, tmp_path, {"FAIL_KEYS": "poison"}, BatchSize=1, MaximumRetryAttempts=2
    )
    _put(ddb, table, "poison", "after")
    wait_until(lambda: ["after"] in _calls(out))
    calls = _calls(out)
    assert calls.count(["poison"]) == 3  # the first attempt and two retries
    assert calls[-1] == ["after"]


def test_reported_item_failure_rewinds_to_the_lowest_failed_record(
    ddb: Any, lam: Any, tmp_path: Path
) -> None:
    flag = tmp_path / "failing"
    flag.write_text("x")
    table, out, uuid = _setup(
        ddb,
        lam,
        tmp_path,
        {"FAIL_KEYS": "b", "FAIL_WHILE": str(flag), "REPORT": "valid"},
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        Enabled=False,
    )
    _put(ddb, table, "a", "b", "c")
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    wait_until(lambda: len(_calls(out)) >= 3)
    flag.unlink()
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK")
    calls = _calls(out)
    assert calls[0] == ["a", "b", "c"]
    # Every retry starts at b: a was done, and c comes after the failed record.
    assert all(call == ["b", "c"] for call in calls[1:])


def test_malformed_partial_response_fails_the_whole_batch(
    ddb: Any, lam: Any, tmp_path: Path
) -> None:
    table, out, uuid = _setup(
        ddb,
        lam,
        tmp_path,
        {"FAIL_KEYS": "b", "REPORT": json.dumps({"batchItemFailures": [{"itemIdentifier": 1}]})},
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=1,
        Enabled=False,
    )
    _put(ddb, table, "a", "b")
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    wait_until(lambda: len(_calls(out)) >= 2)  # c must not join the failing batch
    _put(ddb, table, "c")
    wait_until(lambda: ["c"] in _calls(out))
    calls = _calls(out)
    assert calls[:2] == [["a", "b"], ["a", "b"]]  # whole batch, 1 + 1 retry, then given up


def test_bisect_isolates_the_poison_record(ddb: Any, lam: Any, tmp_path: Path) -> None:
    table, out, uuid = _setup(
        ddb,
        lam,
        tmp_path,
        {"FAIL_KEYS": "p"},
        BatchSize=4,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=0,
        Enabled=False,
    )
    _put(ddb, table, "a", "b", "p", "d")
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    _put(ddb, table, "z")
    wait_until(lambda: ["z"] in _calls(out))
    calls = _calls(out)
    assert calls[0] == ["a", "b", "p", "d"]
    assert ["a", "b"] in calls and ["p", "d"] in calls
    assert ["p"] in calls and ["d"] in calls
    assert max(len(c) for c in calls[1:]) <= 2
    delivered = {key for call in calls for key in call if key != "p"}
    assert delivered == {"a", "b", "d", "z"}


def test_maximum_record_age_discards_records_that_grow_too_old(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    table, out, _ = _setup(
        ddb, lam, tmp_path, {"FAIL_KEYS": "old"}, BatchSize=1, MaximumRecordAgeInSeconds=60
    )
    _put(ddb, table, "old")
    wait_until(lambda: len(_calls(out)) >= 2)  # failing and being retried
    server.advance_clock(61)
    _put(ddb, table, "fresh")
    wait_until(lambda: ["fresh"] in _calls(out), timeout=20)
    assert _calls(out)[-1] == ["fresh"]


def test_record_age_out_of_range_is_refused(ddb: Any, lam: Any, tmp_path: Path) -> None:
    import pytest
    from botocore.exceptions import ClientError

    _table, stream = create_stream_table(ddb)
    fn = create_function(lam, HANDLER, env={"OUT": str(tmp_path / "o")})
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(
            FunctionName=fn,
            EventSourceArn=stream,
            StartingPosition="LATEST",
            MaximumRecordAgeInSeconds=30,
        )
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert err.value.response["Error"]["Message"] == (
        "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)"
    )


def test_given_up_records_are_sent_to_an_sqs_destination(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    sqs = server.client("sqs")
    queue_url, queue_arn = create_queue(sqs, "esm-dlq")
    table, stream = create_stream_table(ddb)
    out = tmp_path / "calls"
    fn = create_function(lam, HANDLER, env={"OUT": str(out), "FAIL_KEYS": "poison"})
    uuid = lam.create_event_source_mapping(
        FunctionName=fn,
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        BatchSize=1,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )["UUID"]
    assert lam.get_event_source_mapping(UUID=uuid)["DestinationConfig"] == {
        "OnFailure": {"Destination": queue_arn}
    }
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    _put(ddb, table, "poison", "fine")
    wait_until(lambda: ["fine"] in _calls(out))
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5)["Messages"]
    record = json.loads(messages[0]["Body"])
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestContext"]["functionArn"].endswith(f":function:{fn}")
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    info = record["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["streamArn"] == stream
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")
    assert record["version"] == "1.0"


def test_given_up_records_go_to_an_s3_destination_with_the_payload(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="esm-failures")
    table, stream = create_stream_table(ddb)
    out = tmp_path / "calls"
    fn = create_function(lam, HANDLER, env={"OUT": str(out), "FAIL_KEYS": "poison"})
    uuid = lam.create_event_source_mapping(
        FunctionName=fn,
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        BatchSize=1,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::esm-failures"}},
    )["UUID"]
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    _put(ddb, table, "poison")
    listing = wait_until(
        lambda: s3.list_objects_v2(Bucket="esm-failures").get("Contents"), timeout=15
    )
    key = listing[0]["Key"]
    assert key.startswith(f"aws/lambda/{uuid}/shardId-")
    body = json.loads(s3.get_object(Bucket="esm-failures", Key=key)["Body"].read())
    payload = json.loads(body["payload"])
    assert payload["Records"][0]["dynamodb"]["Keys"] == {"pk": {"S": "poison"}}
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_a_fifo_or_foreign_destination_is_refused(ddb: Any, lam: Any, tmp_path: Path) -> None:
    import pytest
    from botocore.exceptions import ClientError

    _table, stream = create_stream_table(ddb)
    fn = create_function(lam, HANDLER, env={"OUT": str(tmp_path / "o")})
    for target in (
        "arn:aws:sqs:us-east-1:000000000000:q.fifo",
        "arn:aws:sns:us-east-1:000000000000:t.fifo",
    ):
        with pytest.raises(ClientError) as err:
            lam.create_event_source_mapping(
                FunctionName=fn,
                EventSourceArn=stream,
                StartingPosition="LATEST",
                DestinationConfig={"OnFailure": {"Destination": target}},
            )
        assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_throttled_batches_are_retried_without_using_up_attempts(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    import urllib.request

    table, out, uuid = _setup(ddb, lam, tmp_path, {}, BatchSize=1, MaximumRetryAttempts=0)
    fn = lam.get_event_source_mapping(UUID=uuid)["FunctionArn"].rsplit(":", 1)[1]
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=0)
    _put(ddb, table, "waits")

    def throttled() -> bool:
        url = f"{server.url}/_headwater/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
        found = re.search(
            rf'^headwater_lambda_throttles_total\{{function="{fn}"\}} (\S+)$', text, re.M
        )
        return found is not None and float(found.group(1)) >= 2

    wait_until(throttled)  # throttled at least twice, and not given up (MaximumRetryAttempts 0)
    assert _calls(out) == []
    lam.delete_function_concurrency(FunctionName=fn)
    wait_until(lambda: _calls(out) == [["waits"]], timeout=15)


def test_the_failure_record_names_the_version_that_ran(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    sqs = server.client("sqs")
    queue_url, queue_arn = create_queue(sqs, "esm-dlq-versions")
    table, stream = create_stream_table(ddb)
    out = tmp_path / "calls"
    fn = create_function(lam, HANDLER, env={"OUT": str(out), "FAIL_KEYS": "poison"})
    version = lam.publish_version(FunctionName=fn)["Version"]
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion=version)
    uuid = lam.create_event_source_mapping(
        FunctionName=f"{fn}:live",
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        BatchSize=1,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )["UUID"]
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    _put(ddb, table, "poison")
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5)["Messages"]
    record = json.loads(messages[0]["Body"])
    assert record["requestContext"]["functionArn"].endswith(f":function:{fn}:live")
    assert record["responseContext"]["executedVersion"] == version == "1"


def test_a_partial_failure_behind_done_records_starts_a_fresh_retry_count(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    """AWS-recorded (spec §6.5): the invocation that moves the checkpoint up to the failed record
    is not counted; the rest then runs 1 + MaximumRetryAttempts times before it is given up."""
    sqs = server.client("sqs")
    queue_url, queue_arn = create_queue(sqs, unique("esm-partial"))
    table, out, uuid = _setup(
        ddb,
        lam,
        tmp_path,
        {"FAIL_KEYS": "b", "REPORT": "valid"},
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
        Enabled=False,
    )
    _put(ddb, table, "a", "b", "c")
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=10)["Messages"]
    assert _calls(out) == [["a", "b", "c"], ["b", "c"], ["b", "c"]]
    record = json.loads(messages[0]["Body"])
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responseContext"]["functionError"] is None
    info = record["DDBStreamBatchInfo"]
    assert info["batchSize"] == 2
    assert int(info["startSequenceNumber"]) < int(info["endSequenceNumber"])


def test_records_too_old_when_polled_are_given_up_uninvoked_under_a_fresh_request_id(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    sqs = server.client("sqs")
    queue_url, queue_arn = create_queue(sqs, unique("esm-aged"))
    table, stream = create_stream_table(ddb)
    out = tmp_path / "request-ids"
    gate = tmp_path / "gate"
    code = (
        "import os, time\n"
        "def handler(event, context):\n"
        "    with open(os.environ['OUT'], 'a') as f:\n"
        "        f.write(context.aws_request_id + '\\n')\n"
        "    while not os.path.exists(os.environ['GATE']):\n"
        "        time.sleep(0.01)\n"
    )
    fn = create_function(lam, code, env={"OUT": str(out), "GATE": str(gate)}, timeout=30)
    uuid = lam.create_event_source_mapping(
        FunctionName=fn,
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        BatchSize=1,
        MaximumRecordAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )["UUID"]
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    _put(ddb, table, "first")
    wait_until(lambda: out.exists())  # the first batch is in the handler, held at the gate
    _put(ddb, table, "aged")
    server.advance_clock(61)  # the next record is too old before the same poller reads it
    gate.touch()
    body = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=10)["Messages"][0]["Body"]
    record = json.loads(body)
    earlier = out.read_text().split()
    assert len(earlier) == 1  # the aged record was never sent to the function
    context = record["requestContext"]
    assert context["condition"] == "RecordAgeExceeded"
    assert context["approximateInvokeCount"] == 1
    assert "responseContext" not in record
    assert context["requestId"] != earlier[0]
