"""DynamoDB's capacity-unit arithmetic (for ReturnConsumedCapacity).

Reads: one unit per 4 KB (rounded up) for a strongly consistent read, half that for an
eventually consistent one; a transactional read costs double. Writes: one unit per 1 KB
(rounded up); a transactional write costs double. Query and Scan round the *total* size read,
not each item. A read of a missing item still costs the minimum.
"""

from __future__ import annotations

import math

READ_UNIT = 4096
WRITE_UNIT = 1024


def read_units(size_bytes: int, *, consistent: bool = False, transactional: bool = False) -> float:
    units = float(max(1, math.ceil(size_bytes / READ_UNIT)))
    if transactional:
        return units * 2
    return units if consistent else units / 2


def write_units(size_bytes: int, *, transactional: bool = False) -> float:
    units = float(max(1, math.ceil(size_bytes / WRITE_UNIT)))
    return units * 2 if transactional else units


def consumed(table: str, units: float, kind: str | None = None) -> dict[str, object]:
    """The ConsumedCapacity member for one table (``kind``: "Read"/"Write" adds the split)."""
    out: dict[str, object] = {"TableName": table, "CapacityUnits": units}
    if kind == "Read":
        out["ReadCapacityUnits"] = units
    elif kind == "Write":
        out["WriteCapacityUnits"] = units
    return out
