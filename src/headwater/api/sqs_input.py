"""Reading SQS (JSON 1.0) request members with their types checked, and queue URLs.

botocore sends well-typed members; anything else (a hand-written request) is refused with a
4xx rather than tripping a 500 further in.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import urlsplit

from headwater.destinations.errors import MissingParameter, QueueDoesNotExist
from headwater.destinations.message_attributes import Attributes, MessageAttribute
from headwater.errors import SerializationError

Body = dict[str, Any]

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


def _wrong(name: str) -> SerializationError:
    return SerializationError(f"Value for parameter {name} has the wrong type.")


def string(body: Body, name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _wrong(name)
    return value


def required_string(body: Body, name: str) -> str:
    value = string(body, name)
    if value is None or value == "":
        raise MissingParameter(f"The request must contain the parameter {name}.")
    return value


def integer(body: Body, name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong(name)
    try:
        whole = int(value)
    except (OverflowError, ValueError):
        raise _wrong(name) from None
    if whole != value:
        raise _wrong(name)
    return whole


def string_map(body: Body, name: str) -> dict[str, Any]:
    """A map of string keys; values are checked by whoever reads them."""
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _wrong(name)
    return value


def string_map_strict(body: Body, name: str) -> dict[str, str]:
    value = string_map(body, name)
    if not all(isinstance(v, str) for v in value.values()):
        raise _wrong(name)
    return value


def string_list(body: Body, name: str) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _wrong(name)
    return value


def entries(body: Body) -> list[Body]:
    value = body.get("Entries")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _wrong("Entries")
    return value


def message_attributes(body: Body) -> Attributes:
    out: Attributes = {}
    for name, entry in string_map(body, "MessageAttributes").items():
        if not isinstance(entry, dict):
            raise _wrong("MessageAttributes")
        data_type = string(entry, "DataType") or ""
        binary = string(entry, "BinaryValue")
        if binary is not None:
            try:
                decoded = base64.b64decode(binary, validate=True)
            except binascii.Error:
                raise _wrong("BinaryValue") from None
            out[name] = MessageAttribute(data_type, binary_value=decoded)
        else:
            out[name] = MessageAttribute(data_type, string_value=string(entry, "StringValue"))
    return out


def queue_name_from_url(url: str, account_id: str) -> str:
    """The queue a URL names: ``<scheme>://<host>/<account>/<name>``, any host."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) != 2 or parts[0] != account_id or not _QUEUE_NAME.match(parts[1]):
        raise QueueDoesNotExist()
    return parts[1]
