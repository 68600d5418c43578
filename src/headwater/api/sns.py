"""SNS (query protocol) adapter: form-encoded ``POST /`` with ``Action=...``, XML answers.

Query-protocol requests are told apart from the JSON services on ``POST /`` by having no
``X-Amz-Target`` and a form-encoded body (see ``server/app.py``). Maps and lists arrive
flattened (``Attributes.entry.1.key``, ``MessageAttributes.entry.1.Value.StringValue``).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from headwater.api.completions import completed
from headwater.api.context import RequestContext, region_from_authorization
from headwater.destinations.errors import SnsInvalidParameter, SnsNotFound, TopicNotFound
from headwater.destinations.message_attributes import Attributes, MessageAttribute
from headwater.destinations.topics import Subscription
from headwater.errors import HeadwaterError, NotEmulated, ValidationError
from headwater.runtime import Runtime

log = logging.getLogger("headwater.api")

NS = "http://sns.amazonaws.com/doc/2010-03-31/"
PAGE = 100

Params = dict[str, str]
Handler = Callable[[Runtime, RequestContext, Params], Awaitable[str]]


def _el(tag: str, value: str | None) -> str:
    return "" if value is None else f"<{tag}>{escape(value)}</{tag}>"


def _required(params: Params, name: str) -> str:
    value = params.get(name)
    if not value:
        raise SnsInvalidParameter(
            f"Invalid parameter: {name} Reason: no value for required parameter"
        )
    return value


def _map(params: Params, prefix: str, key: str = "key", value: str = "value") -> dict[str, str]:
    """``<prefix>.entry.N.key`` / ``.value`` pairs."""
    out: dict[str, str] = {}
    n = 1
    while f"{prefix}.entry.{n}.{key}" in params:
        out[params[f"{prefix}.entry.{n}.{key}"]] = params.get(f"{prefix}.entry.{n}.{value}", "")
        n += 1
    return out


def _message_attributes(params: Params, prefix: str = "MessageAttributes") -> Attributes:
    out: Attributes = {}
    n = 1
    while f"{prefix}.entry.{n}.Name" in params:
        base = f"{prefix}.entry.{n}"
        name, data_type = params[f"{base}.Name"], params.get(f"{base}.Value.DataType", "")
        binary = params.get(f"{base}.Value.BinaryValue")
        if binary is not None:
            try:
                out[name] = MessageAttribute(data_type, binary_value=base64.b64decode(binary))
            except binascii.Error:
                raise SnsInvalidParameter(
                    f"Invalid parameter: MessageAttributes Reason: {name} is not valid base64"
                ) from None
        else:
            value = params.get(f"{base}.Value.StringValue")
            if value is None:
                raise SnsInvalidParameter(
                    f"Invalid parameter: Message attribute '{name}' must contain non-empty "
                    "message attribute value"
                )
            out[name] = MessageAttribute(data_type, string_value=value)
        n += 1
    return out


def _token(params: Params) -> str:
    token = params.get("NextToken", "")
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise SnsInvalidParameter("Invalid parameter: NextToken") from None


def _next(last: str | None) -> str:
    if last is None:
        return ""
    return _el("NextToken", base64.urlsafe_b64encode(last.encode()).decode())


async def _done(future: Any) -> Any:
    return await completed(future)


# -- topics -----------------------------------------------------------------------------------


async def create_topic(rt: Runtime, ctx: RequestContext, params: Params) -> str:
    name = _required(params, "Name")
    attributes = _map(params, "Attributes")
    arn = await _done(rt.destinations.topics.create(ctx.region, name, attributes))
    return _el("TopicArn", arn)


async def delete_topic(rt: Runtime, ctx: RequestContext, params: Params) -> str:
    await _done(rt.destinations.topics.delete(_required(params, "TopicArn")))
    return ""


async def list_topics(rt: Runtime, ctx: RequestContext, params: Params) -> str:
    arns = await rt.read(rt.destinations.topics.list_arns, ctx.region, _token(params), PAGE + 1)
    page = arns[:PAGE]
    members = "".join(f"<member>{_el('TopicArn', arn)}</member>" for arn in page)
    return f"<Topics>{members}</Topics>" + _next(page[-1] if len(arns) > PAGE else None)


def _attributes(values: dict[str, str]) -> str:
    entries = "".join(
        f"<entry>{_el('key', k)}{_el('value', v)}</entry>" for k, v in sorted(values.items())
    )
    return f"<Attributes>{entries}</Attributes>"


async def get_topic_attributes(rt: Runtime, ctx: RequestContext, params: Params) -> str:
    values = await rt.read(rt.destinations.topics.attributes, _required(params, "TopicArn"))
    return _attributes(values)


async def set_topic_attributes(rt: Runtime, ctx: RequestContext, params: Params) -> str:
    topics = rt.destinations.topics
    arn, name = _required(params, "TopicArn"), _required(params, "AttributeName")
    await _done(topics.set_attribute(arn, name, params.get("AttributeValue", "")))
    return ""


# -- subscriptions ----------------------------------------------------------------------------


async def subscribe(rt: Runtime, ctx: RequestContext, params: Params) -> str:
    topic, protocol = _required(params, "TopicArn"), _required(params, "Protocol")
    endpoint = _required(params, "Endpoint")
    attributes = _map(params, "Attributes")
    arn = await _done(rt.destinations.topics.subscribe(topic, protocol, endpoint, attributes))
    return _el("SubscriptionArn", arn)


async def unsubscribe(rt: Runtime, ctx: RequestContext, params: Params) -> str:
    await _done(rt.destinations.topics.unsubscribe(_required(params, "SubscriptionArn")))
    return ""


def _subscriptions(rt: Runtime, found: list[Subscription], params: Params) -> str:
    after = _token(params)
    rest = [s for s in found if s.arn > after]
    page = rest[:PAGE]
    members = "".join(
        f"<member>{_el('SubscriptionArn', s.arn)}{_el('Owner', rt.settings.account_id)}"
        f"{_el('Protocol', s.protocol)}{_el('Endpoint', s.endpoint)}"
        f"{_el('TopicArn', s.topic_arn)}</member>"
        for s in page
    )
    return f"<Subscriptions>{members}</Subscriptions>" + _next(
        page[-1].arn if len(rest) > PAGE else None
    )


async def list_subscriptions_by_topic(rt: Runtime, ctx: RequestContext, params: Params) -> str:
    topic = _required(params, "TopicArn")
    found = await rt.read(rt.destinations.topics.subscriptions, ctx.region, topic)
    return _subscriptions(rt, found, params)


async def list_subscriptions(rt: Runtime, ctx: RequestContext, params: Params) -> str:
    found = await rt.read(rt.destinations.topics.subscriptions, ctx.region, None)
    return _subscriptions(rt, found, params)


async def get_subscription_attributes(rt: Runtime, ctx: RequestContext, params: Params) -> str:
    arn = _required(params, "SubscriptionArn")
    return _attributes(await rt.read(rt.destinations.topics.subscription_attributes, arn))


async def set_subscription_attributes(rt: Runtime, ctx: RequestContext, params: Params) -> str:
    topics = rt.destinations.topics
    arn, name = _required(params, "SubscriptionArn"), _required(params, "AttributeName")
    await _done(topics.set_subscription_attribute(arn, name, params.get("AttributeValue", "")))
    return ""


# -- publishing -------------------------------------------------------------------------------


async def publish(rt: Runtime, ctx: RequestContext, params: Params) -> str:
    if params.get("PhoneNumber"):
        raise NotEmulated("Headwater does not send SMS messages.")
    topic = params.get("TopicArn") or params.get("TargetArn")
    if not topic:
        raise SnsInvalidParameter(
            "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"
        )
    message_id = await _done(
        rt.destinations.topics.publish(
            topic,
            params.get("Message", ""),
            subject=params.get("Subject"),
            attributes=_message_attributes(params),
            structure=params.get("MessageStructure"),
        )
    )
    return _el("MessageId", message_id)


OPERATIONS: dict[str, Handler] = {
    "CreateTopic": create_topic,
    "DeleteTopic": delete_topic,
    "ListTopics": list_topics,
    "GetTopicAttributes": get_topic_attributes,
    "SetTopicAttributes": set_topic_attributes,
    "Subscribe": subscribe,
    "Unsubscribe": unsubscribe,
    "ListSubscriptions": list_subscriptions,
    "ListSubscriptionsByTopic": list_subscriptions_by_topic,
    "GetSubscriptionAttributes": get_subscription_attributes,
    "SetSubscriptionAttributes": set_subscription_attributes,
    "Publish": publish,
}


# -- the wire ---------------------------------------------------------------------------------


def is_query_request(headers: dict[bytes, bytes]) -> bool:
    """A form-encoded POST signed for SNS (or unsigned)."""
    if not headers.get(b"content-type", b"").startswith(b"application/x-www-form-urlencoded"):
        return False
    authorization = headers.get(b"authorization", b"")
    return not authorization or b"/sns/aws4_request" in authorization


def _error(exc: BaseException) -> tuple[int, str, str, str]:
    """(status, Sender/Receiver, code, message)."""
    if isinstance(exc, TopicNotFound | SnsNotFound):
        return 404, "Sender", "NotFound", exc.message
    if isinstance(exc, SnsInvalidParameter):
        return 400, "Sender", "InvalidParameter", exc.message
    if isinstance(exc, NotEmulated | ValidationError):
        return 400, "Sender", "InvalidParameter", f"Invalid parameter: {exc.message}"
    if isinstance(exc, HeadwaterError):
        return 400, "Sender", exc.code, exc.message
    log.error("internal error", exc_info=exc)
    return 500, "Receiver", "InternalError", "Internal server error"


async def respond(
    rt: Runtime, headers: dict[bytes, bytes], body: bytes
) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """(status, XML, response headers) for one query-protocol request."""
    ctx = RequestContext(region_from_authorization(headers.get(b"authorization", b"").decode()))
    status, out = await _answer(rt, ctx, body)
    return (
        status,
        out,
        [
            (b"content-type", b"text/xml"),
            (b"content-length", str(len(out)).encode()),
            (b"x-amzn-requestid", ctx.request_id.encode()),
        ],
    )


async def _answer(rt: Runtime, ctx: RequestContext, body: bytes) -> tuple[int, bytes]:
    params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    action = params.get("Action", "")
    handler = OPERATIONS.get(action)
    try:
        if handler is None:
            raise SnsInvalidParameter(f"Invalid parameter: Action {action} is not supported")
        result = await handler(rt, ctx, params)
    except Exception as exc:
        status, kind, code, message = _error(exc)
        xml = (
            f'<ErrorResponse xmlns="{NS}"><Error>{_el("Type", kind)}{_el("Code", code)}'
            f"{_el('Message', message)}</Error>{_el('RequestId', ctx.request_id)}</ErrorResponse>"
        )
        return status, xml.encode()
    xml = (
        f'<{action}Response xmlns="{NS}"><{action}Result>{result}</{action}Result>'
        f"<ResponseMetadata>{_el('RequestId', ctx.request_id)}</ResponseMetadata>"
        f"</{action}Response>"
    )
    return 200, xml.encode()
