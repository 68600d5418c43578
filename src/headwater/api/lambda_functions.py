"""Lambda functions (rest-json): CreateFunction, GetFunction, ListFunctions, DeleteFunction,
UpdateFunctionCode, UpdateFunctionConfiguration, GetFunctionConfiguration, Invoke."""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

from headwater.api.context import RequestContext
from headwater.api.shapes import ShapeValidator
from headwater.errors import InvalidParameterValue, NotEmulated
from headwater.functions.registry import FunctionConfig, lambda_timestamp
from headwater.runtime import Runtime

SHAPES = ShapeValidator("lambda")

Body = dict[str, Any]


def function_configuration(config: FunctionConfig) -> Body:
    out: Body = {
        "FunctionName": config.name,
        "FunctionArn": config.arn,
        "Runtime": config.runtime,
        "Role": config.role,
        "Handler": config.handler,
        "CodeSize": config.code_size,
        "Description": config.description,
        "Timeout": config.timeout,
        "MemorySize": config.memory_size,
        "LastModified": lambda_timestamp(config.last_modified),
        "CodeSha256": config.code_sha256,
        "Version": "$LATEST",
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
    return 201, function_configuration(created)


async def get_function(rt: Runtime, ctx: RequestContext, name: str) -> Body:
    config = rt.functions.get(ctx.region, name)
    out: Body = {
        "Configuration": function_configuration(config),
        "Code": {
            "RepositoryType": "S3",
            "Location": f"{rt.settings.public_url}/_headwater/functions/{config.region}/"
            f"{config.name}/code.zip",
        },
    }
    if config.reserved_concurrency is not None:
        out["Concurrency"] = {"ReservedConcurrentExecutions": config.reserved_concurrency}
    return out


async def put_function_concurrency(rt: Runtime, ctx: RequestContext, name: str, body: Body) -> Body:
    SHAPES.validate("PutFunctionConcurrency", {**body, "FunctionName": name})
    reserved = int(body["ReservedConcurrentExecutions"])
    config = rt.functions.get(ctx.region, name)
    await asyncio.to_thread(rt.functions.set_concurrency, ctx.region, config.name, reserved)
    return {"ReservedConcurrentExecutions": reserved}


async def get_function_concurrency(rt: Runtime, ctx: RequestContext, name: str) -> Body:
    config = rt.functions.get(ctx.region, name)
    if config.reserved_concurrency is None:
        return {}
    return {"ReservedConcurrentExecutions": config.reserved_concurrency}


async def delete_function_concurrency(rt: Runtime, ctx: RequestContext, name: str) -> None:
    config = rt.functions.get(ctx.region, name)
    await asyncio.to_thread(rt.functions.set_concurrency, ctx.region, config.name, None)


async def get_function_configuration(rt: Runtime, ctx: RequestContext, name: str) -> Body:
    return function_configuration(rt.functions.get(ctx.region, name))


async def list_functions(rt: Runtime, ctx: RequestContext, query: dict[str, str]) -> Body:
    functions = rt.functions.list(ctx.region)
    marker = query.get("Marker")
    if marker:
        functions = [f for f in functions if f.name > marker]
    try:
        limit = min(50, int(query.get("MaxItems") or 50))
    except ValueError:
        raise InvalidParameterValue("MaxItems must be a number") from None
    out: Body = {"Functions": [function_configuration(f) for f in functions[:limit]]}
    if len(functions) > limit:
        out["NextMarker"] = functions[limit - 1].name
    return out


async def delete_function(rt: Runtime, ctx: RequestContext, name: str) -> None:
    await asyncio.to_thread(rt.functions.delete, ctx.region, name)


async def update_function_code(rt: Runtime, ctx: RequestContext, name: str, body: Body) -> Body:
    if body.get("ZipFile") is None:
        raise NotEmulated("Headwater takes function code as ZipFile only (no S3 or image)")
    zip_bytes = _zip_bytes({"ZipFile": body["ZipFile"]})
    config = rt.functions.get(ctx.region, name)
    updated = await asyncio.to_thread(rt.functions.update_code, ctx.region, config.name, zip_bytes)
    return function_configuration(updated)


async def update_function_configuration(
    rt: Runtime, ctx: RequestContext, name: str, body: Body
) -> Body:
    body = {**body, "FunctionName": name}
    SHAPES.validate("UpdateFunctionConfiguration", body)
    config = rt.functions.get(ctx.region, name)
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
        rt.functions.update_configuration, ctx.region, config.name, changes
    )
    return function_configuration(updated)


async def invoke(
    rt: Runtime, ctx: RequestContext, name: str, payload: bytes, headers: dict[str, str]
) -> tuple[int, bytes, dict[str, str]]:
    config = rt.functions.get(ctx.region, name)
    invocation_type = headers.get("x-amz-invocation-type", "RequestResponse")
    if invocation_type not in ("RequestResponse", "Event", "DryRun"):
        raise InvalidParameterValue(f"Unsupported InvocationType: {invocation_type}")
    if invocation_type == "DryRun":
        return 204, b"", {}
    if invocation_type == "Event":
        asyncio.get_running_loop().run_in_executor(None, rt.functions.invoke, config, payload)
        return 202, b"", {}
    result = await asyncio.to_thread(rt.functions.invoke, config, payload or b"{}")
    out_headers = {"X-Amz-Executed-Version": "$LATEST"}
    if result.function_error:
        out_headers["X-Amz-Function-Error"] = result.function_error
    if headers.get("x-amz-log-type") == "Tail":
        tail = result.log_tail.encode()[-4096:]
        out_headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
    return 200, result.payload, out_headers
