"""SNS topics and subscriptions; publishing fans out to subscribed SQS queues.

A publish is one writer job: the topic's subscriptions are read and every subscribed queue gets
its message in the same transaction, so a fan-out is all-or-nothing. A queue that does not
exist (or belongs to another account) is skipped, as AWS drops a delivery it cannot make. Only
the ``sqs`` protocol delivers; the other protocols are refused as not emulated, as is a
subscription FilterPolicy.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from headwater.clock import Clock
from headwater.destinations.errors import SnsInvalidParameter, SnsNotFound, TopicNotFound
from headwater.destinations.message_attributes import Attributes
from headwater.destinations.queue_messages import Outgoing, QueueMessages
from headwater.destinations.queues import parse_queue_arn
from headwater.errors import HeadwaterError, NotEmulated
from headwater.storage import queue_rows, sns_rows
from headwater.storage.sns_rows import Conn, SubscriptionRow, TopicRow
from headwater.storage.store import Store, Txn

MAX_MESSAGE = 256 * 1024
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TOPIC_ARN = re.compile(r"^arn:aws:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,256})$")
PROTOCOLS = frozenset(
    {"http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"}
)
TOPIC_SETTABLE = frozenset(
    {"DisplayName", "Policy", "DeliveryPolicy", "KmsMasterKeyId", "TracingConfig",
     "SignatureVersion", "ArchivePolicy", "ContentBasedDeduplication"}
)  # fmt: skip
SUBSCRIPTION_SETTABLE = frozenset(
    {"RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy",
     "DeliveryPolicy", "SubscriptionRoleArn"}
)  # fmt: skip


@dataclass(frozen=True)
class Subscription:
    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    attributes: dict[str, str]


def parse_topic_arn(arn: str) -> tuple[str, str, str]:
    """(region, account, name) of a topic ARN."""
    match = _TOPIC_ARN.match(arn)
    if match is None:
        raise SnsInvalidParameter("Invalid parameter: TopicArn")
    return match.group(1), match.group(2), match.group(3)


def _iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        row.arn, row.topic_arn, row.protocol, row.endpoint, json.loads(row.attributes)
    )


def _check_attributes(attributes: dict[str, str], allowed: frozenset[str]) -> None:
    for name in attributes:
        if name not in allowed:
            raise SnsInvalidParameter("Invalid parameter: AttributeName")
    if attributes.get("FilterPolicy"):
        raise NotEmulated("Subscription filter policies are not emulated by Headwater.")
    raw = attributes.get("RawMessageDelivery")
    if raw is not None and raw.lower() not in ("true", "false"):
        raise SnsInvalidParameter("Invalid parameter: Attributes Reason: RawMessageDelivery")


class Topics:
    def __init__(
        self, store: Store, clock: Clock, account_id: str, messages: QueueMessages
    ) -> None:
        self.store = store
        self.clock = clock
        self.account_id = account_id
        self.messages = messages

    def arn(self, region: str, name: str) -> str:
        return f"arn:aws:sns:{region}:{self.account_id}:{name}"

    def _require(self, conn: Conn, arn: str) -> TopicRow:
        _, account, _ = parse_topic_arn(arn)
        topic = sns_rows.get_topic(conn, arn) if account == self.account_id else None
        if topic is None:
            raise TopicNotFound()
        return topic

    # -- topics -------------------------------------------------------------------------------

    def create(self, region: str, name: str, attributes: dict[str, str]) -> Future[str]:
        if name.endswith(".fifo"):
            raise NotEmulated("FIFO topics are not emulated by Headwater.")
        if not _NAME.match(name):
            raise SnsInvalidParameter(
                "Invalid parameter: Topic Name must be made up of only uppercase and lowercase "
                "ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 "
                "characters long."
            )
        _check_attributes(attributes, TOPIC_SETTABLE)
        arn = self.arn(region, name)

        def job(txn: Txn) -> str:
            existing = sns_rows.get_topic(txn.conn, arn)
            if existing is None:
                row = TopicRow(
                    arn, region, name, json.dumps(attributes).encode(), self.clock.time()
                )
                sns_rows.insert_topic(txn.conn, row)
            elif any(json.loads(existing.attributes).get(k) != v for k, v in attributes.items()):
                raise SnsInvalidParameter(
                    "Invalid parameter: Attributes Reason: Topic already exists with different "
                    "attributes"
                )
            return arn

        return self.store.submit(job)

    def delete(self, arn: str) -> Future[None]:
        """Deleting a topic that is not there succeeds (AWS: the action is idempotent)."""
        parse_topic_arn(arn)
        return self.store.submit(lambda txn: sns_rows.delete_topic(txn.conn, arn))

    def list_arns(self, region: str, after: str = "", limit: int = 100) -> list[str]:
        return self.store.read(lambda conn: sns_rows.list_topics(conn, region, after, limit))

    def attributes(self, arn: str) -> dict[str, str]:
        def read(conn: Conn) -> dict[str, str]:
            topic = self._require(conn, arn)
            confirmed = len(sns_rows.subscriptions_of(conn, arn))
            return {
                "DisplayName": "",
                **json.loads(topic.attributes),
                "TopicArn": arn,
                "Owner": self.account_id,
                "SubscriptionsConfirmed": str(confirmed),
                "SubscriptionsPending": "0",
                "SubscriptionsDeleted": "0",
            }

        return self.store.read(read)

    def set_attribute(self, arn: str, name: str, value: str) -> Future[None]:
        _check_attributes({name: value}, TOPIC_SETTABLE)

        def job(txn: Txn) -> None:
            stored = json.loads(self._require(txn.conn, arn).attributes)
            stored[name] = value
            sns_rows.update_topic_attributes(txn.conn, arn, json.dumps(stored).encode())

        return self.store.submit(job)

    # -- subscriptions ------------------------------------------------------------------------

    def subscribe(
        self, topic_arn: str, protocol: str, endpoint: str, attributes: dict[str, str]
    ) -> Future[str]:
        if protocol not in PROTOCOLS:
            raise SnsInvalidParameter(
                f"Invalid parameter: Amazon SNS does not support this protocol string: {protocol}"
            )
        if protocol != "sqs":
            raise NotEmulated(
                f"Headwater delivers SNS messages to SQS queues only, not to {protocol}."
            )
        try:
            parse_queue_arn(endpoint)
        except HeadwaterError:
            raise SnsInvalidParameter("Invalid parameter: SQS endpoint ARN") from None
        _check_attributes(attributes, SUBSCRIPTION_SETTABLE)

        def job(txn: Txn) -> str:
            self._require(txn.conn, topic_arn)
            for existing in sns_rows.subscriptions_of(txn.conn, topic_arn):
                if (existing.protocol, existing.endpoint) == (protocol, endpoint):
                    return existing.arn
            arn = f"{topic_arn}:{uuid.uuid4()}"
            row = SubscriptionRow(
                arn, topic_arn, protocol, endpoint, json.dumps(attributes).encode()
            )
            sns_rows.insert_subscription(txn.conn, row)
            return arn

        return self.store.submit(job)

    def unsubscribe(self, arn: str) -> Future[None]:
        def job(txn: Txn) -> None:
            if sns_rows.get_subscription(txn.conn, arn) is None:
                raise SnsNotFound("Subscription does not exist")
            sns_rows.delete_subscription(txn.conn, arn)

        return self.store.submit(job)

    def subscriptions(self, region: str, topic_arn: str | None = None) -> list[Subscription]:
        def read(conn: Conn) -> list[Subscription]:
            if topic_arn is None:
                rows = sns_rows.all_subscriptions(conn, f"arn:aws:sns:{region}:")
            else:
                self._require(conn, topic_arn)
                rows = sns_rows.subscriptions_of(conn, topic_arn)
            return [_subscription(row) for row in rows]

        return self.store.read(read)

    def subscription_attributes(self, arn: str) -> dict[str, str]:
        def read(conn: Conn) -> dict[str, str]:
            row = sns_rows.get_subscription(conn, arn)
            if row is None:
                raise SnsNotFound("Subscription does not exist")
            return {
                "RawMessageDelivery": "false",
                **json.loads(row.attributes),
                "SubscriptionArn": row.arn,
                "TopicArn": row.topic_arn,
                "Owner": self.account_id,
                "Protocol": row.protocol,
                "Endpoint": row.endpoint,
                "ConfirmationWasAuthenticated": "true",
                "PendingConfirmation": "false",
            }

        return self.store.read(read)

    def set_subscription_attribute(self, arn: str, name: str, value: str) -> Future[None]:
        _check_attributes({name: value}, SUBSCRIPTION_SETTABLE)

        def job(txn: Txn) -> None:
            row = sns_rows.get_subscription(txn.conn, arn)
            if row is None:
                raise SnsNotFound("Subscription does not exist")
            stored = json.loads(row.attributes)
            stored[name] = value
            sns_rows.update_subscription_attributes(txn.conn, arn, json.dumps(stored).encode())

        return self.store.submit(job)

    # -- publishing ---------------------------------------------------------------------------

    def publish(
        self,
        topic_arn: str,
        message: str,
        *,
        subject: str | None = None,
        attributes: Attributes | None = None,
        structure: str | None = None,
    ) -> Future[str]:
        """Returns the message id once every subscribed queue has its copy."""
        per_protocol = _messages(message, structure)
        if subject is not None and not 1 <= len(subject) <= 100:
            raise SnsInvalidParameter("Invalid parameter: Subject")
        message_id = str(uuid.uuid4())

        def job(txn: Txn) -> str:
            self._require(txn.conn, topic_arn)
            now = self.clock.time()
            for subscription in sns_rows.subscriptions_of(txn.conn, topic_arn):
                text = per_protocol.get(subscription.protocol, per_protocol["default"])
                self._deliver(
                    txn,
                    _subscription(subscription),
                    message_id,
                    text,
                    subject,
                    attributes or {},
                    now,
                )
            return message_id

        return self.store.submit(job)

    def _deliver(
        self,
        txn: Txn,
        subscription: Subscription,
        message_id: str,
        message: str,
        subject: str | None,
        attributes: Attributes,
        now: float,
    ) -> None:
        region, account, name = parse_queue_arn(subscription.endpoint)
        if account != self.account_id or queue_rows.get_queue(txn.conn, region, name) is None:
            return  # AWS drops a delivery to a queue that is not there
        if subscription.attributes.get("RawMessageDelivery", "false").lower() == "true":
            outgoing = Outgoing(message, dict(attributes))
        else:
            envelope = notification(subscription, message_id, message, subject, attributes, now)
            outgoing = Outgoing(json.dumps(envelope))
        self.messages.send_in(txn, region, name, [outgoing])


def _messages(message: str, structure: str | None) -> dict[str, str]:
    """The message for each protocol (``default`` for the rest)."""
    if not message:
        raise SnsInvalidParameter("Invalid parameter: Empty message")
    if len(message.encode()) > MAX_MESSAGE:
        raise SnsInvalidParameter("Invalid parameter: Message too long")
    if structure is None:
        return {"default": message}
    if structure != "json":
        raise SnsInvalidParameter("Invalid parameter: MessageStructure")
    try:
        parsed: Any = json.loads(message)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise SnsInvalidParameter(
            "Invalid parameter: Message Structure - JSON message body failed to parse"
        )
    if not isinstance(parsed.get("default"), str):
        raise SnsInvalidParameter(
            "Invalid parameter: Message Structure - No default entry in JSON message body"
        )
    return {k: v for k, v in parsed.items() if isinstance(v, str)}


def notification(
    subscription: Subscription,
    message_id: str,
    message: str,
    subject: str | None,
    attributes: Attributes,
    now: float,
) -> dict[str, Any]:
    """The JSON envelope an SQS subscriber receives (without RawMessageDelivery)."""
    region = subscription.topic_arn.split(":")[3]
    envelope: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": subscription.topic_arn,
    }
    if subject is not None:
        envelope["Subject"] = subject
    envelope |= {
        "Message": message,
        "Timestamp": _iso(now),
        "SignatureVersion": "1",
        "Signature": "SEVBRFdBVEVS",  # not signed: Headwater has no certificate to sign with
        "SigningCertURL": f"https://sns.{region}.amazonaws.com/SimpleNotificationService.pem",
        "UnsubscribeURL": (
            f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
            f"{subscription.arn}"
        ),
    }
    if attributes:
        envelope["MessageAttributes"] = {
            name: {
                "Type": a.data_type,
                "Value": base64.b64encode(a.binary_value or b"").decode()
                if a.is_binary
                else a.string_value,
            }
            for name, a in attributes.items()
        }
    return envelope
