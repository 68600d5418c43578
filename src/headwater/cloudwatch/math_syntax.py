"""The syntax of CloudWatch metric math (the ``Expression`` of a GetMetricData query): text in,
a tree out, and :class:`MathSyntaxError` for anything else, never another exception.

What it reads, as the CloudWatch User Guide ("Metric math syntax and functions") describes it:

* numbers (``5``, ``0.25``), the ``Id`` of another query (``m1``: a lowercase letter first),
  quoted text (``METRICS("errors")``), and uppercase words: a function when ``(`` follows
  (``SUM(...)``), else a keyword argument (``REPEAT``, ``LINEAR``);
* arrays of time series: ``[m1, m2]``;
* operators, loosest first: ``OR``/``||``; ``AND``/``&&``; comparisons ``== != < <= > >=``;
  ``+ -``; ``* /``; unary ``-``; ``^`` (right-associative, so ``-2^2`` is ``-(2^2)``).

Function names are checked by the evaluator (``math_eval.py``), which knows what each takes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

MAX_DEPTH = 64  # nesting (parentheses, arrays, calls, unary minus) before the text is refused
MAX_HEIGHT = 200  # levels of the whole tree (``1+1+...`` is a chain of levels), so that
# evaluating it, one level at a time, stays far from Python's recursion limit


class MathSyntaxError(ValueError):
    """The expression cannot be read; ``position`` is the 1-based character it went wrong at."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at character {position}")
        self.position = position


# -- the tree -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    value: float
    at: int


@dataclass(frozen=True)
class Text:
    value: str
    at: int


@dataclass(frozen=True)
class Ref:
    """Another query's result, by its Id."""

    name: str
    at: int


@dataclass(frozen=True)
class Word:
    """An uppercase word standing alone: a keyword argument such as REPEAT or LINEAR."""

    name: str
    at: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]
    at: int


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node
    at: int


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node
    at: int


@dataclass(frozen=True)
class Array:
    items: tuple[Node, ...]
    at: int


Node = Number | Text | Ref | Word | Call | Unary | Binary | Array


def references(node: Node) -> list[str]:
    """The Ids an expression uses, in the order they first appear."""
    found: dict[str, None] = {}
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Ref):
            found.setdefault(current.name)
        stack.extend(reversed(_children(current)))
    return list(found)


# -- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "text", "name", "op" or "end"
    text: str
    at: int  # 1-based


_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Two-character operators before the one-character ones they start with.
_OPERATORS: tuple[str, ...] = ("==", "!=", "<=", ">=", "&&", "||", "+", "-", "*", "/", "^")
_OPERATORS += ("<", ">", "(", ")", "[", "]", ",")
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d"}  # curly quotes, as the User Guide prints them


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, size = 0, len(text)
    while i < size:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        number = _NUMBER.match(text, i)
        if number is not None:
            out.append(_Token("number", number.group(), i + 1))
            i = number.end()
            continue
        name = _NAME.match(text, i)
        if name is not None:
            out.append(_Token("name", name.group(), i + 1))
            i = name.end()
            continue
        if char in _QUOTES:
            close = text.find(_QUOTES[char], i + 1)
            if close < 0:
                raise MathSyntaxError("Unterminated text", i + 1)
            out.append(_Token("text", text[i + 1 : close], i + 1))
            i = close + 1
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if operator is None:
            raise MathSyntaxError(f"Unexpected character {char!r}", i + 1)
        out.append(_Token("op", operator, i + 1))
        i += len(operator)
    out.append(_Token("end", "", size + 1))
    return out


# -- the parser -----------------------------------------------------------------------------

_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


def parse(text: str) -> Node:
    """The tree of one expression, or MathSyntaxError."""
    tree = _Parser(_tokens(text)).whole()
    if _height(tree) > MAX_HEIGHT:
        raise MathSyntaxError("The expression has too many operators in a row", 1)
    return tree


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Array):
        return node.items
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Unary):
        return (node.operand,)
    return ()


def _height(tree: Node) -> int:
    """The number of levels of the tree (without recursion: it may be a long chain)."""
    tallest = 0
    stack = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        tallest = max(tallest, level)
        stack.extend((child, level + 1) for child in _children(node))
    return tallest


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def _take(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def _is(self, *ops: str) -> bool:
        token = self.token
        if token.kind == "op":
            return token.text in ops
        return token.kind == "name" and token.text in ops  # AND, OR

    def _expect(self, op: str) -> _Token:
        if not self._is(op):
            raise self._unexpected(f"expected '{op}'")
        return self._take()

    def _unexpected(self, hint: str = "") -> MathSyntaxError:
        token = self.token
        found = "end of the expression" if token.kind == "end" else repr(token.text)
        return MathSyntaxError(f"Unexpected {found}{': ' + hint if hint else ''}", token.at)

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise MathSyntaxError("The expression is nested too deeply", self.token.at)

    def whole(self) -> Node:
        if self.token.kind == "end":
            raise MathSyntaxError("The expression is empty", 1)
        node = self.expression()
        if self.token.kind != "end":
            raise self._unexpected("expected an operator")
        return node

    def expression(self) -> Node:
        return self._left_assoc(self._and, ("OR", "||"))

    def _and(self) -> Node:
        return self._left_assoc(self._comparison, ("AND", "&&"))

    def _comparison(self) -> Node:
        return self._left_assoc(self._sum, _COMPARISONS)

    def _sum(self) -> Node:
        return self._left_assoc(self._product, ("+", "-"))

    def _product(self) -> Node:
        return self._left_assoc(self._unary, ("*", "/"))

    def _left_assoc(self, operand: Callable[[], Node], ops: tuple[str, ...]) -> Node:
        node = operand()
        while self._is(*ops):
            token = self._take()
            op = {"||": "OR", "&&": "AND"}.get(token.text, token.text)
            node = Binary(op, node, operand(), token.at)
        return node

    def _unary(self) -> Node:
        if self._is("-", "+"):
            token = self._take()
            self._enter()
            operand = self._unary()
            self.depth -= 1
            return operand if token.text == "+" else Unary("-", operand, token.at)
        return self._power()

    def _power(self) -> Node:
        base = self._primary()
        if self._is("^"):
            token = self._take()
            self._enter()
            exponent = self._unary()  # right-associative: 2^3^2 is 2^(3^2)
            self.depth -= 1
            return Binary("^", base, exponent, token.at)
        return base

    def _primary(self) -> Node:
        token = self.token
        if token.kind == "number":
            self._take()
            return Number(float(token.text), token.at)
        if token.kind == "text":
            self._take()
            return Text(token.text, token.at)
        if token.kind == "name":
            return self._name()
        if self._is("("):
            self._take()
            self._enter()
            inner = self.expression()
            self._expect(")")
            self.depth -= 1
            return inner
        if self._is("["):
            self._take()
            self._enter()
            items = self._list("]")
            self.depth -= 1
            return Array(items, token.at)
        raise self._unexpected("expected a number, an Id, a function or '('")

    def _name(self) -> Node:
        token = self._take()
        name = token.text
        if name[0].islower():
            return Ref(name, token.at)
        if not name[0].isupper():
            raise MathSyntaxError(f"Unexpected {name!r}", token.at)
        if name in ("AND", "OR"):
            raise MathSyntaxError(f"Unexpected {name!r}: expected a value before it", token.at)
        if self._is("("):
            self._take()
            self._enter()
            args = self._list(")")
            self.depth -= 1
            return Call(name, args, token.at)
        return Word(name, token.at)

    def _list(self, close: str) -> tuple[Node, ...]:
        """Comma-separated expressions up to ``close`` (which is consumed); may be empty."""
        items: list[Node] = []
        if self._is(close):
            self._take()
            return ()
        while True:
            items.append(self.expression())
            if self._is(","):
                self._take()
                continue
            self._expect(close)
            return tuple(items)
