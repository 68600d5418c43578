"""Table tags: TagResource, UntagResource, ListTagsOfResource and CreateTable's ``Tags``.

Tags live in their own SQL table keyed by the table's id; a trigger drops them with the table
(storage/ttl_rows.py), so a table created later under the same name starts untagged. The rules
and texts are AWS's (errors.md §2.6): at most 50 tags, keys of 1–128 and values of 0–256
letters, digits, spaces and ``_ . : / = + - @``, no ``aws:`` prefix, every request
all-or-nothing.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from headwater.errors import HeadwaterError, ResourceNotFound, ValidationError
from headwater.storage import ttl_rows
from headwater.storage.store import Store, Txn
from headwater.tables.catalog import Catalog, TableInfo

MAX_TAGS = 50
MAX_KEY = 128
MAX_VALUE = 256
TOO_MANY = "Number of Tags exceed the current limit for the provided ResourceArn"

_ARN_LIKE = re.compile(r"^.+:.+:.+:.+:.+:.+/.+$", re.DOTALL)
_TABLE_ARN = re.compile(r"^arn:aws:dynamodb:([^:/]+):(\d+):table/([^/]{3,255})$")
_PUNCTUATION = frozenset("_.:/=+-@")


class AccessDenied(HeadwaterError):
    """AWS answers a ResourceArn that is not even ARN-shaped as an IAM refusal."""

    code = "AccessDeniedException"


def check_arn_present(arn: Any, operation: str, account: str) -> str:
    """The checks AWS makes before the request's shape (errors.md §2.6 TAG-01..03)."""
    if arn is None:
        raise ValidationError("Invalid TableArn")
    if not isinstance(arn, str) or not _ARN_LIKE.match(arn):
        resource = arn if isinstance(arn, str) and arn else "*"
        raise AccessDenied(
            f"User: arn:aws:iam::{account}:root is not authorized to perform: "
            f"dynamodb:{operation} on resource: {resource}"
        )
    return arn


def parse_table_arn(arn: str) -> tuple[str, str, str]:
    """(region, account, table name) of a table ARN (TAG-05, and index ARNs: TAG-10)."""
    match = _TABLE_ARN.match(arn)
    if match is None:
        raise ValidationError(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    return match.group(1), match.group(2), match.group(3)


def _allowed(text: str) -> bool:
    return all(ch in _PUNCTUATION or unicodedata.category(ch)[0] in ("L", "Z", "N") for ch in text)


def _shown(value: Any) -> str:
    return "null" if value is None else str(value)


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY or not _allowed(key):
        raise ValidationError(f"The Tag Key provided is invalid, Key: {_shown(key)}")
    return key


def check_tags(tags: list[Any]) -> list[tuple[str, str]]:
    """Validate a request's tag list (non-empty is the caller's rule); returns the pairs."""
    if len(tags) > MAX_TAGS:
        raise ValidationError(TOO_MANY)
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for tag in tags:
        tag = tag if isinstance(tag, dict) else {}
        key = check_key(tag.get("Key"))
        if key.lower().startswith("aws:"):
            raise ValidationError(f"Tag Key cannot be prefixed with aws:, Key: {key}")
        value = tag.get("Value")
        if not isinstance(value, str) or len(value) > MAX_VALUE or not _allowed(value):
            raise ValidationError(f"The Tag Value provided is invalid, Value: {_shown(value)}")
        if key in seen:
            raise ValidationError(
                f"Duplicate Tag Keys provided as input: Duplicate Tag Key found {key}"
            )
        seen.add(key)
        pairs.append((key, value))
    return pairs


def check_tag_keys(keys: list[Any]) -> list[str]:
    if len(keys) > MAX_TAGS:
        raise ValidationError(TOO_MANY)
    return [check_key(key) for key in keys]


class TableTags:
    def __init__(self, store: Store, catalog: Catalog) -> None:
        self.store = store
        self.catalog = catalog

    def _table(self, region: str, arn: str, message: str) -> TableInfo:
        arn_region, _account, name = parse_table_arn(arn)
        info = self.catalog.get(region, name) if arn_region == region else None
        if info is None or info.arn != arn:
            raise ResourceNotFound(message)
        return info

    def _in_txn(self, txn: Txn, info: TableInfo, message: str) -> None:
        """The table may have been deleted since the request looked it up."""
        if not ttl_rows.table_matches(txn.conn, info.table_id, info.region, info.name):
            raise ResourceNotFound(message)

    def tag(self, region: str, arn: str, tags: list[tuple[str, str]]) -> None:
        message = f"Requested resource not found: ResourcArn: {arn} not found"  # sic (AWS)
        info = self._table(region, arn, message)

        def job(txn: Txn) -> None:
            self._in_txn(txn, info, message)
            self._put(txn, info, tags)

        self.store.write(job)

    def _put(self, txn: Txn, info: TableInfo, tags: list[tuple[str, str]]) -> None:
        existing = {key for key, _ in ttl_rows.get_tags(txn.conn, info.table_id)}
        if len(existing | {key for key, _ in tags}) > MAX_TAGS:
            raise ValidationError(TOO_MANY)
        ttl_rows.put_tags(txn.conn, info.table_id, tags)

    def tag_new_table(self, info: TableInfo, tags: list[tuple[str, str]]) -> None:
        """CreateTable's ``Tags``: applied right after the table's own commit."""
        if not tags:
            return

        def job(txn: Txn) -> None:
            if ttl_rows.table_matches(txn.conn, info.table_id, info.region, info.name):
                self._put(txn, info, tags)

        self.store.write(job)

    def untag(self, region: str, arn: str, keys: list[str]) -> None:
        message = "Requested resource not found"
        info = self._table(region, arn, message)

        def job(txn: Txn) -> None:
            self._in_txn(txn, info, message)
            ttl_rows.delete_tags(txn.conn, info.table_id, keys)

        self.store.write(job)

    def list_tags(self, region: str, arn: str) -> list[tuple[str, str]]:
        message = f"Requested resource not found: ResourcArn: {arn} not found"  # sic (AWS)
        info = self._table(region, arn, message)
        return self.store.read(lambda conn: ttl_rows.get_tags(conn, info.table_id))
