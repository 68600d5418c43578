"""Lambda versions and aliases (rest-json): PublishVersion, ListVersionsByFunction, CreateAlias,
GetAlias, UpdateAlias, DeleteAlias, ListAliases."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from headwater.api.context import RequestContext
from headwater.api.lambda_functions import function_configuration, listed_configuration
from headwater.api.shapes import ShapeValidator
from headwater.functions.aliases import AliasConfig
from headwater.runtime import Runtime

SHAPES = ShapeValidator("lambda")

Body = dict[str, Any]

# Lambda returns at most 50 versions (and aliases) per page, whatever MaxItems says.
PAGE = 50


def alias_configuration(alias: AliasConfig, function_arn: str) -> Body:
    out: Body = {
        "AliasArn": f"{function_arn}:{alias.name}",
        "Name": alias.name,
        "FunctionVersion": alias.function_version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    }
    if alias.routing:
        out["RoutingConfig"] = {"AdditionalVersionWeights": dict(alias.routing)}
    return out


def _query(name: str, query: dict[str, str], *members: str) -> Body:
    params: Body = {"FunctionName": name}
    params.update({m: query[m] for m in members if m in query})
    return params


def _paged(items: list[Any], key: Any, query: dict[str, str]) -> tuple[list[Any], str | None]:
    """The page after ``Marker`` (the key of the previous page's last item) and the next
    marker, if there is more."""
    keys = [key(item) for item in items]
    marker = query.get("Marker")
    if marker:
        items = items[keys.index(marker) + 1 :] if marker in keys else []
    limit = min(PAGE, int(query.get("MaxItems") or PAGE))
    page = items[:limit]
    return page, (key(page[-1]) if len(items) > limit else None)


# -- versions -------------------------------------------------------------------------------


async def publish_version(
    rt: Runtime, ctx: RequestContext, name: str, body: Body
) -> tuple[int, Body]:
    SHAPES.validate("PublishVersion", {**body, "FunctionName": name})
    version = await asyncio.to_thread(
        partial(
            rt.functions.publish_version,
            ctx.region,
            name,
            code_sha256=body.get("CodeSha256"),
            revision_id=body.get("RevisionId"),
            description=body.get("Description"),
        )
    )
    return 201, function_configuration(version)


async def list_versions(rt: Runtime, ctx: RequestContext, name: str, query: dict[str, str]) -> Body:
    SHAPES.validate("ListVersionsByFunction", _query(name, query, "Marker", "MaxItems"))
    versions, marker = _paged(rt.functions.versions(ctx.region, name), lambda v: v.version, query)
    listed = [listed_configuration(v, f"{v.arn}:{v.version}") for v in versions]
    body: Body = {"Versions": listed}
    if marker is not None:
        body["NextMarker"] = marker
    return body


# -- aliases --------------------------------------------------------------------------------


def _as_doubles(body: Body) -> Body:
    """Weights are Java doubles on Lambda: an integral JSON number is read (and shown in
    validation messages) as ``2.0``."""
    routing = body.get("RoutingConfig")
    if not isinstance(routing, dict):
        return body
    weights = routing.get("AdditionalVersionWeights")
    if not isinstance(weights, dict):
        return body
    doubles = {
        k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v
        for k, v in weights.items()
    }
    return {**body, "RoutingConfig": {**routing, "AdditionalVersionWeights": doubles}}


def _routing(body: Body) -> dict[str, float] | None:
    """The new AdditionalVersionWeights, or None when the request does not touch them."""
    if "RoutingConfig" not in body:
        return None
    weights = (body.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return {str(k): float(v) for k, v in weights.items()}


async def create_alias(rt: Runtime, ctx: RequestContext, name: str, body: Body) -> tuple[int, Body]:
    body = _as_doubles(body)
    SHAPES.validate("CreateAlias", {**body, "FunctionName": name})
    alias = await asyncio.to_thread(
        rt.functions.create_alias,
        ctx.region,
        name,
        body["Name"],
        body["FunctionVersion"],
        body.get("Description") or "",
        _routing(body),
    )
    return 201, alias_configuration(alias, rt.functions.function(ctx.region, name).arn)


async def get_alias(rt: Runtime, ctx: RequestContext, name: str, alias: str) -> Body:
    SHAPES.validate("GetAlias", {"FunctionName": name, "Name": alias})
    found = rt.functions.get_alias(ctx.region, name, alias)
    return alias_configuration(found, rt.functions.function(ctx.region, name).arn)


async def update_alias(rt: Runtime, ctx: RequestContext, name: str, alias: str, body: Body) -> Body:
    body = _as_doubles(body)
    SHAPES.validate("UpdateAlias", {**body, "FunctionName": name, "Name": alias})
    updated = await asyncio.to_thread(
        partial(
            rt.functions.update_alias,
            ctx.region,
            name,
            alias,
            function_version=body.get("FunctionVersion"),
            description=body.get("Description"),
            routing=_routing(body),
            revision_id=body.get("RevisionId"),
        )
    )
    return alias_configuration(updated, rt.functions.function(ctx.region, name).arn)


async def delete_alias(rt: Runtime, ctx: RequestContext, name: str, alias: str) -> None:
    SHAPES.validate("DeleteAlias", {"FunctionName": name, "Name": alias})
    await asyncio.to_thread(rt.functions.delete_alias, ctx.region, name, alias)


async def list_aliases(rt: Runtime, ctx: RequestContext, name: str, query: dict[str, str]) -> Body:
    SHAPES.validate("ListAliases", _query(name, query, "FunctionVersion", "Marker", "MaxItems"))
    function = rt.functions.function(ctx.region, name)
    found = rt.functions.aliases.all(function.region, function.name)
    wanted = query.get("FunctionVersion")
    if wanted:
        found = [a for a in found if a.function_version == wanted]
    aliases, marker = _paged(found, lambda a: a.name, query)
    body: Body = {"Aliases": [alias_configuration(a, function.arn) for a in aliases]}
    if marker is not None:
        body["NextMarker"] = marker
    return body
