"""The HTTP envelope: routing, health endpoints and protocol-level errors."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import zlib
from typing import Any


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def test_headwater_health(server: Any) -> None:
    with urllib.request.urlopen(f"{server.url}/_headwater/health", timeout=10) as response:
        body = json.loads(response.read())
    assert body["status"] == "ok"


def test_dynamodb_health_check(server: Any) -> None:
    with urllib.request.urlopen(server.url + "/", timeout=10) as response:
        assert response.read() == b"healthy: dynamodb.us-east-1.amazonaws.com "


def test_unknown_operation(server: Any) -> None:
    status, _, body = _post(
        server.url + "/",
        b"{}",
        {
            "X-Amz-Target": "DynamoDB_20120810.ListTable",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    assert status == 400
    assert json.loads(body) == {"__type": "com.amazon.coral.service#UnknownOperationException"}


def test_body_that_is_not_json_is_a_serialization_error(server: Any) -> None:
    status, headers, body = _post(
        server.url + "/",
        b"{nope",
        {
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    assert status == 400
    assert json.loads(body) == {"__type": "com.amazon.coral.service#SerializationException"}
    assert headers["x-amz-crc32"] == str(zlib.crc32(body))
    assert len(headers["x-amzn-requestid"]) == 52


def test_wrong_json_type_is_a_serialization_error(server: Any) -> None:
    status, _, body = _post(
        server.url + "/",
        b'{"TableName": true}',
        {
            "X-Amz-Target": "DynamoDB_20120810.DescribeTable",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    assert status == 400
    assert json.loads(body)["__type"].endswith("#SerializationException")


def test_region_from_the_signature_selects_the_namespace(server: Any) -> None:
    west = server.client("dynamodb", region="eu-west-1")
    east = server.client("dynamodb", region="us-east-1")
    west.create_table(
        TableName="regional-table",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert "regional-table" in west.list_tables()["TableNames"]
    assert "regional-table" not in east.list_tables()["TableNames"]
    arn = west.describe_table(TableName="regional-table")["Table"]["TableArn"]
    assert arn.startswith("arn:aws:dynamodb:eu-west-1:")


def test_the_standard_event_loop_serves_writes_and_streams_too(tmp_path: Any) -> None:
    # serve.py prefers uvloop; HEADWATER_LOOP=asyncio (and platforms without uvloop) use
    # asyncio's own loop, with the same loop-thread writes and durable commits.
    from headwater.testing import HeadwaterServer
    from tests.conftest import create_stream_table

    with HeadwaterServer(tmp_path / "data", env={"HEADWATER_LOOP": "asyncio"}) as running:
        ddb, streams = running.client("dynamodb"), running.client("dynamodbstreams")
        table, arn = create_stream_table(ddb)
        for i in range(3):
            ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}, "n": {"N": str(i)}})
        ddb.delete_item(TableName=table, Key={"pk": {"S": "k0"}})
        got = ddb.get_item(TableName=table, Key={"pk": {"S": "k2"}}, ConsistentRead=True)
        assert got["Item"]["n"] == {"N": "2"}
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator)["Records"]
        assert [r["eventName"] for r in records] == ["INSERT", "INSERT", "INSERT", "REMOVE"]
        assert running.wait_for_output(r"loop: asyncio", timeout=1)
