"""PartiQL through real boto3: ExecuteStatement (SELECT as Query or Scan, paging, INSERT /
UPDATE / DELETE with conditions and stream records), BatchExecuteStatement and
ExecuteTransaction."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import create_stream_table, unique

MALFORMED = "Statement wasn't well formed, can't be processed: "
NO_KEY = "Where clause does not contain a mandatory equality on all key attributes"
CANCELLED = "Transaction cancelled, please refer cancellation reasons for specific reasons "


@pytest.fixture
def table(new_table: Callable[..., str]) -> str:
    return new_table(range_key=True)


@pytest.fixture
def stream_table(ddb: Any) -> Iterator[tuple[str, str]]:
    name, arn = create_stream_table(ddb, range_key=True)
    yield name, arn
    ddb.delete_table(TableName=name)


def _run(ddb: Any, statement: str, *params: Any, **extra: Any) -> Any:
    if params:
        extra["Parameters"] = list(params)
    return ddb.execute_statement(Statement=statement, **extra)


def _error(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def _get(ddb: Any, table: str, pk: str, sk: int = 1) -> Any:
    key = {"pk": {"S": pk}, "sk": {"N": str(sk)}}
    return ddb.get_item(TableName=table, Key=key).get("Item")


def _fill(ddb: Any, table: str, partitions: str = "abc", count: int = 4) -> None:
    for pk in partitions:
        for sk in range(count):
            ddb.put_item(
                TableName=table,
                Item={"pk": {"S": pk}, "sk": {"N": str(sk)}, "odd": {"BOOL": sk % 2 == 1}},
            )


def _records(streams: Any, arn: str) -> list[dict[str, Any]]:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = streams.get_records(ShardIterator=it)["Records"]
    return records


def _all_pages(ddb: Any, statement: str, **extra: Any) -> tuple[list[Any], int]:
    items: list[Any] = []
    pages = 0
    token = None
    while True:
        if token is not None:
            extra["NextToken"] = token
        out = _run(ddb, statement, **extra)
        items.extend(out["Items"])
        pages += 1
        token = out.get("NextToken")
        if token is None:
            return items, pages


# -- SELECT ---------------------------------------------------------------------------------


def test_select_star_returns_every_item(ddb: Any, table: str) -> None:
    _fill(ddb, table, "ab", 2)
    items = _run(ddb, f'SELECT * FROM "{table}"')["Items"]
    assert len(items) == 4
    assert {(i["pk"]["S"], i["sk"]["N"]) for i in items} == {
        ("a", "0"),
        ("a", "1"),
        ("b", "0"),
        ("b", "1"),
    }


def test_select_projects_nested_paths(ddb: Any, table: str) -> None:
    ddb.put_item(
        TableName=table,
        Item={
            "pk": {"S": "a"},
            "sk": {"N": "1"},
            "m": {"M": {"x": {"L": [{"S": "first"}, {"S": "second"}]}, "y": {"N": "2"}}},
            "other": {"S": "dropped"},
        },
    )
    out = _run(ddb, f'SELECT m.x[1], "sk" FROM "{table}" WHERE pk = ?', {"S": "a"})
    assert out["Items"] == [{"m": {"M": {"x": {"L": [{"S": "second"}]}}}, "sk": {"N": "1"}}]


def test_query_path_and_scan_path_give_the_same_items(ddb: Any, table: str) -> None:
    _fill(ddb, table)
    by_query = _run(ddb, f'SELECT * FROM "{table}" WHERE pk = ? AND sk >= ?', *_b1())
    by_scan = _run(
        ddb, f"SELECT * FROM \"{table}\" WHERE (pk = ? OR pk = 'none') AND sk >= ?", *_b1()
    )
    assert by_query["Items"] == sorted(by_scan["Items"], key=lambda i: i["sk"]["N"])
    assert [i["sk"]["N"] for i in by_query["Items"]] == ["1", "2", "3"]


def _b1() -> list[Any]:
    return [{"S": "b"}, {"N": "1"}]


def test_a_pinned_partition_reads_only_that_partition(ddb: Any, table: str) -> None:
    """Limit counts items evaluated: a Query's first item is in the partition (``=`` or
    ``IN`` on the partition key reads as a Query, as AWS says), a Scan's first item is whichever
    partition comes first in the table."""
    _fill(ddb, table)
    first = _run(ddb, f'SELECT * FROM "{table}"', Limit=1)["Items"][0]["pk"]["S"]
    other = next(p for p in "abc" if p != first)
    by_query = _run(ddb, f'SELECT * FROM "{table}" WHERE pk = ?', {"S": other}, Limit=1)
    assert [i["pk"]["S"] for i in by_query["Items"]] == [other]
    by_in = _run(ddb, f'SELECT * FROM "{table}" WHERE pk IN [?]', {"S": other}, Limit=1)
    assert [i["pk"]["S"] for i in by_in["Items"]] == [other]
    by_scan = _run(ddb, f'SELECT * FROM "{table}" WHERE odd = ?', {"BOOL": True}, Limit=1)
    assert by_scan["Items"] == [] and "NextToken" in by_scan  # it read (first, 0): not odd


def test_where_operators(ddb: Any, table: str) -> None:
    ddb.put_item(
        TableName=table,
        Item={
            "pk": {"S": "op"},
            "sk": {"N": "1"},
            "name": {"S": "alpha"},
            "tags": {"SS": ["x", "y"]},
            "n": {"N": "5"},
            "m": {"M": {"deep": {"L": [{"N": "7"}]}}},
        },
    )
    matching = [
        "n = 5",
        "n <> 4",
        "n < 6",
        "n <= 5",
        "n > 4",
        "n >= 5",
        "n BETWEEN 1 AND 5",
        "n IN [1, 5]",
        "begins_with(name, 'al')",
        "contains(tags, 'y')",
        "contains(name, 'ph')",
        "missing_attr IS MISSING",
        "name IS NOT MISSING",
        "attribute_exists(m.deep[0])",
        "m.deep[0] = 7",
        "NOT n = 4",
        "n = 4 OR name = 'alpha'",
        "size(tags) = 2",
    ]
    failing = ["n = 4", "n BETWEEN 6 AND 9", "name IS MISSING", "NOT (n = 5)", "n IN [4]"]
    for condition in matching + failing:
        out = _run(ddb, f"SELECT pk FROM \"{table}\" WHERE pk = 'op' AND {condition}")
        assert (out["Items"] != []) == (condition in matching), condition


def test_paging_with_next_token_reads_everything_once(ddb: Any, table: str) -> None:
    _fill(ddb, table, "abcde", 3)
    items, pages = _all_pages(ddb, f'SELECT * FROM "{table}"', Limit=4)
    assert pages == 4
    keys = [(i["pk"]["S"], i["sk"]["N"]) for i in items]
    assert len(keys) == 15 and len(set(keys)) == 15


def test_paging_a_query_with_a_filter(ddb: Any, table: str) -> None:
    _fill(ddb, table, "a", 6)
    statement = f"SELECT sk FROM \"{table}\" WHERE pk = 'a' AND odd = true"
    first = _run(ddb, statement, Limit=2)
    assert first["Items"] == [{"sk": {"N": "1"}}]
    assert first["LastEvaluatedKey"] == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    items, _pages = _all_pages(ddb, statement, Limit=2)
    assert [i["sk"]["N"] for i in items] == ["1", "3", "5"]


def test_a_next_token_only_resumes_its_own_statement(ddb: Any, table: str) -> None:
    _fill(ddb, table, "a", 3)
    token = _run(ddb, f'SELECT * FROM "{table}"', Limit=1)["NextToken"]
    with pytest.raises(ClientError) as err:
        _run(ddb, f'SELECT pk FROM "{table}"', Limit=1, NextToken=token)
    assert _error(err)[0] == "ValidationException"
    garbage = base64.urlsafe_b64encode(b"not json").decode()
    with pytest.raises(ClientError) as bad:
        _run(ddb, f'SELECT * FROM "{table}"', NextToken=garbage)
    assert _error(bad)[0] == "ValidationException"


def test_order_by_desc(ddb: Any, table: str) -> None:
    _fill(ddb, table, "a", 3)
    out = _run(ddb, f"SELECT sk FROM \"{table}\" WHERE pk = 'a' ORDER BY sk DESC")
    assert [i["sk"]["N"] for i in out["Items"]] == ["2", "1", "0"]


def test_consumed_capacity_of_a_select(ddb: Any, table: str) -> None:
    _fill(ddb, table, "a", 2)
    eventual = _run(ddb, f'SELECT * FROM "{table}"', ReturnConsumedCapacity="TOTAL")
    assert eventual["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 0.5}
    strong = _run(
        ddb, f'SELECT * FROM "{table}"', ReturnConsumedCapacity="INDEXES", ConsistentRead=True
    )
    assert strong["ConsumedCapacity"] == {
        "TableName": table,
        "CapacityUnits": 1.0,
        "Table": {"CapacityUnits": 1.0},
    }
    assert "ConsumedCapacity" not in _run(ddb, f'SELECT * FROM "{table}"')


def test_select_from_a_missing_table(ddb: Any) -> None:
    with pytest.raises(ClientError) as err:
        _run(ddb, 'SELECT * FROM "no-such-table"')
    assert _error(err)[0] == "ResourceNotFoundException"


def test_select_from_an_index_is_a_clear_error(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        _run(ddb, f'SELECT * FROM "{table}"."no_index"')
    code, message = _error(err)
    assert code == "ValidationException"
    assert "index" in message.lower()


# -- parameters -----------------------------------------------------------------------------

EVERY_TYPE: dict[str, Any] = {
    "s": {"S": "text"},
    "n": {"N": "12.5"},
    "b": {"B": b"\x00\x01"},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "bs": {"BS": [b"\x01", b"\x02"]},
    "l": {"L": [{"S": "x"}, {"N": "1"}]},
    "m": {"M": {"k": {"S": "v"}}},
}


def test_parameters_of_every_type_round_trip(ddb: Any, table: str) -> None:
    names = list(EVERY_TYPE)
    fields = ", ".join(f"'{name}': ?" for name in names)
    _run(
        ddb,
        f"INSERT INTO \"{table}\" VALUE {{'pk': ?, 'sk': ?, {fields}}}",
        {"S": "p"},
        {"N": "1"},
        *EVERY_TYPE.values(),
    )
    item = _get(ddb, table, "p")
    for name, value in EVERY_TYPE.items():
        assert sorted(item[name].items()) == sorted(value.items()) or name in ("ss", "ns", "bs")
    assert sorted(item["ss"]["SS"]) == ["a", "b"]
    assert sorted(item["bs"]["BS"]) == [b"\x01", b"\x02"]
    for name, value in EVERY_TYPE.items():
        found = _run(
            ddb, f'SELECT pk FROM "{table}" WHERE pk = ? AND {name} = ?', {"S": "p"}, value
        )
        assert found["Items"] == [{"pk": {"S": "p"}}], name


def test_parameter_count_must_match(raw_ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        raw_ddb.execute_statement(
            Statement=f'SELECT * FROM "{table}" WHERE pk = ? AND sk = ?', Parameters=[{"S": "a"}]
        )
    assert _error(err) == (
        "ValidationException",
        "Number of parameters in request and statement don't match.",
    )


def test_empty_parameters_fail_shape_validation(raw_ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        raw_ddb.execute_statement(Statement=f'SELECT * FROM "{table}"', Parameters=[])
    assert _error(err) == (
        "ValidationException",
        "1 validation error detected: Value '[]' at 'parameters' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
    )


def test_an_invalid_parameter_value_is_refused(raw_ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        raw_ddb.execute_statement(
            Statement=f'SELECT * FROM "{table}" WHERE pk = ?', Parameters=[{"N": "abc"}]
        )
    assert _error(err)[0] == "ValidationException"


# -- syntax errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "SELEC * FROM t",
        'SELECT * FROM "t" WHERE',
        'SELECT * FROM "t" WHERE a = \'unclosed',
        'INSERT INTO "t" VALUES {}',
        'UPDATE "t" WHERE pk = 1',
        'DELETE "t" WHERE pk = 1',
    ],
)
def test_syntax_errors_are_validation_errors(ddb: Any, statement: str) -> None:
    with pytest.raises(ClientError) as err:
        _run(ddb, statement)
    code, message = _error(err)
    assert code == "ValidationException"
    assert message.startswith(MALFORMED) and len(message) > len(MALFORMED)


# -- INSERT ---------------------------------------------------------------------------------


def test_insert_writes_the_item(ddb: Any, table: str) -> None:
    out = _run(ddb, f"INSERT INTO \"{table}\" VALUE {{'pk': 'a', 'sk': 1, 'n': 2}}")
    assert out["Items"] == []
    assert _get(ddb, table, "a") == {"pk": {"S": "a"}, "sk": {"N": "1"}, "n": {"N": "2"}}


def test_insert_of_an_existing_item_is_a_duplicate(ddb: Any, table: str) -> None:
    _run(ddb, f"INSERT INTO \"{table}\" VALUE {{'pk': 'a', 'sk': 1, 'v': 'first'}}")
    with pytest.raises(ClientError) as err:
        _run(ddb, f"INSERT INTO \"{table}\" VALUE {{'pk': 'a', 'sk': 1, 'v': 'second'}}")
    assert _error(err) == ("DuplicateItemException", "Duplicate primary key exists in table")
    assert err.value.__class__.__name__ == "DuplicateItemException"
    assert _get(ddb, table, "a")["v"] == {"S": "first"}


def test_insert_without_the_key(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        _run(ddb, f"INSERT INTO \"{table}\" VALUE {{'pk': 'a'}}")
    assert _error(err) == (
        "ValidationException",
        "One or more parameter values were invalid: Missing the key sk in the item",
    )


# -- UPDATE ---------------------------------------------------------------------------------


def test_update_sets_adds_and_removes(ddb: Any, table: str) -> None:
    ddb.put_item(
        TableName=table,
        Item={
            "pk": {"S": "u"},
            "sk": {"N": "1"},
            "n": {"N": "1"},
            "gone": {"S": "x"},
            "l": {"L": [{"N": "1"}]},
            "tags": {"SS": ["a"]},
            "m": {"M": {}},
        },
    )
    _run(
        ddb,
        f'UPDATE "{table}" SET n = n + 1, label = ? SET l = list_append(l, [2]) '
        "SET tags = set_add(tags, <<'b'>>) SET m.inner = 1 REMOVE gone "
        "WHERE pk = 'u' AND sk = 1",
        {"S": "new"},
    )
    item = _get(ddb, table, "u")
    assert item["n"] == {"N": "2"}
    assert item["label"] == {"S": "new"}
    assert item["l"] == {"L": [{"N": "1"}, {"N": "2"}]}
    assert sorted(item["tags"]["SS"]) == ["a", "b"]
    assert item["m"] == {"M": {"inner": {"N": "1"}}}
    assert "gone" not in item


def test_update_needs_the_full_key(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        _run(ddb, f"UPDATE \"{table}\" SET n = 1 WHERE pk = 'a'")
    assert _error(err) == ("ValidationException", NO_KEY)


def test_update_of_a_missing_item_fails_its_condition(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        _run(ddb, f"UPDATE \"{table}\" SET n = 1 WHERE pk = 'ghost' AND sk = 1")
    assert _error(err) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert _get(ddb, table, "ghost") is None


def test_update_with_a_false_condition_changes_nothing(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "c"}, "sk": {"N": "1"}, "n": {"N": "1"}})
    with pytest.raises(ClientError) as err:
        _run(
            ddb,
            f"UPDATE \"{table}\" SET n = 9 WHERE pk = 'c' AND sk = 1 AND n > 1",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert _error(err)[0] == "ConditionalCheckFailedException"
    assert err.value.response["Item"] == {"pk": {"S": "c"}, "sk": {"N": "1"}, "n": {"N": "1"}}
    _run(ddb, f"UPDATE \"{table}\" SET n = 9 WHERE pk = 'c' AND sk = 1 AND n = 1")
    assert _get(ddb, table, "c")["n"] == {"N": "9"}


def test_update_returning(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "r"}, "sk": {"N": "1"}, "n": {"N": "1"}})
    out = _run(
        ddb, f"UPDATE \"{table}\" SET n = 2 WHERE pk = 'r' AND sk = 1 RETURNING MODIFIED OLD *"
    )
    assert out["Items"] == [{"n": {"N": "1"}}]


# -- DELETE ---------------------------------------------------------------------------------


def test_delete_removes_the_item(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "d"}, "sk": {"N": "1"}})
    out = _run(ddb, f'DELETE FROM "{table}" WHERE pk = ? AND sk = ? RETURNING ALL OLD *', *_d())
    assert out["Items"] == [{"pk": {"S": "d"}, "sk": {"N": "1"}}]
    assert _get(ddb, table, "d") is None


def _d() -> list[Any]:
    return [{"S": "d"}, {"N": "1"}]


def test_delete_with_a_false_condition_keeps_the_item(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "d"}, "sk": {"N": "1"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as err:
        _run(ddb, f'DELETE FROM "{table}" WHERE pk = ? AND sk = ? AND v = 2', *_d())
    assert _error(err)[0] == "ConditionalCheckFailedException"
    assert _get(ddb, table, "d") is not None


def test_delete_needs_the_full_key(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        _run(ddb, f"DELETE FROM \"{table}\" WHERE pk = 'd' OR sk = 1")
    assert _error(err) == ("ValidationException", NO_KEY)


def test_write_capacity(ddb: Any, table: str) -> None:
    out = _run(
        ddb,
        f"INSERT INTO \"{table}\" VALUE {{'pk': 'w', 'sk': 1}}",
        ReturnConsumedCapacity="TOTAL",
    )
    assert out["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 1.0}


# -- stream records -------------------------------------------------------------------------


def test_partiql_writes_produce_stream_records(
    ddb: Any, streams: Any, stream_table: tuple[str, str]
) -> None:
    table, arn = stream_table
    _run(ddb, f"INSERT INTO \"{table}\" VALUE {{'pk': 'k', 'sk': 1, 'n': 1}}")
    _run(ddb, f"UPDATE \"{table}\" SET n = 2 WHERE pk = 'k' AND sk = 1")
    _run(ddb, f"UPDATE \"{table}\" SET n = 2 WHERE pk = 'k' AND sk = 1")  # no change: no record
    with pytest.raises(ClientError):
        _run(ddb, f"UPDATE \"{table}\" SET n = 3 WHERE pk = 'k' AND sk = 1 AND n = 7")
    with pytest.raises(ClientError):
        _run(ddb, f"INSERT INTO \"{table}\" VALUE {{'pk': 'k', 'sk': 1}}")
    with pytest.raises(ClientError):
        _run(ddb, f"DELETE FROM \"{table}\" WHERE pk = 'k' AND sk = 1 AND n = 1")
    _run(ddb, f"DELETE FROM \"{table}\" WHERE pk = 'k' AND sk = 1")
    _run(ddb, f"DELETE FROM \"{table}\" WHERE pk = 'k' AND sk = 1")  # already gone: no record
    records = _records(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    key = {"pk": {"S": "k"}, "sk": {"N": "1"}}
    insert, modify, remove = (r["dynamodb"] for r in records)
    assert insert["Keys"] == key and "OldImage" not in insert
    assert insert["NewImage"] == {**key, "n": {"N": "1"}}
    assert modify["OldImage"]["n"] == {"N": "1"} and modify["NewImage"]["n"] == {"N": "2"}
    assert remove["OldImage"] == {**key, "n": {"N": "2"}} and "NewImage" not in remove


def test_batch_and_transaction_writes_produce_records(
    ddb: Any, streams: Any, stream_table: tuple[str, str]
) -> None:
    table, arn = stream_table
    ddb.batch_execute_statement(
        Statements=[
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'a', 'sk': 1}}"},
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'b', 'sk': 1}}"},
        ]
    )
    ddb.execute_transaction(
        TransactStatements=[
            {"Statement": f"UPDATE \"{table}\" SET x = 1 WHERE pk = 'a' AND sk = 1"},
            {"Statement": f"DELETE FROM \"{table}\" WHERE pk = 'b' AND sk = 1"},
        ]
    )
    with pytest.raises(ClientError):
        ddb.execute_transaction(
            TransactStatements=[
                {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'c', 'sk': 1}}"},
                {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'a', 'sk': 1}}"},
            ]
        )
    events = [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in _records(streams, arn)]
    assert events == [("INSERT", "a"), ("INSERT", "b"), ("MODIFY", "a"), ("REMOVE", "b")]


# -- BatchExecuteStatement ------------------------------------------------------------------


def test_batch_reads_return_items_and_per_statement_errors(ddb: Any, table: str) -> None:
    _fill(ddb, table, "a", 3)
    out = ddb.batch_execute_statement(
        Statements=[
            {
                "Statement": f'SELECT odd FROM "{table}" WHERE pk = ? AND sk = ?',
                "Parameters": _a1(),
            },
            {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'a' AND sk = 99"},
            {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'a'"},
            {"Statement": "SELECT * FROM \"missing-table\" WHERE pk = 'a' AND sk = 1"},
            {"Statement": "SELECT * FROM WHERE"},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    responses = out["Responses"]
    assert responses[0] == {"TableName": table, "Item": {"odd": {"BOOL": True}}}
    assert responses[1] == {"TableName": table}
    assert responses[2]["Error"] == {"Code": "ValidationError", "Message": NO_KEY}
    assert responses[3]["Error"]["Code"] == "ResourceNotFound"
    assert responses[4]["Error"]["Code"] == "ValidationError"
    assert responses[4]["Error"]["Message"].startswith(MALFORMED)
    assert out["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 1.0}]


def _a1() -> list[Any]:
    return [{"S": "a"}, {"N": "1"}]


def test_batch_writes_fail_one_by_one(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "dup"}, "sk": {"N": "1"}, "v": {"N": "1"}})
    out = ddb.batch_execute_statement(
        Statements=[
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'new', 'sk': 1}}"},
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'dup', 'sk': 1}}"},
            {
                "Statement": f"UPDATE \"{table}\" SET v = 5 WHERE pk = 'dup' AND sk = 1 AND v = 9",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
            {"Statement": f"DELETE FROM \"{table}\" WHERE pk = 'dup'"},
        ]
    )
    responses = out["Responses"]
    assert "Error" not in responses[0]
    assert responses[1]["Error"] == {
        "Code": "DuplicateItem",
        "Message": "Duplicate primary key exists in table",
    }
    assert responses[2]["Error"]["Code"] == "ConditionalCheckFailed"
    assert responses[2]["Error"]["Item"] == {
        "pk": {"S": "dup"},
        "sk": {"N": "1"},
        "v": {"N": "1"},
    }
    assert responses[3]["Error"] == {"Code": "ValidationError", "Message": NO_KEY}
    assert _get(ddb, table, "new") is not None
    assert _get(ddb, table, "dup")["v"] == {"N": "1"}


def test_batch_cannot_mix_reads_and_writes(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.batch_execute_statement(
            Statements=[
                {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'a' AND sk = 1"},
                {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'a', 'sk': 1}}"},
            ]
        )
    assert _error(err)[0] == "ValidationException"
    assert _get(ddb, table, "a") is None


def test_batch_takes_at_most_25_statements(raw_ddb: Any, table: str) -> None:
    statement = {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'a' AND sk = 1"}
    with pytest.raises(ClientError) as err:
        raw_ddb.batch_execute_statement(Statements=[statement] * 26)
    assert "Member must have length less than or equal to 25" in _error(err)[1]


# -- ExecuteTransaction ---------------------------------------------------------------------


def test_transaction_applies_every_write(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "u"}, "sk": {"N": "1"}, "n": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "d"}, "sk": {"N": "1"}})
    out = ddb.execute_transaction(
        TransactStatements=[
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'i', 'sk': 1}}"},
            {
                "Statement": f"UPDATE \"{table}\" SET n = n + ? WHERE pk = 'u' AND sk = 1",
                "Parameters": [{"N": "10"}],
            },
            {"Statement": f'DELETE FROM "{table}" WHERE pk = ? AND sk = ?', "Parameters": _d()},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert out["ConsumedCapacity"] == [
        {"TableName": table, "CapacityUnits": 6.0, "WriteCapacityUnits": 6.0}
    ]
    assert _get(ddb, table, "i") is not None
    assert _get(ddb, table, "u")["n"] == {"N": "11"}
    assert _get(ddb, table, "d") is None


def test_transaction_is_all_or_nothing_with_reasons(ddb: Any, table: str) -> None:
    for pk in ("dup", "held"):
        ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "sk": {"N": "1"}, "n": {"N": "1"}})
    with pytest.raises(ClientError) as err:
        ddb.execute_transaction(
            TransactStatements=[
                {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'fresh', 'sk': 1}}"},
                {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'dup', 'sk': 1}}"},
                {
                    "Statement": f"UPDATE \"{table}\" SET n = 2 WHERE pk = 'held' AND sk = 1 "
                    "AND n = 5",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                },
                {"Statement": f"EXISTS(SELECT * FROM \"{table}\" WHERE pk = 'ghost' AND sk = 1)"},
            ]
        )
    assert _error(err) == (
        "TransactionCanceledException",
        CANCELLED + "[None, DuplicateItem, ConditionalCheckFailed, ConditionalCheckFailed]",
    )
    reasons = err.value.response["CancellationReasons"]
    assert reasons[0] == {"Code": "None"}
    assert reasons[1] == {
        "Code": "DuplicateItem",
        "Message": "Duplicate primary key exists in table",
    }
    assert reasons[2]["Item"] == {"pk": {"S": "held"}, "sk": {"N": "1"}, "n": {"N": "1"}}
    assert reasons[3]["Code"] == "ConditionalCheckFailed"
    assert _get(ddb, table, "fresh") is None
    assert _get(ddb, table, "held")["n"] == {"N": "1"}


def test_transaction_reads(ddb: Any, table: str) -> None:
    _fill(ddb, table, "a", 2)
    out = ddb.execute_transaction(
        TransactStatements=[
            {"Statement": f'SELECT sk FROM "{table}" WHERE pk = ? AND sk = ?', "Parameters": _a1()},
            {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'zz' AND sk = 1"},
        ]
    )
    assert out["Responses"] == [{"Item": {"sk": {"N": "1"}}}, {}]


def test_transaction_cannot_mix_reads_and_writes(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        ddb.execute_transaction(
            TransactStatements=[
                {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'a' AND sk = 1"},
                {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'a', 'sk': 1}}"},
            ]
        )
    assert _error(err)[0] == "ValidationException"
    assert _get(ddb, table, "a") is None


def test_transaction_token_makes_a_retry_harmless(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "c"}, "sk": {"N": "1"}, "n": {"N": "0"}})
    statements = [{"Statement": f"UPDATE \"{table}\" SET n = n + 1 WHERE pk = 'c' AND sk = 1"}]
    token = unique("token")
    ddb.execute_transaction(TransactStatements=statements, ClientRequestToken=token)
    ddb.execute_transaction(TransactStatements=statements, ClientRequestToken=token)
    assert _get(ddb, table, "c")["n"] == {"N": "1"}
    other = [{"Statement": f"UPDATE \"{table}\" SET n = n + 2 WHERE pk = 'c' AND sk = 1"}]
    with pytest.raises(ClientError) as err:
        ddb.execute_transaction(TransactStatements=other, ClientRequestToken=token)
    assert _error(err)[0] == "IdempotentParameterMismatchException"


def test_exists_only_in_transactions(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as err:
        _run(ddb, f"EXISTS(SELECT * FROM \"{table}\" WHERE pk = 'a' AND sk = 1)")
    assert _error(err)[0] == "ValidationException"


def test_select_from_an_index_runs_as_a_query_on_it(ddb: Any) -> None:
    name = unique("pq-gsi")
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "team", "AttributeType": "S"},
            {"AttributeName": "score", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_team",
                "KeySchema": [
                    {"AttributeName": "team", "KeyType": "HASH"},
                    {"AttributeName": "score", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    try:
        for i, (team, score) in enumerate([("red", 3), ("blue", 9), ("red", 7), ("red", 5)]):
            item = {"pk": {"S": f"p{i}"}, "team": {"S": team}, "score": {"N": str(score)}}
            ddb.put_item(TableName=name, Item=item)
        ddb.put_item(TableName=name, Item={"pk": {"S": "no-team"}})  # not in the sparse index
        out = _run(
            ddb,
            f'SELECT pk, score FROM "{name}"."by_team" WHERE team = ? ORDER BY score DESC',
            {"S": "red"},
        )
        assert [i["score"]["N"] for i in out["Items"]] == ["7", "5", "3"]
        ranged = _run(ddb, f'SELECT pk FROM "{name}"."by_team" WHERE team = \'red\' AND score > 4')
        assert sorted(i["pk"]["S"] for i in ranged["Items"]) == ["p2", "p3"]
        everything = _run(ddb, f'SELECT pk FROM "{name}"."by_team"')  # a Scan of the index
        assert len(everything["Items"]) == 4
        with pytest.raises(ClientError) as err:  # ORDER BY needs the index's partition key
            _run(ddb, f'SELECT pk FROM "{name}"."by_team" WHERE score > 1 ORDER BY score')
        assert _error(err)[0] == "ValidationException"
    finally:
        ddb.delete_table(TableName=name)


def test_in_on_the_partition_key_reads_each_partition_and_pages_across_them(
    ddb: Any, table: str
) -> None:
    _fill(ddb, table, partitions="abcd", count=4)
    statement = f"SELECT * FROM \"{table}\" WHERE pk IN ['c', 'a', 'c'] AND sk >= 1"
    everything = _run(ddb, statement)
    keys = [(i["pk"]["S"], int(i["sk"]["N"])) for i in everything["Items"]]
    assert keys == [("c", 1), ("c", 2), ("c", 3), ("a", 1), ("a", 2), ("a", 3)]
    assert "NextToken" not in everything
    pages, token = [], None
    while True:
        extra = {"Limit": 3} if token is None else {"Limit": 3, "NextToken": token}
        out = _run(ddb, statement, **extra)
        pages.append([(i["pk"]["S"], int(i["sk"]["N"])) for i in out["Items"]])
        token = out.get("NextToken")
        if token is None:
            break
    # Limit counts the items read (sk 0 too); every match comes back once, in order.
    assert [k for page in pages for k in page] == keys
    assert all(len(page) <= 3 for page in pages) and len(pages) >= 3
    params = _run(ddb, f'SELECT pk FROM "{table}" WHERE pk IN [?, ?]', {"S": "b"}, {"S": "zz"})
    assert sorted(i["pk"]["S"] for i in params["Items"]) == ["b"] * 4
