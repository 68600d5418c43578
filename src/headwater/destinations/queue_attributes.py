"""SQS queue attributes: names, defaults, and the checks CreateQueue/SetQueueAttributes make.

A queue stores only the attributes it was given; :func:`effective` lays them over the defaults.
Counts, timestamps and the ARN are computed when asked for (GetQueueAttributes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from headwater.destinations.errors import InvalidAttributeName, InvalidAttributeValue
from headwater.errors import NotEmulated

DEFAULTS = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "SqsManagedSseEnabled": "true",
}

_RANGES = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, 1048576),
    "MessageRetentionPeriod": (60, 1209600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43200),
    "KmsDataKeyReusePeriodSeconds": (60, 86400),
}

SETTABLE = frozenset(
    {
        *_RANGES,
        "Policy",
        "RedrivePolicy",
        "RedriveAllowPolicy",
        "KmsMasterKeyId",
        "SqsManagedSseEnabled",
    }
)
_FIFO_ONLY = frozenset(
    {"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}
)
COMPUTED = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
)
READABLE = frozenset({*SETTABLE, *COMPUTED, *_FIFO_ONLY})


@dataclass(frozen=True)
class Redrive:
    dead_letter_arn: str
    max_receive_count: int


def check(attributes: dict[str, Any]) -> dict[str, str]:
    """Validate attributes to set; returns them as strings, as SQS keeps them."""
    out: dict[str, str] = {}
    for name, value in attributes.items():
        if name in _FIFO_ONLY:
            raise NotEmulated(f"FIFO queues are not emulated by Headwater (attribute {name}).")
        if name not in SETTABLE:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        if not isinstance(value, str):
            raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
        if name in _RANGES:
            low, high = _RANGES[name]
            if not _is_int(value) or not low <= int(value) <= high:
                raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
            value = str(int(value))
        elif name == "SqsManagedSseEnabled" and value.lower() not in ("true", "false"):
            raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
        elif name == "RedrivePolicy" and value:
            redrive_policy(value)
        elif name in ("Policy", "RedriveAllowPolicy") and value:
            _json_object(name, value)
        out[name] = value
    return out


def effective(stored: dict[str, str]) -> dict[str, str]:
    return {**DEFAULTS, **stored}


def int_attribute(stored: dict[str, str], name: str) -> int:
    return int(stored.get(name, DEFAULTS[name]))


def redrive_policy(value: str) -> Redrive:
    policy = _json_object("RedrivePolicy", value)
    arn = policy.get("deadLetterTargetArn")
    count = policy.get("maxReceiveCount", 10)
    if not isinstance(arn, str) or not arn.startswith("arn:aws:sqs:"):
        raise InvalidAttributeValue(
            "Value "
            f"{value} for parameter RedrivePolicy is invalid. Reason: Invalid value for "
            "deadLetterTargetArn."
        )
    if isinstance(count, str) and _is_int(count):
        count = int(count)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
        raise InvalidAttributeValue(
            f"Value {value} for parameter RedrivePolicy is invalid. Reason: Invalid value for "
            "maxReceiveCount: 1 <= maxReceiveCount <= 1000."
        )
    return Redrive(arn, count)


def _json_object(name: str, value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
    return parsed


def _is_int(text: str) -> bool:
    return text.strip().lstrip("-").isdigit()
