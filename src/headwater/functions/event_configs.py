"""Asynchronous invocation settings (Put/Get/Update/Delete/ListFunctionEventInvokeConfig): how
often Lambda retries a failing ``InvocationType=Event`` invocation, how long an event may wait,
and where the invocation record goes on success and on failure.

Settings belong to one qualifier of a function: ``$LATEST`` (an unqualified name), a version or
an alias; an invocation uses the settings of the qualifier it was made through. Without any,
Lambda retries twice and keeps an event for six hours.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import orjson

from headwater.clock import Clock
from headwater.errors import InvalidParameterValue, NotEmulated, ResourceNotFound
from headwater.functions.config import LATEST
from headwater.functions.lookups import FunctionLookups
from headwater.functions.names import parse_function_name, split_qualifier
from headwater.storage import event_config_rows
from headwater.storage.store import Store, Txn

DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE = 21600  # seconds: six hours

NOTHING_TO_SET = "You must specify at least one of error handling or destination setting."
NOT_A_DESTINATION_FOR_ITSELF = "You can't specify the function as a destination for itself."


@dataclass(frozen=True)
class EventInvokeConfig:
    qualifier: str
    last_modified: float
    maximum_retry_attempts: int | None = None
    maximum_event_age: int | None = None
    on_success: str | None = None
    on_failure: str | None = None

    @property
    def retries(self) -> int:
        retries = self.maximum_retry_attempts
        return DEFAULT_RETRIES if retries is None else retries

    @property
    def max_age(self) -> int:
        return DEFAULT_MAX_AGE if self.maximum_event_age is None else self.maximum_event_age

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes) -> EventInvokeConfig:
        return cls(**orjson.loads(data))


DEFAULTS = EventInvokeConfig(qualifier="", last_modified=0.0)


def destination_kind(arn: str) -> str:
    """``sqs``, ``sns``, ``lambda``, ``s3``, ``events``... (the ARN's service), or ``""``."""
    parts = arn.split(":")
    return parts[2] if len(parts) > 3 and parts[0] == "arn" else ""


def check_destinations(
    function_arn: str,
    on_success: str | None,
    on_failure: str | None,
    function_exists: Callable[[str], bool],
) -> None:
    """Lambda's checks of a DestinationConfig beyond the model's ARN pattern. ``function_exists``
    says whether a function ARN names a function (a Lambda destination must exist and not be the
    function itself)."""
    invalid = False
    for arn in (on_success, on_failure):
        if not arn:
            continue
        kind = destination_kind(arn)
        if kind in ("sqs", "sns"):
            continue
        if kind == "lambda":
            target = arn.split(":")
            own = function_arn.split(":")
            if target[6:7] == own[6:7]:
                raise InvalidParameterValue(NOT_A_DESTINATION_FOR_ITSELF)
            if not function_exists(arn):
                raise InvalidParameterValue(f"The destination ARN {arn} is invalid.")
            continue
        if kind in ("events", "s3"):
            raise NotEmulated(
                f"Headwater delivers asynchronous invocation records to SQS queues, SNS topics "
                f"and Lambda functions only, not to {arn}"
            )
        invalid = True
    if invalid:
        success = f"OnSuccess(destination={on_success})" if on_success else "null"
        failure = f"OnFailure(destination={on_failure})" if on_failure else "null"
        raise InvalidParameterValue(
            f"The provided destination config DestinationConfig(onSuccess={success}, "
            f"onFailure={failure}) is invalid."
        )


class EventConfigBook:
    """Every function's settings in memory, durable in the store (thread-safe; a change is
    written before it is visible)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._configs: dict[tuple[str, str], dict[str, EventInvokeConfig]] = {}

    def get(self, region: str, function: str, qualifier: str) -> EventInvokeConfig | None:
        with self._lock:
            return self._configs.get((region, function), {}).get(qualifier)

    def effective(self, region: str, function: str, qualifier: str) -> EventInvokeConfig:
        """The settings an invocation through ``qualifier`` uses (Lambda's defaults if none)."""
        return self.get(region, function, qualifier) or replace(DEFAULTS, qualifier=qualifier)

    def all(self, region: str, function: str) -> list[EventInvokeConfig]:
        """``$LATEST``'s first, then versions in number order, then aliases by name."""
        with self._lock:
            found = list(self._configs.get((region, function), {}).values())

        def order(config: EventInvokeConfig) -> tuple[int, int, str]:
            q = config.qualifier
            if q == LATEST:
                return (0, 0, q)
            return (1, int(q), q) if q.isdigit() else (2, 0, q)

        return sorted(found, key=order)

    def put(self, region: str, function: str, config: EventInvokeConfig) -> EventInvokeConfig:
        def job(txn: Txn) -> None:
            event_config_rows.upsert_event_config(
                txn.conn, region, function, config.qualifier, config.to_json()
            )

        self.store.write(job)
        with self._lock:
            self._configs.setdefault((region, function), {})[config.qualifier] = config
        return config

    def remove(self, region: str, function: str, qualifier: str) -> bool:
        """False when there was nothing to remove."""
        if self.get(region, function, qualifier) is None:
            return False
        self.store.write(
            lambda txn: event_config_rows.delete_event_config(txn.conn, region, function, qualifier)
        )
        with self._lock:
            self._configs.get((region, function), {}).pop(qualifier, None)
        return True

    def forget(self, region: str, function: str, qualifier: str | None = None) -> None:
        """After the function (or one version or alias of it) was deleted; its rows went in the
        same transaction (``qualifier`` None: the whole function)."""
        with self._lock:
            if qualifier is None:
                self._configs.pop((region, function), None)
            else:
                self._configs.get((region, function), {}).pop(qualifier, None)

    def load(self) -> None:
        loaded = self.store.startup_read(event_config_rows.load_event_configs)
        with self._lock:
            for region, function, qualifier, data in loaded:
                self._configs.setdefault((region, function), {})[qualifier] = (
                    EventInvokeConfig.from_json(data)
                )


@dataclass(frozen=True)
class SettingsChange:
    """What a Put or Update request says; None: not in the request. ``destinations`` is None
    when the request has no DestinationConfig, else (OnSuccess, OnFailure) ARNs."""

    maximum_retry_attempts: int | None = None
    maximum_event_age: int | None = None
    destinations: tuple[str | None, str | None] | None = None

    @property
    def empty(self) -> bool:
        return (
            self.maximum_retry_attempts is None
            and self.maximum_event_age is None
            and self.destinations is None
        )


class EventSettings:
    """The five operations, over a function registry's lookups and its book."""

    def __init__(self, lookups: FunctionLookups, book: EventConfigBook, clock: Clock) -> None:
        self.lookups = lookups
        self.book = book
        self.clock = clock
        self._changes = threading.Lock()

    def _addressed(
        self, region: str, name_or_arn: str, qualifier: str | None
    ) -> tuple[str, str, str]:
        """(region, function name, qualifier key) of a name, ARN and Qualifier parameter."""
        arn_region, name, wanted = split_qualifier(name_or_arn, qualifier)
        return arn_region or region, name, wanted or LATEST

    def arn(self, region: str, name: str, qualifier: str) -> str:
        return f"arn:aws:lambda:{region}:{self.lookups.account}:function:{name}:{qualifier}"

    def _missing(self, region: str, name: str, qualifier: str) -> ResourceNotFound:
        arn = self.arn(region, name, qualifier)
        return ResourceNotFound(f"The function {arn} doesn't have an EventInvokeConfig")

    def _function_exists(self, arn: str) -> bool:
        return self.lookups.exists("", arn)

    def put(
        self, region: str, name_or_arn: str, qualifier: str | None, change: SettingsChange
    ) -> EventInvokeConfig:
        """Put replaces every setting (those left out are removed)."""
        return self._change(region, name_or_arn, qualifier, change, merge=False)

    def update(
        self, region: str, name_or_arn: str, qualifier: str | None, change: SettingsChange
    ) -> EventInvokeConfig:
        """Update changes only the settings the request names; there must be settings."""
        return self._change(region, name_or_arn, qualifier, change, merge=True)

    def _change(
        self,
        region: str,
        name_or_arn: str,
        qualifier: str | None,
        change: SettingsChange,
        *,
        merge: bool,
    ) -> EventInvokeConfig:
        if change.empty:
            raise InvalidParameterValue(NOTHING_TO_SET)
        region, name, key = self._addressed(region, name_or_arn, qualifier)
        try:
            self.lookups.resolve(region, name, key)
        except ResourceNotFound:
            raise ResourceNotFound("The function doesn't exist.") from None
        if change.destinations is not None:
            check_destinations(
                self.arn(region, name, key), *change.destinations, self._function_exists
            )
        with self._changes:
            current = self.book.get(region, name, key)
            if merge and current is None:
                raise self._missing(region, name, key)
            base = current if merge and current is not None else EventInvokeConfig(key, 0.0)
            success, failure = (
                (base.on_success, base.on_failure)
                if change.destinations is None
                else change.destinations
            )
            config = EventInvokeConfig(
                qualifier=key,
                last_modified=self.clock.time(),
                maximum_retry_attempts=_pick(
                    change.maximum_retry_attempts, base.maximum_retry_attempts, merge
                ),
                maximum_event_age=_pick(change.maximum_event_age, base.maximum_event_age, merge),
                on_success=success,
                on_failure=failure,
            )
            return self.book.put(region, name, config)

    def get(self, region: str, name_or_arn: str, qualifier: str | None) -> EventInvokeConfig:
        region, name, key = self._addressed(region, name_or_arn, qualifier)
        found = self.book.get(region, name, key)
        if found is None or not self.lookups.exists(region, name):
            raise self._missing(region, name, key)
        return found

    def delete(self, region: str, name_or_arn: str, qualifier: str | None) -> None:
        region, name, key = self._addressed(region, name_or_arn, qualifier)
        if not self.lookups.exists(region, name) or not self.book.remove(region, name, key):
            raise self._missing(region, name, key)

    def list(self, region: str, name_or_arn: str) -> tuple[str, str, list[EventInvokeConfig]]:
        """(region, function name, every qualifier's settings)."""
        arn_region, name, _qualifier = parse_function_name(name_or_arn)
        region = arn_region or region
        if not self.lookups.exists(region, name):
            raise ResourceNotFound("The function doesn't exist.")
        return region, name, self.book.all(region, name)


def _pick(new: int | None, old: int | None, merge: bool) -> int | None:
    if new is not None:
        return new
    return old if merge else None
