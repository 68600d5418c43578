"""The SQL of TransactWriteItems' idempotency tokens (ClientRequestToken).

A token row remembers which request a token was first used with (a digest of it) and when, so
a retry within the window is recognised, and writes nothing again, even after a restart. Rows
are written inside the transaction's own writer job, so a cancelled transaction leaves no token
behind.
"""

from __future__ import annotations

import sqlite3

Conn = sqlite3.Connection


def get_token(conn: Conn, region: str, token: str) -> tuple[str, float] | None:
    """``(digest, created)`` of a token, or None."""
    row = conn.execute(
        "SELECT digest, created FROM tx_tokens WHERE region = ? AND token = ?", (region, token)
    ).fetchone()
    return None if row is None else (str(row[0]), float(row[1]))


def put_token(conn: Conn, region: str, token: str, digest: str, created: float) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO tx_tokens (region, token, digest, created) VALUES (?, ?, ?, ?)",
        (region, token, digest, created),
    )


def purge_tokens(conn: Conn, created_before: float) -> None:
    """Forget the tokens whose window has closed."""
    conn.execute("DELETE FROM tx_tokens WHERE created < ?", (created_before,))
