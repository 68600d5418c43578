"""ReturnConsumedCapacity and ReturnItemCollectionMetrics through real boto3 against the real
server: GetItem, PutItem, UpdateItem, DeleteItem (table and per-index units), and the index
breakdown of BatchWriteItem, TransactWriteItems and PartiQL writes.

Item sizes are exact: an attribute counts its name's UTF-8 bytes plus its value's, so
``{"pk": "a", "v": "x" * 1500}`` is 2 + 1 + 1 + 1500 = 1504 bytes (two 1 KB write units)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import unique

Item = dict[str, Any]
GSI = "GlobalSecondaryIndexes"
LSI = "LocalSecondaryIndexes"


def _s(value: str) -> Item:
    return {"S": value}


def _indexed(ddb: Any) -> str:
    """pk/sk table with GSI by-g (g, KEYS_ONLY), GSI by-a (a, ALL) and LSI by-l (pk + l,
    INCLUDE note)."""
    name = unique("cap")
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g", "a", "l")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
            {
                "IndexName": "by-a",
                "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by-l",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


@pytest.fixture
def indexed(ddb: Any) -> Iterator[str]:
    name = _indexed(ddb)
    yield name
    ddb.delete_table(TableName=name)


@pytest.fixture
def table(new_table: Callable[..., str]) -> str:
    return new_table()


def _item(sk: str, pk: str = "p", **attrs: str) -> Item:
    item = {"pk": _s(pk), "sk": _s(sk)}
    item.update({name: _s(value) for name, value in attrs.items()})
    return item


def _key(sk: str, pk: str = "p") -> Item:
    return {"pk": _s(pk), "sk": _s(sk)}


def _update(ddb: Any, table: str, sk: str, expression: str, **values: str) -> Any:
    extra: Item = {}
    if values:
        extra["ExpressionAttributeValues"] = {f":{k}": _s(v) for k, v in values.items()}
    return ddb.update_item(
        TableName=table,
        Key=_key(sk),
        UpdateExpression=expression,
        ReturnConsumedCapacity="INDEXES",
        **extra,
    )["ConsumedCapacity"]


def _expected(table: str, units: float, **groups: dict[str, float]) -> Item:
    """An INDEXES answer: the table's own ``units`` plus the index units in ``groups``."""
    out: Item = {"TableName": table, "Table": {"CapacityUnits": units}}
    total = units
    for member, indexes in (
        ("GlobalSecondaryIndexes", groups.get("gsi")),
        (LSI, groups.get("lsi")),
    ):
        if indexes:
            out[member] = {name: {"CapacityUnits": u} for name, u in indexes.items()}
            total += sum(indexes.values())
    out["CapacityUnits"] = total
    return out


# -- GetItem --------------------------------------------------------------------------------


def test_get_item_read_units(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": _s("big"), "v": _s("x" * 5000)})  # 5004 bytes
    key = {"pk": _s("big")}
    eventual = ddb.get_item(TableName=table, Key=key, ReturnConsumedCapacity="TOTAL")
    assert eventual["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 1.0}
    assert eventual["Item"]["v"] == _s("x" * 5000)
    strong = ddb.get_item(
        TableName=table, Key=key, ConsistentRead=True, ReturnConsumedCapacity="INDEXES"
    )
    assert strong["ConsumedCapacity"] == {
        "TableName": table,
        "CapacityUnits": 2.0,
        "Table": {"CapacityUnits": 2.0},
    }


def test_get_item_missing_item_and_projection(ddb: Any, table: str) -> None:
    missing = ddb.get_item(TableName=table, Key={"pk": _s("none")}, ReturnConsumedCapacity="TOTAL")
    assert "Item" not in missing
    assert missing["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 0.5}
    ddb.put_item(TableName=table, Item={"pk": _s("big"), "v": _s("x" * 5000), "w": _s("y")})
    projected = ddb.get_item(
        TableName=table,
        Key={"pk": _s("big")},
        ProjectionExpression="w",
        ConsistentRead=True,
        ReturnConsumedCapacity="TOTAL",
    )
    assert projected["Item"] == {"w": _s("y")}
    assert projected["ConsumedCapacity"]["CapacityUnits"] == 2.0  # the whole item counts


def test_get_item_without_the_member_returns_no_capacity(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": _s("a")})
    for extra in ({}, {"ReturnConsumedCapacity": "NONE"}):
        out = ddb.get_item(TableName=table, Key={"pk": _s("a")}, **extra)
        assert out["Item"] == {"pk": _s("a")}
        assert "ConsumedCapacity" not in out


# -- PutItem, UpdateItem, DeleteItem on a table without indexes ------------------------------


def test_put_item_write_units(ddb: Any, table: str) -> None:
    small = ddb.put_item(TableName=table, Item={"pk": _s("a")}, ReturnConsumedCapacity="TOTAL")
    assert small["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 1.0}
    big = ddb.put_item(
        TableName=table,
        Item={"pk": _s("b"), "v": _s("x" * 1500)},
        ReturnConsumedCapacity="INDEXES",
    )
    assert big["ConsumedCapacity"] == {
        "TableName": table,
        "CapacityUnits": 2.0,
        "Table": {"CapacityUnits": 2.0},
    }
    # Replacing the 1.5 KB item with a small one pays for the larger of the two.
    shrink = ddb.put_item(
        TableName=table,
        Item={"pk": _s("b")},
        ReturnConsumedCapacity="TOTAL",
        ReturnValues="ALL_OLD",
    )
    assert shrink["ConsumedCapacity"]["CapacityUnits"] == 2.0
    assert shrink["Attributes"]["v"] == _s("x" * 1500)
    again = ddb.put_item(TableName=table, Item={"pk": _s("b")}, ReturnConsumedCapacity="TOTAL")
    assert again["ConsumedCapacity"]["CapacityUnits"] == 1.0  # the same item is still a write


def test_writes_without_the_member_return_no_capacity(ddb: Any, table: str) -> None:
    out = ddb.put_item(TableName=table, Item={"pk": _s("a")}, ReturnConsumedCapacity="NONE")
    assert "ConsumedCapacity" not in out
    out = ddb.update_item(
        TableName=table,
        Key={"pk": _s("a")},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": _s("1")},
    )
    assert "ConsumedCapacity" not in out
    assert "ConsumedCapacity" not in ddb.delete_item(TableName=table, Key={"pk": _s("a")})


def test_update_item_write_units(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": _s("a")})
    out = ddb.update_item(
        TableName=table,
        Key={"pk": _s("a")},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": _s("x" * 2500)},  # 2504 bytes after: 3 units
        ReturnConsumedCapacity="TOTAL",
        ReturnValues="UPDATED_NEW",
    )
    assert out["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 3.0}
    assert out["Attributes"] == {"v": _s("x" * 2500)}
    shrink = ddb.update_item(
        TableName=table,
        Key={"pk": _s("a")},
        UpdateExpression="REMOVE v",
        ReturnConsumedCapacity="TOTAL",
    )
    assert shrink["ConsumedCapacity"]["CapacityUnits"] == 3.0  # the larger: the item before


def test_delete_item_write_units(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": _s("a"), "v": _s("x" * 1500)})
    out = ddb.delete_item(TableName=table, Key={"pk": _s("a")}, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 2.0}
    missing = ddb.delete_item(
        TableName=table, Key={"pk": _s("a")}, ReturnConsumedCapacity="INDEXES"
    )
    assert missing["ConsumedCapacity"] == {
        "TableName": table,
        "CapacityUnits": 1.0,
        "Table": {"CapacityUnits": 1.0},
    }


def test_a_failed_condition_reports_no_capacity(ddb: Any, table: str) -> None:
    # AWS consumes write units for it, but ConditionalCheckFailedException has no member to
    # carry them (botocore's model: message and Item only).
    ddb.put_item(TableName=table, Item={"pk": _s("a")})
    with pytest.raises(ClientError) as caught:
        ddb.put_item(
            TableName=table,
            Item={"pk": _s("a")},
            ConditionExpression="attribute_not_exists(pk)",
            ReturnConsumedCapacity="TOTAL",
        )
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert "ConsumedCapacity" not in caught.value.response


def test_item_collection_metrics_need_a_local_index(ddb: Any, table: str) -> None:
    out = ddb.put_item(TableName=table, Item={"pk": _s("a")}, ReturnItemCollectionMetrics="SIZE")
    assert "ItemCollectionMetrics" not in out
    out = ddb.delete_item(TableName=table, Key={"pk": _s("a")}, ReturnItemCollectionMetrics="SIZE")
    assert "ItemCollectionMetrics" not in out


# -- secondary indexes ----------------------------------------------------------------------


def test_put_item_outside_every_index_costs_the_table_alone(ddb: Any, indexed: str) -> None:
    out = ddb.put_item(TableName=indexed, Item=_item("a", v="x"), ReturnConsumedCapacity="INDEXES")
    assert out["ConsumedCapacity"] == _expected(indexed, 1.0)


def test_put_item_into_indexes_counts_each_entry(ddb: Any, indexed: str) -> None:
    # by-a projects ALL: its entry is the whole 1.5 KB item (2 units); by-g keeps only keys,
    # by-l keeps the keys and note.
    item = _item("a", g="G", a="A", l="L", note="n", v="x" * 1500)
    out = ddb.put_item(TableName=indexed, Item=item, ReturnConsumedCapacity="INDEXES")
    expected = _expected(indexed, 2.0, gsi={"by-g": 1.0, "by-a": 2.0}, lsi={"by-l": 1.0})
    assert out["ConsumedCapacity"] == expected
    assert out["ConsumedCapacity"]["CapacityUnits"] == 6.0
    total = ddb.put_item(
        TableName=indexed, Item=_item("b", g="G", a="A"), ReturnConsumedCapacity="TOTAL"
    )
    assert total["ConsumedCapacity"] == {"TableName": indexed, "CapacityUnits": 3.0}


def test_an_index_key_change_costs_two_index_writes(ddb: Any, indexed: str) -> None:
    ddb.put_item(TableName=indexed, Item=_item("a", g="G"))
    spent = _update(ddb, indexed, "a", "SET g = :g", g="H")
    assert spent == _expected(indexed, 1.0, gsi={"by-g": 2.0})


def test_projected_and_unprojected_changes(ddb: Any, indexed: str) -> None:
    ddb.put_item(TableName=indexed, Item=_item("a", g="G", l="L", note="n"))
    # v is in no index's projection: the table write alone.
    assert _update(ddb, indexed, "a", "SET v = :v", v="1") == _expected(indexed, 1.0)
    # note is projected into by-l (INCLUDE) but not by-g (KEYS_ONLY): one write for by-l.
    spent = _update(ddb, indexed, "a", "SET note = :n", n="changed")
    assert spent == _expected(indexed, 1.0, lsi={"by-l": 1.0})


def test_entering_and_leaving_an_index(ddb: Any, indexed: str) -> None:
    ddb.put_item(TableName=indexed, Item=_item("a"))
    assert _update(ddb, indexed, "a", "SET a = :a", a="A") == _expected(
        indexed, 1.0, gsi={"by-a": 1.0}
    )
    assert _update(ddb, indexed, "a", "REMOVE a") == _expected(indexed, 1.0, gsi={"by-a": 1.0})


def test_delete_item_from_indexes(ddb: Any, indexed: str) -> None:
    ddb.put_item(TableName=indexed, Item=_item("a", g="G", a="A", v="x" * 1500))
    out = ddb.delete_item(TableName=indexed, Key=_key("a"), ReturnConsumedCapacity="INDEXES")
    assert out["ConsumedCapacity"] == _expected(indexed, 2.0, gsi={"by-g": 1.0, "by-a": 2.0})


def test_item_collection_metrics_on_a_table_with_a_local_index(ddb: Any, indexed: str) -> None:
    expected = {"ItemCollectionKey": {"pk": _s("p")}, "SizeEstimateRangeGB": [0.0, 1.0]}
    put = ddb.put_item(TableName=indexed, Item=_item("a"), ReturnItemCollectionMetrics="SIZE")
    assert put["ItemCollectionMetrics"] == expected
    updated = ddb.update_item(
        TableName=indexed,
        Key=_key("a"),
        UpdateExpression="SET l = :l",
        ExpressionAttributeValues={":l": _s("L")},
        ReturnItemCollectionMetrics="SIZE",
        ReturnConsumedCapacity="TOTAL",
    )
    assert updated["ItemCollectionMetrics"] == expected
    assert updated["ConsumedCapacity"]["CapacityUnits"] == 2.0  # table + entering by-l
    deleted = ddb.delete_item(TableName=indexed, Key=_key("a"), ReturnItemCollectionMetrics="SIZE")
    assert deleted["ItemCollectionMetrics"] == expected
    assert "ItemCollectionMetrics" not in ddb.put_item(TableName=indexed, Item=_item("b"))


# -- batches, transactions and PartiQL --------------------------------------------------------


def test_batch_write_breaks_units_down_by_index(ddb: Any, indexed: str) -> None:
    out = ddb.batch_write_item(
        RequestItems={
            indexed: [
                {"PutRequest": {"Item": _item("a", g="G")}},
                {"PutRequest": {"Item": _item("b", a="A", l="L")}},
                {"PutRequest": {"Item": _item("c", pk="q")}},
            ]
        },
        ReturnConsumedCapacity="INDEXES",
        ReturnItemCollectionMetrics="SIZE",
    )
    assert out["ConsumedCapacity"] == [
        _expected(indexed, 3.0, gsi={"by-g": 1.0, "by-a": 1.0}, lsi={"by-l": 1.0})
    ]
    # One entry per item collection (partition key value) written.
    assert out["ItemCollectionMetrics"] == {
        indexed: [
            {"ItemCollectionKey": {"pk": _s("p")}, "SizeEstimateRangeGB": [0.0, 1.0]},
            {"ItemCollectionKey": {"pk": _s("q")}, "SizeEstimateRangeGB": [0.0, 1.0]},
        ]
    }


def test_transaction_units_by_index(ddb: Any, indexed: str) -> None:
    ddb.put_item(TableName=indexed, Item=_item("b", g="G"))
    out = ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": indexed, "Item": _item("a", a="A")}},
            {
                "Update": {
                    "TableName": indexed,
                    "Key": _key("b"),
                    "UpdateExpression": "SET g = :g",
                    "ExpressionAttributeValues": {":g": _s("H")},
                }
            },
        ],
        ReturnConsumedCapacity="INDEXES",
        ReturnItemCollectionMetrics="SIZE",
    )
    # Two transactional table writes (2 units each); index writes are not doubled (INFERRED).
    assert out["ConsumedCapacity"] == [
        {
            "TableName": indexed,
            "CapacityUnits": 7.0,
            "WriteCapacityUnits": 7.0,
            "Table": {"CapacityUnits": 4.0, "WriteCapacityUnits": 4.0},
            GSI: {
                "by-a": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0},
                "by-g": {"CapacityUnits": 2.0, "WriteCapacityUnits": 2.0},
            },
        }
    ]
    assert out["ItemCollectionMetrics"] == {
        indexed: [{"ItemCollectionKey": {"pk": _s("p")}, "SizeEstimateRangeGB": [0.0, 1.0]}]
    }


def test_partiql_writes_break_units_down_by_index(ddb: Any, indexed: str) -> None:
    one = ddb.execute_statement(
        Statement=f"INSERT INTO \"{indexed}\" VALUE {{'pk': 'p', 'sk': 'a', 'g': 'G'}}",
        ReturnConsumedCapacity="INDEXES",
    )
    assert one["ConsumedCapacity"] == _expected(indexed, 1.0, gsi={"by-g": 1.0})
    batch = ddb.batch_execute_statement(
        Statements=[
            {"Statement": f"UPDATE \"{indexed}\" SET g = 'H' WHERE pk = 'p' AND sk = 'a'"},
            {"Statement": f"INSERT INTO \"{indexed}\" VALUE {{'pk': 'p', 'sk': 'b', 'l': 'L'}}"},
        ],
        ReturnConsumedCapacity="INDEXES",
    )
    assert batch["ConsumedCapacity"] == [
        _expected(indexed, 2.0, gsi={"by-g": 2.0}, lsi={"by-l": 1.0})
    ]
    tx = ddb.execute_transaction(
        TransactStatements=[
            {"Statement": f"DELETE FROM \"{indexed}\" WHERE pk = 'p' AND sk = 'b'"},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert tx["ConsumedCapacity"] == [
        {"TableName": indexed, "CapacityUnits": 3.0, "WriteCapacityUnits": 3.0}
    ]
