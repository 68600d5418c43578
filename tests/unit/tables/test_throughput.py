"""ThroughputHistory: what counts as an increase or a decrease, and the UTC day's count."""

from __future__ import annotations

from headwater.tables.throughput import NO_HISTORY, ThroughputHistory

NOON = 20_000 * 86400 + 43_200.0  # midday of a UTC day


def test_an_increase_dates_only_the_increase() -> None:
    history = NO_HISTORY.after_change((5, 5), (6, 5), NOON)
    assert (history.increased, history.decreased) == (NOON, None)
    assert history.decreases_today(NOON) == 0


def test_decreases_count_within_the_utc_day_and_restart_the_next() -> None:
    history = NO_HISTORY.after_change((5, 5), (4, 5), NOON)
    history = history.after_change((4, 5), (4, 3), NOON + 60)
    assert history.decreases_today(NOON + 120) == 2
    assert history.decreases_today(NOON + 43_200) == 0  # midnight passed
    history = history.after_change((4, 3), (3, 3), NOON + 86_400)
    assert history.decreases_today(NOON + 86_400) == 1
    assert history.decreased == NOON + 86_400


def test_one_up_one_down_is_both_and_unchanged_is_neither() -> None:
    history = NO_HISTORY.after_change((5, 5), (9, 1), NOON)
    assert history.increased == history.decreased == NOON
    assert history.decreases_today(NOON) == 1
    assert NO_HISTORY.after_change((5, 5), (5, 5), NOON) == NO_HISTORY


def test_it_round_trips_through_json() -> None:
    history = NO_HISTORY.after_change((5, 5), (9, 1), NOON)
    assert ThroughputHistory.from_json(history.to_json()) == history
    assert NO_HISTORY.to_json() is None
    assert ThroughputHistory.from_json(None) == NO_HISTORY
