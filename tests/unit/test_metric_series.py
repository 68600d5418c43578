"""The CloudWatch metric store: one-minute buckets, periods, units, percentiles, retention."""

from __future__ import annotations

import math

import pytest

from headwater.clock import Clock
from headwater.cloudwatch.lambda_metrics import (
    NAMESPACE,
    NO_MAPPING_METRICS,
    Invocation,
    LambdaMetrics,
    function_metric,
    mapping_metric,
)
from headwater.cloudwatch.series import (
    MINUTE,
    RETENTION_SECONDS,
    Aggregate,
    MetricId,
    MetricSeries,
    dimension_set,
    percentile_fraction,
    period_starts,
)

REGION = "us-east-1"
METRIC = MetricId("App", "Latency", dimension_set({"Api": "orders"}))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def series(clock: Clock) -> MetricSeries:
    return MetricSeries(clock)


def hour_ago(clock: Clock) -> float:
    """A whole hour, an hour back: periods in these tests line up with it."""
    return math.floor(clock.time() / 3600) * 3600 - 3600


def sums(aggregates: list[Aggregate]) -> list[tuple[float, float]]:
    return [(a.timestamp, a.total) for a in aggregates]


def test_dimension_order_does_not_make_another_metric() -> None:
    assert dimension_set([("b", "2"), ("a", "1")]) == dimension_set({"a": "1", "b": "2"})


def test_values_land_in_the_minute_they_happened(clock: Clock, series: MetricSeries) -> None:
    base = hour_ago(clock)
    for offset, value in ((0, 1), (59.9, 2), (60, 4), (185, 8)):
        series.put(REGION, METRIC, value, timestamp=base + offset)
    found = series.aggregate(REGION, METRIC, base, base + 600, 60)
    assert sums(found) == [(base, 3), (base + 60, 4), (base + 180, 8)]
    assert [a.count for a in found] == [2, 1, 1]


def test_periods_merge_minutes_and_start_at_the_rounded_start(
    clock: Clock, series: MetricSeries
) -> None:
    base = hour_ago(clock)
    for minute in range(10):
        series.put(REGION, METRIC, minute, timestamp=base + minute * MINUTE + 5)
    assert sums(series.aggregate(REGION, METRIC, base, base + 600, 300)) == [
        (base, 0 + 1 + 2 + 3 + 4),
        (base + 300, 5 + 6 + 7 + 8 + 9),
    ]
    # A start in the middle of a minute is rounded down; the end is exclusive.
    shifted = series.aggregate(REGION, METRIC, base + 90, base + 240, 120)
    assert sums(shifted) == [(base + 60, 1 + 2), (base + 180, 3)]


def test_statistics_of_an_aggregate(clock: Clock, series: MetricSeries) -> None:
    base = hour_ago(clock)
    for value in (4, 8, 15, 16, 23, 42):
        series.put(REGION, METRIC, value, timestamp=base)
    [aggregate] = series.aggregate(REGION, METRIC, base, base + 60, 60)
    assert aggregate.statistic("SampleCount") == 6
    assert aggregate.statistic("Sum") == 108
    assert aggregate.statistic("Average") == 18
    assert aggregate.statistic("Minimum") == 4
    assert aggregate.statistic("Maximum") == 42
    assert aggregate.statistic("p50") == 15
    assert aggregate.statistic("p100") == 42
    assert aggregate.statistic("p0") == 4
    with pytest.raises(ValueError):
        aggregate.statistic("Median")


def test_percentiles_weigh_counted_values(clock: Clock, series: MetricSeries) -> None:
    base = hour_ago(clock)
    series.put_values(REGION, METRIC, [1, 100], [9, 1], timestamp=base)
    [aggregate] = series.aggregate(REGION, METRIC, base, base + 60, 60)
    assert aggregate.count == 10 and aggregate.total == 109
    assert aggregate.statistic("p90") == 1
    assert aggregate.statistic("p91") == 100


def test_statistic_sets_keep_percentiles_only_when_they_hold_one_value(
    clock: Clock, series: MetricSeries
) -> None:
    base = hour_ago(clock)
    series.put_statistics(REGION, METRIC, 3, 30, 10, 10, timestamp=base)  # min == max
    [same] = series.aggregate(REGION, METRIC, base, base + 60, 60)
    assert same.statistic("p50") == 10
    series.put_statistics(REGION, METRIC, 2, 30, 10, 20, timestamp=base + 60)
    [merged] = series.aggregate(REGION, METRIC, base, base + 120, 120)
    assert merged.statistic("SampleCount") == 5 and merged.statistic("Maximum") == 20
    assert merged.statistic("p50") is None


def test_negative_values_have_no_percentiles(clock: Clock, series: MetricSeries) -> None:
    base = hour_ago(clock)
    series.put_values(REGION, METRIC, [-1, 5], timestamp=base)
    [aggregate] = series.aggregate(REGION, METRIC, base, base + 60, 60)
    assert aggregate.statistic("p50") is None and aggregate.statistic("Minimum") == -1


def test_raw_values_are_capped_but_statistics_stay_exact(clock: Clock) -> None:
    series = MetricSeries(clock, max_values=10)
    base = hour_ago(clock)
    for value in range(1000):
        series.put(REGION, METRIC, value, timestamp=base)
    [aggregate] = series.aggregate(REGION, METRIC, base, base + 60, 60)
    assert aggregate.values is not None and len(aggregate.values) == 10
    assert (aggregate.count, aggregate.total) == (1000, sum(range(1000)))
    assert (aggregate.minimum, aggregate.maximum) == (0, 999)
    assert 0 <= (aggregate.statistic("p50") or 0) <= 999


def test_units_are_kept_apart_when_asked(clock: Clock, series: MetricSeries) -> None:
    base = hour_ago(clock)
    series.put(REGION, METRIC, 1, unit="Seconds", timestamp=base)
    series.put(REGION, METRIC, 500, unit="Milliseconds", timestamp=base)
    split = series.aggregate(REGION, METRIC, base, base + 60, 60, by_unit=True)
    assert sorted((a.unit, a.total) for a in split) == [("Milliseconds", 500), ("Seconds", 1)]
    [only] = series.aggregate(REGION, METRIC, base, base + 60, 60, unit="Seconds")
    assert (only.unit, only.total) == ("Seconds", 1)
    [merged] = series.aggregate(REGION, METRIC, base, base + 60, 60)
    assert (merged.unit, merged.total) == ("None", 501)


def test_regions_and_dimension_sets_are_separate_metrics(
    clock: Clock, series: MetricSeries
) -> None:
    base = hour_ago(clock)
    series.put(REGION, METRIC, 1, timestamp=base)
    series.put("eu-west-1", METRIC, 2, timestamp=base)
    bare = MetricId("App", "Latency")
    series.put(REGION, bare, 3, timestamp=base)
    assert sums(series.aggregate(REGION, METRIC, base, base + 60, 60)) == [(base, 1)]
    assert sums(series.aggregate("eu-west-1", METRIC, base, base + 60, 60)) == [(base, 2)]
    assert series.metrics(REGION) == [bare, METRIC]


def test_old_buckets_are_pruned_after_fifteen_days(clock: Clock, series: MetricSeries) -> None:
    now = clock.time()
    series.put(REGION, METRIC, 1, timestamp=now - 600)
    series.put(REGION, MetricId("App", "Fresh"), 1)
    clock.advance(RETENTION_SECONDS - 300)
    series.put(REGION, MetricId("App", "Fresh"), 2)
    clock.advance(360)
    assert series.metrics(REGION) == [MetricId("App", "Fresh")]
    assert series.aggregate(REGION, METRIC, now - 3600, clock.time(), 3600) == []
    series.prune()
    assert series.metrics(REGION) == [MetricId("App", "Fresh")]
    assert MetricId("App", "Latency", METRIC.dimensions) not in series.metrics(REGION)


def test_metrics_since_a_time(clock: Clock, series: MetricSeries) -> None:
    now = clock.time()
    series.put(REGION, METRIC, 1, timestamp=now - 5 * 3600)
    series.put(REGION, MetricId("App", "Recent"), 1, timestamp=now - 60)
    assert series.metrics(REGION, since=now - 3 * 3600) == [MetricId("App", "Recent")]


@pytest.mark.parametrize(
    ("name", "fraction"),
    [("p99", 0.99), ("p99.9", 0.999), ("p0", 0.0), ("p100", 1.0), ("p50.25", 0.5025)],
)
def test_percentile_names(name: str, fraction: float) -> None:
    assert percentile_fraction(name) == pytest.approx(fraction)


@pytest.mark.parametrize("name", ["p", "p101", "p99.999", "P99", "p-1", "p9x", "Sum", "p1000"])
def test_not_percentile_names(name: str) -> None:
    assert percentile_fraction(name) is None


def test_period_starts_round_down_to_the_minute_or_the_short_period() -> None:
    assert period_starts(125, 725, 300) == (120, 3)
    assert period_starts(125, 185, 10) == (120, 7)
    assert period_starts(60, 60 + 86400, 60) == (60, 1440)


# -- what Lambda publishes --------------------------------------------------------------------


def _total(series: MetricSeries, metric: MetricId, stat: str = "Sum") -> float | None:
    now = series.clock.time()
    found = series.aggregate(REGION, metric, now - 3600, now + 3600, 7200)
    return found[0].statistic(stat) if found else None


def test_invocations_errors_duration_and_concurrency(series: MetricSeries) -> None:
    published = LambdaMetrics(series)
    fn = Invocation(REGION, "fn")
    first = published.started(fn)
    second = published.started(fn)
    published.started(Invocation(REGION, "other"))
    published.invoked(first, 12.5, error=False)
    published.invoked(second, 30.0, error=True)
    published.finished(first)
    published.finished(second)
    published.started(fn)
    published.throttled(fn)
    assert _total(series, function_metric("Invocations", "fn")) == 2
    assert _total(series, function_metric("Errors", "fn")) == 1
    assert _total(series, function_metric("Errors", "fn"), "SampleCount") == 2
    assert _total(series, function_metric("Duration", "fn"), "Maximum") == 30
    assert _total(series, function_metric("Throttles", "fn")) == 1
    assert _total(series, function_metric("ConcurrentExecutions", "fn"), "Maximum") == 2
    everywhere = MetricId(NAMESPACE, "ConcurrentExecutions")
    assert _total(series, everywhere, "Maximum") == 3


def _lambda(name: str, **dimensions: str) -> MetricId:
    return MetricId(NAMESPACE, name, dimension_set(dimensions))


def test_versions_and_aliases_get_resource_and_executed_version(series: MetricSeries) -> None:
    published = LambdaMetrics(series)
    plain = published.started(Invocation(REGION, "fn"))
    version = published.started(Invocation(REGION, "fn", "3"))
    alias = published.started(Invocation(REGION, "fn", "live", executed_version="3"))
    for invocation in (plain, version, alias):
        published.invoked(invocation, 5.0, error=invocation is alias)
        published.finished(invocation)
    published.throttled(Invocation(REGION, "fn", "live", executed_version="2"))

    by_name = {"FunctionName": "fn"}
    on_live = {**by_name, "Resource": "fn:live"}
    assert _total(series, _lambda("Invocations", **by_name)) == 3  # every version together
    assert _total(series, _lambda("Invocations", **by_name, Resource="fn:3")) == 1
    assert _total(series, _lambda("Invocations", **on_live)) == 1
    assert _total(series, _lambda("Errors", **on_live, ExecutedVersion="3")) == 1
    assert _total(series, _lambda("Duration", **on_live, ExecutedVersion="3"), "Maximum") == 5
    # A version invoked by its number has no ExecutedVersion series; nor does a throttle.
    by_number = _lambda("Invocations", **by_name, Resource="fn:3", ExecutedVersion="3")
    assert _total(series, by_number) is None
    assert _total(series, _lambda("Throttles", **on_live)) == 1
    assert _total(series, _lambda("Throttles", **on_live, ExecutedVersion="2")) is None
    # Three ran at once, one of them through the alias.
    assert _total(series, _lambda("ConcurrentExecutions", **by_name), "Maximum") == 3
    assert _total(series, _lambda("ConcurrentExecutions", **on_live), "Maximum") == 1
    everywhere = MetricId(NAMESPACE, "ConcurrentExecutions")
    assert _total(series, everywhere, "Maximum") == 3  # the alias is not counted twice


def test_mapping_event_counts_only_when_asked(series: MetricSeries) -> None:
    published = LambdaMetrics(series)
    quiet = published.for_mapping("u-1", REGION, "fn", [])
    counted = published.for_mapping("u-2", REGION, "fn", ["EventCount"])
    for mapping in (quiet, counted):
        mapping.polled(5, 2)
        mapping.invoking(3, 250.0)
        mapping.failed_invoke(3)
        mapping.dropped(1)
        mapping.delivered(2)
        mapping.delivery_failed()
    assert _total(series, mapping_metric("PolledEventCount", "u-1")) is None
    assert _total(series, mapping_metric("PolledEventCount", "u-2")) == 5
    assert _total(series, mapping_metric("FilteredOutEventCount", "u-2")) == 2
    assert _total(series, mapping_metric("InvokedEventCount", "u-2")) == 3
    assert _total(series, mapping_metric("FailedInvokeEventCount", "u-2")) == 3
    assert _total(series, mapping_metric("DroppedEventCount", "u-2")) == 1
    assert _total(series, mapping_metric("OnFailureDestinationDeliveredEventCount", "u-2")) == 2
    # Function metrics come from both mappings, asked or not.
    assert _total(series, function_metric("IteratorAge", "fn"), "SampleCount") == 2
    assert _total(series, function_metric("DestinationDeliveryFailures", "fn")) == 2


def test_recorders_without_a_store_record_nothing() -> None:
    published = LambdaMetrics()
    assert published.started(Invocation(REGION, "fn")).started == 0.0
    published.invoked(Invocation(REGION, "fn"), 1.0, error=False)
    published.finished(Invocation(REGION, "fn"))
    NO_MAPPING_METRICS.polled(1, 0)
    NO_MAPPING_METRICS.invoking(1, 1.0)
    assert not NO_MAPPING_METRICS.event_counts
