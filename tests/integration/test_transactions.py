"""TransactWriteItems and TransactGetItems through real boto3: all or nothing, cancellation
reasons, one item per action, idempotency tokens, stream records, capacity and limits."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import HeadwaterServer
from tests.conftest import create_table, unique

CANCELLED = "Transaction cancelled, please refer cancellation reasons for specific reasons "
ONE_ITEM = "Transaction request cannot include multiple operations on one item"


@pytest.fixture
def table(new_table: Callable[..., str]) -> str:
    return new_table()


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


def _get(ddb: Any, table: str, pk: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = ddb.get_item(TableName=table, Key=_key(pk)).get("Item")
    return item


def _put(table: str, pk: str, **extra: Any) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": {"pk": {"S": pk}}, **extra}}


def _check(table: str, pk: str, condition: str, **extra: Any) -> dict[str, Any]:
    return {
        "ConditionCheck": {
            "TableName": table,
            "Key": _key(pk),
            "ConditionExpression": condition,
            **extra,
        }
    }


def _increment(table: str, pk: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table,
            "Key": _key(pk),
            "UpdateExpression": "SET n = if_not_exists(n, :zero) + :one",
            "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}},
        }
    }


def _error(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def _records(streams: Any, arn: str) -> list[dict[str, Any]]:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return streams.get_records(ShardIterator=it)["Records"]


# -- TransactWriteItems: success ------------------------------------------------------------


def test_put_update_delete_across_tables_all_apply(ddb: Any, new_table: Callable[..., str]) -> None:
    first, second = new_table(), new_table(range_key=True)
    ddb.put_item(TableName=first, Item={"pk": {"S": "gone"}})
    ddb.put_item(TableName=first, Item={"pk": {"S": "counter"}, "n": {"N": "41"}})
    out = ddb.transact_write_items(
        TransactItems=[
            _put(first, "new", ConditionExpression="attribute_not_exists(pk)"),
            _increment(first, "counter"),
            {"Delete": {"TableName": first, "Key": _key("gone")}},
            {"Put": {"TableName": second, "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}}},
        ]
    )
    assert "ConsumedCapacity" not in out
    assert _get(ddb, first, "new") == {"pk": {"S": "new"}}
    assert _get(ddb, first, "counter") == {"pk": {"S": "counter"}, "n": {"N": "42"}}
    assert _get(ddb, first, "gone") is None
    assert "Item" in ddb.get_item(TableName=second, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})


def test_update_creates_a_missing_item(ddb: Any, table: str) -> None:
    ddb.transact_write_items(TransactItems=[_increment(table, "fresh")])
    assert _get(ddb, table, "fresh") == {"pk": {"S": "fresh"}, "n": {"N": "1"}}


def test_condition_check_that_passes_writes_nothing(ddb: Any, table: str) -> None:
    ddb.transact_write_items(
        TransactItems=[_check(table, "ghost", "attribute_not_exists(pk)"), _put(table, "real")]
    )
    assert _get(ddb, table, "ghost") is None
    assert _get(ddb, table, "real") == {"pk": {"S": "real"}}


def test_table_named_by_its_arn(ddb: Any, table: str) -> None:
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    ddb.transact_write_items(TransactItems=[_put(arn, "by-arn")])
    assert _get(ddb, table, "by-arn") == {"pk": {"S": "by-arn"}}


# -- TransactWriteItems: cancellation --------------------------------------------------------


def test_failed_condition_cancels_everything_with_reasons_in_order(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "exists"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(
            TransactItems=[
                _put(table, "a"),
                {
                    "Update": {
                        "TableName": table,
                        "Key": _key("exists"),
                        "UpdateExpression": "SET v = :two",
                        "ConditionExpression": "v = :five",
                        "ExpressionAttributeValues": {":two": {"N": "2"}, ":five": {"N": "5"}},
                    }
                },
                _put(table, "b", ConditionExpression="attribute_not_exists(pk)"),
            ]
        )
    assert _error(err) == (
        "TransactionCanceledException",
        CANCELLED + "[None, ConditionalCheckFailed, None]",
    )
    assert err.value.response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
        {"Code": "None"},
    ]
    assert _get(ddb, table, "a") is None
    assert _get(ddb, table, "b") is None
    assert _get(ddb, table, "exists") == {"pk": {"S": "exists"}, "v": {"N": "1"}}


def test_every_failed_condition_is_reported(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(
            TransactItems=[
                _check(table, "x", "attribute_exists(pk)"),
                _put(table, "y"),
                _put(table, "z", ConditionExpression="attribute_exists(pk)"),
            ]
        )
    codes = [r["Code"] for r in err.value.response["CancellationReasons"]]
    assert codes == ["ConditionalCheckFailed", "None", "ConditionalCheckFailed"]
    assert _error(err)[1] == CANCELLED + "[ConditionalCheckFailed, None, ConditionalCheckFailed]"


def test_return_values_on_condition_check_failure_all_old(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(
            TransactItems=[
                _check(
                    table,
                    "k",
                    "v = :two",
                    ExpressionAttributeValues={":two": {"N": "2"}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                ),
                _check(
                    table,
                    "missing",
                    "attribute_exists(pk)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                ),
            ]
        )
    first, second = err.value.response["CancellationReasons"]
    assert first == {
        "Item": {"pk": {"S": "k"}, "v": {"N": "1"}},
        "Code": "ConditionalCheckFailed",
        "Message": "The conditional request failed",
    }
    assert "Item" not in second  # nothing to return for a missing item


def test_cancellation_error_on_the_wire(server: Any, table: str) -> None:
    body = {
        "TransactItems": [
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": _key("none"),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            }
        ]
    }
    request = urllib.request.Request(
        server.url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "X-Amz-Target": "DynamoDB_20120810.TransactWriteItems",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 400
    assert json.loads(err.value.read()) == {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": CANCELLED + "[ConditionalCheckFailed]",
        "CancellationReasons": [
            {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
        ],
    }


def test_wrong_key_type_cancels_with_a_validation_error_for_the_first_only(
    ddb: Any, table: str
) -> None:
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(
            TransactItems=[
                _put(table, "ok"),
                {"Put": {"TableName": table, "Item": {"pk": {"N": "7"}}}},
                {"Put": {"TableName": table, "Item": {"pk": {"N": "8"}}}},
                _put(table, "c", ConditionExpression="attribute_exists(pk)"),
            ]
        )
    reasons = err.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ValidationError", "None", "None"]
    assert reasons[1]["Message"] == (
        "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"
    )
    assert _error(err)[1] == CANCELLED + "[None, ValidationError, None, None]"
    assert _get(ddb, table, "ok") is None


def test_update_that_fails_on_stored_data_cancels(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"S": "text"}})
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=[_put(table, "other"), _increment(table, "k")])
    reasons = err.value.response["CancellationReasons"]
    assert reasons == [
        {"Code": "None"},
        {
            "Code": "ValidationError",
            "Message": "An operand in the update expression has an incorrect data type",
        },
    ]
    assert _get(ddb, table, "other") is None


def test_cancelled_transaction_leaves_no_stream_record(
    ddb: Any, streams: Any, stream_table: tuple[str, str]
) -> None:
    table, arn = stream_table
    ddb.put_item(TableName=table, Item={"pk": {"S": "seed"}})
    with pytest.raises(ClientError):
        ddb.transact_write_items(
            TransactItems=[
                _put(table, "a"),
                {"Delete": {"TableName": table, "Key": _key("seed")}},
                _check(table, "b", "attribute_exists(pk)"),
            ]
        )
    ddb.put_item(TableName=table, Item={"pk": {"S": "after"}})
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in _records(streams, arn)]
    assert keys == ["seed", "after"]


# -- TransactWriteItems: request errors ------------------------------------------------------


@pytest.mark.parametrize(
    "second",
    [
        lambda t: _put(t, "same"),
        lambda t: _check(t, "same", "attribute_not_exists(pk)"),
        lambda t: {"Delete": {"TableName": t, "Key": _key("same")}},
        lambda t: _increment(t, "same"),
    ],
)
def test_two_actions_on_one_item(ddb: Any, table: str, second: Any) -> None:
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=[_put(table, "same"), second(table)])
    assert _error(err) == ("ValidationException", ONE_ITEM)
    assert _get(ddb, table, "same") is None


def test_same_key_in_two_tables_is_two_items(ddb: Any, new_table: Callable[..., str]) -> None:
    first, second = new_table(), new_table()
    ddb.transact_write_items(TransactItems=[_put(first, "k"), _put(second, "k")])
    assert _get(ddb, first, "k") and _get(ddb, second, "k")


def test_more_than_100_actions(raw_ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        raw_ddb.transact_write_items(TransactItems=[_put(table, str(i)) for i in range(101)])
    code, message = _error(err)
    assert code == "ValidationException"
    assert message.endswith(
        "at 'transactItems' failed to satisfy constraint: "
        "Member must have length less than or equal to 100"
    )


def test_exactly_100_actions(ddb: Any, table: str) -> None:
    ddb.transact_write_items(TransactItems=[_put(table, str(i)) for i in range(100)])
    assert _get(ddb, table, "99") == {"pk": {"S": "99"}}


def test_no_actions(raw_ddb: Any) -> None:
    with pytest.raises(ClientError) as err:
        raw_ddb.transact_write_items(TransactItems=[])
    assert _error(err) == (
        "ValidationException",
        "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1",
    )


def test_action_with_no_operation(raw_ddb: Any) -> None:
    with pytest.raises(ClientError) as err:
        raw_ddb.transact_write_items(TransactItems=[{}])
    assert _error(err) == (
        "ValidationException",
        "TransactItems can only contain one of Check, Put, Update or Delete",
    )


def test_condition_check_needs_a_condition(raw_ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        raw_ddb.transact_write_items(
            TransactItems=[{"ConditionCheck": {"TableName": table, "Key": _key("a")}}]
        )
    assert _error(err) == (
        "ValidationException",
        "1 validation error detected: Value null at "
        "'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy "
        "constraint: Member must not be null",
    )


def test_missing_table(
    ddb: Any,
    table: str,
) -> None:
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=[_put(table, "a"), _put(unique("missing"), "a")])
    assert _error(err) == ("ResourceNotFoundException", "Requested resource not found")


def test_unused_value_fails_the_whole_request(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(
            TransactItems=[
                _put(
                    table,
                    "a",
                    ConditionExpression="attribute_not_exists(pk)",
                    ExpressionAttributeValues={":xyz": {"N": "7"}},
                )
            ]
        )
    assert _error(err) == (
        "ValidationException",
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:xyz}",
    )


def test_undefined_name_fails_the_whole_request(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(
            TransactItems=[_put(table, "a", ConditionExpression="attribute_exists(#xyz)")]
        )
    code, message = _error(err)
    assert code == "ValidationException"
    assert message.startswith("Invalid ConditionExpression: ")
    assert "#xyz" in message


def test_values_without_a_condition(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(
            TransactItems=[_put(table, "a", ExpressionAttributeValues={":v": {"N": "1"}})]
        )
    assert _error(err) == (
        "ValidationException",
        "ExpressionAttributeValues can only be specified when using expressions: "
        "ConditionExpression is null",
    )


def test_syntax_error(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=[_put(table, "a", ConditionExpression="hello!")])
    code, message = _error(err)
    assert code == "ValidationException"
    assert message.startswith("Invalid ConditionExpression: Syntax error")


def test_bad_return_values_on_condition_check_failure(raw_ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        raw_ddb.transact_write_items(
            TransactItems=[_put(table, "a", ReturnValuesOnConditionCheckFailure="dog")]
        )
    code, message = _error(err)
    assert code == "ValidationException"
    assert "returnValuesOnConditionCheckFailure" in message


def test_payload_over_4_mb(ddb: Any, table: str) -> None:
    filler = {"S": "x" * 100_000}
    actions = [
        {"Put": {"TableName": table, "Item": {"pk": {"S": f"p{i}"}, "v": filler}}}
        for i in range(50)
    ]
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=actions)
    code, message = _error(err)
    assert code == "ValidationException"
    assert "size cannot exceed" in message
    assert _get(ddb, table, "p0") is None


def test_payload_of_3_mb_is_fine(ddb: Any, table: str) -> None:
    filler = {"S": "x" * 100_000}
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": f"p{i}"}, "v": filler}}}
            for i in range(30)
        ]
    )
    assert _get(ddb, table, "p29") is not None


def _put_big_items(ddb: Any, table: str, count: int) -> None:
    """``count`` items of about 390 KB: eleven of them pass 4 MB, ten do not."""
    filler = {"S": "x" * 390_000}
    for i in range(count):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"big{i}"}, "v": filler})


def test_updates_that_grow_items_past_4_mb_are_refused(ddb: Any, table: str) -> None:
    _put_big_items(ddb, table, 11)
    updates = [
        {
            "Update": {
                "TableName": table,
                "Key": _key(f"big{i}"),
                "UpdateExpression": "SET touched = :t",
                "ExpressionAttributeValues": {":t": {"N": "1"}},
            }
        }
        for i in range(11)
    ]
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=updates)
    code, message = _error(err)
    assert code == "ValidationException"
    assert "size cannot exceed" in message
    assert "touched" not in (_get(ddb, table, "big0") or {})
    ddb.transact_write_items(TransactItems=updates[:10])
    assert (_get(ddb, table, "big9") or {})["touched"] == {"N": "1"}


def test_consumed_capacity_counts_transactional_units(
    ddb: Any, new_table: Callable[..., str]
) -> None:
    first, second = new_table(), new_table()
    out = ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": first, "Item": {"pk": {"S": "a"}, "v": {"S": "x" * 1500}}}},
            _put(first, "b"),
            _check(second, "none", "attribute_not_exists(pk)"),
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    by_table = {c["TableName"]: c for c in out["ConsumedCapacity"]}
    assert by_table[first] == {"TableName": first, "CapacityUnits": 6.0, "WriteCapacityUnits": 6.0}
    assert by_table[second] == {
        "TableName": second,
        "CapacityUnits": 2.0,
        "ReadCapacityUnits": 2.0,
    }


# -- TransactWriteItems: stream records ------------------------------------------------------


def test_every_modified_item_gets_its_record_and_condition_checks_none(
    ddb: Any, streams: Any, stream_table: tuple[str, str]
) -> None:
    table, arn = stream_table
    ddb.put_item(TableName=table, Item={"pk": {"S": "old"}, "v": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "checked"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "same"}, "v": {"N": "1"}})
    ddb.transact_write_items(
        TransactItems=[
            _put(table, "new"),
            _increment(table, "old"),
            _check(table, "checked", "attribute_exists(pk)"),
            {"Delete": {"TableName": table, "Key": _key("checked-not")}},
            {"Put": {"TableName": table, "Item": {"pk": {"S": "same"}, "v": {"N": "1"}}}},
        ]
    )
    records = _records(streams, arn)[3:]
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [
        ("INSERT", "new"),
        ("MODIFY", "old"),
    ]
    assert records[1]["dynamodb"]["OldImage"] == {"pk": {"S": "old"}, "v": {"N": "1"}}
    assert records[1]["dynamodb"]["NewImage"]["n"] == {"N": "1"}


# -- ClientRequestToken ----------------------------------------------------------------------


def test_same_token_same_request_writes_once(
    ddb: Any, streams: Any, stream_table: tuple[str, str]
) -> None:
    table, arn = stream_table
    token = str(uuid.uuid4())
    request = {"TransactItems": [_increment(table, "c")], "ClientRequestToken": token}
    first = ddb.transact_write_items(**request)
    second = ddb.transact_write_items(**request)
    assert _get(ddb, table, "c") == {"pk": {"S": "c"}, "n": {"N": "1"}}
    assert len(_records(streams, arn)) == 1
    assert first.keys() == second.keys()
    ddb.transact_write_items(TransactItems=[_increment(table, "c")])  # no token: runs again
    assert _get(ddb, table, "c") == {"pk": {"S": "c"}, "n": {"N": "2"}}


def test_retry_reports_read_capacity(ddb: Any, table: str) -> None:
    token = str(uuid.uuid4())
    request = {
        "TransactItems": [_put(table, "a")],
        "ClientRequestToken": token,
        "ReturnConsumedCapacity": "TOTAL",
    }
    first = ddb.transact_write_items(**request)
    again = ddb.transact_write_items(**request)
    assert first["ConsumedCapacity"][0]["WriteCapacityUnits"] == 2.0
    assert again["ConsumedCapacity"] == [
        {"TableName": table, "CapacityUnits": 1.0, "ReadCapacityUnits": 1.0}
    ]


def test_same_token_different_request_is_refused(ddb: Any, table: str) -> None:
    token = str(uuid.uuid4())
    ddb.transact_write_items(TransactItems=[_put(table, "a")], ClientRequestToken=token)
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=[_put(table, "b")], ClientRequestToken=token)
    code, message = _error(err)
    assert code == "IdempotentParameterMismatchException"
    assert message
    assert _get(ddb, table, "b") is None


def test_token_of_a_cancelled_transaction_can_be_retried(ddb: Any, table: str) -> None:
    token = str(uuid.uuid4())
    request = {
        "TransactItems": [_put(table, "a", ConditionExpression="attribute_exists(pk)")],
        "ClientRequestToken": token,
    }
    with pytest.raises(ClientError):
        ddb.transact_write_items(**request)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.transact_write_items(**request)  # now the condition holds, and it runs
    assert _get(ddb, table, "a") == {"pk": {"S": "a"}}


def test_token_longer_than_36_characters(raw_ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        raw_ddb.transact_write_items(TransactItems=[_put(table, "a")], ClientRequestToken="x" * 37)
    code, message = _error(err)
    assert code == "ValidationException"
    assert "at 'clientRequestToken' failed to satisfy constraint" in message


def test_token_survives_a_restart_and_expires_after_ten_minutes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    token = str(uuid.uuid4())
    with HeadwaterServer(data_dir=data) as server:
        ddb = server.client("dynamodb")
        table = create_table(ddb)
        request = {"TransactItems": [_increment(table, "c")], "ClientRequestToken": token}
        ddb.transact_write_items(**request)
    with HeadwaterServer(data_dir=data) as server:
        ddb = server.client("dynamodb")
        ddb.transact_write_items(**request)
        assert _get(ddb, table, "c") == {"pk": {"S": "c"}, "n": {"N": "1"}}
        with pytest.raises(ClientError) as err:
            ddb.transact_write_items(TransactItems=[_put(table, "x")], ClientRequestToken=token)
        assert _error(err)[0] == "IdempotentParameterMismatchException"
        server.advance_clock(9 * 60)
        ddb.transact_write_items(**request)
        assert _get(ddb, table, "c") == {"pk": {"S": "c"}, "n": {"N": "1"}}
        server.advance_clock(2 * 60)
        ddb.transact_write_items(**request)  # the window has closed: a new transaction
        assert _get(ddb, table, "c") == {"pk": {"S": "c"}, "n": {"N": "2"}}


# -- TransactGetItems ------------------------------------------------------------------------


def _tget(table: str, pk: str, **extra: Any) -> dict[str, Any]:
    return {"Get": {"TableName": table, "Key": _key(pk), **extra}}


def test_get_returns_responses_in_order_with_empty_for_missing(
    ddb: Any, new_table: Callable[..., str]
) -> None:
    first, second = new_table(), new_table()
    ddb.put_item(TableName=first, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.put_item(TableName=second, Item={"pk": {"S": "b"}})
    out = ddb.transact_get_items(
        TransactItems=[_tget(second, "b"), _tget(first, "missing"), _tget(first, "a")]
    )
    assert out["Responses"] == [
        {"Item": {"pk": {"S": "b"}}},
        {},
        {"Item": {"pk": {"S": "a"}, "v": {"N": "1"}}},
    ]
    assert "ConsumedCapacity" not in out


def test_get_with_projection_and_names(ddb: Any, table: str) -> None:
    ddb.put_item(
        TableName=table, Item={"pk": {"S": "a"}, "x": {"N": "1"}, "y": {"N": "2"}, "z": {"N": "3"}}
    )
    out = ddb.transact_get_items(
        TransactItems=[
            _tget(
                table,
                "a",
                ProjectionExpression="#x, z",
                ExpressionAttributeNames={"#x": "x"},
            )
        ]
    )
    assert out["Responses"] == [{"Item": {"x": {"N": "1"}, "z": {"N": "3"}}}]


def test_get_consumed_capacity_is_transactional(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "big"}, "v": {"S": "x" * 5000}})
    out = ddb.transact_get_items(
        TransactItems=[_tget(table, "big"), _tget(table, "missing")],
        ReturnConsumedCapacity="TOTAL",
    )
    # 5 KB is two 4 KB units, doubled; a missing item costs the minimum, doubled.
    assert out["ConsumedCapacity"] == [
        {"TableName": table, "CapacityUnits": 6.0, "ReadCapacityUnits": 6.0}
    ]


def test_get_unused_names(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.transact_get_items(
            TransactItems=[
                _tget(
                    table,
                    "a",
                    ProjectionExpression="#x",
                    ExpressionAttributeNames={"#x": "x", "#qq": "q"},
                )
            ]
        )
    assert _error(err) == (
        "ValidationException",
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#qq}",
    )


def test_get_two_actions_on_one_item(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.transact_get_items(TransactItems=[_tget(table, "a"), _tget(table, "a")])
    assert _error(err) == ("ValidationException", ONE_ITEM)


def test_get_more_than_100_actions(raw_ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        raw_ddb.transact_get_items(TransactItems=[_tget(table, str(i)) for i in range(101)])
    assert _error(err)[1].endswith(
        "at 'transactItems' failed to satisfy constraint: "
        "Member must have length less than or equal to 100"
    )


def test_get_missing_table(
    ddb: Any,
) -> None:
    with pytest.raises(ClientError) as err:
        ddb.transact_get_items(TransactItems=[_tget(unique("missing"), "a")])
    assert _error(err) == ("ResourceNotFoundException", "Requested resource not found")


def test_get_wrong_key_type_cancels(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.transact_get_items(
            TransactItems=[
                _tget(table, "a"),
                {"Get": {"TableName": table, "Key": {"pk": {"N": "1"}}}},
            ]
        )
    assert _error(err) == ("TransactionCanceledException", CANCELLED + "[None, ValidationError]")
    assert err.value.response["CancellationReasons"][1] == {
        "Code": "ValidationError",
        "Message": "The provided key element does not match the schema",
    }


def test_get_of_items_over_4_mb_in_all_is_refused(ddb: Any, table: str) -> None:
    _put_big_items(ddb, table, 11)
    with pytest.raises(ClientError) as err:
        ddb.transact_get_items(TransactItems=[_tget(table, f"big{i}") for i in range(11)])
    code, message = _error(err)
    assert code == "ValidationException"
    assert "size cannot exceed" in message
    out = ddb.transact_get_items(TransactItems=[_tget(table, f"big{i}") for i in range(10)])
    assert len(out["Responses"]) == 10 and all("Item" in r for r in out["Responses"])
