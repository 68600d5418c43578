"""The grammar of ConditionExpression, FilterExpression and KeyConditionExpression.

Precedence, loosest first: OR, AND, NOT, then comparison / BETWEEN / IN, then operands and
functions. A ``(`` at the start of a condition may open a nested condition or a
parenthesised operand; both are parsed by one grammar and told apart by what follows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final, TypeAlias

from headwater.expressions.ast import (
    And,
    Between,
    Call,
    Compare,
    Condition,
    In,
    Literal,
    Not,
    Operand,
    Or,
    Path,
)
from headwater.expressions.cache import ParseCache
from headwater.expressions.functions import (
    CONDITION_FUNCTIONS,
    check_condition_call,
    condition_operand_problem,
    literal_type,
    misused,
    note_misused_args,
    note_same_paths,
    operand_type_message,
    static_type,
)
from headwater.expressions.issues import Issues, invalid
from headwater.expressions.lexer import Kind
from headwater.expressions.names import ExpressionParams
from headwater.expressions.parser import Parser
from headwater.model.compare import comparable, compare

COMPARATORS: Final = ("=", "<>", "<", "<=", ">", ">=")
# AWS's developer guide, "Expression parameters" quotas: IN takes at most 100 values.
MAX_IN_OPERANDS: Final = 100
_ORDER: Final = ("parens", "unknown_function", "misused_function", "reserved", "condition")
_LEAF_ORDER: Final = ("undefined", "arity", "distinct", "operand")

Node: TypeAlias = Condition | Path | Literal
"""What a sub-parse may return before its context decides whether it is a condition."""


def _render(literal: Literal) -> str:
    """AWS's ``AttributeValue: {N:1}`` rendering of a literal in BETWEEN messages."""
    type_name = literal_type(literal) or "NULL"
    raw = literal.value.get(type_name)
    if isinstance(raw, bool):
        shown = str(raw).lower()
    elif isinstance(raw, list):
        shown = "[" + ", ".join(str(x) for x in raw) + "]"
    else:
        shown = str(raw)
    return f"AttributeValue: {{{type_name}:{shown}}}"


class ConditionParser(Parser):
    keywords = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN"})

    def __init__(self, text: str, params: ExpressionParams, kind: str) -> None:
        super().__init__(text, kind, params, Issues(kind, _ORDER, _LEAF_ORDER))

    def parse(self) -> Condition:
        node = self.parse_or()
        condition = self._require_condition(node)
        self.expect_end()
        self.issues.raise_first()
        return condition

    def check_call(self, call: Call) -> None:
        check_condition_call(call, self.issues)

    def _require_condition(self, node: Node) -> Condition:
        """A bare operand where a condition must stand is a syntax error at the next token."""
        if isinstance(node, Path | Literal):
            raise self.syntax_error()
        if isinstance(node, Call) and node.name not in CONDITION_FUNCTIONS:
            self.issues.note("misused_function", misused(node.name))
        return node

    def parse_or(self) -> Node:
        first = self.parse_and()
        if not self.token.is_word("OR"):
            return first
        items = [self._require_condition(first)]
        while self.token.is_word("OR"):
            self.advance()
            items.append(self._require_condition(self.parse_and()))
        return Or(tuple(items))

    def parse_and(self) -> Node:
        first = self.parse_not()
        if not self.token.is_word("AND"):
            return first
        items = [self._require_condition(first)]
        while self.token.is_word("AND"):
            self.advance()
            items.append(self._require_condition(self.parse_not()))
        return And(tuple(items))

    def parse_not(self) -> Node:
        if not self.token.is_word("NOT"):
            return self.parse_primary()
        self.advance()
        with self.nested():
            operand = self.parse_not()
        return Not(self._require_condition(operand))

    def parse_primary(self) -> Node:
        left: Node
        if self.token.is_punct("("):
            left = self.parse_group(self.parse_or)
            if not isinstance(left, Path | Literal | Call):
                return left
        else:
            left = self.parse_operand()
        token = self.token
        if token.kind is Kind.PUNCT and token.text in COMPARATORS:
            self.advance()
            return self._leaf(self._comparison(token.text, left, self.parse_operand()))
        if token.is_word("BETWEEN"):
            self.advance()
            low = self.parse_operand()
            if not self.token.is_word("AND"):
                raise self.syntax_error()
            self.advance()
            return self._leaf(self._between(left, low, self.parse_operand()))
        if token.is_word("IN"):
            self.advance()
            return self._leaf(self._in(left))
        if isinstance(left, Call):
            return self._leaf(left)
        return left

    def _leaf(self, condition: Condition) -> Condition:
        self.issues.settle_leaf()
        return condition

    def _note_unordered(self, operator: str, operands: tuple[Operand, ...]) -> None:
        """Ordering a literal list, map, set, BOOL or NULL is an error, not just false."""
        for operand in operands:
            found = static_type(operand)
            if found is not None and found not in ("S", "N", "B"):
                self.issues.note("operand", operand_type_message(operator, found))
                return

    def _comparison(self, op: str, left: Operand, right: Operand) -> Compare:
        note_misused_args(self.issues, (left, right))
        note_same_paths(self.issues, op, (left, right))
        if op not in ("=", "<>"):
            self._note_unordered(op, (left, right))
        return Compare(op, left, right)

    def _between(self, subject: Operand, low: Operand, high: Operand) -> Between:
        note_misused_args(self.issues, (subject, low, high))
        self._note_unordered("BETWEEN", (subject, low, high))
        problem = _bounds_problem(low, high)
        if problem is not None:
            self.issues.note("operand", problem)
        return Between(subject, low, high)

    def _in(self, subject: Operand) -> In:
        self.expect("(")
        with self.nested():
            choices = [self.parse_operand()]
            while self.token.is_punct(","):
                self.advance()
                choices.append(self.parse_operand())
        self.expect(")")
        note_misused_args(self.issues, (subject, *choices))
        if len(choices) > MAX_IN_OPERANDS:
            # AWS's wording, from users' reports; that the count is of the listed values
            # alone, and where this ranks among other problems, is INFERRED.
            self.issues.note(
                "operand",
                "The IN operator is provided with too many operands; "
                f"number of operands: {len(choices)}",
            )
        return In(subject, tuple(choices))


def _bounds_problem(low: Operand, high: Operand) -> str | None:
    """What is wrong with literal BETWEEN bounds: their types differ or they are reversed."""
    if not (isinstance(low, Literal) and isinstance(high, Literal)):
        return None
    low_type, high_type = literal_type(low), literal_type(high)
    if low_type is None or high_type is None:
        return None
    bounds = f"lower bound operand: {_render(low)}, upper bound operand: {_render(high)}"
    if low_type != high_type:
        return "The BETWEEN operator requires same data type for lower and upper bounds; " + bounds
    if comparable(low.value, high.value) and compare(low.value, high.value) > 0:
        return (
            "The BETWEEN operator requires upper bound to be greater than or equal to lower "
            "bound; " + bounds
        )
    return None


def _value_checked(node: Condition) -> Iterator[Between | Call]:
    """The leaves of a valid condition whose checks read values, not just their types (the
    order of literal BETWEEN bounds, ``attribute_type``'s type name), in the order written:
    the order a parse settles its leaves in."""
    if isinstance(node, And | Or):
        for item in node.items:
            yield from _value_checked(item)
    elif isinstance(node, Not):
        yield from _value_checked(node.item)
    elif isinstance(node, Between):
        if isinstance(node.low, Literal) and isinstance(node.high, Literal):
            yield node
    elif (
        isinstance(node, Call)
        and node.name == "attribute_type"
        and any(isinstance(arg, Literal) for arg in node.args)
    ):
        yield node


def _recheck(kind: str) -> Callable[[Condition], None]:
    def recheck(condition: Condition) -> None:
        for leaf in _value_checked(condition):
            if isinstance(leaf, Between):
                problem = _bounds_problem(leaf.low, leaf.high)
            else:
                problem = condition_operand_problem(leaf)
            if problem is not None:
                raise invalid(kind, problem)

    return recheck


def _needs_recheck(condition: Condition) -> bool:
    return next(_value_checked(condition), None) is not None


_PARSED: Final = ParseCache()


def parse_condition(
    text: str, params: ExpressionParams, kind: str = "ConditionExpression"
) -> Condition:
    """Parse a condition-like expression; ``kind`` names it in error messages.

    Raises ``ValidationError`` (and nothing else) for any text that is not a valid
    expression, with AWS's message for the first problem AWS would report. Successful
    parses are cached (``expressions.cache``).
    """

    def parse() -> tuple[Condition, tuple[str, ...]]:
        parser = ConditionParser(text, params, kind)
        return parser.parse(), tuple(parser.used_names)

    return _PARSED.parse(
        "condition " + kind,
        text,
        params,
        parse,
        needs_recheck=_needs_recheck,
        recheck=_recheck(kind),
    )


def parse_condition_uncached(
    text: str, params: ExpressionParams, kind: str = "ConditionExpression"
) -> Condition:
    """``parse_condition`` without the cache (what the cache must agree with)."""
    return ConditionParser(text, params, kind).parse()
