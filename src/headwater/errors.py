"""The one domain exception tree.

Every layer below ``api/`` raises these; ``api/errors.py`` renders them per wire protocol.
They carry facts and AWS's wording, never HTTP details::

    HeadwaterError                      (InternalServerError: a bug if it escapes)
    ├── ValidationError                 ValidationException
    ├── SerializationError              SerializationException
    ├── ResourceNotFound                ResourceNotFoundException
    ├── ResourceInUse                   ResourceInUseException
    ├── ConditionalCheckFailed          ConditionalCheckFailedException (+ Item)
    ├── TransactionCanceled             TransactionCanceledException (+ CancellationReasons)
    ├── IdempotentParameterMismatch     IdempotentParameterMismatchException
    ├── DuplicateItem                   DuplicateItemException (PartiQL INSERT)
    ├── LimitExceeded                   LimitExceededException
    ├── ExpiredIterator                 ExpiredIteratorException
    ├── TrimmedDataAccess               TrimmedDataAccessException
    ├── InvalidParameterValue           InvalidParameterValueException (Lambda)
    ├── ResourceConflict                ResourceConflictException (Lambda)
    ├── PreconditionFailed              PreconditionFailedException (Lambda RevisionId)
    ├── TooManyRequests                 TooManyRequestsException (Lambda throttling)
    ├── RequestTooLarge                 RequestEntityTooLargeException (Lambda)
    └── NotEmulated                     a clear 400 for what Headwater does not do yet
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class HeadwaterError(Exception):
    """Base of every error Headwater raises on purpose."""

    code = "InternalServerError"

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class ValidationError(HeadwaterError):
    code = "ValidationException"


class SerializationError(HeadwaterError):
    code = "SerializationException"


class ResourceNotFound(HeadwaterError):
    code = "ResourceNotFoundException"


class ResourceInUse(HeadwaterError):
    code = "ResourceInUseException"


class ConditionalCheckFailed(HeadwaterError):
    code = "ConditionalCheckFailedException"

    def __init__(
        self, message: str = "The conditional request failed", item: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.item = item


class LimitExceeded(HeadwaterError):
    code = "LimitExceededException"


class ExpiredIterator(HeadwaterError):
    code = "ExpiredIteratorException"


class TrimmedDataAccess(HeadwaterError):
    code = "TrimmedDataAccessException"


class InvalidParameterValue(HeadwaterError):
    code = "InvalidParameterValueException"


class ResourceConflict(HeadwaterError):
    code = "ResourceConflictException"


class PreconditionFailed(HeadwaterError):
    """A Lambda change whose RevisionId no longer matches the resource's."""

    code = "PreconditionFailedException"


class RequestTooLarge(HeadwaterError):
    code = "RequestEntityTooLargeException"


class NotEmulated(HeadwaterError):
    """A real AWS feature Headwater does not implement yet (rendered as a 400)."""

    code = "ValidationException"


@dataclass(frozen=True)
class CancellationReason:
    """Why one action of a transaction did (``code`` "None") or did not go through."""

    code: str = "None"
    message: str | None = None
    item: dict[str, Any] | None = None


class TransactionCanceled(HeadwaterError):
    """A transaction wrote nothing; ``reasons`` has one entry per action, in request order."""

    code = "TransactionCanceledException"

    def __init__(self, reasons: list[CancellationReason]) -> None:
        codes = ", ".join(reason.code for reason in reasons)
        super().__init__(
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            f"[{codes}]"
        )
        self.reasons = reasons


class IdempotentParameterMismatch(HeadwaterError):
    code = "IdempotentParameterMismatchException"


class DuplicateItem(HeadwaterError):
    """A PartiQL INSERT found an item with the same primary key."""

    code = "DuplicateItemException"


class TooManyRequests(HeadwaterError):
    """A Lambda invocation refused by the function's reserved concurrency."""

    code = "TooManyRequestsException"

    def __init__(
        self,
        message: str = "Rate Exceeded.",
        reason: str = "ReservedFunctionConcurrentInvocationLimitExceeded",
    ) -> None:
        super().__init__(message)
        self.reason = reason
