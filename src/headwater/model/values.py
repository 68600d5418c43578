"""Validation and normalisation of AttributeValues and items (errors.md §2.0 AV).

Every value entering Headwater passes through here once, so the rest of the code can trust
that a value has exactly one type, numbers are canonical strings and binary is canonical
base64. Messages are AWS's, typos included. Imports only the model and ``headwater.errors``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any, Final

from headwater.errors import SerializationError, ValidationError
from headwater.model.compare import compare, utf8, values_equal
from headwater.model.numbers import MAX_DIGITS, NOT_NUMERIC, parse_number
from headwater.model.types import ALL_TYPES, AttrValue, Item

__all__ = [
    "check_attribute_name",
    "compare",
    "validate_item",
    "validate_sized_item",
    "validate_value",
    "values_equal",
]

MAX_NESTING: Final = 32
MAX_NAME_BYTES: Final = 65535

_INVALID: Final = "One or more parameter values were invalid: "
EMPTY_VALUE: Final = (
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
)
MANY_TYPES: Final = (
    "Supplied AttributeValue has more than one datatypes set, "
    "must contain exactly one of the supported datatypes"
)
NULL_NOT_TRUE: Final = _INVALID + "Null attribute value types must have the value of true"
EMPTY_SS: Final = _INVALID + "An string set  may not be empty"
EMPTY_NS: Final = _INVALID + "An number set  may not be empty"
EMPTY_BS: Final = _INVALID + "Binary sets should not be empty"
NS_DUPLICATES: Final = "Input collection contains duplicates"
# INFERRED wording (errors.md AV-15/AV-16 and L-07 only give fragments).
EMPTY_NAME: Final = _INVALID + "Empty attribute name"
NAME_TOO_LONG: Final = _INVALID + "Attribute name is too large, must be less than 65536 bytes"
TOO_DEEP: Final = "Nesting Levels have exceeded supported limits"
_CONTAINER_OVERHEAD: Final = 3  # as model.size
_ELEMENT_OVERHEAD: Final = 1

_STARTING_KEY: Final = "The provided starting key is invalid: "
# ExclusiveStartKey wraps only these messages (errors.md §2.0, "copy that quirk").
_STARTING_KEY_WRAPPED: Final = frozenset(
    {EMPTY_VALUE, MANY_TYPES, NULL_NOT_TRUE, EMPTY_SS, EMPTY_BS}
)

_JAVA_STRING: Final = "java.lang.String"
_JAVA_BOOLEAN: Final = "java.lang.Boolean"
_MAP_TYPE: Final = (
    "java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>"
)


def _scalar_mismatch(raw: Any, java: str) -> SerializationError:
    """The message Jackson gives when a JSON value cannot become the Java type ``java``."""
    short = java.rsplit(".", 1)[-1]
    if isinstance(raw, bool):
        literal = "TRUE" if raw else "FALSE"
        return SerializationError(f"{literal}_VALUE cannot be converted to {short}")
    if isinstance(raw, int):
        return SerializationError(f"NUMBER_VALUE cannot be converted to {short}")
    if isinstance(raw, float):
        return SerializationError(f"DECIMAL_VALUE cannot be converted to {short}")
    if isinstance(raw, list):
        return SerializationError(f"Unrecognized collection type class {java}")
    if isinstance(raw, dict):
        return SerializationError("Start of structure or map found where not expected")
    return SerializationError("Unexpected token received from parser")


def _string(raw: Any) -> str:
    if not isinstance(raw, str):
        raise _scalar_mismatch(raw, _JAVA_STRING)
    return raw


def _boolean(raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise _scalar_mismatch(raw, _JAVA_BOOLEAN)
    return raw


def _list(raw: Any) -> list[Any]:
    if isinstance(raw, dict):
        raise SerializationError("Start of structure or map found where not expected")
    if not isinstance(raw, list):
        raise SerializationError("Unexpected field type")
    return raw


def _blob(raw: Any) -> tuple[str, bytes]:
    """Canonical base64 text and the bytes it stands for."""
    if isinstance(raw, (bool, int, float)):
        raise SerializationError("only base-64-encoded strings are convertible to bytes")
    if isinstance(raw, list):
        raise SerializationError("Unrecognized collection type class java.nio.ByteBuffer")
    if isinstance(raw, dict):
        raise SerializationError("Start of structure or map found where not expected")
    text = _string(raw)
    if len(text) % 4:
        raise SerializationError(
            f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(text)}"
        )
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SerializationError("Invalid last non-pad Base64 character dectected") from None
    return base64.b64encode(data).decode("ascii"), data


# Each check returns the normalised value and its size by DynamoDB's rules (model.size), so
# PutItem validates and sizes an item in one walk (a unit test holds the sizes to item_size).


def _text_size(text: str) -> int:
    return len(text) if text.isascii() else len(utf8(text))


def _check_string(raw: Any, depth: int) -> tuple[str, int]:
    text = _string(raw)
    return text, _text_size(text)


def _check_number(raw: Any, depth: int) -> tuple[str, int]:
    # The usual number, a plain integer already in DynamoDB's form ("42", "-7", "0"), is its
    # own canonical text; its size counts its digits without the trailing zeros.
    if type(raw) is str and 0 < len(raw) <= MAX_DIGITS and raw.isascii():
        digits = raw[1:] if raw[0] == "-" else raw
        if digits.isdigit() and (digits[0] != "0" or raw == "0"):
            return raw, (len(digits.rstrip("0")) + 1) // 2 + 1
    number = parse_number(_string(raw))
    return number.text(), (len(number.digits) + 1) // 2 + 1


def _check_binary(raw: Any, depth: int) -> tuple[str, int]:
    text, data = _blob(raw)
    return text, len(data)


def _check_bool(raw: Any, depth: int) -> tuple[bool, int]:
    return _boolean(raw), 1


def _check_null(raw: Any, depth: int) -> tuple[bool, int]:
    if not _boolean(raw):
        raise ValidationError(NULL_NOT_TRUE)
    return True, 1


def _check_string_set(raw: Any, depth: int) -> tuple[list[str], int]:
    members = [_string(x) for x in _list(raw)]
    if not members:
        raise ValidationError(EMPTY_SS)
    if len(set(members)) != len(members):
        shown = ", ".join(members)
        raise ValidationError(f"{_INVALID}Input collection [{shown}] contains duplicates.")
    return members, sum(map(_text_size, members))


def _check_number_set(raw: Any, depth: int) -> tuple[list[str], int]:
    texts = [_string(x) for x in _list(raw)]
    if not texts:
        raise ValidationError(EMPTY_NS)
    if any(not text for text in texts):
        raise ValidationError(NOT_NUMERIC)
    numbers = [parse_number(text) for text in texts]
    if len(set(numbers)) != len(numbers):
        raise ValidationError(NS_DUPLICATES)
    size = sum((len(number.digits) + 1) // 2 + 1 for number in numbers)
    return [number.text() for number in numbers], size


def _check_binary_set(raw: Any, depth: int) -> tuple[list[str], int]:
    blobs = [_blob(x) for x in _list(raw)]
    if not blobs:
        raise ValidationError(EMPTY_BS)
    if len({data for _, data in blobs}) != len(blobs):
        shown = ", ".join(str(x) for x in raw)
        raise ValidationError(
            f"{_INVALID}Input collection [{shown}]of type BS contains duplicates."
        )
    return [text for text, _ in blobs], sum(len(data) for _, data in blobs)


def _check_map(raw: Any, depth: int) -> tuple[dict[str, AttrValue], int]:
    if isinstance(raw, list):
        raise SerializationError(f"Unrecognized collection type {_MAP_TYPE}")
    if not isinstance(raw, dict):
        raise SerializationError("Unexpected field type")
    if depth >= MAX_NESTING:
        raise ValidationError(TOO_DEEP)
    members: dict[str, AttrValue] = {}
    size = _CONTAINER_OVERHEAD
    for name, value in raw.items():
        members[name], member_size = _validate(value, depth + 1)
        size += _text_size(name) + member_size + _ELEMENT_OVERHEAD
    return members, size


def _check_list(raw: Any, depth: int) -> tuple[list[AttrValue], int]:
    elements = _list(raw)
    if depth >= MAX_NESTING:
        raise ValidationError(TOO_DEEP)
    checked: list[AttrValue] = []
    size = _CONTAINER_OVERHEAD
    for value in elements:
        element, element_size = _validate(value, depth + 1)
        checked.append(element)
        size += element_size + _ELEMENT_OVERHEAD
    return checked, size


_CHECKS: Final[dict[str, Callable[[Any, int], tuple[Any, int]]]] = {
    "S": _check_string,
    "N": _check_number,
    "B": _check_binary,
    "BOOL": _check_bool,
    "NULL": _check_null,
    "SS": _check_string_set,
    "NS": _check_number_set,
    "BS": _check_binary_set,
    "M": _check_map,
    "L": _check_list,
}


def _validate(value: Any, depth: int) -> tuple[AttrValue, int]:
    """The normalised value and its size."""
    if type(value) is dict and len(value) == 1:  # the usual shape: one type, set
        for name, raw in value.items():
            check = _CHECKS.get(name)
            if check is not None and raw is not None:
                checked, size = check(raw, depth)
                return {name: checked}, size
    if isinstance(value, list):
        raise SerializationError(
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue"
        )
    if not isinstance(value, dict):
        raise SerializationError("Unexpected value type in payload")
    present = [name for name in value if name in ALL_TYPES and value[name] is not None]
    if not present:
        raise ValidationError(EMPTY_VALUE)
    # Each member is checked before the count, as AWS does: {"S": "", "N": ""} reports the
    # number, not the two types.
    checked = {name: _CHECKS[name](value[name], depth) for name in present}
    if len(present) > 1:
        raise ValidationError(MANY_TYPES)
    ((name, (normal, size)),) = checked.items()
    return {name: normal}, size


def _for_member(error: ValidationError, path: str) -> ValidationError:
    if path == "exclusiveStartKey" and error.message in _STARTING_KEY_WRAPPED:
        return ValidationError(_STARTING_KEY + error.message)
    return error


def validate_value(value: Any, *, path: str = "item") -> AttrValue:
    """Check one AttributeValue against every AV rule and return it normalised.

    ``path`` names the request member the value came from; ``"exclusiveStartKey"`` turns on
    AWS's "The provided starting key is invalid: " prefix for the messages it applies to.
    """
    try:
        return _validate(value, 0)[0]
    except ValidationError as error:
        raise _for_member(error, path) from None


def check_attribute_name(name: str) -> None:
    """Raise when an item's attribute name is empty or longer than DynamoDB allows."""
    if not name:
        raise ValidationError(EMPTY_NAME)
    if len(utf8(name)) > MAX_NAME_BYTES:
        raise ValidationError(NAME_TOO_LONG)


def validate_item(item: Any, *, path: str = "item") -> Item:
    """Check a whole item (or key) and return a normalised copy; the input is not changed."""
    return validate_sized_item(item, path=path)[0]


def validate_sized_item(item: Any, *, path: str = "item") -> tuple[Item, int]:
    """``validate_item`` and the item's size (``model.size.item_size``), in one walk."""
    if isinstance(item, list):
        raise SerializationError(f"Unrecognized collection type {_MAP_TYPE}")
    if not isinstance(item, dict):
        raise SerializationError("Unexpected field type")
    result: Item = {}
    total = 0
    try:
        for name, value in item.items():
            if value is None:
                continue
            if not name:
                raise ValidationError(EMPTY_NAME)
            name_size = _text_size(name)
            if name_size > MAX_NAME_BYTES:
                raise ValidationError(NAME_TOO_LONG)
            result[name], size = _validate(value, 0)
            total += name_size + size
    except ValidationError as error:
        raise _for_member(error, path) from None
    return result, total
