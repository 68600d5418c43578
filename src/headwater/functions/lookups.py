"""What a function name, version or alias resolves to: the registry's in-memory index of each
function's ``$LATEST`` and published versions, and the lookups over it.

A name or ARN may carry a qualifier (``my-fn:3``, ``my-fn:live``, ``...:function:my-fn:$LATEST``):
:meth:`FunctionLookups.resolve` turns it into the configuration it names, and
:meth:`FunctionLookups.choose` into the version one invocation runs (an alias may split its
invocations between two versions). :class:`~headwater.functions.registry.FunctionRegistry`
builds on this with the changes and invocation.
"""

from __future__ import annotations

import builtins
import threading
from dataclasses import dataclass

from headwater.errors import InvalidParameterValue, ResourceNotFound
from headwater.functions.aliases import AliasBook, AliasConfig, pick_version
from headwater.functions.config import LATEST, FunctionConfig
from headwater.functions.names import is_version_number, parse_function_name, split_qualifier


@dataclass(frozen=True)
class Target:
    """What a (possibly qualified) name addresses: the configuration that runs, the ARN as the
    caller qualified it (responses' FunctionArn, the handler's invoked_function_arn), and the
    alias if it went through one."""

    config: FunctionConfig
    arn: str
    alias: AliasConfig | None = None


class FunctionLookups:
    """Thread-safe: ``_lock`` guards the two maps, which hold replaced (never changed) configs."""

    def __init__(self, account: str, aliases: AliasBook) -> None:
        self.account = account
        self.aliases = aliases
        self._lock = threading.Lock()
        self._functions: dict[tuple[str, str], FunctionConfig] = {}  # $LATEST of each function
        self._versions: dict[tuple[str, str], dict[str, FunctionConfig]] = {}

    def _base_arn(self, region: str, name: str) -> str:
        return f"arn:aws:lambda:{region}:{self.account}:function:{name}"

    def resolve(self, region: str, name_or_arn: str, qualifier: str | None = None) -> Target:
        """The version a name, partial or full ARN (with or without a qualifier) and an optional
        Qualifier parameter address; ResourceNotFound in Lambda's words."""
        arn_region, name, wanted = split_qualifier(name_or_arn, qualifier)
        region = arn_region or region
        base = self._base_arn(region, name)
        qualified = f"{base}:{wanted}" if wanted else base
        with self._lock:
            latest = self._functions.get((region, name))
            if latest is None:
                raise ResourceNotFound(f"Function not found: {qualified}")
            if wanted is None:
                return Target(latest, base)
            if wanted == LATEST:
                return Target(latest, qualified)
            if is_version_number(wanted):
                found = self._versions.get((region, name), {}).get(wanted)
                if found is None:
                    raise ResourceNotFound(f"Function not found: {qualified}")
                return Target(found, qualified)
        alias = self.aliases.get(region, name, wanted)
        if alias is None:
            raise ResourceNotFound(f"Function not found: {qualified}")
        return Target(self._version(region, name, alias.function_version), qualified, alias)

    def get(self, region: str, name_or_arn: str, qualifier: str | None = None) -> FunctionConfig:
        return self.resolve(region, name_or_arn, qualifier).config

    def function(self, region: str, name_or_arn: str) -> FunctionConfig:
        """The function itself ($LATEST) for operations on the whole function; a qualifier in
        the name is not looked at."""
        arn_region, name, _qualifier = parse_function_name(name_or_arn)
        return self.get(region, self._base_arn(arn_region or region, name))

    def _version(self, region: str, name: str, version: str) -> FunctionConfig:
        with self._lock:
            found = (
                self._functions.get((region, name))
                if version == LATEST
                else self._versions.get((region, name), {}).get(version)
            )
        if found is None:
            raise ResourceNotFound(f"Function not found: {self._base_arn(region, name)}:{version}")
        return found

    def choose(self, target: Target) -> FunctionConfig:
        """The version one invocation of ``target`` runs (an alias may split between two)."""
        if target.alias is None or not target.alias.routing:
            return target.config
        version = pick_version(target.alias)
        if version == target.config.version:
            return target.config
        try:
            return self._version(target.config.region, target.config.name, version)
        except ResourceNotFound:
            return target.config

    def exists(self, region: str, name_or_arn: str) -> bool:
        try:
            self.get(region, name_or_arn)
        except (ResourceNotFound, InvalidParameterValue):
            return False
        return True

    def list(self, region: str) -> builtins.list[FunctionConfig]:
        with self._lock:
            return sorted(
                (f for (r, _), f in self._functions.items() if r == region), key=lambda f: f.name
            )

    def versions(self, region: str, name_or_arn: str) -> builtins.list[FunctionConfig]:
        """``$LATEST`` first, then the published versions in order."""
        latest = self.function(region, name_or_arn)
        with self._lock:
            published = self._versions.get((latest.region, latest.name), {})
            return [latest, *(published[v] for v in sorted(published, key=int))]

    def configs(self) -> builtins.list[FunctionConfig]:
        """Every function's ``$LATEST`` and every published version (the code they need)."""
        with self._lock:
            found = list(self._functions.values())
            for published in self._versions.values():
                found.extend(published.values())
        return found
