"""Lambda aliases: named pointers to a function version, optionally splitting invocations
between two versions (RoutingConfig.AdditionalVersionWeights).

The book keeps every alias in memory, durable in the store, and answers which version an alias
runs *now*: invokers resolve an alias at each invocation, so UpdateAlias re-routes running event
source mappings at their next batch.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import orjson

from headwater.errors import InvalidParameterValue
from headwater.functions.config import LATEST
from headwater.storage import version_rows
from headwater.storage.store import Store, Txn

REVISION_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)


@dataclass
class AliasConfig:
    name: str
    function_version: str
    description: str = ""
    routing: dict[str, float] = field(default_factory=dict)  # additional version -> weight
    revision_id: str = ""

    def targets(self) -> set[str]:
        """Every version the alias may run."""
        return {self.function_version, *self.routing}

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes) -> AliasConfig:
        return cls(**orjson.loads(data))


def check_routing(routing: dict[str, float], function_version: str) -> None:
    """Lambda's rules for AdditionalVersionWeights beyond the model's shape (which the API layer
    checks first): one additional version at most, not the alias's own version, and no split
    when the alias points at $LATEST."""
    if len(routing) > 1:
        raise InvalidParameterValue(
            "Number of items in AdditionalVersionWeights cannot be greater than 1"
        )
    if function_version in routing:
        raise InvalidParameterValue(
            f"Invalid function version {function_version}. Function version "
            f"{function_version} is already included in routing configuration."
        )
    if routing and function_version == LATEST:
        raise InvalidParameterValue(
            "$LATEST is not supported for an alias pointing to more than 1 version"
        )


def pick_version(alias: AliasConfig, draw: Callable[[], float] = random.random) -> str:
    """The version one invocation of the alias runs: each additional version with its weight's
    probability, the alias's own version otherwise."""
    if alias.routing:
        roll = draw()
        for version, weight in alias.routing.items():
            if roll < weight:
                return version
            roll -= weight
    return alias.function_version


class AliasBook:
    """Thread-safe; changes are written through the store before they are visible."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._aliases: dict[tuple[str, str], dict[str, AliasConfig]] = {}

    def get(self, region: str, function: str, name: str) -> AliasConfig | None:
        with self._lock:
            return self._aliases.get((region, function), {}).get(name)

    def all(self, region: str, function: str) -> list[AliasConfig]:
        with self._lock:
            found = self._aliases.get((region, function), {})
            return [found[name] for name in sorted(found)]

    def referencing(self, region: str, function: str, version: str) -> list[str]:
        """Names of the aliases that may run ``version`` (so it cannot be deleted)."""
        return [a.name for a in self.all(region, function) if version in a.targets()]

    def put(self, region: str, function: str, alias: AliasConfig) -> AliasConfig:
        """Store a new or changed alias under a fresh RevisionId."""
        alias = replace(alias, revision_id=str(uuid.uuid4()))

        def job(txn: Txn) -> None:
            version_rows.upsert_alias(txn.conn, region, function, alias.name, alias.to_json())

        self.store.write(job)
        with self._lock:
            self._aliases.setdefault((region, function), {})[alias.name] = alias
        return alias

    def remove(self, region: str, function: str, name: str) -> None:
        self.store.write(lambda txn: version_rows.delete_alias(txn.conn, region, function, name))
        with self._lock:
            self._aliases.get((region, function), {}).pop(name, None)

    def forget_function(self, region: str, function: str) -> None:
        """After the function was deleted (its rows went in the same transaction)."""
        with self._lock:
            self._aliases.pop((region, function), None)

    def load(self) -> None:
        loaded = self.store.startup_read(version_rows.load_aliases)
        with self._lock:
            for region, function, data in loaded:
                alias = AliasConfig.from_json(data)
                self._aliases.setdefault((region, function), {})[alias.name] = alias
