"""Lambda event source mappings (rest-json): Create/Get/List/Update/DeleteEventSourceMapping,
with the validation errors AWS gives for DynamoDB stream sources (spec §5.5)."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

from headwater.api.context import RequestContext
from headwater.api.shapes import ShapeValidator
from headwater.errors import (
    InvalidParameterValue,
    ResourceConflict,
    ResourceInUse,
    ResourceNotFound,
)
from headwater.functions.registry import parse_function_name
from headwater.mapping.config import MappingConfig
from headwater.mapping.filtering import compile_filters
from headwater.runtime import Runtime

SHAPES = ShapeValidator("lambda")

Body = dict[str, Any]

_DESTINATION = re.compile(
    r"^(arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}"
    r"|arn:aws:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}"
    r"|arn:aws:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$"
)
_STREAM_ARN = re.compile(r"^arn:aws:dynamodb:[a-z0-9-]+:\d{12}:table/[^/]+/stream/.+$")

# Parameters this slice stores and echoes but whose runtime behaviour is a later issue's work.
_ACCEPTED = {
    "MaximumBatchingWindowInSeconds": "maximum_batching_window",
    "ParallelizationFactor": "parallelization_factor",
    "BisectBatchOnFunctionError": "bisect_on_error",
    "MaximumRetryAttempts": "maximum_retry_attempts",
    "MaximumRecordAgeInSeconds": "maximum_record_age",
    "TumblingWindowInSeconds": "tumbling_window",
    "FunctionResponseTypes": "function_response_types",
}


# Members that configure other kinds of source (the model's docs name SQS, MQ, Kafka, MSK or
# DocumentDB for each). AWS refuses a parameter its mapping type does not take with
# InvalidParameterValueException "Unsupported 'maximumBatchingWindowInSeconds' parameter for
# given event source mapping type." (seen for an MSK mapping); that these are refused for a
# DynamoDB stream with the same wording is INFERRED.
_NOT_FOR_STREAMS = (
    "ScalingConfig",
    "Queues",
    "Topics",
    "SourceAccessConfigurations",
    "SelfManagedEventSource",
    "SelfManagedKafkaEventSourceConfig",
    "AmazonManagedKafkaEventSourceConfig",
    "DocumentDBEventSourceConfig",
    "ProvisionedPollerConfig",
    "LoggingConfig",
)


def _refuse_other_sources_parameters(body: Body) -> None:
    for member in _NOT_FOR_STREAMS:
        if body.get(member):  # an empty list or object configures nothing (INFERRED: accepted)
            raise InvalidParameterValue(
                f"Unsupported '{member[0].lower()}{member[1:]}' parameter for given event "
                "source mapping type."
            )


def mapping_configuration(m: MappingConfig) -> Body:
    out: Body = {
        "UUID": m.uuid,
        "StartingPosition": m.starting_position,
        "BatchSize": m.batch_size,
        "MaximumBatchingWindowInSeconds": m.maximum_batching_window,
        "ParallelizationFactor": m.parallelization_factor,
        "EventSourceArn": m.event_source_arn,
        "FunctionArn": m.function_arn,
        "LastModified": m.last_modified,
        "LastProcessingResult": m.last_processing_result,
        "State": m.state,
        "StateTransitionReason": m.state_reason,
        "DestinationConfig": {
            "OnFailure": (
                {"Destination": m.on_failure_destination} if m.on_failure_destination else {}
            )
        },
        "MaximumRecordAgeInSeconds": m.maximum_record_age,
        "BisectBatchOnFunctionError": m.bisect_on_error,
        "MaximumRetryAttempts": m.maximum_retry_attempts,
        "TumblingWindowInSeconds": m.tumbling_window,
        "FunctionResponseTypes": list(m.function_response_types),
        "EventSourceMappingArn": m.arn,
    }
    if m.filter_criteria is not None:
        out["FilterCriteria"] = m.filter_criteria
    if m.metrics:  # INFERRED: left out until set, as for FilterCriteria
        out["MetricsConfig"] = {"Metrics": list(m.metrics)}
    return out


def _function_arn(rt: Runtime, ctx: RequestContext, name: str) -> str:
    """The mapping's FunctionArn: the function's ARN with the version or alias the name carries
    (Lambda echoes the qualified ARN, and each batch resolves it again, so a mapping on an alias
    follows UpdateAlias). A missing function, version or alias is refused as Lambda refuses a
    missing function."""
    try:
        return rt.functions.resolve(ctx.region, name).arn
    except (ResourceNotFound, InvalidParameterValue):
        raise InvalidParameterValue("Function does not exist") from None


def _common_changes(body: Body) -> Body:
    _refuse_other_sources_parameters(body)
    changes: Body = {}
    if "BatchSize" in body:
        changes["batch_size"] = int(body["BatchSize"])
    if "Enabled" in body:
        changes["enabled"] = bool(body["Enabled"])
    for member, attr in _ACCEPTED.items():
        if member in body:
            changes[attr] = body[member]
    age = body.get("MaximumRecordAgeInSeconds")
    if age is not None and 0 <= age < 60:
        raise InvalidParameterValue(
            "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 "
            "(inclusive)"
        )
    dest = body.get("DestinationConfig")
    if dest is not None:
        if dest.get("OnSuccess"):
            raise InvalidParameterValue(
                "Unsupported DestinationConfig parameter for given event source mapping type."
            )
        target = (dest.get("OnFailure") or {}).get("Destination")
        if target and not _DESTINATION.match(target):
            raise InvalidParameterValue(
                f"The destination ARN {target} is not supported: use an SQS queue, SNS topic or "
                "S3 bucket ARN (FIFO queues and topics are not supported)"
            )
        changes["on_failure_destination"] = target or None
    if "FilterCriteria" in body:
        criteria = body["FilterCriteria"]
        compile_filters(criteria)  # InvalidParameterValue for a bad pattern, as AWS answers
        changes["filter_criteria"] = criteria if criteria and criteria.get("Filters") else None
    if "MetricsConfig" in body:  # {"Metrics": ["EventCount"]}: CloudWatch event counts
        changes["metrics"] = list((body["MetricsConfig"] or {}).get("Metrics") or [])
    return changes


def _refuse_duplicate(
    rt: Runtime, ctx: RequestContext, source: str, function_arn: str, named: str, own: str = ""
) -> None:
    """One mapping per (stream, function): a second one, made or reached by an update that
    moves a mapping to another function, is a conflict (the update's wording is INFERRED)."""
    for existing in rt.mappings.all(ctx.region):
        if (
            existing.uuid != own
            and existing.event_source_arn == source
            and existing.function_arn == function_arn
        ):
            raise ResourceConflict(
                f'The event source arn (" {source} ") and function (" {named} ") provided '
                "mapping already exists. Please update or delete the existing mapping with UUID "
                f"{existing.uuid}"
            )


async def create_mapping(rt: Runtime, ctx: RequestContext, body: Body) -> tuple[int, Body]:
    source = body.get("EventSourceArn")
    if not source:
        raise InvalidParameterValue("Unrecognized event source.")
    if body.get("StartingPosition") is None:
        raise InvalidParameterValue(
            "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
            "constraint: Member must not be null."
        )
    SHAPES.validate("CreateEventSourceMapping", body)
    if not _STREAM_ARN.match(source):
        raise InvalidParameterValue(
            f"Headwater maps DynamoDB stream sources only; unsupported event source: {source}"
        )
    position = body["StartingPosition"]
    if position == "AT_TIMESTAMP":
        raise InvalidParameterValue(f"Unsupported starting position for arn type: {source}")
    if body.get("StartingPositionTimestamp") is not None:
        raise InvalidParameterValue("Timestamp only valid with StartingPosition AT_TIMESTAMP")
    if rt.streams.stream(source) is None:
        raise InvalidParameterValue(f"Stream not found: {source}")
    function_arn = _function_arn(rt, ctx, body["FunctionName"])
    changes = _common_changes(body)
    _refuse_duplicate(rt, ctx, source, function_arn, body["FunctionName"])
    mapping = MappingConfig(
        uuid=str(uuid.uuid4()),
        region=ctx.region,
        account=rt.settings.account_id,
        function_arn=function_arn,
        event_source_arn=source,
        starting_position=position,
        **changes,
    )
    created = await asyncio.to_thread(rt.mappings.create, mapping)
    return 202, mapping_configuration(created)


async def get_mapping(rt: Runtime, ctx: RequestContext, uuid_: str) -> Body:
    return mapping_configuration(rt.mappings.get(uuid_))


async def list_mappings(rt: Runtime, ctx: RequestContext, query: dict[str, str]) -> Body:
    members = ("EventSourceArn", "FunctionName", "Marker", "MaxItems")
    SHAPES.validate("ListEventSourceMappings", {m: query[m] for m in members if m in query})
    found = rt.mappings.all(ctx.region)
    source = query.get("EventSourceArn")
    if source:
        found = [m for m in found if m.event_source_arn == source]
    name = query.get("FunctionName")
    if name:
        _region, fname, qualifier = parse_function_name(name)
        found = [
            m
            for m in found
            if parse_function_name(m.function_arn)[1] == fname
            and (qualifier is None or parse_function_name(m.function_arn)[2] == qualifier)
        ]
    marker = query.get("Marker")
    if marker:
        uuids = [m.uuid for m in found]
        found = found[uuids.index(marker) + 1 :] if marker in uuids else []
    try:
        limit = min(100, int(query.get("MaxItems") or 100))
    except ValueError:
        raise InvalidParameterValue("MaxItems must be a number") from None
    out: Body = {"EventSourceMappings": [mapping_configuration(m) for m in found[:limit]]}
    if len(found) > limit:
        out["NextMarker"] = found[limit - 1].uuid
    return out


async def update_mapping(
    rt: Runtime, ctx: RequestContext, uuid_: str, body: Body
) -> tuple[int, Body]:
    SHAPES.validate("UpdateEventSourceMapping", {**body, "UUID": uuid_})
    current = rt.mappings.get(uuid_)
    if rt.mappings.in_transition(uuid_):
        raise ResourceInUse(
            f"Cannot update the event source mapping because it is in use. State: {current.state}"
        )
    changes = _common_changes(body)
    if body.get("FunctionName"):
        changes["function_arn"] = _function_arn(rt, ctx, body["FunctionName"])
        _refuse_duplicate(
            rt, ctx, current.event_source_arn, changes["function_arn"], body["FunctionName"], uuid_
        )
    updated = await asyncio.to_thread(rt.mappings.update, uuid_, changes)
    return 202, mapping_configuration(updated)


async def delete_mapping(rt: Runtime, ctx: RequestContext, uuid_: str) -> tuple[int, Body]:
    rt.mappings.get(uuid_)
    if rt.mappings.in_transition(uuid_):
        raise ResourceInUse("Cannot delete the event source mapping because it is in use.")
    deleted = await asyncio.to_thread(rt.mappings.delete, uuid_)
    return 202, mapping_configuration(deleted)
