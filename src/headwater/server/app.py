"""The ASGI application: every service on one port.

``POST /`` carries DynamoDB, DynamoDB Streams and SQS (JSON 1.0), told apart by the
``X-Amz-Target`` prefix; Lambda (rest-json) lives under ``/2015-03-31/``; Headwater's own
endpoints under ``/_headwater/``; S3 (rest-xml) is told apart by its signature scope (see
``api/s3.py``), SNS (query protocol) by a form-encoded ``POST /`` without a target.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from headwater import __version__, metrics
from headwater.api import (
    cloudwatch,
    cloudwatch_wire,
    dynamodb,
    dynamodb_batch,
    dynamodb_control_extra,
    dynamodb_partiql,
    dynamodb_reads,
    lambda_event_configs,
    lambda_functions,
    lambda_mappings,
    lambda_versions,
    s3,
    sns,
    sqs,
    streams,
)
from headwater.api.context import RequestContext, region_from_authorization
from headwater.api.errors import SERVICE_NS, json10_error, restjson_error
from headwater.api.sqs_errors import sqs_error
from headwater.errors import RequestTooLarge, SerializationError
from headwater.runtime import Runtime

JSON10_BYTES = b"application/x-amz-json-1.0"
MAX_BODY = 16 * 1024 * 1024
MAX_INVOKE_PAYLOAD = 6 * 1024 * 1024

TARGETS: dict[str, dict[str, Any]] = {
    "DynamoDB_20120810": {
        **dynamodb.OPERATIONS,
        **dynamodb_reads.OPERATIONS,
        **dynamodb_batch.OPERATIONS,
        **dynamodb_control_extra.OPERATIONS,
        **dynamodb_partiql.OPERATIONS,
    },
    "DynamoDBStreams_20120810": streams.OPERATIONS,
    "AmazonSQS": sqs.OPERATIONS,
    "GraniteServiceVersion20100801": cloudwatch.OPERATIONS,  # CloudWatch (JSON 1.0)
}

# Services whose JSON errors do not follow DynamoDB's shapes: (status, body, extra headers).
ERROR_RENDERERS: dict[
    str, Callable[[BaseException], tuple[int, dict[str, Any], list[tuple[bytes, bytes]]]]
] = {"AmazonSQS": sqs_error, "GraniteServiceVersion20100801": cloudwatch_wire.json_error}


async def json10(
    rt: Runtime, headers: dict[bytes, bytes], raw: bytes
) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """One DynamoDB or DynamoDB Streams call: (status, body, response headers)."""
    ctx = RequestContext(region_from_authorization(headers.get(b"authorization", b"").decode()))
    content_type = (
        JSON10_BYTES if JSON10_BYTES in headers.get(b"content-type", b"") else (b"application/json")
    )
    prefix, _, operation = headers.get(b"x-amz-target", b"").decode().partition(".")
    handler = TARGETS.get(prefix, {}).get(operation)
    extra: list[tuple[bytes, bytes]] = []
    if handler is None:
        status, out = 400, orjson.dumps({"__type": SERVICE_NS + "UnknownOperationException"})
    else:
        try:
            try:
                params = orjson.loads(raw) if raw else {}
            except orjson.JSONDecodeError:
                raise SerializationError("") from None
            if not isinstance(params, dict):
                raise SerializationError("Start of list found where not expected")
            result = await handler(rt, ctx, params)
            status, out = 200, result if isinstance(result, bytes) else orjson.dumps(result)
        except Exception as exc:
            render = ERROR_RENDERERS.get(prefix)
            if render is None:
                status, err = json10_error(exc)
            else:
                status, err, extra = render(exc)
            out = orjson.dumps(err)
    return (
        status,
        out,
        [
            (b"content-type", content_type),
            (b"content-length", str(len(out)).encode()),
            (b"x-amzn-requestid", ctx.request_id.encode()),
            (b"x-amz-crc32", str(zlib.crc32(out) & 0xFFFFFFFF).encode()),
            *extra,
        ],
    )


class Json10FastPath:
    """``POST /`` (the hot path of every DynamoDB call) straight on ASGI, without routing,
    middleware or request objects; S3 requests (any path) to the S3 adapter; everything else
    goes to the Starlette app.

    It is also the server protocol's ``Direct`` route (``server/protocol.py``): the requests
    ``accepts`` names skip ASGI altogether and go to ``answer``, which is what ``__call__``
    would do with them. Keep the two in step when ``__call__`` learns a new case.
    """

    max_body = MAX_BODY

    def __init__(self, app: Starlette, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    def accepts(self, method: bytes, url: bytes, headers: dict[bytes, bytes]) -> bool:
        """``POST /`` with a target and a plain body: ``__call__`` hands it to ``json10``."""
        return (
            method == b"POST"
            and url == b"/"
            and b"x-amz-target" in headers
            and b"content-encoding" not in headers
        )

    def answer(
        self, headers: dict[bytes, bytes], body: bytes
    ) -> Coroutine[Any, Any, tuple[int, bytes, list[tuple[bytes, bytes]]]]:
        return json10(self.runtime, headers, body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST" or scope["path"] != "/":
            headers = dict(scope["headers"])
            if s3.addressed_to_s3(scope, headers):
                await s3.serve(self.runtime, scope, receive, send, headers)
            else:
                await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                await _send(send, 413, b"", [(b"content-length", b"0")])
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        headers = dict(scope["headers"])
        if b"x-amz-target" not in headers:
            if s3.addressed_to_s3(scope, headers):
                await s3.serve(self.runtime, scope, receive, send, headers, b"".join(chunks))
                return
            if cloudwatch_wire.is_query_request(headers, b"".join(chunks)):
                status, body, out_headers = await cloudwatch_wire.respond_query(
                    self.runtime, headers, b"".join(chunks)
                )
                await _send(send, status, body, out_headers)
                return
            if sns.is_query_request(headers):
                status, body, out_headers = await sns.respond(
                    self.runtime, headers, b"".join(chunks)
                )
                await _send(send, status, body, out_headers)
                return
        if b"content-encoding" in headers:  # botocore gzips big CloudWatch PutMetricData bodies
            chunks = [cloudwatch_wire.gunzipped(headers, b"".join(chunks))]
        status, body, out_headers = await json10(self.runtime, headers, b"".join(chunks))
        await _send(send, status, body, out_headers)


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def dynamodb_health(request: Request) -> Response:
    region = region_from_authorization(request.headers.get("authorization"))
    return PlainTextResponse(f"healthy: dynamodb.{region}.amazonaws.com ")


# -- Lambda ---------------------------------------------------------------------------------


def _lambda_json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    content = b"" if body is None else orjson.dumps(body)
    return Response(content, status_code=status, headers=headers, media_type="application/json")


async def _lambda_call(
    request: Request, fn: Callable[[Runtime, RequestContext], Awaitable[Response]]
) -> Response:
    rt: Runtime = request.app.state.runtime
    ctx = RequestContext(region_from_authorization(request.headers.get("authorization")))
    try:
        return await fn(rt, ctx)
    except Exception as exc:
        status, code, body = restjson_error(exc)
        return _lambda_json(
            status, body, {"x-amzn-ErrorType": code, "x-amzn-RequestId": ctx.request_id}
        )


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise SerializationError("Could not parse request body into json") from None
    if not isinstance(body, dict):
        raise SerializationError("Could not parse request body into json")
    return body


async def functions_root(request: Request) -> Response:
    async def run(rt: Runtime, ctx: RequestContext) -> Response:
        if request.method == "POST":
            status, body = await lambda_functions.create_function(
                rt, ctx, await _json_body(request)
            )
            return _lambda_json(status, body)
        return _lambda_json(
            200, await lambda_functions.list_functions(rt, ctx, dict(request.query_params))
        )

    return await _lambda_call(request, run)


async def function_item(request: Request) -> Response:
    name = request.path_params["name"]

    async def run(rt: Runtime, ctx: RequestContext) -> Response:
        qualifier = request.query_params.get("Qualifier")
        if request.method == "DELETE":
            await lambda_functions.delete_function(rt, ctx, name, qualifier)
            return Response(status_code=204)
        return _lambda_json(200, await lambda_functions.get_function(rt, ctx, name, qualifier))

    return await _lambda_call(request, run)


async def function_code(request: Request) -> Response:
    name = request.path_params["name"]

    async def run(rt: Runtime, ctx: RequestContext) -> Response:
        body = await _json_body(request)
        return _lambda_json(200, await lambda_functions.update_function_code(rt, ctx, name, body))

    return await _lambda_call(request, run)


async def function_configuration(request: Request) -> Response:
    name = request.path_params["name"]

    async def run(rt: Runtime, ctx: RequestContext) -> Response:
        if request.method == "PUT":
            body = await _json_body(request)
            return _lambda_json(
                200, await lambda_functions.update_function_configuration(rt, ctx, name, body)
            )
        qualifier = request.query_params.get("Qualifier")
        return _lambda_json(
            200, await lambda_functions.get_function_configuration(rt, ctx, name, qualifier)
        )

    return await _lambda_call(request, run)


async def function_concurrency(request: Request) -> Response:
    name = request.path_params["name"]

    async def run(rt: Runtime, ctx: RequestContext) -> Response:
        if request.method == "PUT":
            body = await _json_body(request)
            return _lambda_json(
                200, await lambda_functions.put_function_concurrency(rt, ctx, name, body)
            )
        if request.method == "DELETE":
            await lambda_functions.delete_function_concurrency(rt, ctx, name)
            return Response(status_code=204)
        return _lambda_json(200, await lambda_functions.get_function_concurrency(rt, ctx, name))

    return await _lambda_call(request, run)


async def function_invocations(request: Request) -> Response:
    name = request.path_params["name"]

    async def run(rt: Runtime, ctx: RequestContext) -> Response:
        payload = await request.body()
        if len(payload) > MAX_INVOKE_PAYLOAD:
            raise RequestTooLarge(
                f"Request must be smaller than {MAX_INVOKE_PAYLOAD} bytes for the InvokeFunction "
                "operation"
            )
        if payload:
            try:
                orjson.loads(payload)
            except orjson.JSONDecodeError:
                raise SerializationError("Could not parse request body into json") from None
        headers = {k.lower(): v for k, v in request.headers.items()}
        qualifier = request.query_params.get("Qualifier")
        status, out, out_headers = await lambda_functions.invoke(
            rt, ctx, name, payload, headers, qualifier
        )
        return Response(out, status_code=status, headers=out_headers, media_type="application/json")

    return await _lambda_call(request, run)


def _function_collection(
    create: Callable[[Runtime, RequestContext, str, dict[str, Any]], Awaitable[tuple[int, Any]]],
    list_all: Callable[[Runtime, RequestContext, str, dict[str, str]], Awaitable[Any]],
) -> Callable[[Request], Awaitable[Response]]:
    """``/functions/{name}/versions`` and ``.../aliases``: POST makes one, GET lists them."""

    async def endpoint(request: Request) -> Response:
        name = request.path_params["name"]

        async def run(rt: Runtime, ctx: RequestContext) -> Response:
            if request.method == "POST":
                status, out = await create(rt, ctx, name, await _json_body(request))
                return _lambda_json(status, out)
            return _lambda_json(200, await list_all(rt, ctx, name, dict(request.query_params)))

        return await _lambda_call(request, run)

    return endpoint


function_versions = _function_collection(
    lambda_versions.publish_version, lambda_versions.list_versions
)
function_aliases = _function_collection(lambda_versions.create_alias, lambda_versions.list_aliases)


async def alias_item(request: Request) -> Response:
    name, alias = request.path_params["name"], request.path_params["alias"]

    async def run(rt: Runtime, ctx: RequestContext) -> Response:
        if request.method == "PUT":
            body = await _json_body(request)
            return _lambda_json(200, await lambda_versions.update_alias(rt, ctx, name, alias, body))
        if request.method == "DELETE":
            await lambda_versions.delete_alias(rt, ctx, name, alias)
            return Response(status_code=204)
        return _lambda_json(200, await lambda_versions.get_alias(rt, ctx, name, alias))

    return await _lambda_call(request, run)


async def event_invoke_config(request: Request) -> Response:
    """Put (PUT), Update (POST), Get and Delete of one qualifier's asynchronous settings."""
    name = request.path_params["name"]

    async def run(rt: Runtime, ctx: RequestContext) -> Response:
        query = dict(request.query_params)
        if request.method == "PUT":
            body = await _json_body(request)
            out = await lambda_event_configs.put_config(rt, ctx, name, query, body)
        elif request.method == "POST":
            body = await _json_body(request)
            out = await lambda_event_configs.update_config(rt, ctx, name, query, body)
        elif request.method == "DELETE":
            await lambda_event_configs.delete_config(rt, ctx, name, query)
            return Response(status_code=204)
        else:
            out = await lambda_event_configs.get_config(rt, ctx, name, query)
        return _lambda_json(200, out)

    return await _lambda_call(request, run)


async def event_invoke_configs(request: Request) -> Response:
    name = request.path_params["name"]

    async def run(rt: Runtime, ctx: RequestContext) -> Response:
        query = dict(request.query_params)
        return _lambda_json(200, await lambda_event_configs.list_configs(rt, ctx, name, query))

    return await _lambda_call(request, run)


async def function_code_zip(request: Request) -> Response:
    rt: Runtime = request.app.state.runtime
    try:
        config = rt.functions.get(request.path_params["region"], request.path_params["name"])
    except Exception:
        return Response(status_code=404)
    code = await rt.read(rt.functions.code_zip, config)
    return Response(code, media_type="application/zip")


async def mappings_root(request: Request) -> Response:
    async def run(rt: Runtime, ctx: RequestContext) -> Response:
        if request.method == "POST":
            status, body = await lambda_mappings.create_mapping(rt, ctx, await _json_body(request))
            return _lambda_json(status, body)
        return _lambda_json(
            200, await lambda_mappings.list_mappings(rt, ctx, dict(request.query_params))
        )

    return await _lambda_call(request, run)


async def mapping_item(request: Request) -> Response:
    uuid = request.path_params["uuid"]

    async def run(rt: Runtime, ctx: RequestContext) -> Response:
        if request.method == "PUT":
            status, body = await lambda_mappings.update_mapping(
                rt, ctx, uuid, await _json_body(request)
            )
            return _lambda_json(status, body)
        if request.method == "DELETE":
            status, body = await lambda_mappings.delete_mapping(rt, ctx, uuid)
            return _lambda_json(status, body)
        return _lambda_json(200, await lambda_mappings.get_mapping(rt, ctx, uuid))

    return await _lambda_call(request, run)


# -- Headwater's own endpoints ------------------------------------------------------------


async def health(request: Request) -> Response:
    rt: Runtime = request.app.state.runtime
    return JSONResponse(
        {
            "status": "ok",
            "version": __version__,
            "mappings": len(rt.mappings.all_regions()),
            "mappings_idle": rt.mappings.idle(),
        }
    )


async def prometheus_metrics(request: Request) -> Response:
    return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")


async def clock(request: Request) -> Response:
    rt: Runtime = request.app.state.runtime
    if request.method == "POST":
        body = await request.json()
        seconds = float(body.get("advance", 0))
        if seconds < 0:
            return JSONResponse({"error": "the clock only moves forward"}, status_code=400)
        rt.clock.advance(seconds)
    return JSONResponse({"time": rt.clock.time(), "offset": rt.clock.offset})


def create_app(runtime: Runtime) -> Json10FastPath:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime.start()
        try:
            yield
        finally:
            runtime.close()

    lam = "/2015-03-31"
    routes = [
        Route("/", dynamodb_health, methods=["GET"]),
        Route("/_headwater/health", health, methods=["GET"]),
        Route("/_headwater/metrics", prometheus_metrics, methods=["GET"]),
        Route(cloudwatch_wire.CBOR_PATH, cloudwatch_wire.serve_cbor, methods=["POST"]),
        Route("/_headwater/clock", clock, methods=["GET", "POST"]),
        Route("/_headwater/functions/{region}/{name}/code.zip", function_code_zip, methods=["GET"]),
        Route(f"{lam}/functions", functions_root, methods=["GET", "POST"]),
        Route(f"{lam}/functions/", functions_root, methods=["GET", "POST"]),
        Route(f"{lam}/functions/{{name}}", function_item, methods=["GET", "DELETE"]),
        Route(f"{lam}/functions/{{name}}/code", function_code, methods=["PUT"]),
        Route(
            f"{lam}/functions/{{name}}/configuration",
            function_configuration,
            methods=["GET", "PUT"],
        ),
        Route(f"{lam}/functions/{{name}}/invocations", function_invocations, methods=["POST"]),
        Route(f"{lam}/functions/{{name}}/versions", function_versions, methods=["GET", "POST"]),
        Route(f"{lam}/functions/{{name}}/aliases", function_aliases, methods=["GET", "POST"]),
        Route(
            f"{lam}/functions/{{name}}/aliases/{{alias}}",
            alias_item,
            methods=["GET", "PUT", "DELETE"],
        ),
        Route(
            "/2017-10-31/functions/{name}/concurrency",
            function_concurrency,
            methods=["PUT", "DELETE"],
        ),
        Route("/2019-09-30/functions/{name}/concurrency", function_concurrency, methods=["GET"]),
        Route(
            "/2019-09-25/functions/{name}/event-invoke-config",
            event_invoke_config,
            methods=["GET", "PUT", "POST", "DELETE"],
        ),
        Route(
            "/2019-09-25/functions/{name}/event-invoke-config/list",
            event_invoke_configs,
            methods=["GET"],
        ),
        Route(f"{lam}/event-source-mappings", mappings_root, methods=["GET", "POST"]),
        Route(f"{lam}/event-source-mappings/", mappings_root, methods=["GET", "POST"]),
        Route(
            f"{lam}/event-source-mappings/{{uuid}}", mapping_item, methods=["GET", "PUT", "DELETE"]
        ),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.runtime = runtime
    writer = runtime.store.writer
    metrics.COMMIT_GROUPS.read_from(lambda: writer.groups_committed)
    metrics.COMMITTED_WRITES.read_from(lambda: writer.jobs_committed)
    return Json10FastPath(app, runtime)
