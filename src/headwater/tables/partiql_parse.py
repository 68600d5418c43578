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

Tokens and value literals (``'s'``, numbers, ``[...]``, ``{...}``, ``<<...>>``, ``?``) are read by
``partiql_values.TokenReader``; this module holds the statements and their conditions.

Parameters are bound while parsing (they are positional, in the order the ``?`` appear), so a
parsed statement holds real values. Every failure is a ``ValidationError``; nothing else may
escape, whatever the text.
"""

from __future__ import annotations

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
from headwater.tables.partiql_values import (
    KEYWORDS,
    TokenReader,
    malformed,
    unquote,
)

# The wording moto copies from AWS for a ``?`` count that differs from Parameters.
PARAMETER_COUNT: Final = "Number of parameters in request and statement don't match."
RETURNING_KINDS: Final = ("ALL OLD", "ALL NEW", "MODIFIED OLD", "MODIFIED NEW")

_CONDITION_FUNCTIONS: Final = {
    "begins_with": 2,
    "contains": 2,
    "attribute_type": 2,
    "attribute_exists": 1,
    "attribute_not_exists": 1,
}
_COMPARATORS: Final = {"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


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


# -- the parser ---------------------------------------------------------------------------


class _Parser(TokenReader):
    """Statements and conditions; tokens and value literals come from ``TokenReader``."""

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
                    elements.append(unquote(token.text))
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


def parse_statement(text: str, parameters: Sequence[AttrValue] = ()) -> Statement:
    """Parse one statement, binding already validated ``parameters`` to its ``?`` in order."""
    parser = _Parser(text, parameters)
    try:
        return parser.statement()
    except RecursionError:  # pragma: no cover - MAX_DEPTH stops nesting long before this
        raise malformed("The statement is nested too deeply") from None
