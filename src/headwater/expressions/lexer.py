"""The one tokenizer for every DynamoDB expression kind.

It never fails: a character it does not know becomes an ``INVALID`` token, so the parser can
report it with AWS's ``Syntax error; token: ..., near: ...`` wording and the right context.
Imports nothing from Headwater.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    NAME = "name"  # bare identifier: attribute name, keyword or function name
    ATTR_NAME = "#name"  # ExpressionAttributeNames placeholder
    ATTR_VALUE = ":value"  # ExpressionAttributeValues placeholder
    INDEX = "digits"  # only meaningful inside [ ]
    PUNCT = "punct"  # ( ) [ ] . , + - = <> < <= > >=
    INVALID = "invalid"
    EOF = "eof"


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str
    start: int
    end: int

    def is_punct(self, text: str) -> bool:
        return self.kind is Kind.PUNCT and self.text == text

    def is_word(self, word: str) -> bool:
        """Whether this is the bare keyword ``word`` (keywords are case-insensitive)."""
        return self.kind is Kind.NAME and self.text.upper() == word

    @property
    def shown(self) -> str:
        """How the token appears in a syntax error message."""
        return "<EOF>" if self.kind is Kind.EOF else self.text


_TOKEN = re.compile(
    r"(?P<space>[ \t\r\n]+)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<attr_name>#[A-Za-z0-9_]+)"
    r"|(?P<attr_value>:[A-Za-z0-9_]+)"
    r"|(?P<index>[0-9]+)"
    r"|(?P<punct><>|<=|>=|[()\[\].,+\-=<>])"
)

_KINDS = {
    "name": Kind.NAME,
    "attr_name": Kind.ATTR_NAME,
    "attr_value": Kind.ATTR_VALUE,
    "index": Kind.INDEX,
    "punct": Kind.PUNCT,
}


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens, always ending with one ``EOF`` token."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            tokens.append(Token(Kind.INVALID, text[position], position, position + 1))
            position += 1
            continue
        group = match.lastgroup
        if group is not None and group != "space":
            tokens.append(Token(_KINDS[group], match.group(), match.start(), match.end()))
        position = match.end()
    tokens.append(Token(Kind.EOF, "", len(text), len(text)))
    return tokens
