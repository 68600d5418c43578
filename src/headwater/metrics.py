"""Counters and gauges every layer can bump, exposed in Prometheus' text format.

Deliberately tiny (no dependency): a metric is a name, a help line and a value per label set.
Updates take one lock; reading renders a snapshot. ``/_headwater/metrics`` serves
:func:`render`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

Labels = tuple[tuple[str, str], ...]


class _Metric:
    kind = "counter"

    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help = help_text
        self._values: dict[Labels, float] = {}
        self._lock = threading.Lock()
        REGISTRY.append(self)

    def _key(self, labels: dict[str, str]) -> Labels:
        return tuple(sorted(labels.items()))

    def value(self, **labels: str) -> float:
        with self._lock:
            return self._values.get(self._key(labels), 0.0)

    def samples(self) -> Iterator[tuple[str, Labels, float]]:
        with self._lock:
            items = list(self._values.items())
        for labels, value in items:
            yield self.name, labels, value


class Counter(_Metric):
    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount


class Gauge(_Metric):
    kind = "gauge"

    def set(self, value: float, **labels: str) -> None:
        with self._lock:
            self._values[self._key(labels)] = value


class Sampled(_Metric):
    """A value read when the metrics are rendered (e.g. a counter another object keeps)."""

    def __init__(self, name: str, help_text: str, kind: str = "counter") -> None:
        super().__init__(name, help_text)
        self.kind = kind
        self._source: Callable[[], float] | None = None

    def read_from(self, source: Callable[[], float] | None) -> None:
        self._source = source

    def samples(self) -> Iterator[tuple[str, Labels, float]]:
        if self._source is not None:
            yield self.name, (), float(self._source())


REGISTRY: list[_Metric] = []

INVOCATIONS = Counter("headwater_lambda_invocations_total", "Function invocations.")
ERRORS = Counter(
    "headwater_lambda_errors_total", "Invocations that ended in a function error or timeout."
)
THROTTLES = Counter(
    "headwater_lambda_throttles_total", "Invocations refused before reaching the function."
)
DURATION = Counter(
    "headwater_lambda_duration_seconds_total", "Time spent running handlers, in seconds."
)
ITERATOR_AGE = Gauge(
    "headwater_esm_iterator_age_milliseconds",
    "Age of the newest record in the mapping's last batch when it was invoked (IteratorAge).",
)
POLLED = Counter("headwater_esm_polled_events_total", "Records a mapping read (PolledEventCount).")
FILTERED_OUT = Counter(
    "headwater_esm_filtered_out_events_total",
    "Records a mapping's FilterCriteria dropped (FilteredOutEventCount).",
)
FAILED_INVOKE = Counter(
    "headwater_esm_failed_invoke_events_total",
    "Records in invocations that failed (FailedInvokeEventCount).",
)
COMMIT_GROUPS = Sampled(
    "headwater_storage_commit_groups_total",
    "Write transactions committed (each a group of writes sharing one fsync).",
)
COMMITTED_WRITES = Sampled(
    "headwater_storage_committed_writes_total", "Writes committed, across all groups."
)
DROPPED = Counter(
    "headwater_esm_dropped_events_total",
    "Records given up by the error ladder (DroppedEventCount).",
)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render() -> str:
    lines: list[str] = []
    for metric in REGISTRY:
        lines.append(f"# HELP {metric.name} {metric.help}")
        lines.append(f"# TYPE {metric.name} {metric.kind}")
        for name, labels, value in metric.samples():
            label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
            lines.append(f"{name}{{{label_text}}} {value:g}" if label_text else f"{name} {value:g}")
    return "\n".join(lines) + "\n"
