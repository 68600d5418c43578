"""TransactWriteItems and TransactGetItems: all or nothing, over one or more tables.

A write transaction is ONE writer job. It reads every item it names, checks every condition
(all of them: the cancellation reasons list each failure, not just the first), and only if all
pass writes the items and appends their stream records, so the items and records commit
together or not at all. A ConditionCheck writes nothing and leaves no record. One writer
thread means no other write can interleave, so there are never transaction conflicts.

A ClientRequestToken makes the transaction idempotent for ten minutes by the injected clock:
the token and a digest of the request are stored in the same job (so they survive a restart, and
a cancelled transaction leaves none); a retry of the same request writes nothing again and
reports the reads it made, as AWS does; one with a different request is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import orjson

from headwater.clock import Clock
from headwater.errors import (
    CancellationReason,
    IdempotentParameterMismatch,
    TransactionCanceled,
    ValidationError,
)
from headwater.expressions import (
    Condition,
    Projection,
    UpdatePlan,
    apply_projection,
    apply_update,
    evaluate_condition,
)
from headwater.model.capacity import Capacity, item_write_units, read_units
from headwater.model.keys import key_string
from headwater.model.size import item_size
from headwater.model.values import validate_item
from headwater.storage import rows, tx_rows
from headwater.storage.store import Txn
from headwater.tables import item_collections
from headwater.tables.catalog import TableInfo
from headwater.tables.item_collections import CollectionMetrics
from headwater.tables.items import (
    ITEM_TOO_BIG,
    MAX_ITEM_BYTES,
    UPDATE_TOO_BIG,
    ItemOps,
    storage_key,
)

Item = dict[str, Any]

TOKEN_WINDOW = 600.0  # seconds a ClientRequestToken stays bound to its request
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
ONE_ITEM = "Transaction request cannot include multiple operations on one item"
# INFERRED wordings (errors.md TX-07, TX-10 give fragments or nothing).
PAYLOAD_TOO_BIG = "Transaction request size cannot exceed 4 MB"
TOKEN_MISMATCH = "The request uses the same client token as a previous, but non-identical request"
CONDITION_FAILED = "The conditional request failed"
CHECK_FAILED = "ConditionalCheckFailed"

KINDS = ("ConditionCheck", "Put", "Delete", "Update")


@dataclass(frozen=True)
class WriteAction:
    """One action of a TransactWriteItems, expressions already parsed by the adapter."""

    kind: str  # one of KINDS
    table: str
    item: Any = None  # Put
    key: Any = None  # ConditionCheck, Delete, Update
    condition: Condition | None = None
    update: UpdatePlan | None = None
    return_old_on_fail: bool = False


@dataclass(frozen=True)
class GetAction:
    table: str
    key: Any
    projection: Projection | None = None


@dataclass(frozen=True)
class WriteOutcome:
    """Units by table (only when asked: ``measure``; transactional writes of the table count
    double, its index writes do not) and the item collections written (only when asked)."""

    capacity: list[Capacity]
    replayed: bool = False
    collections: list[CollectionMetrics] = field(default_factory=list)


@dataclass(frozen=True)
class GetOutcome:
    items: list[Item | None]
    capacity: list[Capacity]


@dataclass(frozen=True)
class _Planned:
    action: WriteAction
    info: TableInfo
    key: Item
    hk: bytes
    rk: bytes
    item: Item | None  # the validated Put item


def _cancel(index: int, count: int, message: str) -> TransactionCanceled:
    """AWS stops at the first invalid action: it gets ValidationError, every other one None."""
    reasons = [CancellationReason() for _ in range(count)]
    reasons[index] = CancellationReason("ValidationError", message)
    return TransactionCanceled(reasons)


def _size(item: Item | None) -> int:
    return item_size(item) if item is not None else 0


def _check_one_item_each(identities: Iterable[tuple[int, str]]) -> None:
    seen: set[tuple[int, str]] = set()
    for identity in identities:
        if identity in seen:
            raise ValidationError(ONE_ITEM)
        seen.add(identity)


class TransactionOps:
    def __init__(self, items: ItemOps, clock: Clock) -> None:
        self.items = items
        self.clock = clock

    # -- TransactWriteItems ----------------------------------------------------------------

    def write(
        self,
        region: str,
        actions: list[WriteAction],
        *,
        token: str | None = None,
        digest: str = "",
        measure: bool = False,
        metrics: bool = False,
    ) -> Future[WriteOutcome]:
        """Validate, then submit the whole transaction as one writer job; ``measure`` reports
        capacity units, ``metrics`` item collection metrics."""
        values: list[Item] = []
        payload = 0
        for action in actions:
            if action.kind == "Put":
                value = validate_item(action.item)
            else:
                value = validate_item(action.key, path="key")
            values.append(value)
            payload += item_size(value)
        if payload > MAX_PAYLOAD_BYTES:
            raise ValidationError(PAYLOAD_TOO_BIG)
        tables = [self.items.table(region, action.table) for action in actions]
        planned: list[_Planned] = []
        for index, (action, info, value) in enumerate(zip(actions, tables, values, strict=True)):
            ks = info.key_schema
            try:
                if action.kind == "Put":
                    key = ks.validate_item_keys(value)
                    if item_size(value) > MAX_ITEM_BYTES:
                        raise ValidationError(ITEM_TOO_BIG)
                else:
                    key = ks.validate_key(value)
            except ValidationError as error:
                raise _cancel(index, len(actions), error.message) from None
            item = value if action.kind == "Put" else None
            planned.append(_Planned(action, info, key, *storage_key(info, key), item))
        _check_one_item_each((p.info.table_id, key_string(p.key)) for p in planned)

        def job(txn: Txn) -> WriteOutcome:
            now = self.clock.time()
            if token is not None:
                known = tx_rows.get_token(txn.conn, region, token)
                if known is not None and known[1] >= now - TOKEN_WINDOW:
                    if known[0] != digest:
                        raise IdempotentParameterMismatch(TOKEN_MISMATCH)
                    return self._replay(txn, planned, measure)
            outcome = self._run(txn, planned, region, token, digest, now, measure)
            if metrics:
                written = [
                    (p.info, p.key, p.hk) for p in planned if p.action.kind != "ConditionCheck"
                ]
                outcome.collections.extend(item_collections.measure_all(txn, written))
            return outcome

        return self.items.store.submit(job)

    def _run(
        self,
        txn: Txn,
        planned: list[_Planned],
        region: str,
        token: str | None,
        digest: str,
        now: float,
        measure: bool,
    ) -> WriteOutcome:
        infos = [self.items.current(p.info) for p in planned]
        olds = [
            self.items.load(txn, info, p.hk, p.rk) for p, info in zip(planned, infos, strict=True)
        ]
        reasons: list[CancellationReason] = []
        for p, old in zip(planned, olds, strict=True):
            action = p.action
            if action.condition is not None and not evaluate_condition(action.condition, old):
                shown = old if action.return_old_on_fail else None
                reasons.append(
                    CancellationReason("ConditionalCheckFailed", CONDITION_FAILED, shown)
                )
            else:
                reasons.append(CancellationReason())
        if any(reason.code != "None" for reason in reasons):
            raise TransactionCanceled(reasons)
        news: list[Item | None] = []
        for index, (p, info, old) in enumerate(zip(planned, infos, olds, strict=True)):
            kind = p.action.kind
            if kind == "Put":
                news.append(p.item)
            elif kind == "Delete":
                news.append(None)
            elif kind == "Update":
                assert p.action.update is not None
                try:
                    updated = apply_update(p.action.update, old, p.key, info.key_schema.key_names)
                    if item_size(updated) > MAX_ITEM_BYTES:
                        raise ValidationError(UPDATE_TOO_BIG)
                except ValidationError as error:
                    raise _cancel(index, len(planned), error.message) from None
                news.append(updated)
            else:
                news.append(old)  # ConditionCheck: nothing changes
        # The 4 MB applies to the items written, not only to the request: Updates can grow
        # items past it with a small request. (INFERRED: AWS's check and text for this case.)
        written = sum(
            _size(new)
            for p, new in zip(planned, news, strict=True)
            if p.action.kind in ("Put", "Update")
        )
        if written > MAX_PAYLOAD_BYTES:
            raise ValidationError(PAYLOAD_TOO_BIG)
        spent: dict[str, Capacity] = {}
        for p, info, old, new in zip(planned, infos, olds, news, strict=True):
            units = spent.setdefault(info.name, Capacity(info.name)) if measure else None
            if p.action.kind == "ConditionCheck":
                if units is not None:
                    units.read += read_units(_size(old), transactional=True)
                continue
            self.items.save(txn, info, p.key, p.hk, p.rk, old, new, spent=units)
            if units is not None:
                units.write += item_write_units(old, new, transactional=True)
        if token is not None:
            tx_rows.purge_tokens(txn.conn, now - TOKEN_WINDOW)
            tx_rows.put_token(txn.conn, region, token, digest, now)
        return WriteOutcome(list(spent.values()))

    def _replay(self, txn: Txn, planned: list[_Planned], measure: bool) -> WriteOutcome:
        """The transaction already ran: change nothing; AWS reports the reads it made."""
        spent: dict[str, Capacity] = {}
        for p in planned:
            info = self.items.current(p.info)
            if measure:
                old = self.items.load(txn, info, p.hk, p.rk)
                units = spent.setdefault(info.name, Capacity(info.name))
                units.read += read_units(_size(old), consistent=True)
        return WriteOutcome(list(spent.values()), replayed=True)

    # -- TransactGetItems ------------------------------------------------------------------

    def get(self, region: str, actions: list[GetAction]) -> GetOutcome:
        """Blocking: run it off the event loop. One read snapshot serves every action."""
        values = [validate_item(action.key, path="key") for action in actions]
        tables = [self.items.table(region, action.table) for action in actions]
        keys: list[Item] = []
        for index, (info, value) in enumerate(zip(tables, values, strict=True)):
            try:
                keys.append(info.key_schema.validate_key(value))
            except ValidationError as error:
                raise _cancel(index, len(actions), error.message) from None
        _check_one_item_each(
            (info.table_id, key_string(key)) for info, key in zip(tables, keys, strict=True)
        )
        addresses = [storage_key(info, key) for info, key in zip(tables, keys, strict=True)]

        def read(conn: Any) -> list[bytes | None]:
            return [
                rows.get_item(conn, info.table_id, hk, rk)
                for info, (hk, rk) in zip(tables, addresses, strict=True)
            ]

        raws = self.items.store.read(read)
        items: list[Item | None] = []
        spent: dict[str, Capacity] = {}
        aggregate = 0
        for action, info, raw in zip(actions, tables, raws, strict=True):
            item = orjson.loads(raw) if raw is not None else None
            size = _size(item)
            aggregate += size
            if aggregate > MAX_PAYLOAD_BYTES:  # the items read, before any projection
                raise ValidationError(PAYLOAD_TOO_BIG)
            units = spent.setdefault(info.name, Capacity(info.name))
            units.read += read_units(size, transactional=True)
            if item is not None and action.projection is not None:
                item = apply_projection(item, action.projection)
            items.append(item)
        return GetOutcome(items, list(spent.values()))
