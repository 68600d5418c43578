"""What a PartiQL WHERE clause says about an item's key, for choosing how to read.

A statement's WHERE is a condition tree; the helpers here find its top-level conjuncts that a
key can serve: the full key pinned with ``=`` (one item), key conditions a Query can use
(the partition key with ``=``, a sort key range), or ``<partition key> IN [...]`` (one Query per
value). Whatever they pick, the whole WHERE is still applied to what is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from headwater.errors import ValidationError
from headwater.expressions.ast import (
    And,
    Between,
    Call,
    Compare,
    Condition,
    In,
    Literal,
    Path,
)
from headwater.expressions.key_condition import KeyPredicate, plan_query
from headwater.model.keys import KeySchema
from headwater.model.types import Item, type_of

# Recalled from AWS (not in errors.md): UPDATE / DELETE / keyed reads without the full key.
NO_KEY_EQUALITY: Final = "Where clause does not contain a mandatory equality on all key attributes"
_ORDERED: Final = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}
_MIRRORED: Final = {"EQ": "EQ", "LT": "GT", "LE": "GE", "GT": "LT", "GE": "LE"}


def conjuncts(condition: Condition | None) -> list[Condition]:
    """The parts of a (nested) top-level AND, in the order written."""
    if condition is None:
        return []
    if isinstance(condition, And):
        found: list[Condition] = []
        for item in condition.items:
            found.extend(conjuncts(item))
        return found
    return [condition]


def join_conditions(parts: Sequence[Condition]) -> Condition | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _attribute(operand: object, schema: KeySchema) -> str | None:
    if isinstance(operand, Path) and len(operand.elements) == 1:
        name = operand.head
        if name in schema.key_names:
            return name
    return None


def split_key(schema: KeySchema, where: Condition | None) -> tuple[Item, Condition | None]:
    """The key a WHERE pins with ``=`` on every key attribute, and the rest of the WHERE."""
    key: Item = {}
    rest: list[Condition] = []
    for part in conjuncts(where):
        if isinstance(part, Compare) and part.op == "=":
            for side, other in ((part.left, part.right), (part.right, part.left)):
                name = _attribute(side, schema)
                if name is not None and isinstance(other, Literal) and name not in key:
                    key[name] = other.value
                    break
            else:
                rest.append(part)
        else:
            rest.append(part)
    if len(key) != len(schema.key_names):
        raise ValidationError(NO_KEY_EQUALITY)
    return schema.validate_key(key), join_conditions(rest)


def _key_predicate(part: Condition, schema: KeySchema) -> tuple[str, KeyPredicate] | None:
    """A conjunct the key range can serve: a key attribute against values of its type."""
    types = dict(schema.attributes)
    if isinstance(part, Compare) and part.op in _ORDERED:
        for side, other, mirrored in (
            (part.left, part.right, False),
            (part.right, part.left, True),
        ):
            name = _attribute(side, schema)
            if name is not None and isinstance(other, Literal):
                if type_of(other.value) != types[name]:
                    return None
                op = _ORDERED[part.op]
                return name, KeyPredicate(_MIRRORED[op] if mirrored else op, (other.value,))
        return None
    if isinstance(part, Between):
        name = _attribute(part.subject, schema)
        low, high = part.low, part.high
        if name is None or not isinstance(low, Literal) or not isinstance(high, Literal):
            return None
        if type_of(low.value) != types[name] or type_of(high.value) != types[name]:
            return None
        return name, KeyPredicate("BETWEEN", (low.value, high.value))
    if isinstance(part, Call) and part.name == "begins_with":
        name = _attribute(part.args[0], schema)
        prefix = part.args[1]
        if name is None or not isinstance(prefix, Literal):
            return None
        if types[name] not in ("S", "B") or type_of(prefix.value) != types[name]:
            return None
        return name, KeyPredicate("BEGINS_WITH", (prefix.value,))
    return None


def partition_choices(schema: KeySchema, where: Condition | None) -> list[Any] | None:
    """The partition key values of a top-level ``<partition key> IN [...]`` conjunct (each a
    value of the key's type, duplicates dropped, in the order written), or None."""
    hash_type = dict(schema.attributes)[schema.hash_name]
    for part in conjuncts(where):
        if not isinstance(part, In) or _attribute(part.subject, schema) != schema.hash_name:
            continue
        values: list[Any] = []
        for choice in part.choices:
            if not isinstance(choice, Literal) or type_of(choice.value) != hash_type:
                break
            if choice.value not in values:
                values.append(choice.value)
        else:
            return values
    return None


def query_conditions(schema: KeySchema, where: Condition | None) -> dict[str, KeyPredicate] | None:
    """The key conditions a Query can serve this WHERE with, or None for a Scan."""
    hash_predicate: KeyPredicate | None = None
    range_predicate: KeyPredicate | None = None
    for part in conjuncts(where):
        found = _key_predicate(part, schema)
        if found is None:
            continue
        name, predicate = found
        if name == schema.hash_name:
            if predicate.op == "EQ" and hash_predicate is None:
                hash_predicate = predicate
        elif range_predicate is None:
            range_predicate = predicate
    if hash_predicate is None:
        return None
    conditions = {schema.hash_name: hash_predicate}
    if range_predicate is not None and schema.range_name is not None:
        conditions[schema.range_name] = range_predicate
    try:
        plan_query(schema, conditions)
    except ValidationError:
        return None  # e.g. an empty or oversized key value: no item can match; scan finds none
    return conditions
