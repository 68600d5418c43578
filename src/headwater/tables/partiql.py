"""PartiQL statements against tables: SELECT as a Query or a Scan, INSERT / UPDATE / DELETE as
one writer job each, batches, and transactions.

* **SELECT** runs as a Query when its WHERE pins the partition key with ``=`` (in a top-level
  AND), with at most one sort-key condition (``=``, ``<``, ``<=``, ``>``, ``>=``, BETWEEN,
  ``begins_with``) narrowing the range; anything else runs as a Scan. Either way the engine of
  ``tables/query.py`` reads the page (``Limit`` counts items evaluated, 1 MB pages) and the
  whole WHERE is then applied to the items read, followed by the projection: re-checking the
  key conditions is harmless, and PartiQL may name key attributes anywhere in its WHERE.
* **INSERT / UPDATE / DELETE** each name one item: the WHERE of UPDATE and DELETE must hold an
  equality on every key attribute, and its other conjuncts are the write's condition. INSERT
  refuses an existing item (DuplicateItemException); UPDATE refuses a missing one (a failed
  condition: PartiQL UPDATE never upserts); DELETE of a missing item changes nothing. Each is
  ONE writer job built from the shared pieces of ``tables/items.py``: read the old item, check,
  write, append the stream record in the same transaction (none when nothing changed).
* **Batches** run their writes in one writer job, each statement on its own: a failed one is
  reported in its place and the others still commit. Their reads share one read snapshot.
* **Transactions** are translated into ``tables/transactions.py`` actions, so they are
  all-or-nothing in one writer job with the same cancellation reasons and idempotency tokens;
  an INSERT's failed existence check is reported as ``DuplicateItem``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Final

import orjson

from headwater.clock import Clock
from headwater.errors import (
    CancellationReason,
    ConditionalCheckFailed,
    DuplicateItem,
    HeadwaterError,
    TransactionCanceled,
    ValidationError,
)
from headwater.expressions import apply_projection, apply_update, evaluate_condition
from headwater.expressions import updated_attributes as modified
from headwater.expressions.ast import (
    Call,
    Condition,
    Not,
    Path,
)
from headwater.expressions.key_condition import KeyPredicate
from headwater.model.capacity import Capacity, item_write_units, read_units
from headwater.model.keys import KeySchema
from headwater.model.size import item_size
from headwater.model.values import validate_item
from headwater.storage import rows
from headwater.storage.store import Txn
from headwater.tables.catalog import TableInfo
from headwater.tables.items import (
    ITEM_TOO_BIG,
    MAX_ITEM_BYTES,
    UPDATE_TOO_BIG,
    ItemOps,
    storage_key,
)
from headwater.tables.partiql_parse import Delete, Exists, Insert, Select, Update
from headwater.tables.partiql_where import (
    conjuncts,
    join_conditions,
    partition_choices,
    query_conditions,
    split_key,
)
from headwater.tables.query import Page, QueryRequest, ScanRequest, TableReads
from headwater.tables.transactions import GetAction, GetOutcome, TransactionOps, WriteAction
from headwater.tables.transactions import WriteOutcome as TransactionOutcome

Item = dict[str, Any]

DUPLICATE: Final = "Duplicate primary key exists in table"
CONDITION_FAILED: Final = "The conditional request failed"
ORDER_WITHOUT_WHERE: Final = "Must have WHERE clause in the statement when using ORDER BY clause."
# INFERRED wordings (errors.md §2.16 records none of these).
ORDER_NOT_KEY: Final = "ORDER BY can only name a key attribute of the table: "
ORDER_NEEDS_PARTITION: Final = (
    "ORDER BY needs a WHERE clause with an equality on the partition key: "
)
KEYED_READ_FILTER: Final = (
    "A SELECT in a transaction can only have equality conditions on the key attributes"
)
RETURNING_IN_TRANSACTION: Final = "RETURNING is not supported in a transaction"
NO_INDEX_HERE: Final = "A statement that reads or writes one item cannot name an index"


@dataclass(frozen=True)
class SelectPage:
    """One ExecuteStatement page of a SELECT; ``read_bytes`` sizes what was evaluated."""

    table: str
    items: list[Item]
    last_key: Item | None
    read_bytes: int


@dataclass(frozen=True)
class WriteOutcome:
    """What one write statement returned (its RETURNING items) and the units it used (only
    when asked)."""

    table: str
    items: list[Item]
    capacity: Capacity | None = None


@dataclass(frozen=True)
class BatchResult:
    """One statement of a BatchExecuteStatement: an item read, a write done, or an error."""

    table: str | None
    item: Item | None = None
    error: HeadwaterError | None = None
    units: float = 0.0  # a read's
    capacity: Capacity | None = None  # a write's, when asked


@dataclass(frozen=True)
class _Keyed:
    """A statement that names one item: its table, key, row address and extra condition."""

    info: TableInfo
    key: Item
    hk: bytes
    rk: bytes
    condition: Condition | None


@dataclass(frozen=True)
class _Write:
    statement: Insert | Update | Delete
    target: _Keyed
    return_old_on_fail: bool = False


# -- reading WHERE clauses ----------------------------------------------------------------


def _exists(schema: KeySchema) -> Condition:
    return Call("attribute_exists", (Path((schema.hash_name,)),))


def _not_exists(schema: KeySchema) -> Condition:
    return Call("attribute_not_exists", (Path((schema.hash_name,)),))


def _size(item: Item | None) -> int:
    return item_size(item) if item is not None else 0


# -- the operations -----------------------------------------------------------------------


class PartiQLOps:
    """PartiQL over the table layer; reads are blocking (run them off the event loop), writes
    return the writer's future."""

    def __init__(self, items: ItemOps, clock: Clock) -> None:
        self.items = items
        self.reads = TableReads(items.store, items.catalog)
        self.transactions = TransactionOps(items, clock)

    # planning

    def _keyed(self, region: str, table: str, index: str | None, where: Condition | None) -> _Keyed:
        info = self.items.table(region, table)
        if index is not None:
            raise ValidationError(NO_INDEX_HERE)
        key, rest = split_key(info.key_schema, where)
        return _Keyed(info, key, *storage_key(info, key), rest)

    def _plan(self, region: str, statement: Insert | Update | Delete, on_fail: bool) -> _Write:
        if isinstance(statement, Insert):
            info = self.items.table(region, statement.table)
            item = validate_item(statement.item)
            key = info.key_schema.validate_item_keys(item)
            if item_size(item) > MAX_ITEM_BYTES:
                raise ValidationError(ITEM_TOO_BIG)
            target = _Keyed(info, key, *storage_key(info, key), None)
        else:
            target = self._keyed(region, statement.table, None, statement.where)
        return _Write(statement, target, on_fail)

    def _apply(self, write: _Write, old: Item | None) -> Item | None:
        """The new item (None: none), or the statement's error; nothing is written here."""
        statement, target = write.statement, write.target
        if isinstance(statement, Insert):
            if old is not None:
                raise DuplicateItem(DUPLICATE)
            return statement.item
        condition = target.condition
        failed = condition is not None and not evaluate_condition(condition, old)
        if isinstance(statement, Update):
            if old is None or failed:
                raise ConditionalCheckFailed(
                    CONDITION_FAILED, old if write.return_old_on_fail else None
                )
            new = apply_update(statement.plan, old, target.key, target.info.key_schema.key_names)
            if item_size(new) > MAX_ITEM_BYTES:
                raise ValidationError(UPDATE_TOO_BIG)
            return new
        if failed:
            raise ConditionalCheckFailed(
                CONDITION_FAILED, old if write.return_old_on_fail else None
            )
        return None

    def _run(self, txn: Txn, write: _Write, measure: bool) -> WriteOutcome:
        target = write.target
        info = self.items.current(target.info)
        old = self.items.load(txn, info, target.hk, target.rk)
        new = self._apply(write, old)
        spent = Capacity(info.name) if measure else None
        self.items.save(txn, info, target.key, target.hk, target.rk, old, new, spent=spent)
        if spent is not None:
            spent.write += item_write_units(old, new)
        return WriteOutcome(info.name, _returned(write.statement, old, new), spent)

    # ExecuteStatement

    def write(
        self,
        region: str,
        statement: Insert | Update | Delete,
        *,
        return_old_on_fail: bool = False,
        measure: bool = False,
    ) -> Future[WriteOutcome]:
        """One INSERT, UPDATE or DELETE as ONE writer job (item and stream record together)."""
        write = self._plan(region, statement, return_old_on_fail)
        return self.items.store.submit(lambda txn: self._run(txn, write, measure))

    def select(
        self,
        region: str,
        statement: Select,
        *,
        limit: int | None = None,
        start_key: Item | None = None,
        measure: bool = False,
    ) -> SelectPage:
        """Blocking: one page of a SELECT, read as a Query or a Scan."""
        info = self.items.table(region, statement.table)
        schema = info.key_schema
        common: dict[str, Any] = {"limit": limit, "start_key": start_key, "measure": measure}
        if statement.index is not None:
            # FROM "table"."index": a Query on the index when the WHERE pins its partition key.
            index = next((i for i in info.indexes if i.name == statement.index), None)
            if index is not None:
                schema = index.key_schema
            common["index_name"] = statement.index
        conditions = query_conditions(schema, statement.where)
        forward = self._forward(schema, statement, conditions)
        choices = None if conditions else partition_choices(schema, statement.where)
        if conditions is not None:
            query = QueryRequest(conditions=conditions, forward=forward, **common)
            page = self.reads.query(region, info.name, query)
        elif choices is not None:
            page = self._query_partitions(region, info.name, schema, choices, common)
        else:
            page = self.reads.scan(region, info.name, ScanRequest(**common))
        where, projection = statement.where, statement.projection
        items = [
            item if projection is None else apply_projection(item, projection)
            for item in page.items
            if where is None or evaluate_condition(where, item)
        ]
        return SelectPage(info.name, items, page.last_key, page.read_bytes)

    def _query_partitions(
        self,
        region: str,
        table: str,
        schema: KeySchema,
        choices: list[Any],
        common: dict[str, Any],
    ) -> Page:
        """``WHERE <partition key> IN [...]``: one Query per partition, in the order written,
        as one page. A page that ends early (Limit, 1 MB) ends in some partition; its last key
        says which, so the next page starts there."""
        start_key, limit = common["start_key"], common["limit"]
        first = 0
        if start_key is not None and schema.hash_name in start_key:
            at = start_key[schema.hash_name]
            first = next((i for i, value in enumerate(choices) if value == at), len(choices))
        items: list[Item] = []
        read_bytes, last_key = 0, None
        for i in range(first, len(choices)):
            left = None if limit is None else limit - len(items)
            if left is not None and left <= 0:
                break
            predicate = {schema.hash_name: KeyPredicate("EQ", (choices[i],))}
            request = QueryRequest(
                conditions=predicate,
                **{**common, "limit": left, "start_key": start_key if i == first else None},
            )
            page = self.reads.query(region, table, request)
            items.extend(page.items)
            read_bytes += page.read_bytes
            if page.last_key is not None:
                last_key = page.last_key
                break
        count = len(items)
        return Page(items, count, count, last_key, read_bytes)

    def _forward(
        self,
        schema: KeySchema,
        statement: Select,
        conditions: dict[str, KeyPredicate] | None,
    ) -> bool:
        if statement.order is None:
            return True
        path, descending = statement.order
        if statement.where is None:
            raise ValidationError(ORDER_WITHOUT_WHERE)
        if len(path.elements) != 1 or path.head not in schema.key_names:
            raise ValidationError(ORDER_NOT_KEY + str(path.head))
        if conditions is None:
            raise ValidationError(ORDER_NEEDS_PARTITION + schema.hash_name)
        return not descending

    # BatchExecuteStatement

    def batch_write(
        self,
        region: str,
        statements: Sequence[tuple[Insert | Update | Delete | HeadwaterError, bool]],
        *,
        measure: bool = False,
    ) -> Future[list[BatchResult]]:
        """Every write in ONE writer job; each succeeds or fails on its own."""
        planned: list[_Write | BatchResult] = []
        for statement, on_fail in statements:
            if isinstance(statement, HeadwaterError):
                planned.append(BatchResult(None, error=statement))
                continue
            try:
                planned.append(self._plan(region, statement, on_fail))
            except HeadwaterError as error:
                planned.append(BatchResult(statement.table, error=error))

        def job(txn: Txn) -> list[BatchResult]:
            results: list[BatchResult] = []
            for entry in planned:
                if isinstance(entry, BatchResult):
                    results.append(entry)
                    continue
                try:
                    done = self._run(txn, entry, measure)
                except HeadwaterError as error:
                    results.append(BatchResult(entry.target.info.name, error=error))
                else:
                    results.append(BatchResult(done.table, capacity=done.capacity))
            return results

        return self.items.store.submit(job)

    def batch_get(
        self, region: str, statements: Sequence[tuple[Select | HeadwaterError, bool]]
    ) -> list[BatchResult]:
        """Blocking: keyed SELECTs (full key with ``=``), read from one snapshot."""
        planned: list[tuple[Select, _Keyed, bool] | BatchResult] = []
        for statement, consistent in statements:
            if isinstance(statement, HeadwaterError):
                planned.append(BatchResult(None, error=statement))
                continue
            try:
                keyed = self._keyed(region, statement.table, statement.index, statement.where)
            except HeadwaterError as error:
                planned.append(BatchResult(statement.table, error=error))
            else:
                planned.append((statement, keyed, consistent))

        def read(conn: Any) -> list[bytes | None]:
            return [
                rows.get_item(conn, entry[1].info.table_id, entry[1].hk, entry[1].rk)
                for entry in planned
                if not isinstance(entry, BatchResult)
            ]

        raws = iter(self.items.store.read(read))
        results: list[BatchResult] = []
        for entry in planned:
            if isinstance(entry, BatchResult):
                results.append(entry)
                continue
            statement, keyed, consistent = entry
            raw = next(raws)
            item = orjson.loads(raw) if raw is not None else None
            units = read_units(_size(item), consistent=consistent)
            condition = keyed.condition
            if (
                item is not None
                and condition is not None
                and not evaluate_condition(condition, item)
            ):
                item = None
            if item is not None and statement.projection is not None:
                item = apply_projection(item, statement.projection)
            results.append(BatchResult(keyed.info.name, item=item, units=units))
        return results

    # ExecuteTransaction

    def transact_write(
        self,
        region: str,
        statements: Sequence[tuple[Insert | Update | Delete | Exists, bool]],
        *,
        token: str | None = None,
        digest: str = "",
        measure: bool = False,
    ) -> Future[TransactionOutcome]:
        """All or nothing, as a TransactWriteItems (one writer job, cancellation reasons)."""
        actions = [self._action(region, statement, on_fail) for statement, on_fail in statements]
        inserts = {
            index
            for index, (statement, _on_fail) in enumerate(statements)
            if isinstance(statement, Insert)
        }
        inner = self.transactions.write(
            region, actions, token=token, digest=digest, measure=measure
        )
        return _mapped(inner, lambda error: _duplicates(error, inserts))

    def _action(
        self, region: str, statement: Insert | Update | Delete | Exists, on_fail: bool
    ) -> WriteAction:
        if isinstance(statement, Insert):
            info = self.items.table(region, statement.table)
            return WriteAction(
                "Put",
                info.name,
                item=statement.item,
                condition=_not_exists(info.key_schema),
                return_old_on_fail=on_fail,
            )
        if isinstance(statement, Exists):
            select = statement.select
            keyed = self._keyed(region, select.table, select.index, select.where)
            schema = keyed.info.key_schema
            check = join_conditions([_exists(schema), *conjuncts(keyed.condition)])
            assert check is not None
            return WriteAction(
                "ConditionCheck",
                keyed.info.name,
                key=keyed.key,
                condition=Not(check) if statement.negated else check,
                return_old_on_fail=on_fail,
            )
        if statement.returning is not None:
            raise ValidationError(RETURNING_IN_TRANSACTION)
        keyed = self._keyed(region, statement.table, None, statement.where)
        schema = keyed.info.key_schema
        if isinstance(statement, Update):
            return WriteAction(
                "Update",
                keyed.info.name,
                key=keyed.key,
                condition=join_conditions([_exists(schema), *conjuncts(keyed.condition)]),
                update=statement.plan,
                return_old_on_fail=on_fail,
            )
        return WriteAction(
            "Delete",
            keyed.info.name,
            key=keyed.key,
            condition=keyed.condition,
            return_old_on_fail=on_fail,
        )

    def transact_get(self, region: str, statements: Sequence[Select]) -> GetOutcome:
        """Blocking: keyed SELECTs from one snapshot, as a TransactGetItems."""
        actions: list[GetAction] = []
        for statement in statements:
            keyed = self._keyed(region, statement.table, statement.index, statement.where)
            if keyed.condition is not None:
                raise ValidationError(KEYED_READ_FILTER)
            actions.append(GetAction(keyed.info.name, keyed.key, statement.projection))
        return self.transactions.get(region, actions)


def _returned(
    statement: Insert | Update | Delete, old: Item | None, new: Item | None
) -> list[Item]:
    """The items a RETURNING clause asks for (none without one)."""
    if isinstance(statement, Insert) or statement.returning is None:
        return []
    kind = statement.returning
    chosen = old if kind.endswith("OLD") else new
    if chosen is None:
        return []
    if kind.startswith("MODIFIED") and isinstance(statement, Update):
        return [modified(chosen, statement.plan)]
    return [chosen]


def _duplicates(error: BaseException, inserts: set[int]) -> BaseException:
    """An INSERT whose existence check failed is reported as DuplicateItem, as AWS does."""
    if not isinstance(error, TransactionCanceled) or not inserts:
        return error
    reasons = [
        CancellationReason("DuplicateItem", DUPLICATE, reason.item)
        if index in inserts and reason.code == "ConditionalCheckFailed"
        else reason
        for index, reason in enumerate(error.reasons)
    ]
    return TransactionCanceled(reasons)


def _mapped(
    inner: Future[TransactionOutcome], translate: Callable[[BaseException], BaseException]
) -> Future[TransactionOutcome]:
    """A future with ``inner``'s result, or its exception passed through ``translate``."""
    outer: Future[TransactionOutcome] = Future()

    def done(finished: Future[TransactionOutcome]) -> None:
        error = finished.exception()
        if error is None:
            outer.set_result(finished.result())
        else:
            outer.set_exception(translate(error))

    inner.add_done_callback(done)
    return outer
