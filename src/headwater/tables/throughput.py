"""The history of a provisioned table's (or global index's) throughput changes.

DescribeTable reports, inside each ProvisionedThroughput, when the capacity last went up
(LastIncreaseDateTime), when it last went down (LastDecreaseDateTime) and how many decreases
were made in the current UTC day (NumberOfDecreasesToday). One UpdateTable that raises one
unit and lowers the other counts as both an increase and a decrease. Switching the billing
mode is neither: only a change between two provisioned settings is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

DAY_SECONDS = 86400


def utc_day(at: float) -> int:
    """The UTC calendar day ``at`` (epoch seconds) falls in, as a day number."""
    return int(at // DAY_SECONDS)


@dataclass(frozen=True)
class ThroughputHistory:
    increased: float | None = None  # when the capacity last went up
    decreased: float | None = None  # when it last went down
    decrease_day: int = -1  # the UTC day ``decreases`` counts in
    decreases: int = 0

    def after_change(
        self, old: tuple[int, int], new: tuple[int, int], now: float
    ) -> ThroughputHistory:
        """The history once (read, write) capacity has gone from ``old`` to ``new`` at ``now``."""
        history = self
        if new[0] > old[0] or new[1] > old[1]:
            history = replace(history, increased=now)
        if new[0] < old[0] or new[1] < old[1]:
            today = utc_day(now)
            count = history.decreases if history.decrease_day == today else 0
            history = ThroughputHistory(history.increased, now, today, count + 1)
        return history

    def decreases_today(self, now: float) -> int:
        return self.decreases if self.decrease_day == utc_day(now) else 0

    def to_json(self) -> list[Any] | None:
        if self.increased is None and self.decreased is None:
            return None
        return [self.increased, self.decreased, self.decrease_day, self.decreases]

    @classmethod
    def from_json(cls, data: list[Any] | None) -> ThroughputHistory:
        if not data:
            return NO_HISTORY
        increased, decreased, day, count = data
        return cls(increased, decreased, int(day), int(count))


NO_HISTORY = ThroughputHistory()
