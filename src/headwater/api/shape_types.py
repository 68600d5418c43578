"""Compiled validation nodes for botocore input shapes (the engine behind ``api/shapes.py``).

One node per model shape. A node checks a JSON value in a single pass:

* wrong JSON type -> ``SerializationError`` at once (it wins over every constraint error);
* constraint violations -> appended to ``Ctx.errors`` as AWS's
  ``Value <v> at '<path>' failed to satisfy constraint: <constraint>`` items.

``check`` is used for a struct member (a "field"); ``check_elem`` for a list element or a map value,
where AWS reports the element's own constraints once, at the collection, as
``Member must satisfy constraint: [...]`` / ``Map value must satisfy constraint: [...]``.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from headwater.errors import SerializationError

NOT_NULL = "Member must not be null"
FIELD_TYPE = "Unexpected field type"
VALUE_TYPE = "Unexpected value type in payload"
START_OF_MAP = "Start of structure or map found where not expected"
PARAMETERIZED = (
    "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to class "
    "java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and "
    "java.lang.Class are in module java.base of loader 'bootstrap')"
)
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_VALUE = {c: i for i, c in enumerate(_B64)}


class Ctx:
    """Per-request state: the collected constraint items and whether to check required."""

    __slots__ = ("errors", "required")

    def __init__(self, required: bool) -> None:
        self.errors: list[str] = []
        self.required = required


# --- rendering (Java toString) -------------------------------------------------------------


def render(value: Any) -> str:
    """Java-style ``toString`` of a JSON value (no surrounding quotes)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bytes | bytearray):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    return str(value)


def java_double(x: float) -> str:
    """``Double.toString``: plain in [1e-3, 1e7), otherwise ``d.dddE<n>``."""
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if str(x).startswith("-") else "0.0"
    if 1e-3 <= abs(x) < 1e7:
        return repr(x)
    sign, digits, exp = Decimal(repr(x)).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    e10 = len(digits) - 1 + int(exp)
    return ("-" if sign else "") + f"{ds[0]}.{ds[1:] or '0'}E{e10}"


def item(value: Any, path: str, constraint: str) -> str:
    shown = "null" if value is None else "'" + render(value) + "'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


# --- type errors (errors.md 1.4) -------------------------------------------------------------


def scalar_type_error(value: Any, tname: str, java: str) -> str:
    """SerializationException text for a scalar member of Java type ``tname`` given ``value``."""
    if isinstance(value, bool):
        return f"{'TRUE' if value else 'FALSE'}_VALUE cannot be converted to {tname}"
    if isinstance(value, str):
        if tname == "Boolean":
            return "Unexpected token received from parser"
        return f"STRING_VALUE cannot be converted to {tname}"
    if isinstance(value, int):
        return f"NUMBER_VALUE cannot be converted to {tname}"
    if isinstance(value, float):
        return f"DECIMAL_VALUE cannot be converted to {tname}"
    if isinstance(value, list):
        return f"Unrecognized collection type class {java}"
    if isinstance(value, dict):
        return START_OF_MAP
    return VALUE_TYPE


def blob_error(value: Any) -> str | None:
    """SerializationException text for a Blob given ``value`` (base64 text expected), or None."""
    if isinstance(value, bytes | bytearray):
        return None
    if isinstance(value, list):
        return "Unrecognized collection type class java.nio.ByteBuffer"
    if isinstance(value, dict):
        return START_OF_MAP
    if not isinstance(value, str):
        return "only base-64-encoded strings are convertible to bytes"
    if len(value) % 4:
        return f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(value)}"
    pads = len(value) - len(value.rstrip("="))
    body = value[: len(value) - min(pads, 2)]
    if body:
        last = _B64_VALUE.get(body[-1])
        unused = {0: 0, 2: 0xF, 3: 0x3}.get(len(body) % 4, -1)
        if last is None or unused < 0 or last & unused:
            return "Invalid last non-pad Base64 character dectected"
        for c in body:
            if c not in _B64_VALUE:
                return f"Invalid Base64 character: '{c}'"
    return None


# --- nodes ---------------------------------------------------------------------------------


def bracket(parts: list[str], lambda_style: bool) -> str:
    return "[" + ", ".join([*parts, NOT_NULL] if lambda_style else parts) + "]"


class Node:
    """Base: a compiled shape. ``java`` is the Java type named in SerializationException texts."""

    __slots__ = ("bracket", "deep", "java", "null_fails")

    def __init__(self, java: str) -> None:
        self.java = java
        self.bracket = ""  # all own constraints, as printed inside "must satisfy constraint: [...]"
        self.deep = False  # has members/elements that need their own paths
        self.null_fails = False  # a null list element / map value violates (Lambda style)

    def check(self, value: Any, path: str, ctx: Ctx) -> None:
        raise NotImplementedError

    def check_elem(self, value: Any, path: str, ctx: Ctx) -> bool:
        """Check a collection element; True if its own constraints fail."""
        self.check(value, path, ctx)
        return False

    def coerce(self, value: str) -> Any:
        """Value from a URI/querystring/header (always text) as the JSON type this node wants."""
        return value


class StrNode(Node):
    __slots__ = ("enum", "enum_msg", "max_len", "max_msg", "min_len", "min_msg", "pat_msg", "rx")

    def __init__(
        self,
        min_len: int | None = None,
        max_len: int | None = None,
        pattern: str | None = None,
        rx: re.Pattern[str] | None = None,
        enum: list[str] | None = None,
    ) -> None:
        super().__init__("java.lang.String")
        self.min_len, self.max_len = min_len, max_len
        self.min_msg = f"Member must have length greater than or equal to {min_len}"
        self.max_msg = f"Member must have length less than or equal to {max_len}"
        self.rx = rx  # None: no pattern, or one Python cannot express (then never fails)
        self.pat_msg = f"Member must satisfy regular expression pattern: {pattern}"
        self.enum = frozenset(enum) if enum else None
        self.enum_msg = f"Member must satisfy enum value set: [{', '.join(enum or [])}]"

    def set_bracket(self, lambda_style: bool, has_pattern: bool) -> None:
        parts = []
        if self.max_len is not None:
            parts.append(self.max_msg)
        if self.min_len is not None:
            parts.append(self.min_msg)
        if has_pattern:
            parts.append(self.pat_msg)
        if self.enum is not None:
            parts.append(self.enum_msg)
        self.bracket = bracket(parts, lambda_style) if parts or lambda_style else ""
        self.null_fails = lambda_style

    def fails(self, s: str) -> list[str] | None:
        out: list[str] | None = None
        if self.rx is not None and self.rx.fullmatch(s) is None:
            out = [self.pat_msg]
        if self.min_len is not None or self.max_len is not None:
            n = len(s) if s.isascii() else len(s.encode("utf-16-le")) // 2
            if self.min_len is not None and n < self.min_len:
                out = [*(out or ()), self.min_msg]
            if self.max_len is not None and n > self.max_len:
                out = [*(out or ()), self.max_msg]
        if self.enum is not None and s not in self.enum:
            out = [*(out or ()), self.enum_msg]
        return out

    def check(self, value: Any, path: str, ctx: Ctx) -> None:
        if type(value) is not str:
            raise SerializationError(scalar_type_error(value, "String", self.java))
        if self.bracket:
            fails = self.fails(value)
            if fails:
                ctx.errors.extend(item(value, path, f) for f in fails)

    def check_elem(self, value: Any, path: str, ctx: Ctx) -> bool:
        if type(value) is not str:
            raise SerializationError(scalar_type_error(value, "String", self.java))
        return bool(self.bracket) and self.fails(value) is not None


class EitherNode(Node):
    """A ``TableName`` member typed ``TableArn``: ARNs use ``arn``'s rules, names ``name``'s."""

    __slots__ = ("arn", "name")

    def __init__(self, name: StrNode, arn: StrNode) -> None:
        super().__init__("java.lang.String")
        self.name, self.arn = name, arn
        self.bracket, self.null_fails = name.bracket, name.null_fails

    def check(self, value: Any, path: str, ctx: Ctx) -> None:
        node = self.arn if type(value) is str and value.startswith("arn:") else self.name
        node.check(value, path, ctx)

    def check_elem(self, value: Any, path: str, ctx: Ctx) -> bool:
        node = self.arn if type(value) is str and value.startswith("arn:") else self.name
        return node.check_elem(value, path, ctx)


class _Bounded(Node):
    """A node with an optional [lo, hi] bound on its value (``what="value"``) or length."""

    __slots__ = ("hi", "hi_msg", "lo", "lo_msg")

    def __init__(self, java: str, what: str, lo: float | None, hi: float | None) -> None:
        super().__init__(java)
        self.lo, self.hi = lo, hi
        self.lo_msg = f"Member must have {what} greater than or equal to {lo}"
        self.hi_msg = f"Member must have {what} less than or equal to {hi}"

    def set_bracket(self, lambda_style: bool) -> None:
        parts = [m for b, m in ((self.hi, self.hi_msg), (self.lo, self.lo_msg)) if b is not None]
        self.bracket = bracket(parts, lambda_style) if parts or lambda_style else ""
        self.null_fails = lambda_style

    def out_of_bounds(self, n: float) -> bool:
        return (self.lo is not None and n < self.lo) or (self.hi is not None and n > self.hi)

    def bounds(self, n: float, shown: Any, path: str, ctx: Ctx) -> None:
        if self.lo is not None and n < self.lo:
            ctx.errors.append(item(shown, path, self.lo_msg))
        if self.hi is not None and n > self.hi:
            ctx.errors.append(item(shown, path, self.hi_msg))


class NumNode(_Bounded):
    """integer / long / double / timestamp (JSON numbers)."""

    __slots__ = ("integral", "tname")

    def __init__(self, tname: str, java: str, lo: float | None, hi: float | None) -> None:
        super().__init__(java, "value", lo, hi)
        self.tname = tname
        self.integral = tname in ("Integer", "Long")

    def _num(self, value: Any) -> int | float:
        t = type(value)
        if t is int:
            return int(value)
        if t is float:
            return int(value) if self.integral else float(value)
        raise SerializationError(scalar_type_error(value, self.tname, self.java))

    def check(self, value: Any, path: str, ctx: Ctx) -> None:
        v = self._num(value)
        self.bounds(v, v, path, ctx)

    def check_elem(self, value: Any, path: str, ctx: Ctx) -> bool:
        return self.out_of_bounds(self._num(value))

    def coerce(self, value: str) -> Any:
        try:
            return int(value) if self.integral else float(value)
        except ValueError:
            pass
        try:  # a timestamp in a querystring/header: ISO 8601
            return datetime.fromisoformat(value).timestamp() if self.tname == "Date" else value
        except ValueError:
            return value


class BoolNode(Node):
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("java.lang.Boolean")

    def check(self, value: Any, path: str, ctx: Ctx) -> None:
        if type(value) is not bool:
            raise SerializationError(scalar_type_error(value, "Boolean", self.java))

    def coerce(self, value: str) -> Any:
        return {"true": True, "false": False}.get(value.lower(), value)


class BlobNode(Node):
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("java.nio.ByteBuffer")

    def check(self, value: Any, path: str, ctx: Ctx) -> None:
        msg = blob_error(value)
        if msg is not None:
            raise SerializationError(msg)


class OpaqueNode(Node):
    """A struct checked only for being a JSON object (AttributeValue: the model layer owns it)."""

    __slots__ = ()

    def check(self, value: Any, path: str, ctx: Ctx) -> None:
        if type(value) is not dict:
            raise SerializationError(self.type_error(value, False))

    def check_elem(self, value: Any, path: str, ctx: Ctx) -> bool:
        if type(value) is not dict:
            raise SerializationError(self.type_error(value, True))
        return False

    def type_error(self, value: Any, elem: bool) -> str:
        if isinstance(value, list):
            return f"Unrecognized collection type class {self.java}"
        return VALUE_TYPE if elem else FIELD_TYPE


class StructNode(OpaqueNode):
    __slots__ = ("members", "required")

    def __init__(self, java: str) -> None:
        super().__init__(java)
        self.deep = True
        # JSON name -> (lowerCamel path segment, node, bound to URI/querystring/header)
        self.members: dict[str, tuple[str, Node, bool]] = {}
        self.required: tuple[tuple[str, str], ...] = ()  # (JSON name, path segment)

    def check(self, value: Any, path: str, ctx: Ctx) -> None:
        if type(value) is not dict:
            raise SerializationError(self.type_error(value, False))
        self._members(value, path + "." if path else "", ctx)

    def check_elem(self, value: Any, path: str, ctx: Ctx) -> bool:
        if type(value) is not dict:
            raise SerializationError(self.type_error(value, True))
        self._members(value, path + ".", ctx)
        return False

    def _members(self, value: dict[str, Any], prefix: str, ctx: Ctx) -> None:
        members = self.members
        for k, v in value.items():
            m = members.get(k)
            if m is None or v is None:
                continue
            seg, node, bound = m
            if bound and type(v) is str:
                v = node.coerce(v)
            node.check(v, prefix + seg, ctx)
        if ctx.required:
            for k, seg in self.required:
                if value.get(k) is None:
                    ctx.errors.append(item(None, prefix + seg, NOT_NULL))


class ListNode(_Bounded):
    __slots__ = ("member",)

    def __init__(self, lo: int | None, hi: int | None) -> None:
        super().__init__("java.util.List", "length", lo, hi)
        self.deep = True
        self.member: Node = Node("")

    def _type_error(self, value: Any, elem: bool) -> str:
        if isinstance(value, dict):
            return START_OF_MAP
        return PARAMETERIZED if elem else FIELD_TYPE

    def check(self, value: Any, path: str, ctx: Ctx) -> None:
        if type(value) is not list:
            raise SerializationError(self._type_error(value, False))
        if self.bracket:
            self.bounds(len(value), value, path, ctx)
        self._elements(value, path, ctx)

    def check_elem(self, value: Any, path: str, ctx: Ctx) -> bool:
        if type(value) is not list:
            raise SerializationError(self._type_error(value, True))
        self._elements(value, path, ctx)
        return bool(self.bracket) and self.out_of_bounds(len(value))

    def _elements(self, value: list[Any], path: str, ctx: Ctx) -> None:
        m = self.member
        bad = False
        deep = m.deep
        for i, v in enumerate(value, 1):
            if v is None:
                bad = bad or m.null_fails
            elif m.check_elem(v, f"{path}.{i}.member" if deep else path, ctx):
                bad = True
        if bad:
            ctx.errors.append(item(value, path, "Member must satisfy constraint: " + m.bracket))


class MapNode(_Bounded):
    __slots__ = ("key", "value")

    def __init__(self, lo: int | None, hi: int | None) -> None:
        super().__init__("java.util.Map", "length", lo, hi)
        self.deep = True
        self.key: Node = Node("")
        self.value: Node = Node("")

    def _type_error(self, value: Any, elem: bool) -> str:
        if isinstance(value, list):
            return f"Unrecognized collection type {self.java}"
        return PARAMETERIZED if elem else FIELD_TYPE

    def check(self, value: Any, path: str, ctx: Ctx) -> None:
        if type(value) is not dict:
            raise SerializationError(self._type_error(value, False))
        if self.bracket:
            self.bounds(len(value), value, path, ctx)
        self._entries(value, path, ctx)

    def check_elem(self, value: Any, path: str, ctx: Ctx) -> bool:
        if type(value) is not dict:
            raise SerializationError(self._type_error(value, True))
        self._entries(value, path, ctx)
        return bool(self.bracket) and self.out_of_bounds(len(value))

    def _entries(self, value: dict[str, Any], path: str, ctx: Ctx) -> None:
        key, val = self.key, self.value
        check_keys = bool(key.bracket)
        bad_key = bad_value = False
        if type(val) is OpaqueNode:  # fast path: Item / Key / ExpressionAttributeValues
            for k, v in value.items():
                if type(v) is not dict and v is not None:
                    raise SerializationError(val.type_error(v, True))
                if check_keys and not bad_key and key.check_elem(k, path, ctx):
                    bad_key = True
        else:
            deep = val.deep
            for k, v in value.items():
                if check_keys and not bad_key and key.check_elem(k, path, ctx):
                    bad_key = True
                if v is None:
                    bad_value = bad_value or val.null_fails
                elif val.check_elem(v, f"{path}.{k}.member" if deep else path, ctx):
                    bad_value = True
        if bad_key:
            ctx.errors.append(item(value, path, "Map keys must satisfy constraint: " + key.bracket))
        if bad_value:
            ctx.errors.append(
                item(value, path, "Map value must satisfy constraint: " + val.bracket)
            )
