"""Equality and ordering of AttributeValues the way DynamoDB defines them.

Numbers compare numerically, binary by raw bytes, strings by UTF-8 bytes, sets as sets.
Callers pass values already checked by ``model.values``. Imports only the model.
"""

from __future__ import annotations

import base64
from typing import Any

from headwater.model.numbers import parse_number
from headwater.model.types import AttrValue, type_of


def b64_bytes(text: str) -> bytes:
    """Raw bytes of a base64 binary value."""
    return base64.b64decode(text)


def utf8(text: str) -> bytes:
    # surrogatepass keeps a lone surrogate (legal in JSON escapes) from crashing a comparison
    return text.encode("utf-8", "surrogatepass")


def _scalar_key(type_name: str, raw: Any) -> Any:
    if type_name == "N":
        return parse_number(raw)
    if type_name == "B":
        return b64_bytes(raw)
    return raw


def values_equal(a: AttrValue | None, b: AttrValue | None) -> bool:
    """True when both values exist, have the same type and the same content."""
    if a is None or b is None:
        return False
    type_a, type_b = type_of(a), type_of(b)
    if type_a != type_b:
        return False
    raw_a, raw_b = a[type_a], b[type_b]
    if type_a in ("S", "N", "B"):
        return bool(_scalar_key(type_a, raw_a) == _scalar_key(type_b, raw_b))
    if type_a in ("SS", "NS", "BS"):
        member = type_a[0]
        return {_scalar_key(member, x) for x in raw_a} == {_scalar_key(member, x) for x in raw_b}
    if type_a == "L":
        return len(raw_a) == len(raw_b) and all(
            values_equal(x, y) for x, y in zip(raw_a, raw_b, strict=True)
        )
    if type_a == "M":
        return raw_a.keys() == raw_b.keys() and all(
            values_equal(raw_a[name], raw_b[name]) for name in raw_a
        )
    return bool(raw_a == raw_b)  # BOOL, NULL


def comparable(a: AttrValue | None, b: AttrValue | None) -> bool:
    """Whether ``<``, ``<=``, ``>``, ``>=`` and BETWEEN can order these two values."""
    if a is None or b is None:
        return False
    type_a = type_of(a)
    return type_a in ("S", "N", "B") and type_a == type_of(b)


def compare(a: AttrValue, b: AttrValue) -> int:
    """-1, 0 or 1 for two values of one scalar type (S, N or B); ValueError otherwise."""
    if not comparable(a, b):
        raise ValueError("values are not of one scalar type")
    type_name = type_of(a)
    if type_name == "N":
        left: Any = parse_number(a["N"]).to_decimal()
        right: Any = parse_number(b["N"]).to_decimal()
    elif type_name == "B":
        left, right = b64_bytes(a["B"]), b64_bytes(b["B"])
    else:
        left, right = utf8(a["S"]), utf8(b["S"])
    return int(left > right) - int(left < right)
