"""Round trips: a random condition, written out as DynamoDB expression text, parses back into
something that decides every item exactly as the condition itself does.

The generator builds a small condition tree (comparisons, BETWEEN, IN, attribute_exists,
attribute_not_exists, AND, OR, NOT, parentheses), renders it as text with generated
placeholders, parses it with Headwater's parser and compares the evaluation on random items
with a direct evaluation of the tree under DynamoDB's rules (a comparison with a missing
attribute is false, except ``<>`` which is true).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.expressions.conditions import parse_condition
from headwater.expressions.evaluate import evaluate_condition
from headwater.expressions.names import ExpressionParams

ATTRIBUTES = ("a", "b", "c")
OPERATORS = ("=", "<>", "<", "<=", ">", ">=")


@dataclass
class Render:
    values: dict[str, Any] = field(default_factory=dict)

    def value(self, number: int) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = {"N": str(number)}
        return placeholder


Node = tuple[Any, ...]

leaves = st.one_of(
    st.tuples(
        st.just("cmp"), st.sampled_from(ATTRIBUTES), st.sampled_from(OPERATORS), st.integers(-3, 3)
    ),
    st.tuples(
        st.just("between"), st.sampled_from(ATTRIBUTES), st.integers(-3, 3), st.integers(-3, 3)
    ),
    st.tuples(
        st.just("in"),
        st.sampled_from(ATTRIBUTES),
        st.lists(st.integers(-3, 3), min_size=1, max_size=4),
    ),
    st.tuples(st.just("exists"), st.sampled_from(ATTRIBUTES)),
    st.tuples(st.just("not_exists"), st.sampled_from(ATTRIBUTES)),
)

conditions = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.tuples(st.just("and"), inner, inner),
        st.tuples(st.just("or"), inner, inner),
        st.tuples(st.just("not"), inner),
    ),
    max_leaves=8,
)

items = st.dictionaries(st.sampled_from(ATTRIBUTES), st.integers(-3, 3))


def render(node: Node, out: Render) -> str:
    kind = node[0]
    if kind == "cmp":
        return f"#{node[1]} {node[2]} {out.value(node[3])}"
    if kind == "between":
        low, high = sorted((node[2], node[3]))
        return f"#{node[1]} BETWEEN {out.value(low)} AND {out.value(high)}"
    if kind == "in":
        return f"#{node[1]} IN ({', '.join(out.value(v) for v in node[2])})"
    if kind == "exists":
        return f"attribute_exists(#{node[1]})"
    if kind == "not_exists":
        return f"attribute_not_exists(#{node[1]})"
    if kind == "not":
        return f"NOT ({render(node[1], out)})"
    joiner = " AND " if kind == "and" else " OR "
    return f"({render(node[1], out)}){joiner}({render(node[2], out)})"


def decide(node: Node, item: dict[str, int]) -> bool:
    kind = node[0]
    if kind == "cmp":
        value = item.get(node[1])
        if value is None:
            return bool(node[2] == "<>")
        return {
            "=": value == node[3],
            "<>": value != node[3],
            "<": value < node[3],
            "<=": value <= node[3],
            ">": value > node[3],
            ">=": value >= node[3],
        }[node[2]]
    if kind == "between":
        value = item.get(node[1])
        low, high = sorted((node[2], node[3]))
        return value is not None and low <= value <= high
    if kind == "in":
        return item.get(node[1]) in node[2]
    if kind == "exists":
        return node[1] in item
    if kind == "not_exists":
        return node[1] not in item
    if kind == "not":
        return not decide(node[1], item)
    if kind == "and":
        return decide(node[1], item) and decide(node[2], item)
    return decide(node[1], item) or decide(node[2], item)


@settings(max_examples=300, deadline=None)
@given(conditions, st.lists(items, min_size=1, max_size=5))
def test_a_rendered_condition_parses_back_to_the_same_decisions(
    node: Node, samples: list[dict[str, int]]
) -> None:
    out = Render()
    text = render(node, out)
    names = {f"#{name}": name for name in ATTRIBUTES if f"#{name}" in text}
    params = ExpressionParams(names, out.values or None)
    parsed = parse_condition(text, params, "ConditionExpression")
    for sample in samples:
        item = {"id": {"S": "k"}, **{k: {"N": str(v)} for k, v in sample.items()}}
        assert evaluate_condition(parsed, item) == decide(node, sample), (text, sample)
