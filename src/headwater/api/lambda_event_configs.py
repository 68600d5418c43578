"""Asynchronous invocation settings (rest-json, under
``/2019-09-25/functions/{name}/event-invoke-config``): PutFunctionEventInvokeConfig,
UpdateFunctionEventInvokeConfig, GetFunctionEventInvokeConfig, DeleteFunctionEventInvokeConfig
and ListFunctionEventInvokeConfigs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

from headwater.api.context import RequestContext
from headwater.api.shapes import ShapeValidator
from headwater.functions.event_configs import EventInvokeConfig, SettingsChange
from headwater.runtime import Runtime

SHAPES = ShapeValidator("lambda")

Body = dict[str, Any]

PAGE = 50


def event_invoke_config(config: EventInvokeConfig, function_arn: str) -> Body:
    """FunctionEventInvokeConfig: settings never set are left out; DestinationConfig always has
    both members (empty when that destination is not set), as Lambda answers."""
    out: Body = {"LastModified": config.last_modified, "FunctionArn": function_arn}
    if config.maximum_retry_attempts is not None:
        out["MaximumRetryAttempts"] = config.maximum_retry_attempts
    if config.maximum_event_age is not None:
        out["MaximumEventAgeInSeconds"] = config.maximum_event_age
    success = {"Destination": config.on_success} if config.on_success else {}
    failure = {"Destination": config.on_failure} if config.on_failure else {}
    out["DestinationConfig"] = {"OnSuccess": success, "OnFailure": failure}
    return out


def _params(name: str, query: dict[str, str], body: Body | None = None) -> Body:
    params: Body = {"FunctionName": name, **(body or {})}
    if "Qualifier" in query:
        params["Qualifier"] = query["Qualifier"]
    return params


def _change(body: Body) -> SettingsChange:
    destinations = None
    if body.get("DestinationConfig") is not None:
        config = body["DestinationConfig"]
        destinations = (
            (config.get("OnSuccess") or {}).get("Destination") or None,
            (config.get("OnFailure") or {}).get("Destination") or None,
        )
    return SettingsChange(
        maximum_retry_attempts=body.get("MaximumRetryAttempts"),
        maximum_event_age=body.get("MaximumEventAgeInSeconds"),
        destinations=destinations,
    )


def _answer(rt: Runtime, ctx: RequestContext, name: str, config: EventInvokeConfig) -> Body:
    function = rt.functions.function(ctx.region, name)
    arn = rt.functions.event_settings.arn(function.region, function.name, config.qualifier)
    return event_invoke_config(config, arn)


async def _store(
    rt: Runtime,
    ctx: RequestContext,
    name: str,
    query: dict[str, str],
    body: Body,
    operation: str,
    write: Callable[..., EventInvokeConfig],
) -> Body:
    """Put (replace every setting) or Update (change what the body names)."""
    params = _params(name, query, body)
    SHAPES.validate(operation, params)
    config = await asyncio.to_thread(
        partial(write, ctx.region, name, params.get("Qualifier"), _change(body))
    )
    return _answer(rt, ctx, name, config)


async def put_config(
    rt: Runtime, ctx: RequestContext, name: str, query: dict[str, str], body: Body
) -> Body:
    put = rt.functions.event_settings.put
    return await _store(rt, ctx, name, query, body, "PutFunctionEventInvokeConfig", put)


async def update_config(
    rt: Runtime, ctx: RequestContext, name: str, query: dict[str, str], body: Body
) -> Body:
    update = rt.functions.event_settings.update
    return await _store(rt, ctx, name, query, body, "UpdateFunctionEventInvokeConfig", update)


async def get_config(rt: Runtime, ctx: RequestContext, name: str, query: dict[str, str]) -> Body:
    params = _params(name, query)
    SHAPES.validate("GetFunctionEventInvokeConfig", params)
    config = rt.functions.event_settings.get(ctx.region, name, params.get("Qualifier"))
    return _answer(rt, ctx, name, config)


async def delete_config(rt: Runtime, ctx: RequestContext, name: str, query: dict[str, str]) -> None:
    params = _params(name, query)
    SHAPES.validate("DeleteFunctionEventInvokeConfig", params)
    settings = rt.functions.event_settings
    await asyncio.to_thread(settings.delete, ctx.region, name, params.get("Qualifier"))


async def list_configs(rt: Runtime, ctx: RequestContext, name: str, query: dict[str, str]) -> Body:
    params: Body = {"FunctionName": name}
    params.update({m: query[m] for m in ("Marker", "MaxItems") if m in query})
    SHAPES.validate("ListFunctionEventInvokeConfigs", params)
    settings = rt.functions.event_settings
    region, function, configs = settings.list(ctx.region, name)
    keys = [c.qualifier for c in configs]
    marker = query.get("Marker")
    if marker:
        configs = configs[keys.index(marker) + 1 :] if marker in keys else []
    limit = min(PAGE, int(query.get("MaxItems") or PAGE))
    page = configs[:limit]
    out: Body = {
        "FunctionEventInvokeConfigs": [
            event_invoke_config(c, settings.arn(region, function, c.qualifier)) for c in page
        ]
    }
    if len(configs) > limit:
        out["NextMarker"] = page[-1].qualifier
    return out
