"""The mapping supervisor: keeps the set of running pollers equal to the set of enabled mappings.

API calls change a mapping's stored configuration and answer at once with a transitional state
(Creating, Enabling, Updating, Disabling, Deleting), as AWS does; the supervisor then applies the
change on its own thread — starting or stopping pollers from the durable checkpoints — and moves
the mapping to its resting state.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from headwater.clock import Clock
from headwater.cloudwatch.lambda_metrics import LambdaMetrics, MappingMetrics
from headwater.errors import ResourceNotFound
from headwater.mapping import config as states
from headwater.mapping.config import MappingConfig
from headwater.mapping.failures import FailureSink, GivenUp, send
from headwater.mapping.filtering import compile_filters
from headwater.mapping.invoker import Invoker, Outcome
from headwater.mapping.lanes import ShardLanes, lane_key, lane_starts
from headwater.mapping.policy import REPORT_BATCH_ITEM_FAILURES, LadderSettings
from headwater.mapping.poller import PollerSettings, ShardPoller
from headwater.mapping.positions import PendingPositions
from headwater.storage import rows
from headwater.storage.store import Store, Txn
from headwater.streams.log import StreamLog

log = logging.getLogger("headwater.mapping")


class MappingSupervisor:
    def __init__(
        self,
        store: Store,
        streams: StreamLog,
        invoker: Invoker,
        clock: Clock,
        destinations: FailureSink | None = None,
        cloudwatch: LambdaMetrics | None = None,
    ) -> None:
        self.destinations = destinations
        self.cloudwatch = cloudwatch or LambdaMetrics()
        self.store = store
        self.streams = streams
        self.invoker = invoker
        self.clock = clock
        self._lock = threading.RLock()
        self._mappings: dict[str, MappingConfig] = {}
        self._pollers: dict[str, dict[str, ShardPoller]] = {}
        self._control = ThreadPoolExecutor(1, thread_name_prefix="headwater-mappings")
        self._closed = False
        self.invocations = 0
        # A poller's position waits here (at most FLUSH_DELAY_S) on its way to the disk. No
        # lock in ``wanted``: the writer must never wait on the supervisor, which waits on it.
        self.positions = PendingPositions(store, lambda uuid: uuid in self._mappings)
        streams.on_shards_changed(self._shards_changed)

    # -- queries ---------------------------------------------------------------------------

    def get(self, uuid: str) -> MappingConfig:
        with self._lock:
            found = self._mappings.get(uuid)
            if found is None:
                raise ResourceNotFound("The resource you requested does not exist.")
            return MappingConfig(**found.__dict__)

    def all(self, region: str) -> list[MappingConfig]:
        with self._lock:
            return [
                MappingConfig(**m.__dict__)
                for m in sorted(self._mappings.values(), key=lambda m: (m.last_modified, m.uuid))
                if m.region == region
            ]

    def all_regions(self) -> list[MappingConfig]:
        with self._lock:
            return [MappingConfig(**m.__dict__) for m in self._mappings.values()]

    # -- changes (from the API) ------------------------------------------------------------

    def create(self, mapping: MappingConfig) -> MappingConfig:
        mapping.state = states.CREATING if mapping.enabled else states.DISABLED
        mapping.last_modified = self.clock.time()
        open_shards = [s for s in self.streams.shards(mapping.event_source_arn) if s.is_open]
        latest = {s.shard_id: self.streams.latest_seq(s) for s in open_shards}

        def job(txn: Txn) -> None:
            rows.upsert_mapping(txn.conn, mapping.uuid, mapping.region, mapping.to_json())
            if mapping.starting_position == "LATEST":
                # LATEST is fixed at creation: records written before the poller starts (or
                # while the server is down) are still delivered.
                for shard_id, seq in latest.items():
                    rows.save_checkpoint(txn.conn, mapping.uuid, shard_id, seq)

        self.store.write(job)
        with self._lock:
            self._mappings[mapping.uuid] = mapping
            snapshot = MappingConfig(**mapping.__dict__)
        self._schedule(mapping.uuid)
        return snapshot

    def update(self, uuid: str, changes: dict[str, Any]) -> MappingConfig:
        with self._lock:
            current = self._mappings.get(uuid)
            if current is None:
                raise ResourceNotFound("The resource you requested does not exist.")
            updated = MappingConfig(**{**current.__dict__, **changes})
            if "enabled" in changes and changes["enabled"] != current.enabled:
                updated.state = states.ENABLING if updated.enabled else states.DISABLING
            elif updated.enabled:
                updated.state = states.UPDATING
            updated.state_reason = "User action"
            updated.last_modified = self.clock.time()
            self.store.write(
                lambda txn: rows.upsert_mapping(txn.conn, uuid, updated.region, updated.to_json())
            )
            self._mappings[uuid] = updated
            snapshot = MappingConfig(**updated.__dict__)
        self._schedule(uuid)
        return snapshot

    def delete(self, uuid: str) -> MappingConfig:
        with self._lock:
            current = self._mappings.get(uuid)
            if current is None:
                raise ResourceNotFound("The resource you requested does not exist.")
            current.state = states.DELETING
            snapshot = MappingConfig(**current.__dict__)
        self._schedule(uuid)
        return snapshot

    def in_transition(self, uuid: str) -> bool:
        with self._lock:
            found = self._mappings.get(uuid)
            return found is not None and found.state in states.TRANSITIONAL

    # -- applying changes (supervisor thread) ----------------------------------------------

    def _schedule(self, uuid: str) -> None:
        if not self._closed:
            self._control.submit(self._apply, uuid)

    def _apply(self, uuid: str) -> None:
        try:
            self._stop_pollers(uuid)
            with self._lock:
                mapping = self._mappings.get(uuid)
            if mapping is None:
                return
            if mapping.state == states.DELETING:
                self.store.write(lambda txn: rows.delete_mapping(txn.conn, uuid))
                with self._lock:
                    self._mappings.pop(uuid, None)
                return
            if mapping.enabled:
                self._start_pollers(mapping)
            with self._lock:
                mapping.state = mapping.target_state
            self.store.write(
                lambda txn: rows.upsert_mapping(txn.conn, uuid, mapping.region, mapping.to_json())
            )
        except Exception:
            log.exception("could not apply the change to mapping %s", uuid)

    def _stop_pollers(self, uuid: str) -> None:
        with self._lock:
            pollers = list(self._pollers.pop(uuid, {}).values())
        for poller in pollers:
            poller.stop()
        for poller in pollers:
            poller.join(timeout=60)

    def _start_pollers(self, mapping: MappingConfig) -> None:
        """Poll every shard that has records left for this mapping and whose parent is done:
        a parent shard is processed to its end before its children (per-key order)."""
        # Which pollers run is decided before positions are read: a poller that ends after this
        # has noted its last position already, so the read below sees it; one still running
        # is left alone (judged on a stale position, its shard would be delivered twice).
        with self._lock:
            alive = {k: p for k, p in self._pollers.get(mapping.uuid, {}).items() if p.alive}
        running = set(alive)
        self.positions.flush()
        checkpoints = self.store.read(lambda conn: rows.load_checkpoints(conn, mapping.uuid))
        settings = PollerSettings(
            mapping.uuid,
            mapping.function_arn,
            mapping.event_source_arn,
            mapping.batch_size,
            LadderSettings(
                maximum_retry_attempts=mapping.maximum_retry_attempts,
                maximum_record_age=mapping.maximum_record_age,
                bisect_on_error=mapping.bisect_on_error,
                report_item_failures=REPORT_BATCH_ITEM_FAILURES in mapping.function_response_types,
            ),
            compile_filters(mapping.filter_criteria),
            float(mapping.maximum_batching_window),
            tumbling_window=int(mapping.tumbling_window),
            cloudwatch=self._cloudwatch(mapping),
        )
        shards = self.streams.shards(mapping.event_source_arn)
        known = {shard.shard_id for shard in shards}
        lanes = max(1, mapping.parallelization_factor)
        done: set[str] = set()
        started: list[ShardPoller] = []
        stream = self.streams.stream(mapping.event_source_arn)
        hash_name = stream.key_schema[0][0] if stream is not None else ""
        migrations: list[tuple[dict[str, int], list[str]]] = []
        for shard in shards:  # oldest first, so a parent is judged before its children
            # A lane resumes from its own position, else from the lowest one saved under
            # another setting (LATEST at creation, or a ParallelizationFactor changed).
            saved, others = lane_starts(checkpoints, shard.shard_id, lanes)
            starts = [shard.start_seq if seq is None else seq + 1 for seq in saved]
            keys = [lane_key(shard.shard_id, lane, lanes) for lane in range(lanes)]
            if others and not running.intersection(others):
                # The lanes take those positions as their own; the old ones can go.
                adopted = {
                    key: seq
                    for key, seq in zip(keys, saved, strict=True)
                    if seq is not None and key not in checkpoints
                }
                migrations.append((adopted, list(others)))
            if shard.end_seq is not None and not self.streams.read(shard.shard_key, min(starts), 1):
                done.add(shard.shard_id)
                continue
            parent = shard.parent_shard_id
            if parent is not None and parent in known and parent not in done:
                continue  # the parent still has records to deliver
            # The shard's lanes share one reader: a lane started again joins its running lanes'.
            shared = next((alive[key].shared for key in keys if key in alive), None)
            if lanes > 1 and shared is None:
                shared = ShardLanes(self.streams, shard.shard_key, lanes, hash_name)
            for lane, start in enumerate(starts):
                if keys[lane] in running:
                    continue
                if shard.end_seq is not None and start > shard.end_seq:
                    continue  # this lane is done with its closed shard; others are not yet
                started.append(
                    ShardPoller(
                        settings,
                        shard,
                        start,
                        self.streams,
                        self.invoker,
                        checkpoint=partial(self.positions.note, mapping.uuid),
                        report=partial(self._report, mapping.uuid),
                        finished=partial(self._shard_finished, mapping.uuid),
                        on_failure=partial(self._on_failure, mapping.uuid),
                        lane=(lane, lanes),
                        shared=shared,
                    )
                )
        if migrations:
            self.store.write(partial(_migrate_positions, mapping.uuid, migrations))
        with self._lock:
            if self._closed:
                return
            group = self._pollers.setdefault(mapping.uuid, {})
            for key in list(group):
                if not group[key].alive:
                    del group[key]
            for poller in started:
                group[poller.position_key] = poller
        for poller in started:
            poller.start()

    def _on_failure(self, uuid: str, given_up: GivenUp, event: bytes) -> None:
        """Records were given up: send AWS's invocation record to the on-failure destination."""
        with self._lock:
            mapping = self._mappings.get(uuid)
            target = mapping.on_failure_destination if mapping is not None else None
        published = self._cloudwatch(mapping) if mapping is not None else None
        if not target or self.destinations is None:
            if published is not None:
                published.dropped(given_up.count)
            return
        try:
            send(self.destinations, target, given_up, self.clock.time(), uuid, event)
        except Exception:
            if published is not None:  # DroppedEventCount includes failed deliveries
                published.dropped(given_up.count)
                published.delivery_failed()
            raise
        if published is not None:
            published.delivered(given_up.count)

    def _cloudwatch(self, mapping: MappingConfig) -> MappingMetrics:
        """What the mapping publishes: IteratorAge under its function's name (and under
        Resource ``name:qualifier`` for a mapping on a version or alias), event counts only if
        its MetricsConfig asks for EventCount."""
        parts = mapping.function_arn.split(":")
        function = parts[6] if len(parts) > 6 else mapping.function_arn
        qualifier = parts[7] if len(parts) > 7 else None
        return self.cloudwatch.for_mapping(
            mapping.uuid, mapping.region, function, mapping.metrics, qualifier
        )

    def _shard_finished(self, uuid: str, shard_id: str) -> None:
        """A poller read its closed shard to the end: its children may start now."""
        self._schedule_refresh(uuid)

    def _shards_changed(self, stream_arn: str) -> None:
        with self._lock:
            uuids = [
                m.uuid
                for m in self._mappings.values()
                if m.event_source_arn == stream_arn and m.enabled
            ]
        for uuid in uuids:
            self._schedule_refresh(uuid)

    def _schedule_refresh(self, uuid: str) -> None:
        if not self._closed:
            with contextlib.suppress(RuntimeError):  # the executor is shutting down
                self._control.submit(self._refresh, uuid)

    def _refresh(self, uuid: str) -> None:
        try:
            with self._lock:
                mapping = self._mappings.get(uuid)
                active = mapping is not None and mapping.enabled and uuid in self._pollers
            if mapping is not None and active:
                self._start_pollers(mapping)
        except Exception:
            log.exception("could not refresh the pollers of mapping %s", uuid)

    def _report(self, uuid: str, outcome: Outcome, count: int) -> None:
        with self._lock:
            self.invocations += 1
            mapping = self._mappings.get(uuid)
            if mapping is not None:
                mapping.last_processing_result = states.OK if outcome.ok else states.PROBLEM

    # -- life cycle ------------------------------------------------------------------------

    def load(self) -> None:
        loaded = self.store.startup_read(rows.load_mappings)
        with self._lock:
            for uuid, _region, config in loaded:
                mapping = MappingConfig.from_json(config)
                if mapping.state in states.TRANSITIONAL and mapping.state != states.DELETING:
                    mapping.state = mapping.target_state
                self._mappings[uuid] = mapping
        for uuid, _region, _config in loaded:
            self._schedule(uuid)

    def idle(self) -> bool:
        """True when no mapping change is waiting to be applied."""
        with self._lock:
            return all(m.state not in states.TRANSITIONAL for m in self._mappings.values())

    def stop_all(self) -> None:
        """Ask every poller to stop without waiting (in-flight invocations end on their own)."""
        self._closed = True
        with self._lock:
            pollers = [p for group in self._pollers.values() for p in group.values()]
        for poller in pollers:
            poller.stop()

    def close(self) -> None:
        self._closed = True
        self._control.shutdown(wait=True)
        with self._lock:
            uuids = list(self._pollers)
        for uuid in uuids:
            self._stop_pollers(uuid)
        self.positions.close()  # the pollers have ended: their last positions go to the disk


def _migrate_positions(
    uuid: str, migrations: list[tuple[dict[str, int], list[str]]], txn: Txn
) -> None:
    """Save the positions lanes took from another setting as their own, and drop the old ones
    (one transaction: a crash leaves either the old positions or the new)."""
    for adopted, stale in migrations:
        for key, seq in adopted.items():
            rows.save_checkpoint(txn.conn, uuid, key, seq)
        rows.delete_checkpoints(txn.conn, uuid, stale)
