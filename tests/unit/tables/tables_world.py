"""The table layer over a real Store on a file, with a clock the test steps (batch and
transaction unit tests)."""

from __future__ import annotations

from pathlib import Path

import orjson

from headwater.clock import Clock
from headwater.storage.store import Store
from headwater.streams.log import StreamLog
from headwater.streams.notify import ShardNotifier
from headwater.tables.batch import BatchOps
from headwater.tables.catalog import Catalog
from headwater.tables.control import StreamSpec, TableControl, TableSpec
from headwater.tables.items import ItemOps
from headwater.tables.transactions import TransactionOps

REGION = "us-east-1"


class Tables:
    """Store + stream log + catalog + item, batch and transaction operations."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        self._open()

    def _open(self) -> None:
        self.store = Store(self.path)
        self.streams = StreamLog(self.store, self.clock, ShardNotifier())
        self.streams.load()
        self.catalog = Catalog()
        self.control = TableControl(
            self.store, self.catalog, self.streams, self.clock, "123456789012"
        )
        self.control.load()
        self.items = ItemOps(self.store, self.catalog, self.streams)
        self.batch = BatchOps(self.items)
        self.tx = TransactionOps(self.items, self.clock)

    def reopen(self) -> None:
        self.store.close()
        self._open()

    def close(self) -> None:
        self.store.close()

    def create(self, name: str, *, stream: bool = True) -> None:
        self.control.create_table(
            REGION,
            TableSpec(
                name=name,
                key_schema=(("pk", "HASH"),),
                attribute_definitions=(("pk", "S"),),
                billing_mode="PAY_PER_REQUEST",
                read_capacity=None,
                write_capacity=None,
                stream=StreamSpec(True, "NEW_AND_OLD_IMAGES") if stream else None,
            ),
        )

    def records(self, table: str) -> list[dict[str, object]]:
        info = self.catalog.get(REGION, table)
        assert info is not None and info.latest_stream_arn is not None
        shard = self.streams.shards(info.latest_stream_arn)[0]
        return [orjson.loads(r) for _s, _c, r in self.streams.read(shard.shard_key, 0, 1000)]
