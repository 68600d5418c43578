"""The metrics Lambda publishes in the ``AWS/Lambda`` namespace (spec §7), recorded where the
function registry and the mapping runtime already count their Prometheus metrics.

Function metrics carry the ``FunctionName`` dimension (every version and alias together);
``ConcurrentExecutions`` is also kept without dimensions (the account-wide figure). An
invocation of a version or an alias (a qualified name: ``fn:3``, ``fn:live``) is also published
under ``{FunctionName, Resource}`` with ``Resource`` the qualified name, and an invocation of an
alias under ``{FunctionName, Resource, ExecutedVersion}`` too, naming the version that ran (so
the two versions of a weighted alias can be told apart). Throttles carry no ExecutedVersion:
nothing ran. A mapping's event counts carry ``EventSourceMappingUUID`` and are only published
when its MetricsConfig asks for ``EventCount``, as on AWS. The asynchronous invocation metrics
(AsyncEventsReceived, AsyncEventAge, AsyncEventsDropped, and DestinationDeliveryFailures for an
event's record) go under ``FunctionName`` and, for a qualified invocation, ``{FunctionName,
Resource}``. A recorder built without a store records nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from headwater.cloudwatch.series import Dimensions, MetricId, MetricSeries, dimension_set

NAMESPACE = "AWS/Lambda"
COUNT = "Count"
MILLISECONDS = "Milliseconds"
EVENT_COUNT = "EventCount"  # the MetricsConfig value that turns mapping event counts on


def function_metric(name: str, function: str) -> MetricId:
    return MetricId(NAMESPACE, name, (("FunctionName", function),))


def mapping_metric(name: str, uuid: str) -> MetricId:
    return MetricId(NAMESPACE, name, (("EventSourceMappingUUID", uuid),))


@dataclass(frozen=True)
class Invocation:
    """One invocation as CloudWatch files it: the function, how the caller qualified it
    (``"3"``, ``"live"``, ``"$LATEST"``; None when unqualified), the version an alias ran, and
    (once started) when it started, which its metrics are stamped with."""

    region: str
    function: str
    qualifier: str | None = None
    executed_version: str | None = None  # only for an alias
    started: float = 0.0

    def dimension_sets(self, *, executed: bool = True) -> list[Dimensions]:
        """Every dimension set the invocation's metrics go under (account-wide not included)."""
        sets: list[Dimensions] = [(("FunctionName", self.function),)]
        if self.qualifier is None:
            return sets
        resource = {"FunctionName": self.function, "Resource": f"{self.function}:{self.qualifier}"}
        sets.append(dimension_set(resource))
        if executed and self.executed_version is not None:
            sets.append(dimension_set({**resource, "ExecutedVersion": self.executed_version}))
        return sets


class LambdaMetrics:
    def __init__(self, series: MetricSeries | None = None) -> None:
        self.series = series
        self._lock = threading.Lock()
        self._in_flight: dict[tuple[str, Dimensions], int] = {}

    def started(self, invocation: Invocation) -> Invocation:
        """An invocation reached the function: publishes ConcurrentExecutions under each of its
        dimension sets and account-wide (the Maximum over a minute is the most instances busy
        at once), and returns the invocation stamped with its start."""
        series = self.series
        if series is None:
            return invocation
        region = invocation.region
        counts: list[tuple[Dimensions, int]] = []
        with self._lock:
            for dimensions in invocation.dimension_sets():
                key = (region, dimensions)
                self._in_flight[key] = self._in_flight.get(key, 0) + 1
                counts.append((dimensions, self._in_flight[key]))
            everywhere = sum(
                n for (r, d), n in self._in_flight.items() if r == region and len(d) == 1
            )
        now = series.clock.time()
        for dimensions, running in counts:
            metric = MetricId(NAMESPACE, "ConcurrentExecutions", dimensions)
            series.put(region, metric, running, unit=COUNT)
        series.put(region, MetricId(NAMESPACE, "ConcurrentExecutions"), everywhere, unit=COUNT)
        return replace(invocation, started=now)

    def finished(self, invocation: Invocation) -> None:
        if self.series is None:
            return
        with self._lock:
            for dimensions in invocation.dimension_sets():
                key = (invocation.region, dimensions)
                left = self._in_flight.get(key, 1) - 1
                if left > 0:
                    self._in_flight[key] = left
                else:
                    self._in_flight.pop(key, None)

    def invoked(self, invocation: Invocation, duration_ms: float, error: bool) -> None:
        """Invocations, Errors (0 for a success, so Average is the error rate) and Duration,
        all stamped with the invocation's start."""
        series = self.series
        if series is None:
            return
        region, when = invocation.region, invocation.started
        for dimensions in invocation.dimension_sets():
            for name, value, unit in (
                ("Invocations", 1, COUNT),
                ("Errors", 1 if error else 0, COUNT),
                ("Duration", duration_ms, MILLISECONDS),
            ):
                metric = MetricId(NAMESPACE, name, dimensions)
                series.put(region, metric, value, unit=unit, timestamp=when)

    def throttled(self, invocation: Invocation) -> None:
        series = self.series
        if series is None:
            return
        for dimensions in invocation.dimension_sets(executed=False):
            series.put(
                invocation.region, MetricId(NAMESPACE, "Throttles", dimensions), 1, unit=COUNT
            )

    def _put_each(
        self,
        invocation: Invocation,
        name: str,
        value: float,
        unit: str,
        timestamp: float | None = None,
    ) -> None:
        series = self.series
        if series is None:
            return
        for dimensions in invocation.dimension_sets(executed=False):
            metric = MetricId(NAMESPACE, name, dimensions)
            series.put(invocation.region, metric, value, unit=unit, timestamp=timestamp)

    def async_received(self, invocation: Invocation) -> None:
        """AsyncEventsReceived: an event was queued (durably) for the function."""
        self._put_each(invocation, "AsyncEventsReceived", 1, COUNT)

    def async_age(self, invocation: Invocation, age_ms: float, when: float) -> None:
        """AsyncEventAge: from the event's queueing to an attempt reaching the function (so it
        grows with every retry), stamped with the attempt's start."""
        self._put_each(invocation, "AsyncEventAge", max(0.0, age_ms), MILLISECONDS, when)

    def async_dropped(self, invocation: Invocation) -> None:
        """AsyncEventsDropped: an event given up without a successful run (retries used up, too
        old, or reserved concurrency zero), whether or not its OnFailure record went out."""
        self._put_each(invocation, "AsyncEventsDropped", 1, COUNT)

    def destination_failed(self, invocation: Invocation) -> None:
        """DestinationDeliveryFailures for an asynchronous invocation's record."""
        self._put_each(invocation, "DestinationDeliveryFailures", 1, COUNT)

    def for_mapping(
        self,
        uuid: str,
        region: str,
        function: str,
        metrics_config: list[str],
        qualifier: str | None = None,
    ) -> MappingMetrics:
        return MappingMetrics(
            self.series, uuid, region, function, EVENT_COUNT in metrics_config, qualifier
        )


class MappingMetrics:
    """What one event source mapping publishes: IteratorAge and DestinationDeliveryFailures
    under its function's name always (and, for a mapping on a version or an alias, under
    ``{FunctionName, Resource}`` too, like the invocations), the event counts under its UUID
    when asked for."""

    def __init__(
        self,
        series: MetricSeries | None,
        uuid: str,
        region: str,
        function: str,
        event_counts: bool,
        qualifier: str | None = None,
    ) -> None:
        self.series = series
        self.uuid = uuid
        self.region = region
        self.function = function
        self.event_counts = event_counts and series is not None
        self._function_sets = Invocation(region, function, qualifier).dimension_sets()

    def _count(self, name: str, count: int) -> None:
        if self.event_counts:
            assert self.series is not None
            self.series.put(self.region, mapping_metric(name, self.uuid), count, unit=COUNT)

    def polled(self, count: int, filtered_out: int) -> None:
        """PolledEventCount and FilteredOutEventCount (0 when every record matched)."""
        self._count("PolledEventCount", count)
        self._count("FilteredOutEventCount", filtered_out)

    def invoking(self, count: int, age_ms: float) -> None:
        """InvokedEventCount (a retried record counts again) and IteratorAge: the age of the
        batch's last record when the mapping sends it."""
        self._count("InvokedEventCount", count)
        if self.series is not None:
            for dimensions in self._function_sets:
                self.series.put(
                    self.region,
                    MetricId(NAMESPACE, "IteratorAge", dimensions),
                    max(0.0, age_ms),
                    unit=MILLISECONDS,
                )

    def failed_invoke(self, count: int) -> None:
        self._count("FailedInvokeEventCount", count)

    def dropped(self, count: int) -> None:
        self._count("DroppedEventCount", count)

    def delivered(self, count: int) -> None:
        self._count("OnFailureDestinationDeliveredEventCount", count)

    def delivery_failed(self) -> None:
        if self.series is not None:
            for dimensions in self._function_sets:
                self.series.put(
                    self.region,
                    MetricId(NAMESPACE, "DestinationDeliveryFailures", dimensions),
                    1,
                    unit=COUNT,
                )


NO_MAPPING_METRICS = MappingMetrics(None, "", "", "", False)
