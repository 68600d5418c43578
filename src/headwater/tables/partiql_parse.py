"""DynamoDB's PartiQL dialect: a small recursive-descent parser that binds ``?`` parameters.

Why not ``py-partiql-parser`` (0.6.3, the parser moto uses)? It was evaluated and rejected:

* it splits statements with regular expressions and a character state machine, so a string
  literal holding ``" FROM "`` or ``" WHERE "`` changes the parse, and bad input surfaces as a
  bare ``AssertionError`` (``UPDATE "t" SET a = 1 WHERE pk = 'x'`` fails that way: unquoted
  numbers are not accepted) instead of a ValidationException;
* its UPDATE grammar knows only ``SET a = 'v'`` and ``REMOVE a``: no arithmetic, no
  ``list_append`` / ``set_add``, no nested paths, no extra conditions;
* its WHERE parser mis-reads ``NOT y = 1`` and ``begins_with(...)`` and compares ``<``/``>``
  as decimals of the *string* literal; it evaluates over in-memory lists of items, so nothing
  could be mapped onto a key range for Query.

A statement is short (8 KB at most) and the dialect small, so a parser of our own is about as
long as the glue around a foreign one would be, and it produces Headwater's own trees:
conditions are ``expressions.ast`` nodes (evaluated by ``evaluate_condition``), UPDATE actions
an ``UpdatePlan`` (applied by ``apply_update``), projections a ``Projection``. The expression
lexer is not reused: PartiQL has string and number literals, ``?``, ``"quoted"`` names,
``{...}`` / ``[...]`` / ``<<...>>`` constructors, none of which DynamoDB expressions have.

The module is one grammar (tokens, statements, conditions, values) and runs past 600 lines:
splitting the value literals from the conditions that use them would scatter one idea.

Parameters are bound while parsing (they are positional, in the order the ``?`` appear), so a
parsed statement holds real values. Every failure is a ``ValidationError``; nothing else may
escape, whatever the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from headwater.errors import ValidationError
from headwater.expressions.ast import (
    AddAction,
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    Condition,
    DeleteAction,
    In,
    Literal,
    Not,
    Operand,
    Or,
    Path,
    PathElement,
    Projection,
    RemoveAction,
    SetAction,
    UpdateAction,
    UpdatePlan,
)
from headwater.model.types import AttrValue, Item, type_of
from headwater.model.values import validate_value

MALFORMED: Final = "Statement wasn't well formed, can't be processed: "
# The wording moto copies from AWS for a ``?`` count that differs from Parameters.
PARAMETER_COUNT: Final = "Number of parameters in request and statement don't match."
MAX_DEPTH: Final = 64  # Headwater's guard against exhausting Python's stack
RETURNING_KINDS: Final = ("ALL OLD", "ALL NEW", "MODIFIED OLD", "MODIFIED NEW")

_KEYWORD_TEXT: Final = """SELECT FROM WHERE AND OR NOT BETWEEN IN IS MISSING NULL TRUE FALSE
INSERT INTO VALUE UPDATE SET REMOVE DELETE RETURNING ORDER BY ASC DESC EXISTS"""
KEYWORDS: Final = frozenset(_KEYWORD_TEXT.split())
_CONDITION_FUNCTIONS: Final = {
    "begins_with": 2,
    "contains": 2,
    "attribute_type": 2,
    "attribute_exists": 1,
    "attribute_not_exists": 1,
}
_COMPARATORS: Final = {"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_SET_TYPES: Final = {"S": "SS", "N": "NS", "B": "BS"}


# -- statements ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Select:
    table: str
    index: str | None
    projection: Projection | None  # None: SELECT *
    where: Condition | None
    order: tuple[Path, bool] | None = None  # (path, descending)


@dataclass(frozen=True)
class Insert:
    table: str
    item: Item


@dataclass(frozen=True)
class Update:
    table: str
    plan: UpdatePlan
    where: Condition
    returning: str | None = None  # one of RETURNING_KINDS


@dataclass(frozen=True)
class Delete:
    table: str
    where: Condition
    returning: str | None = None


@dataclass(frozen=True)
class Exists:
    """``[NOT] EXISTS(SELECT ...)``: a condition check, only inside ExecuteTransaction."""

    select: Select
    negated: bool


Statement = Select | Insert | Update | Delete | Exists


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


# -- the parser ---------------------------------------------------------------------------


class _Parser:
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

    # statements

    def statement(self) -> Statement:
        token = self.token
        parsed: Statement
        if token.is_word("SELECT"):
            parsed = self.select()
        elif token.is_word("INSERT"):
            parsed = self.insert()
        elif token.is_word("UPDATE"):
            parsed = self.update()
        elif token.is_word("DELETE"):
            parsed = self.delete()
        elif token.is_word("EXISTS") or token.is_word("NOT"):
            parsed = self.exists()
        else:
            raise self.error("SELECT, INSERT, UPDATE or DELETE")
        if self.token.is_punct(";"):
            self.advance()
        if self.token.kind != "end":
            raise self.error()
        if self.used != len(self.parameters):
            raise ValidationError(PARAMETER_COUNT)
        return parsed

    def select(self) -> Select:
        self.word("SELECT")
        projection: Projection | None = None
        if self.token.is_punct("*"):
            self.advance()
        else:
            paths = [self.path()]
            while self.token.is_punct(","):
                self.advance()
                paths.append(self.path())
            projection = Projection(tuple(paths))
        self.word("FROM")
        table, index = self.target()
        where = self.where() if self.token.is_word("WHERE") else None
        order: tuple[Path, bool] | None = None
        if self.token.is_word("ORDER"):
            self.advance()
            self.word("BY")
            path = self.path()
            descending = False
            if self.token.is_word("ASC") or self.token.is_word("DESC"):
                descending = self.advance().text.upper() == "DESC"
            order = (path, descending)
        return Select(table, index, projection, where, order)

    def target(self) -> tuple[str, str | None]:
        table = self.name()
        index = None
        if self.token.is_punct("."):
            self.advance()
            index = self.name()
        return table, index

    def where(self) -> Condition:
        self.word("WHERE")
        return self.condition()

    def insert(self) -> Insert:
        self.word("INSERT")
        self.word("INTO")
        table, index = self.target()
        if index is not None:
            raise malformed("INSERT cannot name an index")
        self.word("VALUE")
        value = self.value()
        if type_of(value) != "M":
            raise ValidationError(
                "Unsupported operation: Insert statements only accept a map value (a tuple)"
            )
        return Insert(table, value["M"])

    def update(self) -> Update:
        self.word("UPDATE")
        table = self.name()
        actions: list[UpdateAction] = []
        while self.token.is_word("SET") or self.token.is_word("REMOVE"):
            section = self.advance().text.upper()
            actions.append(self.action(section))
            while self.token.is_punct(","):
                self.advance()
                actions.append(self.action(section))
        if not actions:
            raise self.error("SET or REMOVE")
        where = self.where()
        return Update(table, UpdatePlan(tuple(actions)), where, self.returning())

    def action(self, section: str) -> UpdateAction:
        path = self.path()
        if section == "REMOVE":
            return RemoveAction(path)
        self.punct("=")
        return self.set_value(path)

    def set_value(self, target: Path) -> UpdateAction:
        token = self.token
        if token.kind == "name" and self.peek().is_punct("("):
            name = token.text.lower()
            if name in ("set_add", "set_delete"):
                return self.set_function(target, name)
        left = self.set_operand()
        if self.token.is_punct("+") or self.token.is_punct("-"):
            op = self.advance().text
            return SetAction(target, Arithmetic(op, left, self.set_operand()))
        return SetAction(target, left)

    def set_operand(self) -> Operand:
        token = self.token
        if token.kind == "name" and self.peek().is_punct("("):
            name = self.advance().text.lower()
            if name != "list_append":
                raise ValidationError(f"Unsupported function in a SET clause: {token.text}")
            self.nested()
            self.punct("(")
            first = self.set_operand()
            self.punct(",")
            second = self.set_operand()
            self.punct(")")
            self.depth -= 1
            return Call("list_append", (first, second))
        if self.starts_path():
            return self.path()
        return self.literal()

    def set_function(self, target: Path, name: str) -> UpdateAction:
        """``SET s = set_add(s, <<...>>)``: ADD / DELETE of set members on the same path."""
        self.advance()
        self.punct("(")
        source = self.path()
        self.punct(",")
        members = self.literal()
        self.punct(")")
        if source != target:
            raise ValidationError(
                f"{name} must name the attribute being set as its first argument: {target}"
            )
        if type_of(members.value) not in ("SS", "NS", "BS"):
            raise ValidationError(f"{name} takes a set of values as its second argument")
        return AddAction(target, members) if name == "set_add" else DeleteAction(target, members)

    def returning(self) -> str | None:
        if not self.token.is_word("RETURNING"):
            return None
        self.advance()
        first, second = self.token, self.peek()
        kind = f"{first.text.upper()} {second.text.upper()}"
        if first.kind != "name" or second.kind != "name" or kind not in RETURNING_KINDS:
            raise self.error("ALL OLD, ALL NEW, MODIFIED OLD or MODIFIED NEW")
        self.position += 2
        self.punct("*")
        return kind

    def delete(self) -> Delete:
        self.word("DELETE")
        self.word("FROM")
        table = self.name()
        where = self.where()
        returning = self.returning()
        if returning not in (None, "ALL OLD"):
            raise ValidationError("DELETE supports only RETURNING ALL OLD *")
        return Delete(table, where, returning)

    def exists(self) -> Exists:
        negated = self.token.is_word("NOT")
        if negated:
            self.advance()
        self.word("EXISTS")
        self.punct("(")
        select = self.select()
        self.punct(")")
        return Exists(select, negated)

    # names and paths

    def name(self) -> str:
        token = self.token
        if token.kind == "quoted":
            self.advance()
            name = token.text[1:-1].replace('""', '"')
            if not name:
                raise malformed(f"Empty identifier at column {token.start + 1}")
            return name
        if token.kind == "name" and token.text.upper() not in KEYWORDS:
            self.advance()
            return token.text
        raise self.error("an identifier")

    def starts_path(self) -> bool:
        token = self.token
        return token.kind == "quoted" or (
            token.kind == "name" and token.text.upper() not in KEYWORDS
        )

    def path(self) -> Path:
        elements: list[PathElement] = [self.name()]
        while True:
            if self.token.is_punct("."):
                self.advance()
                elements.append(self.name())
            elif self.token.is_punct("["):
                self.advance()
                token = self.token
                if token.kind == "number" and token.text.isdigit() and len(token.text) < 10:
                    elements.append(int(token.text))
                elif token.kind == "string":
                    elements.append(_unquote(token.text))
                else:
                    raise self.error("a list index or a quoted map key")
                self.advance()
                self.punct("]")
            else:
                break
        return Path(tuple(elements))

    # conditions

    def condition(self) -> Condition:
        self.nested()
        items = [self.conjunction()]
        while self.token.is_word("OR"):
            self.advance()
            items.append(self.conjunction())
        self.depth -= 1
        return items[0] if len(items) == 1 else Or(tuple(items))

    def conjunction(self) -> Condition:
        items = [self.negation()]
        while self.token.is_word("AND"):
            self.advance()
            items.append(self.negation())
        return items[0] if len(items) == 1 else And(tuple(items))

    def negation(self) -> Condition:
        if self.token.is_word("NOT"):
            self.advance()
            self.nested()
            inner = self.negation()
            self.depth -= 1
            return Not(inner)
        return self.predicate()

    def predicate(self) -> Condition:
        if self.token.is_punct("("):
            self.advance()
            inner = self.condition()
            self.punct(")")
            return inner
        token = self.token
        if token.kind == "name" and self.peek().is_punct("("):
            name = token.text.lower()
            if name in _CONDITION_FUNCTIONS:
                return self.condition_call(name)
        if token.kind in ("end", "invalid") or token.is_punct(")"):
            raise self.error("a condition")
        left = self.operand()
        token = self.token
        if token.kind == "punct" and token.text in _COMPARATORS:
            self.advance()
            return Compare(_COMPARATORS[token.text], left, self.operand())
        negated = False
        if token.is_word("NOT"):
            self.advance()
            negated = True
        found: Condition
        if self.token.is_word("BETWEEN"):
            self.advance()
            low = self.operand()
            self.word("AND")
            found = Between(left, low, self.operand())
        elif self.token.is_word("IN"):
            self.advance()
            found = In(left, tuple(self.choices()))
        elif not negated and self.token.is_word("IS"):
            found = self.is_test(left)
        else:
            raise self.error("a comparison")
        return Not(found) if negated else found

    def is_test(self, subject: Operand) -> Condition:
        self.word("IS")
        negated = False
        if self.token.is_word("NOT"):
            self.advance()
            negated = True
        if not isinstance(subject, Path):
            raise malformed("IS MISSING and IS NULL take a document path")
        found: Condition
        if self.token.is_word("MISSING"):
            self.advance()
            found = Call("attribute_not_exists", (subject,))
        elif self.token.is_word("NULL"):
            self.advance()
            # PartiQL: MISSING IS NULL is true, so a missing attribute counts as NULL.
            found = Or(
                (
                    Call("attribute_not_exists", (subject,)),
                    Call("attribute_type", (subject, Literal("NULL", {"S": "NULL"}))),
                )
            )
        else:
            raise self.error("MISSING or NULL")
        return Not(found) if negated else found

    def choices(self) -> list[Operand]:
        closing = "]" if self.token.is_punct("[") else ")"
        if not (self.token.is_punct("[") or self.token.is_punct("(")):
            raise self.error("'[' or '('")
        self.advance()
        found = [self.operand()]
        while self.token.is_punct(","):
            self.advance()
            found.append(self.operand())
        self.punct(closing)
        return found

    def condition_call(self, name: str) -> Call:
        self.advance()
        self.punct("(")
        args = [self.operand()]
        while self.token.is_punct(","):
            self.advance()
            args.append(self.operand())
        self.punct(")")
        if len(args) != _CONDITION_FUNCTIONS[name]:
            raise ValidationError(f"Incorrect number of arguments for function {name}: {len(args)}")
        if not isinstance(args[0], Path):
            raise ValidationError(f"The first argument of {name} must be a document path")
        return Call(name, tuple(args))

    def operand(self) -> Operand:
        token = self.token
        if token.kind == "name" and self.peek().is_punct("("):
            if token.text.lower() != "size":
                raise ValidationError(f"Unsupported function in a condition: {token.text}")
            self.advance()
            self.punct("(")
            path = self.path()
            self.punct(")")
            return Call("size", (path,))
        if self.starts_path():
            return self.path()
        return self.literal()

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
            return {"S": _unquote(token.text)}
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
        name = _unquote(token.text)
        self.punct(":")
        if name in found:
            raise ValidationError(f"Duplicate attribute name in a map value: {name}")
        found[name] = self.value()


def _unquote(text: str) -> str:
    return text[1:-1].replace("''", "'")


def parse_statement(text: str, parameters: Sequence[AttrValue] = ()) -> Statement:
    """Parse one statement, binding already validated ``parameters`` to its ``?`` in order."""
    parser = _Parser(text, parameters)
    try:
        return parser.statement()
    except RecursionError:  # pragma: no cover - MAX_DEPTH stops nesting long before this
        raise malformed("The statement is nested too deeply") from None
