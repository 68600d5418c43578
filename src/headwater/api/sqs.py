"""SQS (JSON 1.0, ``X-Amz-Target: AmazonSQS.<Op>``) adapter.

Queues are per region (the request's SigV4 region) under the server's account; a queue URL is
``<public url>/<account>/<name>`` and any host is accepted back. ReceiveMessage's long poll
waits on the queue's signal (a send, a visibility change, a clock advance) or until a hidden
message is due, never on a timer loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import re
from collections.abc import Awaitable, Callable
from typing import Any

from headwater.api import sqs_input as read
from headwater.api.completions import completed
from headwater.api.context import RequestContext
from headwater.api.sqs_errors import legacy_code
from headwater.destinations.errors import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    MissingParameter,
    QueueDoesNotExist,
    TooManyEntriesInBatchRequest,
)
from headwater.destinations.message_attributes import md5_of_attributes, md5_of_body, select
from headwater.destinations.queue_messages import Outgoing, Received, ReceiveOutcome, Sent
from headwater.errors import HeadwaterError, ValidationError
from headwater.runtime import Runtime

Body = dict[str, Any]
Handler = Callable[[Runtime, RequestContext, Body], Awaitable[Body]]

MAX_BATCH = 10
MAX_BATCH_BYTES = 1048576
MAX_WAIT = 20
_ENTRY_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_SYSTEM_ATTRIBUTES = (
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
)


def _url(rt: Runtime, name: str) -> str:
    return f"{rt.settings.public_url}/{rt.settings.account_id}/{name}"


def _queue(rt: Runtime, body: Body) -> str:
    return read.queue_name_from_url(read.required_string(body, "QueueUrl"), rt.settings.account_id)


async def _done(future: Any) -> Any:
    return await completed(future)


# -- queues -----------------------------------------------------------------------------------


async def create_queue(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = read.required_string(body, "QueueName")
    attributes = read.string_map(body, "Attributes")
    tags = read.string_map_strict(body, "tags")
    await _done(rt.destinations.queues.create(ctx.region, name, attributes, tags))
    return {"QueueUrl": _url(rt, name)}


async def get_queue_url(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = read.required_string(body, "QueueName")
    owner = read.string(body, "QueueOwnerAWSAccountId")
    if owner is not None and owner != rt.settings.account_id:
        raise QueueDoesNotExist()
    if not await rt.read(rt.destinations.queues.exists, ctx.region, name):
        raise QueueDoesNotExist()
    return {"QueueUrl": _url(rt, name)}


async def list_queues(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    prefix = read.string(body, "QueueNamePrefix") or ""
    limit = read.integer(body, "MaxResults")
    token = read.string(body, "NextToken")
    if limit is not None and not 1 <= limit <= 1000:
        raise ValidationError(
            f"Value {limit} for parameter MaxResults is invalid. Reason: MaxResults must be an "
            "integer between 1 and 1000."
        )
    names = await rt.read(rt.destinations.queues.list_names, ctx.region, prefix)
    if token is not None:
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode()
        except (binascii.Error, UnicodeError, ValueError):
            raise ValidationError("Invalid NextToken value.") from None
        names = [n for n in names if n > after]
    out: Body = {}
    page = names[: limit or 1000]
    if page:
        out["QueueUrls"] = [_url(rt, n) for n in page]
    if limit is not None and len(names) > limit:
        out["NextToken"] = base64.urlsafe_b64encode(page[-1].encode()).decode()
    return out


async def delete_queue(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    await _done(rt.destinations.queues.delete(ctx.region, _queue(rt, body)))
    return {}


async def get_queue_attributes(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _queue(rt, body)
    names = read.string_list(body, "AttributeNames")
    values = await rt.read(rt.destinations.queues.attributes, ctx.region, name, names)
    return {"Attributes": values} if values else {}


async def set_queue_attributes(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _queue(rt, body)
    attributes = read.string_map(body, "Attributes")
    await _done(rt.destinations.queues.set_attributes(ctx.region, name, attributes))
    return {}


async def purge_queue(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    await _done(rt.destinations.messages.purge(ctx.region, _queue(rt, body)))
    return {}


async def tag_queue(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _queue(rt, body)
    tags = read.string_map_strict(body, "Tags")
    await _done(rt.destinations.queues.tag(ctx.region, name, tags))
    return {}


async def untag_queue(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _queue(rt, body)
    keys = read.string_list(body, "TagKeys")
    await _done(rt.destinations.queues.untag(ctx.region, name, keys))
    return {}


async def list_queue_tags(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    tags = await rt.read(rt.destinations.queues.tags, ctx.region, _queue(rt, body))
    return {"Tags": tags} if tags else {}


# -- sending ----------------------------------------------------------------------------------


def _outgoing(entry: Body) -> Outgoing:
    return Outgoing(
        read.required_string(entry, "MessageBody"),
        read.message_attributes(entry),
        read.integer(entry, "DelaySeconds"),
    )


def _sent(sent: Sent) -> Body:
    out: Body = {"MD5OfMessageBody": sent.md5_of_body, "MessageId": sent.message_id}
    if sent.md5_of_attributes is not None:
        out["MD5OfMessageAttributes"] = sent.md5_of_attributes
    return out


async def send_message(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _queue(rt, body)
    message = _outgoing(body)
    [result] = await _done(rt.destinations.messages.send(ctx.region, name, [message]))
    if isinstance(result, HeadwaterError):
        raise result
    return _sent(result)


def _batch(body: Body, what: str) -> list[Body]:
    entries = read.entries(body)
    if not entries:
        raise EmptyBatchRequest(f"There should be at least one {what} in the request.")
    if len(entries) > MAX_BATCH:
        raise TooManyEntriesInBatchRequest(
            f"Maximum number of entries per request are {MAX_BATCH}. You have sent {len(entries)}."
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = read.string(entry, "Id") or ""
        if not _ENTRY_ID.match(entry_id):
            raise InvalidBatchEntryId(
                "A batch entry id can only contain alphanumeric characters, hyphens and "
                "underscores. It can be at most 80 letters long."
            )
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
        seen.add(entry_id)
    return entries


def _failed(entry_id: str, exc: HeadwaterError) -> Body:
    return {"Id": entry_id, "SenderFault": True, "Code": legacy_code(exc), "Message": exc.message}


def _batch_result(ids: list[str], results: list[Any], ok: Callable[[Any], Body]) -> Body:
    successful: list[Body] = []
    failed: list[Body] = []
    for entry_id, result in zip(ids, results, strict=True):
        if isinstance(result, HeadwaterError):
            failed.append(_failed(entry_id, result))
        else:
            successful.append({"Id": entry_id, **ok(result)})
    return {"Successful": successful, "Failed": failed}


async def send_message_batch(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _queue(rt, body)
    entries = _batch(body, "SendMessageBatchRequestEntry")
    ids = [str(e["Id"]) for e in entries]
    messages: list[Outgoing | HeadwaterError] = []
    for entry in entries:
        try:
            messages.append(_outgoing(entry))
        except HeadwaterError as exc:
            messages.append(exc)
    total = sum(len(m.body.encode()) for m in messages if isinstance(m, Outgoing))
    if total > MAX_BATCH_BYTES:
        raise BatchRequestTooLong(
            f"Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent "
            f"{total} bytes."
        )
    to_send = [m for m in messages if isinstance(m, Outgoing)]
    sent = iter(await _done(rt.destinations.messages.send(ctx.region, name, to_send)))
    results = [next(sent) if isinstance(m, Outgoing) else m for m in messages]
    return _batch_result(ids, results, _sent)


# -- receiving --------------------------------------------------------------------------------


def _received(
    rt: Runtime, message: Received, system: list[str], wanted_attributes: list[str]
) -> Body:
    out: Body = {
        "MessageId": message.message_id,
        "ReceiptHandle": message.receipt_handle,
        "MD5OfBody": md5_of_body(message.body),
        "Body": message.body,
    }
    everything = "All" in system
    values = {
        "SenderId": rt.settings.account_id,
        "SentTimestamp": str(int(message.sent * 1000)),
        "ApproximateReceiveCount": str(message.receive_count),
        "ApproximateFirstReceiveTimestamp": str(int(message.first_received * 1000)),
    }
    attributes = {k: v for k, v in values.items() if everything or k in system}
    if attributes:
        out["Attributes"] = attributes
    chosen = select(message.attributes, wanted_attributes)
    if chosen:
        out["MD5OfMessageAttributes"] = md5_of_attributes(chosen)
        out["MessageAttributes"] = {
            name: (
                {
                    "DataType": a.data_type,
                    "BinaryValue": base64.b64encode(a.binary_value or b"").decode(),
                }
                if a.is_binary
                else {"DataType": a.data_type, "StringValue": a.string_value}
            )
            for name, a in chosen.items()
        }
    return out


async def _receive_until(
    rt: Runtime, region: str, name: str, count: int, visibility: int | None, wait: int | None
) -> list[Received]:
    """Receive; if nothing is there, wait (for a signal or a hidden message's return) and try
    again until ``wait`` seconds (the queue's default when None) have passed."""
    messages = rt.destinations.messages
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()

    def wake() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
            loop.call_soon_threadsafe(woken.set)

    unsubscribe = rt.destinations.signals.subscribe((region, name), wake)
    rt.clock.on_advance(wake)
    try:
        started = loop.time()
        while True:
            woken.clear()
            outcome: ReceiveOutcome = await _done(messages.receive(region, name, count, visibility))
            if outcome.messages:
                return outcome.messages
            wait = outcome.wait_seconds if wait is None else wait
            remaining = started + wait - loop.time()
            if remaining <= 0:
                return []
            if outcome.next_visible_at is not None:
                due = max(outcome.next_visible_at - rt.clock.time(), 0.0) + 0.001
                remaining = min(remaining, due)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), remaining)
    finally:
        unsubscribe()
        rt.clock.remove_listener(wake)


async def receive_message(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _queue(rt, body)
    count = read.integer(body, "MaxNumberOfMessages")
    if count is not None and not 1 <= count <= MAX_BATCH:
        raise ValidationError(
            f"Value {count} for parameter MaxNumberOfMessages is invalid. Reason: Must be "
            "between 1 and 10, if provided."
        )
    wait = read.integer(body, "WaitTimeSeconds")
    if wait is not None and not 0 <= wait <= MAX_WAIT:
        raise ValidationError(
            f"Value {wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and "
            f"<= {MAX_WAIT}, if provided."
        )
    visibility = read.integer(body, "VisibilityTimeout")
    system = read.string_list(body, "AttributeNames") + read.string_list(
        body, "MessageSystemAttributeNames"
    )
    wanted = read.string_list(body, "MessageAttributeNames")
    found = await _receive_until(rt, ctx.region, name, count or 1, visibility, wait)
    if not found:
        return {}
    return {"Messages": [_received(rt, m, system, wanted) for m in found]}


# -- deleting and visibility -----------------------------------------------------------------


async def delete_message(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _queue(rt, body)
    handle = read.required_string(body, "ReceiptHandle")
    [error] = await _done(rt.destinations.messages.delete(ctx.region, name, [handle]))
    if error is not None:
        raise error
    return {}


async def delete_message_batch(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _queue(rt, body)
    entries = _batch(body, "DeleteMessageBatchRequestEntry")
    handles = [read.string(e, "ReceiptHandle") or "" for e in entries]
    results = await _done(rt.destinations.messages.delete(ctx.region, name, handles))
    return _batch_result([str(e["Id"]) for e in entries], results, lambda _: {})


async def change_message_visibility(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _queue(rt, body)
    handle = read.required_string(body, "ReceiptHandle")
    seconds = read.integer(body, "VisibilityTimeout")
    if seconds is None:
        raise MissingParameter("The request must contain the parameter VisibilityTimeout.")
    change = rt.destinations.messages.change_visibility(ctx.region, name, [(handle, seconds)])
    [error] = await _done(change)
    if error is not None:
        raise error
    return {}


async def change_message_visibility_batch(rt: Runtime, ctx: RequestContext, body: Body) -> Body:
    name = _queue(rt, body)
    entries = _batch(body, "ChangeMessageVisibilityBatchRequestEntry")
    changes = [
        (read.string(e, "ReceiptHandle") or "", read.integer(e, "VisibilityTimeout") or 0)
        for e in entries
    ]
    results = await _done(rt.destinations.messages.change_visibility(ctx.region, name, changes))
    return _batch_result([str(e["Id"]) for e in entries], results, lambda _: {})


OPERATIONS: dict[str, Handler] = {
    "CreateQueue": create_queue,
    "GetQueueUrl": get_queue_url,
    "ListQueues": list_queues,
    "DeleteQueue": delete_queue,
    "GetQueueAttributes": get_queue_attributes,
    "SetQueueAttributes": set_queue_attributes,
    "PurgeQueue": purge_queue,
    "TagQueue": tag_queue,
    "UntagQueue": untag_queue,
    "ListQueueTags": list_queue_tags,
    "SendMessage": send_message,
    "SendMessageBatch": send_message_batch,
    "ReceiveMessage": receive_message,
    "DeleteMessage": delete_message,
    "DeleteMessageBatch": delete_message_batch,
    "ChangeMessageVisibility": change_message_visibility,
    "ChangeMessageVisibilityBatch": change_message_visibility_batch,
}
