"""DynamoDB (JSON 1.0) adapter: Time to Live, tags, DescribeLimits and DescribeEndpoints.

Also the two helpers CreateTable calls for its ``Tags``: checked before the table is created,
applied right after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from headwater.api.context import RequestContext
from headwater.api.shapes import ShapeValidator
from headwater.errors import ValidationError
from headwater.runtime import Runtime
from headwater.tables.catalog import TableInfo
from headwater.tables.control import check_table_name
from headwater.tables.tags import (
    check_arn_present,
    check_tag_keys,
    check_tags,
    parse_table_arn,
)

SHAPES = ShapeValidator("dynamodb")

Body = dict[str, Any]
Handler = Callable[[Runtime, RequestContext, Body], Awaitable[Body]]

# AWS's default quotas for an account and for one table (DescribeLimits).
ACCOUNT_MAX_CAPACITY = 80_000
TABLE_MAX_CAPACITY = 40_000
ENDPOINT_CACHE_MINUTES = 1440


def _table_name(operation: str, body: Body, region: str) -> str:
    """TableName first, in the table-level ops' own wording; a table ARN names its table."""
    name = body.get("TableName")
    if name is not None and not isinstance(name, str):
        SHAPES.validate(operation, body)  # raises SerializationException
    if isinstance(name, str) and name.startswith("arn:"):
        try:
            arn_region, _account, table = parse_table_arn(name)
        except ValidationError:
            pass
        else:
            if arn_region == region:
                name = table
    return check_table_name(name)


def _shape_error(operation: str, body: Body) -> ValidationError | None:
    """Wrong JSON types fail at once; constraint errors wait behind the tag ops' own checks."""
    try:
        SHAPES.validate(operation, body)
    except ValidationError as exc:
        return exc
    return None


# -- Time to Live ---------------------------------------------------------------------------


async def update_time_to_live(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _table_name("UpdateTimeToLive", body, ctx.region)
    SHAPES.validate("UpdateTimeToLive", body)
    spec = body["TimeToLiveSpecification"]
    enabled, attribute = bool(spec["Enabled"]), str(spec["AttributeName"])
    await asyncio.to_thread(rt.ttl.update, ctx.region, name, enabled=enabled, attribute=attribute)
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}


async def describe_time_to_live(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _table_name("DescribeTimeToLive", body, ctx.region)
    SHAPES.validate("DescribeTimeToLive", body)
    setting = await rt.read(rt.ttl.describe, ctx.region, name)
    # With realism delays on, a change is ENABLING / DISABLING while it settles, as AWS's
    # can take up to an hour. (INFERRED: whether DISABLING names the attribute.)
    settle = rt.settings.table_transition_seconds
    settling = setting.changed is not None and rt.clock.time() - setting.changed < settle
    if setting.enabled:
        status = "ENABLING" if settling else "ENABLED"
    elif settling:
        status = "DISABLING"
    else:
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
    return {
        "TimeToLiveDescription": {"TimeToLiveStatus": status, "AttributeName": setting.attribute}
    }


# -- tags (check order: errors.md §2.6) -------------------------------------------------------


async def tag_resource(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    shape_error = _shape_error("TagResource", body)
    arn = check_arn_present(body.get("ResourceArn"), "TagResource", rt.settings.account_id)
    tags = body.get("Tags")
    if tags is None and shape_error is not None:
        raise shape_error
    parse_table_arn(arn)
    if not tags:
        raise ValidationError("Atleast one Tag needs to be provided as Input.")
    pairs = check_tags(tags)
    if shape_error is not None:
        raise shape_error
    await asyncio.to_thread(rt.tags.tag, ctx.region, arn, pairs)
    return {}


async def untag_resource(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    shape_error = _shape_error("UntagResource", body)
    arn = check_arn_present(body.get("ResourceArn"), "UntagResource", rt.settings.account_id)
    keys = body.get("TagKeys")
    if keys is None and shape_error is not None:
        raise shape_error
    parse_table_arn(arn)
    if not keys:
        raise ValidationError("Atleast one Tag Key needs to be provided as Input.")
    checked = check_tag_keys(keys)
    if shape_error is not None:
        raise shape_error
    await asyncio.to_thread(rt.tags.untag, ctx.region, arn, checked)
    return {}


async def list_tags_of_resource(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    shape_error = _shape_error("ListTagsOfResource", body)
    arn = check_arn_present(body.get("ResourceArn"), "ListTagsOfResource", rt.settings.account_id)
    parse_table_arn(arn)
    if shape_error is not None:
        raise shape_error
    tags = await rt.read(rt.tags.list_tags, ctx.region, arn)
    return {"Tags": [{"Key": key, "Value": value} for key, value in tags]}


def create_table_tags(body: Body) -> list[tuple[str, str]]:
    """CreateTable's ``Tags``, checked before the table exists (after the shape check)."""
    tags = body.get("Tags")
    return check_tags(tags) if tags else []


async def tag_created_table(rt: Runtime, info: TableInfo, tags: list[tuple[str, str]]) -> None:
    if tags:
        await asyncio.to_thread(rt.tags.tag_new_table, info, tags)


# -- account-level ------------------------------------------------------------------------


async def describe_limits(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("DescribeLimits", body)
    return {
        "AccountMaxReadCapacityUnits": ACCOUNT_MAX_CAPACITY,
        "AccountMaxWriteCapacityUnits": ACCOUNT_MAX_CAPACITY,
        "TableMaxReadCapacityUnits": TABLE_MAX_CAPACITY,
        "TableMaxWriteCapacityUnits": TABLE_MAX_CAPACITY,
    }


async def describe_endpoints(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("DescribeEndpoints", body)
    address = rt.settings.public_url.split("://", 1)[-1]
    return {"Endpoints": [{"Address": address, "CachePeriodInMinutes": ENDPOINT_CACHE_MINUTES}]}


OPERATIONS: dict[str, Handler] = {
    "UpdateTimeToLive": update_time_to_live,
    "DescribeTimeToLive": describe_time_to_live,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsOfResource": list_tags_of_resource,
    "DescribeLimits": describe_limits,
    "DescribeEndpoints": describe_endpoints,
}
