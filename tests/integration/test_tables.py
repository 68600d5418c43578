"""Table control plane through real boto3: create, describe, list, update streams, delete."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import HeadwaterServer
from tests.conftest import unique

KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}]
ATTRS = [{"AttributeName": "pk", "AttributeType": "S"}]


def _create(ddb: Any, **extra: Any) -> str:
    name = unique("t")
    ddb.create_table(
        TableName=name,
        KeySchema=KEYS,
        AttributeDefinitions=ATTRS,
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return name


def test_create_table_returns_the_description(ddb: Any) -> None:
    name = unique("t")
    out = ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
    )["TableDescription"]
    assert out["TableName"] == name
    assert out["TableStatus"] == "CREATING"
    assert out["KeySchema"][1] == {"AttributeName": "sk", "KeyType": "RANGE"}
    assert out["ProvisionedThroughput"]["WriteCapacityUnits"] == 7
    assert out["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}"
    assert "LatestStreamArn" not in out


def test_table_is_active_when_described(ddb: Any) -> None:
    name = _create(ddb)
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["ItemCount"] == 0


def test_create_table_with_stream_sets_latest_stream(ddb: Any) -> None:
    name = _create(ddb, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    label = table["LatestStreamLabel"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", label)
    assert table["LatestStreamArn"] == f"{table['TableArn']}/stream/{label}"


def test_list_tables_pages(ddb: Any) -> None:
    names = sorted(_create(ddb) for _ in range(3))
    first = ddb.list_tables(Limit=1)
    assert len(first["TableNames"]) == 1
    assert first["LastEvaluatedTableName"] == first["TableNames"][0]
    paginated = [
        n
        for page in ddb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 2})
        for n in page["TableNames"]
    ]
    assert set(names) <= set(paginated)
    assert paginated == sorted(paginated)
    assert len(paginated) == len(set(paginated))


def test_duplicate_table_is_resource_in_use(ddb: Any) -> None:
    name = _create(ddb)
    with pytest.raises(ClientError) as err:
        ddb.create_table(
            TableName=name,
            KeySchema=KEYS,
            AttributeDefinitions=ATTRS,
            BillingMode="PAY_PER_REQUEST",
        )
    assert err.value.response["Error"]["Code"] == "ResourceInUseException"
    assert err.value.response["Error"]["Message"] == f"Table already exists: {name}"


def test_describe_missing_table_is_not_found(ddb: Any) -> None:
    with pytest.raises(ClientError) as err:
        ddb.describe_table(TableName="no-such-table")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["Error"]["Message"] == (
        "Requested resource not found: Table: no-such-table not found"
    )


def test_provisioned_table_needs_throughput(ddb: Any) -> None:
    with pytest.raises(ClientError) as err:
        ddb.create_table(TableName=unique("t"), KeySchema=KEYS, AttributeDefinitions=ATTRS)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "ReadCapacityUnits and WriteCapacityUnits must both be specified" in str(err.value)


def test_key_attribute_needs_a_definition(ddb: Any) -> None:
    with pytest.raises(ClientError) as err:
        ddb.create_table(
            TableName=unique("t"),
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "b", "AttributeType": "S"}],
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "Some index key attributes are not defined in AttributeDefinitions" in str(err.value)


def test_update_table_enables_and_disables_the_stream(ddb: Any) -> None:
    name = _create(ddb)
    out = ddb.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    )["TableDescription"]
    first_arn = out["LatestStreamArn"]
    assert out["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    with pytest.raises(ClientError) as err:
        ddb.update_table(
            TableName=name,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    table = ddb.describe_table(TableName=name)["Table"]
    assert "StreamSpecification" not in table
    assert table["LatestStreamArn"] == first_arn
    out = ddb.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )["TableDescription"]
    assert out["LatestStreamArn"] != first_arn


def test_delete_table_removes_it(ddb: Any) -> None:
    name = _create(ddb)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    out = ddb.delete_table(TableName=name)["TableDescription"]
    assert out["TableStatus"] == "DELETING"
    assert name not in ddb.list_tables()["TableNames"]
    with pytest.raises(ClientError) as err:
        ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_bad_table_name_gets_the_shape_error(raw_ddb: Any) -> None:
    with pytest.raises(ClientError) as err:
        raw_ddb.describe_table(TableName="ab")
    assert err.value.response["Error"]["Message"] == (
        "TableName must be at least 3 characters long and at most 255 characters long"
    )
    with pytest.raises(ClientError) as err:
        raw_ddb.put_item(TableName="bad name!", Item={"pk": {"S": "x"}})
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "regular expression pattern: [a-zA-Z0-9_.-]+" in str(err.value)


def test_deletion_protection_blocks_delete_until_turned_off(ddb: Any) -> None:
    name = _create(ddb, DeletionProtectionEnabled=True)
    assert ddb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is True
    with pytest.raises(ClientError) as err:
        ddb.delete_table(TableName=name)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "protected against deletion" in err.value.response["Error"]["Message"]
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
    ddb.delete_table(TableName=name)
    assert name not in ddb.list_tables()["TableNames"]


def test_update_table_switches_billing_mode(ddb: Any) -> None:
    name = _create(ddb)
    out = ddb.update_table(
        TableName=name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
    )["TableDescription"]
    assert out["TableStatus"] == "UPDATING"
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert "BillingModeSummary" not in table
    with pytest.raises(ClientError) as err:
        ddb.update_table(
            TableName=name,
            ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
        )
    assert "The provisioned throughput for the table will not change" in str(err.value)


def test_switch_to_on_demand_is_dated_when_it_happens(ddb: Any) -> None:
    name = unique("t")
    ddb.create_table(
        TableName=name,
        KeySchema=KEYS,
        AttributeDefinitions=ATTRS,
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    created = ddb.describe_table(TableName=name)["Table"]["CreationDateTime"]
    time.sleep(0.05)
    ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    summary = ddb.describe_table(TableName=name)["Table"]["BillingModeSummary"]
    assert summary["BillingMode"] == "PAY_PER_REQUEST"
    assert summary["LastUpdateToPayPerRequestDateTime"] > created
    ddb.delete_table(TableName=name)


def _throughput(ddb: Any, name: str, index: str | None = None) -> dict[str, Any]:
    table = ddb.describe_table(TableName=name)["Table"]
    if index is None:
        return dict(table["ProvisionedThroughput"])
    found = [i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == index]
    return dict(found[0]["ProvisionedThroughput"])


def _set_throughput(ddb: Any, name: str, read: int, write: int) -> None:
    ddb.update_table(
        TableName=name,
        ProvisionedThroughput={"ReadCapacityUnits": read, "WriteCapacityUnits": write},
    )


def test_throughput_changes_are_dated_and_decreases_counted_per_utc_day() -> None:
    # Its own server: the test moves the clock a day on, past the shared streams' retention.
    with HeadwaterServer(in_memory=True) as running:
        ddb = running.client("dynamodb")
        name = unique("t")
        ddb.create_table(
            TableName=name,
            KeySchema=KEYS,
            AttributeDefinitions=ATTRS,
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        )
        fresh = _throughput(ddb, name)
        assert "LastIncreaseDateTime" not in fresh and "LastDecreaseDateTime" not in fresh
        _set_throughput(ddb, name, 10, 5)
        raised = _throughput(ddb, name)
        assert "LastDecreaseDateTime" not in raised
        assert raised["NumberOfDecreasesToday"] == 0
        assert (
            raised["LastIncreaseDateTime"]
            >= ddb.describe_table(TableName=name)["Table"]["CreationDateTime"]
        )
        _set_throughput(ddb, name, 4, 5)
        _set_throughput(ddb, name, 4, 3)
        lowered = _throughput(ddb, name)
        assert lowered["NumberOfDecreasesToday"] == 2
        assert lowered["LastIncreaseDateTime"] == raised["LastIncreaseDateTime"]
        assert lowered["LastDecreaseDateTime"] >= raised["LastIncreaseDateTime"]
        running.advance_clock(86400)
        next_day = _throughput(ddb, name)
        assert next_day["NumberOfDecreasesToday"] == 0
        assert next_day["LastDecreaseDateTime"] == lowered["LastDecreaseDateTime"]
        _set_throughput(ddb, name, 8, 2)  # one up, one down: both
        both = _throughput(ddb, name)
        assert both["NumberOfDecreasesToday"] == 1
        assert both["LastIncreaseDateTime"] == both["LastDecreaseDateTime"]
        assert both["LastIncreaseDateTime"] > lowered["LastDecreaseDateTime"]


def test_a_global_index_keeps_its_own_throughput_history(ddb: Any) -> None:
    name = unique("t")
    ddb.create_table(
        TableName=name,
        KeySchema=KEYS,
        AttributeDefinitions=[*ATTRS, {"AttributeName": "g", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            }
        ],
    )
    ddb.update_table(
        TableName=name,
        GlobalSecondaryIndexUpdates=[
            {
                "Update": {
                    "IndexName": "by-g",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 5},
                }
            }
        ],
    )
    index = _throughput(ddb, name, "by-g")
    assert index["NumberOfDecreasesToday"] == 1 and "LastDecreaseDateTime" in index
    assert "LastIncreaseDateTime" not in index
    table = _throughput(ddb, name)
    assert table["NumberOfDecreasesToday"] == 0 and "LastDecreaseDateTime" not in table


def test_switching_billing_mode_is_not_a_throughput_change(ddb: Any) -> None:
    name = _create(ddb)
    ddb.update_table(
        TableName=name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
    )
    out = _throughput(ddb, name)
    assert out == {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 3, "WriteCapacityUnits": 4}
