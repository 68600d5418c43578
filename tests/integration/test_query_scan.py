"""Query and Scan through real boto3 against the real server: results, paging, errors."""

from __future__ import annotations

import base64
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from tests.conftest import unique

Item = dict[str, Any]


def _create(ddb: Any, range_type: str | None = "N", hash_type: str = "S") -> str:
    name = unique("qs")
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": hash_type}]
    if range_type is not None:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "sk", "AttributeType": range_type})
    ddb.create_table(
        TableName=name, KeySchema=keys, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST"
    )
    return name


def _put(ddb: Any, table: str, *items: Item) -> None:
    for item in items:
        ddb.put_item(TableName=table, Item=item)


def _item(pk: str, sk: str, **extra: Any) -> Item:
    return {"pk": {"S": pk}, "sk": {"N": sk}, **extra}


def _error(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def _query(client: Any, table: str, expression: str, values: Item, **extra: Any) -> Any:
    return client.query(
        TableName=table,
        KeyConditionExpression=expression,
        ExpressionAttributeValues=values,
        **extra,
    )


@pytest.fixture(scope="module")
def numbers(ddb: Any) -> str:
    """(Read-only) pk "a" holds sort keys from -10.5 to 99.1, pk "b" a few more."""
    table = _create(ddb)
    sort_keys = ["-10.5", "-1", "-0.01", "0", "0.5", "1", "1.1", "2", "10", "99.1"]
    _put(ddb, table, *(_item("a", sk, v={"N": str(i)}) for i, sk in enumerate(sort_keys)))
    _put(ddb, table, _item("b", "1"), _item("b", "2"))
    return table


def _sks(response: Any) -> list[str]:
    return [item["sk"]["N"] for item in response["Items"]]


A = {":p": {"S": "a"}}


# -- Query results ---------------------------------------------------------------------------


def test_query_returns_the_partition_in_numeric_order(ddb: Any, numbers: str) -> None:
    out = _query(ddb, numbers, "pk = :p", A)
    assert _sks(out) == ["-10.5", "-1", "-0.01", "0", "0.5", "1", "1.1", "2", "10", "99.1"]
    assert out["Count"] == out["ScannedCount"] == 10
    assert "LastEvaluatedKey" not in out


def test_query_descending(ddb: Any, numbers: str) -> None:
    out = _query(ddb, numbers, "pk = :p", A, ScanIndexForward=False)
    assert _sks(out) == ["99.1", "10", "2", "1.1", "1", "0.5", "0", "-0.01", "-1", "-10.5"]


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ("sk = :v", {":v": {"N": "1.10"}}, ["1.1"]),
        ("sk < :v", {":v": {"N": "0"}}, ["-10.5", "-1", "-0.01"]),
        ("sk <= :v", {":v": {"N": "0"}}, ["-10.5", "-1", "-0.01", "0"]),
        ("sk > :v", {":v": {"N": "2"}}, ["10", "99.1"]),
        ("sk >= :v", {":v": {"N": "2"}}, ["2", "10", "99.1"]),
        ("sk BETWEEN :lo AND :hi", {":lo": {"N": "-1"}, ":hi": {"N": "1"}}, None),
        (":v < sk", {":v": {"N": "10"}}, ["99.1"]),
    ],
)
def test_sort_key_comparisons(
    ddb: Any, numbers: str, condition: str, values: Item, expected: list[str] | None
) -> None:
    out = _query(ddb, numbers, f"pk = :p AND {condition}", {**A, **values})
    assert _sks(out) == (expected or ["-1", "-0.01", "0", "0.5", "1"])


def test_begins_with_on_multibyte_strings(ddb: Any) -> None:
    table = _create(ddb, "S")
    keys = ["é", "éa", "éé", "é\U0001f600", "e", "ê", "f", "\U0001f600é"]
    _put(ddb, table, *({"pk": {"S": "p"}, "sk": {"S": k}} for k in keys))
    out = _query(
        ddb, table, "pk = :p AND begins_with(sk, :pre)", {":p": {"S": "p"}, ":pre": {"S": "é"}}
    )
    assert [item["sk"]["S"] for item in out["Items"]] == ["é", "éa", "éé", "é\U0001f600"]
    emoji = _query(
        ddb, table, "pk = :p AND begins_with(sk, :pre)", {":p": {"S": "p"}, ":pre": {"S": "😀"}}
    )
    assert [item["sk"]["S"] for item in emoji["Items"]] == ["\U0001f600é"]


def test_begins_with_on_binary_including_ff_bytes(ddb: Any) -> None:
    table = _create(ddb, "B")
    keys = [b"\x01", b"\x01\xff", b"\x01\xff\x00", b"\x01\xff\xff", b"\x02", b"\xff", b"\xff\x01"]
    _put(ddb, table, *({"pk": {"S": "p"}, "sk": {"B": k}} for k in keys))

    def starting(prefix: bytes) -> list[bytes]:
        out = _query(
            ddb,
            table,
            "pk = :p AND begins_with(sk, :pre)",
            {":p": {"S": "p"}, ":pre": {"B": prefix}},
        )
        return [item["sk"]["B"] for item in out["Items"]]

    assert starting(b"\x01\xff") == [b"\x01\xff", b"\x01\xff\x00", b"\x01\xff\xff"]
    assert starting(b"\xff") == [b"\xff", b"\xff\x01"]


def test_binary_sort_keys_order_as_unsigned_bytes(ddb: Any) -> None:
    table = _create(ddb, "B")
    keys = [b"\x80", b"\x00", b"\x7f", b"\xff", b"\x00\x00"]
    _put(ddb, table, *({"pk": {"S": "p"}, "sk": {"B": k}} for k in keys))
    out = _query(ddb, table, "pk = :p", {":p": {"S": "p"}})
    assert [item["sk"]["B"] for item in out["Items"]] == sorted(keys)


def test_hash_only_table_returns_its_one_item(ddb: Any) -> None:
    table = _create(ddb, None, hash_type="N")
    _put(ddb, table, {"pk": {"N": "1"}, "v": {"S": "one"}}, {"pk": {"N": "2"}})
    out = _query(ddb, table, "pk = :p", {":p": {"N": "1.0"}})
    assert out["Items"] == [{"pk": {"N": "1"}, "v": {"S": "one"}}]


def test_empty_partition_has_count_zero(ddb: Any, numbers: str) -> None:
    out = _query(ddb, numbers, "pk = :p", {":p": {"S": "nothing"}})
    assert (out["Items"], out["Count"], out["ScannedCount"]) == ([], 0, 0)


def test_filter_reduces_count_but_not_scanned_count(ddb: Any, numbers: str) -> None:
    out = _query(ddb, numbers, "pk = :p", {**A, ":min": {"N": "7"}}, FilterExpression="v >= :min")
    assert _sks(out) == ["2", "10", "99.1"]
    assert (out["Count"], out["ScannedCount"]) == (3, 10)


def test_limit_counts_items_before_the_filter(ddb: Any, numbers: str) -> None:
    out = _query(
        ddb, numbers, "pk = :p", {**A, ":min": {"N": "3"}}, FilterExpression="v >= :min", Limit=5
    )
    assert _sks(out) == ["0", "0.5"]
    assert (out["Count"], out["ScannedCount"]) == (2, 5)
    assert out["LastEvaluatedKey"] == {"pk": {"S": "a"}, "sk": {"N": "0.5"}}


def test_limit_and_exclusive_start_key_page_through_both_directions(ddb: Any, numbers: str) -> None:
    for forward in (True, False):
        seen: list[str] = []
        start: Item | None = None
        while True:
            extra: Item = {"Limit": 3, "ScanIndexForward": forward}
            if start is not None:
                extra["ExclusiveStartKey"] = start
            out = _query(ddb, numbers, "pk = :p AND sk > :v", {**A, ":v": {"N": "-1"}}, **extra)
            seen += _sks(out)
            start = out.get("LastEvaluatedKey")
            if start is None:
                break
        expected = ["-0.01", "0", "0.5", "1", "1.1", "2", "10", "99.1"]
        assert seen == (expected if forward else expected[::-1])


def test_query_paginator_collects_every_item(ddb: Any, numbers: str) -> None:
    pages = list(
        ddb.get_paginator("query").paginate(
            TableName=numbers,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues=A,
            PaginationConfig={"PageSize": 4},
        )
    )
    assert len(pages) == 3
    assert [sk for page in pages for sk in _sks(page)][:3] == ["-10.5", "-1", "-0.01"]
    assert sum(page["Count"] for page in pages) == 10


def test_select_count_returns_no_items(ddb: Any, numbers: str) -> None:
    out = _query(ddb, numbers, "pk = :p", A, Select="COUNT", Limit=4)
    assert "Items" not in out
    assert (out["Count"], out["ScannedCount"]) == (4, 4)
    assert out["LastEvaluatedKey"] == {"pk": {"S": "a"}, "sk": {"N": "0"}}


def test_projection_and_specific_attributes(ddb: Any, numbers: str) -> None:
    out = _query(
        ddb,
        numbers,
        "pk = :p AND sk = :v",
        {**A, ":v": {"N": "2"}},
        ProjectionExpression="#v",
        ExpressionAttributeNames={"#v": "v"},
        Select="SPECIFIC_ATTRIBUTES",
    )
    assert out["Items"] == [{"v": {"N": "7"}}]


def test_resource_api_key_and_attr_conditions(server: Any, numbers: str) -> None:
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )
    table = resource.Table(numbers)
    out = table.query(
        KeyConditionExpression=Key("pk").eq("a") & Key("sk").between(Decimal("-1"), Decimal("2")),
        FilterExpression=Attr("v").gt(4),
    )
    assert [item["sk"] for item in out["Items"]] == [Decimal("1"), Decimal("1.1"), Decimal("2")]
    assert out["ScannedCount"] == 7
    prefixed = table.query(KeyConditionExpression=Key("pk").eq("b") & Key("sk").lt(2))
    assert prefixed["Items"] == [{"pk": "b", "sk": Decimal("1")}]


def test_consumed_capacity_rounds_the_total_read(ddb: Any) -> None:
    table = _create(ddb)
    _put(ddb, table, *(_item("a", str(i), pad={"S": "x" * 2000}) for i in range(3)))
    total = _query(ddb, table, "pk = :p", A, ReturnConsumedCapacity="TOTAL")
    assert total["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 1.0}
    strong = _query(ddb, table, "pk = :p", A, ReturnConsumedCapacity="INDEXES", ConsistentRead=True)
    assert strong["ConsumedCapacity"] == {
        "TableName": table,
        "CapacityUnits": 2.0,
        "Table": {"CapacityUnits": 2.0},
    }
    assert "ConsumedCapacity" not in _query(ddb, table, "pk = :p", A, ReturnConsumedCapacity="NONE")
    empty = _query(ddb, table, "pk = :p", {":p": {"S": "z"}}, ReturnConsumedCapacity="TOTAL")
    assert empty["ConsumedCapacity"]["CapacityUnits"] == 0.5


def test_query_page_stops_at_one_megabyte(ddb: Any) -> None:
    table = _create(ddb)
    _put(ddb, table, *(_item("a", str(i), pad={"S": "x" * 350_000}) for i in range(4)))
    first = _query(ddb, table, "pk = :p", A, ProjectionExpression="sk")
    assert first["Items"] == [{"sk": {"N": "0"}}, {"sk": {"N": "1"}}]
    assert first["LastEvaluatedKey"] == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    rest = _query(
        ddb,
        table,
        "pk = :p",
        A,
        ProjectionExpression="sk",
        ExclusiveStartKey=first["LastEvaluatedKey"],
    )
    assert rest["Items"] == [{"sk": {"N": "2"}}, {"sk": {"N": "3"}}]
    assert "LastEvaluatedKey" not in rest


def test_a_page_stops_at_one_megabyte_read_even_when_the_filter_keeps_nothing(ddb: Any) -> None:
    table = _create(ddb)
    _put(ddb, table, *(_item("a", str(i), pad={"S": "x" * 350_000}) for i in range(4)))
    values = {**A, ":n": {"S": "never"}}
    first = _query(ddb, table, "pk = :p", values, FilterExpression="note = :n")
    assert (first["Count"], first["ScannedCount"]) == (0, 2)
    assert first["LastEvaluatedKey"] == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    scanned = ddb.scan(
        TableName=table,
        FilterExpression="note = :n",
        ExpressionAttributeValues={":n": values[":n"]},
    )
    assert (scanned["Count"], scanned["ScannedCount"]) == (0, 2)
    assert "LastEvaluatedKey" in scanned


def test_table_arn_names_the_table(ddb: Any, numbers: str) -> None:
    arn = ddb.describe_table(TableName=numbers)["Table"]["TableArn"]
    assert _query(ddb, arn, "pk = :p", {":p": {"S": "b"}})["Count"] == 2


# -- legacy parameters ------------------------------------------------------------------------


def test_legacy_key_conditions_filter_and_attributes_to_get(ddb: Any, numbers: str) -> None:
    out = ddb.query(
        TableName=numbers,
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]},
            "sk": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "1"}]},
        },
        QueryFilter={
            "v": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "5"}, {"N": "9"}]},
            "missing": {"ComparisonOperator": "NULL"},
        },
        AttributesToGet=["sk"],
    )
    assert out["Items"] == [{"sk": {"N": "1"}}, {"sk": {"N": "99.1"}}]
    assert out["ScannedCount"] == 5


def test_legacy_scan_filter_with_or(ddb: Any, numbers: str) -> None:
    out = ddb.scan(
        TableName=numbers,
        ScanFilter={
            "v": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "1"}]},
            "sk": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "10"}]},
        },
        ConditionalOperator="OR",
    )
    assert sorted(item["sk"]["N"] for item in out["Items"]) == ["-10.5", "99.1"]


def test_legacy_key_conditions_with_begins_with_and_between(ddb: Any) -> None:
    table = _create(ddb, "S")
    _put(ddb, table, *({"pk": {"S": "p"}, "sk": {"S": k}} for k in ["a1", "a2", "b1", "c"]))
    prefix = ddb.query(
        TableName=table,
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
            "sk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "a"}]},
        },
    )
    assert [item["sk"]["S"] for item in prefix["Items"]] == ["a1", "a2"]
    between = ddb.query(
        TableName=table,
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
            "sk": {
                "ComparisonOperator": "BETWEEN",
                "AttributeValueList": [{"S": "a2"}, {"S": "b9"}],
            },
        },
    )
    assert [item["sk"]["S"] for item in between["Items"]] == ["a2", "b1"]


# -- Query errors -----------------------------------------------------------------------------


def _query_error(raw_ddb: Any, table: str, **params: Any) -> tuple[str, str]:
    return _error(lambda: raw_ddb.query(TableName=table, **params))


def test_neither_key_conditions_nor_expression(raw_ddb: Any, numbers: str) -> None:
    assert _query_error(raw_ddb, numbers) == (
        "ValidationException",
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
        "request.",
    )


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("pk = :p OR sk = :n", "Invalid operator used in KeyConditionExpression: OR"),
        ("pk = :p AND sk <> :n", "Invalid operator used in KeyConditionExpression: <>"),
        ("pk = :p AND sk IN (:n)", "Invalid operator used in KeyConditionExpression: IN"),
        (
            "pk = :p AND attribute_exists(sk)",
            "Invalid operator used in KeyConditionExpression: attribute_exists",
        ),
        ("pk = :p AND size(sk) > :n", "KeyConditionExpressions cannot contain nested operations"),
        (
            "pk = :p AND sk.x > :n",
            "KeyConditionExpressions cannot have conditions on nested attributes",
        ),
        (
            "pk = :p AND sk > pk",
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
            "condition",
        ),
        (
            "pk = :p AND :n = :n",
            "Invalid condition in KeyConditionExpression: No key attribute specified",
        ),
        (
            "pk = :p AND sk > :n AND sk < :n",
            "KeyConditionExpressions must only contain one condition per key",
        ),
        ("pk = :p AND sk > :n AND x = :n", "Conditions can be of length 1 or 2 only"),
        ("sk = :n", "Query condition missed key schema element: pk"),
        ("pk = :p AND x = :n", "Query condition missed key schema element: sk"),
        ("pk > :p", "Query key condition not supported"),
        (
            "pk = :n",
            "One or more parameter values were invalid: Condition parameter type does not match "
            "schema type",
        ),
        (
            "pk = :p AND begins_with(sk, :n)",
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N",
        ),
        ("", "Invalid KeyConditionExpression: The expression can not be empty;"),
    ],
)
def test_key_condition_errors(raw_ddb: Any, numbers: str, expression: str, message: str) -> None:
    values = {":p": {"S": "a"}, ":n": {"N": "1"}}
    used = {k: v for k, v in values.items() if k in expression} or None
    params: Item = {"KeyConditionExpression": expression}
    if used:
        params["ExpressionAttributeValues"] = used
    assert _query_error(raw_ddb, numbers, **params) == ("ValidationException", message)


def test_second_condition_on_a_hash_only_table(raw_ddb: Any, ddb: Any) -> None:
    table = _create(ddb, None)
    assert _query_error(
        raw_ddb,
        table,
        KeyConditionExpression="pk = :p AND sk = :p",
        ExpressionAttributeValues=A,
    ) == ("ValidationException", "Query key condition not supported")


def test_missing_table_is_reported_before_key_problems(raw_ddb: Any) -> None:
    assert _query_error(
        raw_ddb,
        "no-such-table",
        KeyConditionExpression="z = :p",
        ExpressionAttributeValues=A,
        ExclusiveStartKey={"b": {"S": "a"}},
    ) == ("ResourceNotFoundException", "Requested resource not found")


@pytest.mark.parametrize(
    ("start", "expression", "message"),
    [
        ({}, "pk = :p", "The provided starting key is invalid"),
        ({"pk": {"S": "a"}}, "pk = :p", "The provided starting key is invalid"),
        ({"pk": {"S": "a"}, "x": {"N": "1"}}, "pk = :p", "The provided starting key is invalid"),
        (
            {"pk": {"S": "a"}, "sk": {"S": "1"}},
            "pk = :p",
            "The provided key element does not match the schema",
        ),
        (
            {"pk": {"S": "b"}, "sk": {"N": "1"}},
            "pk = :p",
            "The provided starting key is outside query boundaries based on provided conditions",
        ),
        (
            {"pk": {"S": "a"}, "sk": {"N": "0"}},
            "pk = :p AND sk > :n",
            "The provided starting key does not match the range key predicate",
        ),
        (
            {"pk": {"S": "b"}, "sk": {"N": "5"}},
            "pk = :p AND sk > :n",
            "The query can return at most one row and cannot be restarted",
        ),
        (
            {"pk": {}},
            "pk = :p",
            "The provided starting key is invalid: Supplied AttributeValue is empty, must contain "
            "exactly one of the supported datatypes",
        ),
    ],
)
def test_exclusive_start_key_errors(
    raw_ddb: Any, numbers: str, start: Item, expression: str, message: str
) -> None:
    values = {":p": {"S": "a"}, ":n": {"N": "1"}}
    assert _query_error(
        raw_ddb,
        numbers,
        KeyConditionExpression=expression,
        ExpressionAttributeValues={k: v for k, v in values.items() if k in expression},
        ExclusiveStartKey=start,
    ) == ("ValidationException", message)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"Select": "SPECIFIC_ATTRIBUTES"},
            "1 validation error detected: Must specify the AttributesToGet or "
            "ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
        ),
        (
            {"Select": "ALL_ATTRIBUTES", "ProjectionExpression": "v"},
            "1 validation error detected: Cannot specify the ProjectionExpression when choosing "
            "to get ALL_ATTRIBUTES",
        ),
        (
            {"Select": "COUNT", "ProjectionExpression": "v"},
            "1 validation error detected: Cannot specify the ProjectionExpression when choosing "
            "to get only the Count",
        ),
        (
            {"Select": "ALL_PROJECTED_ATTRIBUTES"},
            "1 validation error detected: ALL_PROJECTED_ATTRIBUTES can be used only when "
            "Querying using an IndexName",
        ),
        (
            {"FilterExpression": "sk > :n", "ExpressionAttributeValues": {**A, ":n": {"N": "1"}}},
            "Filter Expression can only contain non-primary key attributes: Primary key "
            "attribute: sk",
        ),
        (
            {"ProjectionExpression": "pk.deep"},
            "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
            "allowed: Key: pk",
        ),
        (
            {"AttributesToGet": ["v"]},
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {AttributesToGet} Expression parameters: "
            "{KeyConditionExpression}",
        ),
        (
            {"ExpressionAttributeNames": {"#unused": "x"}},
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}",
        ),
    ],
)
def test_query_request_errors(raw_ddb: Any, numbers: str, extra: Item, message: str) -> None:
    params: Item = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": A, **extra}
    assert _query_error(raw_ddb, numbers, **params) == ("ValidationException", message)


def test_values_without_a_value_expression(raw_ddb: Any, numbers: str) -> None:
    assert _query_error(
        raw_ddb,
        numbers,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}},
        ExpressionAttributeValues=A,
    ) == (
        "ValidationException",
        "ExpressionAttributeValues can only be specified when using expressions: "
        "FilterExpression and KeyConditionExpression are null",
    )


def test_an_unknown_index_name_is_refused(raw_ddb: Any, numbers: str) -> None:
    assert _query_error(
        raw_ddb,
        numbers,
        IndexName="by-v",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues=A,
    ) == ("ValidationException", "The table does not have the specified index: by-v")


@pytest.mark.parametrize(
    ("conditions", "query_filter", "message"),
    [
        (
            {"pk": {"ComparisonOperator": "EQ"}},
            None,
            "One or more parameter values were invalid: Invalid number of argument(s) for the EQ "
            "ComparisonOperator",
        ),
        ({}, None, "Conditions can be of length 1 or 2 only"),
        (
            {"pk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"N": "1"}]}},
            None,
            "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not "
            "valid for N AttributeValue type",
        ),
        (
            {
                "pk": {
                    "ComparisonOperator": "BETWEEN",
                    "AttributeValueList": [{"S": "b"}, {"S": "a"}],
                }
            },
            None,
            "The BETWEEN condition was provided a range where the lower bound is greater than "
            "the upper bound",
        ),
        (
            {"pk": {"ComparisonOperator": "NULL"}},
            None,
            "Attempted conditional constraint is not an indexable operation",
        ),
        (
            {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}},
            {"sk": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "1"}]}},
            "QueryFilter can only contain non-primary key attributes: Primary key attribute: sk",
        ),
    ],
)
def test_legacy_condition_errors(
    raw_ddb: Any, numbers: str, conditions: Item, query_filter: Item | None, message: str
) -> None:
    params: Item = {"KeyConditions": conditions}
    if query_filter is not None:
        params["QueryFilter"] = query_filter
    assert _query_error(raw_ddb, numbers, **params) == ("ValidationException", message)


# -- Scan -------------------------------------------------------------------------------------


def _all_keys(table_items: list[Item]) -> list[tuple[str, str]]:
    return sorted((item["pk"]["S"], item["sk"]["N"]) for item in table_items)


@pytest.fixture(scope="module")
def spread(ddb: Any) -> str:
    """(Read-only) 60 items over 30 partitions."""
    table = _create(ddb)
    _put(
        ddb, table, *(_item(f"p{n}", str(i), v={"N": str(n)}) for n in range(30) for i in range(2))
    )
    return table


EXPECTED = sorted((f"p{n}", str(i)) for n in range(30) for i in range(2))


def test_scan_returns_every_item(ddb: Any, spread: str) -> None:
    out = ddb.scan(TableName=spread)
    assert _all_keys(out["Items"]) == EXPECTED
    assert out["Count"] == out["ScannedCount"] == 60


def test_scan_paginator_with_limit_visits_each_item_once(ddb: Any, spread: str) -> None:
    pages = list(
        ddb.get_paginator("scan").paginate(TableName=spread, PaginationConfig={"PageSize": 7})
    )
    assert all(page["ScannedCount"] <= 7 for page in pages)
    assert _all_keys([item for page in pages for item in page["Items"]]) == EXPECTED


def test_scan_filter_projection_and_count(ddb: Any, spread: str) -> None:
    out = ddb.scan(
        TableName=spread,
        FilterExpression="v < :n AND sk = :zero",
        ProjectionExpression="pk",
        ExpressionAttributeValues={":n": {"N": "3"}, ":zero": {"N": "0"}},
    )
    assert sorted(item["pk"]["S"] for item in out["Items"]) == ["p0", "p1", "p2"]
    assert (out["Count"], out["ScannedCount"]) == (3, 60)
    counted = ddb.scan(TableName=spread, Select="COUNT", Limit=10)
    assert "Items" not in counted and counted["Count"] == 10
    assert "LastEvaluatedKey" in counted


def test_parallel_scan_covers_every_item_exactly_once(ddb: Any, spread: str) -> None:
    per_segment: list[list[tuple[str, str]]] = []
    for segment in range(4):
        found: list[Item] = []
        start: Item | None = None
        while True:
            extra: Item = {"ExclusiveStartKey": start} if start else {}
            out = ddb.scan(TableName=spread, Segment=segment, TotalSegments=4, Limit=4, **extra)
            found += out["Items"]
            start = out.get("LastEvaluatedKey")
            if start is None:
                break
        per_segment.append(_all_keys(found))
    assert sorted(key for keys in per_segment for key in keys) == EXPECTED
    partitions = [{pk for pk, _ in keys} for keys in per_segment]
    assert all(a.isdisjoint(b) for i, a in enumerate(partitions) for b in partitions[i + 1 :])
    assert sum(1 for keys in per_segment if keys) >= 2


def test_scan_page_stops_at_one_megabyte(ddb: Any) -> None:
    table = _create(ddb)
    _put(ddb, table, *(_item("a", str(i), pad={"S": "x" * 350_000}) for i in range(4)))
    first = ddb.scan(TableName=table, ProjectionExpression="sk", ReturnConsumedCapacity="TOTAL")
    assert first["Count"] == 2 and "LastEvaluatedKey" in first
    assert first["ConsumedCapacity"]["CapacityUnits"] == 85.5  # ceil(700_018 / 4096) / 2
    rest = ddb.scan(TableName=table, ExclusiveStartKey=first["LastEvaluatedKey"], Select="COUNT")
    assert rest["Count"] == 2 and "LastEvaluatedKey" not in rest


def test_scan_of_an_empty_table(ddb: Any) -> None:
    out = ddb.scan(TableName=_create(ddb), ReturnConsumedCapacity="TOTAL", ConsistentRead=True)
    assert (out["Items"], out["Count"], out["ScannedCount"]) == ([], 0, 0)
    assert out["ConsumedCapacity"]["CapacityUnits"] == 1.0


def test_scan_with_attributes_to_get(ddb: Any, spread: str) -> None:
    out = ddb.scan(TableName=spread, AttributesToGet=["v"], Limit=1)
    assert out["Items"] == [{"v": out["Items"][0]["v"]}]


# -- Scan errors ------------------------------------------------------------------------------


def _scan_error(raw_ddb: Any, table: str, **params: Any) -> tuple[str, str]:
    return _error(lambda: raw_ddb.scan(TableName=table, **params))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"Segment": 1},
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present",
        ),
        (
            {"TotalSegments": 2},
            "The Segment parameter is required but was not present in the request when parameter "
            "TotalSegments is present",
        ),
        (
            {"Segment": 3, "TotalSegments": 3},
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            "Segment: 3 is not less than TotalSegments: 3",
        ),
        (
            {"Segment": -1, "TotalSegments": 2},
            "1 validation error detected: Value '-1' at 'segment' failed to satisfy constraint: "
            "Member must have value greater than or equal to 0",
        ),
        (
            {"Limit": 0},
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1",
        ),
        (
            {"Select": "SPECIFIC_ATTRIBUTES"},
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
            "SPECIFIC_ATTRIBUTES",
        ),
        (
            {"ExclusiveStartKey": {"pk": {"S": "a"}}},
            "The provided starting key is invalid: The provided key element does not match the "
            "schema",
        ),
        (
            {"ExclusiveStartKey": {"pk": {"S": "a"}, "sk": {"S": "1"}}},
            "The provided starting key is invalid: The provided key element does not match the "
            "schema",
        ),
        (
            {"ExpressionAttributeValues": {":a": {"S": "a"}}},
            "ExpressionAttributeValues can only be specified when using expressions: "
            "FilterExpression is null",
        ),
        (
            {"FilterExpression": "pk.x = :a", "ExpressionAttributeValues": {":a": {"S": "a"}}},
            "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
            "allowed: Key: pk",
        ),
        (
            {"ScanFilter": {"v": {"ComparisonOperator": "GT"}}},
            "One or more parameter values were invalid: Invalid number of argument(s) for the GT "
            "ComparisonOperator",
        ),
        (
            {"FilterExpression": "", "ScanFilter": {}},
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {ScanFilter} Expression parameters: {FilterExpression}",
        ),
    ],
)
def test_scan_errors(raw_ddb: Any, spread: str, params: Item, message: str) -> None:
    assert _scan_error(raw_ddb, spread, **params) == ("ValidationException", message)


def test_scan_start_key_from_another_segment(raw_ddb: Any, ddb: Any, spread: str) -> None:
    out = ddb.scan(TableName=spread, Segment=0, TotalSegments=2, Limit=1)
    start = out["LastEvaluatedKey"]
    assert _scan_error(raw_ddb, spread, Segment=1, TotalSegments=2, ExclusiveStartKey=start) == (
        "ValidationException",
        "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use "
        "ExclusiveStartKey with correct Segment. TotalSegments: 2 Segment: 1",
    )


def test_scan_of_a_missing_table(raw_ddb: Any) -> None:
    assert _scan_error(raw_ddb, "no-such-table") == (
        "ResourceNotFoundException",
        "Requested resource not found",
    )


def test_scan_accepts_filters_on_keys(ddb: Any, spread: str) -> None:
    out = ddb.scan(
        TableName=spread,
        FilterExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p7"}},
    )
    assert _all_keys(out["Items"]) == [("p7", "0"), ("p7", "1")]


def test_binary_values_survive_the_round_trip(ddb: Any) -> None:
    table = _create(ddb, "B")
    raw = base64.b64decode("AAEC")
    _put(ddb, table, {"pk": {"S": "p"}, "sk": {"B": raw}, "data": {"BS": [b"\x01", b"\x02"]}})
    item = ddb.scan(TableName=table)["Items"][0]
    assert item["sk"] == {"B": raw}
    assert sorted(item["data"]["BS"]) == [b"\x01", b"\x02"]


def test_pages_longer_than_the_inline_read_come_back_whole(ddb: Any) -> None:
    """Reads over ``INLINE_ROWS`` rows stop on the event loop and are read on the read pool."""
    table = _create(ddb)
    count = 300
    for first in range(0, count, 25):
        puts = [
            {"PutRequest": {"Item": _item("a", str(i), v={"S": f"v{i}"})}}
            for i in range(first, min(first + 25, count))
        ]
        ddb.batch_write_item(RequestItems={table: puts})
    query = _query(ddb, table, "pk = :p", {":p": {"S": "a"}})
    assert query["Count"] == count and "LastEvaluatedKey" not in query
    assert [entry["sk"]["N"] for entry in query["Items"]] == [str(i) for i in range(count)]
    backwards = _query(ddb, table, "pk = :p", {":p": {"S": "a"}}, ScanIndexForward=False, Limit=280)
    assert backwards["Items"][0]["sk"] == {"N": str(count - 1)}
    assert backwards["LastEvaluatedKey"] == {"pk": {"S": "a"}, "sk": {"N": "20"}}
    scan = ddb.scan(TableName=table)
    assert scan["ScannedCount"] == count
    assert {entry["v"]["S"] for entry in scan["Items"]} == {f"v{i}" for i in range(count)}


def test_items_come_back_as_stored_with_paging_members(ddb: Any) -> None:
    table = _create(ddb)
    stored = [
        _item("a", str(i), n={"N": "1.50"}, m={"M": {"x": {"SS": ["p", "q"]}}}) for i in range(3)
    ]
    _put(ddb, table, *stored)
    page = _query(ddb, table, "pk = :p", {":p": {"S": "a"}}, Limit=2)
    assert page["Count"] == page["ScannedCount"] == 2
    assert page["Items"][0]["n"] == {"N": "1.5"}
    assert sorted(page["Items"][1]["m"]["M"]["x"]["SS"]) == ["p", "q"]
    assert page["LastEvaluatedKey"] == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    counted = _query(ddb, table, "pk = :p", {":p": {"S": "a"}}, Select="COUNT")
    assert (counted["Count"], "Items" in counted) == (3, False)
