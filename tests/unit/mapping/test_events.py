"""The Lambda event spliced from stored GetRecords JSON."""

from __future__ import annotations

from typing import Any

import orjson

from headwater.mapping.events import lambda_event
from headwater.streams.records import build_record

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"


def stored(pk: str, seq: int, **extra: Any) -> bytes:
    record = build_record(
        name="INSERT",
        view_type="NEW_AND_OLD_IMAGES",
        keys={"pk": {"S": pk}},
        old=None,
        new={"pk": {"S": pk}, "note": {"S": 'quote " and \\ and 日本'}, **extra},
        region="us-east-1",
        sequence_number=str(10**20 + seq),
        created=1_700_000_000.0,
        event_id=f"{seq:032x}",
    )
    return orjson.dumps(record)


def test_payload_is_valid_json_with_a_records_list() -> None:
    event = orjson.loads(lambda_event([stored("a", 1), stored("b", 2)], ARN))
    assert list(event) == ["Records"]
    assert len(event["Records"]) == 2


def test_every_record_gets_the_event_source_arn() -> None:
    event = orjson.loads(lambda_event([stored("a", 1), stored("b", 2), stored("c", 3)], ARN))
    assert [r["eventSourceARN"] for r in event["Records"]] == [ARN] * 3


def test_event_source_arn_is_the_last_field() -> None:
    event = orjson.loads(lambda_event([stored("a", 1)], ARN))
    assert list(event["Records"][0])[-1] == "eventSourceARN"


def test_record_fields_are_unchanged() -> None:
    records = [stored("a", 1, n={"N": "1.5"}), stored("b", 2, m={"M": {"x": {"L": []}}})]
    event = orjson.loads(lambda_event(records, ARN))
    for original, delivered in zip(records, event["Records"], strict=True):
        expected = orjson.loads(original)
        assert {k: v for k, v in delivered.items() if k != "eventSourceARN"} == expected


def test_records_keep_their_order() -> None:
    event = orjson.loads(lambda_event([stored(pk, i) for i, pk in enumerate("zyx")], ARN))
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]] == ["z", "y", "x"]


def test_no_records_is_an_empty_list() -> None:
    assert orjson.loads(lambda_event([], ARN)) == {"Records": []}


def test_an_arn_with_characters_json_must_escape_stays_valid() -> None:
    odd = ARN + '"\\'
    event = orjson.loads(lambda_event([stored("a", 1)], odd))
    assert event["Records"][0]["eventSourceARN"] == odd
