"""DynamoDB (JSON 1.0) adapter: request members in, domain calls, response members out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from headwater.api import dynamodb_control_extra
from headwater.api.context import RequestContext
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
from headwater.runtime import Runtime
from headwater.tables.catalog import TableInfo
from headwater.tables.control import StreamSpec, TableSpec, check_table_name

SHAPES = ShapeValidator("dynamodb")

Body = dict[str, Any]
Handler = Callable[[Runtime, RequestContext, Body], Awaitable[Body]]

_LEGACY = ("Expected", "AttributeUpdates", "AttributesToGet", "ConditionalOperator")


def _reject_legacy(body: Body) -> None:
    for name in _LEGACY:
        if body.get(name) is not None:
            raise NotEmulated(
                f"Headwater does not support the legacy parameter {name} yet; use the expression "
                "parameters (ConditionExpression, UpdateExpression, ProjectionExpression) instead"
            )


def _params(body: Body) -> ExpressionParams:
    return ExpressionParams(
        body.get("ExpressionAttributeNames"), body.get("ExpressionAttributeValues")
    )


def _condition(body: Body, params: ExpressionParams) -> Any:
    text = body.get("ConditionExpression")
    return parse_condition(text, params, "ConditionExpression") if text is not None else None


def _return_values(body: Body, allowed: tuple[str, ...]) -> str:
    value = body.get("ReturnValues") or "NONE"
    if value not in allowed:
        raise ValidationError("Return values set to invalid value")
    return str(value)


def _on_fail(body: Body) -> bool:
    return body.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"


def describe(
    rt: Runtime, info: TableInfo, status: str | None = None, stats: tuple[int, int] | None = None
) -> Body:
    count, size = stats if stats is not None else (0, 0)
    desc: Body = {
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t} for n, t in info.attribute_definitions
        ],
        "TableName": info.name,
        "KeySchema": [{"AttributeName": n, "KeyType": k} for n, k in info.key_schema_pairs],
        "TableStatus": status or info.status,
        "CreationDateTime": info.created,
        "ProvisionedThroughput": {
            "NumberOfDecreasesToday": 0,
            "ReadCapacityUnits": info.read_capacity,
            "WriteCapacityUnits": info.write_capacity,
        },
        "TableSizeBytes": size,
        "ItemCount": count,
        "TableArn": info.arn,
        "TableId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{info.arn}#{info.table_id}")),
        "DeletionProtectionEnabled": info.deletion_protection,
    }
    if info.billing_mode == "PAY_PER_REQUEST":
        desc["BillingModeSummary"] = {
            "BillingMode": "PAY_PER_REQUEST",
            "LastUpdateToPayPerRequestDateTime": info.created,
        }
    if info.stream_enabled:
        desc["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": info.stream_view_type,
        }
    if info.latest_stream_arn is not None:
        desc["LatestStreamLabel"] = info.latest_stream_label
        desc["LatestStreamArn"] = info.latest_stream_arn
    return desc


def _table_name(rt: Runtime, operation: str, body: Body) -> str:
    """Control-plane ops check TableName first, with their own wording — after JSON types."""
    name = body.get("TableName")
    if name is not None and not isinstance(name, str):
        SHAPES.validate(operation, body)  # raises SerializationException
    return check_table_name(name)


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
        has_indexes=bool(body.get("LocalSecondaryIndexes") or body.get("GlobalSecondaryIndexes")),
        deletion_protection=bool(body.get("DeletionProtectionEnabled", False)),
    )
    if spec.has_indexes:
        raise NotEmulated("Headwater does not support secondary indexes yet")
    tags = dynamodb_control_extra.create_table_tags(body)
    info = await asyncio.to_thread(rt.control.create_table, ctx.region, spec)
    await dynamodb_control_extra.tag_created_table(rt, info, tags)
    return {"TableDescription": describe(rt, info, "CREATING")}


async def describe_table(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _table_name(rt, "DescribeTable", body)
    SHAPES.validate("DescribeTable", body)
    info = rt.control.require(ctx.region, name)
    stats = await asyncio.to_thread(rt.control.item_stats, info)
    return {"Table": describe(rt, info, stats=stats)}


async def list_tables(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("ListTables", body)
    names = rt.catalog.names(ctx.region)
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
    if body.get("GlobalSecondaryIndexUpdates") or body.get("ReplicaUpdates"):
        raise NotEmulated("Headwater does not support index or replica updates yet")
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
    )
    return {"TableDescription": describe(rt, info, "UPDATING")}


# -- items --------------------------------------------------------------------------------


async def put_item(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("PutItem", body)
    _reject_legacy(body)
    returns = _return_values(body, ("NONE", "ALL_OLD"))
    params = _params(body)
    condition = _condition(body, params)
    params.check_unused()
    future = rt.items.put_item(
        ctx.region,
        body["TableName"],
        body["Item"],
        condition=condition,
        return_old_on_fail=_on_fail(body),
    )
    result = await asyncio.wrap_future(future)
    if returns == "ALL_OLD" and result.old is not None:
        return {"Attributes": result.old}
    return {}


async def get_item(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("GetItem", body)
    _reject_legacy(body)
    params = _params(body)
    text = body.get("ProjectionExpression")
    projection = parse_projection(text, params) if text is not None else None
    params.check_unused()
    item = await rt.read(rt.items.get_item, ctx.region, body["TableName"], body["Key"])
    if item is None:
        return {}
    return {"Item": apply_projection(item, projection) if projection is not None else item}


async def delete_item(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("DeleteItem", body)
    _reject_legacy(body)
    returns = _return_values(body, ("NONE", "ALL_OLD"))
    params = _params(body)
    condition = _condition(body, params)
    params.check_unused()
    future = rt.items.delete_item(
        ctx.region,
        body["TableName"],
        body["Key"],
        condition=condition,
        return_old_on_fail=_on_fail(body),
    )
    result = await asyncio.wrap_future(future)
    if returns == "ALL_OLD" and result.old is not None:
        return {"Attributes": result.old}
    return {}


async def update_item(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("UpdateItem", body)
    _reject_legacy(body)
    returns = _return_values(body, ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"))
    params = _params(body)
    text = body.get("UpdateExpression")
    plan = parse_update(text, params) if text is not None else None
    condition = _condition(body, params)
    params.check_unused()
    info = rt.items.table(ctx.region, body["TableName"])
    key_names = set(info.key_schema.key_names)

    def apply(old: Body | None, key: Body) -> Body | None:
        if plan is None:
            return old if old is not None else dict(key)
        return apply_update(plan, old, key, key_names)

    future = rt.items.update_item(
        ctx.region,
        body["TableName"],
        body["Key"],
        apply=apply,
        condition=condition,
        return_old_on_fail=_on_fail(body),
    )
    result = await asyncio.wrap_future(future)
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
