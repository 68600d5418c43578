"""Durability across restarts: items, streams, functions, mappings and their checkpoints."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from headwater.testing import HeadwaterServer
from tests.conftest import create_function, create_stream_table, wait_until

RECORDER = """
import json, os

def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(event) + "\\n")
"""


def _keys(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [
        r["dynamodb"]["Keys"]["pk"]["S"]
        for line in path.read_text().splitlines()
        if line
        for r in json.loads(line)["Records"]
    ]


@pytest.mark.parametrize(
    "flags", [[], ["--publish-after-fsync"]], ids=["published-before-fsync", "after-fsync"]
)
def test_mapping_resumes_after_restart_without_replay_or_gap(
    tmp_path: Path, flags: list[str]
) -> None:
    data, out = tmp_path / "data", tmp_path / "events"
    with HeadwaterServer(data_dir=data, extra_args=flags) as server:
        ddb, lam = server.client("dynamodb"), server.client("lambda")
        table, stream = create_stream_table(ddb)
        fn = create_function(lam, RECORDER, env={"OUT": str(out)})
        uuid = lam.create_event_source_mapping(
            FunctionName=fn, EventSourceArn=stream, StartingPosition="LATEST"
        )["UUID"]
        for i in range(5):
            ddb.put_item(TableName=table, Item={"pk": {"S": f"a{i}"}})
        wait_until(lambda: len(_keys(out)) == 5)
    # Down: writes made now must not be lost, and earlier ones must not come again.
    with HeadwaterServer(data_dir=data) as server:
        ddb, lam = server.client("dynamodb"), server.client("lambda")
        assert lam.get_event_source_mapping(UUID=uuid)["FunctionArn"].endswith(fn)
        assert ddb.get_item(TableName=table, Key={"pk": {"S": "a4"}})["Item"]
        for i in range(3):
            ddb.put_item(TableName=table, Item={"pk": {"S": f"b{i}"}})
        wait_until(lambda: len(_keys(out)) == 8)
        assert _keys(out) == [f"a{i}" for i in range(5)] + [f"b{i}" for i in range(3)]


def test_killed_server_loses_no_acknowledged_write(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = HeadwaterServer(data_dir=data).start()
    ddb, streams = server.client("dynamodb"), server.client("dynamodbstreams")
    table, stream = create_stream_table(ddb)
    for i in range(50):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}, "v": {"N": str(i)}})
    server.kill()
    with HeadwaterServer(data_dir=data) as again:
        ddb, streams = again.client("dynamodb"), again.client("dynamodbstreams")
        assert ddb.describe_table(TableName=table)["Table"]["ItemCount"] == 50
        shard = streams.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]
        it = streams.get_shard_iterator(
            StreamArn=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = streams.get_records(ShardIterator=it)["Records"]
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == [f"k{i}" for i in range(50)]
        # New sequence numbers continue after the old ones: no reuse after a crash.
        ddb.put_item(TableName=table, Item={"pk": {"S": "after"}})
        it = streams.get_shard_iterator(
            StreamArn=stream,
            ShardId=shard["ShardId"],
            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            SequenceNumber=records[-1]["dynamodb"]["SequenceNumber"],
        )["ShardIterator"]
        (after,) = streams.get_records(ShardIterator=it)["Records"]
        assert int(after["dynamodb"]["SequenceNumber"]) > int(
            records[-1]["dynamodb"]["SequenceNumber"]
        )


def test_ctrl_c_stops_cleanly_and_ends_workers(tmp_path: Path) -> None:
    server = HeadwaterServer(data_dir=tmp_path / "data").start()
    lam = server.client("lambda")
    fn = create_function(lam, "import os\ndef handler(e, c):\n    return os.getpid()\n")
    worker_pid = json.loads(lam.invoke(FunctionName=fn, Payload=b"{}")["Payload"].read())
    assert server.stop() == 0

    def gone() -> bool:
        try:
            os.kill(worker_pid, 0)
        except ProcessLookupError:
            return True
        return False

    wait_until(gone, timeout=10)


def test_an_iterator_issued_before_a_restart_still_works(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with HeadwaterServer(data_dir=data) as server:
        ddb, streams = server.client("dynamodb"), server.client("dynamodbstreams")
        table, stream = create_stream_table(ddb)
        ddb.put_item(TableName=table, Item={"pk": {"S": "before"}})
        shard_id = streams.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0][
            "ShardId"
        ]
        iterator = streams.get_shard_iterator(
            StreamArn=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
    with HeadwaterServer(data_dir=data) as server:
        streams = server.client("dynamodbstreams")
        records = streams.get_records(ShardIterator=iterator)["Records"]
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["before"]


def test_a_crash_in_the_middle_of_concurrent_writes_loses_no_acknowledged_one(
    tmp_path: Path,
) -> None:
    # Writers on several connections keep the event loop's group commits busy; the server is
    # killed while requests are in flight. Every acknowledged write must be there after the
    # restart, and an item is there exactly when its stream record is (one transaction).
    import threading
    import time

    data = tmp_path / "data"
    server = HeadwaterServer(data_dir=data).start()
    ddb = server.client("dynamodb")
    table, stream = create_stream_table(ddb)
    acknowledged: list[str] = []
    stop = threading.Event()

    clients = [server.client("dynamodb") for _ in range(4)]  # one attempt each, no retry

    def writer(n: int) -> None:
        client = clients[n]
        i = 0
        while not stop.is_set():
            key = f"w{n}-{i}"
            try:
                client.put_item(TableName=table, Item={"pk": {"S": key}})
            except Exception:  # the crash: this one was not acknowledged
                return
            acknowledged.append(key)
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 200 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()  # mid-flight: the writers are still sending
    stop.set()
    for thread in threads:
        thread.join(30)
    assert len(acknowledged) >= 200

    with HeadwaterServer(data_dir=data) as again:
        ddb, streams = again.client("dynamodb"), again.client("dynamodbstreams")
        present: set[str] = set()
        pages = ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
        for page in pages:
            present.update(item["pk"]["S"] for item in page["Items"])
        assert set(acknowledged) <= present  # nothing acknowledged is lost
        recorded: list[str] = []
        for shard in streams.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"]:
            it: str | None = streams.get_shard_iterator(
                StreamArn=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while it:
                page = streams.get_records(ShardIterator=it, Limit=1000)
                recorded += [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]]
                if not page["Records"]:
                    break
                it = page.get("NextShardIterator")
        assert sorted(recorded) == sorted(present)  # one record per item, none without one
