"""KeyConditionExpression (and legacy KeyConditions) → one byte range of a table's keys.

Two steps, both pure:

1. :func:`key_conditions` turns a parsed KeyConditionExpression into one :class:`KeyPredicate`
   per attribute, with AWS's structural errors (errors.md X-27..X-34), checked in the order
   AWS walks the expression.
2. :func:`plan_query` checks those predicates (and an ExclusiveStartKey) against the key
   schema (Q-14..Q-24) and returns a :class:`KeyRange`: the partition's encoded hash key and
   a half-open range ``[low, high)`` over the encoded sort key, so storage can answer with one
   range read on the primary key.

Every bound is made half-open with one observation about SQLite's BLOB order (memcmp, shorter
first): nothing sorts strictly between ``x`` and ``x + b"\\x00"``, so ``rk > x`` is
``rk >= x + b"\\x00"`` and ``rk <= x`` is ``rk < x + b"\\x00"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from headwater.errors import ValidationError
from headwater.expressions.ast import And, Between, Call, Compare, Condition, In, Literal, Not, Or
from headwater.expressions.ast import Path as DocPath
from headwater.model.keys import HASH_TOO_LONG, RANGE_TOO_LONG, KeySchema, encode_key
from headwater.model.types import AttrValue, Item, type_of

__all__ = [
    "KeyPredicate",
    "KeyRange",
    "key_conditions",
    "plan_query",
    "prefix_end",
]

_BAD_OPERATOR: Final = "Invalid operator used in KeyConditionExpression: "
_BAD_CONDITION: Final = "Invalid condition in KeyConditionExpression: "
_NESTED_OPERATIONS: Final = "KeyConditionExpressions cannot contain nested operations"
_NESTED_ATTRIBUTES: Final = "KeyConditionExpressions cannot have conditions on nested attributes"
_ONE_PER_KEY: Final = "KeyConditionExpressions must only contain one condition per key"
CONDITION_COUNT: Final = "Conditions can be of length 1 or 2 only"

STARTING_KEY_INVALID: Final = "The provided starting key is invalid"
SCHEMA_MISMATCH: Final = "The provided key element does not match the schema"
_NOT_SUPPORTED: Final = "Query key condition not supported"
_MISSED: Final = "Query condition missed key schema element: "
_NOT_INDEXABLE: Final = "Attempted conditional constraint is not an indexable operation"
_TYPE_MISMATCH: Final = (
    "One or more parameter values were invalid: Condition parameter type does not match schema type"
)
# INFERRED wording: AWS's text for empty key values elsewhere (errors.md KEY-05).
_EMPTY_KEY: Final = (
    "One or more parameter values are not valid. The AttributeValue for a key attribute "
    "cannot contain an empty {} value. Key: {}"
)
_OUTSIDE: Final = (
    "The provided starting key is outside query boundaries based on provided conditions"
)
_NOT_IN_RANGE: Final = "The provided starting key does not match the range key predicate"
_ONE_ROW: Final = "The query can return at most one row and cannot be restarted"

_UNINDEXABLE: Final = frozenset({"NULL", "NOT_NULL", "NE", "CONTAINS", "NOT_CONTAINS", "IN"})
_BANNED_FUNCTIONS: Final = frozenset(
    {"attribute_exists", "attribute_not_exists", "attribute_type", "contains"}
)
_COMPARATORS: Final = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}
# ``:v < k`` is ``k > :v``: the operator seen from the key's side.
_MIRRORED: Final = {"EQ": "EQ", "LT": "GT", "LE": "GE", "GT": "LT", "GE": "LE"}


@dataclass(frozen=True)
class KeyPredicate:
    """One condition on one key attribute, in legacy ComparisonOperator terms.

    ``op`` is EQ, LT, LE, GT, GE, BETWEEN or BEGINS_WITH for expressions; legacy KeyConditions
    may also carry the operators :func:`plan_query` rejects as not indexable.
    """

    op: str
    values: tuple[AttrValue, ...]


@dataclass(frozen=True)
class KeyRange:
    """The rows one Query may return: one partition, sort keys in ``[low, high)``."""

    hash_value: AttrValue
    hk: bytes
    low: bytes = b""
    high: bytes | None = None

    def holds(self, rk: bytes) -> bool:
        return rk >= self.low and (self.high is None or rk < self.high)


# -- step 1: the expression's shape ---------------------------------------------------------


def key_conditions(condition: Condition) -> dict[str, KeyPredicate]:
    """Per-attribute predicates of a parsed KeyConditionExpression (X-27..X-34)."""
    found: dict[str, KeyPredicate] = {}
    _walk(condition, found)
    if len(found) not in (1, 2):
        raise ValidationError(CONDITION_COUNT)
    return found


def _walk(node: Condition, found: dict[str, KeyPredicate]) -> None:
    if isinstance(node, Or):
        raise ValidationError(_BAD_OPERATOR + "OR")
    if isinstance(node, Not):
        raise ValidationError(_BAD_OPERATOR + "NOT")
    if isinstance(node, In):
        raise ValidationError(_BAD_OPERATOR + "IN")
    if isinstance(node, And):
        for item in node.items:
            _walk(item, found)
        return
    if isinstance(node, Compare):
        if node.op == "<>":
            raise ValidationError(_BAD_OPERATOR + "<>")
        _leaf(_COMPARATORS[node.op], (node.left, node.right), found)
        return
    if isinstance(node, Between):
        if not isinstance(node.subject, DocPath):
            raise ValidationError(
                _BAD_CONDITION + "BETWEEN operator must have the key attribute as its first operand"
            )
        _leaf("BETWEEN", (node.subject, node.low, node.high), found)
        return
    _call(node, found)


def _call(call: Call, found: dict[str, KeyPredicate]) -> None:
    if call.name in _BANNED_FUNCTIONS:
        raise ValidationError(_BAD_OPERATOR + call.name)
    if call.name != "begins_with":
        raise ValidationError(_NESTED_OPERATIONS)
    if not call.args or not isinstance(call.args[0], DocPath):
        raise ValidationError(
            _BAD_CONDITION + "begins_with operator must have the key attribute as its first operand"
        )
    _leaf("BEGINS_WITH", call.args, found)


def _leaf(op: str, operands: tuple[object, ...], found: dict[str, KeyPredicate]) -> None:
    """One comparison: exactly one top-level attribute, the rest values."""
    attribute: str | None = None
    position = 0
    for index, operand in enumerate(operands):
        if isinstance(operand, DocPath):
            if attribute is not None:
                raise ValidationError(
                    _BAD_CONDITION + "Multiple attribute names used in one condition"
                )
            if len(operand.elements) > 1:
                raise ValidationError(_NESTED_ATTRIBUTES)
            attribute, position = operand.head, index
        elif isinstance(operand, Call):
            _call(operand, found)
    if attribute is None:
        raise ValidationError(_BAD_CONDITION + "No key attribute specified")
    if attribute in found:
        raise ValidationError(_ONE_PER_KEY)
    if position != 0:
        op = _MIRRORED[op]
    values = tuple(
        operand.value
        for index, operand in enumerate(operands)
        if index != position and isinstance(operand, Literal)
    )
    found[attribute] = KeyPredicate(op, values)


# -- step 2: against the schema -------------------------------------------------------------


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest byte string above every string starting with ``prefix`` (None: no bound)."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])


def _range_bounds(predicate: KeyPredicate) -> tuple[bytes, bytes | None]:
    encoded = [encode_key(value) for value in predicate.values]
    op = predicate.op
    if op == "EQ":
        return encoded[0], encoded[0] + b"\x00"
    if op == "LT":
        return b"", encoded[0]
    if op == "LE":
        return b"", encoded[0] + b"\x00"
    if op == "GT":
        return encoded[0] + b"\x00", None
    if op == "GE":
        return encoded[0], None
    if op == "BETWEEN":
        return encoded[0], encoded[1] + b"\x00"
    return encoded[0], prefix_end(encoded[0])  # BEGINS_WITH


def _key_bytes(value: AttrValue) -> int:
    return len(encode_key(value)) if type_of(value) != "N" else 0


def _check_values(name: str, type_name: str, predicate: KeyPredicate, is_hash: bool) -> None:
    for value in predicate.values:
        raw = value[type_name]
        if type_name in ("S", "B") and raw == "":
            kind = "string" if type_name == "S" else "binary"
            raise ValidationError(_EMPTY_KEY.format(kind, name))
        limit, message = (2048, HASH_TOO_LONG) if is_hash else (1024, RANGE_TOO_LONG)
        if _key_bytes(value) > limit:
            raise ValidationError(message)


def _check_start_piece(start_key: Item, name: str, type_name: str, is_hash: bool) -> None:
    value = start_key.get(name)
    if value is None:
        raise ValidationError(STARTING_KEY_INVALID)
    if type_of(value) != type_name:
        raise ValidationError(SCHEMA_MISMATCH)
    limit, message = (2048, HASH_TOO_LONG) if is_hash else (1024, RANGE_TOO_LONG)
    if _key_bytes(value) > limit:
        raise ValidationError(message)


def plan_query(
    schema: KeySchema,
    conditions: Mapping[str, KeyPredicate],
    start_key: Item | None = None,
) -> KeyRange:
    """The key range a Query reads, after AWS's checks against the table's key schema.

    ``start_key`` (an already validated ExclusiveStartKey) is checked here too, interleaved
    with the conditions in AWS's order, but does not narrow the range: the caller resumes
    after it in the direction it reads.
    """
    if start_key is not None and len(start_key) != len(schema.key_names):
        raise ValidationError(STARTING_KEY_INVALID)
    for name, type_name in schema.attributes:
        is_hash = name == schema.hash_name
        if start_key is not None:
            _check_start_piece(start_key, name, type_name, is_hash)
        if is_hash and schema.range_name is None and len(conditions) > 1:
            raise ValidationError(_NOT_SUPPORTED)
        predicate = conditions.get(name)
        if predicate is None:
            if is_hash or len(conditions) > 1:
                raise ValidationError(_MISSED + name)
            continue
        if predicate.op in _UNINDEXABLE:
            raise ValidationError(_NOT_INDEXABLE)
        if any(type_of(value) != type_name for value in predicate.values):
            raise ValidationError(_TYPE_MISMATCH)
        if is_hash and predicate.op != "EQ":
            raise ValidationError(_NOT_SUPPORTED)
        _check_values(name, type_name, predicate, is_hash)

    hash_value = conditions[schema.hash_name].values[0]
    hk = encode_key(hash_value)
    ranged = conditions.get(schema.range_name) if schema.range_name is not None else None
    low, high = _range_bounds(ranged) if ranged is not None else (b"", None)
    key_range = KeyRange(hash_value, hk, low, high)
    if start_key is not None:
        _check_start_bounds(schema, key_range, ranged is not None, start_key)
    return key_range


def _check_start_bounds(
    schema: KeySchema, key_range: KeyRange, ranged: bool, start_key: Item
) -> None:
    same_partition = encode_key(start_key[schema.hash_name]) == key_range.hk
    if not ranged or schema.range_name is None:
        if not same_partition:
            raise ValidationError(_OUTSIDE)
        return
    if not key_range.holds(encode_key(start_key[schema.range_name])):
        raise ValidationError(_NOT_IN_RANGE)
    if not same_partition:
        raise ValidationError(_ONE_ROW)
