"""What an on-failure destination receives when a mapping gives records up (spec §6.6).

The same JSON goes to SQS (as the message body) and SNS (as the message); S3 gets it with the
original invocation event added as ``payload``, under AWS's object key layout.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from headwater.mapping.policy import RECORD_AGE_EXCEEDED
from headwater.streams.ids import format_sequence


class FailureSink(Protocol):
    """Where on-failure records go (``destinations/`` implements it): an SQS queue ARN, an SNS
    topic ARN, or an S3 bucket ARN (then ``s3_key`` names the object)."""

    def deliver(self, target_arn: str, body: bytes, *, s3_key: str | None = None) -> None: ...


def send(
    sink: FailureSink,
    target_arn: str,
    given_up: GivenUp,
    now: float,
    mapping_uuid: str,
    event: bytes,
) -> None:
    if target_arn.startswith("arn:aws:s3:::"):
        key, body = s3_object(given_up, now, mapping_uuid, event)
        sink.deliver(target_arn, body, s3_key=key)
    else:
        sink.deliver(target_arn, message(given_up, now))


@dataclass(frozen=True)
class GivenUp:
    """Facts about one batch the ladder gave up."""

    function_arn: str
    stream_arn: str
    shard_id: str
    condition: str
    invocations: int
    request_id: str
    function_error: str | None  # "Unhandled", or None for a partial batch failure
    first_seq: int
    last_seq: int
    first_created: float
    last_created: float
    count: int
    executed_version: str = "$LATEST"


def _iso_seconds(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _iso_millis(epoch: float) -> str:
    millis = int(epoch * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{millis:03d}Z"


def failure_record(given_up: GivenUp, now: float) -> dict[str, Any]:
    record: dict[str, Any] = {
        "requestContext": {
            "requestId": given_up.request_id or str(uuid.uuid4()),
            "functionArn": given_up.function_arn,
            "condition": given_up.condition,
            "approximateInvokeCount": max(1, given_up.invocations),
        },
    }
    if given_up.condition != RECORD_AGE_EXCEEDED:
        record["responseContext"] = {
            "statusCode": 200,
            "executedVersion": given_up.executed_version,
            "functionError": given_up.function_error,
        }
    record["version"] = "1.0"
    record["timestamp"] = _iso_millis(now)
    record["DDBStreamBatchInfo"] = {
        "shardId": given_up.shard_id,
        "startSequenceNumber": format_sequence(given_up.first_seq),
        "endSequenceNumber": format_sequence(given_up.last_seq),
        "approximateArrivalOfFirstRecord": _iso_seconds(given_up.first_created),
        "approximateArrivalOfLastRecord": _iso_seconds(given_up.last_created),
        "batchSize": given_up.count,
        "streamArn": given_up.stream_arn,
    }
    return record


def message(given_up: GivenUp, now: float) -> bytes:
    """The body for an SQS queue or SNS topic."""
    return orjson.dumps(failure_record(given_up, now))


def s3_object(given_up: GivenUp, now: float, mapping_uuid: str, event: bytes) -> tuple[str, bytes]:
    """(key, body) for an S3 bucket: the record plus the original event as ``payload``."""
    record = failure_record(given_up, now)
    record["payload"] = event.decode()
    stamp = time.gmtime(now)
    key = (
        f"aws/lambda/{mapping_uuid}/{given_up.shard_id}/"
        + time.strftime("%Y/%m/%d/%Y-%m-%dT%H.%M.%S", stamp)
        + f"-{uuid.uuid4()}"
    )
    return key, orjson.dumps(record)
