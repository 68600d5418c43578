"""DynamoDB's item-size accounting (aws-semantics.md §3.3, errors.md L-01).

The same number drives the 400 KB item limit and a stream record's ``SizeBytes``, so it lives
in one place. Values must already be validated. Imports only the model.
"""

from __future__ import annotations

from typing import Final

from headwater.model.compare import b64_bytes, utf8
from headwater.model.numbers import parse_number
from headwater.model.types import AttrValue, Item, type_of

MAX_ITEM_BYTES: Final = 400 * 1024

_CONTAINER_OVERHEAD: Final = 3
_ELEMENT_OVERHEAD: Final = 1


def number_size(text: str) -> int:
    """About one byte per two significant digits, plus one (DynamoDB's documented rule)."""
    digits = len(parse_number(text).digits)
    return (digits + 1) // 2 + 1


def _scalar_size(type_name: str, raw: str) -> int:
    if type_name == "S":
        return len(utf8(raw))
    if type_name == "B":
        return len(b64_bytes(raw))
    return number_size(raw)


def value_size(value: AttrValue) -> int:
    """Bytes one AttributeValue counts for, without its attribute name."""
    type_name = type_of(value)
    raw = value[type_name]
    if type_name in ("S", "N", "B"):
        return _scalar_size(type_name, raw)
    if type_name in ("SS", "NS", "BS"):
        return sum(_scalar_size(type_name[0], member) for member in raw)
    if type_name == "L":
        return _CONTAINER_OVERHEAD + sum(value_size(x) + _ELEMENT_OVERHEAD for x in raw)
    if type_name == "M":
        return _CONTAINER_OVERHEAD + sum(
            len(utf8(name)) + value_size(x) + _ELEMENT_OVERHEAD for name, x in raw.items()
        )
    return 1  # BOOL, NULL


def item_size(item: Item) -> int:
    """Bytes an item counts for: each attribute's UTF-8 name length plus its value size."""
    return sum(len(utf8(name)) + value_size(value) for name, value in item.items())
