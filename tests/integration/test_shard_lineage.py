"""Several shards per stream and periodic rollover: lineage for stream readers and mappings.

A dedicated server with 2 shards per stream and a 60 s rollover; the clock is moved forward
to roll shards over, so "hours" take milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater.testing import HeadwaterServer
from tests.conftest import create_function, create_stream_table, wait_until


@pytest.fixture(scope="module")
def sharded() -> Iterator[HeadwaterServer]:
    args = ["--stream-shards", "2", "--shard-rollover-seconds", "60"]
    with HeadwaterServer(in_memory=True, extra_args=args) as running:
        yield running


def _read_shard(streams: Any, arn: str, shard_id: str) -> list[dict[str, Any]]:
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = []
    while it:
        page = streams.get_records(ShardIterator=it)
        records += page["Records"]
        if not page["Records"] and "EndingSequenceNumber" not in _shard(streams, arn, shard_id):
            break  # open shard read to its current end
        it = page.get("NextShardIterator")
    return records


def _shard(streams: Any, arn: str, shard_id: str) -> dict[str, Any]:
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    return next(s for s in shards if s["ShardId"] == shard_id)["SequenceNumberRange"]


def _write(ddb: Any, table: str, keys: list[str], version: int) -> None:
    for key in keys:
        ddb.put_item(TableName=table, Item={"pk": {"S": key}, "v": {"N": str(version)}})


def test_a_stream_has_the_configured_number_of_open_shards(sharded: HeadwaterServer) -> None:
    ddb, streams = sharded.client("dynamodb"), sharded.client("dynamodbstreams")
    _table, arn = create_stream_table(ddb)
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert len(shards) == 2
    assert all("EndingSequenceNumber" not in s["SequenceNumberRange"] for s in shards)


def test_rollover_closes_shards_and_children_name_their_parent(sharded: HeadwaterServer) -> None:
    ddb, streams = sharded.client("dynamodb"), sharded.client("dynamodbstreams")
    table, arn = create_stream_table(ddb)
    keys = [f"k{i}" for i in range(12)]
    _write(ddb, table, keys, 1)
    sharded.advance_clock(61)
    wait_until(
        lambda: len(streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]) == 4
    )
    _write(ddb, table, keys, 2)
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    parents = [s for s in shards if "ParentShardId" not in s]
    children = [s for s in shards if "ParentShardId" in s]
    assert all("EndingSequenceNumber" in p["SequenceNumberRange"] for p in parents)
    assert {c["ParentShardId"] for c in children} == {p["ShardId"] for p in parents}
    only = streams.describe_stream(
        StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": parents[0]["ShardId"]}
    )["StreamDescription"]["Shards"]
    assert [s["ParentShardId"] for s in only] == [parents[0]["ShardId"]]

    # A reader that follows lineage (parent to its end, then the child) sees every record
    # exactly once, and each key's records in order.
    seen: dict[str, list[int]] = {}
    for parent in parents:
        lineage = [parent] + [c for c in children if c["ParentShardId"] == parent["ShardId"]]
        for shard in lineage:
            for record in _read_shard(streams, arn, shard["ShardId"]):
                image = record["dynamodb"]["NewImage"]
                seen.setdefault(image["pk"]["S"], []).append(int(image["v"]["N"]))
    assert seen == {key: [1, 2] for key in keys}


RECORDER = """
import json, os

def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        for record in event["Records"]:
            image = record["dynamodb"]["NewImage"]
            out.write(json.dumps([image["pk"]["S"], int(image["v"]["N"])]) + "\\n")
"""


def test_a_mapping_follows_rollovers_in_per_key_order(
    sharded: HeadwaterServer, tmp_path: Path
) -> None:
    ddb, lam = sharded.client("dynamodb"), sharded.client("lambda")
    table, arn = create_stream_table(ddb)
    out = tmp_path / "seen"
    fn = create_function(lam, RECORDER, env={"OUT": str(out)})
    uuid = lam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=5
    )["UUID"]
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    keys = [f"m{i}" for i in range(10)]
    for version in range(1, 4):
        _write(ddb, table, keys, version)
        sharded.advance_clock(61)  # roll over between rounds of writes

    def delivered() -> list[tuple[str, int]]:
        if not out.exists():
            return []
        return [tuple(json.loads(line)) for line in out.read_text().splitlines()]

    wait_until(lambda: len(delivered()) >= 30, timeout=20)
    by_key: dict[str, list[int]] = {}
    for key, version in delivered():
        by_key.setdefault(key, []).append(version)
    assert by_key == {key: [1, 2, 3] for key in keys}


def test_describe_stream_pages_through_shards(sharded: HeadwaterServer) -> None:
    ddb, streams = sharded.client("dynamodb"), sharded.client("dynamodbstreams")
    _table, arn = create_stream_table(ddb)
    first = streams.describe_stream(StreamArn=arn, Limit=1)["StreamDescription"]
    assert len(first["Shards"]) == 1
    assert first["LastEvaluatedShardId"] == first["Shards"][0]["ShardId"]
    second = streams.describe_stream(
        StreamArn=arn, Limit=1, ExclusiveStartShardId=first["LastEvaluatedShardId"]
    )["StreamDescription"]
    assert len(second["Shards"]) == 1
    assert "LastEvaluatedShardId" not in second
    assert second["Shards"][0]["ShardId"] != first["Shards"][0]["ShardId"]
