"""The injected clock: time only moves forward, and a jump wakes its listeners."""

from __future__ import annotations

import time

import pytest

from headwater.clock import Clock


def test_advance_moves_time_forward_by_the_given_seconds() -> None:
    clock = Clock()
    before = clock.time()
    clock.advance(3600)
    after = clock.time()
    assert 3600 <= after - before < 3600 + 5


def test_advance_returns_the_accumulated_offset() -> None:
    clock = Clock(offset=10)
    assert clock.advance(5) == 15
    assert clock.offset == 15


def test_time_is_system_time_plus_offset() -> None:
    clock = Clock(offset=1000)
    assert abs(clock.time() - (time.time() + 1000)) < 5


def test_time_ms_is_milliseconds_of_time() -> None:
    clock = Clock(offset=86_400)
    before = int(clock.time() * 1000)
    ms = clock.time_ms()
    after = int(clock.time() * 1000)
    assert before <= ms <= after


def test_negative_advance_is_rejected_and_leaves_time_alone() -> None:
    clock = Clock(offset=7)
    with pytest.raises(ValueError):
        clock.advance(-1)
    assert clock.offset == 7


def test_advance_calls_every_listener() -> None:
    clock = Clock()
    calls: list[str] = []
    clock.on_advance(lambda: calls.append("a"))
    clock.on_advance(lambda: calls.append("b"))
    clock.advance(1)
    assert calls == ["a", "b"]


def test_listener_sees_the_new_time() -> None:
    clock = Clock()
    seen: list[float] = []
    clock.on_advance(lambda: seen.append(clock.offset))
    clock.advance(60)
    assert seen == [60]


def test_removed_listener_is_not_called() -> None:
    clock = Clock()
    calls: list[int] = []

    def listener() -> None:
        calls.append(1)

    clock.on_advance(listener)
    clock.remove_listener(listener)
    clock.advance(1)
    assert calls == []


def test_removing_an_unknown_listener_is_harmless() -> None:
    clock = Clock()
    clock.remove_listener(lambda: None)
    assert clock.advance(1) == 1


def test_rejected_advance_calls_no_listener() -> None:
    clock = Clock()
    calls: list[int] = []
    clock.on_advance(lambda: calls.append(1))
    with pytest.raises(ValueError):
        clock.advance(-0.5)
    assert calls == []
