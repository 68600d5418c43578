"""Realism mode: tables stay CREATING / UPDATING / DELETING for a while, driven by the clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import HeadwaterServer
from tests.conftest import wait_until

KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}]
ATTRS = [{"AttributeName": "pk", "AttributeType": "S"}]


@pytest.fixture(scope="module")
def slow() -> Iterator[HeadwaterServer]:
    args = ["--table-transition-seconds", "30", "--account-id", "123456789012"]
    with HeadwaterServer(in_memory=True, extra_args=args) as running:
        yield running


def _status(ddb: Any, name: str) -> str:
    return str(ddb.describe_table(TableName=name)["Table"]["TableStatus"])


def test_a_new_table_is_creating_until_the_time_passes(slow: HeadwaterServer) -> None:
    ddb = slow.client("dynamodb")
    out = ddb.create_table(
        TableName="slow-create",
        KeySchema=KEYS,
        AttributeDefinitions=ATTRS,
        BillingMode="PAY_PER_REQUEST",
    )
    assert out["TableDescription"]["TableArn"].startswith(
        "arn:aws:dynamodb:us-east-1:123456789012:"
    )
    assert _status(ddb, "slow-create") == "CREATING"
    assert "slow-create" in ddb.list_tables()["TableNames"]
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName="slow-create", Item={"pk": {"S": "a"}})
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        ddb.delete_table(TableName="slow-create")
    assert err.value.response["Error"]["Code"] == "ResourceInUseException"
    slow.advance_clock(31)
    wait_until(lambda: _status(ddb, "slow-create") == "ACTIVE")
    ddb.put_item(TableName="slow-create", Item={"pk": {"S": "a"}})


def test_update_and_delete_take_time_too(slow: HeadwaterServer) -> None:
    ddb = slow.client("dynamodb")
    ddb.create_table(
        TableName="slow-update",
        KeySchema=KEYS,
        AttributeDefinitions=ATTRS,
        BillingMode="PAY_PER_REQUEST",
    )
    slow.advance_clock(31)
    wait_until(lambda: _status(ddb, "slow-update") == "ACTIVE")
    ddb.update_table(
        TableName="slow-update",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    assert _status(ddb, "slow-update") == "UPDATING"
    ddb.put_item(TableName="slow-update", Item={"pk": {"S": "a"}})  # data ops keep working
    with pytest.raises(ClientError) as err:
        ddb.update_table(TableName="slow-update", DeletionProtectionEnabled=True)
    assert err.value.response["Error"]["Code"] == "ResourceInUseException"
    with pytest.raises(ClientError) as err:  # nor deleted while UPDATING (errors.md DT-06)
        ddb.delete_table(TableName="slow-update")
    assert err.value.response["Error"]["Code"] == "ResourceInUseException"
    assert "Table is being updated: slow-update" in err.value.response["Error"]["Message"]
    slow.advance_clock(31)
    wait_until(lambda: _status(ddb, "slow-update") == "ACTIVE")
    ddb.delete_table(TableName="slow-update")
    assert _status(ddb, "slow-update") == "DELETING"
    slow.advance_clock(31)

    def gone() -> bool:
        try:
            ddb.describe_table(TableName="slow-update")
        except ClientError as error:
            return bool(error.response["Error"]["Code"] == "ResourceNotFoundException")
        return False

    wait_until(gone)
    ddb.get_waiter("table_not_exists").wait(TableName="slow-update", WaiterConfig={"Delay": 1})


def _ttl(ddb: Any, name: str) -> dict[str, Any]:
    return dict(ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"])


def test_ttl_is_enabling_and_disabling_while_the_change_settles(slow: HeadwaterServer) -> None:
    ddb = slow.client("dynamodb")
    ddb.create_table(
        TableName="slow-ttl",
        KeySchema=KEYS,
        AttributeDefinitions=ATTRS,
        BillingMode="PAY_PER_REQUEST",
    )
    slow.advance_clock(31)
    wait_until(lambda: _status(ddb, "slow-ttl") == "ACTIVE")
    assert _ttl(ddb, "slow-ttl") == {"TimeToLiveStatus": "DISABLED"}
    spec = {"Enabled": True, "AttributeName": "expires"}
    ddb.update_time_to_live(TableName="slow-ttl", TimeToLiveSpecification=spec)
    assert _ttl(ddb, "slow-ttl") == {"TimeToLiveStatus": "ENABLING", "AttributeName": "expires"}
    slow.advance_clock(31)
    assert _ttl(ddb, "slow-ttl") == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    slow.advance_clock(3600)  # past the once-an-hour rule
    ddb.update_time_to_live(
        TableName="slow-ttl", TimeToLiveSpecification={**spec, "Enabled": False}
    )
    assert _ttl(ddb, "slow-ttl") == {"TimeToLiveStatus": "DISABLING", "AttributeName": "expires"}
    slow.advance_clock(31)
    assert _ttl(ddb, "slow-ttl") == {"TimeToLiveStatus": "DISABLED"}


# -- global secondary indexes created and deleted through UpdateTable ----------------------------

GSI_X = {
    "IndexName": "by-x",
    "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
    "Projection": {"ProjectionType": "ALL"},
}
X_DEFS = [*ATTRS, {"AttributeName": "x", "AttributeType": "S"}]


def _described(ddb: Any, name: str) -> tuple[str, dict[str, Any] | None]:
    """The table's status and its by-x index, from ONE DescribeTable."""
    table = ddb.describe_table(TableName=name)["Table"]
    found = [i for i in table.get("GlobalSecondaryIndexes", []) if i["IndexName"] == "by-x"]
    return str(table["TableStatus"]), (dict(found[0]) if found else None)


def _code_and_message(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def _active_table(slow: HeadwaterServer, name: str, **extra: Any) -> Any:
    ddb = slow.client("dynamodb")
    ddb.create_table(TableName=name, KeySchema=KEYS, BillingMode="PAY_PER_REQUEST", **extra)
    slow.advance_clock(31)
    wait_until(lambda: _status(ddb, name) == "ACTIVE")
    return ddb


def test_a_new_index_is_creating_while_its_table_is_active_again(slow: HeadwaterServer) -> None:
    ddb = _active_table(slow, "slow-gsi-create", AttributeDefinitions=ATTRS)
    for i in range(4):
        ddb.put_item(TableName="slow-gsi-create", Item={"pk": {"S": f"p{i}"}, "x": {"S": "a"}})
    ddb.update_table(
        TableName="slow-gsi-create",
        AttributeDefinitions=X_DEFS,
        GlobalSecondaryIndexUpdates=[{"Create": GSI_X}],
    )
    # The backfill itself is quick: once its rows are all there, the index still waits for
    # the table's UPDATING window to end.
    wait_until(lambda: (_described(ddb, "slow-gsi-create")[1] or {}).get("ItemCount") == 4)
    status, index = _described(ddb, "slow-gsi-create")
    # The table takes other changes while its index backfills (AWS: throughput can change,
    # and the backfilling index can be deleted), so it is ACTIVE meanwhile.
    assert status == "ACTIVE"
    assert index is not None
    assert (index["IndexStatus"], index["Backfilling"]) == ("CREATING", True)
    backfilling = "Cannot read from backfilling global secondary index: by-x"
    query = {
        "TableName": "slow-gsi-create",
        "IndexName": "by-x",
        "KeyConditionExpression": "x = :x",
        "ExpressionAttributeValues": {":x": {"S": "a"}},
    }
    assert _code_and_message(ddb.query, **query) == ("ValidationException", backfilling)
    assert _code_and_message(ddb.scan, TableName="slow-gsi-create", IndexName="by-x") == (
        "ValidationException",
        backfilling,
    )
    # Writes during the window keep the new index up to date.
    ddb.put_item(TableName="slow-gsi-create", Item={"pk": {"S": "late"}, "x": {"S": "a"}})
    slow.advance_clock(31)
    status, index = wait_until(
        lambda: (
            (seen := _described(ddb, "slow-gsi-create"))[1]
            and seen[1]["IndexStatus"] != "CREATING"
            and seen
        )
    )
    assert status == "ACTIVE"
    assert index["IndexStatus"] == "ACTIVE" and "Backfilling" not in index
    assert ddb.query(**query)["Count"] == 5


def test_a_deleted_index_stays_deleting_until_the_table_update_settles(
    slow: HeadwaterServer,
) -> None:
    ddb = _active_table(
        slow,
        "slow-gsi-delete",
        AttributeDefinitions=X_DEFS,
        GlobalSecondaryIndexes=[GSI_X],
    )
    ddb.put_item(TableName="slow-gsi-delete", Item={"pk": {"S": "p"}, "x": {"S": "a"}})
    answer = ddb.update_table(
        TableName="slow-gsi-delete", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-x"}}]
    )["TableDescription"]
    assert answer["GlobalSecondaryIndexes"][0]["IndexStatus"] == "DELETING"
    # Once its rows are dropped the index is still listed, DELETING, while the table updates.
    wait_until(
        lambda: (found := _described(ddb, "slow-gsi-delete")[1]) is None or found["ItemCount"] == 0
    )
    status, index = _described(ddb, "slow-gsi-delete")
    assert status == "UPDATING"
    assert index is not None and index["IndexStatus"] == "DELETING"
    assert "Backfilling" not in index
    assert _code_and_message(ddb.scan, TableName="slow-gsi-delete", IndexName="by-x") == (
        "ValidationException",
        "The table does not have the specified index: by-x",
    )
    slow.advance_clock(31)
    status, index = wait_until(
        lambda: (seen := _described(ddb, "slow-gsi-delete"))[1] is None and seen
    )
    assert status == "ACTIVE" and index is None


def test_an_index_can_be_deleted_while_it_backfills(slow: HeadwaterServer) -> None:
    ddb = _active_table(slow, "slow-gsi-abandon", AttributeDefinitions=ATTRS)
    ddb.put_item(TableName="slow-gsi-abandon", Item={"pk": {"S": "p"}, "x": {"S": "a"}})
    ddb.update_table(
        TableName="slow-gsi-abandon",
        AttributeDefinitions=X_DEFS,
        GlobalSecondaryIndexUpdates=[{"Create": GSI_X}],
    )
    wait_until(lambda: (_described(ddb, "slow-gsi-abandon")[1] or {}).get("ItemCount") == 1)
    # Another index may not start meanwhile...
    other = {**GSI_X, "IndexName": "by-x-2"}
    code, _message = _code_and_message(
        ddb.update_table,
        TableName="slow-gsi-abandon",
        AttributeDefinitions=X_DEFS,
        GlobalSecondaryIndexUpdates=[{"Create": other}],
    )
    assert code == "LimitExceededException"
    # ...but the backfilling one may be deleted (GlobalSecondaryIndexDescription.Backfilling).
    answer = ddb.update_table(
        TableName="slow-gsi-abandon",
        GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-x"}}],
    )["TableDescription"]
    assert answer["GlobalSecondaryIndexes"][0]["IndexStatus"] == "DELETING"
    status, index = _described(ddb, "slow-gsi-abandon")
    assert status == "UPDATING" and index is not None and index["IndexStatus"] == "DELETING"
    slow.advance_clock(31)
    status, index = wait_until(
        lambda: (seen := _described(ddb, "slow-gsi-abandon"))[1] is None and seen
    )
    assert status == "ACTIVE" and index is None
