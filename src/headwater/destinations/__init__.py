"""Local destination services: SQS queues, SNS topics and S3 buckets, kept in the store.

:class:`Destinations` is what the rest of Headwater holds: the services themselves (used by the
API adapters) and :meth:`Destinations.deliver`, the one call the event source mapping runtime
makes to hand an on-failure record to its destination.
"""

from __future__ import annotations

from pathlib import Path

from headwater.clock import Clock
from headwater.destinations.buckets import Buckets
from headwater.destinations.errors import (
    DestinationNotFound,
    InvalidMessageContents,
    NoSuchBucket,
    QueueDoesNotExist,
    TopicNotFound,
)
from headwater.destinations.queue_messages import Outgoing, QueueMessages
from headwater.destinations.queues import Queues, parse_queue_arn
from headwater.destinations.signals import Signals
from headwater.destinations.topics import Topics, parse_topic_arn
from headwater.errors import HeadwaterError, ValidationError
from headwater.storage.store import Store

__all__ = ["DestinationNotFound", "Destinations"]


class Destinations:
    def __init__(
        self, store: Store, clock: Clock, account_id: str, s3_root: Path, *, durable: bool = True
    ) -> None:
        self.account_id = account_id
        self.signals = Signals()
        self.queues = Queues(store, clock, account_id, self.signals)
        self.messages = QueueMessages(store, clock, self.signals)
        self.topics = Topics(store, clock, account_id, self.messages)
        self.buckets = Buckets(store, clock, s3_root, durable=durable)

    def deliver(self, target_arn: str, body: bytes, *, s3_key: str | None = None) -> None:
        """Send ``body`` to a queue (as the message body), a topic (as the message) or a bucket (as
        the object at ``s3_key``). Blocks until it is committed; raises
        :class:`DestinationNotFound` if the target does not exist, another
        :class:`~headwater.errors.HeadwaterError` if it refuses the message."""
        service = target_arn.split(":", 3)[2] if target_arn.count(":") >= 3 else ""
        if service == "sqs":
            self._to_queue(target_arn, body)
        elif service == "sns":
            self._to_topic(target_arn, body)
        elif service == "s3":
            self._to_bucket(target_arn, body, s3_key)
        else:
            raise DestinationNotFound(f"Unsupported destination: {target_arn}")

    def _to_queue(self, arn: str, message: bytes) -> None:
        region, account, name = parse_queue_arn(arn)
        if account != self.account_id:
            raise QueueDoesNotExist()
        [result] = self.messages.send(region, name, [Outgoing(_text(message))]).result()
        if isinstance(result, HeadwaterError):
            raise result

    def _to_topic(self, arn: str, body: bytes) -> None:
        try:
            parse_topic_arn(arn)
        except HeadwaterError:
            raise TopicNotFound() from None
        self.topics.publish(arn, _text(body)).result()

    def _to_bucket(self, arn: str, body: bytes, key: str | None) -> None:
        prefix = "arn:aws:s3:::"
        bucket = arn[len(prefix) :] if arn.startswith(prefix) else ""
        if not bucket or "/" in bucket:
            raise NoSuchBucket(bucket or arn)
        if not key:
            raise ValidationError("An S3 destination needs an object key.")
        self.buckets.put(bucket, key, body, {"content-type": "application/json"})


def _text(body: bytes) -> str:
    try:
        return body.decode()
    except UnicodeDecodeError:
        raise InvalidMessageContents("The message is not valid UTF-8 text.") from None
