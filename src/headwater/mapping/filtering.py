"""Event filtering for event source mappings: ``FilterCriteria`` in EventBridge pattern syntax
(spec §6.8).

Each pattern is parsed and validated once, by :func:`compile_filters`, into a tree of small matcher
objects; :meth:`FilterSet.matches` then walks the Lambda-form record with no JSON parsing.

Semantics, in the terms of the spec:

* filters are ORed; the fields named in one pattern are ANDed; a list of matchers is an OR;
  ``"$or": [{...}, {...}]`` ORs whole sub-patterns at any object level;
* a nested pattern object descends into the record; a list in the record matches element-wise
  (any element), and all fields of one sub-pattern must hold in the *same* element;
* every field named must hold a leaf (a string, number, bool or null — objects are not leaves),
  except where ``{"exists": false}`` asks for its absence;
* a number in a pattern equals a record number only when both print as the same JSON text
  (``300``, ``300.0`` and ``3.0e2`` differ); ``numeric`` compares values, and only of real JSON
  numbers, so DynamoDB ``N`` strings never satisfy it.

Operators Lambda does not list (``wildcard``, ``cidr``, ``exact``, ``anything-but`` of
``prefix``/``suffix``/``equals-ignore-case``) are rejected: the spec marks them unconfirmed for
Lambda, and a clear error at create time beats a filter that silently behaves differently.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import orjson

from headwater.errors import InvalidParameterValue

__all__ = ["MAX_FILTERS", "MAX_PATTERN_LENGTH", "FilterSet", "compile_filters"]

MAX_FILTERS = 5  # AWS's default quota (raisable to 10 on AWS; spec §5.2)
MAX_PATTERN_LENGTH = 4096

_INVALID = "Invalid filter pattern definition."  # AWS's text (spec §5.5)

_MISSING: Any = object()

Test = Callable[[Any], bool]


class FilterSet:
    """The compiled filters of one mapping; a record passes when any filter matches it."""

    __slots__ = ("_patterns",)

    def __init__(self, patterns: tuple[_Object, ...]) -> None:
        self._patterns = patterns

    def __len__(self) -> int:
        return len(self._patterns)

    def matches(self, record: Mapping[str, Any]) -> bool:
        return any(pattern.match_fields(record) for pattern in self._patterns)


def compile_filters(criteria: Mapping[str, Any] | None) -> FilterSet | None:
    """Validate ``{"Filters": [{"Pattern": "<json>"}, ...]}`` and compile it.

    ``None``, ``{}`` (how an update removes filters) and ``{"Filters": []}`` mean no filtering
    and give ``None``. Anything malformed raises :class:`InvalidParameterValue`.
    """
    if criteria is None:
        return None
    if not isinstance(criteria, Mapping):
        raise _invalid()
    filters = criteria.get("Filters")
    if filters is None:
        return None
    if not isinstance(filters, list):
        raise _invalid()
    if not filters:
        return None
    if len(filters) > MAX_FILTERS:
        # The spec records no AWS text for this quota, so this wording is Headwater's own.
        raise InvalidParameterValue(
            f"FilterCriteria can contain at most {MAX_FILTERS} filters; {len(filters)} were given."
        )
    return FilterSet(tuple(_compile_filter(f) for f in filters))


def _invalid() -> InvalidParameterValue:
    return InvalidParameterValue(_INVALID)


def _compile_filter(item: Any) -> _Object:
    if not isinstance(item, Mapping):
        raise _invalid()
    text = item.get("Pattern")
    if not isinstance(text, str) or len(text) > MAX_PATTERN_LENGTH:
        raise _invalid()
    try:
        tree = json.loads(
            text, parse_int=_Number.of_int, parse_float=_Number.of_float, parse_constant=_constant
        )
        if not isinstance(tree, dict):
            raise _invalid()
        return _compile_object(tree)
    except (ValueError, RecursionError):
        # Not JSON at all, or nested deeper than the parser (or this compiler) will follow.
        raise _invalid() from None


# -- parsing ---------------------------------------------------------------------------------


class _Number:
    """A JSON number from a pattern: its literal text (for equality) and its value."""

    __slots__ = ("text", "value")

    def __init__(self, text: str, value: int | float) -> None:
        self.text = text
        self.value: int | float = value

    @classmethod
    def of_int(cls, text: str) -> _Number:
        return cls(text, int(text))

    @classmethod
    def of_float(cls, text: str) -> _Number:
        return cls(text, float(text))

    @property
    def finite(self) -> bool:
        return not isinstance(self.value, float) or math.isfinite(self.value)


def _constant(name: str) -> Any:
    # NaN, Infinity and -Infinity, which Python's json accepts and JSON does not.
    raise _invalid()


# -- compiling -------------------------------------------------------------------------------


def _compile_object(tree: dict[str, Any]) -> _Object:
    if not tree:
        raise _invalid()
    fields: list[tuple[str, _Leaf | _Object]] = []
    ors: list[tuple[_Object, ...]] = []
    for key, value in tree.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise _invalid()
            if not all(isinstance(branch, dict) for branch in value):
                raise _invalid()
            ors.append(tuple(_compile_object(branch) for branch in value))
        elif isinstance(value, dict):
            fields.append((key, _compile_object(value)))
        elif isinstance(value, list):
            fields.append((key, _compile_leaf(value)))
        else:
            raise _invalid()
    return _Object(tuple(fields), tuple(ors))


def _compile_leaf(values: list[Any]) -> _Leaf:
    if not values:
        raise _invalid()
    parts = _LeafParts()
    for value in values:
        if isinstance(value, str):
            parts.strings.add(value)
        elif isinstance(value, _Number):
            parts.literals.add(value.text)
        elif value is None or isinstance(value, bool):
            parts.literals.add(_literal_text(value))
        elif isinstance(value, dict) and len(value) == 1:
            ((operator, operand),) = value.items()
            _add_operator(parts, operator, operand)
        else:
            raise _invalid()
    return _Leaf(parts)


class _LeafParts:
    """The matchers of one leaf list, gathered while compiling."""

    def __init__(self) -> None:
        self.strings: set[str] = set()
        self.literals: set[str] = set()  # JSON texts of numbers, bools and null
        self.folded: set[str] = set()  # equals-ignore-case operands, lower-cased
        self.tests: list[Test] = []
        self.any_leaf = False  # {"exists": true}
        self.when_absent = False  # {"exists": false}


def _add_operator(parts: _LeafParts, operator: str, operand: Any) -> None:
    if operator == "exists":
        if not isinstance(operand, bool):
            raise _invalid()
        if operand:
            parts.any_leaf = True
        else:
            parts.when_absent = True
    elif operator == "prefix" and isinstance(operand, str):
        parts.tests.append(_prefix(operand))
    elif operator == "suffix" and isinstance(operand, str):
        parts.tests.append(_suffix(operand))
    elif operator == "equals-ignore-case" and isinstance(operand, str):
        parts.folded.add(operand.lower())
    elif operator == "anything-but":
        parts.tests.append(_anything_but(operand))
    elif operator == "numeric":
        parts.tests.append(_numeric(operand))
    else:
        raise _invalid()


def _prefix(prefix: str) -> Test:
    return lambda v: isinstance(v, str) and v.startswith(prefix)


def _suffix(suffix: str) -> Test:
    return lambda v: isinstance(v, str) and v.endswith(suffix)


def _anything_but(operand: Any) -> Test:
    """Matches every leaf except the given strings, or the given numbers (compared by value).

    A leaf of the other kind always passes: ``{"anything-but": "101"}`` accepts the number 101,
    as EventBridge does (its machine only rules out a value that equals one of the exclusions).
    """
    items = operand if isinstance(operand, list) else [operand]
    if not items:
        raise _invalid()
    if all(isinstance(item, str) for item in items):
        words = frozenset(items)
        return lambda v: not (isinstance(v, str) and v in words)
    if all(isinstance(item, _Number) and item.finite for item in items):
        numbers = frozenset(item.value for item in items)
        return lambda v: not (_is_number(v) and v in numbers)
    raise _invalid()  # mixed kinds, null, bools, objects or non-finite numbers


_LOWER_BOUNDS = {">": True, ">=": False}  # operator -> open bound
_UPPER_BOUNDS = {"<": True, "<=": False}


def _numeric(operand: Any) -> Test:
    """``["=", n]``, one bound (``["<", n]``…), or a lower then an upper bound
    (``[">", a, "<=", b]`` with ``a < b``)."""
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        raise _invalid()
    operators, numbers = operand[0::2], operand[1::2]
    if not all(isinstance(n, _Number) and n.finite for n in numbers):
        raise _invalid()
    values: list[int | float] = [n.value for n in numbers]
    if len(operand) == 2:
        op, x = operators[0], values[0]
        if op == "=":
            return lambda v: _is_number(v) and v == x
        if op == ">":
            return lambda v: _is_number(v) and v > x
        if op == ">=":
            return lambda v: _is_number(v) and v >= x
        if op == "<":
            return lambda v: _is_number(v) and v < x
        if op == "<=":
            return lambda v: _is_number(v) and v <= x
        raise _invalid()
    low_op, high_op = operators
    if not isinstance(low_op, str) or not isinstance(high_op, str):
        raise _invalid()
    if low_op not in _LOWER_BOUNDS or high_op not in _UPPER_BOUNDS:
        raise _invalid()
    low, high = values
    if not low < high:
        raise _invalid()  # EventBridge: "Bottom must be less than top"
    low_open, high_open = _LOWER_BOUNDS[low_op], _UPPER_BOUNDS[high_op]

    def between(v: Any) -> bool:
        if not _is_number(v):
            return False
        number: float = v
        above = number > low if low_open else number >= low
        return above and (number < high if high_open else number <= high)

    return between


# -- matching --------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _literal_text(value: Any) -> str:
    """How a non-string leaf prints in the JSON the function receives."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    # Records reach the handler through orjson, so print floats the way it does.
    return orjson.dumps(value).decode()


def _flatten(values: list[Any]) -> Iterator[Any]:
    """The elements of a record list, nested lists spliced in."""
    for value in values:
        if isinstance(value, list):
            yield from _flatten(value)
        else:
            yield value


class _Leaf:
    """A list of matchers for one field: matches when any matcher accepts any leaf there."""

    __slots__ = ("any_leaf", "folded", "literals", "strings", "tests", "when_absent")

    def __init__(self, parts: _LeafParts) -> None:
        self.strings = frozenset(parts.strings)
        self.literals = frozenset(parts.literals)
        self.folded = frozenset(parts.folded)
        self.tests = tuple(parts.tests)
        self.any_leaf = parts.any_leaf
        self.when_absent = parts.when_absent

    def match(self, value: Any) -> bool:
        if isinstance(value, list):
            present = False
            for element in _flatten(value):
                if not isinstance(element, dict):
                    present = True
                    if self._accepts(element):
                        return True
            return self.when_absent and not present
        if value is _MISSING or isinstance(value, dict):
            return self.when_absent
        return self._accepts(value)

    def _accepts(self, value: Any) -> bool:
        if self.any_leaf:
            return True
        if isinstance(value, str):
            if value in self.strings:
                return True
            if self.folded and value.lower() in self.folded:
                return True
        elif self.literals and _literal_text(value) in self.literals:
            return True
        return any(test(value) for test in self.tests)


class _Object:
    """A pattern object: every field matches (AND) and every ``$or`` has a matching branch."""

    __slots__ = ("fields", "matches_empty", "ors")

    def __init__(
        self, fields: tuple[tuple[str, _Leaf | _Object], ...], ors: tuple[tuple[_Object, ...], ...]
    ) -> None:
        self.fields = fields
        self.ors = ors
        # What a missing value, a scalar or an empty list gives: only absence checks can hold.
        self.matches_empty = self.match_fields({})

    def match(self, value: Any) -> bool:
        if isinstance(value, dict):
            return self.match_fields(value)
        if isinstance(value, list):
            elements = list(_flatten(value))
            if not elements:
                return self.matches_empty
            return any(
                self.match_fields(e) if isinstance(e, dict) else self.matches_empty
                for e in elements
            )
        return self.matches_empty

    def match_fields(self, container: Mapping[str, Any]) -> bool:
        for key, matcher in self.fields:
            if not matcher.match(container.get(key, _MISSING)):
                return False
        return all(any(branch.match_fields(container) for branch in group) for group in self.ors)
