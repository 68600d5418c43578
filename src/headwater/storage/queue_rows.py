"""The SQL of SQS queues and their messages.

A queue is a row keyed by (region, name) with its settable attributes and tags as JSON; its id
is never reused (AUTOINCREMENT), so a receipt handle from a deleted queue cannot touch a new
queue of the same name. A message is deliverable when ``visible_at`` has passed: sending sets
it to the send time plus any delay, receiving pushes it past the visibility timeout.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

Conn = sqlite3.Connection


@dataclass(frozen=True)
class QueueRow:
    queue_id: int
    region: str
    name: str
    attributes: bytes
    tags: bytes
    created: float
    modified: float


@dataclass(frozen=True)
class MessageRow:
    seq: int
    message_id: str
    body: bytes
    attributes: bytes | None
    sent: float
    receive_count: int
    first_received: float | None


_QUEUE = "SELECT queue_id, region, name, attributes, tags, created, modified FROM sqs_queues"
_MESSAGE = (
    "SELECT seq, message_id, body, attributes, sent, receive_count, first_received "
    "FROM sqs_messages"
)


def _queue(row: tuple[Any, ...] | None) -> QueueRow | None:
    if row is None:
        return None
    queue_id, region, name, attributes, tags, created, modified = row
    return QueueRow(int(queue_id), region, name, bytes(attributes), bytes(tags), created, modified)


def get_queue(conn: Conn, region: str, name: str) -> QueueRow | None:
    row = conn.execute(f"{_QUEUE} WHERE region = ? AND name = ?", (region, name)).fetchone()
    return _queue(row)


def list_queues(conn: Conn, region: str, prefix: str) -> list[str]:
    # LIKE would treat _ and % in a queue name prefix as wildcards: compare the prefix exactly.
    return [
        str(name)
        for (name,) in conn.execute(
            "SELECT name FROM sqs_queues WHERE region = ? AND substr(name, 1, ?) = ? ORDER BY name",
            (region, len(prefix), prefix),
        )
    ]


def insert_queue(
    conn: Conn, region: str, name: str, attributes: bytes, tags: bytes, now: float
) -> int:
    cur = conn.execute(
        "INSERT INTO sqs_queues (region, name, attributes, tags, created, modified) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (region, name, attributes, tags, now, now),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def update_queue_attributes(conn: Conn, queue_id: int, attributes: bytes, now: float) -> None:
    conn.execute(
        "UPDATE sqs_queues SET attributes = ?, modified = ? WHERE queue_id = ?",
        (attributes, now, queue_id),
    )


def update_queue_tags(conn: Conn, queue_id: int, tags: bytes) -> None:
    conn.execute("UPDATE sqs_queues SET tags = ? WHERE queue_id = ?", (tags, queue_id))


def delete_queue(conn: Conn, queue_id: int) -> None:
    conn.execute("DELETE FROM sqs_messages WHERE queue_id = ?", (queue_id,))
    conn.execute("DELETE FROM sqs_queues WHERE queue_id = ?", (queue_id,))


# -- messages -----------------------------------------------------------------------------


def insert_message(
    conn: Conn,
    queue_id: int,
    message_id: str,
    body: bytes,
    attributes: bytes | None,
    sent: float,
    visible_at: float,
) -> int:
    row = conn.execute(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM sqs_messages WHERE queue_id = ?", (queue_id,)
    ).fetchone()
    seq = int(row[0])
    conn.execute(
        "INSERT INTO sqs_messages (queue_id, seq, message_id, body, attributes, sent, visible_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (queue_id, seq, message_id, body, attributes, sent, visible_at),
    )
    return seq


def drop_expired(conn: Conn, queue_id: int, sent_before: float) -> int:
    """Messages older than the queue's retention period go; returns how many."""
    cur = conn.execute(
        "DELETE FROM sqs_messages WHERE queue_id = ? AND sent < ?", (queue_id, sent_before)
    )
    return cur.rowcount


def visible_messages(conn: Conn, queue_id: int, now: float, limit: int) -> list[MessageRow]:
    """Deliverable messages, those available longest first."""
    return [
        MessageRow(seq, mid, bytes(body), attrs and bytes(attrs), sent, count, first)
        for seq, mid, body, attrs, sent, count, first in conn.execute(
            f"{_MESSAGE} WHERE queue_id = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?",
            (queue_id, now, limit),
        )
    ]


def next_visible_at(conn: Conn, queue_id: int, now: float) -> float | None:
    """When the next hidden message becomes deliverable (None if no message is hidden)."""
    row = conn.execute(
        "SELECT MIN(visible_at) FROM sqs_messages WHERE queue_id = ? AND visible_at > ?",
        (queue_id, now),
    ).fetchone()
    return None if row[0] is None else float(row[0])


def mark_received(
    conn: Conn, queue_id: int, seq: int, visible_at: float, receipt: str, first_received: float
) -> None:
    conn.execute(
        "UPDATE sqs_messages SET visible_at = ?, receipt = ?, receive_count = receive_count + 1, "
        "first_received = COALESCE(first_received, ?) WHERE queue_id = ? AND seq = ?",
        (visible_at, receipt, first_received, queue_id, seq),
    )


def message_state(conn: Conn, queue_id: int, seq: int) -> tuple[str | None, float] | None:
    """(latest receipt token, visible_at) of a message, or None once it is gone."""
    row = conn.execute(
        "SELECT receipt, visible_at FROM sqs_messages WHERE queue_id = ? AND seq = ?",
        (queue_id, seq),
    ).fetchone()
    return None if row is None else (row[0], float(row[1]))


def set_visible_at(conn: Conn, queue_id: int, seq: int, visible_at: float) -> None:
    conn.execute(
        "UPDATE sqs_messages SET visible_at = ? WHERE queue_id = ? AND seq = ?",
        (visible_at, queue_id, seq),
    )


def delete_message(conn: Conn, queue_id: int, seq: int) -> None:
    conn.execute("DELETE FROM sqs_messages WHERE queue_id = ? AND seq = ?", (queue_id, seq))


def purge(conn: Conn, queue_id: int) -> None:
    conn.execute("DELETE FROM sqs_messages WHERE queue_id = ?", (queue_id,))


def counts(conn: Conn, queue_id: int, now: float, sent_after: float) -> tuple[int, int, int]:
    """(visible, in flight, delayed) among messages still within the retention period."""
    row = conn.execute(
        "SELECT COALESCE(SUM(visible_at <= ?), 0), "
        "COALESCE(SUM(visible_at > ? AND receive_count > 0), 0), "
        "COALESCE(SUM(visible_at > ? AND receive_count = 0), 0) "
        "FROM sqs_messages WHERE queue_id = ? AND sent >= ?",
        (now, now, now, queue_id, sent_after),
    ).fetchone()
    return int(row[0]), int(row[1]), int(row[2])
