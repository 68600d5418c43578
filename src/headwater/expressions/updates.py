"""The grammar of UpdateExpression: SET, REMOVE, ADD and DELETE sections.

Each section may appear once, in any order; its actions are comma-separated. The result is
an ``UpdatePlan`` that ``expressions.update`` applies to an item.
"""

from __future__ import annotations

from typing import Final

from headwater.expressions.ast import (
    AddAction,
    Arithmetic,
    Call,
    DeleteAction,
    RemoveAction,
    SetAction,
    SetValue,
    UpdateAction,
    UpdatePlan,
)
from headwater.expressions.cache import ParseCache
from headwater.expressions.functions import check_add_delete, check_arithmetic, check_update_call
from headwater.expressions.issues import Issues
from headwater.expressions.lexer import Kind
from headwater.expressions.names import ExpressionParams
from headwater.expressions.parser import Parser, note_path_clashes

KIND: Final = "UpdateExpression"
SECTIONS: Final = ("SET", "REMOVE", "ADD", "DELETE")
_ORDER: Final = (
    "reserved",
    "unknown_function",
    "misused_function",
    "section",
    "undefined_name",
    "undefined_value",
    "overlap",
    "conflict",
    "operand",
    "function",
)


class UpdateParser(Parser):
    keywords = frozenset(SECTIONS)
    name_category = "undefined_name"
    value_category = "undefined_value"

    def __init__(self, text: str, params: ExpressionParams) -> None:
        super().__init__(text, KIND, params, Issues(KIND, _ORDER))

    def check_call(self, call: Call) -> None:
        check_update_call(call, self.issues)

    def parse(self) -> UpdatePlan:
        actions: list[UpdateAction] = []
        seen: set[str] = set()
        while True:
            token = self.token
            section = token.text.upper() if token.kind is Kind.NAME else ""
            if section not in SECTIONS:
                raise self.syntax_error()
            self.advance()
            actions.append(self._action(section))
            while self.token.is_punct(","):
                self.advance()
                actions.append(self._action(section))
            if section in seen:
                self.issues.note(
                    "section",
                    f'The "{section}" section can only be used once in an update expression;',
                )
            seen.add(section)
            if self.at_end():
                break
        note_path_clashes([action.path for action in actions], self.issues)
        self.issues.raise_first()
        return UpdatePlan(tuple(actions))

    def _action(self, section: str) -> UpdateAction:
        path = self.parse_path()
        if section == "SET":
            self.expect("=")
            return SetAction(path, self._set_value())
        if section == "REMOVE":
            return RemoveAction(path)
        value = self.parse_value()
        check_add_delete(section, value, self.issues)
        if section == "ADD":
            return AddAction(path, value)
        return DeleteAction(path, value)

    def _set_value(self) -> SetValue:
        """``operand``, ``operand + operand`` or ``operand - operand``, maybe parenthesised."""
        if self.token.is_punct("("):
            grouped = self.parse_group(self._set_value)
            if isinstance(grouped, Arithmetic):
                return grouped
            left = grouped
        else:
            left = self.parse_operand()
        token = self.token
        if token.is_punct("+") or token.is_punct("-"):
            self.advance()
            right = self.parse_operand()
            check_arithmetic(token.text, left, right, self.issues)
            return Arithmetic(token.text, left, right)
        return left


_PARSED: Final = ParseCache()


def parse_update(text: str, params: ExpressionParams) -> UpdatePlan:
    """Parse an UpdateExpression; raises ``ValidationError`` (only) for invalid text.
    Successful parses are cached (``expressions.cache``: no check here reads a value)."""

    def parse() -> tuple[UpdatePlan, tuple[str, ...]]:
        parser = UpdateParser(text, params)
        return parser.parse(), tuple(parser.used_names)

    return _PARSED.parse(KIND, text, params, parse)


def parse_update_uncached(text: str, params: ExpressionParams) -> UpdatePlan:
    """``parse_update`` without the cache (what the cache must agree with)."""
    return UpdateParser(text, params).parse()
