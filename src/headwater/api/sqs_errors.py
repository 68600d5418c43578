"""Rendering errors for SQS's JSON protocol (the AmazonSQS target prefix).

SQS moved from the query protocol to JSON while keeping its old error codes, so an error says
two things: ``__type`` names the modelled exception (``com.amazonaws.sqs#QueueDoesNotExist``),
and the ``x-amzn-query-error: <legacy code>;Sender`` header carries the code query-era clients
saw. botocore maps the pair back: ``client.exceptions.QueueDoesNotExist`` is raised and
``response["Error"]["Code"]`` is ``AWS.SimpleQueueService.NonExistentQueue``, as on AWS.

The legacy codes and HTTP statuses are the model's ``awsQueryError`` traits. botocore 1.44's JSON
model drops them; they are the ``error`` traits of its query-protocol SQS model (botocore 1.34):
every one is 400 but PurgeQueueInProgress (and OverLimit, not raised here), which are 403.
Shapes with no trait there (InvalidAttributeName, InvalidAttributeValue, ReceiptHandleIsInvalid,
InvalidMessageContents) answer their own name with 400 (INFERRED: the query default).
"""

from __future__ import annotations

import logging
from typing import Any

from headwater.destinations import errors as sqs
from headwater.errors import (
    HeadwaterError,
    InvalidParameterValue,
    NotEmulated,
    SerializationError,
    ValidationError,
)

log = logging.getLogger("headwater.api")

SQS_NS = "com.amazonaws.sqs#"

# (class, modelled exception name, legacy query code); the first match by hierarchy wins.
_TABLE: list[tuple[type[HeadwaterError], str, str]] = [
    (sqs.QueueDoesNotExist, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"),
    (sqs.QueueNameExists, "QueueNameExists", "QueueAlreadyExists"),
    (
        sqs.PurgeQueueInProgress,
        "PurgeQueueInProgress",
        "AWS.SimpleQueueService.PurgeQueueInProgress",
    ),
    (sqs.InvalidAttributeName, "InvalidAttributeName", "InvalidAttributeName"),
    (sqs.InvalidAttributeValue, "InvalidAttributeValue", "InvalidAttributeValue"),
    (sqs.ReceiptHandleIsInvalid, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid"),
    (sqs.MessageNotInflight, "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight"),
    (sqs.InvalidMessageContents, "InvalidMessageContents", "InvalidMessageContents"),
    (sqs.MissingParameter, "MissingRequiredParameterException", "MissingParameter"),
    (sqs.EmptyBatchRequest, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest"),
    (
        sqs.TooManyEntriesInBatchRequest,
        "TooManyEntriesInBatchRequest",
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    ),
    (
        sqs.BatchEntryIdsNotDistinct,
        "BatchEntryIdsNotDistinct",
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    ),
    (
        sqs.InvalidBatchEntryId,
        "InvalidBatchEntryId",
        "AWS.SimpleQueueService.InvalidBatchEntryId",
    ),
    (
        sqs.BatchRequestTooLong,
        "BatchRequestTooLong",
        "AWS.SimpleQueueService.BatchRequestTooLong",
    ),
    (NotEmulated, "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation"),
    (ValidationError, "InvalidParameterValueException", "InvalidParameterValue"),
    (InvalidParameterValue, "InvalidParameterValueException", "InvalidParameterValue"),
]


# HTTP statuses other than 400, by modelled exception name.
_STATUS = {"PurgeQueueInProgress": 403, "OverLimit": 403}


def legacy_code(exc: HeadwaterError) -> str:
    """The code a batch result's ``Failed`` entry carries."""
    for cls, _, code in _TABLE:
        if isinstance(exc, cls):
            return code
    return exc.code


def sqs_error(exc: BaseException) -> tuple[int, dict[str, Any], list[tuple[bytes, bytes]]]:
    """(status, body, extra headers) for one failed SQS call."""
    if isinstance(exc, SerializationError):
        body: dict[str, Any] = {"__type": "com.amazon.coral.service#SerializationException"}
        if exc.message:
            body["message"] = exc.message
        return 400, body, []
    if isinstance(exc, HeadwaterError):
        name, code = next(
            ((name, code) for cls, name, code in _TABLE if isinstance(exc, cls)),
            (exc.code, exc.code),
        )
        header = (b"x-amzn-query-error", f"{code};Sender".encode())
        status = _STATUS.get(name, 400)
        return status, {"__type": SQS_NS + name, "message": exc.message}, [header]
    log.error("internal error", exc_info=exc)
    return (
        500,
        {"__type": SQS_NS + "InternalError", "message": "Internal server error"},
        [(b"x-amzn-query-error", b"InternalError;Receiver")],
    )
