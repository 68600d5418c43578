"""Time to Live through real boto3: the setting's API and rules, and the reaper's deletions.

Time is driven with ``server.advance_clock`` (which also wakes the reaper at once) and results
are awaited with ``wait_until``; nothing sleeps for a fixed time. The session server's reaper
also sweeps every few seconds, so tests there only ever rely on what is true whenever a sweep
runs; the test about expired-but-not-yet-deleted items uses its own server with the timer off.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import HeadwaterServer
from tests.conftest import create_stream_table, unique, wait_until

SERVICE = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
FIVE_YEARS = 5 * 365 * 86400


def server_now(server: HeadwaterServer) -> float:
    with urllib.request.urlopen(f"{server.url}/_headwater/clock", timeout=10) as response:
        return float(json.loads(response.read())["time"])


def make_table(ddb: Any) -> str:
    name = unique("ttl")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def enable(ddb: Any, table: str, attribute: str = "expires") -> None:
    ddb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
    )


def put(ddb: Any, table: str, pk: str, **attrs: Any) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": pk}, **attrs})


def exists(ddb: Any, table: str, pk: str) -> bool:
    return "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True)


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def raw_records(server: HeadwaterServer, streams: Any, stream_arn: str) -> list[dict[str, Any]]:
    """GetRecords as JSON on the wire (boto3 drops ``userIdentity``'s lower-case members)."""
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    request = urllib.request.Request(
        server.url,
        data=json.dumps({"ShardIterator": iterator}).encode(),
        headers={
            "X-Amz-Target": "DynamoDBStreams_20120810.GetRecords",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        records: list[dict[str, Any]] = json.loads(response.read())["Records"]
    return records


# -- the setting ---------------------------------------------------------------------------


def test_a_new_table_has_ttl_disabled_without_an_attribute(ddb: Any) -> None:
    table = make_table(ddb)
    out = ddb.describe_time_to_live(TableName=table)
    assert out["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}


def test_enabling_echoes_the_specification_and_describe_reports_it(ddb: Any) -> None:
    table = make_table(ddb)
    out = ddb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    assert out["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "expires"}
    described = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}


def test_describe_accepts_the_table_arn(ddb: Any) -> None:
    table = make_table(ddb)
    enable(ddb, table)
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    described = ddb.describe_time_to_live(TableName=arn)["TimeToLiveDescription"]
    assert described["AttributeName"] == "expires"


def test_enabling_again_is_refused(ddb: Any) -> None:
    table = make_table(ddb)
    enable(ddb, table)
    with pytest.raises(ClientError) as same:
        enable(ddb, table)
    assert error(same) == ("ValidationException", "TimeToLive is already enabled")
    with pytest.raises(ClientError) as other:
        enable(ddb, table, "other")
    assert error(other) == (
        "ValidationException",
        "TimeToLive is active on a different AttributeName: current AttributeName is expires",
    )


def test_disabling_a_table_without_ttl_is_refused(ddb: Any) -> None:
    table = make_table(ddb)
    with pytest.raises(ClientError) as exc:
        ddb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "x"}
        )
    assert error(exc) == ("ValidationException", "TimeToLive is already disabled")


def test_a_second_change_within_an_hour_is_refused_until_the_clock_passes_it(
    server: HeadwaterServer, ddb: Any
) -> None:
    table = make_table(ddb)
    enable(ddb, table)
    disable = {"Enabled": False, "AttributeName": "expires"}
    with pytest.raises(ClientError) as exc:
        ddb.update_time_to_live(TableName=table, TimeToLiveSpecification=disable)
    assert error(exc) == (
        "ValidationException",
        "Time to live has been modified multiple times within a fixed interval",
    )
    server.advance_clock(3601)
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification=disable)
    described = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "DISABLED"}


def test_ttl_of_a_missing_table_is_resource_not_found(ddb: Any) -> None:
    missing = unique("missing")
    with pytest.raises(ClientError) as described:
        ddb.describe_time_to_live(TableName=missing)
    with pytest.raises(ClientError) as updated:
        enable(ddb, missing)
    expected = (
        "ResourceNotFoundException",
        f"Requested resource not found: Table: {missing} not found",
    )
    assert error(described) == expected
    assert error(updated) == expected


def test_the_specification_is_shape_checked(raw_ddb: Any, ddb: Any) -> None:
    table = make_table(ddb)
    with pytest.raises(ClientError) as empty:
        raw_ddb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": ""}
        )
    with pytest.raises(ClientError) as no_enabled:
        raw_ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"AttributeName": "a"})
    with pytest.raises(ClientError) as short_name:
        raw_ddb.describe_time_to_live(TableName="ab")
    assert "'timeToLiveSpecification.attributeName'" in error(empty)[1]
    assert "length greater than or equal to 1" in error(empty)[1]
    assert "Value null at 'timeToLiveSpecification.enabled'" in error(no_enabled)[1]
    assert error(short_name) == (
        "ValidationException",
        "TableName must be at least 3 characters long and at most 255 characters long",
    )


def test_a_recreated_table_does_not_inherit_the_old_setting(ddb: Any) -> None:
    table = make_table(ddb)
    enable(ddb, table)
    ddb.delete_table(TableName=table)
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    described = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "DISABLED"}


def test_the_setting_survives_a_restart(tmp_path: Path) -> None:
    with HeadwaterServer(data_dir=tmp_path) as first:
        ddb = first.client("dynamodb")
        table = make_table(ddb)
        enable(ddb, table)
    with HeadwaterServer(data_dir=tmp_path) as second:
        described = second.client("dynamodb").describe_time_to_live(TableName=table)
    assert described["TimeToLiveDescription"]["AttributeName"] == "expires"


# -- the reaper ----------------------------------------------------------------------------


def test_an_expired_item_is_deleted_with_a_service_remove_record(
    server: HeadwaterServer, ddb: Any, streams: Any
) -> None:
    table, stream_arn = create_stream_table(ddb)
    enable(ddb, table)
    now = server_now(server)
    put(ddb, table, "expired", expires={"N": str(int(now) - 10)})
    put(ddb, table, "forever")
    server.advance_clock(1)
    wait_until(lambda: not exists(ddb, table, "expired"))
    assert exists(ddb, table, "forever")
    records = raw_records(server, streams, stream_arn)
    removes = [r for r in records if r["eventName"] == "REMOVE"]
    inserts = [r for r in records if r["eventName"] == "INSERT"]
    assert len(removes) == 1 and len(inserts) == 2
    assert removes[0]["dynamodb"]["Keys"] == {"pk": {"S": "expired"}}
    assert removes[0]["dynamodb"]["OldImage"]["expires"] == {"N": str(int(now) - 10)}
    assert removes[0]["userIdentity"] == SERVICE
    assert all("userIdentity" not in r for r in inserts)


def test_an_item_stays_until_the_clock_passes_its_expiry(server: HeadwaterServer, ddb: Any) -> None:
    table = make_table(ddb)
    enable(ddb, table)
    now = server_now(server)
    put(ddb, table, "soon", expires={"N": str(int(now) + 30)})
    put(ddb, table, "later", expires={"N": str(int(now) + 7200)})
    assert exists(ddb, table, "soon")
    server.advance_clock(60)
    wait_until(lambda: not exists(ddb, table, "soon"))
    assert exists(ddb, table, "later")  # the sweep that took "soon" looked at it too
    server.advance_clock(7200)
    wait_until(lambda: not exists(ddb, table, "later"))


def test_non_numbers_and_expiries_over_five_years_old_are_ignored(
    server: HeadwaterServer, ddb: Any
) -> None:
    table = make_table(ddb)
    enable(ddb, table)
    past = int(server_now(server)) - 100
    put(ddb, table, "marker", expires={"N": str(past)})
    put(ddb, table, "string", expires={"S": str(past)})
    put(ddb, table, "set", expires={"NS": [str(past)]})
    put(ddb, table, "ancient", expires={"N": str(past - FIVE_YEARS - 86400)})
    put(ddb, table, "other-attribute", other={"N": str(past)})
    server.advance_clock(1)
    wait_until(lambda: not exists(ddb, table, "marker"))
    for pk in ("string", "set", "ancient", "other-attribute"):
        assert exists(ddb, table, pk), pk


def test_items_of_a_table_without_ttl_are_not_deleted(server: HeadwaterServer, ddb: Any) -> None:
    with_ttl, without = make_table(ddb), make_table(ddb)
    enable(ddb, with_ttl)
    past = {"N": str(int(server_now(server)) - 100)}
    put(ddb, with_ttl, "marker", expires=past)
    put(ddb, without, "kept", expires=past)
    server.advance_clock(1)
    wait_until(lambda: not exists(ddb, with_ttl, "marker"))
    assert exists(ddb, without, "kept")


@pytest.fixture
def timerless() -> Iterator[HeadwaterServer]:
    """A server whose reaper sweeps only when its clock is advanced."""
    with HeadwaterServer(extra_args=["--ttl-sweep-seconds", "0"]) as running:
        yield running


def test_an_expired_item_is_readable_until_a_sweep_deletes_it(timerless: HeadwaterServer) -> None:
    ddb = timerless.client("dynamodb")
    table = make_table(ddb)
    enable(ddb, table)
    past = {"N": str(int(server_now(timerless)) - 100)}
    put(ddb, table, "expired", expires=past, note={"S": "v1"})
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "expired"}},
        UpdateExpression="SET note = :n",
        ExpressionAttributeValues={":n": {"S": "v2"}},
    )
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "expired"}})["Item"]
    assert item["note"] == {"S": "v2"}
    queried = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "expired"}},
    )
    assert queried["Count"] == 1
    assert ddb.scan(TableName=table)["Items"] == [item]
    timerless.advance_clock(1)
    wait_until(lambda: not exists(ddb, table, "expired"))
