"""SQS message bodies and message attributes: SQS's checks, sizes and MD5 digests.

``MD5OfMessageAttributes`` follows SQS's published algorithm: for each attribute in name order,
the name, the data type (each as a 4-byte big-endian length and UTF-8 bytes), one transport
byte (1 for String/Number, 2 for Binary) and the value (length-prefixed). SDKs that check the
digest (Java, .NET) accept ours.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from headwater.destinations.errors import InvalidMessageContents, MissingParameter
from headwater.errors import ValidationError

MAX_ATTRIBUTES = 10
_INVALID_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_CHARS_TEXT = (
    "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | "
    "#xE000 to #xFFFD | #x10000 to #x10FFFF"
)


@dataclass(frozen=True)
class MessageAttribute:
    data_type: str
    string_value: str | None = None
    binary_value: bytes | None = None

    @property
    def is_binary(self) -> bool:
        return self.data_type.startswith("Binary")

    def value_bytes(self) -> bytes:
        if self.is_binary:
            return self.binary_value or b""
        return (self.string_value or "").encode()


Attributes = dict[str, MessageAttribute]


def check_body(body: str) -> None:
    if not body:
        raise MissingParameter("The request must contain the parameter MessageBody.")
    if _INVALID_CHARS.search(body):
        raise InvalidMessageContents(_CHARS_TEXT)


def check_attributes(attributes: Attributes) -> int:
    """Validate; returns the bytes the attributes count toward the message size."""
    if len(attributes) > MAX_ATTRIBUTES:
        raise ValidationError(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum "
            f"[{MAX_ATTRIBUTES}]."
        )
    size = 0
    for name, attribute in attributes.items():
        lowered = name.lower()
        if (
            not _ATTRIBUTE_NAME.match(name)
            or lowered.startswith(("aws.", "amazon."))
            or ".." in name
            or name.startswith(".")
            or name.endswith(".")
        ):
            raise ValidationError(f"Message (user) attribute name '{name}' is invalid.")
        data_type = attribute.data_type
        if not data_type.startswith(("String", "Number", "Binary")) or len(data_type) > 256:
            raise ValidationError(
                f"The type of message (user) attribute '{name}' is invalid. You must use only "
                "the following supported type prefixes: Binary, Number, String."
            )
        value = attribute.value_bytes()
        if not value:
            kind = data_type.split(".", 1)[0]
            raise ValidationError(
                f"The message (user) attribute '{name}' must contain a non-empty message "
                f"attribute value for message attribute type '{kind}'."
            )
        if data_type.startswith("String") and _INVALID_CHARS.search(attribute.string_value or ""):
            raise InvalidMessageContents(_CHARS_TEXT)
        if data_type.startswith("Number"):
            try:
                finite = Decimal(attribute.string_value or "").is_finite()
            except InvalidOperation:
                finite = False
            if not finite:
                raise ValidationError(
                    f"Can't cast the value of message (user) attribute '{name}' to a number."
                )
        size += len(name.encode()) + len(data_type.encode()) + len(value)
    return size


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()


def md5_of_attributes(attributes: Attributes) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        attribute = attributes[name]
        for text in (name, attribute.data_type):
            raw = text.encode()
            digest.update(struct.pack(">I", len(raw)) + raw)
        value = attribute.value_bytes()
        digest.update(b"\x02" if attribute.is_binary else b"\x01")
        digest.update(struct.pack(">I", len(value)) + value)
    return digest.hexdigest()


def dumps(attributes: Attributes) -> bytes | None:
    if not attributes:
        return None
    out: dict[str, dict[str, str]] = {}
    for name, attribute in attributes.items():
        entry = {"DataType": attribute.data_type}
        if attribute.is_binary:
            entry["BinaryValue"] = base64.b64encode(attribute.binary_value or b"").decode()
        else:
            entry["StringValue"] = attribute.string_value or ""
        out[name] = entry
    return json.dumps(out).encode()


def loads(raw: bytes | None) -> Attributes:
    if not raw:
        return {}
    out: Attributes = {}
    for name, entry in json.loads(raw).items():
        if "BinaryValue" in entry:
            out[name] = MessageAttribute(
                entry["DataType"], binary_value=base64.b64decode(entry["BinaryValue"])
            )
        else:
            out[name] = MessageAttribute(entry["DataType"], string_value=entry["StringValue"])
    return out


def select(attributes: Attributes, wanted: list[str]) -> Attributes:
    """ReceiveMessage's MessageAttributeNames: names, ``All``/``.*``, or ``prefix.*``."""
    if not wanted or not attributes:
        return {}
    if "All" in wanted or ".*" in wanted:
        return dict(attributes)
    prefixes = tuple(w[:-1] for w in wanted if w.endswith(".*"))
    exact = set(wanted)
    return {
        name: value
        for name, value in attributes.items()
        if name in exact or (prefixes and name.startswith(prefixes))
    }
