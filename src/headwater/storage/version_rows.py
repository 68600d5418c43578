"""The SQL of Lambda function versions, their code, and aliases.

A published version is an immutable snapshot of ``$LATEST``'s configuration (a JSON blob, as
function rows hold) numbered per function. Its code zip lives in ``function_code`` once per
distinct CodeSha256, so versions that share code share one blob and a later code update of
``$LATEST`` (which replaces the zip in the ``functions`` row) never loses a version's code.
"""

from __future__ import annotations

import sqlite3

Conn = sqlite3.Connection


def load_versions(conn: Conn) -> list[tuple[str, str, bytes]]:
    return list(conn.execute("SELECT region, name, config FROM function_versions ORDER BY version"))


def insert_version(conn: Conn, region: str, name: str, version: int, config: bytes) -> None:
    conn.execute(
        "INSERT INTO function_versions (region, name, version, config) VALUES (?, ?, ?, ?)",
        (region, name, version, config),
    )


def delete_version(conn: Conn, region: str, name: str, version: int) -> None:
    conn.execute(
        "DELETE FROM function_versions WHERE region = ? AND name = ? AND version = ?",
        (region, name, version),
    )


def keep_latest_code(conn: Conn, region: str, name: str, sha256: str) -> None:
    """Copy ``$LATEST``'s zip into the version code store (once per distinct code)."""
    conn.execute(
        "INSERT OR IGNORE INTO function_code (region, name, sha256, code) "
        "SELECT region, name, ?, code FROM functions WHERE region = ? AND name = ?",
        (sha256, region, name),
    )


def version_code(conn: Conn, region: str, name: str, sha256: str) -> bytes | None:
    row = conn.execute(
        "SELECT code FROM function_code WHERE region = ? AND name = ? AND sha256 = ?",
        (region, name, sha256),
    ).fetchone()
    return None if row is None else bytes(row[0])


def drop_code(conn: Conn, region: str, name: str, sha256: str) -> None:
    conn.execute(
        "DELETE FROM function_code WHERE region = ? AND name = ? AND sha256 = ?",
        (region, name, sha256),
    )


def load_aliases(conn: Conn) -> list[tuple[str, str, bytes]]:
    return list(conn.execute("SELECT region, name, config FROM function_aliases ORDER BY alias"))


def upsert_alias(conn: Conn, region: str, name: str, alias: str, config: bytes) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO function_aliases (region, name, alias, config) VALUES (?, ?, ?, ?)",
        (region, name, alias, config),
    )


def delete_alias(conn: Conn, region: str, name: str, alias: str) -> None:
    conn.execute(
        "DELETE FROM function_aliases WHERE region = ? AND name = ? AND alias = ?",
        (region, name, alias),
    )


def delete_function_history(conn: Conn, region: str, name: str) -> None:
    """Everything published for a function: its versions, their code and its aliases."""
    for table in ("function_versions", "function_code", "function_aliases"):
        conn.execute(f"DELETE FROM {table} WHERE region = ? AND name = ?", (region, name))
