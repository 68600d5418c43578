"""DynamoDB Streams (JSON 1.0) adapter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from headwater.api.context import RequestContext
from headwater.api.shapes import ShapeValidator
from headwater.errors import ValidationError
from headwater.runtime import Runtime
from headwater.streams import ids
from headwater.streams.log import ShardInfo

SHAPES = ShapeValidator("dynamodbstreams")

Body = dict[str, Any]
Handler = Callable[[Runtime, RequestContext, Body], Awaitable[Body | bytes]]


def _shard(shard: ShardInfo) -> Body:
    seq_range: Body = {"StartingSequenceNumber": ids.format_sequence(shard.start_seq)}
    if shard.end_seq is not None:
        seq_range["EndingSequenceNumber"] = ids.format_sequence(shard.end_seq)
    out: Body = {"ShardId": shard.shard_id, "SequenceNumberRange": seq_range}
    if shard.parent_shard_id is not None:
        out["ParentShardId"] = shard.parent_shard_id
    return out


async def list_streams(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("ListStreams", body)
    table = body.get("TableName")
    if table is not None:
        rt.control.require(ctx.region, table)
    found, last = rt.stream_service.list_streams(
        ctx.region, table, int(body.get("Limit") or 100), body.get("ExclusiveStartStreamArn")
    )
    out: Body = {
        "Streams": [
            {"StreamArn": s.arn, "TableName": s.table_name, "StreamLabel": s.label} for s in found
        ]
    }
    if last is not None:
        out["LastEvaluatedStreamArn"] = last
    return out


async def describe_stream(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("DescribeStream", body)
    shard_filter = body.get("ShardFilter") or {}
    if shard_filter and shard_filter.get("Type") != "CHILD_SHARDS":
        raise ValidationError(f"Unsupported ShardFilter type: {shard_filter.get('Type')}")
    info, shards, last = rt.stream_service.describe_stream(
        body["StreamArn"],
        int(body.get("Limit") or 100),
        body.get("ExclusiveStartShardId"),
        shard_filter.get("ShardId") if shard_filter else None,
    )
    desc: Body = {
        "StreamArn": info.arn,
        "StreamLabel": info.label,
        "StreamStatus": info.status,
        "StreamViewType": info.view_type,
        "CreationRequestDateTime": info.created,
        "TableName": info.table_name,
        "KeySchema": [{"AttributeName": n, "KeyType": k} for n, k in info.key_schema],
        "Shards": [_shard(s) for s in shards],
    }
    if last is not None:
        desc["LastEvaluatedShardId"] = last
    return {"StreamDescription": desc}


async def get_shard_iterator(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    SHAPES.validate("GetShardIterator", body)
    iterator = rt.stream_service.get_shard_iterator(
        body["StreamArn"], body["ShardId"], body["ShardIteratorType"], body.get("SequenceNumber")
    )
    return {"ShardIterator": iterator}


async def get_records(rt: Runtime, ctx: RequestContext, body: Body) -> bytes:
    SHAPES.validate("GetRecords", body)
    page = await rt.read(
        rt.stream_service.get_records, body["ShardIterator"], int(body.get("Limit") or 1000)
    )
    # Records are stored as JSON already: splice them instead of parsing and re-encoding.
    out = b'{"Records":[' + b",".join(page.records) + b"]"
    if page.next_iterator is not None:
        out += b',"NextShardIterator":"' + page.next_iterator.encode() + b'"'
    return out + b"}"


OPERATIONS: dict[str, Handler] = {
    "ListStreams": list_streams,
    "DescribeStream": describe_stream,
    "GetShardIterator": get_shard_iterator,
    "GetRecords": get_records,
}
