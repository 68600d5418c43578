"""Checking a CloudWatch request against botocore's model before an operation reads it.

A member of the wrong type (a list where a structure belongs, text for a number) is a
SerializationException, as on every JSON service, so the operations never meet a value of a
type they do not expect. Enum members and the model's size limits then give CloudWatch's
query-era InvalidParameterValue, named by the member's query path
(``MetricDataQueries.member.1.MetricStat.Unit``). Missing required members are the operations'
own business: CloudWatch words them as MissingParameter.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from headwater.cloudwatch.errors import InvalidParameterValue
from headwater.errors import SerializationError


@cache
def _model() -> Any:
    from botocore.session import get_session

    return get_session().get_service_model("cloudwatch")


def check(operation: str, body: dict[str, Any]) -> None:
    _walk(_model().operation_model(operation).input_shape, body, "")


def _wrong(path: str) -> SerializationError:
    # INFERRED wording: AWS's text for a mistyped CloudWatch member was not observed.
    return SerializationError(f"Unexpected value type for {path or 'the request'}")


def _walk(shape: Any, value: Any, path: str) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            raise _wrong(path)
        for name, member in shape.members.items():
            child = value.get(name)
            if child is not None:
                _walk(member, child, f"{path}.{name}" if path else name)
        return
    if kind == "list":
        if not isinstance(value, list):
            raise _wrong(path)
        if "max" in meta and len(value) > meta["max"]:
            raise InvalidParameterValue(  # INFERRED wording
                f"The collection {path} must not have a size greater than {meta['max']}."
            )
        for i, item in enumerate(value, 1):
            if item is None:
                raise _wrong(f"{path}.member.{i}")
            _walk(shape.member, item, f"{path}.member.{i}")
        return
    if kind == "map":
        if not isinstance(value, dict):
            raise _wrong(path)
        for key, item in value.items():
            _walk(shape.key, key, f"{path}.key")
            if item is not None:
                _walk(shape.value, item, f"{path}.{key}")
        return
    if kind == "string":
        if not isinstance(value, str):
            raise _wrong(path)
        enum = meta.get("enum")
        if enum and value not in enum:
            # The form AWS uses for Statistics (cloud-custodian issue 9137).
            raise InvalidParameterValue(
                f"The parameter {path} must be a value in the set [{', '.join(enum)}]."
            )
        low, high = meta.get("min", 0), meta.get("max")
        if len(value) < low or (high is not None and len(value) > high):
            raise InvalidParameterValue(  # INFERRED wording
                f"The parameter {path} must be between {low} and {high or 'any number of'} "
                "characters long."
            )
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong(path)
        if "min" in meta and value < meta["min"]:
            raise InvalidParameterValue(  # INFERRED wording
                f"The parameter {path} must be greater than or equal to {meta['min']}."
            )
        return
    if kind in ("double", "float", "timestamp"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _wrong(path)
        return
    if kind == "boolean" and not isinstance(value, bool):
        raise _wrong(path)
