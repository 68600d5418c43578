"""Stream upkeep over time: shard rollover and retention.

- Rollover: an open shard older than ``rollover_seconds`` (AWS: about 4 hours) is closed and
  replaced by a child shard (ParentShardId = the old one); 0 turns rollover off.
- Retention: records older than ``retention_seconds`` (24 h, as on AWS) are trimmed.

A background sweep runs every ``interval`` seconds of real time and at once whenever the clock
is moved forward, so tests see "four hours later" immediately. The wait is a condition wait that
the clock and shutdown interrupt — never a bare sleep.
"""

from __future__ import annotations

import logging
import threading

from headwater.clock import Clock
from headwater.streams.log import StreamLog

log = logging.getLogger("headwater.streams")

DEFAULT_RETENTION_SECONDS = 24 * 60 * 60
DEFAULT_ROLLOVER_SECONDS = 4 * 60 * 60


class StreamMaintenance:
    def __init__(
        self,
        streams: StreamLog,
        clock: Clock,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        interval: float = 60.0,
        rollover_seconds: float = 0.0,
    ) -> None:
        self.streams = streams
        self.clock = clock
        self.retention_seconds = retention_seconds
        self.rollover_seconds = rollover_seconds
        self.interval = interval
        self._cond = threading.Condition()
        self._poked = False
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="headwater-streams", daemon=True)

    def sweep(self) -> int:
        """Roll over shards that are due, then trim everything older than the window; returns
        how many shards changed."""
        now = self.clock.time()
        rolled = 0
        if self.rollover_seconds > 0:
            rolled = self.streams.rollover(now - self.rollover_seconds)
        return rolled + self.streams.trim(now - self.retention_seconds)

    def start(self) -> None:
        self.clock.on_advance(self.poke)
        self._thread.start()

    def poke(self) -> None:
        with self._cond:
            self._poked = True
            self._cond.notify_all()

    def stop(self) -> None:
        self.clock.remove_listener(self.poke)
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._poked or self._stopped, self.interval)
                if self._stopped:
                    return
                self._poked = False
            try:
                self.sweep()
            except Exception:
                log.exception("stream upkeep failed; will try again")
