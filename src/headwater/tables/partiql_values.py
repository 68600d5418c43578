"""PartiQL's tokens and value literals, and the cursor the statement parser reads them with.

``TokenReader`` walks the token list of one statement: it reports what it found where, in
AWS's "Statement wasn't well formed" wording, guards the nesting depth, and reads value literals
— strings, numbers, ``TRUE``/``FALSE``/``NULL``, ``[...]`` lists, ``{'name': ...}`` maps,
``<<...>>`` sets — and ``?`` parameters, bound in the order they appear. ``partiql_parse`` builds
the statements and conditions on top of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from headwater.errors import ValidationError
from headwater.expressions.ast import Literal
from headwater.model.types import AttrValue, type_of
from headwater.model.values import validate_value

MALFORMED: Final = "Statement wasn't well formed, can't be processed: "
MAX_DEPTH: Final = 64  # Headwater's guard against exhausting Python's stack

_KEYWORD_TEXT: Final = """SELECT FROM WHERE AND OR NOT BETWEEN IN IS MISSING NULL TRUE FALSE
INSERT INTO VALUE UPDATE SET REMOVE DELETE RETURNING ORDER BY ASC DESC EXISTS"""
KEYWORDS: Final = frozenset(_KEYWORD_TEXT.split())
_SET_TYPES: Final = {"S": "SS", "N": "NS", "B": "BS"}


# -- tokens -------------------------------------------------------------------------------

_TOKEN: Final = re.compile(
    r"(?P<space>\s+|--[^\n]*)"
    r"|(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)"
    r'|(?P<quoted>"(?:[^"]|"")*")'
    r"|(?P<string>'(?:[^']|'')*')"
    r"|(?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<punct><<|>>|<=|>=|<>|!=|[=<>()\[\]{},.:+\-*?;])"
)


@dataclass(frozen=True)
class Token:
    kind: str  # name, quoted, string, number, punct, invalid, end
    text: str
    start: int

    def is_word(self, word: str) -> bool:
        return self.kind == "name" and self.text.upper() == word

    def is_punct(self, text: str) -> bool:
        return self.kind == "punct" and self.text == text


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # an unknown character or an unclosed quote
            tokens.append(Token("invalid", text[position], position))
            break
        group = match.lastgroup
        if group is not None and group != "space":
            tokens.append(Token(group, match.group(), match.start()))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def malformed(detail: str) -> ValidationError:
    return ValidationError(MALFORMED + detail)


class TokenReader:
    def __init__(self, text: str, parameters: Sequence[AttrValue]) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.position = 0
        self.parameters = parameters
        self.used = 0
        self.depth = 0

    # cursor

    @property
    def token(self) -> Token:
        return self.tokens[self.position]

    def peek(self) -> Token:
        return self.tokens[min(self.position + 1, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.token
        if token.kind != "end":
            self.position += 1
        return token

    def error(self, expected: str | None = None) -> ValidationError:
        """INFERRED wording after AWS's prefix: what was found, where, and what was wanted."""
        token = self.token
        line = self.text.count("\n", 0, token.start) + 1
        column = token.start - (self.text.rfind("\n", 0, token.start) + 1) + 1
        if token.kind == "end":
            found = "Unexpected end of statement"
        elif token.kind == "invalid":
            found = f"Unexpected character {token.text[:40]!r}"
        elif token.kind == "name" and token.text.upper() in KEYWORDS:
            found = f"Unexpected keyword {token.text.upper()}"
        else:
            found = f"Unexpected token {token.text[:40]!r}"
        wanted = f"; expected {expected}" if expected else ""
        return malformed(f"{found} at line {line}, column {column}{wanted}")

    def word(self, word: str) -> None:
        if not self.token.is_word(word):
            raise self.error(word)
        self.advance()

    def punct(self, text: str) -> None:
        if not self.token.is_punct(text):
            raise self.error(f"'{text}'")
        self.advance()

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise malformed("The statement is nested too deeply")

    # values

    def literal(self) -> Literal:
        start = self.position
        value = self.value()
        return Literal(f"#{start}", value)

    def value(self) -> AttrValue:
        self.nested()
        try:
            return self._value()
        finally:
            self.depth -= 1

    def _value(self) -> AttrValue:
        token = self.token
        if token.is_punct("?"):
            self.advance()
            self.used += 1
            if self.used <= len(self.parameters):
                return self.parameters[self.used - 1]
            return {"NULL": True}  # the count check after the parse reports it
        if token.kind == "string":
            self.advance()
            return {"S": unquote(token.text)}
        if token.kind == "number" or (token.is_punct("-") and self.peek().kind == "number"):
            sign = "-" if token.is_punct("-") else ""
            if sign:
                self.advance()
            return validate_value({"N": sign + self.advance().text}, path="statement")
        if token.is_word("TRUE") or token.is_word("FALSE"):
            self.advance()
            return {"BOOL": token.text.upper() == "TRUE"}
        if token.is_word("NULL"):
            self.advance()
            return {"NULL": True}
        if token.is_punct("["):
            return {"L": self.sequence("[", "]")}
        if token.is_punct("<<"):
            return self.set_literal()
        if token.is_punct("{"):
            return {"M": self.struct()}
        raise self.error("a value")

    def sequence(self, opening: str, closing: str) -> list[AttrValue]:
        self.punct(opening)
        found: list[AttrValue] = []
        if not self.token.is_punct(closing):
            found.append(self.value())
            while self.token.is_punct(","):
                self.advance()
                found.append(self.value())
        self.punct(closing)
        return found

    def set_literal(self) -> AttrValue:
        members = self.sequence("<<", ">>")
        types = {type_of(member) for member in members}
        if len(types) != 1 or next(iter(types)) not in _SET_TYPES:
            raise ValidationError(
                "A set literal must hold one or more strings, numbers or binary values of one type"
            )
        member_type = next(iter(types))
        set_type = _SET_TYPES[member_type]
        raw = [member[member_type] for member in members]
        return validate_value({set_type: raw}, path="statement")

    def struct(self) -> dict[str, AttrValue]:
        self.punct("{")
        found: dict[str, AttrValue] = {}
        if not self.token.is_punct("}"):
            self.pair(found)
            while self.token.is_punct(","):
                self.advance()
                self.pair(found)
        self.punct("}")
        return found

    def pair(self, found: dict[str, AttrValue]) -> None:
        token = self.token
        if token.kind != "string":
            raise self.error("a quoted attribute name")
        self.advance()
        name = unquote(token.text)
        self.punct(":")
        if name in found:
            raise ValidationError(f"Duplicate attribute name in a map value: {name}")
        found[name] = self.value()


def unquote(text: str) -> str:
    return text[1:-1].replace("''", "'")
