"""Evaluating a parsed condition or filter against an item.

Like DynamoDB, evaluation never fails on data: a missing attribute or a type mismatch just
makes that comparison false (``<>`` true), so a condition fails cleanly instead of erroring.
Imports the AST, document access and the model.
"""

from __future__ import annotations

from typing import Final

from headwater.expressions.ast import (
    And,
    Between,
    Call,
    Compare,
    Condition,
    Literal,
    Not,
    Operand,
    Or,
    Path,
)
from headwater.expressions.documents import get_path
from headwater.model.compare import b64_bytes, comparable, compare, values_equal
from headwater.model.numbers import parse_number
from headwater.model.types import SET_MEMBER_TYPE, AttrValue, Item, type_of

_ORDERINGS: Final = {
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
}


def attribute_size(value: AttrValue | None) -> int | None:
    """What ``size()`` returns: UTF-16 units of a string, bytes of binary, element counts."""
    if value is None:
        return None
    type_name = type_of(value)
    raw = value[type_name]
    if type_name == "S":
        return len(raw.encode("utf-16-le", "surrogatepass")) // 2
    if type_name == "B":
        return len(b64_bytes(raw))
    if type_name in ("SS", "NS", "BS", "L", "M"):
        return len(raw)
    return None


def resolve(operand: Operand, item: Item | None) -> AttrValue | None:
    """The value an operand stands for in ``item``; None when there is none."""
    if isinstance(operand, Literal):
        return operand.value
    if isinstance(operand, Path):
        return get_path(item, operand)
    if operand.name == "size":
        size = attribute_size(resolve(operand.args[0], item))
        return None if size is None else {"N": str(size)}
    return None


def _begins_with(value: AttrValue | None, prefix: AttrValue | None) -> bool:
    if value is None or prefix is None or type_of(value) != type_of(prefix):
        return False
    if "S" in value:
        return bool(value["S"].startswith(prefix["S"]))
    if "B" in value:
        return b64_bytes(value["B"]).startswith(b64_bytes(prefix["B"]))
    return False


def _contains(container: AttrValue | None, member: AttrValue | None) -> bool:
    if container is None or member is None:
        return False
    container_type, member_type = type_of(container), type_of(member)
    if container_type == "S" and member_type == "S":
        return bool(member["S"] in container["S"])
    if container_type == "B" and member_type == "B":
        return b64_bytes(member["B"]) in b64_bytes(container["B"])
    if SET_MEMBER_TYPE.get(container_type) == member_type:
        if member_type == "N":
            wanted = parse_number(member["N"])
            return any(parse_number(x) == wanted for x in container["NS"])
        if member_type == "B":
            return b64_bytes(member["B"]) in {b64_bytes(x) for x in container["BS"]}
        return bool(member["S"] in container["SS"])
    if container_type == "L":
        return any(values_equal(element, member) for element in container["L"])
    return False


def _call(call: Call, item: Item | None) -> bool:
    name = call.name
    if name == "attribute_exists":
        return resolve(call.args[0], item) is not None
    if name == "attribute_not_exists":
        return resolve(call.args[0], item) is None
    if name == "attribute_type":
        value, wanted = resolve(call.args[0], item), resolve(call.args[1], item)
        return value is not None and wanted is not None and type_of(value) == wanted.get("S")
    if name == "begins_with":
        return _begins_with(resolve(call.args[0], item), resolve(call.args[1], item))
    if name == "contains":
        return _contains(resolve(call.args[0], item), resolve(call.args[1], item))
    return False


def _ordered(op: str, left: AttrValue | None, right: AttrValue | None) -> bool:
    if left is None or right is None or not comparable(left, right):
        return False
    return bool(_ORDERINGS[op](compare(left, right)))


def evaluate_condition(condition: Condition, item: Item | None) -> bool:
    """Whether ``item`` satisfies the condition; ``None`` stands for an absent item."""
    if isinstance(condition, And):
        return all(evaluate_condition(part, item) for part in condition.items)
    if isinstance(condition, Or):
        return any(evaluate_condition(part, item) for part in condition.items)
    if isinstance(condition, Not):
        return not evaluate_condition(condition.item, item)
    if isinstance(condition, Call):
        return _call(condition, item)
    if isinstance(condition, Compare):
        left, right = resolve(condition.left, item), resolve(condition.right, item)
        if condition.op == "=":
            return values_equal(left, right)
        if condition.op == "<>":
            return not values_equal(left, right)
        return _ordered(condition.op, left, right)
    if isinstance(condition, Between):
        value = resolve(condition.subject, item)
        low, high = resolve(condition.low, item), resolve(condition.high, item)
        return _ordered(">=", value, low) and _ordered("<=", value, high)
    subject = resolve(condition.subject, item)
    return subject is not None and any(
        values_equal(subject, resolve(choice, item)) for choice in condition.choices
    )
