"""Lambda aliases through real boto3 and real worker processes: the alias API, routing
between two versions, and event source mappings that follow an alias."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import create_stream_table, wait_until
from tests.integration.versions_support import (
    RECORDER,
    TAGGED,
    arn,
    create,
    error,
    invoke,
    set_code,
    two_versions,
)

# Functions a test makes are deleted after it (the session server is shared).
pytestmark = pytest.mark.usefixtures("delete_made_functions")


# -- aliases --------------------------------------------------------------------------------


def test_alias_lifecycle(lam: Any) -> None:
    name = two_versions(lam)
    created = lam.create_alias(
        FunctionName=name, Name="live", FunctionVersion="1", Description="production"
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["AliasArn"] == f"{arn(name)}:live"
    assert (created["Name"], created["FunctionVersion"]) == ("live", "1")
    assert created["Description"] == "production"
    assert "RoutingConfig" not in created
    got = lam.get_alias(FunctionName=name, Name="live")
    assert got["RevisionId"] == created["RevisionId"]
    lam.create_alias(FunctionName=arn(name), Name="beta", FunctionVersion="2")
    lam.create_alias(FunctionName=name, Name="edge", FunctionVersion="$LATEST")
    listed = lam.list_aliases(FunctionName=name)["Aliases"]
    assert [a["Name"] for a in listed] == ["beta", "edge", "live"]
    on_two = lam.list_aliases(FunctionName=name, FunctionVersion="2")["Aliases"]
    assert [a["Name"] for a in on_two] == ["beta"]
    page = lam.list_aliases(FunctionName=name, MaxItems=2)
    assert [a["Name"] for a in page["Aliases"]] == ["beta", "edge"]
    rest = lam.list_aliases(FunctionName=name, Marker=page["NextMarker"])
    assert [a["Name"] for a in rest["Aliases"]] == ["live"]
    # GetFunction through the alias: the version's configuration, the alias's ARN.
    through = lam.get_function(FunctionName=name, Qualifier="live")["Configuration"]
    assert (through["Version"], through["FunctionArn"]) == ("1", f"{arn(name)}:live")
    updated = lam.update_alias(
        FunctionName=name, Name="live", FunctionVersion="2", RevisionId=got["RevisionId"]
    )
    assert updated["FunctionVersion"] == "2"
    assert updated["Description"] == "production"  # untouched members stay
    assert updated["RevisionId"] != got["RevisionId"]
    assert error(
        lam.update_alias, FunctionName=name, Name="live", Description="x", RevisionId="stale"
    ) == (
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id",
        412,
    )
    deleted = lam.delete_alias(FunctionName=name, Name="beta")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    lam.delete_alias(FunctionName=name, Name="beta")  # gone already: still success
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["edge", "live"]


def test_alias_errors(lam: Any, raw: Any) -> None:
    name = two_versions(lam)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert error(lam.create_alias, FunctionName=name, Name="live", FunctionVersion="2") == (
        "ResourceConflictException",
        f"Alias already exists: {arn(name)}:live",
        409,
    )
    assert error(lam.get_alias, FunctionName=name, Name="nope") == (
        "ResourceNotFoundException",
        f"Cannot find alias arn: {arn(name)}:nope",
        404,
    )
    assert error(lam.update_alias, FunctionName=name, Name="nope", FunctionVersion="1") == (
        "ResourceNotFoundException",
        f"Alias not found: {arn(name)}:nope",
        404,
    )
    assert error(lam.create_alias, FunctionName=name, Name="later", FunctionVersion="9") == (
        "ResourceNotFoundException",
        f"Function not found: {arn(name)}:9",
        404,
    )
    assert error(lam.create_alias, FunctionName="no-fn", Name="a", FunctionVersion="1") == (
        "ResourceNotFoundException",
        f"Function not found: {arn('no-fn')}:1",
        404,
    )
    assert error(lam.update_alias, FunctionName=name, Name="live", FunctionVersion="9") == (
        "ResourceNotFoundException",
        f"Function not found: {arn(name)}:9",
        404,
    )
    # Alias names cannot look like versions; FunctionVersion must be one.
    assert error(raw.create_alias, FunctionName=name, Name="12", FunctionVersion="1") == (
        "ValidationException",
        "1 validation error detected: Value '12' at 'name' failed to satisfy constraint: Member "
        "must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
        400,
    )
    code, message, _ = error(raw.create_alias, FunctionName=name, Name="x", FunctionVersion="v1")
    assert code == "ValidationException" and "at 'functionVersion'" in message
    code, message, _ = error(
        raw.create_alias, FunctionName=name, Name="a" * 129, FunctionVersion="1"
    )
    assert code == "ValidationException" and "length less than or equal to 128" in message


def test_routing_configuration_is_validated(lam: Any, raw: Any) -> None:
    name = two_versions(lam)

    def routing(function_version: str, weights: dict[str, Any]) -> tuple[str, str, int]:
        return error(
            raw.create_alias,
            FunctionName=name,
            Name="split",
            FunctionVersion=function_version,
            RoutingConfig={"AdditionalVersionWeights": weights},
        )

    value_rule = (
        "failed to satisfy constraint: Map value must satisfy constraint: [Member must have "
        "value less than or equal to 1.0, Member must have value greater than or equal to 0.0, "
        "Member must not be null]"
    )
    assert routing("1", {"2": 2}) == (
        "ValidationException",
        f"1 validation error detected: Value '{{2=2.0}}' at "
        f"'routingConfig.additionalVersionWeights' {value_rule}",
        400,
    )
    assert routing("1", {"2": -1})[1].endswith(value_rule)
    assert routing("1", {"$LATEST": 0.5}) == (
        "ValidationException",
        "1 validation error detected: Value '{$LATEST=0.5}' at "
        "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must "
        "satisfy constraint: [Member must have length less than or equal to 1024, Member must "
        "have length greater than or equal to 1, Member must satisfy regular expression "
        "pattern: [0-9]+, Member must not be null]",
        400,
    )
    assert routing("1", {"1": 0.5, "2": 0.5}) == (
        "InvalidParameterValueException",
        "Number of items in AdditionalVersionWeights cannot be greater than 1",
        400,
    )
    assert routing("1", {"1": 0.5}) == (
        "InvalidParameterValueException",
        "Invalid function version 1. Function version 1 is already included in routing "
        "configuration.",
        400,
    )
    assert routing("$LATEST", {"1": 0.5}) == (
        "InvalidParameterValueException",
        "$LATEST is not supported for an alias pointing to more than 1 version",
        400,
    )
    assert routing("1", {"10": 0.5}) == (
        "ResourceNotFoundException",
        f"Function not found: {arn(name)}:10",
        404,
    )
    empty = lam.create_alias(
        FunctionName=name,
        Name="empty",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {}},
    )
    assert "RoutingConfig" not in empty
    split = lam.create_alias(
        FunctionName=name,
        Name="split",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}},
    )
    assert split["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.25}}
    # An empty AdditionalVersionWeights on update removes the split.
    cleared = lam.update_alias(
        FunctionName=name, Name="split", RoutingConfig={"AdditionalVersionWeights": {}}
    )
    assert "RoutingConfig" not in cleared
    assert lam.get_alias(FunctionName=name, Name="split")["FunctionVersion"] == "1"
    lam.delete_function(FunctionName=name, Qualifier="2")  # no alias refers to it any more


def test_invoking_an_alias_runs_the_version_it_points_at(lam: Any) -> None:
    name = two_versions(lam)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    for addressed, extra in (
        (f"{name}:live", {}),
        (name, {"Qualifier": "live"}),
        (f"{arn(name)}:live", {}),
    ):
        out, body = invoke(lam, addressed, **extra)
        assert out["ExecutedVersion"] == "1"
        assert (body["code"], body["version"]) == ("one", "1")
        assert body["arn"] == f"{arn(name)}:live"
    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    out, body = invoke(lam, f"{name}:live")
    assert (out["ExecutedVersion"], body["code"]) == ("2", "two")
    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="$LATEST")
    set_code(lam, name, TAGGED.format(tag="three"))
    out, body = invoke(lam, f"{name}:live")
    assert (out["ExecutedVersion"], body["code"], body["version"]) == (
        "$LATEST",
        "three",
        "$LATEST",
    )


def test_a_weighted_alias_sends_invocations_to_both_versions(lam: Any) -> None:
    name = two_versions(lam)
    lam.create_alias(
        FunctionName=name,
        Name="canary",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    seen: dict[str, int] = {}
    for _ in range(40):  # both missed with probability 2 * 0.5**40
        out, body = invoke(lam, f"{name}:canary")
        assert body["version"] == out["ExecutedVersion"]
        assert body["code"] == {"1": "one", "2": "two"}[out["ExecutedVersion"]]
        seen[out["ExecutedVersion"]] = seen.get(out["ExecutedVersion"], 0) + 1
    assert set(seen) == {"1", "2"}
    # A version an alias splits to is referenced by it.
    assert error(lam.delete_function, FunctionName=name, Qualifier="2")[0] == (
        "ResourceConflictException"
    )
    # Weight 0 never routes to the additional version; weight 1 always does.
    lam.update_alias(
        FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {"2": 0.0}}
    )
    assert {invoke(lam, f"{name}:canary")[0]["ExecutedVersion"] for _ in range(5)} == {"1"}
    lam.update_alias(
        FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {"2": 1.0}}
    )
    assert {invoke(lam, f"{name}:canary")[0]["ExecutedVersion"] for _ in range(5)} == {"2"}


# -- event source mappings ------------------------------------------------------------------


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _handled_by(path: Path, key: str) -> str | None:
    for line in _lines(path):
        if key in line["keys"]:
            return str(line["code"])
    return None


def test_a_mapping_on_an_alias_follows_update_alias(ddb: Any, lam: Any, tmp_path: Path) -> None:
    out = tmp_path / "batches"
    table, stream = create_stream_table(ddb)
    name = create(lam, RECORDER.format(tag="one"), Environment={"Variables": {"OUT": str(out)}})
    lam.publish_version(FunctionName=name)
    set_code(lam, name, RECORDER.format(tag="two"))
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    mapping = lam.create_event_source_mapping(
        FunctionName=f"{name}:live", EventSourceArn=stream, StartingPosition="TRIM_HORIZON"
    )
    assert mapping["FunctionArn"] == f"{arn(name)}:live"
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["FunctionArn"] == (
        f"{arn(name)}:live"
    )
    for i in range(3):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"a{i}"}})
    wait_until(lambda: all(_handled_by(out, f"a{i}") for i in range(3)), timeout=30)
    assert {_handled_by(out, f"a{i}") for i in range(3)} == {"one"}
    assert {line["arn"] for line in _lines(out)} == {f"{arn(name)}:live"}
    # Re-point the running mapping: the next batches run version 2.
    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    for i in range(3):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"b{i}"}})
    wait_until(lambda: all(_handled_by(out, f"b{i}") for i in range(3)), timeout=30)
    assert {_handled_by(out, f"b{i}") for i in range(3)} == {"two"}
    # $LATEST changing does not touch the alias's version.
    set_code(lam, name, RECORDER.format(tag="three"))
    ddb.put_item(TableName=table, Item={"pk": {"S": "c0"}})
    wait_until(lambda: _handled_by(out, "c0"), timeout=30)
    assert _handled_by(out, "c0") == "two"
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_mappings_on_versions_and_unknown_qualifiers(ddb: Any, lam: Any, tmp_path: Path) -> None:
    _table, stream = create_stream_table(ddb)
    name = create(lam, RECORDER.format(tag="one"), Environment={"Variables": {"OUT": "x"}})
    lam.publish_version(FunctionName=name)
    on_version = lam.create_event_source_mapping(
        FunctionName=f"{arn(name)}:1", EventSourceArn=stream, StartingPosition="LATEST"
    )
    assert on_version["FunctionArn"] == f"{arn(name)}:1"
    # The same stream may also be mapped to the function itself: a different FunctionArn.
    plain = lam.create_event_source_mapping(
        FunctionName=name, EventSourceArn=stream, StartingPosition="LATEST"
    )
    assert plain["FunctionArn"] == arn(name)
    listed = lam.list_event_source_mappings(FunctionName=f"{name}:1")["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [on_version["UUID"]]
    both = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    assert {m["UUID"] for m in both} == {on_version["UUID"], plain["UUID"]}
    for qualifier in ("7", "nope"):
        assert error(
            lam.create_event_source_mapping,
            FunctionName=f"{name}:{qualifier}",
            EventSourceArn=stream,
            StartingPosition="LATEST",
        ) == ("InvalidParameterValueException", "Function does not exist", 400)
    for uuid in (on_version["UUID"], plain["UUID"]):
        wait_until(lambda u=uuid: lam.get_event_source_mapping(UUID=u)["State"] == "Enabled")
        lam.delete_event_source_mapping(UUID=uuid)
