"""Rendering domain errors on the wire: the ONE table per protocol.

Looked up by class hierarchy, so a subclass renders as its nearest listed ancestor. Anything not
derived from :class:`HeadwaterError` is a bug: it becomes a 500 and is logged with its traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from headwater.errors import (
    CancellationReason,
    ConditionalCheckFailed,
    HeadwaterError,
    IdempotentParameterMismatch,
    InvalidParameterValue,
    NotEmulated,
    PreconditionFailed,
    RequestTooLarge,
    ResourceConflict,
    ResourceInUse,
    ResourceNotFound,
    SerializationError,
    TooManyRequests,
    TransactionCanceled,
    ValidationError,
)

log = logging.getLogger("headwater.api")

DYNAMODB_NS = "com.amazonaws.dynamodb.v20120810#"
VALIDATE_NS = "com.amazon.coral.validate#"
SERVICE_NS = "com.amazon.coral.service#"


def json10_error(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """(status, body) for DynamoDB and DynamoDB Streams (JSON 1.0, errors.md §1.1)."""
    if not isinstance(exc, HeadwaterError):
        log.error("internal error", exc_info=exc)
        return 500, {
            "__type": DYNAMODB_NS + "InternalServerError",
            "message": "Internal server error",
        }
    if isinstance(exc, SerializationError):
        body: dict[str, Any] = {"__type": SERVICE_NS + "SerializationException"}
        if exc.message:
            body["Message"] = exc.message
        return 400, body
    if isinstance(exc, ValidationError | NotEmulated):
        return 400, {"__type": VALIDATE_NS + "ValidationException", "message": exc.message}
    if isinstance(exc, TransactionCanceled):
        return 400, {
            "__type": DYNAMODB_NS + exc.code,
            "Message": exc.message,
            "CancellationReasons": [_reason(r) for r in exc.reasons],
        }
    if isinstance(exc, IdempotentParameterMismatch):
        return 400, {"__type": DYNAMODB_NS + exc.code, "Message": exc.message}
    body = {"__type": DYNAMODB_NS + exc.code, "message": exc.message}
    if isinstance(exc, ConditionalCheckFailed) and exc.item is not None:
        body["Item"] = exc.item
    return 400, body


def _reason(reason: CancellationReason) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if reason.item is not None:
        out["Item"] = reason.item
    out["Code"] = reason.code
    if reason.message is not None:
        out["Message"] = reason.message
    return out


# Lambda (rest-json): status, and whether the body's message member is capitalised (spec §1).
_LAMBDA: list[tuple[type[HeadwaterError], int, str, bool]] = [
    (InvalidParameterValue, 400, "InvalidParameterValueException", False),
    (NotEmulated, 400, "InvalidParameterValueException", False),
    (ResourceNotFound, 404, "ResourceNotFoundException", True),
    (ResourceConflict, 409, "ResourceConflictException", False),
    (PreconditionFailed, 412, "PreconditionFailedException", False),
    (ResourceInUse, 400, "ResourceInUseException", True),
    (RequestTooLarge, 413, "RequestEntityTooLargeException", False),
    (TooManyRequests, 429, "TooManyRequestsException", False),
    (SerializationError, 400, "InvalidRequestContentException", False),
    (ValidationError, 400, "ValidationException", False),
]


def restjson_error(exc: BaseException) -> tuple[int, str, dict[str, Any]]:
    """(status, error type for x-amzn-ErrorType, body) for Lambda."""
    if isinstance(exc, HeadwaterError):
        for cls, status, code, capital in _LAMBDA:
            if isinstance(exc, cls):
                body: dict[str, Any] = {}
                if code != "ValidationException":
                    body["Type"] = "User"
                body["Message" if capital else "message"] = exc.message
                if isinstance(exc, TooManyRequests):
                    body["Reason"] = exc.reason
                return status, code, body
    log.error("internal error", exc_info=exc)
    return 500, "ServiceException", {"Type": "Service", "Message": "Internal server error"}
