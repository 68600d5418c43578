"""The legacy parameters of the single-item operations through real boto3: Expected (with
ConditionalOperator) on PutItem / DeleteItem / UpdateItem, AttributeUpdates on UpdateItem,
AttributesToGet on GetItem, and the errors that tell them from the expression parameters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import create_table

Item = dict[str, Any]
KEY: Item = {"pk": {"S": "a"}}
INVALID = "One or more parameter values were invalid: "


@pytest.fixture
def table(ddb: Any) -> Iterator[str]:
    name = create_table(ddb)
    ddb.put_item(TableName=name, Item={**KEY, "v": {"N": "1"}, "s": {"S": "x"}})
    yield name
    ddb.delete_table(TableName=name)


def _error(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def _item(ddb: Any, table: str) -> Item:
    return dict(ddb.get_item(TableName=table, Key=KEY, ConsistentRead=True)["Item"])


# -- Expected ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "operator", "passes"),
    [
        ({"v": {"Value": {"N": "1"}}}, None, True),
        ({"v": {"Value": {"N": "2"}}}, None, False),
        ({"v": {"Exists": True, "Value": {"N": "1"}}}, None, True),
        ({"pk": {"Exists": False}}, None, False),
        ({"nope": {"Exists": False}}, None, True),
        ({"v": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "1"}]}}, None, True),
        ({"v": {"ComparisonOperator": "GT", "Value": {"N": "1"}}}, None, False),
        ({"s": {"ComparisonOperator": "BEGINS_WITH", "Value": {"S": "x"}}}, None, True),
        ({"nope": {"ComparisonOperator": "NULL"}}, None, True),
        (
            {"v": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "3"}, {"N": "1"}]}},
            None,
            True,
        ),
        ({"v": {"Value": {"N": "9"}}, "nope": {"ComparisonOperator": "NULL"}}, None, False),
        ({"v": {"Value": {"N": "9"}}, "nope": {"ComparisonOperator": "NULL"}}, "OR", True),
        ({"v": {"Value": {"N": "1"}}, "s": {"Value": {"S": "x"}}}, "AND", True),
    ],
)
def test_expected_guards_a_put(
    ddb: Any, table: str, expected: Item, operator: str | None, passes: bool
) -> None:
    params: Item = {"TableName": table, "Item": {**KEY, "v": {"N": "5"}}, "Expected": expected}
    if operator is not None:
        params["ConditionalOperator"] = operator
    if passes:
        ddb.put_item(**params)
        assert _item(ddb, table)["v"] == {"N": "5"}
    else:
        assert _error(ddb.put_item, **params) == (
            "ConditionalCheckFailedException",
            "The conditional request failed",
        )
        assert _item(ddb, table)["v"] == {"N": "1"}


def test_expected_guards_delete_and_returns_the_item_on_failure(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        ddb.delete_item(
            TableName=table,
            Key=KEY,
            Expected={"v": {"Value": {"N": "2"}}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert caught.value.response["Item"]["v"] == {"N": "1"}
    ddb.delete_item(TableName=table, Key=KEY, Expected={"v": {"Value": {"N": "1"}}})
    assert "Item" not in ddb.get_item(TableName=table, Key=KEY)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "Value must be provided when Exists is null for Attribute: v"),
        ({"Exists": True}, "Value must be provided when Exists is true for Attribute: v"),
        (
            {"Exists": False, "Value": {"N": "1"}},
            "Value cannot be used when Exists is false for Attribute: v",
        ),
        (
            {"ComparisonOperator": "EQ"},
            "Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: v",
        ),
        (
            {"Exists": True, "ComparisonOperator": "EQ", "Value": {"N": "1"}},
            "Exists and ComparisonOperator cannot be used together for Attribute: v",
        ),
        (
            {"ComparisonOperator": "EQ", "Value": {"N": "1"}, "AttributeValueList": [{"N": "1"}]},
            "Value and AttributeValueList cannot be used together for Attribute: v",
        ),
        (
            {"AttributeValueList": [{"N": "1"}]},
            "AttributeValueList can only be used with a ComparisonOperator for Attribute: v",
        ),
        (
            {"ComparisonOperator": "BETWEEN", "Value": {"N": "1"}},
            "Invalid number of argument(s) for the BETWEEN ComparisonOperator",
        ),
        (
            {"ComparisonOperator": "LT", "Value": {"BOOL": True}},
            "ComparisonOperator LT is not valid for BOOL AttributeValue type",
        ),
    ],
)
def test_expected_errors(raw_ddb: Any, table: str, spec: Item, message: str) -> None:
    assert _error(raw_ddb.put_item, TableName=table, Item=KEY, Expected={"v": spec}) == (
        "ValidationException",
        INVALID + message,
    )


@pytest.mark.parametrize(
    ("expected", "message"),
    [
        (None, "ConditionalOperator cannot be used without Filter or Expected"),
        (
            {"v": {"Value": {"N": "1"}}},
            "ConditionalOperator can only be used when Filter or Expected has two or more elements",
        ),
    ],
)
def test_conditional_operator_needs_two_conditions(
    raw_ddb: Any, table: str, expected: Item | None, message: str
) -> None:
    params: Item = {"TableName": table, "Item": KEY, "ConditionalOperator": "OR"}
    if expected is not None:
        params["Expected"] = expected
    assert _error(raw_ddb.put_item, **params) == ("ValidationException", message)
    scan: Item = {"TableName": table, "ConditionalOperator": "OR"}
    assert _error(raw_ddb.scan, **scan) == (
        "ValidationException",
        "ConditionalOperator cannot be used without Filter or Expected",
    )


# -- AttributeUpdates -------------------------------------------------------------------------


def test_attribute_updates_put_add_and_delete(ddb: Any, table: str) -> None:
    out = ddb.update_item(
        TableName=table,
        Key=KEY,
        AttributeUpdates={
            "w": {"Action": "PUT", "Value": {"S": "new"}},
            "v": {"Action": "ADD", "Value": {"N": "4"}},
            "n": {"Action": "ADD", "Value": {"N": "2"}},
            "tags": {"Action": "ADD", "Value": {"SS": ["a", "b"]}},
            "log": {"Action": "ADD", "Value": {"L": [{"S": "first"}]}},
            "s": {"Action": "DELETE"},
        },
        ReturnValues="UPDATED_NEW",
    )
    assert out["Attributes"] == {
        "w": {"S": "new"},
        "v": {"N": "5"},
        "n": {"N": "2"},
        "tags": {"SS": ["a", "b"]},
        "log": {"L": [{"S": "first"}]},
    }
    ddb.update_item(
        TableName=table,
        Key=KEY,
        AttributeUpdates={
            "tags": {"Action": "DELETE", "Value": {"SS": ["a"]}},
            "log": {"Action": "ADD", "Value": {"L": [{"S": "second"}]}},
            "w": {"Value": {"S": "put is the default"}},
        },
    )
    item = _item(ddb, table)
    assert item["tags"] == {"SS": ["b"]}
    assert item["log"] == {"L": [{"S": "first"}, {"S": "second"}]}
    assert item["w"] == {"S": "put is the default"}
    assert "s" not in item


def test_attribute_updates_with_expected_and_upsert(ddb: Any, table: str) -> None:
    updates = {"w": {"Action": "PUT", "Value": {"S": "x"}}}
    with pytest.raises(ClientError) as caught:
        ddb.update_item(
            TableName=table, Key=KEY, AttributeUpdates=updates, Expected={"v": {"Exists": False}}
        )
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    out = ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "new"}},
        AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "7"}}},
        Expected={"n": {"ComparisonOperator": "NULL"}},
        ReturnValues="ALL_NEW",
    )
    assert out["Attributes"] == {"pk": {"S": "new"}, "n": {"N": "7"}}


@pytest.mark.parametrize(
    ("updates", "message"),
    [
        (
            {"w": {"Action": "PUT"}},
            INVALID + "Only DELETE action is allowed when no attribute value is specified",
        ),
        (
            {"w": {"Action": "DELETE", "Value": {"S": "x"}}},
            INVALID + "DELETE action with value is not supported for the type S",
        ),
        (
            {"w": {"Action": "ADD", "Value": {"M": {}}}},
            INVALID + "ADD action is not supported for the type M",
        ),
        (
            {"pk": {"Action": "PUT", "Value": {"S": "b"}}},
            INVALID + "Cannot update attribute pk. This attribute is part of the key",
        ),
        ({"s": {"Action": "ADD", "Value": {"N": "1"}}}, "Type mismatch for attribute to update"),
    ],
)
def test_attribute_updates_errors(raw_ddb: Any, table: str, updates: Item, message: str) -> None:
    assert _error(raw_ddb.update_item, TableName=table, Key=KEY, AttributeUpdates=updates) == (
        "ValidationException",
        message,
    )


# -- mixing, placeholders without expressions -----------------------------------------------

MIXED = "Can not use both expression and non-expression parameters in the same request: "


@pytest.mark.parametrize(
    ("operation", "params", "message"),
    [
        (
            "put_item",
            {"Item": KEY, "Expected": {"v": {"Exists": False}}, "ConditionExpression": "v = v"},
            MIXED + "Non-expression parameters: {Expected} "
            "Expression parameters: {ConditionExpression}",
        ),
        (
            "update_item",
            {
                "Key": KEY,
                "AttributeUpdates": {"w": {"Action": "DELETE"}},
                "Expected": {"v": {"Exists": False}},
                "UpdateExpression": "REMOVE w",
            },
            MIXED + "Non-expression parameters: {AttributeUpdates, Expected} "
            "Expression parameters: {UpdateExpression}",
        ),
        (
            "get_item",
            {"Key": KEY, "AttributesToGet": ["v"], "ProjectionExpression": "v"},
            MIXED + "Non-expression parameters: {AttributesToGet} "
            "Expression parameters: {ProjectionExpression}",
        ),
        (
            "put_item",
            {"Item": KEY, "ExpressionAttributeValues": {":v": {"S": "x"}}},
            "ExpressionAttributeValues can only be specified when using expressions: "
            "ConditionExpression is null",
        ),
        (
            "delete_item",
            {"Key": KEY, "ExpressionAttributeValues": {":v": {"S": "x"}}},
            "ExpressionAttributeValues can only be specified when using expressions: "
            "ConditionExpression is null",
        ),
        (
            "update_item",
            {"Key": KEY, "ExpressionAttributeValues": {":v": {"S": "x"}}},
            "ExpressionAttributeValues can only be specified when using expressions: "
            "UpdateExpression and ConditionExpression are null",
        ),
        (
            "put_item",
            {"Item": KEY, "ExpressionAttributeNames": {"#v": "v"}},
            "ExpressionAttributeNames can only be specified when using expressions",
        ),
        (
            "get_item",
            {"Key": KEY, "ExpressionAttributeNames": {"#v": "v"}},
            "ExpressionAttributeNames can only be specified when using expressions",
        ),
    ],
)
def test_expression_and_legacy_parameter_errors(
    raw_ddb: Any, table: str, operation: str, params: Item, message: str
) -> None:
    call = getattr(raw_ddb, operation)
    assert _error(call, TableName=table, **params) == ("ValidationException", message)


# -- GetItem AttributesToGet ------------------------------------------------------------------


def test_get_item_attributes_to_get(ddb: Any, raw_ddb: Any, table: str) -> None:
    out = ddb.get_item(TableName=table, Key=KEY, AttributesToGet=["s", "missing"])
    assert out["Item"] == {"s": {"S": "x"}}
    assert _error(raw_ddb.get_item, TableName=table, Key=KEY, AttributesToGet=["s", "s"]) == (
        "ValidationException",
        INVALID + "Duplicate value in attribute name: s",
    )
