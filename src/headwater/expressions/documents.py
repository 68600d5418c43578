"""Reading and writing document paths inside wire-form items.

A path step into a map needs ``M``, a step into a list needs ``L`` and an index in range;
anything else means "not there". Writers mutate the item they are given, so callers pass a
copy. Imports the AST, the model and ``headwater.errors``.
"""

from __future__ import annotations

from typing import Final

from headwater.errors import ValidationError
from headwater.expressions.ast import Path, PathElement
from headwater.model.types import AttrValue, Item

INVALID_PATH: Final = "The document path provided in the update expression is invalid for update"


def step(value: AttrValue | None, element: PathElement) -> AttrValue | None:
    """One path step down from ``value``, or None when it leads nowhere."""
    if value is None:
        return None
    if isinstance(element, str):
        members = value.get("M")
        return None if members is None else members.get(element)
    elements = value.get("L")
    if elements is None or element >= len(elements):
        return None
    found: AttrValue = elements[element]
    return found


def get_path(item: Item | None, path: Path) -> AttrValue | None:
    """The value at ``path`` in ``item``, or None when any step is missing."""
    if item is None:
        return None
    value = item.get(path.head)
    for element in path.elements[1:]:
        value = step(value, element)
    return value


def parent_of(item: Item, path: Path) -> AttrValue | None:
    """The container holding the last element of a nested path, or None."""
    value = item.get(path.head)
    for element in path.elements[1:-1]:
        value = step(value, element)
    return value


def set_path(item: Item, path: Path, value: AttrValue) -> None:
    """Write ``value`` at ``path``; a list index past the end appends, as DynamoDB does."""
    if len(path.elements) == 1:
        item[path.head] = value
        return
    parent = parent_of(item, path)
    last = path.elements[-1]
    if parent is None:
        raise ValidationError(INVALID_PATH)
    if isinstance(last, str):
        if "M" not in parent:
            raise ValidationError(INVALID_PATH)
        parent["M"][last] = value
        return
    if "L" not in parent:
        raise ValidationError(INVALID_PATH)
    elements = parent["L"]
    if last < len(elements):
        elements[last] = value
    else:
        elements.append(value)


def remove_path(item: Item, path: Path, *, item_exists: bool = True) -> None:
    """Delete whatever is at ``path``; a missing leaf is fine, a missing parent is not.

    AWS ignores a nested REMOVE entirely when the item itself does not exist yet.
    """
    if len(path.elements) == 1:
        item.pop(path.head, None)
        return
    parent = parent_of(item, path)
    last = path.elements[-1]
    if parent is None:
        if item_exists:
            raise ValidationError(INVALID_PATH)
        return
    if isinstance(last, str):
        if "M" not in parent:
            raise ValidationError(INVALID_PATH)
        parent["M"].pop(last, None)
        return
    if "L" not in parent:
        raise ValidationError(INVALID_PATH)
    if last < len(parent["L"]):
        del parent["L"][last]
