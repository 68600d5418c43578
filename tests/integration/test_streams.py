"""DynamoDB Streams through real boto3: records, view types, event names, iterators, ids."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import create_stream_table


def _records(streams: Any, arn: str, iterator_type: str = "TRIM_HORIZON") -> list[dict[str, Any]]:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=iterator_type
    )["ShardIterator"]
    return streams.get_records(ShardIterator=it)["Records"]


def test_insert_modify_remove_with_both_images(ddb: Any, streams: Any) -> None:
    table, arn = create_stream_table(ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "2"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "k"}})
    records = _records(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = records
    assert insert["dynamodb"]["NewImage"] == {"pk": {"S": "k"}, "v": {"N": "1"}}
    assert "OldImage" not in insert["dynamodb"]
    assert modify["dynamodb"]["OldImage"]["v"] == {"N": "1"}
    assert modify["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    assert remove["dynamodb"]["OldImage"]["v"] == {"N": "2"}
    assert "NewImage" not in remove["dynamodb"]
    for record in records:
        assert record["eventSource"] == "aws:dynamodb"
        assert record["eventVersion"] == "1.1"
        assert record["awsRegion"] == "us-east-1"
        assert re.fullmatch(r"[0-9a-f]{32}", record["eventID"])
        assert record["dynamodb"]["Keys"] == {"pk": {"S": "k"}}
        assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert "userIdentity" not in record
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert all(len(r["dynamodb"]["SequenceNumber"]) >= 21 for r in records)


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ("KEYS_ONLY", [set(), set(), set()]),
        ("NEW_IMAGE", [{"NewImage"}, {"NewImage"}, set()]),
        ("OLD_IMAGE", [set(), {"OldImage"}, {"OldImage"}]),
        ("NEW_AND_OLD_IMAGES", [{"NewImage"}, {"NewImage", "OldImage"}, {"OldImage"}]),
    ],
)
def test_images_follow_the_view_type(
    ddb: Any, streams: Any, view: str, expected: list[set[str]]
) -> None:
    table, arn = create_stream_table(ddb, view)
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "1"}})
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "k"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    ddb.delete_item(TableName=table, Key={"pk": {"S": "k"}})
    records = _records(streams, arn)
    images = [set(r["dynamodb"]) & {"NewImage", "OldImage"} for r in records]
    assert images == expected


def test_size_bytes_follows_the_item_size_rule(ddb: Any, streams: Any) -> None:
    table, arn = create_stream_table(ddb, "KEYS_ONLY")
    ddb.put_item(TableName=table, Item={"pk": {"S": "Fred"}})
    # "pk" (2) + "Fred" (4)
    assert _records(streams, arn)[0]["dynamodb"]["SizeBytes"] == 6


def test_no_record_for_no_ops_and_failed_conditions(ddb: Any, streams: Any) -> None:
    table, arn = create_stream_table(ddb)
    item = {"pk": {"S": "k"}, "v": {"N": "1"}}
    ddb.put_item(TableName=table, Item=item)
    ddb.put_item(TableName=table, Item=item)  # identical overwrite
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "k"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "1"}},
    )  # no change
    with pytest.raises(ClientError):
        ddb.put_item(
            TableName=table,
            Item={"pk": {"S": "k"}, "v": {"N": "9"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    ddb.delete_item(TableName=table, Key={"pk": {"S": "absent"}})  # nothing to delete
    assert [r["eventName"] for r in _records(streams, arn)] == ["INSERT"]


def test_update_of_missing_item_is_an_insert(ddb: Any, streams: Any) -> None:
    table, arn = create_stream_table(ddb)
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "u"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "x"}},
    )
    record = _records(streams, arn)[0]
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["NewImage"] == {"pk": {"S": "u"}, "v": {"S": "x"}}


def test_list_and_describe_stream(ddb: Any, streams: Any) -> None:
    table, arn = create_stream_table(ddb, "KEYS_ONLY", range_key=True)
    listed = streams.list_streams(TableName=table)["Streams"]
    assert listed == [{"StreamArn": arn, "TableName": table, "StreamLabel": arn.split("/")[-1]}]
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] == "ENABLED"
    assert desc["StreamViewType"] == "KEYS_ONLY"
    assert desc["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    (shard,) = desc["Shards"]
    assert re.fullmatch(r"shardId-\d{20}-[0-9a-f]{8}", shard["ShardId"])
    assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]


def test_iterator_types(ddb: Any, streams: Any) -> None:
    table, arn = create_stream_table(ddb)
    for i in range(3):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}})
    shard_id = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    all_records = _records(streams, arn)
    second = all_records[1]["dynamodb"]["SequenceNumber"]

    def read(kind: str, seq: str | None = None) -> list[str]:
        args: dict[str, Any] = {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": kind}
        if seq is not None:
            args["SequenceNumber"] = seq
        it = streams.get_shard_iterator(**args)["ShardIterator"]
        return [
            r["dynamodb"]["Keys"]["pk"]["S"]
            for r in streams.get_records(ShardIterator=it)["Records"]
        ]

    assert read("TRIM_HORIZON") == ["k0", "k1", "k2"]
    assert read("AT_SEQUENCE_NUMBER", second) == ["k1", "k2"]
    assert read("AFTER_SEQUENCE_NUMBER", second) == ["k2"]
    latest = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_id, ShardIteratorType="LATEST"
    )["ShardIterator"]
    page = streams.get_records(ShardIterator=latest)
    assert page["Records"] == [] and page["NextShardIterator"]
    ddb.put_item(TableName=table, Item={"pk": {"S": "k3"}})
    page = streams.get_records(ShardIterator=page["NextShardIterator"])
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]] == ["k3"]


def test_get_records_limit_and_continuation(ddb: Any, streams: Any) -> None:
    table, arn = create_stream_table(ddb)
    for i in range(5):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}})
    shard_id = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    seen: list[str] = []
    for _ in range(3):
        page = streams.get_records(ShardIterator=it, Limit=2)
        seen += [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]]
        it = page["NextShardIterator"]
    assert seen == [f"k{i}" for i in range(5)]


def test_disabled_stream_closes_its_shard_and_stays_readable(ddb: Any, streams: Any) -> None:
    table, arn = create_stream_table(ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}})
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] == "DISABLED"
    shard = desc["Shards"][0]
    assert "EndingSequenceNumber" in shard["SequenceNumberRange"]
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    page = streams.get_records(ShardIterator=it)
    assert [r["eventName"] for r in page["Records"]] == ["INSERT"]
    assert "NextShardIterator" not in page  # closed and fully read


def test_stream_errors(ddb: Any, streams: Any) -> None:
    table, arn = create_stream_table(ddb)
    missing = arn.replace(table, "missing-table")
    with pytest.raises(ClientError) as err:
        streams.describe_stream(StreamArn=missing)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["Error"]["Message"] == (
        f"Requested resource not found: Stream: {missing} not found"
    )
    with pytest.raises(ClientError) as err:
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId="shardId-00000000000000000000-00000000",
            ShardIteratorType="TRIM_HORIZON",
        )
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        streams.get_records(ShardIterator=arn + "|1|forged" + "A" * 30)
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_iterator_expires_after_fifteen_minutes(server: Any, ddb: Any, streams: Any) -> None:
    _table, arn = create_stream_table(ddb)
    shard_id = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    server.advance_clock(15 * 60 + 1)
    with pytest.raises(ClientError) as err:
        streams.get_records(ShardIterator=it)
    assert err.value.response["Error"]["Code"] == "ExpiredIteratorException"


def test_records_past_the_retention_window_are_trimmed(tmp_path: Any) -> None:
    from headwater.testing import HeadwaterServer
    from tests.conftest import wait_until

    with HeadwaterServer(in_memory=True, extra_args=["--stream-retention-seconds", "60"]) as srv:
        ddb, streams = srv.client("dynamodb"), srv.client("dynamodbstreams")
        table, arn = create_stream_table(ddb)
        ddb.put_item(TableName=table, Item={"pk": {"S": "old"}})
        shard_id = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0][
            "ShardId"
        ]
        stale = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        srv.advance_clock(61)
        ddb.put_item(TableName=table, Item={"pk": {"S": "new"}})

        def trimmed() -> bool:
            try:
                streams.get_records(ShardIterator=stale)
            except ClientError as err:
                return bool(err.response["Error"]["Code"] == "TrimmedDataAccessException")
            return False

        wait_until(trimmed)
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in _records(streams, arn)] == ["new"]


def test_strict_mode_throttles_a_third_reader_of_a_shard() -> None:
    from headwater.testing import HeadwaterServer

    with HeadwaterServer(in_memory=True, extra_args=["--strict-stream-readers"]) as srv:
        ddb, streams = srv.client("dynamodb"), srv.client("dynamodbstreams")
        table, arn = create_stream_table(ddb)
        ddb.put_item(TableName=table, Item={"pk": {"S": "k"}})
        shard_id = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0][
            "ShardId"
        ]

        def reader() -> str:
            return str(
                streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )

        # "At once" is within one second of the server clock; on a starved machine three
        # calls can take longer, so a round that took longer proves nothing and is redone.
        for _round in range(3):
            first, second, third = reader(), reader(), reader()
            began = time.monotonic()
            page = streams.get_records(ShardIterator=first)
            streams.get_records(ShardIterator=second)
            try:
                streams.get_records(ShardIterator=third)
            except ClientError as err:
                assert err.response["Error"]["Code"] == "LimitExceededException"
                break
            assert time.monotonic() - began > 0.9, "a third reader at once was not throttled"
            srv.advance_clock(2)
        else:
            pytest.fail("no round ran within a second")
        # The first reader goes on: its next iterator is the same reader.
        streams.get_records(ShardIterator=page["NextShardIterator"])
        srv.advance_clock(2)  # the others have gone quiet: a new reader is welcome
        streams.get_records(ShardIterator=reader())


def test_a_deleted_tables_stream_stays_readable(ddb: Any, streams: Any) -> None:
    table, arn = create_stream_table(ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "kept"}})
    ddb.delete_table(TableName=table)
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] == "DISABLED"
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in _records(streams, arn)] == ["kept"]
