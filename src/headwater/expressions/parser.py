"""The recursive-descent machinery every expression grammar shares.

It walks the token list, parses document paths, operands, function calls and parenthesised
groups, substitutes ``#names`` and ``:values``, and builds AWS's syntax-error messages. The
grammars of conditions, updates and projections build on it. Any failure is a
``ValidationError``: nothing else may escape a parse, whatever the input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Final, TypeVar

from headwater.errors import ValidationError
from headwater.expressions.ast import Call, Literal, Operand, Path, PathElement
from headwater.expressions.issues import Issues, invalid
from headwater.expressions.lexer import Kind, Token, tokenize
from headwater.expressions.names import ExpressionParams
from headwater.expressions.reserved import is_reserved

MAX_EXPRESSION_BYTES: Final = 4096
MAX_PATH_LEVELS: Final = 32
# Headwater's own guard so deep nesting cannot exhaust Python's stack; AWS's 4 KB and
# redundant-parentheses rules reject such inputs long before any real expression gets here.
MAX_NESTING: Final = 64
_MAX_INDEX: Final = 2**31 - 1

T = TypeVar("T")


class Parser:
    """A cursor over one expression's tokens plus the checks every grammar needs."""

    keywords: frozenset[str] = frozenset()
    name_category = "undefined"
    value_category = "undefined"

    def __init__(self, text: str, kind: str, params: ExpressionParams, issues: Issues) -> None:
        self.text = text
        self.kind = kind
        self.params = params
        self.issues = issues
        if text == "":
            raise invalid(kind, "The expression can not be empty;")
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_EXPRESSION_BYTES:
            # INFERRED wording (errors.md EP-12 gives only fragments).
            raise invalid(
                kind,
                f"Expression size has exceeded the maximum allowed size; expression size: {size}",
            )
        self.tokens = tokenize(text)
        self.position = 0
        self.used_names: list[str] = []  # the #placeholders found, for the parse cache
        self._depth = 0
        self._groups: set[tuple[int, int]] = set()

    # -- cursor -------------------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.position]

    def peek(self) -> Token:
        return self.tokens[min(self.position + 1, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.token
        if token.kind is not Kind.EOF:
            self.position += 1
        return token

    def at_end(self) -> bool:
        return self.token.kind is Kind.EOF

    def is_keyword(self, token: Token) -> bool:
        return token.kind is Kind.NAME and token.text.upper() in self.keywords

    def syntax_error(self) -> ValidationError:
        """AWS's message for the current token, with the tokens around it as context."""
        index = self.position
        token = self.tokens[index]
        before = self.tokens[index - 1] if index > 0 else token
        after = self.tokens[index + 1] if index + 1 < len(self.tokens) else token
        near = self.text[before.start : after.end]
        return invalid(self.kind, f'Syntax error; token: "{token.shown}", near: "{near}"')

    def expect(self, punct: str) -> Token:
        if not self.token.is_punct(punct):
            raise self.syntax_error()
        return self.advance()

    def expect_end(self) -> None:
        if not self.at_end():
            raise self.syntax_error()

    @contextmanager
    def nested(self) -> Iterator[None]:
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise invalid(self.kind, "The expression is nested too deeply;")
        try:
            yield
        finally:
            self._depth -= 1

    # -- groups -------------------------------------------------------------------------

    def parse_group(self, inner: Callable[[], T]) -> T:
        """``( inner )``; a group that only wraps another group is AWS's redundant parens."""
        start = self.position
        self.expect("(")
        with self.nested():
            node = inner()
        end = self.position
        self.expect(")")
        if (start + 1, end - 1) in self._groups:
            self.issues.note("parens", "The expression has redundant parentheses;")
        self._groups.add((start, end))
        return node

    # -- paths --------------------------------------------------------------------------

    def _path_name(self) -> str:
        token = self.token
        if token.kind is Kind.NAME and not self.is_keyword(token):
            if is_reserved(token.text):
                self.issues.note(
                    "reserved",
                    f"Attribute name is a reserved keyword; reserved keyword: {token.text}",
                )
            self.advance()
            return token.text
        if token.kind is Kind.ATTR_NAME:
            self.advance()
            name = self.params.name(token.text)
            if name is None:
                self.issues.note(
                    self.name_category,
                    "An expression attribute name used in the document path is not defined; "
                    f"attribute name: {token.text}",
                )
                return token.text
            self.used_names.append(token.text)
            return name
        raise self.syntax_error()

    def _path_index(self) -> int:
        self.expect("[")
        token = self.token
        if token.kind is not Kind.INDEX or len(token.text) > 10 or int(token.text) > _MAX_INDEX:
            raise self.syntax_error()
        self.advance()
        self.expect("]")
        return int(token.text)

    def parse_path(self) -> Path:
        elements: list[PathElement] = [self._path_name()]
        while True:
            if self.token.is_punct("."):
                self.advance()
                elements.append(self._path_name())
            elif self.token.is_punct("["):
                elements.append(self._path_index())
            else:
                break
        if len(elements) > MAX_PATH_LEVELS:
            raise invalid(
                self.kind,
                f"The document path has too many nesting levels; nesting levels: {len(elements)}",
            )
        return Path(tuple(elements))

    # -- operands -----------------------------------------------------------------------

    def parse_value(self) -> Literal:
        token = self.token
        if token.kind is not Kind.ATTR_VALUE:
            raise self.syntax_error()
        self.advance()
        value = self.params.value(token.text)
        if value is None:
            self.issues.note(
                self.value_category,
                "An expression attribute value used in expression is not defined; "
                f"attribute value: {token.text}",
            )
            return Literal(token.text, {})
        return Literal(token.text, value)

    def starts_call(self) -> bool:
        token = self.token
        return token.kind is Kind.NAME and not self.is_keyword(token) and self.peek().is_punct("(")

    def parse_operand(self) -> Operand:
        """A path, a ``:value`` or a function call, optionally in parentheses."""
        if self.token.is_punct("("):
            return self.parse_group(self.parse_operand)
        if self.token.kind is Kind.ATTR_VALUE:
            return self.parse_value()
        if self.starts_call():
            return self.parse_call()
        return self.parse_path()

    def parse_call(self) -> Call:
        name = self.advance().text
        self.expect("(")
        with self.nested():
            args = [self.parse_operand()]
            while self.token.is_punct(","):
                self.advance()
                args.append(self.parse_operand())
        self.expect(")")
        call = Call(name, tuple(args))
        self.check_call(call)
        return call

    def check_call(self, call: Call) -> None:
        """Grammar-specific static checks of a parsed function call."""


def _path_relation(first: Path, second: Path) -> str | None:
    """``conflict`` (map key vs list index), ``overlap`` (one is a prefix) or None."""
    for a, b in zip(first.elements, second.elements, strict=False):
        if isinstance(a, int) != isinstance(b, int):
            return "conflict"
        if a != b:
            return None
    return "overlap"


def note_path_clashes(paths: Sequence[Path], issues: Issues) -> None:
    """AWS's checks that no two paths of one update or projection touch the same data."""
    for index, later in enumerate(paths):
        for earlier in paths[:index]:
            relation = _path_relation(earlier, later)
            if relation is not None:
                verb = "conflict" if relation == "conflict" else "overlap"
                issues.note(
                    relation,
                    f"Two document paths {verb} with each other; must remove or rewrite one of "
                    f"these paths; path one: {earlier}, path two: {later}",
                )
