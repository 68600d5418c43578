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
from headwater.errors import ValidationError
from headwater.expressions import ExpressionParams, parse_condition, parse_projection
from headwater.expressions.ast import (
    And,
    Between,
    Call,
    Compare,
    Condition,
    In,
    Literal,
    Not,
    Or,
    Path,
    Projection,
)
from headwater.expressions.key_condition import CONDITION_COUNT, KeyPredicate, key_conditions
from headwater.model.capacity import consumed, read_units
from headwater.model.compare import compare
from headwater.model.types import AttrValue, type_of
from headwater.model.values import validate_item, validate_value
from headwater.runtime import Runtime
from headwater.tables.query import OverBudget, Page, QueryRequest, ScanRequest, TableReads

Body = dict[str, Any]
Handler = Callable[[Runtime, RequestContext, Body], Awaitable[Body | bytes]]

_INVALID: Final = "One or more parameter values were invalid: "
# Query words its Select errors like a shape error, Scan does not (recorded from AWS).
_QUERY_SELECT_PREFIX: Final = "1 validation error detected: "
_NAMES_WITHOUT_EXPRESSION: Final = (
    "ExpressionAttributeNames can only be specified when using expressions"
)
_NO_KEY_CONDITION: Final = (
    "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
)
# Arguments each legacy ComparisonOperator takes (None: one or more).
_ARITY: Final[dict[str, int | None]] = {
    "EQ": 1,
    "NE": 1,
    "LE": 1,
    "LT": 1,
    "GE": 1,
    "GT": 1,
    "CONTAINS": 1,
    "NOT_CONTAINS": 1,
    "BEGINS_WITH": 1,
    "NULL": 0,
    "NOT_NULL": 0,
    "IN": None,
    "BETWEEN": 2,
}
_SCALARS: Final = ("S", "N", "B")
# The value types each operator accepts (EQ and NE take any type).
_OPERAND_TYPES: Final = {
    "LE": _SCALARS,
    "LT": _SCALARS,
    "GE": _SCALARS,
    "GT": _SCALARS,
    "CONTAINS": _SCALARS,
    "NOT_CONTAINS": _SCALARS,
    "BEGINS_WITH": ("S", "B"),
    "IN": _SCALARS,
    "BETWEEN": _SCALARS,
}
_COMPARISONS: Final = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}


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


# -- request-level checks -------------------------------------------------------------------


def _check_mixing(body: Body, expressions: tuple[str, ...], legacy: tuple[str, ...]) -> None:
    """EP-01..EP-03: expression and legacy parameters, and placeholders with no expression."""
    used = [name for name in expressions if body.get(name) is not None]
    if used:
        old = [name for name in legacy if body.get(name) is not None]
        if body.get("KeyConditionExpression") is None and "KeyConditions" in old:
            old.remove("KeyConditions")  # KeyConditions may go with a filter or projection
        if old:
            raise ValidationError(
                "Can not use both expression and non-expression parameters in the same request: "
                f"Non-expression parameters: {{{', '.join(old)}}} "
                f"Expression parameters: {{{', '.join(used)}}}"
            )
    if body.get("ExpressionAttributeNames") is not None and not used:
        raise ValidationError(_NAMES_WITHOUT_EXPRESSION)
    takes_values = [name for name in expressions if name != "ProjectionExpression"]
    if body.get("ExpressionAttributeValues") is not None and all(
        body.get(name) is None for name in takes_values
    ):
        verb = "are" if len(takes_values) > 1 else "is"
        raise ValidationError(
            "ExpressionAttributeValues can only be specified when using expressions: "
            f"{' and '.join(takes_values)} {verb} null"
        )


def _legacy_conditions(conditions: dict[str, Any] | None) -> dict[str, KeyPredicate] | None:
    """EXP-08..EXP-11 for KeyConditions / QueryFilter / ScanFilter, with values normalised."""
    if conditions is None:
        return None
    checked: dict[str, KeyPredicate] = {}
    for name, condition in conditions.items():
        op = condition["ComparisonOperator"]
        values = tuple(validate_value(v) for v in condition.get("AttributeValueList") or ())
        arity = _ARITY[op]
        if (arity is None and not values) or (arity is not None and len(values) != arity):
            raise ValidationError(
                f"{_INVALID}Invalid number of argument(s) for the {op} ComparisonOperator"
            )
        types = [type_of(value) for value in values]
        if any(found != types[0] for found in types):
            raise ValidationError(
                f"{_INVALID}AttributeValues inside AttributeValueList must be of same type"
            )
        allowed = _OPERAND_TYPES.get(op)
        for found in types:
            if allowed is not None and found not in allowed:
                raise ValidationError(
                    f"{_INVALID}ComparisonOperator {op} is not valid for {found} "
                    "AttributeValue type"
                )
        if op == "BETWEEN" and compare(values[0], values[1]) > 0:
            raise ValidationError(
                "The BETWEEN condition was provided a range where the lower bound is greater "
                "than the upper bound"
            )
        checked[name] = KeyPredicate(op, values)
    return checked


def _legacy_filter(
    conditions: dict[str, KeyPredicate] | None, operator: str | None
) -> Condition | None:
    """QueryFilter / ScanFilter as the condition tree a FilterExpression would parse to."""
    if not conditions:
        return None
    parts: list[Condition] = []
    for index, (name, predicate) in enumerate(conditions.items()):
        path = Path((name,))
        values = [Literal(f":legacy{index}_{i}", v) for i, v in enumerate(predicate.values)]
        op = predicate.op
        part: Condition
        if op in _COMPARISONS:
            part = Compare(_COMPARISONS[op], path, values[0])
        elif op == "NULL":
            part = Call("attribute_not_exists", (path,))
        elif op == "NOT_NULL":
            part = Call("attribute_exists", (path,))
        elif op == "CONTAINS":
            part = Call("contains", (path, values[0]))
        elif op == "NOT_CONTAINS":
            part = Not(Call("contains", (path, values[0])))
        elif op == "BEGINS_WITH":
            part = Call("begins_with", (path, values[0]))
        elif op == "IN":
            part = In(path, tuple(values))
        else:
            part = Between(path, values[0], values[1])
        parts.append(part)
    if len(parts) == 1:
        return parts[0]
    return Or(tuple(parts)) if operator == "OR" else And(tuple(parts))


def _attributes_to_get(body: Body) -> Projection | None:
    names = body.get("AttributesToGet")
    if names is None:
        return None
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValidationError(f"{_INVALID}Duplicate value in attribute name: {name}")
        seen.add(name)
    return Projection(tuple(Path((name,)) for name in names))


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
    return _legacy_filter(legacy, body.get("ConditionalOperator"))


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
    _check_mixing(
        body,
        ("ProjectionExpression", "FilterExpression", "KeyConditionExpression"),
        ("AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions"),
    )
    legacy_filter = _legacy_conditions(body.get("QueryFilter"))
    legacy_projection = _attributes_to_get(body)
    start_key = _start_key(body)
    if body.get("KeyConditions") is None and body.get("KeyConditionExpression") is None:
        raise ValidationError(_NO_KEY_CONDITION)
    parsed = _expressions(body)
    if parsed.key is not None:
        conditions = key_conditions(parsed.key)
    else:
        conditions = _legacy_conditions(body["KeyConditions"]) or {}
        if len(conditions) not in (1, 2):
            raise ValidationError(CONDITION_COUNT)
    count_only = _check_select(body, _QUERY_SELECT_PREFIX)
    request = QueryRequest(
        conditions=conditions,
        filter=_filter(parsed, legacy_filter, body),
        filter_label="QueryFilter" if legacy_filter else "Filter Expression",
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
    _check_mixing(
        body,
        ("ProjectionExpression", "FilterExpression"),
        ("AttributesToGet", "ScanFilter", "ConditionalOperator"),
    )
    legacy_projection = _attributes_to_get(body)
    legacy_filter = _legacy_conditions(body.get("ScanFilter"))
    start_key = _start_key(body)
    segment, total = _segments(body)
    parsed = _expressions(body)
    count_only = _check_select(body, "")
    request = ScanRequest(
        filter=_filter(parsed, legacy_filter, body),
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
