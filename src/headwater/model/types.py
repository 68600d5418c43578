"""Names for DynamoDB's wire-form values, shared by every module of the model.

Values stay in the JSON shape boto3 sends (``{"S": "a"}``, numbers as strings, binary as
base64 text), so these are aliases rather than classes. Imports nothing from Headwater.
"""

from __future__ import annotations

from typing import Any, Final

AttrValue = dict[str, Any]
"""One AttributeValue in wire form, e.g. ``{"N": "1.5"}``."""

Item = dict[str, AttrValue]
"""A whole item (or a key): attribute name to AttributeValue."""

SCALAR_TYPES: Final = ("S", "N", "B")
SET_TYPES: Final = ("SS", "NS", "BS")
ALL_TYPES: Final = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")

SET_MEMBER_TYPE: Final = {"SS": "S", "NS": "N", "BS": "B"}


def type_of(value: AttrValue) -> str:
    """The single type key of an already validated value."""
    for key in value:
        return key
    raise ValueError("empty AttributeValue")
