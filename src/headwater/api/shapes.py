"""Request validation against the botocore service models (errors.md §1.3 and §1.4).

AWS checks every request against its operation's input shape before doing anything else::

    ShapeValidator("dynamodb").validate("PutItem", {"TableName": ""})
    # ValidationError: 3 validation errors detected: Value '' at 'tableName' failed to satisfy
    # constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; ...

* A member of the wrong JSON type raises ``SerializationError`` with AWS's text (first one wins).
* Then all constraint violations (required, length, value range, enum, pattern, map keys/values)
  are reported at once, at most 10, as one ``ValidationError``.
* AttributeValue contents are not looked into: the model layer validates them.
* Unknown members are ignored, as AWS does.

For Lambda (rest-json) pass the URI/querystring/header members merged into ``params`` under their
member names (``FunctionName``, ``MaxItems``...); numeric and boolean ones may still be text.

Models are loaded lazily, once per service per process, and compiled into a per-operation plan
(``shape_types``) on first use, so a typical PutItem costs a few microseconds.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from typing import Any

from headwater.api.shape_types import (
    BlobNode,
    BoolNode,
    Ctx,
    EitherNode,
    ListNode,
    MapNode,
    Node,
    NumNode,
    OpaqueNode,
    StrNode,
    StructNode,
)
from headwater.errors import ValidationError

__all__ = ["MAX_REPORTED", "SERVICES", "ShapeValidator", "compile_java", "operation_names"]

SERVICES = ("dynamodb", "dynamodbstreams", "lambda")
MAX_REPORTED = 10  # AWS lists at most 10 violations (errors.md §1.3)

# Java package of modelled structures, as named in "Unrecognized collection type class ..." texts.
_NAMESPACE = {
    "dynamodb": "com.amazonaws.dynamodb.v20120810",
    "dynamodbstreams": "com.amazonaws.dynamodb.v20120810",  # INFERRED
    "lambda": "com.amazonaws.lambda.v20150331",  # INFERRED
}

# Enum sets in the order AWS prints them (errors.md §1.3, aws-semantics.md §5.5); else model order.
_ENUM_ORDER: dict[tuple[str, str], tuple[str, ...]] = {
    ("dynamodb", "ReturnConsumedCapacity"): ("INDEXES", "TOTAL", "NONE"),
    ("dynamodb", "ReturnValue"): ("ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"),
    ("dynamodb", "ReturnItemCollectionMetrics"): ("SIZE", "NONE"),
    ("dynamodb", "Select"): (
        "SPECIFIC_ATTRIBUTES",
        "COUNT",
        "ALL_ATTRIBUTES",
        "ALL_PROJECTED_ATTRIBUTES",
    ),
    ("dynamodb", "ConditionalOperator"): ("OR", "AND"),
    ("dynamodb", "ComparisonOperator"): tuple(
        [
            "IN",
            "NULL",
            "BETWEEN",
            "LT",
            "NOT_CONTAINS",
            "EQ",
            "GT",
            "NOT_NULL",
            "NE",
            "LE",
            "BEGINS_WITH",
            "GE",
            "CONTAINS",
        ]
    ),
    ("dynamodb", "BillingMode"): ("PROVISIONED", "PAY_PER_REQUEST"),
    ("dynamodb", "KeyType"): ("HASH", "RANGE"),
    ("dynamodb", "ScalarAttributeType"): ("B", "N", "S"),
    ("dynamodb", "ProjectionType"): ("ALL", "INCLUDE", "KEYS_ONLY"),
    ("dynamodb", "ApproximateCreationDateTimePrecision"): ("MILLISECOND", "MICROSECOND"),
    ("lambda", "EventSourcePosition"): ("LATEST", "AT_TIMESTAMP", "TRIM_HORIZON"),
}

# Constraints AWS enforces that botocore 1.44.5 no longer carries (errors.md CT-04, CT-05).
_EXTRA_CONSTRAINTS: dict[tuple[str, str], dict[str, Any]] = {
    ("dynamodb", "KeySchema"): {"max": 2},
}
_EXTRA_REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("dynamodb", "CreateTableInput"): ("AttributeDefinitions", "KeySchema"),
}
# Structures type-checked only as "a JSON object"; their contents belong to the model layer.
_OPAQUE = frozenset({"AttributeValue"})
_BOUND = frozenset({"uri", "querystring", "header"})
_NUMBERS = {
    "integer": ("Integer", "java.lang.Integer"),
    "long": ("Long", "java.lang.Long"),
    "double": ("Double", "java.lang.Double"),
    "float": ("Float", "java.lang.Float"),
    "timestamp": ("Date", "java.util.Date"),
}


# --- Java regex -> Python re ---------------------------------------------------------------

_PROPS_IN_CLASS = {
    "Print": r"\x20-\x7E",
    "Graph": r"\x21-\x7E",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Upper": "A-Z",
    "Lower": "a-z",
    "Space": r" \t\n\x0B\f\r",
    "ASCII": r"\x00-\x7F",
    "L": r"\w",  # approximation: Python's \w = letters + digits + '_'
    "N": r"\d",  # approximation: decimal digits only
    "Z": r"\u0020\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000",
}
_PROPS_OUTSIDE = {"L": r"[^\W\d_]", "N": r"\d"}
_SHORTHAND = {"w": "a-zA-Z0-9_", "d": "0-9", "s": r" \t\n\x0B\f\r"}


def java_to_python(pattern: str) -> str:
    """Translate a Java regex to Python ``re`` syntax (only what the AWS models use)."""
    out: list[str] = []
    in_class = False
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            e = pattern[i + 1]
            i += 2
            if e in "pP" and i < n and pattern[i] == "{":
                end = pattern.index("}", i)
                name = pattern[i + 1 : end]
                i = end + 1
                body = _PROPS_IN_CLASS[name]
                if in_class:
                    if e == "P":
                        raise ValueError("negated property inside a class")
                    out.append(body)
                elif e == "p":
                    out.append(_PROPS_OUTSIDE.get(name, f"[{body}]"))
                else:
                    out.append(f"[^{body}]")
            elif e == "u" and re.fullmatch("[0-9a-fA-F]{4}", pattern[i : i + 4]):
                cp = int(pattern[i : i + 4], 16)
                i += 4
                if 0xD800 <= cp < 0xDC00 and pattern[i : i + 2] == "\\u":
                    low = int(pattern[i + 2 : i + 6], 16)
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                out.append(f"\\U{cp:08X}")
            elif e in _SHORTHAND:
                out.append(_SHORTHAND[e] if in_class else f"[{_SHORTHAND[e]}]")
            elif e in "WDS" and not in_class:
                out.append(f"[^{_SHORTHAND[e.lower()]}]")
            elif e == "z":
                out.append(r"\Z")
            elif e.isalpha() and e not in "WDSbBAxtnrf":
                raise ValueError(f"unsupported escape \\{e}")
            else:
                out.append("\\" + e)
            continue
        if in_class:
            if c == "]":
                in_class = False
            elif c == "[" or pattern.startswith("&&", i):
                raise ValueError("nested or intersected class")
        elif c == "[":
            in_class = True
            out.append(c)
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            continue
        elif pattern.startswith("(?<", i) and pattern[i + 3 : i + 4] not in ("=", "!"):
            out.append("(?P<")
            i += 3
            continue
        out.append(c)
        i += 1
    return "".join(out)


@cache
def compile_java(pattern: str) -> re.Pattern[str] | None:
    """Compiled Python equivalent of a Java regex, or None if it cannot be translated."""
    try:
        return re.compile(java_to_python(pattern))
    except (ValueError, KeyError, re.error):
        return None


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _summary(errors: list[str]) -> str:
    shown = errors[:MAX_REPORTED]
    n = len(shown)
    return f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(shown)


class _Service:
    """One service's model and its compiled plans (shared by every ShapeValidator)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lambda_style = name == "lambda"
        self.plans: dict[str, StructNode] = {}
        self._model: dict[str, Any] | None = None
        self._nodes: dict[str, Node] = {}
        self._either: EitherNode | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> dict[str, Any]:
        if self._model is None:
            with _REGISTRY_LOCK:
                if self._model is None:
                    from botocore.loaders import create_loader

                    model: dict[str, Any] = create_loader().load_service_model(
                        self.name, "service-2"
                    )
                    self._model = model
        return self._model

    def plan(self, operation: str) -> StructNode:
        plan = self.plans.get(operation)
        if plan is not None:
            return plan
        op = self.model["operations"].get(operation)
        if op is None:
            raise ValueError(f"unknown {self.name} operation: {operation!r}")
        with self._lock:
            shape = op.get("input", {}).get("shape")
            node = self._compile(shape) if shape else StructNode(f"{_NAMESPACE[self.name]}.Void")
            assert isinstance(node, StructNode)
            self.plans[operation] = node
        return node

    # --- compilation ---

    def _compile(self, name: str) -> Node:
        node = self._nodes.get(name)
        if node is not None:
            return node
        shape = {**self.model["shapes"][name], **_EXTRA_CONSTRAINTS.get((self.name, name), {})}
        kind = shape["type"]
        lam = self.lambda_style
        if kind == "structure":
            java = f"{_NAMESPACE[self.name]}.{name}"
            if name in _OPAQUE:
                node = self._nodes[name] = OpaqueNode(java)
                return node
            struct = StructNode(java)
            self._nodes[name] = struct  # before the members: shapes may be recursive
            for mname, member in shape["members"].items():
                child = self._member_node(mname, member["shape"])
                bound = member.get("location") in _BOUND
                struct.members[mname] = (_lower_first(mname), child, bound)
            required = [*shape.get("required", ()), *_EXTRA_REQUIRED.get((self.name, name), ())]
            struct.required = tuple((r, _lower_first(r)) for r in dict.fromkeys(required))
            return struct
        if kind == "list":
            lst = ListNode(shape.get("min"), shape.get("max"))
            self._nodes[name] = lst
            lst.member = self._compile(shape["member"]["shape"])
            lst.java = f"java.util.List<{lst.member.java}>"
            lst.set_bracket(lam)
            return lst
        if kind == "map":
            mp = MapNode(shape.get("min"), shape.get("max"))
            self._nodes[name] = mp
            mp.key = self._member_node("", shape["key"]["shape"], as_key=True)
            mp.value = self._compile(shape["value"]["shape"])
            mp.java = f"java.util.Map<java.lang.String, {mp.value.java}>"
            mp.set_bracket(lam)
            return mp
        if kind == "string":
            enum = shape.get("enum")
            printed = _ENUM_ORDER.get((self.name, name))
            if enum and printed and sorted(printed) == sorted(enum):
                enum = list(printed)
            pattern = shape.get("pattern")
            rx = compile_java(pattern) if pattern is not None else None
            s = StrNode(shape.get("min"), shape.get("max"), pattern, rx, enum)
            s.set_bracket(lam, "pattern" in shape)
            node = s
        elif kind in _NUMBERS:
            tname, java = _NUMBERS[kind]
            num = NumNode(tname, java, shape.get("min"), shape.get("max"))
            num.set_bracket(lam)
            node = num
        elif kind == "boolean":
            node = BoolNode()
        elif kind == "blob":
            node = BlobNode()
        else:
            raise ValueError(f"unsupported shape type {kind!r} ({self.name}.{name})")
        self._nodes[name] = node
        return node

    def _member_node(self, member: str, shape: str, as_key: bool = False) -> Node:
        """DynamoDB table names typed ``TableArn`` keep the name rules unless given an ARN."""
        if self.name == "dynamodb" and shape == "TableArn" and (as_key or member == "TableName"):
            if self._either is None:
                name, arn = self._compile("TableName"), self._compile("TableArn")
                assert isinstance(name, StrNode) and isinstance(arn, StrNode)
                self._either = EitherNode(name, arn)
            return self._either
        return self._compile(shape)


_REGISTRY_LOCK = threading.RLock()
_REGISTRY: dict[str, _Service] = {}


def _service(name: str) -> _Service:
    svc = _REGISTRY.get(name)
    if svc is None:
        if name not in SERVICES:
            raise ValueError(f"unknown service {name!r}; expected one of {SERVICES}")
        with _REGISTRY_LOCK:
            svc = _REGISTRY.setdefault(name, _Service(name))
    return svc


def operation_names(service: str) -> set[str]:
    """The service's operation names (for UnknownOperationException routing)."""
    return set(_service(service).model["operations"])


class ShapeValidator:
    """Validates request parameters of one service against its botocore model."""

    __slots__ = ("_svc",)

    def __init__(self, service: str) -> None:
        self._svc = _service(service)

    @property
    def service(self) -> str:
        return self._svc.name

    def prepare(self) -> None:
        """Load the model and compile every operation's plan now (e.g. at server start)."""
        for operation in self._svc.model["operations"]:
            self._svc.plan(operation)

    def validate(self, operation: str, params: dict[str, Any], *, required: bool = True) -> None:
        """Raise ``SerializationError`` / ``ValidationError`` if ``params`` breaks the shape.

        ``required=False`` skips "Member must not be null" checks, for callers that word missing
        members themselves (Lambda reports some as InvalidParameterValueException).
        Raises ``ValueError`` for an operation the service does not have.
        """
        plan = self._svc.plans.get(operation) or self._svc.plan(operation)
        ctx = Ctx(required)
        plan.check(params, "", ctx)
        if ctx.errors:
            raise ValidationError(_summary(ctx.errors))
