"""FilterCriteria on a DynamoDB stream mapping, with real workers (spec §6.8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import create_function, create_stream_table, wait_until

RECORDER = """
import json, os

def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps([[r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]]
                              for r in event["Records"]]) + "\\n")
"""


def _seen(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [pair for line in path.read_text().splitlines() for pair in json.loads(line)]


def _mapping(lam: Any, stream: str, out: Path, patterns: list[dict[str, Any]]) -> str:
    fn = create_function(lam, RECORDER, env={"OUT": str(out)})
    uuid = lam.create_event_source_mapping(
        FunctionName=fn,
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        FilterCriteria={"Filters": [{"Pattern": json.dumps(p)} for p in patterns]},
    )["UUID"]
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    return str(uuid)


def test_only_matching_records_reach_the_handler(ddb: Any, lam: Any, tmp_path: Path) -> None:
    table, stream = create_stream_table(ddb)
    out = tmp_path / "seen"
    uuid = _mapping(
        lam,
        stream,
        out,
        [
            {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["book"]}}}},
            {"eventName": ["REMOVE"]},
        ],
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "b1"}, "kind": {"S": "book"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "t1"}, "kind": {"S": "toy"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "b1"}, "kind": {"S": "book"}, "x": {"N": "1"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "t1"}})
    wait_until(lambda: len(_seen(out)) == 2)
    assert _seen(out) == [["INSERT", "b1"], ["REMOVE", "t1"]]
    config = lam.get_event_source_mapping(UUID=uuid)
    assert len(config["FilterCriteria"]["Filters"]) == 2


def test_a_batch_filtered_out_entirely_moves_the_position_on(
    ddb: Any, lam: Any, tmp_path: Path
) -> None:
    table, stream = create_stream_table(ddb)
    out = tmp_path / "seen"
    _mapping(lam, stream, out, [{"dynamodb": {"NewImage": {"kind": {"S": [{"prefix": "b"}]}}}}])
    for i in range(5):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"n{i}"}, "kind": {"S": "toy"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "last"}, "kind": {"S": "bike"}})
    wait_until(lambda: _seen(out) == [["INSERT", "last"]])


@pytest.mark.parametrize(
    "pattern",
    ["not json", '["a list"]', '{"eventName": "INSERT"}', '{"eventName": [{"bogus": 1}]}'],
)
def test_invalid_patterns_are_refused(ddb: Any, lam: Any, tmp_path: Path, pattern: str) -> None:
    _table, stream = create_stream_table(ddb)
    fn = create_function(lam, RECORDER, env={"OUT": str(tmp_path / "o")})
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(
            FunctionName=fn,
            EventSourceArn=stream,
            StartingPosition="LATEST",
            FilterCriteria={"Filters": [{"Pattern": pattern}]},
        )
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert err.value.response["Error"]["Message"] == "Invalid filter pattern definition."
