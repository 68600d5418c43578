"""DynamoDB (JSON 1.0) adapter: BatchGetItem, BatchWriteItem, TransactWriteItems,
TransactGetItems.

As in ``dynamodb.py``: shapes first, then the request-level checks and expression parsing here,
then one call into the table layer (``tables/batch.py``, ``tables/transactions.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

import orjson

from headwater.api.completions import completed
from headwater.api.context import RequestContext
from headwater.api.dynamodb import SHAPES, capacity_member, collection_member, table_name
from headwater.api.dynamodb_legacy import check_mixing
from headwater.errors import ValidationError
from headwater.expressions import (
    ExpressionParams,
    Path,
    Projection,
    parse_condition,
    parse_projection,
    parse_update,
)
from headwater.model.capacity import MODES, Capacity
from headwater.runtime import Runtime
from headwater.tables.batch import BatchOps, GetSpec, WriteSpec
from headwater.tables.item_collections import CollectionMetrics
from headwater.tables.transactions import KINDS, GetAction, TransactionOps, WriteAction

Body = dict[str, Any]
Handler = Callable[[Runtime, RequestContext, Body], Awaitable[Body]]

# AWS reuses the AttributeValue wording for a WriteRequest that is neither a put nor a delete.
NOT_ONE_WRITE = (
    "Supplied AttributeValue has more than one datatypes set, "
    "must contain exactly one of the supported datatypes"
)
# INFERRED wording (errors.md has no row for a TransactWriteItem with no or several actions).
NOT_ONE_ACTION = "TransactItems can only contain one of Check, Put, Update or Delete"


def _projection(spec: Body) -> Projection | None:
    """ProjectionExpression (or legacy AttributesToGet) of one BatchGet table or one Get."""
    text = spec.get("ProjectionExpression")
    legacy = spec.get("AttributesToGet")
    check_mixing(spec, ("ProjectionExpression",), ("AttributesToGet",))  # EP-01..EP-03
    if legacy is not None:
        seen: set[str] = set()
        for name in legacy:
            if name in seen:
                raise ValidationError(
                    "One or more parameter values were invalid: "
                    f"Duplicate value in attribute name: {name}"
                )
            seen.add(name)
        return Projection(tuple(Path((name,)) for name in legacy))
    params = ExpressionParams(spec.get("ExpressionAttributeNames"), None)
    projection = parse_projection(text, params) if text is not None else None
    params.check_unused()
    return projection


def consumed_capacity(
    mode: str | None, capacity: Sequence[Capacity], *, split: bool
) -> list[Body] | None:
    """The ConsumedCapacity member, one entry per table; ``split`` adds
    Read/WriteCapacityUnits (transactions)."""
    if mode not in MODES:
        return None
    return [capacity_member(entry, mode, split=split) for entry in capacity]


def _wants(body: Body) -> tuple[bool, bool]:
    """Whether the request asks for capacity units, and for item collection metrics."""
    measure = body.get("ReturnConsumedCapacity") in MODES
    return measure, body.get("ReturnItemCollectionMetrics") == "SIZE"


def _finish(
    out: Body,
    body: Body,
    capacity: list[Capacity],
    *,
    split: bool,
    collections: Iterable[CollectionMetrics] = (),
    names: dict[str, str] | None = None,
) -> Body:
    """Add ConsumedCapacity and ItemCollectionMetrics when asked. ItemCollectionMetrics maps
    each table (by the name the request gave, ``names``) to the collections written in it; only
    tables with local secondary indexes have item collections, so it is ``{}`` without them
    (AWS's API Reference, "BatchWriteItem" / "TransactWriteItems": ItemCollectionMetrics)."""
    consumed = consumed_capacity(body.get("ReturnConsumedCapacity"), capacity, split=split)
    if consumed is not None:
        out["ConsumedCapacity"] = consumed
    if body.get("ReturnItemCollectionMetrics") == "SIZE":
        by_table: Body = {}
        for metrics in collections:
            name = (names or {}).get(metrics.table, metrics.table)
            by_table.setdefault(name, []).append(collection_member(metrics))
        out["ItemCollectionMetrics"] = by_table
    return out


# -- BatchGetItem -----------------------------------------------------------------------------


async def batch_get_item(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("BatchGetItem", body)
    requested: dict[str, Body] = body["RequestItems"]
    specs = [
        GetSpec(
            table_name(name),
            list(spec["Keys"]),
            _projection(spec),
            bool(spec.get("ConsistentRead", False)),
        )
        for name, spec in requested.items()
    ]
    results = await rt.read(BatchOps(rt.items).batch_get, ctx.region, specs)
    responses: Body = {}
    unprocessed: Body = {}
    capacity: list[Capacity] = []
    for (name, spec), result in zip(requested.items(), results, strict=True):
        responses[name] = result.items
        if result.unprocessed:
            unprocessed[name] = {**spec, "Keys": result.unprocessed}
        capacity.append(Capacity(name, read=result.units))
    out: Body = {"Responses": responses, "UnprocessedKeys": unprocessed}
    return _finish(out, body, capacity, split=False)


# -- BatchWriteItem ---------------------------------------------------------------------------


def _write_spec(name: str, requests: list[Body]) -> WriteSpec:
    parts: list[tuple[str, Any]] = []
    for request in requests:
        put, delete = request.get("PutRequest"), request.get("DeleteRequest")
        if put is not None and delete is None:
            parts.append(("put", put["Item"]))
        elif delete is not None and put is None:
            parts.append(("delete", delete["Key"]))
        else:
            raise ValidationError(NOT_ONE_WRITE)
    return WriteSpec(table_name(name), parts)


async def batch_write_item(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("BatchWriteItem", body)
    requested: dict[str, list[Body]] = body["RequestItems"]
    specs = [_write_spec(name, requests) for name, requests in requested.items()]
    measure, metrics = _wants(body)
    ops = BatchOps(rt.items)
    outcome = await completed(ops.batch_write(ctx.region, specs, measure=measure, metrics=metrics))
    names = {spec.table: name for name, spec in zip(requested, specs, strict=True)}
    capacity = [
        replace(outcome.capacity.get(spec.table) or Capacity(spec.table), table=name)
        for name, spec in (zip(requested, specs, strict=True) if measure else ())
    ]
    out: Body = {"UnprocessedItems": {}}
    return _finish(out, body, capacity, split=False, collections=outcome.collections, names=names)


# -- TransactWriteItems -----------------------------------------------------------------------


def _write_action(entry: Body) -> WriteAction:
    present = [kind for kind in KINDS if entry.get(kind) is not None]
    if len(present) != 1:
        raise ValidationError(NOT_ONE_ACTION)
    kind = present[0]
    spec: Body = entry[kind]
    if kind in ("Put", "Delete"):
        check_mixing(spec, ("ProjectionExpression", "ConditionExpression"), ())  # EP-02/03
    params = ExpressionParams(
        spec.get("ExpressionAttributeNames"), spec.get("ExpressionAttributeValues")
    )
    update = parse_update(spec["UpdateExpression"], params) if kind == "Update" else None
    text = spec.get("ConditionExpression")
    condition = parse_condition(text, params, "ConditionExpression") if text is not None else None
    params.check_unused()
    return WriteAction(
        kind=kind,
        table=table_name(spec["TableName"]),
        item=spec.get("Item"),
        key=spec.get("Key"),
        condition=condition,
        update=update,
        return_old_on_fail=spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD",
    )


def request_digest(body: Body) -> str:
    """What makes two requests "the same" for a ClientRequestToken."""
    significant = {
        name: value
        for name, value in body.items()
        if name not in ("ClientRequestToken", "ReturnConsumedCapacity")
    }
    return hashlib.sha256(orjson.dumps(significant, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def transact_write_items(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("TransactWriteItems", body)
    actions = [_write_action(entry) for entry in body["TransactItems"]]
    measure, metrics = _wants(body)
    future = TransactionOps(rt.items, rt.clock).write(
        ctx.region,
        actions,
        token=body.get("ClientRequestToken"),
        digest=request_digest(body),
        measure=measure,
        metrics=metrics,
    )
    outcome = await completed(future)
    return _finish({}, body, outcome.capacity, split=True, collections=outcome.collections)


# -- TransactGetItems -------------------------------------------------------------------------


async def transact_get_items(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("TransactGetItems", body)
    actions = [
        GetAction(
            table_name(entry["Get"]["TableName"]), entry["Get"]["Key"], _projection(entry["Get"])
        )
        for entry in body["TransactItems"]
    ]
    outcome = await rt.read(TransactionOps(rt.items, rt.clock).get, ctx.region, actions)
    responses = [{"Item": item} if item is not None else {} for item in outcome.items]
    return _finish({"Responses": responses}, body, outcome.capacity, split=True)


OPERATIONS: dict[str, Handler] = {
    "BatchGetItem": batch_get_item,
    "BatchWriteItem": batch_write_item,
    "TransactWriteItems": transact_write_items,
    "TransactGetItems": transact_get_items,
}
