"""The SQL of Lambda's asynchronous event queue (``InvocationType=Event``): one row per event
accepted and not yet finished, written before Invoke answers 202 and deleted once the event
reaches its final outcome. A failed attempt updates the row (how many attempts, when the next is
due, and the last response, which the OnFailure record carries)."""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

Conn = sqlite3.Connection


class StoredEvent(NamedTuple):
    request_id: str
    invoked_arn: str
    payload: bytes
    received: float
    next_attempt: float
    attempts: int
    executed_version: str | None
    function_error: str | None
    response: bytes | None


def insert_event(
    conn: Conn, request_id: str, invoked_arn: str, payload: bytes, received: float
) -> None:
    """A new event, due at once."""
    conn.execute(
        "INSERT INTO async_events (request_id, invoked_arn, payload, received, next_attempt) "
        "VALUES (?, ?, ?, ?, ?)",
        (request_id, invoked_arn, payload, received, received),
    )


def record_attempt(
    conn: Conn,
    request_id: str,
    attempts: int,
    next_attempt: float,
    executed_version: str,
    function_error: str | None,
    response: bytes,
) -> None:
    """A failed attempt: the count, when the next one is due, and what this one answered."""
    conn.execute(
        "UPDATE async_events SET attempts = ?, next_attempt = ?, executed_version = ?, "
        "function_error = ?, response = ? WHERE request_id = ?",
        (attempts, next_attempt, executed_version, function_error, response, request_id),
    )


def delete_event(conn: Conn, request_id: str) -> None:
    conn.execute("DELETE FROM async_events WHERE request_id = ?", (request_id,))


def load_events(conn: Conn) -> list[StoredEvent]:
    """Every pending event, the soonest due first."""
    return [
        StoredEvent(*row)
        for row in conn.execute(
            "SELECT request_id, invoked_arn, payload, received, next_attempt, attempts, "
            "executed_version, function_error, response FROM async_events "
            "ORDER BY next_attempt, received"
        )
    ]
