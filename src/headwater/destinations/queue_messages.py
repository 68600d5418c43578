"""SQS messages: send, receive (with visibility timeouts and dead-letter redrive), delete,
change visibility, purge.

Each request is one writer job, so a batch is all in one transaction and the receive that hides
a message can never race another receive. Time is the injected clock's: advancing it makes
in-flight messages visible again. A receipt handle names the queue, the message and the one
receive it came from; deleting with a handle from an earlier receive succeeds but keeps the
message (AWS's rule). After a commit that may make a message deliverable, the queue's
:class:`Signals` key ``(region, name)`` is notified so long polls wake at once.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field

from headwater.clock import Clock
from headwater.destinations import message_attributes, queue_attributes
from headwater.destinations.errors import PurgeQueueInProgress, ReceiptHandleIsInvalid
from headwater.destinations.message_attributes import Attributes
from headwater.destinations.queues import parse_queue_arn, require
from headwater.destinations.signals import Signals
from headwater.errors import HeadwaterError, ValidationError
from headwater.storage import queue_rows
from headwater.storage.queue_rows import Conn, MessageRow, QueueRow
from headwater.storage.store import Store, Txn

MAX_DELAY = 900
PURGE_INTERVAL = 60.0  # seconds between two purges of one queue
MAX_VISIBILITY = 43200


@dataclass(frozen=True)
class Outgoing:
    body: str
    attributes: Attributes = field(default_factory=dict)
    delay_seconds: int | None = None


@dataclass(frozen=True)
class Sent:
    message_id: str
    md5_of_body: str
    md5_of_attributes: str | None


@dataclass(frozen=True)
class Received:
    message_id: str
    receipt_handle: str
    body: str
    attributes: Attributes
    sent: float
    receive_count: int
    first_received: float


@dataclass(frozen=True)
class ReceiveOutcome:
    messages: list[Received]
    next_visible_at: float | None  # when a hidden message reappears (for long polls)
    wait_seconds: int  # the queue's ReceiveMessageWaitTimeSeconds


def _handle(queue_id: int, seq: int, token: str) -> str:
    return base64.urlsafe_b64encode(f"{queue_id}:{seq}:{token}".encode()).decode()


def parse_handle(handle: str) -> tuple[int, int, str]:
    try:
        queue_id, seq, token = base64.urlsafe_b64decode(handle.encode()).decode().split(":")
        return int(queue_id), int(seq), token
    except (ValueError, binascii.Error, UnicodeError):
        raise ReceiptHandleIsInvalid(
            f'The input receipt handle "{handle}" is not a valid receipt handle.'
        ) from None


def check_visibility(seconds: int) -> None:
    if not 0 <= seconds <= MAX_VISIBILITY:
        raise ValidationError(
            f"Value {seconds} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 "
            f"and <= {MAX_VISIBILITY}, if provided."
        )


class QueueMessages:
    def __init__(self, store: Store, clock: Clock, signals: Signals) -> None:
        self.store = store
        self.clock = clock
        self.signals = signals
        self._purges_lock = threading.Lock()
        self._purges: dict[tuple[str, str], float] = {}  # (region, queue) -> last purge

    def _notify_after(self, txn: Txn, region: str, name: str) -> None:
        txn.after_commit(lambda: self.signals.notify((region, name)))

    # -- send ---------------------------------------------------------------------------------

    def send(
        self, region: str, name: str, messages: list[Outgoing]
    ) -> Future[list[Sent | HeadwaterError]]:
        """Each entry is sent or refused on its own (SendMessageBatch's rule)."""

        return self.store.submit(lambda txn: self.send_in(txn, region, name, messages))

    def send_in(
        self, txn: Txn, region: str, name: str, messages: list[Outgoing]
    ) -> list[Sent | HeadwaterError]:
        """Send inside another writer job (SNS fans out to queues in its own transaction)."""
        queue = require(txn.conn, region, name)
        stored = json.loads(queue.attributes)
        out: list[Sent | HeadwaterError] = []
        for message in messages:
            try:
                out.append(self._send_one(txn.conn, queue, stored, message))
            except HeadwaterError as exc:
                out.append(exc)
        if any(isinstance(result, Sent) for result in out):
            self._notify_after(txn, region, name)
        return out

    def _send_one(
        self, conn: Conn, queue: QueueRow, stored: dict[str, str], message: Outgoing
    ) -> Sent:
        message_attributes.check_body(message.body)
        size = len(message.body.encode()) + message_attributes.check_attributes(message.attributes)
        limit = queue_attributes.int_attribute(stored, "MaximumMessageSize")
        if size > limit:
            raise ValidationError(
                "One or more parameters are invalid. Reason: Message must be shorter than "
                f"{limit} bytes."
            )
        delay = message.delay_seconds
        if delay is None:
            delay = queue_attributes.int_attribute(stored, "DelaySeconds")
        elif not 0 <= delay <= MAX_DELAY:
            raise ValidationError(
                f"Value {delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds must "
                f"be >= 0 and <= {MAX_DELAY}."
            )
        now = self.clock.time()
        message_id = str(uuid.uuid4())
        queue_rows.insert_message(
            conn,
            queue.queue_id,
            message_id,
            message.body.encode(),
            message_attributes.dumps(message.attributes),
            now,
            now + delay,
        )
        return Sent(
            message_id,
            message_attributes.md5_of_body(message.body),
            message_attributes.md5_of_attributes(message.attributes)
            if message.attributes
            else None,
        )

    # -- receive ------------------------------------------------------------------------------

    def receive(
        self, region: str, name: str, max_messages: int, visibility: int | None
    ) -> Future[ReceiveOutcome]:
        if visibility is not None:
            check_visibility(visibility)

        def job(txn: Txn) -> ReceiveOutcome:
            conn = txn.conn
            queue = require(conn, region, name)
            stored = json.loads(queue.attributes)
            now = self.clock.time()
            retention = queue_attributes.int_attribute(stored, "MessageRetentionPeriod")
            queue_rows.drop_expired(conn, queue.queue_id, now - retention)
            hide_for = visibility
            if hide_for is None:
                hide_for = queue_attributes.int_attribute(stored, "VisibilityTimeout")
            redrive = self._dead_letter_queue(conn, stored)
            out: list[Received] = []
            taken: set[int] = set()  # with VisibilityTimeout 0 they are still "visible"
            while len(out) < max_messages:
                rows = queue_rows.visible_messages(conn, queue.queue_id, now, max_messages)
                rows = [row for row in rows if row.seq not in taken]
                if not rows:
                    break
                for row in rows[: max_messages - len(out)]:
                    if redrive is not None and row.receive_count >= redrive[1]:
                        self._move(conn, queue, row, redrive[0], now)
                        self._notify_after(txn, redrive[0].region, redrive[0].name)
                        continue
                    taken.add(row.seq)
                    token = secrets.token_hex(12)
                    queue_rows.mark_received(
                        conn, queue.queue_id, row.seq, now + hide_for, token, now
                    )
                    out.append(
                        Received(
                            row.message_id,
                            _handle(queue.queue_id, row.seq, token),
                            row.body.decode(),
                            message_attributes.loads(row.attributes),
                            row.sent,
                            row.receive_count + 1,
                            row.first_received if row.first_received is not None else now,
                        )
                    )
            next_visible = None if out else queue_rows.next_visible_at(conn, queue.queue_id, now)
            wait = queue_attributes.int_attribute(stored, "ReceiveMessageWaitTimeSeconds")
            return ReceiveOutcome(out, next_visible, wait)

        return self.store.submit(job)

    def _dead_letter_queue(self, conn: Conn, stored: dict[str, str]) -> tuple[QueueRow, int] | None:
        policy = stored.get("RedrivePolicy")
        if not policy:
            return None
        redrive = queue_attributes.redrive_policy(policy)
        try:
            region, _, name = parse_queue_arn(redrive.dead_letter_arn)
        except HeadwaterError:
            return None
        target = queue_rows.get_queue(conn, region, name)
        return None if target is None else (target, redrive.max_receive_count)

    def _move(
        self, conn: Conn, source: QueueRow, row: MessageRow, target: QueueRow, now: float
    ) -> None:
        """A message received more than maxReceiveCount times moves to the dead-letter queue,
        keeping its id, body, attributes and original send time."""
        queue_rows.insert_message(
            conn, target.queue_id, row.message_id, row.body, row.attributes, row.sent, now
        )
        queue_rows.delete_message(conn, source.queue_id, row.seq)

    # -- delete, change visibility, purge ----------------------------------------------------

    def _locate(self, conn: Conn, queue: QueueRow, handle: str) -> tuple[int, str]:
        queue_id, seq, token = parse_handle(handle)
        if queue_id != queue.queue_id:
            raise ReceiptHandleIsInvalid(
                f'The input receipt handle "{handle}" is not a valid receipt handle.'
            )
        return seq, token

    def delete(
        self, region: str, name: str, handles: list[str]
    ) -> Future[list[HeadwaterError | None]]:
        def job(txn: Txn) -> list[HeadwaterError | None]:
            queue = require(txn.conn, region, name)
            out: list[HeadwaterError | None] = []
            for handle in handles:
                try:
                    seq, token = self._locate(txn.conn, queue, handle)
                except HeadwaterError as exc:
                    out.append(exc)
                    continue
                state = queue_rows.message_state(txn.conn, queue.queue_id, seq)
                if state is not None and state[0] == token:
                    queue_rows.delete_message(txn.conn, queue.queue_id, seq)
                out.append(None)
            return out

        return self.store.submit(job)

    def change_visibility(
        self, region: str, name: str, changes: list[tuple[str, int]]
    ) -> Future[list[HeadwaterError | None]]:
        def job(txn: Txn) -> list[HeadwaterError | None]:
            queue = require(txn.conn, region, name)
            now = self.clock.time()
            out: list[HeadwaterError | None] = []
            for handle, seconds in changes:
                try:
                    check_visibility(seconds)
                    seq, token = self._locate(txn.conn, queue, handle)
                    state = queue_rows.message_state(txn.conn, queue.queue_id, seq)
                    if state is None or state[0] != token:
                        raise ValidationError(
                            f"Value {handle} for parameter ReceiptHandle is invalid. Reason: "
                            "Message does not exist or is not available for visibility timeout "
                            "change."
                        )
                    queue_rows.set_visible_at(txn.conn, queue.queue_id, seq, now + seconds)
                    out.append(None)
                except HeadwaterError as exc:
                    out.append(exc)
            self._notify_after(txn, region, name)
            return out

        return self.store.submit(job)

    def purge(self, region: str, name: str) -> Future[None]:
        """One purge per queue per 60 seconds (of the server's clock), as SQS allows."""
        now = self.clock.time()
        with self._purges_lock:
            last = self._purges.get((region, name))
        if last is not None and now - last < PURGE_INTERVAL:
            raise PurgeQueueInProgress(
                f"Only one PurgeQueue operation on {name} is allowed every 60 seconds."
            )

        def remember() -> None:
            with self._purges_lock:
                self._purges[(region, name)] = now

        def job(txn: Txn) -> None:
            queue_rows.purge(txn.conn, require(txn.conn, region, name).queue_id)
            txn.after_commit(remember)

        return self.store.submit(job)
