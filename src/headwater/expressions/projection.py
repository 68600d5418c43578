"""ProjectionExpression: parsing a path list and cutting an item down to those paths.

The same cut gives ReturnValues UPDATED_OLD / UPDATED_NEW their shape, so it works on any
list of paths. Projected list elements keep their relative order and close up, as in AWS.
"""

from __future__ import annotations

import copy
from typing import Final, TypeAlias

from headwater.expressions.ast import Path, PathElement, Projection
from headwater.expressions.cache import ParseCache
from headwater.expressions.issues import Issues
from headwater.expressions.names import ExpressionParams
from headwater.expressions.parser import Parser, note_path_clashes
from headwater.model.types import AttrValue, Item

KIND: Final = "ProjectionExpression"
_ORDER: Final = ("reserved", "undefined", "overlap", "conflict")


class _ProjectionParser(Parser):
    def __init__(self, text: str, params: ExpressionParams) -> None:
        super().__init__(text, KIND, params, Issues(KIND, _ORDER))

    def parse(self) -> Projection:
        paths = [self.parse_path()]
        while self.token.is_punct(","):
            self.advance()
            paths.append(self.parse_path())
        self.expect_end()
        note_path_clashes(paths, self.issues)
        self.issues.raise_first()
        return Projection(tuple(paths))


_PARSED: Final = ParseCache()


def parse_projection(text: str, params: ExpressionParams) -> Projection:
    """Parse a ProjectionExpression; raises ``ValidationError`` (only) for invalid text.
    Successful parses are cached (``expressions.cache``)."""

    def parse() -> tuple[Projection, tuple[str, ...]]:
        parser = _ProjectionParser(text, params)
        return parser.parse(), tuple(parser.used_names)

    return _PARSED.parse(KIND, text, params, parse)


def parse_projection_uncached(text: str, params: ExpressionParams) -> Projection:
    """``parse_projection`` without the cache (what the cache must agree with)."""
    return _ProjectionParser(text, params).parse()


# A selection tree: for each map key or list index, either the whole value (None) or a
# narrower selection inside it.
_Tree: TypeAlias = dict[PathElement, "_Tree | None"]


def _selection(paths: tuple[Path, ...]) -> _Tree:
    root: _Tree = {}
    for path in paths:
        node = root
        for element in path.elements[:-1]:
            child = node.setdefault(element, {})
            if child is None:  # an enclosing path is already selected whole
                break
            node = child
        else:
            node[path.elements[-1]] = None
    return root


def _cut(value: AttrValue, tree: _Tree | None) -> AttrValue | None:
    if tree is None:
        return copy.deepcopy(value)
    if "M" in value:
        members = value["M"]
        kept = {}
        for key, subtree in tree.items():
            if isinstance(key, str) and key in members:
                part = _cut(members[key], subtree)
                if part is not None:
                    kept[key] = part
        return {"M": kept} if kept else None
    if "L" in value:
        elements = value["L"]
        indexes = sorted(key for key in tree if isinstance(key, int) and key < len(elements))
        parts = [_cut(elements[i], tree[i]) for i in indexes]
        kept_list = [part for part in parts if part is not None]
        return {"L": kept_list} if kept_list else None
    return None


def project_paths(item: Item, paths: tuple[Path, ...]) -> Item:
    """The parts of ``item`` the paths name; missing parts are simply left out."""
    result: Item = {}
    for name, subtree in _selection(paths).items():
        if isinstance(name, str) and name in item:
            part = _cut(item[name], subtree)
            if part is not None:
                result[name] = part
    return result


def apply_projection(item: Item, projection: Projection) -> Item:
    """A new item holding only what the projection asks for (the input is not changed)."""
    return project_paths(item, projection.paths)
