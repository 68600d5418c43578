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
