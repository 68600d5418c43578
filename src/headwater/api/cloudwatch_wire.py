"""CloudWatch's three wires, all answered by the operations in ``api/cloudwatch.py``.

* **JSON 1.0** (what boto3 1.44.5 picks: botocore prefers ``json`` among the model's protocols):
  ``POST /`` with ``X-Amz-Target: GraniteServiceVersion20100801.<Op>``, routed through
  ``server/app.py``'s TARGETS table; errors rendered by :func:`json_error`.
* **Smithy RPC v2 CBOR** (the model's default protocol, used by SDKs that prefer it):
  ``POST /service/GraniteServiceVersion20100801/operation/<Op>``, ``application/cbor`` bodies,
  timestamps as CBOR tag 1 (epoch seconds), the ``smithy-protocol: rpc-v2-cbor`` header.
* **Query** (older CLIs and SDKs): a form-encoded ``POST /`` with ``Action`` and
  ``Version=2010-08-01``, answered in XML.

CloudWatch is "awsQueryCompatible": on the JSON and CBOR wires an error names the modelled
exception in ``__type`` and carries the query-era code in ``x-amzn-query-error: <code>;Sender``,
which botocore turns back into ``response["Error"]["Code"]`` (``InvalidParameterValue``...).
PutMetricData bodies may arrive gzip-compressed (botocore compresses those over 10 KB).
"""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import math
import zlib
from functools import cache
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import cbor2
from starlette.requests import Request
from starlette.responses import Response

from headwater.api.cloudwatch import OPERATIONS
from headwater.api.cloudwatch_params import epoch, plain
from headwater.api.context import RequestContext, region_from_authorization
from headwater.cloudwatch.errors import CloudWatchError, InvalidParameterValue
from headwater.errors import HeadwaterError, SerializationError, ValidationError
from headwater.runtime import Runtime

log = logging.getLogger("headwater.api")

TARGET_PREFIX = "GraniteServiceVersion20100801"
CBOR_PATH = f"/service/{TARGET_PREFIX}/operation/{{operation}}"
VERSION = "2010-08-01"
XMLNS = "http://monitoring.amazonaws.com/doc/2010-08-01/"
CLOUDWATCH_NS = "com.amazonaws.cloudwatch#"  # INFERRED: the Smithy namespace of the model
SERVICE_NS = "com.amazon.coral.service#"

Headers = list[tuple[bytes, bytes]]


# -- errors ---------------------------------------------------------------------------------


class UnknownOperation(HeadwaterError):
    code = "InvalidAction"


def _parts(exc: BaseException) -> tuple[int, str, str | None, str]:
    """(status, __type, query-era code or None, message)."""
    if isinstance(exc, CloudWatchError):
        status = 500 if exc.shape == "InternalServiceFault" else 400
        return status, CLOUDWATCH_NS + exc.shape, exc.code, exc.message
    if isinstance(exc, ValidationError):  # the model's constraints (length, range, enum...)
        return 400, CLOUDWATCH_NS + "ValidationError", "ValidationError", exc.message
    if isinstance(exc, SerializationError):
        return 400, SERVICE_NS + "SerializationException", None, exc.message
    if isinstance(exc, UnknownOperation):
        return 400, SERVICE_NS + "UnknownOperationException", "InvalidAction", exc.message
    if isinstance(exc, HeadwaterError):
        return (
            400,
            CLOUDWATCH_NS + "InvalidParameterValueException",
            "InvalidParameterValue",
            (exc.message),
        )
    log.error("internal error", exc_info=exc)
    return 500, CLOUDWATCH_NS + "InternalServiceFault", "InternalServiceError", "Internal error"


def _query_header(code: str | None, status: int) -> Headers:
    if code is None:
        return []
    fault = "Receiver" if status >= 500 else "Sender"
    return [(b"x-amzn-query-error", f"{code};{fault}".encode())]


def json_error(exc: BaseException) -> tuple[int, dict[str, Any], Headers]:
    """The JSON 1.0 wire's error: (status, body, extra headers) for ``server/app.py``."""
    status, type_, code, message = _parts(exc)
    body: dict[str, Any] = {"__type": type_}
    if message:
        body["message"] = message
    return status, body, _query_header(code, status)


def decoded_body(headers: dict[bytes, bytes], body: bytes) -> bytes:
    """The request body with a gzip Content-Encoding undone (PutMetricData's compression)."""
    if headers.get(b"content-encoding", b"").strip().lower() == b"gzip":
        try:
            return gzip.decompress(body)
        except (OSError, EOFError, zlib.error):
            raise SerializationError("The request body could not be decompressed") from None
    return body


def gunzipped(headers: dict[bytes, bytes], body: bytes) -> bytes:
    """For the JSON 1.0 path: the body decompressed, or as it came if it cannot be (the JSON
    parser then reports it as malformed)."""
    try:
        return decoded_body(headers, body)
    except SerializationError:
        return body


# -- the botocore model: timestamps in CBOR answers, the query protocol's shapes -------------


@cache
def _model() -> Any:
    from botocore.session import get_session

    return get_session().get_service_model("cloudwatch")


def _operation(name: str) -> Any:
    if name not in OPERATIONS:
        raise UnknownOperation(f"The action {name} is not valid for this web service.")
    return _model().operation_model(name)


def _tagged(shape: Any, value: Any) -> Any:
    """An answer with its timestamp members as CBOR tag 1 (epoch seconds)."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        members = shape.members
        return {k: _tagged(members.get(k), v) for k, v in value.items()}
    if kind == "list":
        return [_tagged(shape.member, v) for v in value]
    if kind == "map":
        return {k: _tagged(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        return cbor2.CBORTag(1, float(value))
    if kind in ("double", "float"):
        return float(value)
    return value


# -- Smithy RPC v2 CBOR ---------------------------------------------------------------------


async def serve_cbor(request: Request) -> Response:
    """``POST /service/GraniteServiceVersion20100801/operation/<Op>``."""
    rt: Runtime = request.app.state.runtime
    ctx = RequestContext(region_from_authorization(request.headers.get("authorization")))
    headers = [(b"smithy-protocol", b"rpc-v2-cbor"), (b"x-amzn-requestid", ctx.request_id.encode())]
    name = request.path_params["operation"]
    try:
        operation = _operation(name)
        raw = decoded_body(
            {b"content-encoding": request.headers.get("content-encoding", "").encode()},
            await request.body(),
        )
        try:
            params = cbor2.loads(raw) if raw else {}
        except (cbor2.CBORDecodeError, ValueError, TypeError):
            raise SerializationError("The request body is not valid CBOR") from None
        if not isinstance(params, dict):
            raise SerializationError("The request body must be a CBOR map")
        result = await OPERATIONS[name](rt, ctx, plain(params))
        status, out = 200, cbor2.dumps(_tagged(operation.output_shape, result))
    except Exception as exc:
        status, type_, code, message = _parts(exc)
        err: dict[str, Any] = {"__type": type_}
        if message:
            err["message"] = message
        out = cbor2.dumps(err)
        headers += _query_header(code, status)
    return Response(out, status_code=status, headers=_str(headers), media_type="application/cbor")


def _str(headers: Headers) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in headers}


# -- query ----------------------------------------------------------------------------------


def is_query_request(headers: dict[bytes, bytes], body: bytes) -> bool:
    """A form-encoded ``POST /`` meant for CloudWatch: signed for ``monitoring``, or unsigned
    with CloudWatch's API version."""
    if not headers.get(b"content-type", b"").startswith(b"application/x-www-form-urlencoded"):
        return False
    authorization = headers.get(b"authorization", b"")
    if authorization:
        return b"/monitoring/aws4_request" in authorization
    return b"Version=2010-08-01" in body


def _prefixes(params: dict[str, str]) -> set[str]:
    found: set[str] = set()
    for key in params:
        parts = key.split(".")
        for i in range(1, len(parts) + 1):
            found.add(".".join(parts[:i]))
    return found


def _scalar(shape: Any, text: str, key: str) -> Any:
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("double", "float"):
            return float(text)
    except ValueError:
        raise InvalidParameterValue(f"The value {text} for parameter {key} is invalid.") from None
    if kind == "boolean":
        return text.lower() == "true"
    if kind == "timestamp":
        return epoch(text, key)
    return text


def _from_query(shape: Any, params: dict[str, str], known: set[str], key: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for name, member in shape.members.items():
            child = f"{key}.{name}" if key else name
            if child in known:
                out[name] = _from_query(member, params, known, child)
        return out
    if kind == "list":
        items = []
        n = 1
        while f"{key}.member.{n}" in known:
            items.append(_from_query(shape.member, params, known, f"{key}.member.{n}"))
            n += 1
        return items
    if kind == "map":
        mapping = {}
        n = 1
        while f"{key}.entry.{n}" in known:
            k = params.get(f"{key}.entry.{n}.key", "")
            mapping[k] = _from_query(shape.value, params, known, f"{key}.entry.{n}.value")
            n += 1
        return mapping
    return _scalar(shape, params.get(key, ""), key)


def _xml_time(value: float) -> str:
    stamp = dt.datetime.fromtimestamp(value, dt.UTC)
    millis = f".{stamp.microsecond // 1000:03d}" if stamp.microsecond else ""
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") + millis + "Z"


def _to_xml(shape: Any, value: Any) -> str:
    kind = shape.type_name
    if kind == "structure":
        return "".join(
            f"<{name}>{_to_xml(member, value[name])}</{name}>"
            for name, member in shape.members.items()
            if value.get(name) is not None
        )
    if kind == "list":
        return "".join(f"<member>{_to_xml(shape.member, v)}</member>" for v in value)
    if kind == "map":
        return "".join(
            f"<entry><key>{escape(str(k))}</key><value>{_to_xml(shape.value, v)}</value></entry>"
            for k, v in value.items()
        )
    if kind == "timestamp":
        return _xml_time(float(value))
    if kind == "boolean":
        return "true" if value else "false"
    if kind in ("double", "float"):
        number = float(value)
        return repr(number) if math.isfinite(number) else "NaN"
    return escape(str(value))


async def respond_query(
    rt: Runtime, headers: dict[bytes, bytes], body: bytes
) -> tuple[int, bytes, Headers]:
    """(status, XML, response headers) for one query-protocol request."""
    ctx = RequestContext(region_from_authorization(headers.get(b"authorization", b"").decode()))
    action = ""
    try:
        raw = decoded_body(headers, body)
        params = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        action = params.get("Action", "")
        operation = _operation(action)
        request = _from_query(operation.input_shape, params, _prefixes(params), "")
        result = await OPERATIONS[action](rt, ctx, request)
        output = operation.output_shape
        inner = f"<{action}Result>{_to_xml(output, result)}</{action}Result>" if output else ""
        xml = (
            f'<{action}Response xmlns="{XMLNS}">{inner}<ResponseMetadata><RequestId>'
            f"{ctx.request_id}</RequestId></ResponseMetadata></{action}Response>"
        )
        status = 200
    except Exception as exc:
        status, _type, code, message = _parts(exc)
        fault = "Receiver" if status >= 500 else "Sender"
        xml = (
            f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>{fault}</Type>'
            f"<Code>{escape(code or 'SerializationException')}</Code>"
            f"<Message>{escape(message)}</Message></Error>"
            f"<RequestId>{ctx.request_id}</RequestId></ErrorResponse>"
        )
    out = xml.encode()
    return (
        status,
        out,
        [
            (b"content-type", b"text/xml"),
            (b"content-length", str(len(out)).encode()),
            (b"x-amzn-requestid", ctx.request_id.encode()),
        ],
    )
