"""Secondary indexes through real boto3 against the real server: CreateTable and DescribeTable,
Query and Scan on indexes, every write path keeping them, UpdateTable create/delete, AWS's
errors, and a restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import HeadwaterServer
from tests.conftest import unique, wait_until

Item = dict[str, Any]
P = "One or more parameter values were invalid: "


def _error(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def _keys(*pairs: tuple[str, str]) -> list[Item]:
    return [{"AttributeName": name, "KeyType": kind} for name, kind in pairs]


def _defs(**types: str) -> list[Item]:
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in types.items()]


def _index(name: str, *keys: tuple[str, str], projection: str = "ALL", **extra: Any) -> Item:
    body: Item = {"IndexName": name, "KeySchema": _keys(*keys), **extra}
    body["Projection"] = {"ProjectionType": projection}
    if projection == "INCLUDE":
        body["Projection"]["NonKeyAttributes"] = extra.pop("include", None) or ["note"]
        body.pop("include", None)
    return body


def _shop(ddb: Any) -> str:
    """pk/sk table with LSI by-amount (INCLUDE note), GSI by-status (status+created, KEYS_ONLY)
    and GSI by-colour (colour only, ALL: duplicate index keys)."""
    name = unique("idx")
    ddb.create_table(
        TableName=name,
        KeySchema=_keys(("pk", "HASH"), ("sk", "RANGE")),
        AttributeDefinitions=_defs(pk="S", sk="S", amount="N", status="S", created="S", colour="S"),
        LocalSecondaryIndexes=[
            _index("by-amount", ("pk", "HASH"), ("amount", "RANGE"), projection="INCLUDE")
        ],
        GlobalSecondaryIndexes=[
            _index("by-status", ("status", "HASH"), ("created", "RANGE"), projection="KEYS_ONLY"),
            _index("by-colour", ("colour", "HASH")),
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _order(sk: str, **attrs: Any) -> Item:
    item: Item = {"pk": {"S": "cust"}, "sk": {"S": sk}}
    for name, value in attrs.items():
        item[name] = {"N": str(value)} if isinstance(value, int) else {"S": value}
    return item


@pytest.fixture(scope="module")
def shop(ddb: Any) -> str:
    """(Read-only) five orders of one customer, one without status, plus another customer."""
    table = _shop(ddb)
    rows = [
        ("o1", 30, "open", "2024-01-03", "red"),
        ("o2", 10, "open", "2024-01-01", "blue"),
        ("o3", 20, "shipped", "2024-01-02", "red"),
        ("o4", 50, "open", "2024-02-01", "red"),
    ]
    for sk, amount, status, created, colour in rows:
        item = _order(sk, amount=amount, status=status, created=created, colour=colour)
        ddb.put_item(TableName=table, Item={**item, "note": {"S": f"n-{sk}"}, "secret": {"S": "s"}})
    ddb.put_item(TableName=table, Item=_order("o5", amount=40, note="no status"))
    ddb.put_item(
        TableName=table, Item={"pk": {"S": "other"}, "sk": {"S": "x"}, "amount": {"N": "1"}}
    )
    return table


def _sks(response: Any) -> list[str]:
    return [item["sk"]["S"] for item in response["Items"]]


def _q(client: Any, table: str, index: str, expression: str, values: Item, **extra: Any) -> Any:
    return client.query(
        TableName=table,
        IndexName=index,
        KeyConditionExpression=expression,
        ExpressionAttributeValues=values,
        **extra,
    )


CUST = {":p": {"S": "cust"}}
OPEN = {":s": {"S": "open"}}
RED = {":c": {"S": "red"}}


def _describe_index(ddb: Any, table: str, name: str) -> Item | None:
    desc = ddb.describe_table(TableName=table)["Table"]
    for index in desc.get("GlobalSecondaryIndexes", []) + desc.get("LocalSecondaryIndexes", []):
        if index["IndexName"] == name:
            return dict(index)
    return None


def _wait_active(ddb: Any, table: str, name: str) -> Item:
    def active() -> Item | None:
        index = _describe_index(ddb, table, name)
        return index if index is not None and index.get("IndexStatus") == "ACTIVE" else None

    found: Item = wait_until(active)
    return found


# -- CreateTable and DescribeTable -----------------------------------------------------------------


def test_create_table_answers_and_describes_both_kinds_of_index(ddb: Any) -> None:
    name = unique("idx")
    created = ddb.create_table(
        TableName=name,
        KeySchema=_keys(("pk", "HASH"), ("sk", "RANGE")),
        AttributeDefinitions=_defs(pk="S", sk="S", l="N", g="S"),
        LocalSecondaryIndexes=[
            _index("lsi", ("pk", "HASH"), ("l", "RANGE"), projection="KEYS_ONLY")
        ],
        GlobalSecondaryIndexes=[
            _index(
                "gsi",
                ("g", "HASH"),
                projection="INCLUDE",
                include=["a", "b"],
                ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
            )
        ],
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )["TableDescription"]
    arn = created["TableArn"]
    (gsi,) = created["GlobalSecondaryIndexes"]
    (lsi,) = created["LocalSecondaryIndexes"]
    assert gsi["IndexStatus"] == "CREATING"
    assert "IndexStatus" not in lsi
    assert lsi == {
        "IndexName": "lsi",
        "KeySchema": _keys(("pk", "HASH"), ("l", "RANGE")),
        "Projection": {"ProjectionType": "KEYS_ONLY"},
        "IndexSizeBytes": 0,
        "ItemCount": 0,
        "IndexArn": f"{arn}/index/lsi",
    }
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "g": {"S": "G"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "2"}})
    described = ddb.describe_table(TableName=name)["Table"]
    (gsi,) = described["GlobalSecondaryIndexes"]
    assert gsi["IndexStatus"] == "ACTIVE"
    assert gsi["IndexArn"] == f"{arn}/index/gsi"
    assert gsi["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "b"]}
    assert gsi["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert gsi["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
    assert gsi["ItemCount"] == 1 and gsi["IndexSizeBytes"] > 0
    assert described["LocalSecondaryIndexes"][0]["ItemCount"] == 0
    assert {d["AttributeName"] for d in described["AttributeDefinitions"]} == {"pk", "sk", "l", "g"}


# -- Query on a local index ------------------------------------------------------------------------


def test_lsi_query_orders_by_the_index_sort_key_both_ways(ddb: Any, shop: str) -> None:
    forward = _q(ddb, shop, "by-amount", "pk = :p", CUST)
    assert _sks(forward) == ["o2", "o3", "o1", "o5", "o4"]
    backward = _q(ddb, shop, "by-amount", "pk = :p", CUST, ScanIndexForward=False)
    assert _sks(backward) == ["o4", "o5", "o1", "o3", "o2"]
    ranged = _q(
        ddb,
        shop,
        "by-amount",
        "pk = :p AND amount BETWEEN :a AND :b",
        {**CUST, ":a": {"N": "20"}, ":b": {"N": "40"}},
    )
    assert _sks(ranged) == ["o3", "o1", "o5"]


def test_lsi_returns_its_projection_and_fetches_the_rest(ddb: Any, shop: str) -> None:
    projected = _q(ddb, shop, "by-amount", "pk = :p AND amount = :a", {**CUST, ":a": {"N": "10"}})
    assert projected["Items"] == [
        {"pk": {"S": "cust"}, "sk": {"S": "o2"}, "amount": {"N": "10"}, "note": {"S": "n-o2"}}
    ]
    everything = _q(
        ddb,
        shop,
        "by-amount",
        "pk = :p AND amount = :a",
        {**CUST, ":a": {"N": "10"}},
        Select="ALL_ATTRIBUTES",
    )
    assert everything["Items"][0]["secret"] == {"S": "s"}
    named = _q(
        ddb,
        shop,
        "by-amount",
        "pk = :p AND amount = :a",
        {**CUST, ":a": {"N": "10"}},
        ProjectionExpression="secret, colour",
    )
    assert named["Items"] == [{"secret": {"S": "s"}, "colour": {"S": "blue"}}]


# -- Query on a global index -----------------------------------------------------------------------


def test_gsi_query_with_begins_with_and_keys_only(ddb: Any, shop: str) -> None:
    out = _q(
        ddb,
        shop,
        "by-status",
        "#s = :s AND begins_with(created, :m)",
        {**OPEN, ":m": {"S": "2024-01"}},
        ExpressionAttributeNames={"#s": "status"},
    )
    assert _sks(out) == ["o2", "o1"]
    assert set(out["Items"][0]) == {"pk", "sk", "status", "created"}
    back = _q(
        ddb,
        shop,
        "by-status",
        "#s = :s",
        OPEN,
        ExpressionAttributeNames={"#s": "status"},
        ScanIndexForward=False,
    )
    assert _sks(back) == ["o4", "o1", "o2"]


def test_gsi_with_duplicate_keys_pages_by_table_key(ddb: Any, shop: str) -> None:
    first = _q(ddb, shop, "by-colour", "colour = :c", RED, Limit=2)
    assert _sks(first) == ["o1", "o3"]
    assert first["LastEvaluatedKey"] == {
        "pk": {"S": "cust"},
        "sk": {"S": "o3"},
        "colour": {"S": "red"},
    }
    rest = _q(
        ddb, shop, "by-colour", "colour = :c", RED, ExclusiveStartKey=first["LastEvaluatedKey"]
    )
    assert _sks(rest) == ["o4"]
    assert "LastEvaluatedKey" not in rest


def test_paginator_walks_a_gsi_and_an_lsi(ddb: Any, shop: str) -> None:
    paginator = ddb.get_paginator("query")

    def walk(index: str, expression: str, values: Item, **extra: Any) -> list[str]:
        pages = paginator.paginate(
            TableName=shop,
            IndexName=index,
            KeyConditionExpression=expression,
            ExpressionAttributeValues=values,
            PaginationConfig={"PageSize": 1},
            **extra,
        )
        return [sk for page in pages for sk in _sks(page)]

    assert walk("by-colour", "colour = :c", RED) == ["o1", "o3", "o4"]
    assert walk("by-amount", "pk = :p", CUST, ScanIndexForward=False) == [
        "o4",
        "o5",
        "o1",
        "o3",
        "o2",
    ]
    assert walk("by-status", "#s = :s", OPEN, ExpressionAttributeNames={"#s": "status"}) == [
        "o2",
        "o1",
        "o4",
    ]


def test_sparse_gsi_holds_only_items_with_its_keys(ddb: Any, shop: str) -> None:
    scanned = ddb.scan(TableName=shop, IndexName="by-status")
    assert sorted(_sks(scanned)) == ["o1", "o2", "o3", "o4"]
    assert ddb.scan(TableName=shop)["Count"] == 6


def test_scan_of_an_index_pages_and_splits(ddb: Any, shop: str) -> None:
    paginator = ddb.get_paginator("scan")
    paged = [
        sk
        for page in paginator.paginate(
            TableName=shop, IndexName="by-colour", PaginationConfig={"PageSize": 2}
        )
        for sk in _sks(page)
    ]
    assert sorted(paged) == ["o1", "o2", "o3", "o4"]
    segments = [
        sk
        for segment in range(2)
        for sk in _sks(
            ddb.scan(TableName=shop, IndexName="by-colour", Segment=segment, TotalSegments=2)
        )
    ]
    assert sorted(segments) == ["o1", "o2", "o3", "o4"]


def test_index_reads_report_index_capacity(ddb: Any, shop: str) -> None:
    out = _q(ddb, shop, "by-colour", "colour = :c", RED, ReturnConsumedCapacity="INDEXES")
    capacity = out["ConsumedCapacity"]
    assert capacity["TableName"] == shop
    assert (
        capacity["GlobalSecondaryIndexes"]["by-colour"]["CapacityUnits"]
        == capacity["CapacityUnits"]
    )
    assert capacity["CapacityUnits"] > 0
    local = _q(ddb, shop, "by-amount", "pk = :p", CUST, ReturnConsumedCapacity="INDEXES")
    assert "by-amount" in local["ConsumedCapacity"]["LocalSecondaryIndexes"]


def test_count_and_filter_on_an_index(ddb: Any, shop: str) -> None:
    counted = _q(ddb, shop, "by-colour", "colour = :c", RED, Select="COUNT")
    assert counted["Count"] == 3 and "Items" not in counted
    filtered = _q(
        ddb,
        shop,
        "by-colour",
        "colour = :c",
        {**RED, ":a": {"N": "25"}},
        FilterExpression="amount > :a",
    )
    assert _sks(filtered) == ["o1", "o4"] and filtered["ScannedCount"] == 3


# -- read errors -----------------------------------------------------------------------------------


BY_STATUS: Item = {
    "IndexName": "by-status",
    "KeyConditionExpression": "#s = :s",
    "ExpressionAttributeNames": {"#s": "status"},
    "ExpressionAttributeValues": OPEN,
}
START = {"status": {"S": "open"}, "created": {"S": "x"}, "pk": {"S": "cust"}, "sk": {"S": "o1"}}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"IndexName": "nope"}, "The table does not have the specified index: nope"),
        (
            {
                "IndexName": "by-colour",
                "KeyConditionExpression": "colour = :s",
                "ConsistentRead": True,
                "ExpressionAttributeNames": None,
            },
            "Consistent reads are not supported on global secondary indexes",
        ),
        (
            {"Select": "ALL_ATTRIBUTES"},
            P + "Select type ALL_ATTRIBUTES is not supported for global secondary index by-status "
            "because its projection type is not ALL",
        ),
        (
            {"ProjectionExpression": "amount, note, #s"},
            P + "Global secondary index by-status does not project [amount, note]",
        ),
        (
            {
                "FilterExpression": "amount > :a",
                "ExpressionAttributeValues": {**OPEN, ":a": {"N": "1"}},
            },
            P
            + "Secondary index by-status does not project one or more filter attributes: [amount]",
        ),
        (
            {"FilterExpression": "created > :s"},
            "Filter Expression can only contain non-primary key attributes: Primary key "
            "attribute: created",
        ),
        ({"ExclusiveStartKey": {"status": {"S": "open"}}}, "The provided starting key is invalid"),
        (
            {"ExclusiveStartKey": {**START, "pk": {"N": "1"}}},
            "The provided starting key is invalid: The provided key element does not match the "
            "schema",
        ),
        (
            {"ExclusiveStartKey": {**START, "status": {"S": "shipped"}}},
            "The provided starting key is outside query boundaries based on provided conditions",
        ),
        (
            {"ProjectionExpression": "#s.deep"},
            "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
            "allowed: IndexKey: status",
        ),
    ],
)
def test_index_query_errors(raw_ddb: Any, shop: str, extra: Item, message: str) -> None:
    params = {name: value for name, value in {**BY_STATUS, **extra}.items() if value is not None}
    assert _error(raw_ddb.query, TableName=shop, **params) == ("ValidationException", message)


def test_index_scan_errors(raw_ddb: Any, shop: str) -> None:
    assert _error(raw_ddb.scan, TableName=shop, IndexName="nope") == (
        "ValidationException",
        "The table does not have the specified index: nope",
    )
    assert _error(raw_ddb.scan, TableName=shop, IndexName="by-status", Select="ALL_ATTRIBUTES")[
        1
    ] == (
        P + "Select type ALL_ATTRIBUTES is not supported for global secondary index by-status "
        "because its projection type is not ALL"
    )
    assert (
        _error(
            raw_ddb.scan,
            TableName=shop,
            IndexName="by-colour",
            ExclusiveStartKey={"colour": {"S": "red"}},
        )[1]
        == "The provided starting key is invalid"
    )


# -- maintenance on every write path ---------------------------------------------------------------


def _colour(ddb: Any, table: str, colour: str) -> list[str]:
    return _sks(_q(ddb, table, "by-colour", "colour = :c", {":c": {"S": colour}}))


def test_put_update_and_delete_move_items_between_index_keys(ddb: Any) -> None:
    table = _shop(ddb)
    ddb.put_item(TableName=table, Item=_order("a", colour="red"))
    ddb.put_item(TableName=table, Item=_order("b", colour="red"))
    assert _colour(ddb, table, "red") == ["a", "b"]
    ddb.put_item(TableName=table, Item=_order("a", colour="green"))
    assert (_colour(ddb, table, "red"), _colour(ddb, table, "green")) == (["b"], ["a"])
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "cust"}, "sk": {"S": "b"}},
        UpdateExpression="SET colour = :c",
        ExpressionAttributeValues={":c": {"S": "green"}},
    )
    assert (_colour(ddb, table, "red"), _colour(ddb, table, "green")) == ([], ["a", "b"])
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "cust"}, "sk": {"S": "a"}},
        UpdateExpression="REMOVE colour",
    )
    assert _colour(ddb, table, "green") == ["b"]
    ddb.delete_item(TableName=table, Key={"pk": {"S": "cust"}, "sk": {"S": "b"}})
    assert _colour(ddb, table, "green") == []
    assert ddb.scan(TableName=table, IndexName="by-colour")["Count"] == 0


def test_an_updated_projected_attribute_shows_in_the_index(ddb: Any) -> None:
    table = _shop(ddb)
    ddb.put_item(TableName=table, Item=_order("a", amount=1, note="old"))
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "cust"}, "sk": {"S": "a"}},
        UpdateExpression="SET note = :n",
        ExpressionAttributeValues={":n": {"S": "new"}},
    )
    out = _q(ddb, table, "by-amount", "pk = :p", CUST)
    assert out["Items"][0]["note"] == {"S": "new"}


def test_batch_write_and_transactions_keep_indexes(ddb: Any) -> None:
    table = _shop(ddb)
    ddb.batch_write_item(
        RequestItems={
            table: [
                {"PutRequest": {"Item": _order("a", colour="red")}},
                {"PutRequest": {"Item": _order("b", colour="red")}},
                {"PutRequest": {"Item": _order("c", colour="red")}},
            ]
        }
    )
    assert _colour(ddb, table, "red") == ["a", "b", "c"]
    ddb.batch_write_item(
        RequestItems={table: [{"DeleteRequest": {"Key": {"pk": {"S": "cust"}, "sk": {"S": "a"}}}}]}
    )
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": _order("d", colour="blue")}},
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": "cust"}, "sk": {"S": "b"}},
                    "UpdateExpression": "SET colour = :c",
                    "ExpressionAttributeValues": {":c": {"S": "blue"}},
                }
            },
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "cust"}, "sk": {"S": "c"}}}},
        ]
    )
    assert (_colour(ddb, table, "red"), _colour(ddb, table, "blue")) == ([], ["b", "d"])


def test_a_failed_condition_leaves_the_index_alone(ddb: Any) -> None:
    table = _shop(ddb)
    ddb.put_item(TableName=table, Item=_order("a", colour="red"))
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        ddb.put_item(
            TableName=table,
            Item=_order("a", colour="blue"),
            ConditionExpression="attribute_not_exists(pk)",
        )
    assert (_colour(ddb, table, "red"), _colour(ddb, table, "blue")) == (["a"], [])


# -- write errors ----------------------------------------------------------------------------------


MISMATCH = P + "Type mismatch for Index Key colour Expected: S Actual: N IndexName: by-colour"


def test_writes_with_wrong_index_key_types_are_refused(raw_ddb: Any) -> None:
    table = _shop(raw_ddb)
    bad = _order("a", colour=5)
    assert _error(raw_ddb.put_item, TableName=table, Item=bad) == ("ValidationException", MISMATCH)
    assert _error(
        raw_ddb.batch_write_item, RequestItems={table: [{"PutRequest": {"Item": bad}}]}
    ) == ("ValidationException", MISMATCH)
    assert _error(
        raw_ddb.update_item,
        TableName=table,
        Key={"pk": {"S": "cust"}, "sk": {"S": "a"}},
        UpdateExpression="SET colour = :c",
        ExpressionAttributeValues={":c": {"N": "5"}},
    ) == ("ValidationException", MISMATCH)
    assert _error(
        raw_ddb.put_item, TableName=table, Item={**_order("a"), "amount": {"S": "x"}}
    ) == (
        "ValidationException",
        P + "Type mismatch for Index Key amount Expected: N Actual: S IndexName: by-amount",
    )
    assert _error(raw_ddb.put_item, TableName=table, Item=_order("a", colour="")) == (
        "ValidationException",
        "One or more parameter values are not valid. A value specified for a secondary index key "
        "is not supported. The AttributeValue for a key attribute cannot contain an empty string "
        "value. IndexName: by-colour, IndexKey: colour",
    )
    assert raw_ddb.scan(TableName=table)["Count"] == 0


def test_update_errors_on_index_keys(raw_ddb: Any) -> None:
    table = _shop(raw_ddb)
    raw_ddb.put_item(TableName=table, Item=_order("a", src=5))
    key = {"pk": {"S": "cust"}, "sk": {"S": "a"}}
    assert _error(
        raw_ddb.update_item, TableName=table, Key=key, UpdateExpression="SET colour = src"
    ) == (
        "ValidationException",
        "The update expression attempted to update the secondary index key to unsupported type",
    )
    assert _error(
        raw_ddb.update_item,
        TableName=table,
        Key=key,
        UpdateExpression="SET colour.deep = :c",
        ExpressionAttributeValues={":c": {"S": "x"}},
    ) == (
        "ValidationException",
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
        "allowed: IndexKey: colour",
    )
    assert raw_ddb.get_item(TableName=table, Key=key)["Item"] == _order("a", src=5)


# -- CreateTable errors ----------------------------------------------------------------------------


def _create_error(raw_ddb: Any, **extra: Any) -> tuple[str, str]:
    params: Item = {
        "TableName": unique("idx"),
        "KeySchema": _keys(("pk", "HASH"), ("sk", "RANGE")),
        "AttributeDefinitions": _defs(pk="S", sk="S", g="S"),
        "BillingMode": "PAY_PER_REQUEST",
        **extra,
    }
    return _error(raw_ddb.create_table, **params)


GSI = _index("gsi", ("g", "HASH"))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"GlobalSecondaryIndexes": []}, P + "List of GlobalSecondaryIndexes is empty"),
        ({"LocalSecondaryIndexes": []}, P + "List of LocalSecondaryIndexes is empty"),
        (
            {"LocalSecondaryIndexes": [_index("lsi", ("g", "HASH"), ("sk", "RANGE"))]},
            P + "Index KeySchema does not have the same leading hash key as table KeySchema for "
            "index: lsi. index hash key: g, table hash key: pk",
        ),
        (
            {
                "LocalSecondaryIndexes": [_index("lsi", ("pk", "HASH"))],
                "GlobalSecondaryIndexes": [GSI],
            },
            P + "Index KeySchema does not have a range key for index: lsi",
        ),
        (
            {"GlobalSecondaryIndexes": [_index("gsi", ("zz", "HASH"))]},
            P + "Some index key attributes are not defined in AttributeDefinitions. Keys: [zz], "
            "AttributeDefinitions: [pk, sk, g]",
        ),
        (
            {"GlobalSecondaryIndexes": [{**GSI, "Projection": {}}]},
            P + "Unknown ProjectionType: null",
        ),
        (
            {"GlobalSecondaryIndexes": [{**GSI, "Projection": {"ProjectionType": "INCLUDE"}}]},
            P + "ProjectionType is INCLUDE, but NonKeyAttributes is not specified",
        ),
        (
            {
                "GlobalSecondaryIndexes": [
                    {
                        **GSI,
                        "Projection": {"ProjectionType": "KEYS_ONLY", "NonKeyAttributes": ["a"]},
                    }
                ]
            },
            P + "ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified",
        ),
        ({"GlobalSecondaryIndexes": [GSI, GSI]}, P + "Duplicate index name: gsi"),
        (
            {
                "GlobalSecondaryIndexes": [
                    {
                        **GSI,
                        "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                    }
                ]
            },
            P + "ProvisionedThroughput should not be specified for index: gsi when BillingMode is "
            "PAY_PER_REQUEST",
        ),
        (
            {"GlobalSecondaryIndexes": [_index(f"gsi{i}", ("g", "HASH")) for i in range(21)]},
            P + "GlobalSecondaryIndex count exceeds the per-table limit of 20",
        ),
        (
            {
                "AttributeDefinitions": _defs(pk="S", sk="S", g="S", extra="N"),
                "GlobalSecondaryIndexes": [GSI],
            },
            P + "Some AttributeDefinitions are not used. AttributeDefinitions: [pk, sk, g, extra], "
            "keys used: [pk, sk, g]",
        ),
    ],
)
def test_create_table_index_errors(raw_ddb: Any, extra: Item, message: str) -> None:
    assert _create_error(raw_ddb, **extra) == ("ValidationException", message)


def test_create_table_lsi_limits(raw_ddb: Any) -> None:
    six = [_index(f"lsi{i}", ("pk", "HASH"), ("g", "RANGE")) for i in range(6)]
    assert _create_error(raw_ddb, LocalSecondaryIndexes=six)[1] == (
        P + "Number of LocalSecondaryIndexes exceeds per-table limit of 5"
    )
    assert _error(
        raw_ddb.create_table,
        TableName=unique("idx"),
        KeySchema=_keys(("pk", "HASH")),
        AttributeDefinitions=_defs(pk="S", g="S"),
        BillingMode="PAY_PER_REQUEST",
        LocalSecondaryIndexes=[_index("lsi", ("pk", "HASH"), ("g", "RANGE"))],
    )[1] == (
        P + "Table KeySchema does not have a range key, which is required when specifying a "
        "LocalSecondaryIndex"
    )
    assert _create_error(
        raw_ddb,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        GlobalSecondaryIndexes=[GSI],
    )[1] == (P + "ProvisionedThroughput is not specified for index: gsi")


# -- UpdateTable: create, delete, update -----------------------------------------------------------


def _plain(ddb: Any, **extra: Any) -> str:
    name = unique("idx")
    ddb.create_table(
        TableName=name,
        KeySchema=_keys(("pk", "HASH")),
        AttributeDefinitions=_defs(pk="S"),
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return name


def _create_gsi(client: Any, table: str, name: str, attr: str, kind: str = "S") -> Any:
    return client.update_table(
        TableName=table,
        AttributeDefinitions=_defs(**{attr: kind}),
        GlobalSecondaryIndexUpdates=[{"Create": _index(name, (attr, "HASH"))}],
    )


def test_create_gsi_backfills_existing_items(ddb: Any) -> None:
    table = _plain(ddb)
    for i in range(30):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"p{i}"}, "x": {"S": f"x{i % 3}"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "number"}, "x": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "missing"}})
    answer = _create_gsi(ddb, table, "by-x", "x")["TableDescription"]
    (creating,) = answer["GlobalSecondaryIndexes"]
    assert creating["IndexStatus"] == "CREATING"
    assert {d["AttributeName"] for d in answer["AttributeDefinitions"]} == {"pk", "x"}
    active = _wait_active(ddb, table, "by-x")
    assert active["ItemCount"] == 30 and "Backfilling" not in active
    out = _q(ddb, table, "by-x", "x = :x", {":x": {"S": "x1"}})
    assert out["Count"] == 10
    ddb.put_item(TableName=table, Item={"pk": {"S": "new"}, "x": {"S": "x1"}})
    assert _q(ddb, table, "by-x", "x = :x", {":x": {"S": "x1"}})["Count"] == 11
    assert _error(ddb.put_item, TableName=table, Item={"pk": {"S": "n2"}, "x": {"N": "2"}}) == (
        "ValidationException",
        P + "Type mismatch for Index Key x Expected: S Actual: N IndexName: by-x",
    )


def test_delete_gsi_drops_it(ddb: Any) -> None:
    table = _plain(ddb)
    _create_gsi(ddb, table, "by-x", "x")
    _wait_active(ddb, table, "by-x")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "x": {"S": "1"}})
    answer = ddb.update_table(
        TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-x"}}]
    )["TableDescription"]
    assert answer["GlobalSecondaryIndexes"][0]["IndexStatus"] == "DELETING"
    wait_until(lambda: "GlobalSecondaryIndexes" not in ddb.describe_table(TableName=table)["Table"])
    assert _error(ddb.scan, TableName=table, IndexName="by-x")[1] == (
        "The table does not have the specified index: by-x"
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "x": {"N": "7"}})  # any type now
    # The name is free again, and the new index starts from the items as they are.
    _create_gsi(ddb, table, "by-x", "x", "N")
    assert _wait_active(ddb, table, "by-x")["ItemCount"] == 1


def test_update_gsi_throughput(ddb: Any) -> None:
    table = unique("idx")
    ddb.create_table(
        TableName=table,
        KeySchema=_keys(("pk", "HASH")),
        AttributeDefinitions=_defs(pk="S", g="S"),
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        GlobalSecondaryIndexes=[
            {**GSI, "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}
        ],
    )
    ddb.update_table(
        TableName=table,
        GlobalSecondaryIndexUpdates=[
            {
                "Update": {
                    "IndexName": "gsi",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 8},
                }
            }
        ],
    )
    index = _describe_index(ddb, table, "gsi")
    assert index is not None
    assert index["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert index["ProvisionedThroughput"]["WriteCapacityUnits"] == 8


def test_update_table_index_errors(raw_ddb: Any) -> None:
    table = _plain(raw_ddb)
    _create_gsi(raw_ddb, table, "by-x", "x")
    _wait_active(raw_ddb, table, "by-x")

    def update(**extra: Any) -> tuple[str, str]:
        return _error(raw_ddb.update_table, TableName=table, **extra)

    create_y = {"Create": _index("by-y", ("y", "HASH"))}
    assert update(GlobalSecondaryIndexUpdates=[{}]) == (
        "ValidationException",
        P + "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
        "GlobalSecondaryIndexUpdate.Delete must not be null",
    )
    assert update(GlobalSecondaryIndexUpdates=[]) == (
        "ValidationException",
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
    )
    assert update(
        GlobalSecondaryIndexUpdates=[
            {"Delete": {"IndexName": "by-x"}},
            {"Delete": {"IndexName": "by-x"}},
        ]
    ) == (
        "ValidationException",
        P + "Only one global secondary index update per index is allowed simultaneously. "
        "Index: by-x",
    )
    assert update(
        AttributeDefinitions=_defs(y="S", z="S"),
        GlobalSecondaryIndexUpdates=[create_y, {"Create": _index("by-z", ("z", "HASH"))}],
    ) == (
        "LimitExceededException",
        "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously "
        "per table",
    )
    assert update(
        AttributeDefinitions=_defs(x="S"),
        GlobalSecondaryIndexUpdates=[{"Create": _index("by-x", ("x", "HASH"))}],
    ) == ("ValidationException", P + "Index with name: by-x already exists")
    assert update(GlobalSecondaryIndexUpdates=[create_y]) == (
        "ValidationException",
        P + "Some index key attributes are not defined in AttributeDefinitions. Keys: [y], "
        "AttributeDefinitions: []",
    )
    assert update(
        AttributeDefinitions=_defs(x="N"),
        GlobalSecondaryIndexUpdates=[{"Create": _index("by-x2", ("x", "HASH"))}],
    ) == (
        "ValidationException",
        P + "Attributes cannot be redefined. Please check that your attribute has the same type "
        "as previously defined. Existing schema: Schema:[SchemaElement: key{x:S:HASH}] "
        "New schema: Schema:[SchemaElement: key{x:N:HASH}]",
    )
    assert update(GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "nope"}}]) == (
        "ResourceNotFoundException",
        "Requested resource not found: Index: nope not found",
    )
    assert update(
        GlobalSecondaryIndexUpdates=[
            {
                "Update": {
                    "IndexName": "nope",
                    "ProvisionedThroughput": {
                        "ReadCapacityUnits": 10**13,
                        "WriteCapacityUnits": 1,
                    },
                }
            }
        ]
    ) == (
        "ValidationException",
        "This operation cannot be performed with given input values. Please contact DynamoDB "
        "service team for more info: Action Blocked: IndexUpdate",
    )
    assert update(
        AttributeDefinitions=_defs(y="S"),
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    **_index("by-y", ("y", "HASH")),
                    "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                }
            }
        ],
    ) == (
        "ValidationException",
        P + "ProvisionedThroughput should not be specified for index: by-y when BillingMode is "
        "PAY_PER_REQUEST",
    )


def test_switching_to_provisioned_needs_index_throughput(raw_ddb: Any) -> None:
    table = _plain(raw_ddb)
    _create_gsi(raw_ddb, table, "by-x", "x")
    _wait_active(raw_ddb, table, "by-x")
    assert _error(
        raw_ddb.update_table,
        TableName=table,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    ) == ("ValidationException", P + "ProvisionedThroughput must be specified for index: by-x")
    raw_ddb.update_table(
        TableName=table,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        GlobalSecondaryIndexUpdates=[
            {
                "Update": {
                    "IndexName": "by-x",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3},
                }
            }
        ],
    )
    index = _describe_index(raw_ddb, table, "by-x")
    assert index is not None and index["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    raw_ddb.update_table(TableName=table, BillingMode="PAY_PER_REQUEST")
    index = _describe_index(raw_ddb, table, "by-x")
    assert index is not None and index["ProvisionedThroughput"]["WriteCapacityUnits"] == 0


# -- DeleteTable and restart -----------------------------------------------------------------------


def test_a_recreated_table_starts_with_empty_indexes(ddb: Any) -> None:
    name = unique("idx")
    params: Item = {
        "TableName": name,
        "KeySchema": _keys(("pk", "HASH")),
        "AttributeDefinitions": _defs(pk="S", g="S"),
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [GSI],
    }
    ddb.create_table(**params)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "g": {"S": "G"}})
    ddb.delete_table(TableName=name)
    ddb.create_table(**params)
    assert ddb.scan(TableName=name, IndexName="gsi")["Count"] == 0
    assert _describe_index(ddb, name, "gsi") is not None


def test_indexes_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with HeadwaterServer(data_dir=data) as server:
        ddb = server.client("dynamodb")
        table = _shop(ddb)
        ddb.put_item(TableName=table, Item=_order("a", colour="red", amount=3, note="n"))
        ddb.put_item(TableName=table, Item={"pk": {"S": "cust"}, "sk": {"S": "b"}, "y": {"S": "Y"}})
        _create_gsi(ddb, table, "by-y", "y")
        _wait_active(ddb, table, "by-y")
    with HeadwaterServer(data_dir=data) as server:
        ddb = server.client("dynamodb")
        assert _colour(ddb, table, "red") == ["a"]
        assert _q(ddb, table, "by-y", "y = :y", {":y": {"S": "Y"}})["Count"] == 1
        assert _q(ddb, table, "by-amount", "pk = :p", CUST)["Items"][0]["note"] == {"S": "n"}
        desc = ddb.describe_table(TableName=table)["Table"]
        assert sorted(i["IndexName"] for i in desc["GlobalSecondaryIndexes"]) == [
            "by-colour",
            "by-status",
            "by-y",
        ]
        assert _error(ddb.put_item, TableName=table, Item=_order("c", colour=1))[1] == (
            P + "Type mismatch for Index Key colour Expected: S Actual: N IndexName: by-colour"
        )
