"""Semantic problems found while parsing, reported in the order AWS reports them.

A parse can find several problems at once (a reserved word, an undefined ``#name``, a bad
operand type); AWS reports one, by a fixed priority per expression kind, and the first of a
category wins. Syntax errors are not collected here: they stop the parse at once.
Imports only ``headwater.errors``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from headwater.errors import ValidationError

CONDITION: Final = "condition"


def invalid(kind: str, message: str) -> ValidationError:
    """An expression error: ``Invalid <Kind>: <message>``."""
    return ValidationError(f"Invalid {kind}: {message}")


class Issues:
    """First message per category, raised by priority once the parse has succeeded.

    ``leaf_order`` serves condition expressions: problems inside one comparison or function
    are ranked among themselves when that condition is complete, and the first condition
    with a problem supplies the ``condition`` category (as AWS does).
    """

    def __init__(self, kind: str, order: Sequence[str], leaf_order: Sequence[str] = ()) -> None:
        self.kind = kind
        self._order = tuple(order)
        self._leaf_order = tuple(leaf_order)
        self._found: dict[str, str] = {}
        self._leaf: dict[str, str] = {}

    def note(self, category: str, message: str) -> None:
        target = self._leaf if category in self._leaf_order else self._found
        target.setdefault(category, message)

    def settle_leaf(self) -> None:
        if CONDITION in self._found:
            return
        for category in self._leaf_order:
            if category in self._leaf:
                self._found[CONDITION] = self._leaf[category]
                return

    def raise_first(self) -> None:
        self.settle_leaf()
        for category in self._order:
            if category in self._found:
                raise invalid(self.kind, self._found[category])
