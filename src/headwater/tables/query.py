"""Query and Scan: one page of items, read with range SQL on the primary key.

A page follows DynamoDB's accounting: ``Limit`` counts items *evaluated* (read before the
filter), a page stops once the items read would pass 1 MB, and ``LastEvaluatedKey`` is the key
of the last item evaluated whenever either stop cut the read short. Reads run in one read
transaction, so a page is a consistent snapshot (every read is strongly consistent here;
``ConsistentRead`` only changes the capacity arithmetic, which the API layer does).

Parallel scans split the table by a hash of the encoded partition key, so a partition's items
belong to exactly one segment, whatever page they fall on.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, TypeVar

import orjson

from headwater.errors import ResourceNotFound, ValidationError
from headwater.expressions import apply_projection, evaluate_condition
from headwater.expressions.ast import (
    And,
    Between,
    Call,
    Compare,
    Condition,
    In,
    Not,
    Operand,
    Or,
    Path,
    Projection,
)
from headwater.expressions.key_condition import (
    SCHEMA_MISMATCH,
    STARTING_KEY_INVALID,
    KeyPredicate,
    plan_query,
)
from headwater.model.keys import KeySchema, encode_key
from headwater.storage import index_rows, query_rows
from headwater.storage.store import Store
from headwater.tables import index_reads, indexes
from headwater.tables.catalog import Catalog, TableInfo
from headwater.tables.index_reads import ReadPlan
from headwater.tables.indexes import IndexDef

Item = dict[str, Any]
T = TypeVar("T")

MAX_PAGE_BYTES: Final = 1024 * 1024
_NOT_SCALAR: Final = (
    "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
    "allowed: Key: "
)
_FILTER_ON_KEY: Final = " can only contain non-primary key attributes: Primary key attribute: "


@dataclass(frozen=True, kw_only=True)
class ReadRequest:
    """What Query and Scan share. ``filter_label`` names the filter in AWS's messages;
    ``measure=False`` skips sizing what was read when no capacity units are wanted.
    ``consistent`` and ``select`` matter to index reads (Q-12, Q-13)."""

    filter: Condition | None = None
    filter_label: str = "Filter Expression"
    projection: Projection | None = None
    limit: int | None = None
    start_key: Item | None = None
    count_only: bool = False
    index_name: str | None = None
    measure: bool = True
    consistent: bool = False
    select: str | None = None
    raw: bool = False  # the caller takes items as their stored JSON when nothing reads them


@dataclass(frozen=True, kw_only=True)
class QueryRequest(ReadRequest):
    conditions: Mapping[str, KeyPredicate]
    forward: bool = True


@dataclass(frozen=True, kw_only=True)
class ScanRequest(ReadRequest):
    segment: int = 0
    total_segments: int = 1


@dataclass(frozen=True)
class Page:
    """One response's worth: ``count`` items passed the filter out of ``scanned`` evaluated;
    ``read_bytes`` is the size of everything evaluated (for the capacity units; 0 when the
    request did not ask to measure it). ``raw_items``, when not None, holds the items as
    their stored JSON instead of ``items`` (``ReadRequest.raw``)."""

    items: list[Item]
    count: int
    scanned: int
    last_key: Item | None
    read_bytes: int
    index_name: str | None = None
    index_global: bool = False
    raw_items: list[bytes] | None = None


# -- sizes of stored items ------------------------------------------------------------------
#
# model.size.item_size works on any validated value and so parses every number; stored items
# are canonical (numbers in plain text without leading or trailing zeros, padded base64), so
# their size follows from string lengths alone. A unit test holds the two equal.


def _text_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _number_size(text: str) -> int:
    return (len(text.replace("-", "").replace(".", "").strip("0")) + 1) // 2 + 1


def _binary_size(text: str) -> int:
    return len(text) * 3 // 4 - (len(text) - len(text.rstrip("=")))


def _value_size(value: dict[str, Any]) -> int:
    # The common scalar cases are written out in place: calls dominate the cost here.
    for type_name, raw in value.items():
        if type_name == "S":
            return len(raw) if raw.isascii() else len(raw.encode("utf-8", "surrogatepass"))
        if type_name == "N":
            return (len(raw.replace("-", "").replace(".", "").strip("0")) + 1) // 2 + 1
        if type_name == "B":
            return _binary_size(raw)
        if type_name == "M":
            total = 3
            for name, element in raw.items():
                total += _text_size(name) + _value_size(element) + 1
            return total
        if type_name == "L":
            return 3 + sum(_value_size(element) + 1 for element in raw)
        if type_name == "SS":
            return sum(map(_text_size, raw))
        if type_name == "NS":
            return sum(map(_number_size, raw))
        if type_name == "BS":
            return sum(map(_binary_size, raw))
        return 1  # BOOL, NULL
    return 0


def stored_item_size(item: Item) -> int:
    """``model.size.item_size`` of an item as stored (canonical), computed faster."""
    total = 0
    for name, value in item.items():
        total += len(name) if name.isascii() else len(name.encode("utf-8", "surrogatepass"))
        total += _value_size(value)
    return total


def segment_of(hk: bytes, total_segments: int) -> int:
    """The parallel-scan segment an encoded partition key belongs to."""
    return (zlib.crc32(hk) * total_segments) >> 32


# -- static checks of filters and projections -----------------------------------------------


def _operand_paths(operand: Operand) -> Iterator[Path]:
    if isinstance(operand, Path):
        yield operand
    elif isinstance(operand, Call):
        for arg in operand.args:
            yield from _operand_paths(arg)


def condition_paths(node: Condition) -> Iterator[Path]:
    """Every document path a condition reads, in the order written."""
    if isinstance(node, And | Or):
        for item in node.items:
            yield from condition_paths(item)
    elif isinstance(node, Not):
        yield from condition_paths(node.item)
    elif isinstance(node, Compare):
        yield from _operand_paths(node.left)
        yield from _operand_paths(node.right)
    elif isinstance(node, Between):
        for operand in (node.subject, node.low, node.high):
            yield from _operand_paths(operand)
    elif isinstance(node, In):
        for operand in (node.subject, *node.choices):
            yield from _operand_paths(operand)
    else:
        yield from _operand_paths(node)


def _check_scalar_keys(info: TableInfo, paths: Iterable[Path]) -> None:
    """KEY-13/KEY-14: a path may not look inside a table or index key (``pk.a``, ``pk[0]``)."""
    paths = list(paths)
    nested = {path.head for path in paths if len(path.elements) > 1}
    for name in info.key_schema.key_names:
        if name in nested:
            raise ValidationError(_NOT_SCALAR + name)
    indexes.check_key_paths(info, paths)


def _check_paths(info: TableInfo, request: ReadRequest) -> None:
    if request.projection is not None:
        _check_scalar_keys(info, request.projection.paths)
    if request.filter is not None:
        _check_scalar_keys(info, condition_paths(request.filter))


def _check_filter_keys(key_names: Iterable[str], request: ReadRequest) -> None:
    """Q-25: a Query filter may not name a key attribute (of the table or index read)."""
    if request.filter is None:
        return
    heads = {path.head for path in condition_paths(request.filter)}
    for name in key_names:
        if name in heads:
            raise ValidationError(request.filter_label + _FILTER_ON_KEY + name)


def _read_plan(info: TableInfo, index: IndexDef, request: ReadRequest) -> ReadPlan:
    projection = request.projection
    filtered = condition_paths(request.filter) if request.filter is not None else ()
    return index_reads.read_plan(
        info,
        index,
        select=request.select,
        projected_heads=None if projection is None else [p.head for p in projection.paths],
        filter_heads=[path.head for path in filtered],
    )


def _index_items(
    conn: Any, info: TableInfo, rows: Iterable[tuple[bytes, bytes, bytes]], fetch: bool
) -> Iterator[bytes]:
    """Index rows ``(item, pk_hk, pk_rk)`` as stored items: projected, or the table's."""
    for raw, pk_hk, pk_rk in rows:
        if not fetch:
            yield raw
            continue
        item = index_rows.get_item(conn, info.table_id, (pk_hk, pk_rk))
        if item is not None:
            yield item


def _in_segment(rows: Iterable[tuple[bytes, T]], total: int, wanted: int) -> Iterator[T]:
    """The rows whose partition (encoded hash key) belongs to segment ``wanted``."""
    current: bytes | None = None
    inside = False
    for hk, raw in rows:
        if hk != current:
            current, inside = hk, segment_of(hk, total) == wanted
        if inside:
            yield raw


class OverBudget(Exception):
    """A read given a row budget (``TableReads.query``/``scan``) needed more rows than that.

    Not an AWS error: the caller runs the read again without a budget, elsewhere."""


def _within(rows: Iterable[T], budget: int | None) -> Iterator[T]:
    """The rows storage yields, raising ``OverBudget`` at the first past ``budget``."""
    return iter(rows) if budget is None else _budgeted(rows, budget)


def _budgeted(rows: Iterable[T], budget: int) -> Iterator[T]:
    for count, row in enumerate(rows):
        if count >= budget:
            raise OverBudget
        yield row


# -- the engine -----------------------------------------------------------------------------


class TableReads:
    """Query and Scan over the store; thread-safe (each call borrows a read connection)."""

    def __init__(self, store: Store, catalog: Catalog) -> None:
        self.store = store
        self.catalog = catalog

    def _resolve(
        self, region: str, name: str, request: ReadRequest
    ) -> tuple[TableInfo, IndexDef | None]:
        info = self.catalog.get(region, name)
        if info is None:
            raise ResourceNotFound("Requested resource not found")
        if request.index_name is None:
            return info, None
        return info, index_reads.resolve(info, request.index_name, consistent=request.consistent)

    def query(
        self, region: str, name: str, request: QueryRequest, budget: int | None = None
    ) -> Page:
        """One page of a Query. With a ``budget``, a read that would go through more rows
        than that stops with ``OverBudget`` (cheap reads can then run where a thread hop
        would cost more than the read; the others go to the read pool)."""
        info, index = self._resolve(region, name, request)
        if index is not None:
            return self._query_index(info, index, request, budget)
        schema = info.key_schema
        key_range = plan_query(schema, request.conditions, request.start_key)
        if request.projection is not None:
            _check_scalar_keys(info, request.projection.paths)
        _check_filter_keys(schema.key_names, request)
        if request.filter is not None:
            _check_scalar_keys(info, condition_paths(request.filter))

        low, high = key_range.low, key_range.high
        start = request.start_key
        if start is not None:
            after = encode_key(start[schema.range_name]) if schema.range_name else b""
            if request.forward:
                low = max(low, after + b"\x00")
            else:
                high = after if high is None else min(high, after)
        if high is not None and high <= low:
            return Page([], 0, 0, None, 0)

        def read(conn: Any) -> Page:
            rows = query_rows.query_partition(
                conn,
                info.table_id,
                key_range.hk,
                low,
                high,
                forward=request.forward,
                limit=request.limit,
            )
            return _collect(_within(rows, budget), schema.key_names, request)

        return self.store.read(read)

    def _query_index(
        self, info: TableInfo, index: IndexDef, request: QueryRequest, budget: int | None
    ) -> Page:
        start = request.start_key
        key_range = plan_query(
            index.key_schema, request.conditions, index_reads.query_start(info, index, start)
        )
        after = None if start is None else index_reads.query_position(info, index, start)
        if request.projection is not None:
            _check_scalar_keys(info, request.projection.paths)
        _check_filter_keys(index.key_schema.key_names, request)
        plan = _read_plan(info, index, request)
        if request.filter is not None:
            _check_scalar_keys(info, condition_paths(request.filter))
        names = index_reads.key_names(info, index)

        def read(conn: Any) -> Page:
            rows = index_rows.query_index(
                conn,
                info.table_id,
                index.name,
                key_range.hk,
                key_range.low,
                key_range.high,
                after=after,
                forward=request.forward,
                limit=request.limit,
            )
            items = _index_items(conn, info, _within(rows, budget), plan.fetch)
            return _collect(items, names, request, plan.present)

        return replace(self.store.read(read), index_name=index.name, index_global=index.is_global)

    def scan(self, region: str, name: str, request: ScanRequest, budget: int | None = None) -> Page:
        """One page of a Scan; ``budget`` as for ``query``."""
        info, index = self._resolve(region, name, request)
        if index is not None:
            return self._scan_index(info, index, request, budget)
        schema = info.key_schema
        after = self._scan_start(schema, request)
        _check_paths(info, request)
        total, wanted = request.total_segments, request.segment

        def read(conn: Any) -> Page:
            if total == 1:
                rows = query_rows.scan_table(conn, info.table_id, after=after, limit=request.limit)
                return _collect(
                    (raw for _, raw in _within(rows, budget)), schema.key_names, request
                )
            rows = _within(query_rows.scan_table(conn, info.table_id, after=after), budget)
            return _collect(_in_segment(rows, total, wanted), schema.key_names, request)

        return self.store.read(read)

    def _scan_index(
        self, info: TableInfo, index: IndexDef, request: ScanRequest, budget: int | None
    ) -> Page:
        after = index_reads.scan_position(info, index, request.start_key)
        total, wanted = request.total_segments, request.segment
        if after is not None and total > 1 and segment_of(after[0], total) != wanted:
            raise ValidationError(
                f"{STARTING_KEY_INVALID}: Invalid ExclusiveStartKey. Please use "
                "ExclusiveStartKey with correct Segment. "
                f"TotalSegments: {total} Segment: {wanted}"
            )
        _check_paths(info, request)
        plan = _read_plan(info, index, request)
        names = index_reads.key_names(info, index)

        def read(conn: Any) -> Page:
            limit = request.limit if total == 1 else None
            rows = _within(
                index_rows.scan_index(conn, info.table_id, index.name, after=after, limit=limit),
                budget,
            )
            if total == 1:
                items = _index_items(conn, info, ((i, p, r) for _, i, p, r in rows), plan.fetch)
            else:
                pairs = ((hk, (i, p, r)) for hk, i, p, r in rows)
                picked = _in_segment(pairs, total, wanted)
                items = _index_items(conn, info, picked, plan.fetch)
            return _collect(items, names, request, plan.present)

        return replace(self.store.read(read), index_name=index.name, index_global=index.is_global)

    def _scan_start(self, schema: KeySchema, request: ScanRequest) -> tuple[bytes, bytes] | None:
        start = request.start_key
        if start is None:
            return None
        if len(start) != len(schema.key_names):
            raise ValidationError(f"{STARTING_KEY_INVALID}: {SCHEMA_MISMATCH}")
        try:
            key = schema.validate_key(start)
        except ValidationError as error:
            raise ValidationError(f"{STARTING_KEY_INVALID}: {error.message}") from None
        hk = encode_key(key[schema.hash_name])
        if request.total_segments > 1 and segment_of(hk, request.total_segments) != (
            request.segment
        ):
            raise ValidationError(
                f"{STARTING_KEY_INVALID}: Invalid ExclusiveStartKey. Please use "
                "ExclusiveStartKey with correct Segment. "
                f"TotalSegments: {request.total_segments} Segment: {request.segment}"
            )
        rk = encode_key(key[schema.range_name]) if schema.range_name else b""
        return hk, rk


def _collect(
    rows: Iterable[bytes],
    key_names: tuple[str, ...],
    request: ReadRequest,
    present: Callable[[Item], Item] | None = None,
) -> Page:
    """Evaluate rows in order until the Limit or the 1 MB page, filtering and projecting.

    Sizing an item is costly, so it is done only when it matters: a stored item's JSON is never
    smaller than its DynamoDB size, so while the JSON read so far fits in a page, so do the
    items. Exact sizes are computed once the page could be full, or for the capacity units.
    """
    if (
        request.raw
        and request.filter is None
        and request.projection is None
        and present is None
        and not request.measure
    ):
        return _collect_raw(iter(rows), key_names, request)
    return _collect_items(rows, key_names, request, present)


def _collect_raw(rows: Iterator[bytes], key_names: tuple[str, ...], request: ReadRequest) -> Page:
    """``_collect`` when nothing needs an item parsed: the stored JSON goes out as it is.

    Only the key of the last item is read, when the page stops early. A page that could pass
    1 MB (by the JSON's length, an upper bound of the size) is handed to the exact path."""
    kept: list[bytes] = []
    upper = 0
    limit = request.limit
    cut = False
    for raw in rows:
        if upper + len(raw) > MAX_PAGE_BYTES:
            return _collect_items(itertools.chain(kept, (raw,), rows), key_names, request, None)
        upper += len(raw)
        kept.append(raw)
        if limit is not None and len(kept) >= limit:
            cut = True
            break
    last_key = None
    if cut:
        last = orjson.loads(kept[-1])
        last_key = {name: last[name] for name in key_names if name in last}
    count = len(kept)
    return Page([], count, count, last_key, 0, raw_items=None if request.count_only else kept)


def _collect_items(
    rows: Iterable[bytes],
    key_names: tuple[str, ...],
    request: ReadRequest,
    present: Callable[[Item], Item] | None,
) -> Page:
    items: list[Item] = []
    evaluated: list[Item] = []
    count = scanned = upper = 0
    exact: int | None = None
    cut = False
    condition, projection = request.filter, request.projection
    for raw in rows:
        item = orjson.loads(raw)
        if exact is None and upper + len(raw) > MAX_PAGE_BYTES:
            exact = sum(stored_item_size(seen) for seen in evaluated)
        if exact is not None:
            size = stored_item_size(item)
            if scanned and exact + size > MAX_PAGE_BYTES:
                cut = True
                break
            exact += size
        upper += len(raw)
        scanned += 1
        evaluated.append(item)
        if condition is None or evaluate_condition(condition, item):
            count += 1
            if not request.count_only:
                shown = item if present is None else present(item)
                items.append(shown if projection is None else apply_projection(shown, projection))
        if request.limit is not None and scanned >= request.limit:
            cut = True
            break
    last_key = None
    if cut and evaluated:
        last = evaluated[-1]
        last_key = {name: last[name] for name in key_names if name in last}
    read_bytes = 0
    if request.measure:
        read_bytes = exact if exact is not None else sum(map(stored_item_size, evaluated))
    return Page(items, count, scanned, last_key, read_bytes)
