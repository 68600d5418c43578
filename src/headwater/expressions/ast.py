"""The syntax tree shared by every expression kind, as frozen dataclasses.

Names and values are already substituted: a ``Path`` holds real attribute names and a
``Literal`` the (validated) AttributeValue. Imports only the model's type aliases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from headwater.model.types import AttrValue

PathElement: TypeAlias = str | int
"""A map key (``str``) or a list index (``int``)."""


@dataclass(frozen=True)
class Path:
    """A document path such as ``a.b[2].c``."""

    elements: tuple[PathElement, ...]

    @property
    def head(self) -> str:
        first = self.elements[0]
        return first if isinstance(first, str) else str(first)

    def __str__(self) -> str:
        """AWS's rendering in error messages: ``[a, b, [2], c]``."""
        parts = (f"[{x}]" if isinstance(x, int) else x for x in self.elements)
        return "[" + ", ".join(parts) + "]"


@dataclass(frozen=True)
class Literal:
    """An ExpressionAttributeValues placeholder and the value it stands for.

    The value takes part in equality but not in the hash: dicts cannot be hashed, and the
    placeholder name already tells literals of one request apart.
    """

    name: str
    value: AttrValue = field(hash=False)


@dataclass(frozen=True)
class Call:
    """A function call: a condition function, ``size``, ``if_not_exists`` or ``list_append``."""

    name: str
    args: tuple[Operand, ...]


@dataclass(frozen=True)
class Arithmetic:
    """``left + right`` or ``left - right`` on the right side of a SET action."""

    op: str
    left: Operand
    right: Operand


Operand: TypeAlias = Path | Literal | Call
SetValue: TypeAlias = Path | Literal | Call | Arithmetic


@dataclass(frozen=True)
class Compare:
    op: str  # one of = <> < <= > >=
    left: Operand
    right: Operand


@dataclass(frozen=True)
class Between:
    subject: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True)
class In:
    subject: Operand
    choices: tuple[Operand, ...]


@dataclass(frozen=True)
class And:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition: TypeAlias = Compare | Between | In | Call | And | Or | Not
"""A parsed ConditionExpression, FilterExpression or KeyConditionExpression."""


@dataclass(frozen=True)
class SetAction:
    path: Path
    value: SetValue


@dataclass(frozen=True)
class RemoveAction:
    path: Path


@dataclass(frozen=True)
class AddAction:
    path: Path
    value: Literal


@dataclass(frozen=True)
class DeleteAction:
    path: Path
    value: Literal


UpdateAction: TypeAlias = SetAction | RemoveAction | AddAction | DeleteAction


@dataclass(frozen=True)
class UpdatePlan:
    """A parsed UpdateExpression: its actions in the order they were written."""

    actions: tuple[UpdateAction, ...]

    @property
    def paths(self) -> tuple[Path, ...]:
        return tuple(action.path for action in self.actions)

    @property
    def changed_attributes(self) -> tuple[str, ...]:
        """Top-level attribute names the update touches, first mention first."""
        return tuple(dict.fromkeys(path.head for path in self.paths))


@dataclass(frozen=True)
class Projection:
    """A parsed ProjectionExpression: the paths to keep."""

    paths: tuple[Path, ...]
