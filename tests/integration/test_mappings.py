"""Event source mappings through real boto3 and real worker processes."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import create_function, create_stream_table, wait_until

RECORDER = """
import json, os

def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(event) + "\\n")
    return {"ok": True}
"""

# Fails while a flag file exists, then succeeds: a batch that needs retries.
FLAKY = """
import json, os

def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(event) + "\\n")
    if os.path.exists(os.environ["FAIL_FLAG"]):
        raise RuntimeError("not yet")
    return {"ok": True}
"""


def _events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _keys(events: list[dict[str, Any]]) -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for e in events for r in e["Records"]]


def _enabled(lam: Any, uuid: str) -> bool:
    return bool(lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")


def _map(lam: Any, fn: str, stream_arn: str, **extra: Any) -> str:
    out = lam.create_event_source_mapping(
        FunctionName=fn,
        EventSourceArn=stream_arn,
        StartingPosition=extra.pop("position", "TRIM_HORIZON"),
        **extra,
    )
    wait_until(lambda: _enabled(lam, out["UUID"]))
    return str(out["UUID"])


def test_create_mapping_response_and_states(ddb: Any, lam: Any, tmp_path: Path) -> None:
    _table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER, env={"OUT": str(tmp_path / "out")})
    out = lam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=stream, StartingPosition="LATEST"
    )
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert out["State"] == "Creating"
    assert out["StateTransitionReason"] == "User action"
    assert out["BatchSize"] == 100
    assert out["MaximumRetryAttempts"] == -1
    assert out["MaximumRecordAgeInSeconds"] == -1
    assert out["BisectBatchOnFunctionError"] is False
    assert out["ParallelizationFactor"] == 1
    assert out["FunctionResponseTypes"] == []
    assert out["DestinationConfig"] == {"OnFailure": {}}
    assert out["LastProcessingResult"] == "No records processed"
    assert out["FunctionArn"].endswith(f":function:{fn}")
    assert out["EventSourceMappingArn"].endswith(f":event-source-mapping:{out['UUID']}")
    wait_until(lambda: _enabled(lam, out["UUID"]))
    listed = lam.list_event_source_mappings(EventSourceArn=stream)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [out["UUID"]]
    disabled = lam.update_event_source_mapping(UUID=out["UUID"], Enabled=False)
    assert disabled["State"] == "Disabling"
    wait_until(lambda: lam.get_event_source_mapping(UUID=out["UUID"])["State"] == "Disabled")
    deleted = lam.delete_event_source_mapping(UUID=out["UUID"])
    assert deleted["State"] == "Deleting"

    def gone() -> bool:
        try:
            lam.get_event_source_mapping(UUID=out["UUID"])
        except ClientError as err:
            return bool(err.response["Error"]["Code"] == "ResourceNotFoundException")
        return False

    wait_until(gone)


def test_records_reach_the_handler_in_order(ddb: Any, lam: Any, tmp_path: Path) -> None:
    out = tmp_path / "events"
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER, env={"OUT": str(out)})
    _map(lam, fn, stream, position="LATEST")
    for i in range(20):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i:02d}"}, "v": {"N": str(i)}})
    wait_until(lambda: len(_keys(_events(out))) == 20)
    events = _events(out)
    assert _keys(events) == [f"k{i:02d}" for i in range(20)]
    record = events[0]["Records"][0]
    assert record["eventSourceARN"] == stream
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["NewImage"]["v"] == {"N": "0"}
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], float)
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for e in events for r in e["Records"]]
    assert seqs == sorted(seqs)


def test_batches_never_exceed_batch_size(ddb: Any, lam: Any, tmp_path: Path) -> None:
    out = tmp_path / "events"
    table, stream = create_stream_table(ddb)
    for i in range(25):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i:02d}"}})
    fn = create_function(lam, RECORDER, env={"OUT": str(out)})
    _map(lam, fn, stream, BatchSize=4)
    wait_until(lambda: len(_keys(_events(out))) == 25)
    events = _events(out)
    assert all(1 <= len(e["Records"]) <= 4 for e in events)
    assert _keys(events) == [f"k{i:02d}" for i in range(25)]


def test_latest_skips_earlier_records_and_trim_horizon_does_not(
    ddb: Any, lam: Any, tmp_path: Path
) -> None:
    table, stream = create_stream_table(ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "before"}})
    latest_out, horizon_out = tmp_path / "latest", tmp_path / "horizon"
    fn_latest = create_function(lam, RECORDER, env={"OUT": str(latest_out)})
    fn_horizon = create_function(lam, RECORDER, env={"OUT": str(horizon_out)})
    _map(lam, fn_latest, stream, position="LATEST")
    _map(lam, fn_horizon, stream, position="TRIM_HORIZON")
    ddb.put_item(TableName=table, Item={"pk": {"S": "after"}})
    wait_until(lambda: _keys(_events(horizon_out)) == ["before", "after"])
    wait_until(lambda: _keys(_events(latest_out)) == ["after"])


def test_failing_batch_is_retried_and_does_not_block_other_mappings(
    ddb: Any, lam: Any, tmp_path: Path
) -> None:
    table, stream = create_stream_table(ddb)
    flag = tmp_path / "fail"
    flag.write_text("x")
    flaky_out, good_out = tmp_path / "flaky", tmp_path / "good"
    flaky = create_function(lam, FLAKY, env={"OUT": str(flaky_out), "FAIL_FLAG": str(flag)})
    good = create_function(lam, RECORDER, env={"OUT": str(good_out)})
    flaky_uuid = _map(lam, flaky, stream)
    _map(lam, good, stream)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}})
    wait_until(lambda: _keys(_events(good_out)) == ["a", "b"])
    wait_until(lambda: len(_events(flaky_out)) >= 3)  # retried while failing
    assert lam.get_event_source_mapping(UUID=flaky_uuid)["LastProcessingResult"] == (
        "PROBLEM: Function call failed"
    )
    flag.unlink()
    attempts_before = len(_events(flaky_out))
    wait_until(
        lambda: lam.get_event_source_mapping(UUID=flaky_uuid)["LastProcessingResult"] == "OK"
    )
    events = _events(flaky_out)
    assert len(events) > attempts_before - 1
    # Every attempt starts at the first unprocessed record: nothing skipped, order kept.
    assert all(_keys([e])[0] == "a" for e in events[:attempts_before])


def test_crashing_handler_batch_is_retried(ddb: Any, lam: Any, tmp_path: Path) -> None:
    code = """
import json, os

def handler(event, context):
    marker = os.environ["OUT"] + ".crashed"
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(event) + "\\n")
"""
    out = tmp_path / "events"
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, code, env={"OUT": str(out)})
    _map(lam, fn, stream)
    ddb.put_item(TableName=table, Item={"pk": {"S": "x"}})
    wait_until(lambda: _keys(_events(out)) == ["x"])


def test_disabled_mapping_resumes_from_its_checkpoint(ddb: Any, lam: Any, tmp_path: Path) -> None:
    out = tmp_path / "events"
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER, env={"OUT": str(out)})
    uuid = _map(lam, fn, stream)
    ddb.put_item(TableName=table, Item={"pk": {"S": "one"}})
    wait_until(lambda: _keys(_events(out)) == ["one"])
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled")
    ddb.put_item(TableName=table, Item={"pk": {"S": "two"}})
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    wait_until(lambda: _keys(_events(out)) == ["one", "two"])


def test_update_batch_size(ddb: Any, lam: Any, tmp_path: Path) -> None:
    _table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER, env={"OUT": str(tmp_path / "o")})
    uuid = _map(lam, fn, stream)
    out = lam.update_event_source_mapping(UUID=uuid, BatchSize=7)
    assert out["State"] == "Updating"
    wait_until(lambda: _enabled(lam, uuid))
    assert lam.get_event_source_mapping(UUID=uuid)["BatchSize"] == 7


def test_mapping_validation_errors(ddb: Any, lam: Any, tmp_path: Path) -> None:
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER, env={"OUT": str(tmp_path / "o")})

    def error(**kwargs: Any) -> tuple[str, str, int]:
        with pytest.raises(ClientError) as err:
            lam.create_event_source_mapping(**kwargs)
        response = err.value.response
        return (
            response["Error"]["Code"],
            response["Error"]["Message"],
            response["ResponseMetadata"]["HTTPStatusCode"],
        )

    missing_stream = stream.replace(table, "nope-table")
    assert error(FunctionName=fn, EventSourceArn=missing_stream, StartingPosition="LATEST") == (
        "InvalidParameterValueException",
        f"Stream not found: {missing_stream}",
        400,
    )
    assert error(FunctionName="no-such-fn", EventSourceArn=stream, StartingPosition="LATEST") == (
        "InvalidParameterValueException",
        "Function does not exist",
        400,
    )
    assert error(
        FunctionName=fn,
        EventSourceArn=stream,
        StartingPosition="LATEST",
        StartingPositionTimestamp=1,
    )[1] == ("Timestamp only valid with StartingPosition AT_TIMESTAMP")
    code, message, _ = error(
        FunctionName=fn, EventSourceArn=stream, StartingPosition="AT_TIMESTAMP"
    )
    assert (code, message) == (
        "InvalidParameterValueException",
        f"Unsupported starting position for arn type: {stream}",
    )
    uuid = _map(lam, fn, stream)
    code, message, status = error(FunctionName=fn, EventSourceArn=stream, StartingPosition="LATEST")
    assert (code, status) == ("ResourceConflictException", 409)
    assert message == (
        f'The event source arn (" {stream} ") and function (" {fn} ") provided '
        "mapping already exists. Please update or delete the existing mapping "
        f"with UUID {uuid}"
    )
    with pytest.raises(ClientError) as err:
        lam.get_event_source_mapping(UUID="00000000-0000-0000-0000-000000000000")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["Error"]["Message"] == "The resource you requested does not exist."


def test_batch_size_out_of_range_is_rejected(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    import boto3
    from botocore.config import Config

    raw = boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )
    _table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER, env={"OUT": str(tmp_path / "o")})
    with pytest.raises(ClientError) as err:
        raw.create_event_source_mapping(
            FunctionName=fn, EventSourceArn=stream, StartingPosition="LATEST", BatchSize=0
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "Member must have value greater than or equal to 1" in str(err.value)
    with pytest.raises(ClientError) as err:
        raw.create_event_source_mapping(
            FunctionName=fn, EventSourceArn=stream, StartingPosition="SOMETIMES"
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_batching_window_gathers_records_into_one_batch(ddb: Any, lam: Any, tmp_path: Path) -> None:
    out = tmp_path / "events"
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER, env={"OUT": str(out)})
    _map(lam, fn, stream, position="LATEST", MaximumBatchingWindowInSeconds=2)
    for i in range(5):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"w{i}"}})
    wait_until(lambda: len(_keys(_events(out))) == 5)
    assert [len(e["Records"]) for e in _events(out)] == [5]


def test_a_full_batch_does_not_wait_for_the_window(ddb: Any, lam: Any, tmp_path: Path) -> None:
    import time

    out = tmp_path / "events"
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER, env={"OUT": str(out)})
    _map(lam, fn, stream, position="LATEST", BatchSize=3, MaximumBatchingWindowInSeconds=300)
    begin = time.monotonic()
    for i in range(3):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"f{i}"}})
    wait_until(lambda: len(_keys(_events(out))) == 3, timeout=20)
    assert time.monotonic() - begin < 20
    assert [len(e["Records"]) for e in _events(out)] == [3]


COUNTER = """
import os

def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(f"{len(event['Records'])}\\n")
"""


def test_a_batch_cut_at_6_mb_goes_without_waiting_for_the_window(
    ddb: Any, lam: Any, tmp_path: Path
) -> None:
    out = tmp_path / "sizes"
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, COUNTER, env={"OUT": str(out)})
    _map(lam, fn, stream, position="LATEST", BatchSize=10000, MaximumBatchingWindowInSeconds=300)
    begin = time.monotonic()
    big = "x" * 390_000  # 18 records of ~390 KB pass the 6 MB payload limit
    for i in range(18):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"big{i}"}, "blob": {"S": big}})
    wait_until(lambda: out.exists() and out.read_text().split(), timeout=30)
    assert time.monotonic() - begin < 30  # not the 300 s window
    first = int(out.read_text().split()[0])
    assert 0 < first < 18  # the full 6 MB part, without the record that passes it


PARALLEL = """
import json, os, time

def handler(event, context):
    began = time.time()
    time.sleep(0.2)
    with open(os.environ["OUT"], "a") as out:
        for record in event["Records"]:
            image = record["dynamodb"]["NewImage"]
            out.write(json.dumps([image["pk"]["S"], int(image["v"]["N"]), began, time.time()])
                      + "\\n")
"""


def test_parallelization_factor_runs_lanes_at_once_and_keeps_per_key_order(
    ddb: Any, lam: Any, tmp_path: Path
) -> None:
    out = tmp_path / "events"
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, PARALLEL, env={"OUT": str(out)})
    uuid = _map(lam, fn, stream, position="LATEST", BatchSize=2, ParallelizationFactor=4)
    assert lam.get_event_source_mapping(UUID=uuid)["ParallelizationFactor"] == 4
    keys = [f"p{i}" for i in range(8)]
    for version in range(3):
        for key in keys:
            ddb.put_item(TableName=table, Item={"pk": {"S": key}, "v": {"N": str(version)}})

    def rows() -> list[list[Any]]:
        if not out.exists():
            return []
        return [json.loads(line) for line in out.read_text().splitlines() if line]

    wait_until(lambda: len(rows()) >= 24, timeout=30)
    seen: dict[str, list[int]] = {}
    for key, version, _began, _ended in rows():
        seen.setdefault(key, []).append(version)
    assert seen == {key: [0, 1, 2] for key in keys}
    # Some invocations overlapped in time: the lanes ran at once.
    spans = sorted({(began, ended) for _k, _v, began, ended in rows()})
    assert any(b2 < e1 for (_b1, e1), (b2, _e2) in itertools.pairwise(spans))


def test_each_lane_fills_its_batches(ddb: Any, lam: Any, tmp_path: Path) -> None:
    out = tmp_path / "events"
    table, stream = create_stream_table(ddb)
    for i in range(60):  # a backlog of 60 items' records, read from TRIM_HORIZON
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}})
    fn = create_function(lam, RECORDER, env={"OUT": str(out)})
    _map(lam, fn, stream, BatchSize=10, ParallelizationFactor=2)
    wait_until(lambda: len(_keys(_events(out))) == 60, timeout=20)
    sizes = sorted(len(e["Records"]) for e in _events(out))
    # Each lane's batches are full but for its last one (not ~BatchSize / 2 each).
    assert sizes[2:] == [10] * (len(sizes) - 2) and len(sizes) <= 8
    assert sorted(_keys(_events(out))) == sorted(f"k{i}" for i in range(60))


WINDOWED = """
import json, os

def handler(event, context):
    state = dict(event["state"])
    state["count"] = state.get("count", 0) + len(event["Records"])
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps({
            "final": event["isFinalInvokeForWindow"],
            "early": event["isWindowTerminatedEarly"],
            "window": event["window"],
            "shard": event["shardId"],
            "arn": event["eventSourceARN"],
            "records": len(event["Records"]),
            "state": event["state"],
        }) + "\\n")
    return {"state": state}
"""


def test_tumbling_window_carries_state_and_ends_with_a_final_invocation(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    out = tmp_path / "windows"
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, WINDOWED, env={"OUT": str(out)})
    uuid = _map(lam, fn, stream, position="LATEST", TumblingWindowInSeconds=60, BatchSize=2)
    assert lam.get_event_source_mapping(UUID=uuid)["TumblingWindowInSeconds"] == 60

    def calls() -> list[dict[str, Any]]:
        if not out.exists():
            return []
        return [json.loads(line) for line in out.read_text().splitlines() if line]

    for i in range(3):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"w{i}"}})
    wait_until(lambda: sum(c["records"] for c in calls()) == 3)
    assert not any(c["final"] for c in calls())
    server.advance_clock(61)  # the window is over
    wait_until(lambda: any(c["final"] for c in calls()), timeout=15)
    history = calls()
    final = history[-1]
    assert final["final"] is True and final["records"] == 0
    assert final["state"] == {"count": 3}  # state carried from invocation to invocation
    assert history[0]["state"] == {}
    assert final["window"]["end"] > final["window"]["start"]
    assert final["shard"].startswith("shardId-") and final["arn"] == stream
    assert all(c["early"] is False for c in history)
    # The position is committed after the final invocation: nothing is delivered again.
    ddb.put_item(TableName=table, Item={"pk": {"S": "next-window"}})
    wait_until(lambda: calls()[-1]["records"] == 1 and calls()[-1]["state"] == {})


def test_list_max_items_is_checked_against_the_model(raw: Any, lam: Any) -> None:
    for value, bound in ((0, "greater than or equal to 1"), (10001, "less than or equal to 10000")):
        for call in (raw.list_event_source_mappings, raw.list_functions):
            with pytest.raises(ClientError) as err:
                call(MaxItems=value)
            assert err.value.response["Error"]["Code"] == "ValidationException"
            assert err.value.response["Error"]["Message"] == (
                f"1 validation error detected: Value '{value}' at 'maxItems' failed to satisfy "
                f"constraint: Member must have value {bound}"
            )
    page = lam.list_event_source_mappings(MaxItems=1)
    assert len(page["EventSourceMappings"]) <= 1


def test_an_update_onto_an_already_mapped_function_is_a_conflict(
    ddb: Any, lam: Any, tmp_path: Path
) -> None:
    _table, stream = create_stream_table(ddb)
    first = create_function(lam, RECORDER, env={"OUT": str(tmp_path / "1")})
    second = create_function(lam, RECORDER, env={"OUT": str(tmp_path / "2")})
    kept = _map(lam, first, stream)
    moved = _map(lam, second, stream)
    with pytest.raises(ClientError) as err:
        lam.update_event_source_mapping(UUID=moved, FunctionName=first)
    assert err.value.response["Error"]["Code"] == "ResourceConflictException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert err.value.response["Error"]["Message"].endswith(f"mapping with UUID {kept}")
    assert lam.get_event_source_mapping(UUID=moved)["FunctionArn"].endswith(f":{second}")
    # Naming its own function again is no conflict.
    assert lam.update_event_source_mapping(UUID=kept, FunctionName=first)["State"] == "Updating"


# A value for each member that configures another kind of source (SQS, MQ, Kafka, DocumentDB).
OTHER_SOURCES = {
    "ScalingConfig": {"MaximumConcurrency": 5},
    "Queues": ["orders"],
    "Topics": ["orders"],
    "SourceAccessConfigurations": [
        {"Type": "BASIC_AUTH", "URI": "arn:aws:secretsmanager:us-east-1:123456789012:secret:s"}
    ],
    "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["broker:9092"]}},
    "SelfManagedKafkaEventSourceConfig": {"ConsumerGroupId": "group"},
    "AmazonManagedKafkaEventSourceConfig": {"ConsumerGroupId": "group"},
    "DocumentDBEventSourceConfig": {"DatabaseName": "db"},
    "ProvisionedPollerConfig": {"MinimumPollers": 1},
    "LoggingConfig": {"SystemLogLevel": "INFO"},
}
UPDATABLE = set(OTHER_SOURCES) - {"Queues", "Topics", "SelfManagedEventSource"}


def _refusal(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    response = err.value.response
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    return response["Error"]["Code"], response["Error"]["Message"], status


def test_parameters_of_other_sources_are_refused(ddb: Any, lam: Any, tmp_path: Path) -> None:
    _table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER, env={"OUT": str(tmp_path / "o")})
    for member, value in OTHER_SOURCES.items():
        refused = _refusal(
            lam.create_event_source_mapping,
            FunctionName=fn,
            EventSourceArn=stream,
            StartingPosition="LATEST",
            **{member: value},
        )
        camel = member[0].lower() + member[1:]
        assert refused == (
            "InvalidParameterValueException",
            f"Unsupported '{camel}' parameter for given event source mapping type.",
            400,
        ), member
    assert lam.list_event_source_mappings(EventSourceArn=stream)["EventSourceMappings"] == []
    uuid = _map(lam, fn, stream)
    for member in sorted(UPDATABLE):
        code, _message, status = _refusal(
            lam.update_event_source_mapping, UUID=uuid, **{member: OTHER_SOURCES[member]}
        )
        assert (code, status) == ("InvalidParameterValueException", 400), member
    mapping = lam.get_event_source_mapping(UUID=uuid)
    assert mapping["State"] == "Enabled"  # nothing was applied
    assert not set(OTHER_SOURCES) & set(mapping)


def test_an_update_to_a_missing_function_or_qualifier_is_refused(
    ddb: Any, lam: Any, tmp_path: Path
) -> None:
    _table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER, env={"OUT": str(tmp_path / "o")})
    uuid = _map(lam, fn, stream)
    before = lam.get_event_source_mapping(UUID=uuid)["FunctionArn"]
    for name in ("no-such-fn", f"{fn}:no-such-alias", f"{fn}:42", f"{before}:7"):
        refused = _refusal(lam.update_event_source_mapping, UUID=uuid, FunctionName=name)
        assert refused == ("InvalidParameterValueException", "Function does not exist", 400), name
    mapping = lam.get_event_source_mapping(UUID=uuid)
    assert (mapping["FunctionArn"], mapping["State"]) == (before, "Enabled")


def test_a_marker_headwater_did_not_issue_ends_the_listing(
    ddb: Any, lam: Any, tmp_path: Path
) -> None:
    # AWS's answer to a foreign Marker is not documented or observed: Headwater lists nothing
    # after it (and no NextMarker), as it always has.
    _table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER, env={"OUT": str(tmp_path / "o")})
    _map(lam, fn, stream)
    assert len(lam.list_event_source_mappings(EventSourceArn=stream)["EventSourceMappings"]) == 1
    page = lam.list_event_source_mappings(EventSourceArn=stream, Marker="not-a-marker")
    assert page["EventSourceMappings"] == []
    assert "NextMarker" not in page
