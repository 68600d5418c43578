"""The destination services' own errors, beside the domain tree in :mod:`headwater.errors`.

Each carries the name of the service's modelled exception as ``code``; the wire details (SQS's
legacy query code, S3's status) live with each protocol's renderer in ``api/``. Everything a
delivery can miss derives from :class:`DestinationNotFound`, so the mapping runtime catches one
type::

    ResourceNotFound
    └── DestinationNotFound          a delivery target does not exist
        ├── QueueDoesNotExist        SQS
        ├── TopicNotFound            SNS NotFound
        └── NoSuchBucket             S3
    HeadwaterError
    ├── QueueNameExists, InvalidAttributeName, InvalidAttributeValue, ReceiptHandleIsInvalid,
    │   MessageNotInflight, InvalidMessageContents, MissingParameter, batch request errors (SQS)
    ├── SnsInvalidParameter, SnsNotFound (SNS)
    └── S3Error (NoSuchKey, BucketAlreadyOwnedByYou, BucketNotEmpty, InvalidBucketName...)
"""

from __future__ import annotations

from headwater.errors import HeadwaterError, ResourceNotFound


class DestinationNotFound(ResourceNotFound):
    """The queue, topic or bucket a delivery names does not exist."""


# -- SQS ------------------------------------------------------------------------------------


class QueueDoesNotExist(DestinationNotFound):
    code = "QueueDoesNotExist"

    def __init__(self, message: str = "The specified queue does not exist.") -> None:
        super().__init__(message)


class QueueNameExists(HeadwaterError):
    code = "QueueNameExists"


class PurgeQueueInProgress(HeadwaterError):
    code = "PurgeQueueInProgress"


class InvalidAttributeName(HeadwaterError):
    code = "InvalidAttributeName"


class InvalidAttributeValue(HeadwaterError):
    code = "InvalidAttributeValue"


class ReceiptHandleIsInvalid(HeadwaterError):
    code = "ReceiptHandleIsInvalid"


class MessageNotInflight(HeadwaterError):
    code = "MessageNotInflight"


class InvalidMessageContents(HeadwaterError):
    code = "InvalidMessageContents"


class MissingParameter(HeadwaterError):
    code = "MissingParameter"


class EmptyBatchRequest(HeadwaterError):
    code = "EmptyBatchRequest"


class TooManyEntriesInBatchRequest(HeadwaterError):
    code = "TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(HeadwaterError):
    code = "BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(HeadwaterError):
    code = "InvalidBatchEntryId"


class BatchRequestTooLong(HeadwaterError):
    code = "BatchRequestTooLong"


# -- SNS ------------------------------------------------------------------------------------


class TopicNotFound(DestinationNotFound):
    code = "NotFound"

    def __init__(self, message: str = "Topic does not exist") -> None:
        super().__init__(message)


class SnsNotFound(HeadwaterError):
    """A subscription (not a topic) that does not exist."""

    code = "NotFound"


class SnsInvalidParameter(HeadwaterError):
    code = "InvalidParameter"


# -- S3 -------------------------------------------------------------------------------------


class NoSuchBucket(DestinationNotFound):
    code = "NoSuchBucket"

    def __init__(self, bucket: str) -> None:
        super().__init__("The specified bucket does not exist")
        self.bucket = bucket


class S3Error(HeadwaterError):
    """An S3 error named by its code; ``resource`` is the bucket or key it concerns."""

    def __init__(self, code: str, message: str, resource: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.resource = resource
