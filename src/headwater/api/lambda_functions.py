"""Lambda functions (rest-json): CreateFunction, GetFunction, ListFunctions, DeleteFunction,
UpdateFunctionCode, UpdateFunctionConfiguration, GetFunctionConfiguration, Invoke.

Get/GetConfiguration/Delete/Invoke take a qualified name or ARN (``my-fn:3``, ``my-fn:live``)
or the ``Qualifier`` query parameter; versions and aliases themselves are ``lambda_versions``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from functools import partial
from typing import Any

from headwater.api.context import RequestContext
from headwater.api.shapes import ShapeValidator
from headwater.errors import (
    InvalidParameterValue,
    NotEmulated,
    RequestTooLarge,
    ResourceNotFound,
)
from headwater.functions.registry import FunctionConfig, lambda_timestamp, parse_function_name
from headwater.runtime import Runtime

SHAPES = ShapeValidator("lambda")

Body = dict[str, Any]


# An asynchronous invocation's payload limit (AWS raised it from 256 KB to 1 MB in 2025); the
# error's wording is INFERRED from the RequestResponse one.
MAX_EVENT_PAYLOAD = 1_048_576

# ListFunctions and ListVersionsByFunction answer a subset of FunctionConfiguration: no state
# fields (AWS's ListFunctions reference: "use GetFunction" for them).
NOT_LISTED = ("State", "StateReason", "StateReasonCode", "LastUpdateStatus")

UNQUALIFIED_ONLY = (
    "This operation is permitted on Lambda functions only. Aliases and versions do not support "
    "this operation. Please specify either a function name or an unqualified function ARN."
)


def function_configuration(config: FunctionConfig, arn: str | None = None) -> Body:
    """FunctionConfiguration of $LATEST or a version; ``arn`` is the FunctionArn to show when the
    caller addressed it another way (an alias, or ``:$LATEST``)."""
    out: Body = {
        "FunctionName": config.name,
        "FunctionArn": arn or config.version_arn,
        "Runtime": config.runtime,
        "Role": config.role,
        "Handler": config.handler,
        "CodeSize": config.code_size,
        "Description": config.description,
        "Timeout": config.timeout,
        "MemorySize": config.memory_size,
        "LastModified": lambda_timestamp(config.last_modified),
        "CodeSha256": config.code_sha256,
        "Version": config.version,
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": config.revision_id,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": list(config.architectures),
        "EphemeralStorage": {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{config.name}"},
    }
    if config.environment:
        out["Environment"] = {"Variables": dict(config.environment)}
    return out


def listed_configuration(config: FunctionConfig, arn: str | None = None) -> Body:
    """A FunctionConfiguration as the list operations show it."""
    out = function_configuration(config, arn)
    return {k: v for k, v in out.items() if k not in NOT_LISTED}


def _zip_bytes(code: Any) -> bytes:
    if not isinstance(code, dict) or "ZipFile" not in code:
        if isinstance(code, dict) and ("S3Bucket" in code or "ImageUri" in code):
            raise NotEmulated("Headwater takes function code as Code.ZipFile only (no S3 or image)")
        raise InvalidParameterValue("Please provide a source for function code.")
    try:
        return base64.b64decode(code["ZipFile"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise InvalidParameterValue(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from None


def _check_runtime(runtime: Any) -> str:
    if not isinstance(runtime, str) or not runtime.startswith("python3"):
        raise InvalidParameterValue(
            f"The runtime parameter of {runtime} is not supported by Headwater, which runs Python "
            "functions only (python3.x)."
        )
    return runtime


def _check_handler(handler: Any) -> str:
    if not isinstance(handler, str) or "." not in handler:
        raise InvalidParameterValue(
            f"Handler '{handler}' is not valid: use the form module.function, e.g. app.handler"
        )
    return handler


def _environment(body: Body) -> dict[str, str] | None:
    env = body.get("Environment")
    if env is None:
        return None
    variables = env.get("Variables") or {}
    for key in variables:
        if key.startswith("AWS_") and key not in ("AWS_ENDPOINT_URL",):
            raise InvalidParameterValue(
                "Lambda was unable to configure your environment variables because the "
                f"environment variables you have provided contains reserved keys that are "
                f"currently not supported for modification. Reserved keys used in this request: "
                f"{key}"
            )
    return {str(k): str(v) for k, v in variables.items()}


async def create_function(rt: Runtime, ctx: RequestContext, body: Body) -> tuple[int, Body]:
    SHAPES.validate("CreateFunction", body)
    if body.get("PackageType", "Zip") != "Zip":
        raise NotEmulated("Headwater runs Zip-packaged functions only")
    zip_bytes = _zip_bytes(body.get("Code"))
    config = FunctionConfig(
        name=body["FunctionName"],
        region=ctx.region,
        account=rt.settings.account_id,
        runtime=_check_runtime(body.get("Runtime")),
        handler=_check_handler(body.get("Handler")),
        role=body["Role"],
        code_sha256="",
        code_size=0,
        timeout=int(body.get("Timeout") or 3),
        memory_size=int(body.get("MemorySize") or 128),
        environment=_environment(body) or {},
        description=body.get("Description") or "",
        architectures=list(body.get("Architectures") or ["x86_64"]),
    )
    if "arn:" in config.name or ":" in config.name:
        raise InvalidParameterValue("Headwater expects a plain function name in CreateFunction")
    created = await asyncio.to_thread(rt.functions.create, config, zip_bytes)
    if body.get("Publish"):
        version = await asyncio.to_thread(rt.functions.publish_version, ctx.region, created.name)
        return 201, function_configuration(version, created.arn)
    return 201, function_configuration(created)


def _addressed(operation: str, name: str, qualifier: str | None) -> Body:
    params: Body = {"FunctionName": name}
    if qualifier is not None:
        params["Qualifier"] = qualifier
    SHAPES.validate(operation, params)
    return params


def code_location(rt: Runtime, config: FunctionConfig) -> str:
    # A version's zip is addressed as ``name:N`` (the route resolves it like any qualified name).
    name = config.name if config.is_latest else f"{config.name}:{config.version}"
    return f"{rt.settings.public_url}/_headwater/functions/{config.region}/{name}/code.zip"


async def get_function(
    rt: Runtime, ctx: RequestContext, name: str, qualifier: str | None = None
) -> Body:
    _addressed("GetFunction", name, qualifier)
    target = rt.functions.resolve(ctx.region, name, qualifier)
    out: Body = {
        "Configuration": function_configuration(target.config, target.arn),
        "Code": {"RepositoryType": "S3", "Location": code_location(rt, target.config)},
    }
    reserved = rt.functions.function(ctx.region, name).reserved_concurrency
    if reserved is not None:
        out["Concurrency"] = {"ReservedConcurrentExecutions": reserved}
    return out


def _unqualified(rt: Runtime, ctx: RequestContext, name: str) -> FunctionConfig:
    """Concurrency belongs to the function: a version or alias is refused, as on Lambda."""
    if parse_function_name(name)[2] is not None:
        raise InvalidParameterValue(UNQUALIFIED_ONLY)
    return rt.functions.get(ctx.region, name)


async def put_function_concurrency(rt: Runtime, ctx: RequestContext, name: str, body: Body) -> Body:
    SHAPES.validate("PutFunctionConcurrency", {**body, "FunctionName": name})
    reserved = int(body["ReservedConcurrentExecutions"])
    config = _unqualified(rt, ctx, name)
    await asyncio.to_thread(rt.functions.set_concurrency, ctx.region, config.name, reserved)
    return {"ReservedConcurrentExecutions": reserved}


async def get_function_concurrency(rt: Runtime, ctx: RequestContext, name: str) -> Body:
    config = _unqualified(rt, ctx, name)
    if config.reserved_concurrency is None:
        return {}
    return {"ReservedConcurrentExecutions": config.reserved_concurrency}


async def delete_function_concurrency(rt: Runtime, ctx: RequestContext, name: str) -> None:
    config = _unqualified(rt, ctx, name)
    await asyncio.to_thread(rt.functions.set_concurrency, ctx.region, config.name, None)


async def get_function_configuration(
    rt: Runtime, ctx: RequestContext, name: str, qualifier: str | None = None
) -> Body:
    _addressed("GetFunctionConfiguration", name, qualifier)
    target = rt.functions.resolve(ctx.region, name, qualifier)
    return function_configuration(target.config, target.arn)


async def list_functions(rt: Runtime, ctx: RequestContext, query: dict[str, str]) -> Body:
    SHAPES.validate(
        "ListFunctions",
        {m: query[m] for m in ("FunctionVersion", "Marker", "MaxItems") if m in query},
    )
    listed = _listed_functions(rt, ctx, every_version=query.get("FunctionVersion") == "ALL")
    marker = query.get("Marker")
    if marker:
        keys = [key for key, _config, _arn in listed]
        if marker in keys:
            listed = listed[keys.index(marker) + 1 :]
        else:  # not one of ours (the function went meanwhile): the names after it
            listed = [entry for entry in listed if entry[1].name > marker]
    try:
        limit = min(50, int(query.get("MaxItems") or 50))
    except ValueError:
        raise InvalidParameterValue("MaxItems must be a number") from None
    page = listed[:limit]
    out: Body = {"Functions": [listed_configuration(config, arn) for _k, config, arn in page]}
    if len(listed) > limit:
        out["NextMarker"] = page[-1][0]
    return out


def _listed_functions(
    rt: Runtime, ctx: RequestContext, *, every_version: bool
) -> list[tuple[str, FunctionConfig, str]]:
    """(marker key, configuration, FunctionArn) of each entry ListFunctions lists: each
    function's $LATEST under its unqualified ARN; with FunctionVersion=ALL, $LATEST under
    ``:$LATEST`` followed by every published version under ``:N``, as Lambda lists them."""
    if not every_version:
        return [(f.name, f, f.arn) for f in rt.functions.list(ctx.region)]
    entries = []
    for function in rt.functions.list(ctx.region):
        try:
            versions = rt.functions.versions(ctx.region, function.arn)
        except ResourceNotFound:  # deleted since it was listed
            continue
        for config in versions:
            key = f"{config.name}:{config.version}"
            entries.append((key, config, f"{config.arn}:{config.version}"))
    return entries


async def delete_function(
    rt: Runtime, ctx: RequestContext, name: str, qualifier: str | None = None
) -> None:
    """The whole function with every version and alias, or (with a qualifier) one version."""
    _addressed("DeleteFunction", name, qualifier)
    await asyncio.to_thread(rt.functions.delete, ctx.region, name, qualifier)


async def update_function_code(rt: Runtime, ctx: RequestContext, name: str, body: Body) -> Body:
    if body.get("ZipFile") is None:
        raise NotEmulated("Headwater takes function code as ZipFile only (no S3 or image)")
    zip_bytes = _zip_bytes({"ZipFile": body["ZipFile"]})
    config = rt.functions.function(ctx.region, name)
    updated = await asyncio.to_thread(
        rt.functions.update_code, ctx.region, config.name, zip_bytes, body.get("RevisionId")
    )
    if body.get("Publish"):
        version = await asyncio.to_thread(rt.functions.publish_version, ctx.region, config.name)
        return function_configuration(version)
    return function_configuration(updated)


async def update_function_configuration(
    rt: Runtime, ctx: RequestContext, name: str, body: Body
) -> Body:
    body = {**body, "FunctionName": name}
    SHAPES.validate("UpdateFunctionConfiguration", body)
    config = rt.functions.function(ctx.region, name)
    changes: Body = {}
    if "Runtime" in body:
        changes["runtime"] = _check_runtime(body["Runtime"])
    if "Handler" in body:
        changes["handler"] = _check_handler(body["Handler"])
    for member, attr in (
        ("Timeout", "timeout"),
        ("MemorySize", "memory_size"),
        ("Description", "description"),
        ("Role", "role"),
    ):
        if member in body:
            changes[attr] = body[member]
    env = _environment(body)
    if env is not None:
        changes["environment"] = env
    updated = await asyncio.to_thread(
        rt.functions.update_configuration, ctx.region, config.name, changes, body.get("RevisionId")
    )
    return function_configuration(updated)


async def invoke(
    rt: Runtime,
    ctx: RequestContext,
    name: str,
    payload: bytes,
    headers: dict[str, str],
    qualifier: str | None = None,
) -> tuple[int, bytes, dict[str, str]]:
    _addressed("Invoke", name, qualifier)
    target = rt.functions.resolve(ctx.region, name, qualifier)
    invocation_type = headers.get("x-amz-invocation-type", "RequestResponse")
    if invocation_type not in ("RequestResponse", "Event", "DryRun"):
        raise InvalidParameterValue(f"Unsupported InvocationType: {invocation_type}")
    if invocation_type == "DryRun":
        return 204, b"", {}
    if invocation_type == "Event":
        if len(payload) > MAX_EVENT_PAYLOAD:
            raise RequestTooLarge(
                f"Request must be smaller than {MAX_EVENT_PAYLOAD} bytes for the InvokeFunction "
                "operation"
            )
        request_id = rt.async_invoker.submit(target.arn, payload)
        return 202, b"", {"x-amzn-RequestId": request_id}
    # An alias with a routing configuration picks its version per invocation.
    config = rt.functions.choose(target)
    run = partial(rt.functions.invoke, config, invoked_arn=target.arn)
    result = await asyncio.to_thread(run, payload or b"{}")
    out_headers = {"X-Amz-Executed-Version": config.version}
    if result.function_error:
        out_headers["X-Amz-Function-Error"] = result.function_error
    if headers.get("x-amz-log-type") == "Tail":
        tail = result.log_tail.encode()[-4096:]
        out_headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
    return 200, result.payload, out_headers
