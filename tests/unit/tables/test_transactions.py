"""TransactionOps without a server: atomicity, token windows by the stepped clock, restarts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater.clock import Clock
from headwater.errors import IdempotentParameterMismatch, TransactionCanceled
from headwater.expressions import ExpressionParams, parse_condition
from headwater.tables.control import TableSpec
from headwater.tables.transactions import TOKEN_WINDOW, WriteAction
from tests.unit.tables.tables_world import REGION, Tables


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tables(tmp_path: Path, clock: Clock) -> Iterator[Tables]:
    opened = Tables(tmp_path / "headwater.db", clock)
    yield opened
    opened.close()


def _put(pk: str, condition: str | None = None, **attrs: Any) -> WriteAction:
    parsed = None
    if condition is not None:
        parsed = parse_condition(condition, ExpressionParams(None, None), "ConditionExpression")
    return WriteAction("Put", "orders", item={"pk": {"S": pk}, **attrs}, condition=parsed)


def _get(tables: Tables, pk: str) -> Any:
    return tables.items.get_item(REGION, "orders", {"pk": {"S": pk}})


def test_all_actions_commit_with_their_records(tables: Tables) -> None:
    tables.create("orders")
    tables.tx.write(REGION, [_put("a"), _put("b")]).result()
    assert _get(tables, "a") and _get(tables, "b")
    assert [r["eventName"] for r in tables.records("orders")] == ["INSERT", "INSERT"]


def test_a_failed_condition_writes_nothing(tables: Tables) -> None:
    tables.create("orders")
    future = tables.tx.write(REGION, [_put("a"), _put("b", "attribute_exists(pk)")])
    with pytest.raises(TransactionCanceled) as err:
        future.result()
    assert [r.code for r in err.value.reasons] == ["None", "ConditionalCheckFailed"]
    assert _get(tables, "a") is None
    assert tables.records("orders") == []


def test_token_window_follows_the_injected_clock(tables: Tables, clock: Clock) -> None:
    tables.create("orders")
    tables.tx.write(REGION, [_put("a", v={"N": "1"})], token="t", digest="d1").result()
    replay = tables.tx.write(REGION, [_put("a", v={"N": "1"})], token="t", digest="d1").result()
    assert replay.replayed
    with pytest.raises(IdempotentParameterMismatch):
        tables.tx.write(REGION, [_put("b")], token="t", digest="d2").result()
    clock.advance(TOKEN_WINDOW + 1)
    fresh = tables.tx.write(REGION, [_put("b")], token="t", digest="d2").result()
    assert not fresh.replayed
    assert _get(tables, "b") is not None


def test_tokens_are_per_region(tables: Tables) -> None:
    tables.create("orders")
    tables.control.create_table(
        "eu-west-1",
        TableSpec(
            name="orders",
            key_schema=(("pk", "HASH"),),
            attribute_definitions=(("pk", "S"),),
            billing_mode="PAY_PER_REQUEST",
            read_capacity=None,
            write_capacity=None,
            stream=None,
        ),
    )
    tables.tx.write(REGION, [_put("a")], token="t", digest="d1").result()
    other = tables.tx.write("eu-west-1", [_put("a")], token="t", digest="d2").result()
    assert not other.replayed


def test_tokens_survive_a_reopen(tables: Tables) -> None:
    tables.create("orders")
    tables.tx.write(REGION, [_put("a")], token="t", digest="d1").result()
    tables.reopen()
    assert tables.tx.write(REGION, [_put("a")], token="t", digest="d1").result().replayed
