"""Query and Scan with IndexName: which index, where to resume, what to return.

The rules AWS applies to index reads (errors.md Q-11..Q-13, Q-21, S-10..S-12), kept apart from
the read loop in ``tables/query.py``:

* an ExclusiveStartKey (and the LastEvaluatedKey a page returns) names the table's keys AND the
  index's keys, since several items may share one index key;
* a global index answers only with what it projects (asking for more is an error, and so is
  ConsistentRead); a local index fetches what it does not project from the table, as AWS does;
* Select defaults to ALL_PROJECTED_ATTRIBUTES.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from headwater.errors import ValidationError
from headwater.expressions.key_condition import SCHEMA_MISMATCH, STARTING_KEY_INVALID
from headwater.model.keys import encode_key
from headwater.model.types import type_of
from headwater.tables import indexes
from headwater.tables.catalog import TableInfo
from headwater.tables.indexes import IndexDef

Item = dict[str, Any]
Position = tuple[bytes, bytes, bytes]
ScanPosition = tuple[bytes, bytes, bytes, bytes]

PARAM_INVALID: Final = "One or more parameter values were invalid: "


@dataclass(frozen=True)
class ReadPlan:
    """How to turn index rows into response items.

    ``fetch``: read each item from the table (a local index asked for more than it keeps);
    ``present``: what to show of an item before any ProjectionExpression (None: as read).
    """

    fetch: bool = False
    present: Callable[[Item], Item] | None = None


def resolve(info: TableInfo, name: str, *, consistent: bool) -> IndexDef:
    """The index a read names (Q-11, Q-12; a building index cannot be read yet)."""
    index = indexes.find(info, name)
    if index is None or index.status == indexes.DELETING:
        raise ValidationError(f"The table does not have the specified index: {name}")
    if index.is_global and consistent:
        raise ValidationError("Consistent reads are not supported on global secondary indexes")
    if index.status == indexes.CREATING:
        raise ValidationError(f"Cannot read from backfilling global secondary index: {name}")
    return index


def key_names(info: TableInfo, index: IndexDef) -> tuple[str, ...]:
    """The attributes of an index read's ExclusiveStartKey and LastEvaluatedKey."""
    names = list(info.key_schema.key_names)
    names.extend(name for name in index.key_schema.key_names if name not in names)
    return tuple(names)


def read_plan(
    info: TableInfo,
    index: IndexDef,
    *,
    select: str | None,
    projected_heads: Iterable[str] | None,
    filter_heads: Iterable[str],
) -> ReadPlan:
    """Check what the read asks for against what the index keeps (Q-13 and its kin)."""
    kept = indexes.projected_names(index, info.key_schema)
    if kept is None:
        return ReadPlan()
    asked = [] if projected_heads is None else list(dict.fromkeys(projected_heads))
    missing = [name for name in asked if name not in kept]
    filtered = [name for name in dict.fromkeys(filter_heads) if name not in kept]
    if index.is_global:
        if select == "ALL_ATTRIBUTES":
            raise ValidationError(
                f"{PARAM_INVALID}Select type ALL_ATTRIBUTES is not supported for global secondary "
                f"index {index.name} because its projection type is not ALL"
            )
        if missing:
            raise ValidationError(
                f"{PARAM_INVALID}Global secondary index {index.name} does not project "
                f"[{', '.join(missing)}]"
            )
        if filtered:
            raise ValidationError(
                f"{PARAM_INVALID}Secondary index {index.name} does not project one or more "
                f"filter attributes: [{', '.join(filtered)}]"
            )
        return ReadPlan()
    fetch = select == "ALL_ATTRIBUTES" or bool(missing) or bool(filtered)
    if not fetch or select == "ALL_ATTRIBUTES" or projected_heads is not None:
        return ReadPlan(fetch=fetch)
    table_keys = info.key_schema
    return ReadPlan(fetch=True, present=lambda item: indexes.project(index, table_keys, item))


def _check_piece(start: Item, name: str, type_name: str) -> None:
    if type_of(start[name]) != type_name:
        raise ValidationError(SCHEMA_MISMATCH)


def _split_start(info: TableInfo, index: IndexDef, start: Item) -> Item:
    """The index part of an ExclusiveStartKey, after checking it names exactly the table's
    and the index's keys."""
    names = key_names(info, index)
    if len(start) != len(names) or any(name not in start for name in names):
        raise ValidationError(STARTING_KEY_INVALID)
    return {name: start[name] for name in index.key_schema.key_names}


def _table_part(info: TableInfo, start: Item) -> tuple[bytes, bytes]:
    ks = info.key_schema
    try:
        key = ks.validate_key({name: start[name] for name in ks.key_names})
    except ValidationError as error:
        raise ValidationError(f"{STARTING_KEY_INVALID}: {error.message}") from None
    hk = encode_key(key[ks.hash_name])
    rk = encode_key(key[ks.range_name]) if ks.range_name is not None else b""
    return hk, rk


def query_start(info: TableInfo, index: IndexDef, start: Item | None) -> Item | None:
    """The index part of a Query's ExclusiveStartKey (``plan_query`` checks its values)."""
    return None if start is None else _split_start(info, index, start)


def query_position(info: TableInfo, index: IndexDef, start: Item) -> Position:
    """Where a Query resumes inside the index partition: past (index sort key, table key)."""
    hk, rk = _table_part(info, start)
    ks = index.key_schema
    index_rk = encode_key(start[ks.range_name]) if ks.range_name is not None else b""
    return index_rk, hk, rk


def scan_position(info: TableInfo, index: IndexDef, start: Item | None) -> ScanPosition | None:
    """Where a Scan of an index resumes: past (index key, table key)."""
    if start is None:
        return None
    part = _split_start(info, index, start)
    for name, type_name in index.key_schema.attributes:
        _check_piece(part, name, type_name)
    hk, rk = _table_part(info, start)
    ks = index.key_schema
    index_hk = encode_key(part[ks.hash_name])
    index_rk = encode_key(part[ks.range_name]) if ks.range_name is not None else b""
    return index_hk, index_rk, hk, rk
