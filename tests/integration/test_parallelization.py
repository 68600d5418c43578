"""ParallelizationFactor through real boto3 and real workers: lanes deliver each record once, one
item's records in order, each lane keeps its own position (across restarts and updates), and a
lane's failures are its own."""

from __future__ import annotations

import json
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

from headwater.model.key_encoding import encode_key
from headwater.testing import HeadwaterServer
from tests.conftest import (
    create_function,
    create_queue,
    create_stream_table,
    metric_value,
    wait_until,
)

# Notes every invocation (keys, versions, whether it failed); fails while FAIL_WHILE exists (or
# always without it) when a key in FAIL_KEYS is in the batch; counts records in a window's state.
HANDLER = """
import json, os

def handler(event, context):
    records = event["Records"]
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]
    versions = [int(r["dynamodb"]["NewImage"]["v"]["N"]) for r in records]
    flag = os.environ.get("FAIL_WHILE")
    poison = set(filter(None, os.environ.get("FAIL_KEYS", "").split(",")))
    failed = bool(poison & set(keys)) and (not flag or os.path.exists(flag))
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps({
            "keys": keys,
            "versions": versions,
            "failed": failed,
            "final": event.get("isFinalInvokeForWindow", False),
        }) + "\\n")
    if failed:
        raise RuntimeError("poison")
    if "state" in event:
        return {"state": {"count": event["state"].get("count", 0) + len(records)}}
    return None
"""


def lane_of(key: str, lanes: int) -> int:
    """The lane of a partition key (as the server picks it: by the key's stored encoding)."""
    return zlib.crc32(encode_key({"S": key})) % lanes


def _calls(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _delivered(path: Path) -> list[tuple[str, int]]:
    """(key, version) of every record in a successful invocation, in the order written."""
    return [
        (key, version)
        for call in _calls(path)
        if not call["failed"]
        for key, version in zip(call["keys"], call["versions"], strict=True)
    ]


def _put(ddb: Any, table: str, key: str, version: int) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": key}, "v": {"N": str(version)}})


def _map(lam: Any, fn: str, stream: str, position: str = "LATEST", **extra: Any) -> str:
    uuid = str(
        lam.create_event_source_mapping(
            FunctionName=fn, EventSourceArn=stream, StartingPosition=position, **extra
        )["UUID"]
    )
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    return uuid


def _in_order_once(delivered: list[tuple[str, int]], expected: dict[str, list[int]]) -> None:
    """Every (key, version) exactly once, and each key's versions in the order written."""
    assert Counter(delivered) == Counter((k, v) for k, vs in expected.items() for v in vs)
    for key, versions in expected.items():
        assert [v for k, v in delivered if k == key] == versions, key


def test_a_given_up_batch_holds_only_its_lanes_records_and_each_is_polled_once(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    sqs = server.client("sqs")
    queue_url, queue_arn = create_queue(sqs, "lanes-dlq")
    out = tmp_path / "calls"
    table, stream = create_stream_table(ddb)
    keys = [f"k{i}" for i in range(23)] + ["poison"]
    for key in keys:  # a backlog: each lane reads all of its records in one batch
        _put(ddb, table, key, 0)
    fn = create_function(lam, HANDLER, env={"OUT": str(out), "FAIL_KEYS": "poison"})
    uuid = _map(
        lam,
        fn,
        stream,
        "TRIM_HORIZON",
        BatchSize=100,
        ParallelizationFactor=4,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    poisoned = [k for k in keys if lane_of(k, 4) == lane_of("poison", 4)]
    healthy = [k for k in keys if k not in poisoned]
    wait_until(lambda: sorted(k for k, _v in _delivered(out)) == sorted(healthy), timeout=20)
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5)["Messages"]
    info = json.loads(messages[0]["Body"])["DDBStreamBatchInfo"]
    assert info["batchSize"] == len(poisoned)  # not the other lanes' records too
    failed = [c for c in _calls(out) if c["failed"]]
    assert len(failed) == 1 and sorted(failed[0]["keys"]) == sorted(poisoned)
    assert all(len({lane_of(k, 4) for k in c["keys"]}) == 1 for c in _calls(out))
    wait_until(lambda: metric_value(server, "headwater_esm_dropped_events_total", mapping=uuid) > 0)
    assert metric_value(server, "headwater_esm_polled_events_total", mapping=uuid) == len(keys)
    assert metric_value(server, "headwater_esm_dropped_events_total", mapping=uuid) == len(poisoned)
    assert not sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages")


def test_a_failing_lane_holds_up_only_its_own_keys(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    out, flag = tmp_path / "calls", tmp_path / "failing"
    flag.write_text("x")
    table, stream = create_stream_table(ddb)
    env = {"OUT": str(out), "FAIL_KEYS": "poison", "FAIL_WHILE": str(flag)}
    fn = create_function(lam, HANDLER, env=env)
    _map(lam, fn, stream, BatchSize=5, ParallelizationFactor=3)
    others = [f"o{i}" for i in range(40) if lane_of(f"o{i}", 3) != lane_of("poison", 3)][:6]
    expected: dict[str, list[int]] = {key: [0, 1] for key in [*others, "poison"]}
    for version in (0, 1):
        for key in expected:
            _put(ddb, table, key, version)
    # The other lanes deliver everything while the poison's lane retries its first batch.
    wait_until(lambda: sorted(k for k, _v in _delivered(out)) == sorted(others * 2), timeout=20)
    wait_until(lambda: any(c["failed"] for c in _calls(out)))
    assert ("poison", 0) not in _delivered(out)
    flag.unlink()

    def poison_done() -> bool:
        server.advance_clock(6)  # ends the retry pause (it follows the server clock)
        return ("poison", 1) in _delivered(out)

    wait_until(poison_done, timeout=20)
    _in_order_once(_delivered(out), expected)


def test_tumbling_windows_in_lanes_deliver_each_record_once(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    out = tmp_path / "calls"
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, HANDLER, env={"OUT": str(out)})
    _map(lam, fn, stream, BatchSize=10, ParallelizationFactor=2, TumblingWindowInSeconds=60)
    keys = [f"w{i}" for i in range(10)]
    for key in keys:
        _put(ddb, table, key, 0)
    wait_until(lambda: {k for k, _v in _delivered(out)} == set(keys))
    server.advance_clock(61)  # the windows are over: each lane with records ends its window
    lanes_used = {lane_of(k, 2) for k in keys}
    wait_until(lambda: sum(c["final"] for c in _calls(out)) == len(lanes_used), timeout=15)
    _in_order_once(_delivered(out), {key: [0] for key in keys})


def test_changing_the_factor_or_the_batch_size_neither_loses_nor_repeats_records(
    ddb: Any, lam: Any, tmp_path: Path
) -> None:
    out = tmp_path / "calls"
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, HANDLER, env={"OUT": str(out)})
    uuid = _map(lam, fn, stream, BatchSize=3)
    keys = [f"c{i}" for i in range(8)]
    expected: dict[str, list[int]] = {key: [] for key in keys}

    def write(version: int) -> None:
        for key in keys:
            _put(ddb, table, key, version)
            expected[key].append(version)
        total = sum(len(v) for v in expected.values())
        wait_until(lambda: len(_delivered(out)) >= total, timeout=20)

    write(0)
    # One lane to four: the lanes start from the shard's position.
    lam.update_event_source_mapping(UUID=uuid, ParallelizationFactor=4)
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    assert lam.get_event_source_mapping(UUID=uuid)["ParallelizationFactor"] == 4
    write(1)
    # Pollers restarted with four lanes again: each lane resumes from its own position.
    lam.update_event_source_mapping(UUID=uuid, BatchSize=2)
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    write(2)
    _in_order_once(_delivered(out), expected)
    assert all(len(c["keys"]) <= 3 for c in _calls(out))


def test_lanes_resume_from_their_own_positions_after_a_restart(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "calls"
    keys = [f"r{i}" for i in range(9)]
    expected: dict[str, list[int]] = {key: [] for key in keys}
    with HeadwaterServer(data_dir=data) as server:
        ddb, lam = server.client("dynamodb"), server.client("lambda")
        table, stream = create_stream_table(ddb)
        fn = create_function(lam, HANDLER, env={"OUT": str(out)})
        uuid = _map(lam, fn, stream, BatchSize=4, ParallelizationFactor=3)
        for version in (0, 1):
            for key in keys:
                _put(ddb, table, key, version)
                expected[key].append(version)
        wait_until(lambda: len(_delivered(out)) == 18, timeout=20)
    with HeadwaterServer(data_dir=data) as server:
        ddb, lam = server.client("dynamodb"), server.client("lambda")
        assert lam.get_event_source_mapping(UUID=uuid)["ParallelizationFactor"] == 3
        for key in keys[:5]:
            _put(ddb, table, key, 2)
            expected[key].append(2)
        wait_until(lambda: len(_delivered(out)) >= 23, timeout=20)
        _in_order_once(_delivered(out), expected)


SLOW_HANDLER = """
import json, os, time

def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        for r in event["Records"]:
            out.write(json.dumps(int(r["dynamodb"]["Keys"]["sk"]["N"])) + "\\n")
    time.sleep(0.02)
"""


def test_one_partition_keys_items_share_a_lane_whatever_their_sort_keys(
    ddb: Any, lam: Any, tmp_path: Path
) -> None:
    # AWS keeps order per partition key: items of one partition (different sort keys) must
    # not be spread over lanes, where concurrent batches would interleave them.
    out = tmp_path / "calls"
    table, stream = create_stream_table(ddb, range_key=True)
    for sk in range(60):
        ddb.put_item(TableName=table, Item={"pk": {"S": "one"}, "sk": {"N": str(sk)}})
    fn = create_function(lam, SLOW_HANDLER, env={"OUT": str(out)})
    _map(lam, fn, stream, "TRIM_HORIZON", BatchSize=3, ParallelizationFactor=4)
    wait_until(lambda: out.exists() and len(out.read_text().split()) >= 60, timeout=30)
    delivered = [int(x) for x in out.read_text().split()]
    assert delivered == list(range(60))
