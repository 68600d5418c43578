"""The legacy (pre-expression) parameters, translated into the trees the expression parameters
parse to: ``Expected`` with ``ConditionalOperator`` becomes a condition, ``AttributeUpdates``
an update plan, ``KeyConditions`` / ``QueryFilter`` / ``ScanFilter`` key predicates and a
filter, ``AttributesToGet`` a projection (errors.md EP-01..EP-03, EXP-01..EXP-12,
UPD-04..UPD-07, UPD-11; AWS's API Reference, "ExpectedAttributeValue", "AttributeValueUpdate"
and "Condition").

Nothing here runs unless a request carries one of these members, so the expression path pays
for no more than a few dictionary look-ups.
"""

from __future__ import annotations

from typing import Any, Final

from headwater.errors import ValidationError
from headwater.expressions import Condition, Path, Projection, UpdatePlan
from headwater.expressions.ast import (
    AddAction,
    And,
    Between,
    Call,
    Compare,
    DeleteAction,
    In,
    Literal,
    Not,
    Or,
    RemoveAction,
    SetAction,
    UpdateAction,
)
from headwater.expressions.key_condition import KeyPredicate
from headwater.expressions.update import WRONG_TYPE
from headwater.model.compare import compare
from headwater.model.types import type_of
from headwater.model.values import validate_value

Body = dict[str, Any]

_INVALID: Final = "One or more parameter values were invalid: "
_NAMES_WITHOUT_EXPRESSION: Final = (
    "ExpressionAttributeNames can only be specified when using expressions"
)
# Arguments each legacy ComparisonOperator takes (None: one or more).
_ARITY: Final[dict[str, int | None]] = {
    "EQ": 1,
    "NE": 1,
    "LE": 1,
    "LT": 1,
    "GE": 1,
    "GT": 1,
    "CONTAINS": 1,
    "NOT_CONTAINS": 1,
    "BEGINS_WITH": 1,
    "NULL": 0,
    "NOT_NULL": 0,
    "IN": None,
    "BETWEEN": 2,
}
_SCALARS: Final = ("S", "N", "B")
# The value types each operator accepts (EQ and NE take any type).
_OPERAND_TYPES: Final = {
    "LE": _SCALARS,
    "LT": _SCALARS,
    "GE": _SCALARS,
    "GT": _SCALARS,
    "CONTAINS": _SCALARS,
    "NOT_CONTAINS": _SCALARS,
    "BEGINS_WITH": ("S", "B"),
    "IN": _SCALARS,
    "BETWEEN": _SCALARS,
}
_COMPARISONS: Final = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}

# The wording DynamoDB Local and the peers' dual-target tests record for a ConditionalOperator
# with too few conditions to join (INFERRED for the write operations).
NO_CONDITIONS: Final = "ConditionalOperator cannot be used without Filter or Expected"
ONE_CONDITION: Final = (
    "ConditionalOperator can only be used when Filter or Expected has two or more elements"
)
# UPD-11: a legacy ADD or DELETE whose value does not suit the stored attribute.
LEGACY_WRONG_TYPE: Final = "Type mismatch for attribute to update"
_SETS: Final = ("SS", "NS", "BS")


def check_conditional_operator(body: Body, conditions: Any) -> None:
    """A ConditionalOperator needs two or more conditions (Expected, QueryFilter, ScanFilter)
    to join."""
    if body.get("ConditionalOperator") is None:
        return
    if not conditions:
        raise ValidationError(NO_CONDITIONS)
    if len(conditions) < 2:
        raise ValidationError(ONE_CONDITION)


def _expected_one(name: str, spec: Body, index: int) -> Condition:
    """One ``Expected`` entry as a condition, with AWS's checks in its order (EXP-01..EXP-08)."""
    exists, value = spec.get("Exists"), spec.get("Value")
    op, values = spec.get("ComparisonOperator"), spec.get("AttributeValueList")
    where = f"for Attribute: {name}"
    if exists is not None and op is not None:
        raise ValidationError(
            f"{_INVALID}Exists and ComparisonOperator cannot be used together {where}"
        )
    if value is not None and values is not None:
        raise ValidationError(
            f"{_INVALID}Value and AttributeValueList cannot be used together {where}"
        )
    if values is not None and op is None:
        raise ValidationError(
            f"{_INVALID}AttributeValueList can only be used with a ComparisonOperator {where}"
        )
    if op is not None:
        if value is None and values is None and op not in ("NULL", "NOT_NULL"):
            raise ValidationError(
                f"{_INVALID}Value or AttributeValueList must be used with ComparisonOperator: "
                f"{op} {where}"
            )
        listed = values if values is not None else ([value] if value is not None else [])
        entry = {"ComparisonOperator": op, "AttributeValueList": listed}
        checked = legacy_conditions({name: entry})
        condition = legacy_filter(checked, None)
        assert condition is not None
        return condition
    path = Path((name,))
    if exists is False:
        if value is not None:
            raise ValidationError(f"{_INVALID}Value cannot be used when Exists is false {where}")
        return Call("attribute_not_exists", (path,))
    if value is None:
        state = "true" if exists else "null"
        raise ValidationError(f"{_INVALID}Value must be provided when Exists is {state} {where}")
    return Compare("=", path, Literal(f":expected{index}", validate_value(value)))


def expected_condition(body: Body) -> Condition | None:
    """``Expected`` (joined by ``ConditionalOperator``, AND unless OR) as a condition tree."""
    expected: dict[str, Body] | None = body.get("Expected")
    check_conditional_operator(body, expected)
    if not expected:
        return None
    parts = tuple(
        _expected_one(name, spec, index) for index, (name, spec) in enumerate(expected.items())
    )
    if len(parts) == 1:
        return parts[0]
    return Or(parts) if body.get("ConditionalOperator") == "OR" else And(parts)


def _update_action(name: str, spec: Body, index: int) -> UpdateAction:
    action = spec.get("Action") or "PUT"
    raw = spec.get("Value")
    path = Path((name,))
    if raw is None:
        if action != "DELETE":
            raise ValidationError(
                f"{_INVALID}Only DELETE action is allowed when no attribute value is specified"
            )
        return RemoveAction(path)
    value = Literal(f":update{index}", validate_value(raw))
    kind = type_of(value.value)
    if action == "PUT":
        return SetAction(path, value)
    if action == "DELETE":
        if kind not in _SETS:
            raise ValidationError(
                f"{_INVALID}DELETE action with value is not supported for the type {kind}"
            )
        return DeleteAction(path, value)
    if kind == "L":
        # ADD of a list appends it to the stored list (or starts one).
        start = Call("if_not_exists", (path, Literal(f":empty{index}", {"L": []})))
        return SetAction(path, Call("list_append", (start, value)))
    if kind != "N" and kind not in _SETS:
        raise ValidationError(f"{_INVALID}ADD action is not supported for the type {kind}")
    return AddAction(path, value)


def attribute_updates_plan(updates: dict[str, Body]) -> UpdatePlan:
    """``AttributeUpdates`` as an update plan. A key attribute in it is refused when the plan
    is applied, with the same words as for an UpdateExpression (UPD-07)."""
    actions = [
        _update_action(name, spec, index) for index, (name, spec) in enumerate(updates.items())
    ]
    return UpdatePlan(tuple(actions))


def legacy_type_error(error: ValidationError) -> ValidationError:
    """The expression wording of a stored-type clash, reworded for AttributeUpdates (UPD-11)."""
    return ValidationError(LEGACY_WRONG_TYPE) if error.message == WRONG_TYPE else error


# -- shared with Query and Scan ----------------------------------------------------------------


def check_mixing(body: Body, expressions: tuple[str, ...], legacy: tuple[str, ...]) -> None:
    """EP-01..EP-03: expression and legacy parameters, and placeholders with no expression."""
    used = [name for name in expressions if body.get(name) is not None]
    if used:
        old = [name for name in legacy if body.get(name) is not None]
        if body.get("KeyConditionExpression") is None and "KeyConditions" in old:
            old.remove("KeyConditions")  # KeyConditions may go with a filter or projection
        if old:
            raise ValidationError(
                "Can not use both expression and non-expression parameters in the same request: "
                f"Non-expression parameters: {{{', '.join(old)}}} "
                f"Expression parameters: {{{', '.join(used)}}}"
            )
    if body.get("ExpressionAttributeNames") is not None and not used:
        raise ValidationError(_NAMES_WITHOUT_EXPRESSION)
    takes_values = [name for name in expressions if name != "ProjectionExpression"]
    if (
        takes_values
        and body.get("ExpressionAttributeValues") is not None
        and all(body.get(name) is None for name in takes_values)
    ):
        verb = "are" if len(takes_values) > 1 else "is"
        raise ValidationError(
            "ExpressionAttributeValues can only be specified when using expressions: "
            f"{' and '.join(takes_values)} {verb} null"
        )


def legacy_conditions(conditions: dict[str, Any] | None) -> dict[str, KeyPredicate] | None:
    """EXP-08..EXP-11 for KeyConditions / QueryFilter / ScanFilter, with values normalised."""
    if conditions is None:
        return None
    checked: dict[str, KeyPredicate] = {}
    for name, condition in conditions.items():
        op = condition["ComparisonOperator"]
        values = tuple(validate_value(v) for v in condition.get("AttributeValueList") or ())
        arity = _ARITY[op]
        if (arity is None and not values) or (arity is not None and len(values) != arity):
            raise ValidationError(
                f"{_INVALID}Invalid number of argument(s) for the {op} ComparisonOperator"
            )
        types = [type_of(value) for value in values]
        if any(found != types[0] for found in types):
            raise ValidationError(
                f"{_INVALID}AttributeValues inside AttributeValueList must be of same type"
            )
        allowed = _OPERAND_TYPES.get(op)
        for found in types:
            if allowed is not None and found not in allowed:
                raise ValidationError(
                    f"{_INVALID}ComparisonOperator {op} is not valid for {found} "
                    "AttributeValue type"
                )
        if op == "BETWEEN" and compare(values[0], values[1]) > 0:
            raise ValidationError(
                "The BETWEEN condition was provided a range where the lower bound is greater "
                "than the upper bound"
            )
        checked[name] = KeyPredicate(op, values)
    return checked


def legacy_filter(
    conditions: dict[str, KeyPredicate] | None, operator: str | None
) -> Condition | None:
    """QueryFilter / ScanFilter as the condition tree a FilterExpression would parse to."""
    if not conditions:
        return None
    parts: list[Condition] = []
    for index, (name, predicate) in enumerate(conditions.items()):
        path = Path((name,))
        values = [Literal(f":legacy{index}_{i}", v) for i, v in enumerate(predicate.values)]
        op = predicate.op
        part: Condition
        if op in _COMPARISONS:
            part = Compare(_COMPARISONS[op], path, values[0])
        elif op == "NULL":
            part = Call("attribute_not_exists", (path,))
        elif op == "NOT_NULL":
            part = Call("attribute_exists", (path,))
        elif op == "CONTAINS":
            part = Call("contains", (path, values[0]))
        elif op == "NOT_CONTAINS":
            part = Not(Call("contains", (path, values[0])))
        elif op == "BEGINS_WITH":
            part = Call("begins_with", (path, values[0]))
        elif op == "IN":
            part = In(path, tuple(values))
        else:
            part = Between(path, values[0], values[1])
        parts.append(part)
    if len(parts) == 1:
        return parts[0]
    return Or(tuple(parts)) if operator == "OR" else And(tuple(parts))


def attributes_to_get(body: Body) -> Projection | None:
    names = body.get("AttributesToGet")
    if names is None:
        return None
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValidationError(f"{_INVALID}Duplicate value in attribute name: {name}")
        seen.add(name)
    return Projection(tuple(Path((name,)) for name in names))
