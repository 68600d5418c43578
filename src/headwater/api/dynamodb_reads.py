"""DynamoDB (JSON 1.0) adapter: Query and Scan.

As in ``dynamodb.py``: shapes first, then the request-level checks in AWS's order (errors.md
§6 step 5: expression/legacy mixing, placeholders, legacy conditions, ExclusiveStartKey values,
expression parsing, Select), then one blocking read in the table layer (``tables/query.py``),
which checks everything that needs the table. The legacy parameters (KeyConditions,
QueryFilter, ScanFilter, AttributesToGet, ConditionalOperator) are translated into the same
typed requests as their expression counterparts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson

from headwater.api.context import RequestContext
from headwater.api.dynamodb import SHAPES, table_name
from headwater.api.dynamodb_legacy import (
    attributes_to_get,
    check_conditional_operator,
    check_mixing,
    legacy_conditions,
    legacy_filter,
)
from headwater.errors import ValidationError
from headwater.expressions import ExpressionParams, parse_condition, parse_projection
from headwater.expressions.ast import (
    Condition,
    Projection,
)
from headwater.expressions.key_condition import CONDITION_COUNT, KeyPredicate, key_conditions
from headwater.model.capacity import consumed, read_units
from headwater.model.types import AttrValue
from headwater.model.values import validate_item
from headwater.runtime import Runtime
from headwater.tables.query import OverBudget, Page, QueryRequest, ScanRequest, TableReads

Body = dict[str, Any]
Handler = Callable[[Runtime, RequestContext, Body], Awaitable[Body | bytes]]

# Query words its Select errors like a shape error, Scan does not (recorded from AWS).
_QUERY_SELECT_PREFIX: Final = "1 validation error detected: "
_NO_KEY_CONDITION: Final = (
    "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
)


def _reads(rt: Runtime) -> TableReads:
    return TableReads(rt.store, rt.catalog)


# Rows a Query or Scan page may read on the event loop. On this kind of machine a hop to the
# read pool and back costs more CPU (two thread wake-ups) than reading a few hundred rows, so
# a page is read here first; one that needs more rows stops and is read again on the pool,
# where it cannot hold up other requests for long.
INLINE_ROWS: Final = 256


async def _page(
    rt: Runtime, read: Callable[..., Page], region: str, table: str, request: Any
) -> Page:
    try:
        return read(region, table, request, INLINE_ROWS)
    except OverBudget:
        return await rt.read(read, region, table, request)


def _start_key(body: Body) -> dict[str, AttrValue] | None:
    start = body.get("ExclusiveStartKey")
    return None if start is None else validate_item(start, path="exclusiveStartKey")


def _check_select(body: Body, prefix: str) -> bool:
    """The Select rules; returns whether only the count is wanted."""
    select = body.get("Select")
    if body.get("ProjectionExpression") is not None:
        chosen: str | None = "ProjectionExpression"
    elif body.get("AttributesToGet") is not None:
        chosen = "AttributesToGet"
    else:
        chosen = None
    if select == "SPECIFIC_ATTRIBUTES" and chosen is None:
        raise ValidationError(
            f"{prefix}Must specify the AttributesToGet or ProjectionExpression when choosing "
            "to get SPECIFIC_ATTRIBUTES"
        )
    if chosen is not None and select in ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "COUNT"):
        wanted = "only the Count" if select == "COUNT" else select
        raise ValidationError(f"{prefix}Cannot specify the {chosen} when choosing to get {wanted}")
    if select == "ALL_PROJECTED_ATTRIBUTES" and body.get("IndexName") is None:
        raise ValidationError(
            f"{prefix}ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
        )
    return bool(select == "COUNT")


@dataclass(frozen=True)
class _Parsed:
    key: Condition | None
    filter: Condition | None
    projection: Projection | None


def _expressions(body: Body) -> _Parsed:
    """Parse the request's expressions in AWS's order; unused placeholders fail after all."""
    params = ExpressionParams(
        body.get("ExpressionAttributeNames"), body.get("ExpressionAttributeValues")
    )

    def condition(kind: str) -> Condition | None:
        text = body.get(kind)
        return None if text is None else parse_condition(text, params, kind)

    key = condition("KeyConditionExpression")
    found = condition("FilterExpression")
    text = body.get("ProjectionExpression")
    projection = None if text is None else parse_projection(text, params)
    params.check_unused()
    return _Parsed(key, found, projection)


def _filter(
    parsed: _Parsed, legacy: dict[str, KeyPredicate] | None, body: Body
) -> Condition | None:
    if parsed.filter is not None:
        return parsed.filter
    return legacy_filter(legacy, body.get("ConditionalOperator"))


def _limit(body: Body) -> int | None:
    # A fractional JSON number reaches here as a float; AWS's parser truncates it.
    limit = body.get("Limit")
    return None if limit is None else int(limit)


def _wants_capacity(body: Body) -> bool:
    return body.get("ReturnConsumedCapacity") in ("TOTAL", "INDEXES")


def _response(body: Body, page: Page, count_only: bool) -> Body | bytes:
    """The response members; as JSON bytes when the page kept its items as stored JSON, which
    then go out as they are (no parse and re-encode of every item)."""
    out: Body = {"Count": page.count, "ScannedCount": page.scanned}
    if not count_only and page.raw_items is None:
        out["Items"] = page.items
    if page.last_key is not None:
        out["LastEvaluatedKey"] = page.last_key
    if _wants_capacity(body):
        units = read_units(page.read_bytes, consistent=bool(body.get("ConsistentRead")))
        capacity = consumed(body["TableName"], units)
        if body["ReturnConsumedCapacity"] == "INDEXES":
            if page.index_name is None:
                capacity["Table"] = {"CapacityUnits": units}
            else:
                capacity["Table"] = {"CapacityUnits": 0.0}
                group = "GlobalSecondaryIndexes" if page.index_global else "LocalSecondaryIndexes"
                capacity[group] = {page.index_name: {"CapacityUnits": units}}
        out["ConsumedCapacity"] = capacity
    if page.raw_items is not None and not count_only:
        return b'{"Items":[' + b",".join(page.raw_items) + b"]," + orjson.dumps(out)[1:]
    return out


# -- Query ----------------------------------------------------------------------------------


async def query(rt: Runtime, ctx: RequestContext, body: Body) -> Body | bytes:
    SHAPES.validate("Query", body)
    check_mixing(
        body,
        ("ProjectionExpression", "FilterExpression", "KeyConditionExpression"),
        ("AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions"),
    )
    check_conditional_operator(body, body.get("QueryFilter"))
    filter_conditions = legacy_conditions(body.get("QueryFilter"))
    legacy_projection = attributes_to_get(body)
    start_key = _start_key(body)
    if body.get("KeyConditions") is None and body.get("KeyConditionExpression") is None:
        raise ValidationError(_NO_KEY_CONDITION)
    parsed = _expressions(body)
    if parsed.key is not None:
        conditions = key_conditions(parsed.key)
    else:
        conditions = legacy_conditions(body["KeyConditions"]) or {}
        if len(conditions) not in (1, 2):
            raise ValidationError(CONDITION_COUNT)
    count_only = _check_select(body, _QUERY_SELECT_PREFIX)
    request = QueryRequest(
        conditions=conditions,
        filter=_filter(parsed, filter_conditions, body),
        filter_label="QueryFilter" if filter_conditions else "Filter Expression",
        projection=legacy_projection if parsed.projection is None else parsed.projection,
        limit=_limit(body),
        start_key=start_key,
        count_only=count_only,
        index_name=body.get("IndexName"),
        measure=_wants_capacity(body),
        consistent=bool(body.get("ConsistentRead")),
        select=body.get("Select"),
        forward=body.get("ScanIndexForward", True) is not False,
        raw=True,
    )
    page = await _page(rt, _reads(rt).query, ctx.region, table_name(body["TableName"]), request)
    return _response(body, page, count_only)


# -- Scan -----------------------------------------------------------------------------------


def _segments(body: Body) -> tuple[int, int]:
    segment, total = body.get("Segment"), body.get("TotalSegments")
    segment = None if segment is None else int(segment)
    total = None if total is None else int(total)
    if segment is not None and total is None:
        raise ValidationError(
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present"
        )
    if total is None:
        return 0, 1
    if segment is None:
        raise ValidationError(
            "The Segment parameter is required but was not present in the request when "
            "parameter TotalSegments is present"
        )
    if segment >= total:
        raise ValidationError(
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            f"Segment: {segment} is not less than TotalSegments: {total}"
        )
    return segment, total


async def scan(rt: Runtime, ctx: RequestContext, body: Body) -> Body | bytes:
    SHAPES.validate("Scan", body)
    check_mixing(
        body,
        ("ProjectionExpression", "FilterExpression"),
        ("AttributesToGet", "ScanFilter", "ConditionalOperator"),
    )
    check_conditional_operator(body, body.get("ScanFilter"))
    legacy_projection = attributes_to_get(body)
    filter_conditions = legacy_conditions(body.get("ScanFilter"))
    start_key = _start_key(body)
    segment, total = _segments(body)
    parsed = _expressions(body)
    count_only = _check_select(body, "")
    request = ScanRequest(
        filter=_filter(parsed, filter_conditions, body),
        projection=legacy_projection if parsed.projection is None else parsed.projection,
        limit=_limit(body),
        start_key=start_key,
        count_only=count_only,
        index_name=body.get("IndexName"),
        measure=_wants_capacity(body),
        consistent=bool(body.get("ConsistentRead")),
        select=body.get("Select"),
        segment=segment,
        total_segments=total,
        raw=True,
    )
    page = await _page(rt, _reads(rt).scan, ctx.region, table_name(body["TableName"]), request)
    return _response(body, page, count_only)


OPERATIONS: dict[str, Handler] = {"Query": query, "Scan": scan}
