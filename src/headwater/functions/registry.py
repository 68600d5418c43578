"""The function registry: Lambda functions' configuration and code, durable, plus invocation.

Code zips are kept in the database (so a restart loses nothing) and extracted once per code
version under ``<data dir>/functions``; warm workers import from there. The registry implements
the mapping runtime's :class:`~headwater.mapping.invoker.Invoker` interface.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid as uuidlib
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from headwater import metrics
from headwater.clock import Clock
from headwater.errors import (
    InvalidParameterValue,
    ResourceConflict,
    ResourceNotFound,
    TooManyRequests,
)
from headwater.functions.code import extract_zip
from headwater.functions.pool import InvokeResult, WorkerPool
from headwater.functions.spec import FunctionSpec
from headwater.mapping.invoker import Outcome
from headwater.storage import rows
from headwater.storage.store import Store, Txn

_ARN = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:)?"
    r"(?:(?P<acct2>\d{12}):function:)?(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>[a-zA-Z0-9$_-]+))?$"
)


def lambda_timestamp(epoch: float) -> str:
    """Lambda's LastModified format: ``2019-06-11T00:30:51.963+0000``."""
    millis = int(epoch * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{millis:03d}+0000"


@dataclass
class FunctionConfig:
    name: str
    region: str
    account: str
    runtime: str
    handler: str
    role: str
    code_sha256: str
    code_size: int
    timeout: int = 3
    memory_size: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    description: str = ""
    last_modified: float = 0.0
    revision_id: str = ""
    architectures: list[str] = field(default_factory=lambda: ["x86_64"])
    reserved_concurrency: int | None = None  # None: no reservation; 0: every invoke throttled

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes) -> FunctionConfig:
        return cls(**orjson.loads(data))


def parse_function_name(text: str) -> tuple[str | None, str, str | None]:
    """(region or None, name, qualifier or None) from a name, partial ARN or full ARN."""
    match = _ARN.match(text)
    if match is None:
        raise InvalidParameterValue(f"Invalid function name or ARN: {text}")
    return match.group("region"), match.group("name"), match.group("qualifier")


class FunctionRegistry:
    def __init__(
        self, store: Store, pool: WorkerPool, clock: Clock, code_root: Path, account: str
    ) -> None:
        self.store = store
        self.pool = pool
        self.clock = clock
        self.code_root = code_root
        self.account = account
        self._lock = threading.Lock()
        self._functions: dict[tuple[str, str], FunctionConfig] = {}
        self._running: dict[tuple[str, str], int] = {}  # invocations in flight per function

    # -- lookups ---------------------------------------------------------------------------

    def get(self, region: str, name_or_arn: str) -> FunctionConfig:
        arn_region, name, qualifier = parse_function_name(name_or_arn)
        found = self._functions.get((arn_region or region, name))
        if found is None or qualifier not in (None, "$LATEST"):
            target = f"{arn_region or region}:{self.account}:function:{name}"
            if qualifier:
                target += f":{qualifier}"
            raise ResourceNotFound(f"Function not found: arn:aws:lambda:{target}")
        return found

    def exists(self, region: str, name_or_arn: str) -> bool:
        try:
            self.get(region, name_or_arn)
        except (ResourceNotFound, InvalidParameterValue):
            return False
        return True

    def list(self, region: str) -> list[FunctionConfig]:
        with self._lock:
            return sorted(
                (f for (r, _), f in self._functions.items() if r == region), key=lambda f: f.name
            )

    def code_zip(self, config: FunctionConfig) -> bytes:
        code = self.store.read(lambda conn: rows.function_code(conn, config.region, config.name))
        return code or b""

    def _code_dir(self, config: FunctionConfig) -> Path:
        digest = hashlib.sha256(config.code_sha256.encode()).hexdigest()[:24]
        return self.code_root / config.region / config.name / digest

    def spec(self, config: FunctionConfig) -> FunctionSpec:
        return FunctionSpec(
            name=config.name,
            arn=config.arn,
            handler=config.handler,
            runtime=config.runtime,
            timeout=config.timeout,
            memory_size=config.memory_size,
            environment=dict(config.environment),
            code_dir=self._code_dir(config),
            code_sha256=config.code_sha256,
            version="$LATEST",
            region=config.region,
            account_id=config.account,
            revision=config.revision_id,
        )

    # -- changes ---------------------------------------------------------------------------

    def create(self, config: FunctionConfig, zip_bytes: bytes) -> FunctionConfig:
        if (config.region, config.name) in self._functions:
            raise ResourceConflict(f"Function already exist: {config.name}")
        staging = self.code_root / ".staging" / uuidlib.uuid4().hex
        info = extract_zip(zip_bytes, staging)
        config = replace(
            config,
            account=self.account,
            code_sha256=info.sha256_b64,
            code_size=info.size,
            last_modified=self.clock.time(),
            revision_id=str(uuidlib.uuid4()),
        )
        self._install(config, staging)

        def job(txn: Txn) -> None:
            if (config.region, config.name) in self._functions:
                raise ResourceConflict(f"Function already exist: {config.name}")
            rows.upsert_function(txn.conn, config.region, config.name, config.to_json(), zip_bytes)
            txn.after_commit(lambda: self._remember(config))

        self.store.write(job)
        self.pool.prewarm(self.spec(config))
        return config

    def update_code(self, region: str, name: str, zip_bytes: bytes) -> FunctionConfig:
        current = self.get(region, name)
        staging = self.code_root / ".staging" / uuidlib.uuid4().hex
        info = extract_zip(zip_bytes, staging)
        config = replace(
            current,
            code_sha256=info.sha256_b64,
            code_size=info.size,
            last_modified=self.clock.time(),
            revision_id=str(uuidlib.uuid4()),
        )
        self._install(config, staging)
        self.store.write(
            lambda txn: rows.upsert_function(
                txn.conn, region, config.name, config.to_json(), zip_bytes
            )
        )
        self._remember(config)
        self.pool.retire(config.name)
        return config

    def set_concurrency(self, region: str, name: str, reserved: int | None) -> FunctionConfig:
        """Put/DeleteFunctionConcurrency: no new revision, warm workers stay."""
        current = self.get(region, name)
        config = replace(current, reserved_concurrency=reserved)
        self.store.write(
            lambda txn: rows.update_function_config(txn.conn, region, name, config.to_json())
        )
        self._remember(config)
        return config

    def update_configuration(
        self, region: str, name: str, changes: dict[str, Any]
    ) -> FunctionConfig:
        current = self.get(region, name)
        config = replace(
            current, **changes, last_modified=self.clock.time(), revision_id=str(uuidlib.uuid4())
        )
        self.store.write(
            lambda txn: rows.update_function_config(txn.conn, region, name, config.to_json())
        )
        self._remember(config)
        self.pool.retire(config.name)
        return config

    def delete(self, region: str, name_or_arn: str) -> None:
        config = self.get(region, name_or_arn)
        self.store.write(lambda txn: rows.delete_function(txn.conn, config.region, config.name))
        with self._lock:
            self._functions.pop((config.region, config.name), None)
        self.pool.retire(config.name)

    def _install(self, config: FunctionConfig, staging: Path) -> None:
        target = self._code_dir(config)
        if target.exists():
            _remove_tree(staging)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            staging.rename(target)
        except OSError:
            _remove_tree(staging)  # a concurrent install of the same code won the race

    def _remember(self, config: FunctionConfig) -> None:
        with self._lock:
            self._functions[(config.region, config.name)] = config

    def load(self) -> None:
        for region, name, data in self.store.startup_read(rows.load_functions):
            config = FunctionConfig.from_json(data)
            if not self._code_dir(config).exists():
                code = self.store.read(partial(rows.function_code, region=region, name=name))
                staging = self.code_root / ".staging" / uuidlib.uuid4().hex
                extract_zip(code or b"", staging)
                self._install(config, staging)
            self._remember(config)

    # -- invocation ------------------------------------------------------------------------

    def invoke(self, config: FunctionConfig, payload: bytes) -> InvokeResult:
        """Run one invocation; raises TooManyRequests when the reserved concurrency is used up
        (the invocation never reaches the function, as on AWS)."""
        key = (config.region, config.name)
        with self._lock:
            running = self._running.get(key, 0)
            limit = config.reserved_concurrency
            if limit is not None and running >= limit:
                metrics.THROTTLES.inc(function=config.name)
                raise TooManyRequests()
            self._running[key] = running + 1
        try:
            result = self.pool.invoke(self.spec(config), payload, invoked_arn=config.arn)
        finally:
            with self._lock:
                self._running[key] -= 1
        metrics.INVOCATIONS.inc(function=config.name)
        metrics.DURATION.inc(result.duration_ms / 1000, function=config.name)
        if result.status != "ok":
            metrics.ERRORS.inc(function=config.name)
        return result

    def invoke_for_mapping(self, function_arn: str, payload: bytes) -> Outcome:
        region, name, _qualifier = parse_function_name(function_arn)
        config = self._functions.get((region or "", name))
        if config is None:
            return Outcome("not_found")
        try:
            result = self.invoke(config, payload)
        except (RuntimeError, TooManyRequests):  # throttled, or the server is stopping
            return Outcome("throttled")
        return Outcome(result.status, result.payload, result.request_id)


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
