"""Parsed expressions, cached: a request shape's expressions are parsed once, not every call.

Applications send the same expression texts over and over with different ``:values``, and a
parse costs far more than the rest of a small request. A parse's outcome depends on the text,
the grammar (and the expression kind its messages name), the request's
ExpressionAttributeNames and the *types* of its ExpressionAttributeValues (operand type
checks) - with two exceptions that look at the values themselves, re-checked on every hit:
the order of literal BETWEEN bounds and the type name given to ``attribute_type``.

So a successful parse is kept under that key as a template whose literals hold no value, and
a hit binds this request's values into a fresh tree (the templates are shared between
requests and threads, and never handed out when they hold literals). Failed parses are not
cached: an invalid expression is parsed (and rejected) every time. A hit marks the
placeholders the expression uses, so "unused ExpressionAttributeNames/Values" still fires per
request, and every value is still validated per request by ``ExpressionParams``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from headwater.expressions.ast import (
    AddAction,
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    DeleteAction,
    In,
    Literal,
    Not,
    Or,
    Path,
    Projection,
    RemoveAction,
    SetAction,
    UpdatePlan,
)
from headwater.expressions.names import ExpressionParams
from headwater.model.types import AttrValue

__all__ = ["MAX_ENTRIES", "ParseCache", "bind", "has_literals"]

MAX_ENTRIES: Final = 1024
# Bigger texts are parsed every time: the cache is for the small expressions sent often.
MAX_CACHED_TEXT: Final = 1024

T = TypeVar("T")
_EMPTY: Final[AttrValue] = {}


@dataclass(frozen=True, slots=True)
class _Entry:
    template: Any
    names: tuple[str, ...]  # the #placeholders the text uses
    literals: bool  # whether binding is needed
    recheck: bool  # whether the value checks must run again on a hit


Bind = Callable[[str], AttrValue]


def bind(node: Any, value: Bind) -> Any:
    """A copy of ``node`` whose literals hold ``value(placeholder)``; paths and actions
    without a value are shared, not copied."""
    binder = _BINDERS.get(type(node))
    if binder is None:
        raise TypeError(f"not an expression node: {type(node).__name__}")
    return binder(node, value)


def _same(node: Any, value: Bind) -> Any:
    return node


def _all(nodes: tuple[Any, ...], value: Bind) -> tuple[Any, ...]:
    return tuple([_BINDERS[type(node)](node, value) for node in nodes])


_BINDERS: Final[dict[type, Callable[[Any, Bind], Any]]] = {
    Path: _same,
    RemoveAction: _same,
    Projection: _same,
    Literal: lambda n, v: Literal(n.name, v(n.name)),
    Compare: lambda n, v: Compare(n.op, bind(n.left, v), bind(n.right, v)),
    And: lambda n, v: And(_all(n.items, v)),
    Or: lambda n, v: Or(_all(n.items, v)),
    Not: lambda n, v: Not(bind(n.item, v)),
    Call: lambda n, v: Call(n.name, _all(n.args, v)),
    Between: lambda n, v: Between(bind(n.subject, v), bind(n.low, v), bind(n.high, v)),
    In: lambda n, v: In(bind(n.subject, v), _all(n.choices, v)),
    Arithmetic: lambda n, v: Arithmetic(n.op, bind(n.left, v), bind(n.right, v)),
    SetAction: lambda n, v: SetAction(n.path, bind(n.value, v)),
    AddAction: lambda n, v: AddAction(n.path, bind(n.value, v)),
    DeleteAction: lambda n, v: DeleteAction(n.path, bind(n.value, v)),
    UpdatePlan: lambda n, v: UpdatePlan(_all(n.actions, v)),
}


def has_literals(node: Any) -> bool:
    """Whether any ``:value`` appears in the tree."""
    found = False

    def note(_: str) -> AttrValue:
        nonlocal found
        found = True
        return _EMPTY

    bind(node, note)
    return found


class ParseCache:
    """A bounded LRU of parse templates; safe to share between threads."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def parse(
        self,
        grammar: str,
        text: str,
        params: ExpressionParams,
        parse: Callable[[], tuple[T, tuple[str, ...]]],
        *,
        needs_recheck: Callable[[T], bool] | None = None,
        recheck: Callable[[T], None] | None = None,
    ) -> T:
        """The parsed tree of ``text`` with this request's values.

        ``parse()`` parses for real and returns the tree and the ``#name`` placeholders the
        text used. ``needs_recheck(tree)`` says whether a tree holds a value-dependent check,
        which ``recheck(bound_tree)`` repeats (raising as the parse would) on a hit.
        """
        if len(text) > MAX_CACHED_TEXT:
            return parse()[0]
        key = (grammar, text, params.signature)
        entry = self._entries.get(key)
        if entry is None:
            tree, names = parse()
            literals = has_literals(tree)
            template = bind(tree, lambda _: _EMPTY) if literals else tree
            entry = _Entry(
                template,
                names,
                literals,
                needs_recheck is not None and needs_recheck(tree),
            )
            with self._lock:
                self.misses += 1
                self._entries[key] = entry
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
            return tree
        with self._lock:
            self.hits += 1
            if key in self._entries:
                self._entries.move_to_end(key)
        params.use_names(entry.names)
        if not entry.literals:
            return entry.template  # type: ignore[no-any-return]
        bound: T = bind(entry.template, params.bound_value)
        if entry.recheck and recheck is not None:
            recheck(bound)
        return bound
