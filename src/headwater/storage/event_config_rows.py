"""The SQL of asynchronous invocation settings (Put/UpdateFunctionEventInvokeConfig): one row per
function and qualifier (``$LATEST``, a version number or an alias name), its settings a JSON blob.
"""

from __future__ import annotations

import sqlite3

Conn = sqlite3.Connection


def load_event_configs(conn: Conn) -> list[tuple[str, str, str, bytes]]:
    return list(
        conn.execute(
            "SELECT region, name, qualifier, config FROM function_event_configs "
            "ORDER BY region, name, qualifier"
        )
    )


def upsert_event_config(conn: Conn, region: str, name: str, qualifier: str, config: bytes) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO function_event_configs (region, name, qualifier, config) "
        "VALUES (?, ?, ?, ?)",
        (region, name, qualifier, config),
    )


def delete_event_config(conn: Conn, region: str, name: str, qualifier: str | None = None) -> None:
    """One qualifier's settings, or (``qualifier`` None) every one of the function's."""
    if qualifier is None:
        conn.execute(
            "DELETE FROM function_event_configs WHERE region = ? AND name = ?", (region, name)
        )
    else:
        conn.execute(
            "DELETE FROM function_event_configs WHERE region = ? AND name = ? AND qualifier = ?",
            (region, name, qualifier),
        )
