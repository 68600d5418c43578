"""Tumbling windows: the windowed event and the state a handler must return."""

from __future__ import annotations

import orjson

from headwater.mapping.windows import response_state, window_event, window_start


def test_windows_are_aligned_to_the_epoch() -> None:
    assert window_start(125.9, 60) == 120
    assert window_start(120.0, 60) == 120


def test_the_windowed_event_carries_records_window_and_state() -> None:
    record = orjson.dumps({"eventID": "1", "dynamodb": {"SequenceNumber": "1"}})
    event = orjson.loads(
        window_event(
            [record],
            stream_arn="arn:s",
            shard_id="shardId-1",
            start=0,
            seconds=300,
            state={"n": 1},
            final=False,
        )
    )
    assert event["Records"] == [
        {"eventID": "1", "dynamodb": {"SequenceNumber": "1"}, "eventSourceARN": "arn:s"}
    ]
    assert event["window"] == {"start": "1970-01-01T00:00:00Z", "end": "1970-01-01T00:05:00Z"}
    assert event["state"] == {"n": 1}
    assert event["shardId"] == "shardId-1" and event["eventSourceARN"] == "arn:s"
    assert event["isFinalInvokeForWindow"] is False
    assert event["isWindowTerminatedEarly"] is False


def test_a_final_event_may_have_no_records() -> None:
    event = orjson.loads(
        window_event([], stream_arn="a", shard_id="s", start=0, seconds=1, state={}, final=True)
    )
    assert event["Records"] == [] and event["isFinalInvokeForWindow"] is True


def test_the_response_must_carry_a_state() -> None:
    assert response_state(b'{"state": {"n": 2}}') == (True, {"n": 2})
    assert response_state(b'{"state": {}, "batchItemFailures": []}') == (True, {})
    assert response_state(b"null")[0] is False
    assert response_state(b'{"other": 1}')[0] is False
    assert response_state(b"not json")[0] is False
