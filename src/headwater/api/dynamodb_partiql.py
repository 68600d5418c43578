"""DynamoDB (JSON 1.0) adapter: PartiQL (ExecuteStatement, BatchExecuteStatement,
ExecuteTransaction).

Shapes first, then the statement is parsed with its Parameters bound
(``tables/partiql_parse.py``), then one call into ``tables/partiql.py``: a blocking read off
the event loop for SELECT, the writer's future for everything else. NextToken is opaque to
clients: base64 of the last key evaluated plus a digest of the statement and its parameters,
so a token only resumes the statement that produced it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, Final

import orjson

from headwater.api.completions import completed
from headwater.api.context import RequestContext
from headwater.api.dynamodb import SHAPES, capacity_member
from headwater.api.dynamodb_batch import consumed_capacity, request_digest
from headwater.errors import (
    ConditionalCheckFailed,
    DuplicateItem,
    HeadwaterError,
    NotEmulated,
    ResourceNotFound,
    SerializationError,
    ValidationError,
)
from headwater.model.capacity import MODES, Capacity, per_table, read_units
from headwater.model.types import AttrValue
from headwater.model.values import validate_item, validate_value
from headwater.runtime import Runtime
from headwater.tables.partiql import BatchResult, PartiQLOps
from headwater.tables.partiql_parse import (
    Delete,
    Exists,
    Insert,
    Select,
    Statement,
    Update,
    parse_statement,
)

Body = dict[str, Any]
Handler = Callable[[Runtime, RequestContext, Body], Awaitable[Body]]

# INFERRED wordings (errors.md §2.16 records only PQ-01, which the shapes produce).
BAD_TOKEN: Final = "The provided NextToken is invalid for this statement"
EXISTS_OUTSIDE_TRANSACTION: Final = "EXISTS statements are only supported in ExecuteTransaction"
BATCH_MIXED: Final = "BatchExecuteStatement cannot mix read (SELECT) and write statements"
TRANSACTION_MIXED: Final = (
    "ExecuteTransaction statements must be all reads (SELECT) or all writes "
    "(INSERT, UPDATE, DELETE, EXISTS)"
)
_BATCH_CODES: Final[tuple[tuple[type[HeadwaterError], str], ...]] = (
    (ConditionalCheckFailed, "ConditionalCheckFailed"),
    (DuplicateItem, "DuplicateItem"),
    (ResourceNotFound, "ResourceNotFound"),
    (ValidationError, "ValidationError"),
    (NotEmulated, "ValidationError"),
)


def _ops(rt: Runtime) -> PartiQLOps:
    return PartiQLOps(rt.items, rt.clock)


def _parse(entry: Body) -> Statement:
    raw = entry.get("Parameters")
    parameters: list[AttrValue] = [validate_value(value) for value in raw or ()]
    return parse_statement(entry["Statement"], parameters)


def _on_fail(entry: Body) -> bool:
    return entry.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"


# -- NextToken ------------------------------------------------------------------------------


def _digest(body: Body) -> str:
    significant = [body["Statement"], body.get("Parameters")]
    return hashlib.sha256(orjson.dumps(significant, option=orjson.OPT_SORT_KEYS)).hexdigest()[:24]


def encode_token(body: Body, last_key: Body) -> str:
    payload = orjson.dumps({"s": _digest(body), "k": last_key})
    return base64.urlsafe_b64encode(payload).decode("ascii")


def decode_token(body: Body) -> Body | None:
    """The key to resume after, from the request's NextToken (None: the first page)."""
    token = body.get("NextToken")
    if token is None:
        return None
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ValidationError(BAD_TOKEN) from None
    if not isinstance(payload, dict) or payload.get("s") != _digest(body):
        raise ValidationError(BAD_TOKEN)
    key = payload.get("k")
    if not isinstance(key, dict):
        raise ValidationError(BAD_TOKEN)
    try:
        return validate_item(key, path="exclusiveStartKey")
    except HeadwaterError:
        raise ValidationError(BAD_TOKEN) from None


# -- capacity -------------------------------------------------------------------------------


def _one_table(mode: str | None, capacity: Capacity | None) -> Body | None:
    if mode not in MODES or capacity is None:
        return None
    return capacity_member(capacity, mode)


# -- ExecuteStatement -----------------------------------------------------------------------


async def execute_statement(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("ExecuteStatement", body)
    statement = _parse(body)
    mode = body.get("ReturnConsumedCapacity")
    ops = _ops(rt)
    if isinstance(statement, Exists):
        raise ValidationError(EXISTS_OUTSIDE_TRANSACTION)
    if isinstance(statement, Select):
        limit = body.get("Limit")
        page = await rt.read(
            lambda: ops.select(
                ctx.region,
                statement,
                limit=None if limit is None else int(limit),
                start_key=decode_token(body),
                measure=mode in MODES,
            )
        )
        out: Body = {"Items": page.items}
        if page.last_key is not None:
            out["NextToken"] = encode_token(body, page.last_key)
            out["LastEvaluatedKey"] = page.last_key
        units = read_units(page.read_bytes, consistent=bool(body.get("ConsistentRead")))
        capacity = _one_table(mode, Capacity(page.table, read=units))
    else:
        on_fail = _on_fail(body)
        future = ops.write(ctx.region, statement, return_old_on_fail=on_fail, measure=mode in MODES)
        outcome = await completed(future)
        out = {"Items": outcome.items}
        capacity = _one_table(mode, outcome.capacity)
    if capacity is not None:
        out["ConsumedCapacity"] = capacity
    return out


# -- BatchExecuteStatement ------------------------------------------------------------------


def _batch_error(error: HeadwaterError) -> Body:
    code = next(
        (name for cls, name in _BATCH_CODES if isinstance(error, cls)), "InternalServerError"
    )
    out: Body = {"Code": code, "Message": error.message}
    if isinstance(error, ConditionalCheckFailed) and error.item is not None:
        out["Item"] = error.item
    return out


def _batch_response(result: BatchResult) -> Body:
    out: Body = {}
    if result.error is not None:
        out["Error"] = _batch_error(result.error)
    if result.table is not None:
        out["TableName"] = result.table
    if result.item is not None:
        out["Item"] = result.item
    return out


def _parse_each(entry: Body) -> Statement | HeadwaterError:
    try:
        statement = _parse(entry)
    except SerializationError:
        raise
    except HeadwaterError as error:
        return error
    if isinstance(statement, Exists):
        return ValidationError(EXISTS_OUTSIDE_TRANSACTION)
    return statement


async def batch_execute_statement(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("BatchExecuteStatement", body)
    entries: list[Body] = body["Statements"]
    parsed = [_parse_each(entry) for entry in entries]
    has_reads = any(isinstance(item, Select) for item in parsed)
    has_writes = any(isinstance(item, Insert | Update | Delete) for item in parsed)
    if has_reads and has_writes:
        raise ValidationError(BATCH_MIXED)
    ops = _ops(rt)
    results: list[BatchResult]
    if has_reads:
        reads: list[tuple[Select | HeadwaterError, bool]] = []
        for entry, item in zip(entries, parsed, strict=True):
            assert isinstance(item, Select | HeadwaterError)
            reads.append((item, bool(entry.get("ConsistentRead"))))
        results = await rt.read(ops.batch_get, ctx.region, reads)
        spent = [Capacity(r.table, read=r.units) for r in results if r.table and r.units]
    else:
        writes: list[tuple[Insert | Update | Delete | HeadwaterError, bool]] = []
        for entry, item in zip(entries, parsed, strict=True):
            assert not isinstance(item, Select | Exists)
            writes.append((item, _on_fail(entry)))
        measure = body.get("ReturnConsumedCapacity") in MODES
        results = await completed(ops.batch_write(ctx.region, writes, measure=measure))
        spent = [r.capacity for r in results if r.capacity is not None]
    out: Body = {"Responses": [_batch_response(result) for result in results]}
    capacity = consumed_capacity(body.get("ReturnConsumedCapacity"), per_table(spent), split=False)
    if capacity is not None:
        out["ConsumedCapacity"] = capacity
    return out


# -- ExecuteTransaction ---------------------------------------------------------------------


async def execute_transaction(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("ExecuteTransaction", body)
    entries: list[Body] = body["TransactStatements"]
    statements = [_parse(entry) for entry in entries]
    reads = [statement for statement in statements if isinstance(statement, Select)]
    if reads and len(reads) != len(statements):
        raise ValidationError(TRANSACTION_MIXED)
    ops = _ops(rt)
    mode = body.get("ReturnConsumedCapacity")
    out: Body = {}
    if reads:
        got = await rt.read(ops.transact_get, ctx.region, reads)
        out["Responses"] = [{"Item": item} if item is not None else {} for item in got.items]
        capacity = got.capacity
    else:
        writes: list[tuple[Insert | Update | Delete | Exists, bool]] = []
        for entry, statement in zip(entries, statements, strict=True):
            assert not isinstance(statement, Select)
            writes.append((statement, _on_fail(entry)))
        future = ops.transact_write(
            ctx.region,
            writes,
            token=body.get("ClientRequestToken"),
            digest=request_digest(body),
            measure=mode in MODES,
        )
        capacity = (await completed(future)).capacity
    consumed_units = consumed_capacity(mode, capacity, split=True)
    if consumed_units is not None:
        out["ConsumedCapacity"] = consumed_units
    return out


OPERATIONS: dict[str, Handler] = {
    "ExecuteStatement": execute_statement,
    "BatchExecuteStatement": batch_execute_statement,
    "ExecuteTransaction": execute_transaction,
}
