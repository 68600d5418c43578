"""What Headwater knows about each table, kept in memory and persisted as JSON.

A :class:`TableInfo` is immutable; every change replaces it (after its commit), so any thread
may read the catalog without locks.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import orjson

from headwater.model.keys import KeySchema
from headwater.tables.indexes import IndexDef
from headwater.tables.throughput import NO_HISTORY, ThroughputHistory


@dataclass(frozen=True)
class TableInfo:
    table_id: int
    region: str
    account: str
    name: str
    key_schema: KeySchema
    attribute_definitions: tuple[tuple[str, str], ...]
    created: float
    billing_mode: str = "PROVISIONED"
    read_capacity: int = 0
    write_capacity: int = 0
    stream_enabled: bool = False
    stream_view_type: str | None = None
    latest_stream_arn: str | None = None
    latest_stream_label: str | None = None
    status: str = "ACTIVE"
    deletion_protection: bool = False
    indexes: tuple[IndexDef, ...] = ()
    # When UpdateTable last switched the table to PAY_PER_REQUEST (None: it never did).
    switched_to_on_demand: float | None = None
    # When the provisioned throughput last went up and down, and the day's decreases.
    history: ThroughputHistory = NO_HISTORY
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def arn(self) -> str:
        return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{self.name}"

    def index_arn(self, index_name: str) -> str:
        return f"{self.arn}/index/{index_name}"

    @property
    def local_indexes(self) -> tuple[IndexDef, ...]:
        return tuple(index for index in self.indexes if not index.is_global)

    @property
    def global_indexes(self) -> tuple[IndexDef, ...]:
        return tuple(index for index in self.indexes if index.is_global)

    @property
    def key_schema_pairs(self) -> tuple[tuple[str, str], ...]:
        pairs = [(self.key_schema.hash_name, "HASH")]
        if self.key_schema.range_name is not None:
            pairs.append((self.key_schema.range_name, "RANGE"))
        return tuple(pairs)

    def to_json(self) -> bytes:
        ks = self.key_schema
        return orjson.dumps(
            {
                "account": self.account,
                "key_schema": [ks.hash_name, ks.hash_type, ks.range_name, ks.range_type],
                "attribute_definitions": [list(a) for a in self.attribute_definitions],
                "created": self.created,
                "billing_mode": self.billing_mode,
                "read_capacity": self.read_capacity,
                "write_capacity": self.write_capacity,
                "stream_enabled": self.stream_enabled,
                "stream_view_type": self.stream_view_type,
                "latest_stream_arn": self.latest_stream_arn,
                "latest_stream_label": self.latest_stream_label,
                "deletion_protection": self.deletion_protection,
                "indexes": [index.to_json() for index in self.indexes],
                "switched_to_on_demand": self.switched_to_on_demand,
                "history": self.history.to_json(),
            }
        )

    @classmethod
    def from_json(cls, table_id: int, region: str, name: str, data: bytes) -> TableInfo:
        d = orjson.loads(data)
        hn, ht, rn, rt = d["key_schema"]
        return cls(
            table_id=table_id,
            region=region,
            account=d["account"],
            name=name,
            key_schema=KeySchema(hn, ht, rn, rt),
            attribute_definitions=tuple((a[0], a[1]) for a in d["attribute_definitions"]),
            created=d["created"],
            billing_mode=d["billing_mode"],
            read_capacity=d["read_capacity"],
            write_capacity=d["write_capacity"],
            stream_enabled=d["stream_enabled"],
            stream_view_type=d["stream_view_type"],
            latest_stream_arn=d["latest_stream_arn"],
            latest_stream_label=d["latest_stream_label"],
            deletion_protection=d.get("deletion_protection", False),
            indexes=tuple(IndexDef.from_json(i) for i in d.get("indexes", ())),
            switched_to_on_demand=d.get("switched_to_on_demand"),
            history=ThroughputHistory.from_json(d.get("history")),
        )


class Catalog:
    def __init__(self) -> None:
        self._tables: dict[tuple[str, str], TableInfo] = {}
        self._lock = threading.Lock()

    def get(self, region: str, name: str) -> TableInfo | None:
        return self._tables.get((region, name))

    def put(self, info: TableInfo) -> None:
        with self._lock:
            self._tables[(info.region, info.name)] = info

    def remove(self, region: str, name: str) -> None:
        with self._lock:
            self._tables.pop((region, name), None)

    def tables(self) -> list[TableInfo]:
        """Every table in every region."""
        with self._lock:
            return list(self._tables.values())

    def names(self, region: str) -> list[str]:
        with self._lock:
            return sorted(name for (r, name) in self._tables if r == region)
