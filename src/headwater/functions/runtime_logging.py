"""The root-logger setup AWS's Python runtime applies before importing the handler.

Handlers rely on it: ``logging.warning("x")`` in a Lambda prints
``[WARNING]\\t2024-01-01T00:00:00.000Z\\t<request id>\\tx`` without any ``basicConfig``, and the
root level stays WARNING unless the function sets it. Imported only inside the worker.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
_LEVELS = {"TRACE": 5, "DEBUG": 10, "INFO": 20, "WARN": 30, "ERROR": 40, "FATAL": 50}


class _RequestIdFilter(logging.Filter):
    def __init__(self, current_request_id: Callable[[], str]) -> None:
        super().__init__()
        self._current = current_request_id

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self._current()
        return True


class _StdoutHandler(logging.Handler):
    """Writes to whatever ``sys.stdout`` is at emit time, as the RIC's log sink does."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record))
        except Exception:
            self.handleError(record)


def install(current_request_id: Callable[[], str], log_level: str | None) -> None:
    logging.Formatter.converter = time.gmtime
    handler = _StdoutHandler()
    handler.setFormatter(logging.Formatter(_FORMAT, _DATE_FORMAT))
    handler.addFilter(_RequestIdFilter(current_request_id))
    root = logging.getLogger()
    root.addHandler(handler)
    level = _LEVELS.get((log_level or "").upper())
    if level is not None:
        root.setLevel(level)
