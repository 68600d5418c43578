"""BatchGetItem and BatchWriteItem through real boto3: results, limits, errors, capacity, and
the stream records batch writes leave."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import unique

KEY_MISMATCH = "The provided key element does not match the schema"
DUPLICATES = "Provided list of item keys contains duplicates"


@pytest.fixture
def table(new_table: Callable[..., str]) -> str:
    return new_table()


def _put(pk: str, **attrs: Any) -> dict[str, Any]:
    return {"PutRequest": {"Item": {"pk": {"S": pk}, **attrs}}}


def _delete(pk: str) -> dict[str, Any]:
    return {"DeleteRequest": {"Key": {"pk": {"S": pk}}}}


def _error(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def _records(streams: Any, arn: str) -> list[dict[str, Any]]:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return streams.get_records(ShardIterator=it)["Records"]


# -- BatchWriteItem ---------------------------------------------------------------------------


def test_batch_write_puts_and_deletes_with_nothing_unprocessed(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "old"}})
    out = ddb.batch_write_item(
        RequestItems={table: [_put("a", v={"N": "1"}), _put("b"), _delete("old")]}
    )
    assert out["UnprocessedItems"] == {}
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]["v"] == {"N": "1"}
    assert "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "b"}})
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "old"}})


def test_batch_write_spans_tables(ddb: Any, new_table: Callable[..., str]) -> None:
    first, second = new_table(), new_table(range_key=True)
    ddb.batch_write_item(
        RequestItems={
            first: [_put("a")],
            second: [{"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}}}],
        }
    )
    assert "Item" in ddb.get_item(TableName=first, Key={"pk": {"S": "a"}})
    assert "Item" in ddb.get_item(TableName=second, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})


def test_batch_write_put_replaces_the_whole_item(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "gone": {"S": "x"}})
    ddb.batch_write_item(RequestItems={table: [_put("a", kept={"S": "y"})]})
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]
    assert item == {"pk": {"S": "a"}, "kept": {"S": "y"}}


def test_batch_write_records_only_effective_changes(
    ddb: Any, streams: Any, stream_table: tuple[str, str]
) -> None:
    table, arn = stream_table
    for pk in ("same", "changed", "removed"):
        ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "v": {"N": "1"}})
    before = len(_records(streams, arn))
    ddb.batch_write_item(
        RequestItems={
            table: [
                _put("same", v={"N": "1"}),  # identical: no record
                _put("changed", v={"N": "2"}),
                _put("new", v={"N": "3"}),
                _delete("removed"),
                _delete("never-there"),  # nothing to delete: no record
            ]
        }
    )
    records = _records(streams, arn)[before:]
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [
        ("MODIFY", "changed"),
        ("INSERT", "new"),
        ("REMOVE", "removed"),
    ]
    assert records[0]["dynamodb"]["OldImage"]["v"] == {"N": "1"}
    assert records[0]["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    assert records[2]["dynamodb"]["OldImage"]["v"] == {"N": "1"}


def test_batch_write_more_than_25_requests_for_a_table(raw_ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        raw_ddb.batch_write_item(RequestItems={table: [_put(str(i)) for i in range(26)]})
    code, message = _error(err)
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value '{")
    assert message.endswith(
        "at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: "
        "[Member must have length less than or equal to 25, "
        "Member must have length greater than or equal to 1]"
    )


def test_batch_write_more_than_25_requests_across_tables(ddb: Any) -> None:
    missing = unique("missing")  # the count is checked before the tables
    with pytest.raises(ClientError) as err:
        ddb.batch_write_item(
            RequestItems={
                missing: [_put(str(i)) for i in range(13)],
                unique("missing"): [_put(str(i)) for i in range(13)],
            }
        )
    assert _error(err) == (
        "ValidationException",
        "Too many items requested for the BatchWriteItem call",
    )


def test_batch_write_25_requests_across_tables(ddb: Any, new_table: Callable[..., str]) -> None:
    first, second = new_table(), new_table()
    ddb.batch_write_item(
        RequestItems={
            first: [_put(str(i)) for i in range(12)],
            second: [_put(str(i)) for i in range(13)],
        }
    )
    assert "Item" in ddb.get_item(TableName=second, Key={"pk": {"S": "12"}})


def test_batch_write_empty_request_is_rejected(raw_ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        raw_ddb.batch_write_item(RequestItems={table: [{}]})
    assert _error(err) == (
        "ValidationException",
        "Supplied AttributeValue has more than one datatypes set, "
        "must contain exactly one of the supported datatypes",
    )


def test_batch_write_missing_table_is_reported_before_duplicates(ddb: Any) -> None:
    with pytest.raises(ClientError) as err:
        ddb.batch_write_item(RequestItems={unique("missing"): [_put("a"), _put("a")]})
    assert _error(err) == ("ResourceNotFoundException", "Requested resource not found")


@pytest.mark.parametrize(
    "requests",
    [
        [_put("a"), _put("a")],
        [_put("a"), _delete("a")],
        [_delete("a"), _delete("a")],
    ],
)
def test_batch_write_two_requests_on_one_item(
    ddb: Any, table: str, requests: list[dict[str, Any]]
) -> None:
    with pytest.raises(ClientError) as err:
        ddb.batch_write_item(RequestItems={table: requests})
    assert _error(err) == ("ValidationException", DUPLICATES)


def test_batch_write_duplicate_number_keys_compare_numerically(ddb: Any) -> None:
    name = unique("numkey")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "n", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "n", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(ClientError) as err:
        ddb.batch_write_item(
            RequestItems={
                name: [
                    {"PutRequest": {"Item": {"n": {"N": "1"}}}},
                    {"PutRequest": {"Item": {"n": {"N": "1.0"}}}},
                ]
            }
        )
    assert _error(err) == ("ValidationException", DUPLICATES)
    ddb.delete_table(TableName=name)


def test_batch_write_put_without_its_key(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {"x": {"S": "1"}}}}]})
    assert _error(err) == ("ValidationException", KEY_MISMATCH)


def test_batch_write_put_with_wrong_key_type(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {"pk": {"N": "1"}}}}]})
    assert _error(err) == ("ValidationException", KEY_MISMATCH)


def test_batch_write_delete_key_not_matching_the_schema(ddb: Any, table: str) -> None:
    key = {"pk": {"S": "a"}, "extra": {"S": "b"}}
    with pytest.raises(ClientError) as err:
        ddb.batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": key}}]})
    assert _error(err) == ("ValidationException", KEY_MISMATCH)


def test_batch_write_item_too_big_writes_nothing(ddb: Any, table: str) -> None:
    big = {"S": "x" * (400 * 1024)}
    with pytest.raises(ClientError) as err:
        ddb.batch_write_item(RequestItems={table: [_put("small"), _put("big", v=big)]})
    assert _error(err) == (
        "ValidationException",
        "Item size has exceeded the maximum allowed size",
    )
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "small"}})


def test_batch_write_invalid_attribute_value(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.batch_write_item(RequestItems={table: [_put("a", v={"N": "abc"})]})
    assert _error(err) == (
        "ValidationException",
        "The parameter cannot be converted to a numeric value: abc",
    )


def test_batch_write_consumed_capacity_per_table(ddb: Any, new_table: Callable[..., str]) -> None:
    first, second = new_table(), new_table()
    out = ddb.batch_write_item(
        RequestItems={
            first: [_put("a"), _put("b", v={"S": "x" * 1500})],  # 1 + 2 units
            second: [_delete("nothing")],  # a delete of a missing item still costs 1
        },
        ReturnConsumedCapacity="TOTAL",
    )
    by_table = {c["TableName"]: c for c in out["ConsumedCapacity"]}
    assert by_table == {
        first: {"TableName": first, "CapacityUnits": 3.0},
        second: {"TableName": second, "CapacityUnits": 1.0},
    }


def test_batch_write_consumed_capacity_indexes_and_item_collection_metrics(
    ddb: Any, table: str
) -> None:
    out = ddb.batch_write_item(
        RequestItems={table: [_put("a")]},
        ReturnConsumedCapacity="INDEXES",
        ReturnItemCollectionMetrics="SIZE",
    )
    assert out["ConsumedCapacity"] == [
        {"TableName": table, "CapacityUnits": 1.0, "Table": {"CapacityUnits": 1.0}}
    ]
    assert out["ItemCollectionMetrics"] == {}


def test_batch_write_without_return_members_has_no_capacity(ddb: Any, table: str) -> None:
    out = ddb.batch_write_item(RequestItems={table: [_put("a")]})
    assert "ConsumedCapacity" not in out
    assert "ItemCollectionMetrics" not in out


def test_resource_batch_writer_sends_many_items(
    server: Any, ddb: Any, new_table: Callable[..., str]
) -> None:
    import boto3

    name = new_table()
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )
    table = resource.Table(name)
    with table.batch_writer(overwrite_by_pkeys=["pk"]) as writer:
        for i in range(60):
            writer.put_item(Item={"pk": f"k{i}", "n": i})
        writer.put_item(Item={"pk": "k0", "n": 100})  # replaces the buffered k0
        writer.delete_item(Key={"pk": "k1"})
    assert table.get_item(Key={"pk": "k59"})["Item"] == {"pk": "k59", "n": 59}
    assert table.get_item(Key={"pk": "k0"})["Item"]["n"] == 100
    assert "Item" not in table.get_item(Key={"pk": "k1"})


# -- BatchGetItem -----------------------------------------------------------------------------


def _keys(*pks: str) -> list[dict[str, Any]]:
    return [{"pk": {"S": pk}} for pk in pks]


def test_batch_get_returns_found_items_from_each_table(
    ddb: Any, new_table: Callable[..., str]
) -> None:
    first, second = new_table(), new_table()
    ddb.put_item(TableName=first, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.put_item(TableName=first, Item={"pk": {"S": "b"}, "v": {"N": "2"}})
    ddb.put_item(TableName=second, Item={"pk": {"S": "a"}, "w": {"S": "x"}})
    out = ddb.batch_get_item(
        RequestItems={
            first: {"Keys": _keys("a", "b", "missing")},
            second: {"Keys": _keys("a", "missing")},
        }
    )
    assert sorted(i["pk"]["S"] for i in out["Responses"][first]) == ["a", "b"]
    assert out["Responses"][second] == [{"pk": {"S": "a"}, "w": {"S": "x"}}]
    assert out["UnprocessedKeys"] == {}


def test_batch_get_table_with_nothing_found_has_an_empty_list(ddb: Any, table: str) -> None:
    out = ddb.batch_get_item(RequestItems={table: {"Keys": _keys("none")}})
    assert out["Responses"] == {table: []}


def test_batch_get_projection_per_table(ddb: Any, new_table: Callable[..., str]) -> None:
    first, second = new_table(), new_table()
    item = {"a": {"S": "1"}, "b": {"S": "2"}, "c": {"M": {"d": {"N": "3"}, "e": {"N": "4"}}}}
    ddb.put_item(TableName=first, Item={"pk": {"S": "k"}, **item})
    ddb.put_item(TableName=second, Item={"pk": {"S": "k"}, **item})
    out = ddb.batch_get_item(
        RequestItems={
            first: {
                "Keys": _keys("k"),
                "ProjectionExpression": "#a, c.d",
                "ExpressionAttributeNames": {"#a": "a"},
            },
            second: {"Keys": _keys("k"), "ProjectionExpression": "b"},
        }
    )
    assert out["Responses"][first] == [{"a": {"S": "1"}, "c": {"M": {"d": {"N": "3"}}}}]
    assert out["Responses"][second] == [{"b": {"S": "2"}}]


def test_batch_get_legacy_attributes_to_get(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "a": {"S": "1"}, "b": {"S": "2"}})
    out = ddb.batch_get_item(RequestItems={table: {"Keys": _keys("k"), "AttributesToGet": ["b"]}})
    assert out["Responses"][table] == [{"b": {"S": "2"}}]


def test_batch_get_more_than_100_keys_across_tables_before_table_lookup(raw_ddb: Any) -> None:
    request = {
        unique("missing"): {"Keys": _keys(*[f"a{i}" for i in range(60)])},
        unique("missing"): {"Keys": _keys(*[f"b{i}" for i in range(41)])},
    }
    with pytest.raises(ClientError) as err:
        raw_ddb.batch_get_item(RequestItems=request)
    assert _error(err) == (
        "ValidationException",
        "Too many items requested for the BatchGetItem call",
    )


def test_batch_get_exactly_100_keys_is_allowed(ddb: Any, table: str) -> None:
    out = ddb.batch_get_item(RequestItems={table: {"Keys": _keys(*map(str, range(100)))}})
    assert out["Responses"][table] == []


def test_batch_get_more_than_100_keys_for_one_table(raw_ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        raw_ddb.batch_get_item(RequestItems={table: {"Keys": _keys(*map(str, range(101)))}})
    code, message = _error(err)
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value '[")
    assert message.endswith(
        f"at 'requestItems.{table}.member.keys' failed to satisfy constraint: "
        "Member must have length less than or equal to 100"
    )


def test_batch_get_no_request_items(raw_ddb: Any) -> None:
    with pytest.raises(ClientError) as err:
        raw_ddb.batch_get_item(RequestItems={})
    assert _error(err) == (
        "ValidationException",
        "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1",
    )


def test_batch_get_duplicate_keys(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.batch_get_item(RequestItems={table: {"Keys": _keys("a", "b", "a")}})
    assert _error(err) == ("ValidationException", DUPLICATES)


def test_batch_get_missing_table(
    ddb: Any,
    table: str,
) -> None:
    with pytest.raises(ClientError) as err:
        ddb.batch_get_item(
            RequestItems={table: {"Keys": _keys("a")}, unique("missing"): {"Keys": _keys("a")}}
        )
    assert _error(err) == ("ResourceNotFoundException", "Requested resource not found")


def test_batch_get_key_not_matching_the_schema(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"N": "1"}}]}})
    assert _error(err) == ("ValidationException", KEY_MISMATCH)


def test_batch_get_expression_and_legacy_together(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.batch_get_item(
            RequestItems={
                table: {"Keys": _keys("a"), "AttributesToGet": ["a"], "ProjectionExpression": "a"}
            }
        )
    assert _error(err) == (
        "ValidationException",
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributesToGet} Expression parameters: "
        "{ProjectionExpression}",
    )


def test_batch_get_names_without_an_expression(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.batch_get_item(
            RequestItems={table: {"Keys": _keys("a"), "ExpressionAttributeNames": {"#a": "a"}}}
        )
    assert _error(err) == (
        "ValidationException",
        "ExpressionAttributeNames can only be specified when using expressions",
    )


def test_batch_get_unused_names(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.batch_get_item(
            RequestItems={
                table: {
                    "Keys": _keys("a"),
                    "ProjectionExpression": "a",
                    "ExpressionAttributeNames": {"#b": "b"},
                }
            }
        )
    assert _error(err) == (
        "ValidationException",
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}",
    )


def test_batch_get_duplicate_attributes_to_get(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.batch_get_item(
            RequestItems={table: {"Keys": _keys("a"), "AttributesToGet": ["x", "y", "x"]}}
        )
    assert _error(err) == (
        "ValidationException",
        "One or more parameter values were invalid: Duplicate value in attribute name: x",
    )


def test_batch_get_consumed_capacity(ddb: Any, new_table: Callable[..., str]) -> None:
    first, second = new_table(), new_table()
    ddb.put_item(TableName=first, Item={"pk": {"S": "big"}, "v": {"S": "x" * 5000}})
    out = ddb.batch_get_item(
        RequestItems={
            first: {"Keys": _keys("big", "missing")},  # 2 units + 1 unit, halved
            second: {"Keys": _keys("missing"), "ConsistentRead": True},  # 1 unit
        },
        ReturnConsumedCapacity="INDEXES",
    )
    by_table = {c["TableName"]: c for c in out["ConsumedCapacity"]}
    assert by_table[first] == {
        "TableName": first,
        "CapacityUnits": 1.5,
        "Table": {"CapacityUnits": 1.5},
    }
    assert by_table[second]["CapacityUnits"] == 1.0


def test_batch_get_response_over_16_mb_leaves_unprocessed_keys(ddb: Any, table: str) -> None:
    filler = {"S": "x" * 390_000}
    pks = [f"k{i:02d}" for i in range(45)]  # about 17.5 MB in all
    for start in range(0, len(pks), 20):
        ddb.batch_write_item(RequestItems={table: [_put(pk, v=filler) for pk in pks[start:][:20]]})
    request = {table: {"Keys": _keys(*pks), "ProjectionExpression": "pk, v"}}
    first = ddb.batch_get_item(RequestItems=request)
    got = first["Responses"][table]
    left = first["UnprocessedKeys"][table]
    assert len(got) > 0 and len(left["Keys"]) > 0
    assert len(got) + len(left["Keys"]) == len(pks)
    assert sum(len(i["v"]["S"]) for i in got) <= 16 * 1024 * 1024
    assert left["ProjectionExpression"] == "pk, v"  # the retry asks for the same thing
    second = ddb.batch_get_item(RequestItems=first["UnprocessedKeys"])
    assert second["UnprocessedKeys"] == {}
    fetched = {i["pk"]["S"] for i in got} | {i["pk"]["S"] for i in second["Responses"][table]}
    assert fetched == set(pks)


def test_resource_batch_get_item_with_python_types(server: Any, ddb: Any, table: str) -> None:
    import boto3

    resource = boto3.resource(
        "dynamodb",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )
    with resource.Table(table).batch_writer() as writer:
        for i in range(3):
            writer.put_item(Item={"pk": f"k{i}", "n": i, "tags": {"a", "b"}})
    out = resource.batch_get_item(
        RequestItems={table: {"Keys": [{"pk": "k0"}, {"pk": "k2"}, {"pk": "nope"}]}}
    )
    items = sorted(out["Responses"][table], key=lambda i: i["pk"])
    assert [(i["pk"], i["n"], i["tags"]) for i in items] == [
        ("k0", 0, {"a", "b"}),
        ("k2", 2, {"a", "b"}),
    ]
