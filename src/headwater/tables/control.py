"""Table control plane: create, describe, list, update (streams, capacity), delete.

Requests arrive already shape-checked (api/shapes.py); this module applies DynamoDB's semantic
rules (errors.md §2.1–2.4) and runs each change as one writer job.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial

from headwater.clock import Clock, Timers
from headwater.errors import ResourceInUse, ResourceNotFound, ValidationError
from headwater.model.keys import KeySchema
from headwater.storage import index_rows, rows
from headwater.storage.store import Store, Txn
from headwater.streams.log import StreamLog
from headwater.tables import index_rules
from headwater.tables.catalog import Catalog, TableInfo
from headwater.tables.index_builder import IndexBuilder
from headwater.tables.index_rules import IndexSpec, IndexUpdate
from headwater.tables.indexes import IndexDef

PARAM_INVALID = "One or more parameter values were invalid: "
MAX_CAPACITY = 10**12


@dataclass(frozen=True)
class StreamSpec:
    enabled: bool
    view_type: str | None


@dataclass(frozen=True)
class TableSpec:
    name: str
    key_schema: tuple[tuple[str, str], ...]  # (attribute name, HASH|RANGE)
    attribute_definitions: tuple[tuple[str, str], ...]  # (attribute name, S|N|B)
    billing_mode: str | None
    read_capacity: int | None
    write_capacity: int | None
    stream: StreamSpec | None
    has_indexes: bool = False
    deletion_protection: bool = False
    local_indexes: tuple[IndexSpec, ...] | None = None
    global_indexes: tuple[IndexSpec, ...] | None = None


def check_table_name(name: str | None) -> str:
    """The table-level ops validate TableName first, with their own wording (CT-01/02)."""
    if name is None:
        raise ValidationError(
            "The parameter 'TableName' is required but was not present in the request"
        )
    if not 3 <= len(name) <= 255:
        raise ValidationError(
            "TableName must be at least 3 characters long and at most 255 characters long"
        )
    return name


def _check_capacity(read: int | None, write: int | None) -> None:
    if read is not None and read > MAX_CAPACITY:
        raise ValidationError(f"Given value {read} for ReadCapacityUnits is out of bounds")
    if write is not None and write > MAX_CAPACITY:
        raise ValidationError(f"Given value {write} for WriteCapacityUnits is out of bounds")


def _check_stream_spec(stream: StreamSpec | None) -> None:
    if stream is not None and stream.enabled and stream.view_type is None:
        raise ValidationError(
            PARAM_INVALID + "You must specify a StreamViewType when enabling a stream"
        )


def build_key_schema(spec: TableSpec) -> KeySchema:
    keys, defs = spec.key_schema, spec.attribute_definitions
    types = dict(defs)
    if len({name for name, _ in defs}) != len(defs):
        dup = next(n for n, _ in defs if [d for d, _ in defs].count(n) > 1)
        raise ValidationError(
            f"{PARAM_INVALID}Duplicate AttributeName in AttributeDefinitions: {dup}"
        )
    if len(keys) == 2 and keys[0][0] == keys[1][0]:
        raise ValidationError(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        )
    if (not defs or len(keys) == 2) and any(name not in types for name, _ in keys):
        raise ValidationError("Invalid KeySchema: Some index key attribute have no definition")
    if keys[0][1] != "HASH":
        raise ValidationError(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
        )
    if len(keys) == 2 and keys[1][1] != "RANGE":
        raise ValidationError(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
        )
    if keys[0][0] not in types:
        raise ValidationError(
            f"{PARAM_INVALID}Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{keys[0][0]}], AttributeDefinitions: [{', '.join(n for n, _ in defs)}]"
        )
    has_indexes = (
        spec.has_indexes or spec.local_indexes is not None or spec.global_indexes is not None
    )
    if not has_indexes and len(defs) != len(keys):
        raise ValidationError(
            f"{PARAM_INVALID}Number of attributes in KeySchema does not exactly match number of "
            "attributes defined in AttributeDefinitions"
        )
    hash_name = keys[0][0]
    range_name = keys[1][0] if len(keys) == 2 else None
    return KeySchema(
        hash_name,
        types[hash_name],
        range_name,
        types[range_name] if range_name is not None else None,
    )


class TableControl:
    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        streams: StreamLog,
        clock: Clock,
        account: str,
        transition_seconds: float = 0.0,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.streams = streams
        self.clock = clock
        self.account = account
        # Realism: CREATING / UPDATING / DELETING last this long (0: instant, the default).
        self.transition_seconds = transition_seconds
        self.timers = Timers(clock)
        self.index_builder = IndexBuilder(store, catalog, clock=clock, timers=self.timers)
        self._pending: dict[tuple[str, str], TableInfo] = {}  # CREATING or DELETING tables
        self._pending_lock = threading.Lock()

    def require(self, region: str, name: str) -> TableInfo:
        info = self.catalog.get(region, name)
        if info is None:
            with self._pending_lock:
                info = self._pending.get((region, name))
        if info is None:
            raise ResourceNotFound(f"Requested resource not found: Table: {name} not found")
        return info

    def listed_names(self, region: str) -> list[str]:
        """ListTables: active tables plus those still being created or deleted."""
        with self._pending_lock:
            pending = {n for (r, n) in self._pending if r == region}
        return sorted(set(self.catalog.names(region)) | pending)

    def _refuse_if_pending(self, region: str, name: str) -> None:
        with self._pending_lock:
            info = self._pending.get((region, name))
        if info is not None:
            doing = "created" if info.status == "CREATING" else "deleted"
            raise ResourceInUse(
                f"Attempt to change a resource which is still in use: Table is being {doing}: "
                f"{name}"
            )

    # -- transitions (instant unless transition_seconds is set) ------------------------------

    def _published_created(self, info: TableInfo) -> None:
        if self.transition_seconds <= 0:
            self.catalog.put(info)
            return
        key = (info.region, info.name)
        with self._pending_lock:
            self._pending[key] = replace(info, status="CREATING")

        def activate() -> None:
            with self._pending_lock:
                self._pending.pop(key, None)
            self.catalog.put(info)

        self.timers.call_later(self.transition_seconds, activate)

    def _published_updated(
        self, info: TableInfo, *, index_change: bool = False, index_created: bool = False
    ) -> None:
        """``index_change``: the update deletes a global index, whose builder ends the
        UPDATING window when both the time has passed and the index is gone.
        ``index_created``: the update creates one; the table is ACTIVE again at once while
        the index is CREATING (Backfilling) — AWS lets an index be deleted during its
        backfill, and the table's throughput be changed, so UpdateTable must be accepted then
        (API Reference, GlobalSecondaryIndexDescription; Developer Guide, GSI.OnlineOps)."""
        if self.transition_seconds <= 0 or index_created:
            self.catalog.put(info)
            return
        self.catalog.put(replace(info, status="UPDATING"))
        if index_change:
            return

        def settle() -> None:
            current = self.catalog.get(info.region, info.name)
            if current is not None and current.table_id == info.table_id:
                self.catalog.put(replace(current, status="ACTIVE"))

        self.timers.call_later(self.transition_seconds, settle)

    def _build_index(self, info: TableInfo, index: str) -> None:
        """Hand a created or deleted global index to the builder. In realism mode the index
        stays CREATING (Backfilling) or DELETING until the window ends, when the builder
        settles it. A created index's table is ACTIVE meanwhile (see ``_published_updated``);
        a deleted index's table stays UPDATING and turns ACTIVE in the same step as the index
        goes (INFERRED: AWS does not document when the table's status returns to ACTIVE).
        """
        if self.transition_seconds <= 0:
            self.index_builder.schedule(info, index)
            return
        ready_at = self.clock.time() + self.transition_seconds
        self.index_builder.schedule(info, index, ready_at=ready_at)

    def _published_deleted(self, info: TableInfo) -> None:
        self.catalog.remove(info.region, info.name)
        if self.transition_seconds <= 0:
            return
        key = (info.region, info.name)
        with self._pending_lock:
            self._pending[key] = replace(info, status="DELETING")

        def forget() -> None:
            with self._pending_lock:
                pending = self._pending.get(key)
                if pending is not None and pending.status == "DELETING":
                    del self._pending[key]

        self.timers.call_later(self.transition_seconds, forget)

    # -- CreateTable ------------------------------------------------------------------------

    def create_table(self, region: str, spec: TableSpec) -> TableInfo:
        billing = spec.billing_mode or "PROVISIONED"
        if billing == "PROVISIONED" and (spec.read_capacity is None or spec.write_capacity is None):
            raise ValidationError(
                f"{PARAM_INVALID}ReadCapacityUnits and WriteCapacityUnits must both be specified "
                "when BillingMode is PROVISIONED"
            )
        if billing == "PAY_PER_REQUEST" and (
            spec.read_capacity is not None or spec.write_capacity is not None
        ):
            raise ValidationError(
                f"{PARAM_INVALID}Neither ReadCapacityUnits nor WriteCapacityUnits can be specified "
                "when BillingMode is PAY_PER_REQUEST"
            )
        _check_capacity(spec.read_capacity, spec.write_capacity)
        _check_stream_spec(spec.stream)
        key_schema = build_key_schema(spec)
        created_indexes: tuple[IndexDef, ...] = ()
        if spec.local_indexes is not None or spec.global_indexes is not None:
            created_indexes = index_rules.create_indexes(
                key_schema,
                spec.attribute_definitions,
                billing,
                spec.local_indexes,
                spec.global_indexes,
            )

        def job(txn: Txn) -> TableInfo:
            with self._pending_lock:
                pending = (region, spec.name) in self._pending
            if pending or self.catalog.get(region, spec.name) is not None:
                raise ResourceInUse(f"Table already exists: {spec.name}")
            info = TableInfo(
                table_id=0,
                region=region,
                account=self.account,
                name=spec.name,
                key_schema=key_schema,
                attribute_definitions=spec.attribute_definitions,
                created=self.clock.time(),
                billing_mode=billing,
                read_capacity=spec.read_capacity or 0,
                write_capacity=spec.write_capacity or 0,
                deletion_protection=spec.deletion_protection,
                indexes=created_indexes,
            )
            if spec.stream is not None and spec.stream.enabled:
                info = self._enable_stream(txn, info, spec.stream.view_type or "")
            table_id = rows.insert_table(txn.conn, region, spec.name, info.to_json())
            info = replace(info, table_id=table_id)
            txn.after_commit(lambda: self._published_created(info))
            return info

        return self.store.write(job)

    def _enable_stream(self, txn: Txn, info: TableInfo, view_type: str) -> TableInfo:
        stream = self.streams.create_stream(
            txn,
            region=info.region,
            account=info.account,
            table_name=info.name,
            view_type=view_type,
            key_schema=info.key_schema_pairs,
        )
        return replace(
            info,
            stream_enabled=True,
            stream_view_type=view_type,
            latest_stream_arn=stream.arn,
            latest_stream_label=stream.label,
        )

    # -- UpdateTable ------------------------------------------------------------------------

    def update_table(
        self,
        region: str,
        name: str,
        *,
        stream: StreamSpec | None,
        billing_mode: str | None,
        read_capacity: int | None,
        write_capacity: int | None,
        deletion_protection: bool | None,
        index_updates: Sequence[IndexUpdate] = (),
        attribute_definitions: tuple[tuple[str, str], ...] = (),
    ) -> TableInfo:
        _check_capacity(read_capacity, write_capacity)
        _check_stream_spec(stream)
        if (
            stream is None
            and billing_mode is None
            and read_capacity is None
            and deletion_protection is None
            and not index_updates
        ):
            raise ValidationError(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
            )

        index_rules.check_update_request(index_updates)

        def job(txn: Txn) -> TableInfo:
            self._refuse_if_pending(region, name)
            info = self._fresh(txn, region, name)
            if info.status != "ACTIVE":
                raise ResourceInUse(
                    f"Attempt to change a resource which is still in use: Table is being updated: "
                    f"{name}"
                )
            new = info
            billing = billing_mode or info.billing_mode
            if billing == "PAY_PER_REQUEST" and read_capacity is not None:
                raise ValidationError(
                    f"{PARAM_INVALID}Neither ReadCapacityUnits nor WriteCapacityUnits can be "
                    "specified when BillingMode is PAY_PER_REQUEST"
                )
            if (
                billing_mode == "PROVISIONED"
                and info.billing_mode != "PROVISIONED"
                and read_capacity is None
            ):
                raise ValidationError(
                    f"{PARAM_INVALID}ProvisionedThroughput must be specified when BillingMode is "
                    "PROVISIONED"
                )
            if read_capacity is not None and write_capacity is not None:
                if (
                    billing_mode is None
                    and read_capacity == info.read_capacity
                    and write_capacity == info.write_capacity
                    and stream is None
                    and not index_updates
                ):
                    raise ValidationError(
                        "The provisioned throughput for the table will not change. The requested "
                        "value equals the current value. Current ReadCapacityUnits provisioned for "
                        f"the table: {info.read_capacity}. Requested ReadCapacityUnits: "
                        f"{read_capacity}. Current WriteCapacityUnits provisioned for the table: "
                        f"{info.write_capacity}. Requested WriteCapacityUnits: {write_capacity}. "
                        "Refer to the Amazon DynamoDB Developer Guide for current limits and how "
                        "to request higher limits."
                    )
                new = replace(new, read_capacity=read_capacity, write_capacity=write_capacity)
                if info.billing_mode == "PROVISIONED" and billing == "PROVISIONED":
                    new = replace(
                        new,
                        history=info.history.after_change(
                            (info.read_capacity, info.write_capacity),
                            (read_capacity, write_capacity),
                            self.clock.time(),
                        ),
                    )
            if billing_mode is not None:
                new = replace(new, billing_mode=billing_mode)
                if billing_mode == "PAY_PER_REQUEST":
                    new = replace(new, read_capacity=0, write_capacity=0)
            if deletion_protection is not None:
                new = replace(new, deletion_protection=deletion_protection)
            changes = None
            switched = billing_mode if billing_mode not in (None, info.billing_mode) else None
            if switched == "PAY_PER_REQUEST":
                new = replace(new, switched_to_on_demand=self.clock.time())
            if index_updates or (switched is not None and info.global_indexes):
                changes = index_rules.apply_updates(
                    table_keys=info.key_schema,
                    indexes=info.indexes,
                    definitions=info.attribute_definitions,
                    billing=new.billing_mode,
                    billing_changed_to=switched,
                    updates=index_updates,
                    request_definitions=attribute_definitions,
                    now=self.clock.time(),
                )
                new = replace(
                    new, indexes=changes.indexes, attribute_definitions=changes.definitions
                )
            if stream is not None:
                if stream.enabled:
                    if info.stream_enabled:
                        raise ValidationError(
                            f"Table already has an enabled stream: TableName: {name}"
                        )
                    new = self._enable_stream(txn, new, stream.view_type or "")
                else:
                    if not info.stream_enabled:
                        raise ValidationError(f"Table has no stream to disable: TableName: {name}")
                    if info.latest_stream_arn:
                        self.streams.disable_stream(txn, info.latest_stream_arn)
                    new = replace(new, stream_enabled=False, stream_view_type=None)
            rows.update_table(txn.conn, info.table_id, new.to_json())
            final = new
            changed = [] if changes is None else [changes.created, changes.deleted]
            building = [index for index in changed if index is not None]
            created = changes is not None and changes.created is not None
            deleted = changes is not None and changes.deleted is not None
            txn.after_commit(
                partial(
                    self._published_updated,
                    final,
                    index_change=deleted,
                    index_created=created and not deleted,
                )
            )
            for index_name in building:
                txn.after_commit(partial(self._build_index, final, index_name))
            return final

        return self.store.write(job)

    def _fresh(self, txn: Txn, region: str, name: str) -> TableInfo:
        """The table as this transaction sees it: a change committed earlier in the same commit
        group is in the database but not yet in the catalog."""
        info = self.require(region, name)
        raw = index_rows.table_definition(txn.conn, info.table_id)
        if raw is None:
            raise ResourceNotFound(f"Requested resource not found: Table: {name} not found")
        return replace(TableInfo.from_json(info.table_id, region, name, raw), status=info.status)

    # -- DeleteTable ------------------------------------------------------------------------

    def delete_table(self, region: str, name: str) -> TableInfo:
        def job(txn: Txn) -> TableInfo:
            self._refuse_if_pending(region, name)
            info = self.require(region, name)
            if info.status == "UPDATING":  # errors.md DT-06 (INFERRED wording)
                raise ResourceInUse(
                    f"Attempt to change a resource which is still in use: Table is being updated: "
                    f"{name}"
                )
            if info.deletion_protection:
                raise ValidationError(
                    "Resource cannot be deleted as it is currently protected against deletion. "
                    "Disable deletion protection first."
                )
            if info.stream_enabled and info.latest_stream_arn:
                self.streams.disable_stream(txn, info.latest_stream_arn)
            index_rows.delete_table(txn.conn, info.table_id)
            rows.delete_table(txn.conn, info.table_id)
            txn.after_commit(lambda: self._published_deleted(info))
            return info

        return self.store.write(job)

    def item_stats(self, info: TableInfo) -> tuple[int, int]:
        return self.store.read(lambda conn: rows.count_items(conn, info.table_id))

    def index_stats(self, info: TableInfo) -> dict[str, tuple[int, int]]:
        """``{index name: (item count, size in bytes)}`` (indexes holding no rows are absent)."""
        if not info.indexes:
            return {}
        return self.store.read(lambda conn: index_rows.stats(conn, info.table_id))

    def load(self) -> None:
        def read(conn: object) -> None:
            for table_id, region, name, definition in rows.load_tables(conn):  # type: ignore[arg-type]
                self.catalog.put(TableInfo.from_json(table_id, region, name, definition))

        self.store.startup_read(read)
        self.index_builder.resume()
