"""The asynchronous event queue's rows: the table is added to existing databases, and a row
carries an event's attempts, next-attempt time and last response."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from headwater.storage import async_event_rows as rows
from headwater.storage.db import connect, initialise

ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"


def test_an_existing_database_gets_the_table_and_keeps_its_data(tmp_path: Path) -> None:
    conn = connect(tmp_path / "old.db")
    initialise(conn)
    conn.execute("DROP TABLE async_events")  # as a database made before the table existed
    conn.execute(
        "INSERT INTO function_event_configs (region, name, qualifier, config) "
        "VALUES ('us-east-1', 'fn', '$LATEST', x'7b7d')"
    )
    initialise(conn)
    assert rows.load_events(conn) == []
    (kept,) = conn.execute("SELECT count(*) FROM function_event_configs").fetchone()
    assert kept == 1
    conn.close()


def test_rows_round_trip_soonest_first() -> None:
    conn = sqlite3.connect(":memory:")
    initialise(conn)
    rows.insert_event(conn, "a", ARN, b'{"n": 1}', 100.0)
    rows.insert_event(conn, "b", f"{ARN}:live", b"{}", 50.0)
    rows.record_attempt(conn, "b", 1, 170.0, "3", "Unhandled", b'{"errorType": "E"}')
    first, second = rows.load_events(conn)
    assert first == rows.StoredEvent("a", ARN, b'{"n": 1}', 100.0, 100.0, 0, None, None, None)
    assert second == rows.StoredEvent(
        "b", f"{ARN}:live", b"{}", 50.0, 170.0, 1, "3", "Unhandled", b'{"errorType": "E"}'
    )
    rows.delete_event(conn, "a")
    assert [event.request_id for event in rows.load_events(conn)] == ["b"]
