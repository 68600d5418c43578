"""The metric store behind the CloudWatch API: one-minute buckets per metric, in memory.

A metric is (region, namespace, name, dimension set); CloudWatch treats each distinct dimension
set as its own metric, and so does this store. Each value lands in the bucket of the minute it
happened in, by the *server clock* (tests move it with ``Clock.advance``), under its unit. A
bucket keeps SampleCount, Sum, Minimum and Maximum exactly, and the values themselves (up to
``max_values`` per bucket, a uniform sample beyond) so that percentiles can be answered.

Queries aggregate the buckets of a time range into periods that start at the range's start:
a five-minute period is five one-minute buckets merged. Buckets older than the retention
(15 days, what CloudWatch keeps at one-minute resolution) are dropped; nothing survives a
restart.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from headwater.clock import Clock

MINUTE = 60
RETENTION_SECONDS = 15 * 24 * 3600
MAX_VALUES = 1000  # raw values kept per bucket for percentiles; a uniform sample beyond

Dimensions = tuple[tuple[str, str], ...]


def dimension_set(dimensions: Mapping[str, str] | Iterable[tuple[str, str]]) -> Dimensions:
    """The canonical (sorted) form of a dimension set: order does not make a new metric."""
    items = dimensions.items() if isinstance(dimensions, Mapping) else dimensions
    return tuple(sorted(items))


@dataclass(frozen=True, order=True)
class MetricId:
    namespace: str
    name: str
    dimensions: Dimensions = ()


class Bucket:
    """One minute of one metric in one unit."""

    __slots__ = ("count", "exact", "maximum", "minimum", "seen", "total", "values")

    def __init__(self) -> None:
        self.count = 0.0
        self.total = 0.0
        self.minimum = math.inf
        self.maximum = -math.inf
        self.values: list[tuple[float, float]] = []  # (value, how many times)
        self.seen = 0  # entries offered to ``values`` (for the sample beyond the cap)
        self.exact = True  # False once a statistic set made raw values unknowable

    def add(self, value: float, weight: float, cap: int, rng: random.Random) -> None:
        self.count += weight
        self.total += value * weight
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        self._keep(value, weight, cap, rng)

    def add_set(
        self,
        count: float,
        total: float,
        minimum: float,
        maximum: float,
        cap: int,
        rng: random.Random,
    ) -> None:
        """A pre-aggregated statistic set. Percentiles stay known only when it holds one value
        (SampleCount 1, or Minimum equal to Maximum), as CloudWatch documents."""
        self.count += count
        self.total += total
        self.minimum = min(self.minimum, minimum)
        self.maximum = max(self.maximum, maximum)
        if count == 1 or minimum == maximum:
            self._keep(minimum, count, cap, rng)
        else:
            self.exact = False

    def _keep(self, value: float, weight: float, cap: int, rng: random.Random) -> None:
        self.seen += 1
        if len(self.values) < cap:
            self.values.append((value, weight))
            return
        slot = rng.randrange(self.seen)  # reservoir sampling: every entry equally likely kept
        if slot < cap:
            self.values[slot] = (value, weight)


@dataclass
class Aggregate:
    """The statistics of one period (or several merged buckets)."""

    timestamp: float  # start of the period, epoch seconds
    unit: str
    count: float = 0.0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    values: list[tuple[float, float]] | None = None  # None: percentiles unavailable

    def merge(self, bucket: Bucket) -> None:
        self.count += bucket.count
        self.total += bucket.total
        self.minimum = min(self.minimum, bucket.minimum)
        self.maximum = max(self.maximum, bucket.maximum)
        if self.values is not None:
            if bucket.exact:
                self.values.extend(bucket.values)
            else:
                self.values = None

    def combine(self, other: Aggregate) -> None:
        self.count += other.count
        self.total += other.total
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        if self.values is not None and other.values is not None:
            self.values.extend(other.values)
        else:
            self.values = None

    def statistic(self, name: str) -> float | None:
        """SampleCount, Sum, Average, Minimum, Maximum or a percentile (``p99``, ``p99.9``);
        None when the statistic cannot be answered (a percentile without raw values)."""
        if name == "SampleCount":
            return self.count
        if name == "Sum":
            return self.total
        if name == "Average":
            return self.total / self.count if self.count else 0.0
        if name == "Minimum":
            return self.minimum
        if name == "Maximum":
            return self.maximum
        fraction = percentile_fraction(name)
        if fraction is None:
            raise ValueError(f"not a statistic: {name}")
        return self.percentile(fraction)

    def percentile(self, fraction: float) -> float | None:
        """Nearest rank over the kept values, weighted by how often each occurred. CloudWatch
        gives no percentiles for metrics with negative values."""
        values = self.values
        if not values or any(v < 0 for v, _ in values):
            return None
        ordered = sorted(values)
        weight = sum(w for _, w in ordered)
        target = fraction * weight
        running = 0.0
        for value, w in ordered:
            running += w
            if running >= target - 1e-9:
                return value
        return ordered[-1][0]


def percentile_fraction(name: str) -> float | None:
    """0.99 for ``p99``, 0.999 for ``p99.9``; None when ``name`` is not a percentile in
    p0..p100 with at most two decimals."""
    if len(name) < 2 or name[0] != "p":
        return None
    number = name[1:]
    whole, dot, decimals = number.partition(".")
    if not whole.isdigit() or len(whole) > 3:
        return None
    if dot and not (decimals.isdigit() and 0 < len(decimals) <= 2):
        return None
    value = float(number)
    if value > 100:
        return None
    return value / 100


def period_starts(start: float, end: float, period: int) -> tuple[float, int]:
    """(first period's start, number of periods) for [start, end): the start rounded down to
    the minute (or to the period, for periods under a minute), as CloudWatch rounds it."""
    step = MINUTE if period >= MINUTE else period
    first = math.floor(start / step) * step
    count = max(0, math.ceil((end - first) / period))
    return first, count


class MetricSeries:
    """Thread-safe: writers are worker-invocation and poller threads, readers the API."""

    def __init__(
        self,
        clock: Clock,
        *,
        retention: float = RETENTION_SECONDS,
        max_values: int = MAX_VALUES,
        seed: int = 0,
    ) -> None:
        self.clock = clock
        self.retention = retention
        self.max_values = max_values
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        # (region, metric) -> unit -> minute start -> bucket
        self._series: dict[tuple[str, MetricId], dict[str, dict[int, Bucket]]] = {}
        self._next_prune = 0.0

    # -- writing --------------------------------------------------------------------------

    def put(
        self,
        region: str,
        metric: MetricId,
        value: float,
        *,
        unit: str = "None",
        timestamp: float | None = None,
        weight: float = 1.0,
    ) -> None:
        """Record one value (``weight`` times)."""
        with self._lock:
            bucket = self._bucket(region, metric, unit, timestamp)
            bucket.add(value, weight, self.max_values, self._rng)

    def put_values(
        self,
        region: str,
        metric: MetricId,
        values: Sequence[float],
        counts: Sequence[float] | None = None,
        *,
        unit: str = "None",
        timestamp: float | None = None,
    ) -> None:
        """PutMetricData's Values/Counts: each value occurred Counts[i] times (1 by default)."""
        with self._lock:
            bucket = self._bucket(region, metric, unit, timestamp)
            for i, value in enumerate(values):
                weight = counts[i] if counts else 1.0
                bucket.add(value, weight, self.max_values, self._rng)

    def put_statistics(
        self,
        region: str,
        metric: MetricId,
        count: float,
        total: float,
        minimum: float,
        maximum: float,
        *,
        unit: str = "None",
        timestamp: float | None = None,
    ) -> None:
        with self._lock:
            bucket = self._bucket(region, metric, unit, timestamp)
            bucket.add_set(count, total, minimum, maximum, self.max_values, self._rng)

    def _bucket(self, region: str, metric: MetricId, unit: str, timestamp: float | None) -> Bucket:
        now = self.clock.time()
        if now >= self._next_prune:
            self._prune(now)
        when = now if timestamp is None else timestamp
        minute = int(when // MINUTE) * MINUTE
        by_minute = self._series.setdefault((region, metric), {}).setdefault(unit, {})
        bucket = by_minute.get(minute)
        if bucket is None:
            bucket = by_minute[minute] = Bucket()
        return bucket

    def _prune(self, now: float) -> None:
        """Drop buckets past the retention (at most once a minute of emulated time)."""
        cutoff = now - self.retention
        for key in list(self._series):
            units = self._series[key]
            for unit in list(units):
                minutes = units[unit]
                for minute in [m for m in minutes if m + MINUTE <= cutoff]:
                    del minutes[minute]
                if not minutes:
                    del units[unit]
            if not units:
                del self._series[key]
        self._next_prune = now + MINUTE

    def prune(self) -> None:
        with self._lock:
            self._prune(self.clock.time())

    # -- reading --------------------------------------------------------------------------

    def aggregate(
        self,
        region: str,
        metric: MetricId,
        start: float,
        end: float,
        period: int,
        *,
        unit: str | None = None,
        by_unit: bool = False,
    ) -> list[Aggregate]:
        """The periods of [start, end) that hold data, oldest first. Periods start at ``start``
        rounded down to the minute. With ``by_unit`` each unit gets its own aggregates (as
        GetMetricStatistics reports them); else units are merged."""
        first, _count = period_starts(start, end, period)
        cutoff = self.clock.time() - self.retention
        found: dict[tuple[int, str], Aggregate] = {}
        with self._lock:
            units = self._series.get((region, metric), {})
            for bucket_unit, minutes in units.items():
                if unit is not None and bucket_unit != unit:
                    continue
                label = bucket_unit if by_unit or unit is not None else ""
                for minute, bucket in minutes.items():
                    if minute < first or minute >= end or minute + MINUTE <= cutoff:
                        continue
                    index = int((minute - first) // period)
                    aggregate = found.get((index, label))
                    if aggregate is None:
                        aggregate = found[(index, label)] = Aggregate(
                            timestamp=first + index * period, unit=bucket_unit, values=[]
                        )
                    elif aggregate.unit != bucket_unit:
                        aggregate.unit = "None"  # units merged: none describes the whole
                    aggregate.merge(bucket)
        return [found[key] for key in sorted(found)]

    def metrics(self, region: str, since: float | None = None) -> list[MetricId]:
        """Every metric of the region with data still retained (and at or after ``since``)."""
        floor = self.clock.time() - self.retention
        if since is not None:
            floor = max(floor, since)
        out: list[MetricId] = []
        with self._lock:
            for (key_region, metric), units in self._series.items():
                if key_region != region:
                    continue
                if any(m + MINUTE > floor for minutes in units.values() for m in minutes):
                    out.append(metric)
        return sorted(out)
