"""Item operations through real boto3: put, get, delete, update, conditions, return values."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import unique


@pytest.fixture
def table(ddb: Any) -> str:
    name = unique("items")
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _key(pk: str = "a", sk: str = "1") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": sk}}


def test_put_then_get_returns_the_item(ddb: Any, table: str) -> None:
    item = {
        **_key(),
        "name": {"S": "x"},
        "n": {"N": "1.50"},
        "b": {"B": b"\x00\x01"},
        "m": {"M": {"l": {"L": [{"BOOL": True}, {"NULL": True}]}}},
        "ss": {"SS": ["a", "b"]},
    }
    ddb.put_item(TableName=table, Item=item)
    got = ddb.get_item(TableName=table, Key=_key())["Item"]
    assert got["name"] == {"S": "x"}
    assert got["n"] == {"N": "1.5"}  # numbers come back normalised, as on AWS
    assert got["b"] == {"B": b"\x00\x01"}
    assert got["m"]["M"]["l"]["L"] == [{"BOOL": True}, {"NULL": True}]
    assert sorted(got["ss"]["SS"]) == ["a", "b"]


def test_get_missing_item_has_no_item_member(ddb: Any, table: str) -> None:
    assert "Item" not in ddb.get_item(TableName=table, Key=_key("nothing"))


def test_get_with_projection(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**_key(), "a": {"S": "1"}, "b": {"S": "2"}})
    got = ddb.get_item(
        TableName=table, Key=_key(), ProjectionExpression="#a", ExpressionAttributeNames={"#a": "a"}
    )["Item"]
    assert got == {"a": {"S": "1"}}


def test_put_return_values_all_old(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**_key(), "v": {"N": "1"}})
    out = ddb.put_item(TableName=table, Item={**_key(), "v": {"N": "2"}}, ReturnValues="ALL_OLD")
    assert out["Attributes"]["v"] == {"N": "1"}


def test_condition_attribute_not_exists_blocks_overwrite(ddb: Any, table: str) -> None:
    ddb.put_item(
        TableName=table,
        Item={**_key(), "v": {"N": "1"}},
        ConditionExpression="attribute_not_exists(pk)",
    )
    with pytest.raises(ClientError) as err:
        ddb.put_item(
            TableName=table,
            Item={**_key(), "v": {"N": "2"}},
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    error = err.value.response
    assert error["Error"]["Code"] == "ConditionalCheckFailedException"
    assert error["Error"]["Message"] == "The conditional request failed"
    assert error["Item"]["v"] == {"N": "1"}
    assert ddb.get_item(TableName=table, Key=_key())["Item"]["v"] == {"N": "1"}


def test_condition_with_comparisons_and_logic(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**_key(), "v": {"N": "5"}, "s": {"S": "on"}})
    ddb.delete_item(
        TableName=table,
        Key=_key(),
        ConditionExpression="(v > :low AND v <= :high) OR NOT attribute_exists(#s)",
        ExpressionAttributeNames={"#s": "s"},
        ExpressionAttributeValues={":low": {"N": "4"}, ":high": {"N": "5"}},
    )
    assert "Item" not in ddb.get_item(TableName=table, Key=_key())


def test_update_set_and_remove(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**_key(), "count": {"N": "1"}, "gone": {"S": "x"}})
    out = ddb.update_item(
        TableName=table,
        Key=_key(),
        UpdateExpression="SET #c = #c + :one, tags = :tags REMOVE gone",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":one": {"N": "1"}, ":tags": {"L": [{"S": "t"}]}},
        ReturnValues="ALL_NEW",
    )
    assert out["Attributes"]["count"] == {"N": "2"}
    assert out["Attributes"]["tags"] == {"L": [{"S": "t"}]}
    assert "gone" not in out["Attributes"]


def test_update_creates_missing_item(ddb: Any, table: str) -> None:
    out = ddb.update_item(
        TableName=table,
        Key=_key("new"),
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "x"}},
        ReturnValues="ALL_NEW",
    )
    assert out["Attributes"] == {**_key("new"), "v": {"S": "x"}}


def test_update_return_values_updated_old_and_new(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**_key(), "a": {"N": "1"}, "b": {"N": "1"}})
    old = ddb.update_item(
        TableName=table,
        Key=_key(),
        UpdateExpression="SET a = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
        ReturnValues="UPDATED_OLD",
    )
    assert old["Attributes"] == {"a": {"N": "1"}}
    new = ddb.update_item(
        TableName=table,
        Key=_key(),
        UpdateExpression="SET a = :v",
        ExpressionAttributeValues={":v": {"N": "3"}},
        ReturnValues="UPDATED_NEW",
    )
    assert new["Attributes"] == {"a": {"N": "3"}}


def test_update_of_a_key_attribute_is_rejected(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.update_item(
            TableName=table,
            Key=_key(),
            UpdateExpression="SET pk = :v",
            ExpressionAttributeValues={":v": {"S": "other"}},
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "This attribute is part of the key" in err.value.response["Error"]["Message"]


def test_delete_returns_old_item(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**_key(), "v": {"S": "x"}})
    out = ddb.delete_item(TableName=table, Key=_key(), ReturnValues="ALL_OLD")
    assert out["Attributes"]["v"] == {"S": "x"}
    assert "Attributes" not in ddb.delete_item(TableName=table, Key=_key(), ReturnValues="ALL_OLD")


def test_wrong_key_type_is_a_validation_error(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.get_item(TableName=table, Key={"pk": {"N": "1"}, "sk": {"N": "1"}})
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["Error"]["Message"] == (
        "The provided key element does not match the schema"
    )


def test_missing_key_in_item_is_a_validation_error(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    assert "Missing the key sk in the item" in err.value.response["Error"]["Message"]


def test_item_on_missing_table_is_not_found(ddb: Any) -> None:
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName="missing-table", Item={"pk": {"S": "a"}})
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["Error"]["Message"] == "Requested resource not found"


def test_unused_expression_value_is_rejected(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.put_item(
            TableName=table,
            Item=_key(),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":unused": {"S": "x"}},
        )
    assert err.value.response["Error"]["Message"] == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"
    )


def test_syntax_error_in_condition(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=table, Item=_key(), ConditionExpression="pk = ")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["Error"]["Message"].startswith("Invalid ConditionExpression")


def test_boto3_resource_round_trip(server: Any, table: str) -> None:
    from decimal import Decimal

    import boto3

    resource = boto3.resource(
        "dynamodb",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )
    t = resource.Table(table)
    t.put_item(Item={"pk": "r", "sk": 1, "price": Decimal("25.99"), "tags": {"x", "y"}})
    got = t.get_item(Key={"pk": "r", "sk": 1})["Item"]
    assert got["price"] == Decimal("25.99")
    assert got["tags"] == {"x", "y"}


def test_updated_new_returns_only_the_nested_part_that_changed(ddb: Any, table: str) -> None:
    ddb.put_item(
        TableName=table,
        Item={**_key(), "m": {"M": {"a": {"N": "1"}, "b": {"N": "1"}}}, "c": {"S": "x"}},
    )
    out = ddb.update_item(
        TableName=table,
        Key=_key(),
        UpdateExpression="SET m.a = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
        ReturnValues="UPDATED_NEW",
    )
    assert out["Attributes"] == {"m": {"M": {"a": {"N": "2"}}}}


def test_putting_the_same_item_again_returns_it_as_the_old_item(ddb: Any, table: str) -> None:
    item = {**_key(), "v": {"N": "1.50"}, "s": {"SS": ["b", "a"]}}
    ddb.put_item(TableName=table, Item=item)
    again = ddb.put_item(TableName=table, Item=item, ReturnValues="ALL_OLD")
    assert again["Attributes"]["v"] == {"N": "1.5"}
    assert sorted(again["Attributes"]["s"]["SS"]) == ["a", "b"]


def test_a_condition_is_checked_against_an_identical_item(ddb: Any, table: str) -> None:
    item = {**_key(), "v": {"N": "1"}}
    ddb.put_item(TableName=table, Item=item)
    with pytest.raises(ClientError) as err:
        ddb.put_item(
            TableName=table,
            Item=item,
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert err.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert err.value.response["Item"] == {**_key(), "v": {"N": "1"}}
    ddb.put_item(
        TableName=table,
        Item=item,
        ConditionExpression="v = :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )


def test_get_item_answers_the_stored_item_whole(ddb: Any, table: str) -> None:
    item = {**_key(), "text": {"S": "naïve ✓"}, "l": {"L": [{"N": "10"}, {"NULL": True}]}}
    ddb.put_item(TableName=table, Item=item)
    assert ddb.get_item(TableName=table, Key=_key())["Item"] == item


def test_item_operations_accept_the_tables_arn(ddb: Any, table: str) -> None:
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    key = {"pk": {"S": "by-arn"}, "sk": {"N": "1"}}
    ddb.put_item(TableName=arn, Item={**key, "v": {"S": "a"}})
    assert ddb.get_item(TableName=arn, Key=key)["Item"]["v"] == {"S": "a"}
    ddb.update_item(
        TableName=arn,
        Key=key,
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "b"}},
    )
    assert ddb.get_item(TableName=table, Key=key)["Item"]["v"] == {"S": "b"}
    ddb.delete_item(TableName=arn, Key=key)
    assert "Item" not in ddb.get_item(TableName=table, Key=key)


@pytest.mark.parametrize(
    ("operation", "member", "returns"),
    [
        ("put_item", "Item", "ALL_NEW"),
        ("put_item", "Item", "UPDATED_OLD"),
        ("delete_item", "Key", "UPDATED_NEW"),
    ],
)
def test_put_and_delete_return_only_old_or_none(
    raw_ddb: Any, table: str, operation: str, member: str, returns: str
) -> None:
    with pytest.raises(ClientError) as err:
        getattr(raw_ddb, operation)(TableName=table, **{member: _key()}, ReturnValues=returns)
    assert err.value.response["Error"]["Message"] == "ReturnValues can only be ALL_OLD or NONE"


def test_in_takes_at_most_one_hundred_values(ddb: Any, table: str) -> None:
    values = {f":v{i}": {"N": str(i)} for i in range(101)}
    with pytest.raises(ClientError) as err:
        ddb.put_item(
            TableName=table,
            Item=_key(),
            ConditionExpression=f"attribute_not_exists(v) OR v IN ({', '.join(values)})",
            ExpressionAttributeValues=values,
        )
    assert err.value.response["Error"]["Message"] == (
        "Invalid ConditionExpression: The IN operator is provided with too many operands; "
        "number of operands: 101"
    )
    del values[":v100"]
    ddb.put_item(
        TableName=table,
        Item=_key(),
        ConditionExpression=f"attribute_not_exists(v) OR v IN ({', '.join(values)})",
        ExpressionAttributeValues=values,
    )
