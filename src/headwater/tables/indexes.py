"""Secondary indexes: what one is, which items it holds, what it keeps of them.

An index row exists for an item exactly when the item has every index key attribute with the
type the index declares (sparse indexes: an item without them is simply not in the index). The
row holds the *projected* item: the table and index keys plus, for INCLUDE, the named
attributes (ALL keeps everything), so index reads never touch the items table except when a
local index is asked for more than it projects (AWS fetches those from the table too).

Writes go through :func:`maintain`, called by the shared write pieces in ``tables/items.py``
(and by the TTL reaper) inside the job that writes the item, so the item, its index rows and
its stream record commit together. :func:`check_item` gives AWS's errors for index key values
a write may not store (KEY-10, KEY-11, key sizes); it runs before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import orjson

from headwater.errors import ValidationError
from headwater.expressions.ast import (
    AddAction,
    Arithmetic,
    Call,
    Literal,
    Operand,
    Path,
    SetAction,
    UpdatePlan,
)
from headwater.model.capacity import Capacity
from headwater.model.compare import b64_bytes, utf8
from headwater.model.keys import HASH_TOO_LONG, RANGE_TOO_LONG, KeySchema, encode_key
from headwater.model.size import item_size
from headwater.model.types import AttrValue, type_of
from headwater.storage import index_rows
from headwater.tables.throughput import NO_HISTORY, ThroughputHistory

if TYPE_CHECKING:
    from headwater.storage.store import Txn
    from headwater.tables.catalog import TableInfo

Item = dict[str, Any]
TableKey = tuple[bytes, bytes]

PARAM_INVALID: Final = "One or more parameter values were invalid: "
TYPE_MISMATCH: Final = (
    PARAM_INVALID + "Type mismatch for Index Key {attr} Expected: {want} Actual: {got} "
    "IndexName: {index}"
)
EMPTY_VALUE: Final = (
    "One or more parameter values are not valid. A value specified for a secondary index key is "
    "not supported. The AttributeValue for a key attribute cannot contain an empty {kind} value. "
    "IndexName: {index}, IndexKey: {attr}"
)
UPDATE_TYPE: Final = (
    "The update expression attempted to update the secondary index key to unsupported type"
)
UPDATE_EMPTY: Final = (
    "One or more parameter values are not valid. The update expression attempted to update a "
    "secondary index key to a value that is not supported. The AttributeValue for a key "
    "attribute cannot contain an empty {kind} value."
)
NOT_SCALAR: Final = (
    "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
    "allowed: IndexKey: "
)
MAX_HASH_BYTES: Final = 2048
MAX_RANGE_BYTES: Final = 1024

ACTIVE: Final = "ACTIVE"
CREATING: Final = "CREATING"
DELETING: Final = "DELETING"


@dataclass(frozen=True)
class IndexDef:
    """One secondary index of a table, as the catalog keeps (and persists) it."""

    name: str
    is_global: bool
    key_schema: KeySchema
    projection_type: str  # ALL | KEYS_ONLY | INCLUDE
    non_key_attributes: tuple[str, ...] = ()
    read_capacity: int = 0
    write_capacity: int = 0
    status: str = ACTIVE  # global indexes: CREATING → ACTIVE → DELETING
    backfilling: bool = False
    history: ThroughputHistory = NO_HISTORY  # global indexes' provisioned throughput changes

    @property
    def key_schema_pairs(self) -> tuple[tuple[str, str], ...]:
        ks = self.key_schema
        pairs = [(ks.hash_name, "HASH")]
        if ks.range_name is not None:
            pairs.append((ks.range_name, "RANGE"))
        return tuple(pairs)

    @property
    def maintained(self) -> bool:
        """Writes keep its rows (a dropping index is left alone while its rows go)."""
        return self.status != DELETING

    def to_json(self) -> dict[str, Any]:
        ks = self.key_schema
        return {
            "name": self.name,
            "global": self.is_global,
            "key_schema": [ks.hash_name, ks.hash_type, ks.range_name, ks.range_type],
            "projection": self.projection_type,
            "non_key": list(self.non_key_attributes),
            "read_capacity": self.read_capacity,
            "write_capacity": self.write_capacity,
            "status": self.status,
            "backfilling": self.backfilling,
            "history": self.history.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexDef:
        hn, ht, rn, rt = data["key_schema"]
        return cls(
            name=data["name"],
            is_global=data["global"],
            key_schema=KeySchema(hn, ht, rn, rt),
            projection_type=data["projection"],
            non_key_attributes=tuple(data.get("non_key") or ()),
            read_capacity=data.get("read_capacity", 0),
            write_capacity=data.get("write_capacity", 0),
            status=data.get("status", ACTIVE),
            backfilling=data.get("backfilling", False),
            history=ThroughputHistory.from_json(data.get("history")),
        )


# -- what an index holds ----------------------------------------------------------------------


def projected_names(index: IndexDef, table_keys: KeySchema) -> frozenset[str] | None:
    """The attributes an index keeps (None: all of them)."""
    if index.projection_type == "ALL":
        return None
    names = set(table_keys.key_names) | set(index.key_schema.key_names)
    if index.projection_type == "INCLUDE":
        names.update(index.non_key_attributes)
    return frozenset(names)


def project(index: IndexDef, table_keys: KeySchema, item: Item) -> Item:
    """The part of ``item`` an index row keeps."""
    names = projected_names(index, table_keys)
    if names is None:
        return item
    return {name: value for name, value in item.items() if name in names}


def _key_bytes(value: AttrValue, type_name: str) -> int:
    if type_name == "S":
        return len(utf8(value["S"]))
    if type_name == "B":
        return len(b64_bytes(value["B"]))
    return 0  # numbers are never too long


def _usable(value: AttrValue | None, type_name: str, limit: int) -> bool:
    if value is None or type_of(value) != type_name:
        return False
    raw = value[type_name]
    return not (type_name in ("S", "B") and raw == "") and _key_bytes(value, type_name) <= limit


def entry_key(index: IndexDef, item: Item) -> TableKey | None:
    """The index key of ``item`` in byte form, or None when the item is not in the index
    (an attribute missing, or — in items stored before the index existed — unusable)."""
    ks = index.key_schema
    hash_value = item.get(ks.hash_name)
    if not _usable(hash_value, ks.hash_type, MAX_HASH_BYTES):
        return None
    assert hash_value is not None
    if ks.range_name is None or ks.range_type is None:
        return encode_key(hash_value), b""
    range_value = item.get(ks.range_name)
    if not _usable(range_value, ks.range_type, MAX_RANGE_BYTES):
        return None
    assert range_value is not None
    return encode_key(hash_value), encode_key(range_value)


# -- checks on writes ---------------------------------------------------------------------------


def _checked_attributes(info: TableInfo) -> Iterator[tuple[IndexDef, str, str, bool]]:
    """``(index, attribute, type, is_hash)`` for each index key attribute that is not also a
    table key attribute (those are checked as table keys), indexes by name as AWS reports."""
    table_keys = set(info.key_schema.key_names)
    for index in sorted(info.indexes, key=lambda i: i.name):
        if not index.maintained:
            continue
        for name, type_name in index.key_schema.attributes:
            if name not in table_keys:
                yield index, name, type_name, name == index.key_schema.hash_name


def check_item(info: TableInfo, item: Item, *, update: bool = False) -> None:
    """AWS's errors for an item whose index key attributes an index cannot hold: the wrong
    type (KEY-10; NULL included), an empty string or binary (KEY-11), a key too long.
    ``update=True`` gives UpdateItem's wording for values an update expression computed."""
    checked = list(_checked_attributes(info))
    for index, name, type_name, _ in checked:
        value = item.get(name)
        if value is not None and type_of(value) != type_name:
            if update:
                raise ValidationError(UPDATE_TYPE)
            raise ValidationError(
                TYPE_MISMATCH.format(
                    attr=name, want=type_name, got=type_of(value), index=index.name
                )
            )
    for index, name, type_name, _ in checked:
        value = item.get(name)
        if value is not None and type_name in ("S", "B") and value[type_name] == "":
            kind = "string" if type_name == "S" else "binary"
            if update:
                raise ValidationError(UPDATE_EMPTY.format(kind=kind))
            raise ValidationError(EMPTY_VALUE.format(kind=kind, index=index.name, attr=name))
    for _index, name, type_name, is_hash in checked:
        value = item.get(name)
        if value is None:
            continue
        if is_hash and _key_bytes(value, type_name) > MAX_HASH_BYTES:
            raise ValidationError(HASH_TOO_LONG)
        if not is_hash and _key_bytes(value, type_name) > MAX_RANGE_BYTES:
            raise ValidationError(RANGE_TOO_LONG)


def _operand_paths(operand: Operand | Arithmetic) -> Iterator[Path]:
    if isinstance(operand, Path):
        yield operand
    elif isinstance(operand, Arithmetic):
        yield from _operand_paths(operand.left)
        yield from _operand_paths(operand.right)
    elif isinstance(operand, Call):
        for arg in operand.args:
            yield from _operand_paths(arg)


def _static_type(action: object) -> str | None:
    """The type an update action stores, when the expression alone tells it."""
    if isinstance(action, AddAction):
        return type_of(action.value.value)
    if isinstance(action, SetAction):
        value = action.value
        if isinstance(value, Literal):
            return type_of(value.value)
        if isinstance(value, Arithmetic):
            return "N"
        if isinstance(value, Call) and value.name == "list_append":
            return "L"
    return None


def check_key_paths(info: TableInfo, paths: Iterable[Path]) -> None:
    """KEY-14: a path may not look inside an index key attribute (``gsik.a``, ``gsik[0]``)."""
    if not info.indexes:
        return
    nested = {path.head for path in paths if len(path.elements) > 1}
    for index in info.indexes:
        for name in index.key_schema.key_names:
            if name in nested:
                raise ValidationError(NOT_SCALAR + name)


def check_update_plan(info: TableInfo, plan: UpdatePlan) -> None:
    """What AWS checks in an UpdateExpression before reading the item: paths into index keys
    (KEY-14) and values whose type the expression fixes (KEY-10)."""
    if not info.indexes:
        return
    paths: list[Path] = []
    for action in plan.actions:
        paths.append(action.path)
        if isinstance(action, SetAction):
            paths.extend(_operand_paths(action.value))
    check_key_paths(info, paths)
    for action in plan.actions:
        if len(action.path.elements) != 1:
            continue
        stored = _static_type(action)
        if stored is None:
            continue
        for index, name, type_name, _ in _checked_attributes(info):
            if name == action.path.head and stored != type_name:
                raise ValidationError(
                    TYPE_MISMATCH.format(attr=name, want=type_name, got=stored, index=index.name)
                )


# -- keeping the rows --------------------------------------------------------------------------


def maintain(
    txn: Txn,
    info: TableInfo,
    table_key: TableKey,
    old: Item | None,
    new: Item | None,
    spent: Capacity | None = None,
) -> None:
    """Make every index agree with the item at ``table_key`` changing from ``old`` to ``new``
    (None: absent), inside the job's transaction. ``spent`` (given only when the request asked
    for capacity units) is charged one write per index row written, of that row's size.

    AWS's Developer Guide, "Global secondary indexes" / "Provisioned throughput considerations"
    (GSI.html#GSI.ThroughputConsiderations.Writes) and "Local secondary indexes" / "Write
    capacity units" (LSI.html#LSI.ThroughputConsiderations.Writes): an item that enters an index
    costs one write, one that leaves it one write, a change of its index key two (delete the
    old entry, put the new), a change of only its projected attributes one, and an item in the
    index neither before nor after nothing. Each write is sized by the index entry (table and
    index keys plus the projected attributes), one unit per 1 KB. INFERRED: the write that
    replaces an entry in place is sized by the larger of the old and new entries, as a table
    write is; the 100 bytes of per-entry overhead AWS adds count for storage, not for writes."""
    conn = txn.conn
    for index in info.indexes:
        if not index.maintained:
            continue
        old_key = entry_key(index, old) if old is not None else None
        new_key = entry_key(index, new) if new is not None else None
        if old_key is not None and old_key != new_key:
            index_rows.delete_entry(conn, info.table_id, index.name, old_key, table_key)
            if spent is not None:
                assert old is not None
                before = project(index, info.key_schema, old)
                spent.add_index_write(index.name, index.is_global, item_size(before))
        if new_key is None:
            continue
        assert new is not None
        shown = project(index, info.key_schema, new)
        if old_key == new_key and old is not None:
            before = project(index, info.key_schema, old)
            if before == shown:
                continue
            if spent is not None:
                size = max(item_size(before), item_size(shown))
                spent.add_index_write(index.name, index.is_global, size)
        elif spent is not None:
            spent.add_index_write(index.name, index.is_global, item_size(shown))
        index_rows.put_entry(
            conn, info.table_id, index.name, new_key, table_key, orjson.dumps(shown)
        )


def backfill(
    txn: Txn, info: TableInfo, index: IndexDef, rows: list[tuple[bytes, bytes, bytes]]
) -> None:
    """Add stored items to a new index; items it cannot hold are skipped, as AWS does."""
    for hk, rk, raw in rows:
        item = orjson.loads(raw)
        key = entry_key(index, item)
        if key is not None:
            shown = project(index, info.key_schema, item)
            index_rows.put_entry(
                txn.conn, info.table_id, index.name, key, (hk, rk), orjson.dumps(shown)
            )


def find(info: TableInfo, name: str) -> IndexDef | None:
    for index in info.indexes:
        if index.name == name:
            return index
    return None
