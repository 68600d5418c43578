"""The metrics Lambda publishes in the ``AWS/Lambda`` namespace (spec §7), recorded where the
function registry and the mapping runtime already count their Prometheus metrics.

Function metrics carry the ``FunctionName`` dimension; ``ConcurrentExecutions`` is also kept
without dimensions (the account-wide figure). A mapping's event counts carry
``EventSourceMappingUUID`` and are only published when its MetricsConfig asks for
``EventCount``, as on AWS. A recorder built without a store records nothing.
"""

from __future__ import annotations

import threading

from headwater.cloudwatch.series import MetricId, MetricSeries

NAMESPACE = "AWS/Lambda"
COUNT = "Count"
MILLISECONDS = "Milliseconds"
EVENT_COUNT = "EventCount"  # the MetricsConfig value that turns mapping event counts on


def function_metric(name: str, function: str) -> MetricId:
    return MetricId(NAMESPACE, name, (("FunctionName", function),))


def mapping_metric(name: str, uuid: str) -> MetricId:
    return MetricId(NAMESPACE, name, (("EventSourceMappingUUID", uuid),))


class LambdaMetrics:
    def __init__(self, series: MetricSeries | None = None) -> None:
        self.series = series
        self._lock = threading.Lock()
        self._in_flight: dict[tuple[str, str], int] = {}

    def started(self, region: str, function: str) -> float:
        """An invocation reached the function: publishes ConcurrentExecutions (its Maximum
        over a minute is the most instances busy at once) and returns the start time, which
        the invocation's metrics are stamped with."""
        series = self.series
        if series is None:
            return 0.0
        with self._lock:
            key = (region, function)
            running = self._in_flight[key] = self._in_flight.get(key, 0) + 1
            everywhere = sum(n for (r, _f), n in self._in_flight.items() if r == region)
        now = series.clock.time()
        series.put(region, function_metric("ConcurrentExecutions", function), running, unit=COUNT)
        series.put(region, MetricId(NAMESPACE, "ConcurrentExecutions"), everywhere, unit=COUNT)
        return now

    def finished(self, region: str, function: str) -> None:
        if self.series is None:
            return
        with self._lock:
            key = (region, function)
            left = self._in_flight.get(key, 1) - 1
            if left > 0:
                self._in_flight[key] = left
            else:
                self._in_flight.pop(key, None)

    def invoked(
        self, region: str, function: str, started: float, duration_ms: float, error: bool
    ) -> None:
        """Invocations, Errors (0 for a success, so Average is the error rate) and Duration,
        all stamped with the invocation's start."""
        series = self.series
        if series is None:
            return
        put = series.put
        put(region, function_metric("Invocations", function), 1, unit=COUNT, timestamp=started)
        put(
            region,
            function_metric("Errors", function),
            1 if error else 0,
            unit=COUNT,
            timestamp=started,
        )
        put(
            region,
            function_metric("Duration", function),
            duration_ms,
            unit=MILLISECONDS,
            timestamp=started,
        )

    def throttled(self, region: str, function: str) -> None:
        if self.series is not None:
            self.series.put(region, function_metric("Throttles", function), 1, unit=COUNT)

    def for_mapping(
        self, uuid: str, region: str, function: str, metrics_config: list[str]
    ) -> MappingMetrics:
        return MappingMetrics(self.series, uuid, region, function, EVENT_COUNT in metrics_config)


class MappingMetrics:
    """What one event source mapping publishes: IteratorAge and DestinationDeliveryFailures
    under its function's name always, the event counts under its UUID when asked for."""

    def __init__(
        self,
        series: MetricSeries | None,
        uuid: str,
        region: str,
        function: str,
        event_counts: bool,
    ) -> None:
        self.series = series
        self.uuid = uuid
        self.region = region
        self.function = function
        self.event_counts = event_counts and series is not None

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
            self.series.put(
                self.region,
                function_metric("IteratorAge", self.function),
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
            self.series.put(
                self.region,
                function_metric("DestinationDeliveryFailures", self.function),
                1,
                unit=COUNT,
            )


NO_MAPPING_METRICS = MappingMetrics(None, "", "", "", False)
