"""SQS queues: create, find, list, delete, attributes and tags.

Queues live per region under one account. Names are 1–80 letters, digits, hyphens and
underscores; a ``.fifo`` name (or ``FifoQueue``) asks for a FIFO queue, which Headwater does
not emulate. CreateQueue is idempotent when the attributes it names match the existing queue's.
Every change is one writer job; reads see the last commit.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from headwater.clock import Clock
from headwater.destinations import queue_attributes
from headwater.destinations.errors import (
    InvalidAttributeName,
    QueueDoesNotExist,
    QueueNameExists,
)
from headwater.destinations.signals import Signals
from headwater.errors import NotEmulated, ValidationError
from headwater.storage import queue_rows
from headwater.storage.queue_rows import Conn, QueueRow
from headwater.storage.store import Store, Txn

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_ARN = re.compile(r"^arn:aws:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,80})$")
MAX_TAGS = 50


@dataclass(frozen=True)
class QueueInfo:
    region: str
    name: str
    attributes: dict[str, str]
    created: float
    modified: float

    def int_attribute(self, name: str) -> int:
        return queue_attributes.int_attribute(self.attributes, name)


def queue_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sqs:{region}:{account}:{name}"


def parse_queue_arn(arn: str) -> tuple[str, str, str]:
    """(region, account, name) of a queue ARN; QueueDoesNotExist if it is not one."""
    match = _ARN.match(arn)
    if match is None:
        raise QueueDoesNotExist()
    return match.group(1), match.group(2), match.group(3)


def check_name(name: str) -> None:
    if name.endswith(".fifo") and _NAME.match(name[: -len(".fifo")] or "-"):
        raise NotEmulated("FIFO queues are not emulated by Headwater.")
    if not _NAME.match(name):
        raise ValidationError(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )


def require(conn: Conn, region: str, name: str) -> QueueRow:
    row = queue_rows.get_queue(conn, region, name)
    if row is None:
        raise QueueDoesNotExist()
    return row


def info(row: QueueRow) -> QueueInfo:
    return QueueInfo(row.region, row.name, json.loads(row.attributes), row.created, row.modified)


def _dumps(value: dict[str, str]) -> bytes:
    return json.dumps(value, sort_keys=True).encode()


class Queues:
    """The queue catalogue of every region (messages are in :mod:`queue_messages`)."""

    def __init__(self, store: Store, clock: Clock, account_id: str, signals: Signals) -> None:
        self.store = store
        self.clock = clock
        self.account_id = account_id
        self.signals = signals

    def arn(self, region: str, name: str) -> str:
        return queue_arn(region, self.account_id, name)

    def create(
        self, region: str, name: str, attributes: dict[str, Any], tags: dict[str, str]
    ) -> Future[None]:
        check_name(name)
        wanted = queue_attributes.check(attributes)
        if len(tags) > MAX_TAGS:
            raise ValidationError(f"Too many tags added for queue {name}.")

        def job(txn: Txn) -> None:
            existing = queue_rows.get_queue(txn.conn, region, name)
            if existing is None:
                now = self.clock.time()
                queue_rows.insert_queue(txn.conn, region, name, _dumps(wanted), _dumps(tags), now)
                return
            current = queue_attributes.effective(json.loads(existing.attributes))
            for key, value in wanted.items():
                if current.get(key) != value:
                    raise QueueNameExists(
                        "A queue already exists with the same name and a different value for "
                        f"attribute {key}"
                    )

        return self.store.submit(job)

    def get(self, region: str, name: str) -> QueueInfo:
        return self.store.read(lambda conn: info(require(conn, region, name)))

    def exists(self, region: str, name: str) -> bool:
        return self.store.read(lambda conn: queue_rows.get_queue(conn, region, name) is not None)

    def list_names(self, region: str, prefix: str = "") -> list[str]:
        return self.store.read(lambda conn: queue_rows.list_queues(conn, region, prefix))

    def delete(self, region: str, name: str) -> Future[None]:
        def job(txn: Txn) -> None:
            queue_rows.delete_queue(txn.conn, require(txn.conn, region, name).queue_id)
            txn.after_commit(lambda: self.signals.notify((region, name)))

        return self.store.submit(job)

    def attributes(self, region: str, name: str, names: list[str]) -> dict[str, str]:
        """GetQueueAttributes: the asked-for attributes that have values ("All" for every one)."""
        for wanted in names:
            if wanted != "All" and wanted not in queue_attributes.READABLE:
                raise InvalidAttributeName(f"Unknown Attribute {wanted}.")
        everything = "All" in names

        def read(conn: Conn) -> dict[str, str]:
            row = require(conn, region, name)
            stored = json.loads(row.attributes)
            now = self.clock.time()
            retention = queue_attributes.int_attribute(stored, "MessageRetentionPeriod")
            visible, in_flight, delayed = queue_rows.counts(
                conn, row.queue_id, now, now - retention
            )
            values = {
                **queue_attributes.effective(stored),
                "ApproximateNumberOfMessages": str(visible),
                "ApproximateNumberOfMessagesNotVisible": str(in_flight),
                "ApproximateNumberOfMessagesDelayed": str(delayed),
                "CreatedTimestamp": str(int(row.created)),
                "LastModifiedTimestamp": str(int(row.modified)),
                "QueueArn": self.arn(region, name),
            }
            if everything:
                return values
            return {key: values[key] for key in names if key in values}

        return self.store.read(read)

    def set_attributes(self, region: str, name: str, attributes: dict[str, Any]) -> Future[None]:
        changes = queue_attributes.check(attributes)

        def job(txn: Txn) -> None:
            row = require(txn.conn, region, name)
            stored = json.loads(row.attributes)
            for key, value in changes.items():
                if value == "" and key in ("RedrivePolicy", "Policy", "RedriveAllowPolicy"):
                    stored.pop(key, None)
                else:
                    stored[key] = value
            queue_rows.update_queue_attributes(
                txn.conn, row.queue_id, _dumps(stored), self.clock.time()
            )

        return self.store.submit(job)

    # -- tags ---------------------------------------------------------------------------------

    def tags(self, region: str, name: str) -> dict[str, str]:
        return self.store.read(lambda conn: dict(json.loads(require(conn, region, name).tags)))

    def tag(self, region: str, name: str, tags: dict[str, str]) -> Future[None]:
        def job(txn: Txn) -> None:
            row = require(txn.conn, region, name)
            merged = {**json.loads(row.tags), **tags}
            if len(merged) > MAX_TAGS:
                raise ValidationError(f"Too many tags added for queue {name}.")
            queue_rows.update_queue_tags(txn.conn, row.queue_id, _dumps(merged))

        return self.store.submit(job)

    def untag(self, region: str, name: str, keys: list[str]) -> Future[None]:
        def job(txn: Txn) -> None:
            row = require(txn.conn, region, name)
            kept = {k: v for k, v in json.loads(row.tags).items() if k not in keys}
            queue_rows.update_queue_tags(txn.conn, row.queue_id, _dumps(kept))

        return self.store.submit(job)
