"""Wires the layers together and runs their life cycle: the only module that knows them all.

Start-up order follows the layers upward (store → streams → tables → functions → mappings);
shutdown stops the TTL reaper and the mappings' pollers first, then the workers, then closes
the database.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from headwater.clock import Clock
from headwater.cloudwatch.lambda_metrics import LambdaMetrics
from headwater.cloudwatch.series import MetricSeries
from headwater.destinations import Destinations
from headwater.functions.async_invoke import AsyncInvoker
from headwater.functions.pool import WorkerPool
from headwater.functions.registry import FunctionRegistry
from headwater.mapping.supervisor import MappingSupervisor
from headwater.settings import Settings
from headwater.storage import rows
from headwater.storage.store import Store
from headwater.streams.iterators import IteratorCodec
from headwater.streams.log import StreamLog
from headwater.streams.maintenance import StreamMaintenance
from headwater.streams.notify import ShardNotifier
from headwater.streams.service import StreamService
from headwater.tables.catalog import Catalog
from headwater.tables.control import TableControl
from headwater.tables.items import ItemOps
from headwater.tables.tags import TableTags
from headwater.tables.ttl import TimeToLive, TtlReaper

log = logging.getLogger("headwater")
T = TypeVar("T")


def _iterator_secret(store: Store) -> bytes:
    def job(txn: Any) -> str:
        existing = rows.get_meta(txn.conn, "iterator_secret")
        if existing is not None:
            return existing
        fresh = secrets.token_hex(32)
        rows.set_meta(txn.conn, "iterator_secret", fresh)
        return fresh

    return bytes.fromhex(store.write(job))


class Runtime:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or Clock()
        if settings.in_memory:
            self.store = Store.temporary()
            code_root = self.store.path.parent / "functions"
        else:
            data_dir = settings.data_dir.resolve()
            self.store = Store(
                data_dir / "headwater.db",
                durable=settings.durable,
                publish_after_fsync=settings.publish_after_fsync,
            )
            code_root = data_dir / "functions"
        self.notifier = ShardNotifier()
        # Waits with a deadline (tumbling windows) re-check the clock when it jumps.
        self.clock.on_advance(self.notifier.wake_all)
        self.streams = StreamLog(
            self.store, self.clock, self.notifier, shards_per_stream=settings.stream_shards
        )
        self.stream_service = StreamService(
            self.streams,
            IteratorCodec(_iterator_secret(self.store)),
            readers_per_shard=2 if settings.strict_stream_readers else None,
        )
        self.catalog = Catalog()
        self.control = TableControl(
            self.store,
            self.catalog,
            self.streams,
            self.clock,
            settings.account_id,
            transition_seconds=settings.table_transition_seconds,
        )
        self.items = ItemOps(self.store, self.catalog, self.streams)
        self.stream_upkeep = StreamMaintenance(
            self.streams,
            self.clock,
            retention_seconds=settings.stream_retention_seconds,
            rollover_seconds=settings.shard_rollover_seconds,
        )
        self.ttl = TimeToLive(self.store, self.catalog, self.streams, self.clock)
        self.ttl_reaper = TtlReaper(self.ttl, self.clock, settings.ttl_sweep_seconds)
        self.tags = TableTags(self.store, self.catalog)
        self.pool = WorkerPool(
            base_env={
                "AWS_ENDPOINT_URL": settings.public_url,
                "AWS_ACCESS_KEY_ID": "headwater",
                "AWS_SECRET_ACCESS_KEY": "headwater",
            },
            idle_seconds=settings.worker_idle_seconds,
            now=self.clock.time,
        )
        self.clock.on_advance(self.pool.poke)  # a clock jump can make workers idle too long
        self.functions = FunctionRegistry(
            self.store, self.pool, self.clock, code_root, settings.account_id
        )
        # CloudWatch metrics (AWS/Lambda and PutMetricData's), per minute, in memory only.
        self.metric_series = MetricSeries(self.clock)
        self.lambda_metrics = LambdaMetrics(self.metric_series)
        self.functions.cloudwatch = self.lambda_metrics
        self.destinations = Destinations(
            self.store,
            self.clock,
            settings.account_id,
            self.store.path.parent / "s3",
            durable=settings.durable and not settings.in_memory,
        )
        # InvocationType=Event: queued durably, retried on the clock, records to the destinations.
        self.async_invoker = AsyncInvoker(self.functions, self.destinations, self.clock)
        self.mappings = MappingSupervisor(
            self.store,
            self.streams,
            self.functions,
            self.clock,
            destinations=self.destinations,
            cloudwatch=self.lambda_metrics,
        )
        self._reads = ThreadPoolExecutor(4, thread_name_prefix="headwater-read")
        self._started = False
        self._closed = False

    def start(self) -> None:
        """Load durable state and start the mappings' pollers."""
        self.streams.load()
        self.streams.resize(self.settings.stream_shards)
        self.control.load()
        self.functions.load()
        self.mappings.load()
        self.ttl.install()
        self.ttl_reaper.start()
        self.stream_upkeep.start()
        self.async_invoker.load()  # events a previous run accepted and did not finish
        self._started = True

    def read(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run a blocking read off the event loop."""
        return asyncio.wrap_future(self._reads.submit(fn, *args))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.ttl_reaper.stop()
        self.control.timers.stop()
        self.stream_upkeep.stop()
        self.mappings.stop_all()
        self.async_invoker.stop()
        self.pool.close()
        # Attempts the pool's close cut short write their outcome before the store closes.
        self.async_invoker.join()
        self.mappings.close()
        self._reads.shutdown(wait=True)
        self.store.close()
