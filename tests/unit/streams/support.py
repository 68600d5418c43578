"""A real stream log over a real Store on a file, for stream and mapping unit tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from headwater.clock import Clock
from headwater.storage.store import Store
from headwater.streams.iterators import IteratorCodec
from headwater.streams.log import ShardInfo, StreamInfo, StreamLog
from headwater.streams.notify import ShardNotifier
from headwater.streams.service import StreamService

REGION = "us-east-1"
ACCOUNT = "123456789012"
SECRET = b"unit-test-iterator-secret"


class StreamWorld:
    """Store + clock + notifier + log + service, opened on ``path`` (reopen to restart)."""

    def __init__(
        self,
        path: Path,
        clock: Clock | None = None,
        notifier: Callable[[], ShardNotifier] = ShardNotifier,
    ) -> None:
        self.path = path
        self.clock = clock or Clock()
        self._make_notifier = notifier
        self._open()

    def _open(self) -> None:
        self.store = Store(self.path)
        self.notifier = self._make_notifier()
        self.log = StreamLog(self.store, self.clock, self.notifier)
        self.log.load()
        self.service = StreamService(self.log, IteratorCodec(SECRET))

    def reopen(self) -> None:
        """Close everything and load it again from the file, as a server restart does."""
        self.close()
        self._open()

    def close(self) -> None:
        self.store.close()

    def create_stream(self, table: str = "orders", view_type: str = "NEW_IMAGE") -> StreamInfo:
        return self.store.write(
            lambda txn: self.log.create_stream(
                txn,
                region=REGION,
                account=ACCOUNT,
                table_name=table,
                view_type=view_type,
                key_schema=(("pk", "HASH"),),
            )
        )

    def stream(self, arn: str) -> StreamInfo:
        info = self.log.stream(arn)
        assert info is not None
        return info

    def shard(self, arn: str) -> ShardInfo:
        shards = self.log.shards(arn)
        assert len(shards) == 1
        return shards[0]

    def append(self, info: StreamInfo, pk: str, value: str = "v") -> int:
        new: dict[str, Any] = {"pk": {"S": pk}, "value": {"S": value}}
        return self.store.write(
            lambda txn: self.log.append(
                txn, info, name="INSERT", keys={"pk": {"S": pk}}, old=None, new=new
            )
        )

    def disable(self, arn: str) -> None:
        self.store.write(lambda txn: self.log.disable_stream(txn, arn))
