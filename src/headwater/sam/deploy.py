"""Deploying the part of a SAM template that makes the stream loop: DynamoDB tables,
Python functions, and their DynamoDB stream events (event source mappings).

Deploying is idempotent, so ``headwater up`` can run again on the same data directory: tables
that exist are kept (with their items and streams), function code is updated, and mappings that
exist keep their checkpoints.
"""

from __future__ import annotations

import io
import logging
import os
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headwater.api.dynamodb import index_specs
from headwater.errors import ValidationError
from headwater.functions.registry import FunctionConfig
from headwater.mapping.config import MappingConfig
from headwater.runtime import Runtime
from headwater.tables.control import StreamSpec, TableSpec

log = logging.getLogger("headwater.sam")

TABLE = "AWS::DynamoDB::Table"
FUNCTION = "AWS::Serverless::Function"


@dataclass
class Deployment:
    tables: dict[str, str] = field(default_factory=dict)  # logical id -> table name
    functions: dict[str, str] = field(default_factory=dict)  # logical id -> function name
    mappings: list[str] = field(default_factory=list)  # UUIDs


class _Resolver:
    def __init__(self, rt: Runtime, region: str, template: dict[str, Any]) -> None:
        self.rt = rt
        self.region = region
        self.template = template
        self.names: dict[str, str] = {}

    def parameter(self, name: str) -> Any:
        params = self.template.get("Parameters") or {}
        if name in params:
            return params[name].get("Default", "")
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.rt.settings.account_id,
            "AWS::StackName": "headwater",
            "AWS::Partition": "aws",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.names:
            return self.names[name]
        raise ValidationError(f"template refers to unknown resource or parameter: {name}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.parameter(str(arg))
            if key == "Fn::GetAtt":
                return self.get_att(arg[0], arg[1])
            if key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._sub(m.group(1))), text)
            if key == "Fn::Join":
                return str(arg[0]).join(str(v) for v in self.resolve(arg[1]))
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, name: str) -> Any:
        if "." in name:
            resource, attribute = name.split(".", 1)
            return self.get_att(resource, attribute)
        return self.parameter(name)

    def get_att(self, logical_id: str, attribute: str) -> str:
        name = self.names.get(logical_id)
        if name is None:
            raise ValidationError(f"template refers to unknown resource: {logical_id}")
        if attribute == "StreamArn":
            info = self.rt.catalog.get(self.region, name)
            if info is None or not info.latest_stream_arn:
                raise ValidationError(f"table {logical_id} has no stream (StreamSpecification)")
            return info.latest_stream_arn
        if attribute == "Arn":
            info = self.rt.catalog.get(self.region, name)
            if info is not None:
                return info.arn
            return f"arn:aws:lambda:{self.region}:{self.rt.settings.account_id}:function:{name}"
        raise ValidationError(f"Headwater cannot resolve !GetAtt {logical_id}.{attribute}")


def _zip_directory(directory: Path) -> bytes:
    if not directory.is_dir():
        raise ValidationError(f"CodeUri {directory} is not a directory")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for root, dirs, files in os.walk(directory):
            dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", ".git"))
            for name in sorted(files):
                path = Path(root) / name
                archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def _table_spec(logical_id: str, props: dict[str, Any]) -> TableSpec:
    stream = props.get("StreamSpecification")
    throughput = props.get("ProvisionedThroughput") or {}
    billing = props.get("BillingMode") or ("PROVISIONED" if throughput else "PAY_PER_REQUEST")
    return TableSpec(
        name=props.get("TableName") or logical_id,
        key_schema=tuple((k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]),
        attribute_definitions=tuple(
            (a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]
        ),
        billing_mode=billing,
        read_capacity=_int_or_none(throughput.get("ReadCapacityUnits")),
        write_capacity=_int_or_none(throughput.get("WriteCapacityUnits")),
        stream=StreamSpec(True, stream.get("StreamViewType")) if stream else None,
        has_indexes=bool(props.get("LocalSecondaryIndexes") or props.get("GlobalSecondaryIndexes")),
        local_indexes=index_specs(props.get("LocalSecondaryIndexes")),
        global_indexes=index_specs(props.get("GlobalSecondaryIndexes")),
    )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _publish_alias(rt: Runtime, region: str, name: str, alias: str) -> str:
    """SAM's AutoPublishAlias: publish a version (the same one again when nothing changed), point
    the alias at it, and return the alias ARN, which the function's events then invoke."""
    version = rt.functions.publish_version(region, name)
    if rt.functions.aliases.get(region, name, alias) is None:
        rt.functions.create_alias(region, name, alias, version.version)
    else:
        rt.functions.update_alias(region, name, alias, function_version=version.version)
    log.info("alias %s of %s points at version %s", alias, name, version.version)
    return f"{version.arn}:{alias}"


def deploy(rt: Runtime, template: dict[str, Any], base_dir: Path, region: str) -> Deployment:
    resources: dict[str, Any] = template["Resources"]
    resolver = _Resolver(rt, region, template)
    result = Deployment()
    globals_ = (template.get("Globals") or {}).get("Function") or {}

    for logical_id, res in resources.items():
        if res.get("Type") == TABLE:
            props = resolver.resolve(res.get("Properties") or {})
            spec = _table_spec(logical_id, props)
            resolver.names[logical_id] = spec.name
            if rt.catalog.get(region, spec.name) is None:
                rt.control.create_table(region, spec)
                log.info("created table %s", spec.name)
            result.tables[logical_id] = spec.name

    for logical_id, res in resources.items():
        if res.get("Type") == FUNCTION:
            props = {**globals_, **(res.get("Properties") or {})}
            resolver.names[logical_id] = props.get("FunctionName") or logical_id

    for logical_id, res in resources.items():
        if res.get("Type") != FUNCTION:
            continue
        props = resolver.resolve({**globals_, **(res.get("Properties") or {})})
        name = resolver.names[logical_id]
        code = _zip_directory((base_dir / str(props.get("CodeUri") or ".")).resolve())
        env = {
            str(k): str(v)
            for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()
        }
        if rt.functions.exists(region, name):
            rt.functions.update_code(region, name, code)
            rt.functions.update_configuration(
                region,
                name,
                {
                    "handler": props["Handler"],
                    "runtime": props.get("Runtime", "python3.11"),
                    "timeout": int(props.get("Timeout", 3)),
                    "memory_size": int(props.get("MemorySize", 128)),
                    "environment": env,
                },
            )
        else:
            rt.functions.create(
                FunctionConfig(
                    name=name,
                    region=region,
                    account=rt.settings.account_id,
                    runtime=props.get("Runtime", "python3.11"),
                    handler=props["Handler"],
                    role=f"arn:aws:iam::{rt.settings.account_id}:role/{name}-role",
                    code_sha256="",
                    code_size=0,
                    timeout=int(props.get("Timeout", 3)),
                    memory_size=int(props.get("MemorySize", 128)),
                    environment=env,
                ),
                code,
            )
            log.info("created function %s", name)
        result.functions[logical_id] = name
        function_arn = rt.functions.get(region, name).arn
        alias = props.get("AutoPublishAlias")
        if alias:
            function_arn = _publish_alias(rt, region, name, str(alias))
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "DynamoDB":
                raise ValidationError(
                    f"Headwater runs DynamoDB stream events only, not {event.get('Type')}"
                )
            ep = event.get("Properties") or {}
            stream_arn = ep["Stream"]
            existing = [
                m
                for m in rt.mappings.all(region)
                if m.event_source_arn == stream_arn and m.function_arn == function_arn
            ]
            if existing:
                result.mappings.append(existing[0].uuid)
                continue
            created = rt.mappings.create(
                MappingConfig(
                    uuid=str(uuid.uuid4()),
                    region=region,
                    account=rt.settings.account_id,
                    function_arn=function_arn,
                    event_source_arn=stream_arn,
                    starting_position=ep.get("StartingPosition", "LATEST"),
                    batch_size=int(ep.get("BatchSize", 100)),
                    enabled=bool(ep.get("Enabled", True)),
                )
            )
            result.mappings.append(created.uuid)
    return result
