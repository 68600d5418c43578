"""DynamoDB (JSON 1.0) adapter: request members in, domain calls, response members out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from headwater.api import dynamodb_control_extra
from headwater.api.completions import completed
from headwater.api.context import RequestContext
from headwater.api.dynamodb_legacy import (
    attribute_updates_plan,
    attributes_to_get,
    check_mixing,
    expected_condition,
    legacy_type_error,
)
from headwater.api.shapes import ShapeValidator
from headwater.errors import NotEmulated, ValidationError
from headwater.expressions import (
    ExpressionParams,
    apply_projection,
    apply_update,
    parse_condition,
    parse_projection,
    parse_update,
    updated_attributes,
)
from headwater.model.capacity import MODES, Capacity, read_units
from headwater.model.size import item_size
from headwater.runtime import Runtime
from headwater.tables import indexes
from headwater.tables.catalog import TableInfo
from headwater.tables.control import StreamSpec, TableSpec, check_table_name
from headwater.tables.index_rules import IndexSpec, IndexUpdate
from headwater.tables.item_collections import CollectionMetrics
from headwater.tables.items import WriteResult
from headwater.tables.throughput import ThroughputHistory

SHAPES = ShapeValidator("dynamodb")

Body = dict[str, Any]
Handler = Callable[[Runtime, RequestContext, Body], Awaitable[Body | bytes]]

_PUT_DELETE_RETURNS = ("NONE", "ALL_OLD")
# PUT-05 (DEL-11 INFERRED to match): botocore's enum admits the other values, AWS does not.
_ONLY_OLD_OR_NONE = "ReturnValues can only be ALL_OLD or NONE"
_CONDITION_LEGACY = ("Expected", "ConditionalOperator")


def _params(body: Body) -> ExpressionParams:
    return ExpressionParams(
        body.get("ExpressionAttributeNames"), body.get("ExpressionAttributeValues")
    )


def _condition(body: Body, params: ExpressionParams) -> Any:
    text = body.get("ConditionExpression")
    if text is not None:
        return parse_condition(text, params, "ConditionExpression")
    if body.get("Expected") is not None or body.get("ConditionalOperator") is not None:
        return expected_condition(body)
    return None


def _return_values(body: Body, allowed: tuple[str, ...]) -> str:
    value = body.get("ReturnValues") or "NONE"
    if value not in allowed:
        if allowed == _PUT_DELETE_RETURNS:
            raise ValidationError(_ONLY_OLD_OR_NONE)
        raise ValidationError("Return values set to invalid value")
    return str(value)


def _on_fail(body: Body) -> bool:
    return body.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"


# -- ConsumedCapacity and ItemCollectionMetrics -------------------------------------------------


def _units(total: float, read: float, write: float, split: bool) -> Body:
    out: Body = {"CapacityUnits": total}
    if split and read:
        out["ReadCapacityUnits"] = read
    if split and write:
        out["WriteCapacityUnits"] = write
    return out


def capacity_member(entry: Capacity, mode: str | None, *, split: bool = False) -> Body:
    """One table's ConsumedCapacity (``split``: Read/WriteCapacityUnits too, as transactions
    give). TOTAL: the table's units plus its indexes' in CapacityUnits. INDEXES adds ``Table``
    and, per secondary index the request wrote, ``GlobalSecondaryIndexes`` /
    ``LocalSecondaryIndexes`` (AWS's API Reference, "ConsumedCapacity": "the amount of
    throughput consumed on each global index affected by the operation"). INFERRED: an index
    the write did not affect is left out, and so is a group with no index in it; GetItem and
    BatchGetItem touch no index, so INDEXES gives them the table alone (the
    ReturnConsumedCapacity documentation says so)."""
    writes = entry.write + entry.index_write
    out: Body = {"TableName": entry.table, **_units(entry.total, entry.read, writes, split)}
    if mode == "INDEXES":
        out["Table"] = _units(entry.read + entry.write, entry.read, entry.write, split)
        for member, group in (
            ("GlobalSecondaryIndexes", entry.global_indexes),
            ("LocalSecondaryIndexes", entry.local_indexes),
        ):
            if group:
                out[member] = {name: _units(u, 0.0, u, split) for name, u in group.items()}
    return out


def collection_member(metrics: CollectionMetrics) -> Body:
    """One ItemCollectionMetrics entry: the collection's partition key and size range in GB."""
    return {
        "ItemCollectionKey": metrics.key,
        "SizeEstimateRangeGB": [metrics.low_gb, metrics.high_gb],
    }


def _write_members(out: Body, mode: str | None, result: WriteResult) -> Body:
    """Add what a PutItem, UpdateItem or DeleteItem was asked to return besides its item."""
    if result.capacity is not None:
        out["ConsumedCapacity"] = capacity_member(result.capacity, mode)
    if result.collection is not None:
        out["ItemCollectionMetrics"] = collection_member(result.collection)
    return out


def _projection(index: indexes.IndexDef) -> Body:
    projection: Body = {"ProjectionType": index.projection_type}
    if index.projection_type == "INCLUDE":
        projection["NonKeyAttributes"] = list(index.non_key_attributes)
    return projection


def _throughput(history: ThroughputHistory, read: int, write: int, now: float) -> Body:
    out: Body = {}
    if history.increased is not None:
        out["LastIncreaseDateTime"] = history.increased
    if history.decreased is not None:
        out["LastDecreaseDateTime"] = history.decreased
    out["NumberOfDecreasesToday"] = history.decreases_today(now)
    out["ReadCapacityUnits"] = read
    out["WriteCapacityUnits"] = write
    return out


def _index_description(
    info: TableInfo,
    index: indexes.IndexDef,
    stats: tuple[int, int],
    status: str | None,
    now: float,
) -> Body:
    count, size = stats
    desc: Body = {
        "IndexName": index.name,
        "KeySchema": [{"AttributeName": n, "KeyType": k} for n, k in index.key_schema_pairs],
        "Projection": _projection(index),
    }
    if index.is_global:
        desc["IndexStatus"] = status or index.status
        if index.status == indexes.CREATING:
            desc["Backfilling"] = index.backfilling
        desc["ProvisionedThroughput"] = _throughput(
            index.history, index.read_capacity, index.write_capacity, now
        )
    # AWS refreshes both about every six hours and documents nothing special for a CREATING
    # index. INFERRED: live counts serve best, so a building index counts what its backfill
    # (and the writes since) put in it so far.
    desc["IndexSizeBytes"] = size
    desc["ItemCount"] = count
    desc["IndexArn"] = info.index_arn(index.name)
    return desc


def describe(
    rt: Runtime,
    info: TableInfo,
    status: str | None = None,
    stats: tuple[int, int] | None = None,
    index_stats: dict[str, tuple[int, int]] | None = None,
) -> Body:
    count, size = stats if stats is not None else (0, 0)
    now = rt.clock.time()
    desc: Body = {
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t} for n, t in info.attribute_definitions
        ],
        "TableName": info.name,
        "KeySchema": [{"AttributeName": n, "KeyType": k} for n, k in info.key_schema_pairs],
        "TableStatus": status or info.status,
        "CreationDateTime": info.created,
        "ProvisionedThroughput": _throughput(
            info.history, info.read_capacity, info.write_capacity, now
        ),
        "TableSizeBytes": size,
        "ItemCount": count,
        "TableArn": info.arn,
        "TableId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{info.arn}#{info.table_id}")),
        "DeletionProtectionEnabled": info.deletion_protection,
    }
    if info.billing_mode == "PAY_PER_REQUEST":
        desc["BillingModeSummary"] = {
            "BillingMode": "PAY_PER_REQUEST",
            "LastUpdateToPayPerRequestDateTime": info.switched_to_on_demand or info.created,
        }
    if info.stream_enabled:
        desc["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": info.stream_view_type,
        }
    if info.latest_stream_arn is not None:
        desc["LatestStreamLabel"] = info.latest_stream_label
        desc["LatestStreamArn"] = info.latest_stream_arn
    # A new table's global indexes are created with it (CreateTable's response says CREATING).
    index_status = "CREATING" if status == "CREATING" else None
    for key, group in (
        ("LocalSecondaryIndexes", info.local_indexes),
        ("GlobalSecondaryIndexes", info.global_indexes),
    ):
        if group:
            desc[key] = [
                _index_description(
                    info, index, (index_stats or {}).get(index.name, (0, 0)), index_status, now
                )
                for index in group
            ]
    return desc


def _table_name(rt: Runtime, operation: str, body: Body) -> str:
    """Control-plane ops check TableName first, with their own wording — after JSON types."""
    name = body.get("TableName")
    if name is not None and not isinstance(name, str):
        SHAPES.validate(operation, body)  # raises SerializationException
    return check_table_name(name)


def _index_spec(raw: Body) -> IndexSpec:
    projection = raw.get("Projection") or {}
    throughput = raw.get("ProvisionedThroughput") or {}
    non_key = projection.get("NonKeyAttributes")
    return IndexSpec(
        name=raw["IndexName"],
        key_schema=tuple((k["AttributeName"], k["KeyType"]) for k in raw["KeySchema"]),
        projection_type=projection.get("ProjectionType"),
        non_key_attributes=None if non_key is None else tuple(non_key),
        read_capacity=throughput.get("ReadCapacityUnits"),
        write_capacity=throughput.get("WriteCapacityUnits"),
    )


def index_specs(value: Any) -> tuple[IndexSpec, ...] | None:
    return None if value is None else tuple(_index_spec(raw) for raw in value)


def _index_update(raw: Body) -> IndexUpdate:
    kinds = tuple(kind for kind in ("Update", "Create", "Delete") if raw.get(kind) is not None)
    if not kinds:
        return IndexUpdate(())
    action = raw[kinds[0]]
    throughput = (action.get("ProvisionedThroughput") or {}) if kinds[0] == "Update" else {}
    return IndexUpdate(
        kinds,
        name=action.get("IndexName", ""),
        create=_index_spec(action) if kinds[0] == "Create" else None,
        read_capacity=throughput.get("ReadCapacityUnits"),
        write_capacity=throughput.get("WriteCapacityUnits"),
    )


def _definitions(value: Any) -> tuple[tuple[str, str], ...]:
    return tuple((a["AttributeName"], a["AttributeType"]) for a in value or ())


def _stream_spec(value: Any) -> StreamSpec | None:
    if value is None:
        return None
    return StreamSpec(bool(value.get("StreamEnabled")), value.get("StreamViewType"))


# -- control plane ------------------------------------------------------------------------


async def create_table(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _table_name(rt, "CreateTable", body)
    SHAPES.validate("CreateTable", body)
    throughput = body.get("ProvisionedThroughput") or {}
    spec = TableSpec(
        name=name,
        key_schema=tuple((k["AttributeName"], k["KeyType"]) for k in body["KeySchema"]),
        attribute_definitions=tuple(
            (a["AttributeName"], a["AttributeType"]) for a in body["AttributeDefinitions"]
        ),
        billing_mode=body.get("BillingMode"),
        read_capacity=throughput.get("ReadCapacityUnits"),
        write_capacity=throughput.get("WriteCapacityUnits"),
        stream=_stream_spec(body.get("StreamSpecification")),
        has_indexes=(
            body.get("LocalSecondaryIndexes") is not None
            or body.get("GlobalSecondaryIndexes") is not None
        ),
        deletion_protection=bool(body.get("DeletionProtectionEnabled", False)),
        local_indexes=index_specs(body.get("LocalSecondaryIndexes")),
        global_indexes=index_specs(body.get("GlobalSecondaryIndexes")),
    )
    tags = dynamodb_control_extra.create_table_tags(body)
    info = await asyncio.to_thread(rt.control.create_table, ctx.region, spec)
    await dynamodb_control_extra.tag_created_table(rt, info, tags)
    return {"TableDescription": describe(rt, info, "CREATING")}


async def describe_table(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _table_name(rt, "DescribeTable", body)
    SHAPES.validate("DescribeTable", body)
    info = rt.control.require(ctx.region, name)
    stats = await asyncio.to_thread(rt.control.item_stats, info)
    index_stats = await asyncio.to_thread(rt.control.index_stats, info)
    return {"Table": describe(rt, info, stats=stats, index_stats=index_stats)}


async def list_tables(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("ListTables", body)
    names = rt.control.listed_names(ctx.region)
    start = body.get("ExclusiveStartTableName")
    if start is not None:
        names = [n for n in names if n > start]
    limit = int(body.get("Limit") or 100)
    out: Body = {"TableNames": names[:limit]}
    if len(names) > limit:
        out["LastEvaluatedTableName"] = names[limit - 1]
    return out


async def delete_table(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _table_name(rt, "DeleteTable", body)
    SHAPES.validate("DeleteTable", body)
    info = await asyncio.to_thread(rt.control.delete_table, ctx.region, name)
    return {"TableDescription": describe(rt, info, "DELETING")}


async def update_table(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _table_name(rt, "UpdateTable", body)
    SHAPES.validate("UpdateTable", body)
    if body.get("ReplicaUpdates"):
        raise NotEmulated("Headwater does not support replica updates yet")
    throughput = body.get("ProvisionedThroughput") or {}
    info = await asyncio.to_thread(
        rt.control.update_table,
        ctx.region,
        name,
        stream=_stream_spec(body.get("StreamSpecification")),
        billing_mode=body.get("BillingMode"),
        read_capacity=throughput.get("ReadCapacityUnits"),
        write_capacity=throughput.get("WriteCapacityUnits"),
        deletion_protection=body.get("DeletionProtectionEnabled"),
        index_updates=tuple(
            _index_update(raw) for raw in body.get("GlobalSecondaryIndexUpdates") or ()
        ),
        attribute_definitions=_definitions(body.get("AttributeDefinitions")),
    )
    index_stats = await asyncio.to_thread(rt.control.index_stats, info)
    return {"TableDescription": describe(rt, info, "UPDATING", index_stats=index_stats)}


def table_name(name: str) -> str:
    """A table is named by its name or (newer SDKs) its ARN."""
    if name.startswith("arn:") and ":table/" in name:
        return name.split(":table/", 1)[1]
    return name


# -- items --------------------------------------------------------------------------------


async def put_item(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("PutItem", body)
    check_mixing(body, ("ConditionExpression",), _CONDITION_LEGACY)
    returns = _return_values(body, _PUT_DELETE_RETURNS)
    params = _params(body)
    condition = _condition(body, params)
    params.check_unused()
    mode = body.get("ReturnConsumedCapacity")
    metrics = body.get("ReturnItemCollectionMetrics") == "SIZE"
    future = rt.items.put_item(
        ctx.region,
        table_name(body["TableName"]),
        body["Item"],
        condition=condition,
        return_old_on_fail=_on_fail(body),
        measure=mode in MODES,
        metrics=metrics,
    )
    result = await completed(future)
    out: Body = (
        {"Attributes": result.old} if returns == "ALL_OLD" and result.old is not None else {}
    )
    if result.capacity is None and result.collection is None:
        return out
    return _write_members(out, mode, result)


async def get_item(rt: Runtime, ctx: RequestContext, body: Body) -> Body | bytes:
    SHAPES.validate("GetItem", body)
    check_mixing(body, ("ProjectionExpression",), ("AttributesToGet",))
    params = _params(body)
    text = body.get("ProjectionExpression")
    projection = parse_projection(text, params) if text is not None else attributes_to_get(body)
    params.check_unused()
    # A point read runs on the event loop: a hop to the read pool costs more than the read.
    raw = rt.items.get_item_json(ctx.region, table_name(body["TableName"]), body["Key"])
    mode = body.get("ReturnConsumedCapacity")
    if mode in MODES:
        return _measured_get(body, mode, raw, projection)
    if raw is None:
        return {}
    if projection is None:
        return b'{"Item":' + raw + b"}"  # the stored JSON as it is: no parse, no re-encode
    return {"Item": apply_projection(orjson.loads(raw), projection)}


def _measured_get(body: Body, mode: str, raw: bytes | None, projection: Any) -> Body | bytes:
    """GetItem with ConsumedCapacity: the whole item's size counts, projected or not, 4 KB per
    unit, halved unless ConsistentRead; a missing item costs the minimum (AWS's Developer
    Guide, "Capacity unit consumption for read operations": GetItem)."""
    item = orjson.loads(raw) if raw is not None else None
    size = item_size(item) if item is not None else 0
    units = read_units(size, consistent=bool(body.get("ConsistentRead")))
    member = capacity_member(Capacity(body["TableName"], read=units), mode)
    if item is None:
        return {"ConsumedCapacity": member}
    if projection is None:
        assert raw is not None
        return b'{"Item":' + raw + b',"ConsumedCapacity":' + orjson.dumps(member) + b"}"
    return {"Item": apply_projection(item, projection), "ConsumedCapacity": member}


async def delete_item(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("DeleteItem", body)
    check_mixing(body, ("ConditionExpression",), _CONDITION_LEGACY)
    returns = _return_values(body, _PUT_DELETE_RETURNS)
    params = _params(body)
    condition = _condition(body, params)
    params.check_unused()
    mode = body.get("ReturnConsumedCapacity")
    future = rt.items.delete_item(
        ctx.region,
        table_name(body["TableName"]),
        body["Key"],
        condition=condition,
        return_old_on_fail=_on_fail(body),
        measure=mode in MODES,
        metrics=body.get("ReturnItemCollectionMetrics") == "SIZE",
    )
    result = await completed(future)
    out: Body = (
        {"Attributes": result.old} if returns == "ALL_OLD" and result.old is not None else {}
    )
    return _write_members(out, mode, result)


async def update_item(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("UpdateItem", body)
    check_mixing(
        body, ("UpdateExpression", "ConditionExpression"), ("AttributeUpdates", *_CONDITION_LEGACY)
    )
    returns = _return_values(body, ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"))
    params = _params(body)
    text = body.get("UpdateExpression")
    legacy_updates = body.get("AttributeUpdates")
    if text is not None:
        plan = parse_update(text, params)
    elif legacy_updates is not None:
        plan = attribute_updates_plan(legacy_updates)
    else:
        plan = None
    condition = _condition(body, params)
    params.check_unused()
    info = rt.items.table(ctx.region, table_name(body["TableName"]))
    key_names = set(info.key_schema.key_names)
    if plan is not None:
        indexes.check_update_plan(info, plan)

    def apply(old: Body | None, key: Body) -> Body | None:
        if plan is None:
            return old if old is not None else dict(key)
        if legacy_updates is None:
            return apply_update(plan, old, key, key_names)
        try:
            return apply_update(plan, old, key, key_names)
        except ValidationError as error:
            raise legacy_type_error(error) from None

    mode = body.get("ReturnConsumedCapacity")
    future = rt.items.update_item(
        ctx.region,
        table_name(body["TableName"]),
        body["Key"],
        apply=apply,
        condition=condition,
        return_old_on_fail=_on_fail(body),
        measure=mode in MODES,
        metrics=body.get("ReturnItemCollectionMetrics") == "SIZE",
    )
    result = await completed(future)
    return _write_members(_updated(returns, plan, result), mode, result)


def _updated(returns: str, plan: Any, result: WriteResult) -> Body:
    """UpdateItem's Attributes member, as ReturnValues asks."""
    old, new = result.old, result.new
    if returns == "NONE":
        return {}
    if returns == "ALL_OLD":
        return {"Attributes": old} if old is not None else {}
    if returns == "ALL_NEW":
        return {"Attributes": new} if new is not None else {}
    if plan is None:
        return {}
    attrs = updated_attributes(old if returns == "UPDATED_OLD" else new, plan)
    return {"Attributes": attrs} if attrs else {}


OPERATIONS: dict[str, Handler] = {
    "CreateTable": create_table,
    "DescribeTable": describe_table,
    "ListTables": list_tables,
    "DeleteTable": delete_table,
    "UpdateTable": update_table,
    "PutItem": put_item,
    "GetItem": get_item,
    "DeleteItem": delete_item,
    "UpdateItem": update_item,
}
