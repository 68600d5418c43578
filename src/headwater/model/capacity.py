"""DynamoDB's capacity-unit arithmetic (for ReturnConsumedCapacity).

Reads: one unit per 4 KB (rounded up) for a strongly consistent read, half that for an
eventually consistent one; a transactional read costs double. Writes: one unit per 1 KB
(rounded up); a transactional write costs double. Query and Scan round the *total* size read,
not each item. A read of a missing item still costs the minimum.

A write of one item is sized by the larger of the item before and after it (PutItem and
UpdateItem), or by the deleted item (DeleteItem; a missing one costs the minimum): AWS's
Developer Guide, "Read and write operations" / "Capacity unit consumption for write
operations" (docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html).

Secondary index writes are counted per index on top of the table's (:class:`Capacity`); which
index rows a write changes is decided where those rows are kept (``tables/indexes.py``), and the
units of each index-row write are :func:`write_units` of the index entry's size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from headwater.model.size import item_size
from headwater.model.types import Item

READ_UNIT = 4096
WRITE_UNIT = 1024
MODES = ("TOTAL", "INDEXES")  # the ReturnConsumedCapacity values that ask for units


def read_units(size_bytes: int, *, consistent: bool = False, transactional: bool = False) -> float:
    units = float(max(1, math.ceil(size_bytes / READ_UNIT)))
    if transactional:
        return units * 2
    return units if consistent else units / 2


def write_units(size_bytes: int, *, transactional: bool = False) -> float:
    units = float(max(1, math.ceil(size_bytes / WRITE_UNIT)))
    return units * 2 if transactional else units


def item_write_units(
    old: Item | None,
    new: Item | None,
    *,
    transactional: bool = False,
    new_size: int | None = None,
) -> float:
    """The table's units for one item going from ``old`` to ``new`` (None: absent): the larger
    of the two sizes (``new_size``: ``new``'s size when the caller has it already)."""
    old_bytes = item_size(old) if old is not None else 0
    if new_size is None:
        new_size = item_size(new) if new is not None else 0
    return write_units(max(old_bytes, new_size), transactional=transactional)


def consumed(table: str, units: float, kind: str | None = None) -> dict[str, object]:
    """The ConsumedCapacity member for one table (``kind``: "Read"/"Write" adds the split)."""
    out: dict[str, object] = {"TableName": table, "CapacityUnits": units}
    if kind == "Read":
        out["ReadCapacityUnits"] = units
    elif kind == "Write":
        out["WriteCapacityUnits"] = units
    return out


@dataclass
class Capacity:
    """Units one table consumed in one request: the table's own reads and writes, and the write
    units of each secondary index the request changed (by index name; an index the request
    did not touch has no entry). Filled only when the request asked for units."""

    table: str
    read: float = 0.0
    write: float = 0.0
    global_indexes: dict[str, float] = field(default_factory=dict)
    local_indexes: dict[str, float] = field(default_factory=dict)

    def add_index_write(self, index: str, is_global: bool, entry_bytes: int) -> None:
        """One write of an index entry of ``entry_bytes`` (a put, a delete or a replacement)."""
        group = self.global_indexes if is_global else self.local_indexes
        group[index] = group.get(index, 0.0) + write_units(entry_bytes)

    @property
    def index_write(self) -> float:
        return sum(self.global_indexes.values()) + sum(self.local_indexes.values())

    @property
    def total(self) -> float:
        return self.read + self.write + self.index_write

    def add(self, other: Capacity) -> None:
        """Fold another entry's units (of the same table) into this one."""
        self.read += other.read
        self.write += other.write
        for mine, theirs in (
            (self.global_indexes, other.global_indexes),
            (self.local_indexes, other.local_indexes),
        ):
            for name, units in theirs.items():
                mine[name] = mine.get(name, 0.0) + units


def per_table(entries: Iterable[Capacity]) -> list[Capacity]:
    """One entry per table (in order of first appearance), each the sum of that table's."""
    totals: dict[str, Capacity] = {}
    for entry in entries:
        total = totals.get(entry.table)
        if total is None:
            totals[entry.table] = total = Capacity(entry.table)
        total.add(entry)
    return list(totals.values())
