"""Applying a parsed UpdateExpression to an item, returning the new item.

Right-hand sides read the item as it was before the update (so ``SET a = b, b = a`` swaps),
the input is never mutated, and an absent item starts as its key (UpdateItem upserts).
Errors against stored data carry AWS's UPD-* messages. Imports the AST, documents, the
model and ``headwater.errors``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Final

from headwater.errors import ValidationError
from headwater.expressions.ast import (
    AddAction,
    Arithmetic,
    DeleteAction,
    Literal,
    Operand,
    Path,
    RemoveAction,
    SetAction,
    SetValue,
    UpdateAction,
    UpdatePlan,
)
from headwater.expressions.documents import get_path, parent_of, remove_path, set_path
from headwater.expressions.projection import project_paths
from headwater.model.compare import b64_bytes
from headwater.model.numbers import add, parse_number
from headwater.model.types import AttrValue, Item, type_of

WRONG_TYPE: Final = "An operand in the update expression has an incorrect data type"
MISSING_OPERAND: Final = (
    "The provided expression refers to an attribute that does not exist in the item"
)
INVALID_PATH: Final = "The document path provided in the update expression is invalid for update"


def _check_keys(actions: Iterable[UpdateAction], key_names: Iterable[str]) -> None:
    keys = set(key_names)
    for action in actions:
        head = action.path.head
        if head not in keys:
            continue
        if len(action.path.elements) > 1:
            raise ValidationError(
                "Key attributes must be scalars; list random access '[]' and map lookup '.' "
                f"are not allowed: Key: {head}"
            )
        raise ValidationError(
            "One or more parameter values were invalid: "
            f"Cannot update attribute {head}. This attribute is part of the key"
        )


def _operand(operand: Operand, item: Item) -> AttrValue:
    if isinstance(operand, Literal):
        return operand.value
    if isinstance(operand, Path):
        found = get_path(item, operand)
        if found is None:
            raise ValidationError(MISSING_OPERAND)
        return found
    if operand.name == "if_not_exists":
        path = operand.args[0]
        existing = get_path(item, path) if isinstance(path, Path) else None
        return existing if existing is not None else _operand(operand.args[1], item)
    # list_append: the parser admits no other function here
    first, second = (_operand(arg, item) for arg in operand.args)
    if type_of(first) != "L" or type_of(second) != "L":
        raise ValidationError(WRONG_TYPE)
    return {"L": [*first["L"], *second["L"]]}


def _set_value(value: SetValue, item: Item) -> AttrValue:
    if not isinstance(value, Arithmetic):
        return copy.deepcopy(_operand(value, item))
    left, right = _operand(value.left, item), _operand(value.right, item)
    if type_of(left) != "N" or type_of(right) != "N":
        raise ValidationError(WRONG_TYPE)
    return {"N": add(left["N"], right["N"], subtract=value.op == "-")}


def _set_members(set_value: AttrValue) -> list[object]:
    """Comparable identities of a set's members (numbers by value, binary by bytes)."""
    type_name = type_of(set_value)
    if type_name == "NS":
        return [parse_number(x) for x in set_value["NS"]]
    if type_name == "BS":
        return [b64_bytes(x) for x in set_value["BS"]]
    return list(set_value[type_name])


def _add(item: Item, action: AddAction) -> None:
    value = action.value.value
    current = get_path(item, action.path)
    if current is None:
        set_path(item, action.path, copy.deepcopy(value))
        return
    kind = type_of(value)
    if type_of(current) != kind:
        raise ValidationError(WRONG_TYPE)
    if kind == "N":
        set_path(item, action.path, {"N": add(current["N"], value["N"])})
        return
    present = set(_set_members(current))
    merged = list(current[kind])
    for member, identity in zip(value[kind], _set_members(value), strict=True):
        if identity not in present:
            present.add(identity)
            merged.append(member)
    set_path(item, action.path, {kind: merged})


def _delete(item: Item, action: DeleteAction, *, item_exists: bool) -> None:
    value = action.value.value
    current = get_path(item, action.path)
    if current is None:
        if len(action.path.elements) > 1 and item_exists and parent_of(item, action.path) is None:
            raise ValidationError(INVALID_PATH)
        return
    kind = type_of(value)
    if type_of(current) != kind:
        raise ValidationError(WRONG_TYPE)
    removed = set(_set_members(value))
    kept = [
        member
        for member, identity in zip(current[kind], _set_members(current), strict=True)
        if identity not in removed
    ]
    if kept:
        set_path(item, action.path, {kind: kept})
    else:
        remove_path(item, action.path)


def _list_position(path: Path) -> tuple[int, tuple[str, ...], int]:
    """Sort key: list-index targets grouped by list, by index; the rest keep their order."""
    last = path.elements[-1]
    if isinstance(last, int):
        return (1, tuple(map(str, path.elements[:-1])), last)
    return (0, (), 0)


def apply_update(plan: UpdatePlan, item: Item | None, key: Item, key_names: Iterable[str]) -> Item:
    """The item after the update; ``item`` None means the item does not exist yet."""
    _check_keys(plan.actions, key_names)
    original = item if item is not None else key
    result = copy.deepcopy(original)
    sets = [action for action in plan.actions if isinstance(action, SetAction)]
    values = [_set_value(action.value, original) for action in sets]
    # Several SETs past the end of one list append in index order (AWS documents this).
    for index in sorted(range(len(sets)), key=lambda i: _list_position(sets[i].path)):
        set_path(result, sets[index].path, values[index])
    removes = [action for action in plan.actions if isinstance(action, RemoveAction)]
    # Later list indexes go first so earlier removals do not shift them.
    for action in sorted(removes, key=lambda a: _list_position(a.path), reverse=True):
        remove_path(result, action.path, item_exists=item is not None)
    for other in plan.actions:
        if isinstance(other, AddAction):
            _add(result, other)
        elif isinstance(other, DeleteAction):
            _delete(result, other, item_exists=item is not None)
    return result


def updated_attributes(item: Item | None, plan: UpdatePlan) -> Item:
    """The parts of ``item`` the update names: UPDATED_OLD on the old item, _NEW on the new."""
    return project_paths(item or {}, plan.paths)
