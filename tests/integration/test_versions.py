"""Lambda versions and qualifiers through real boto3 and real worker processes: snapshots,
$LATEST and versions running side by side, publishing rules, deletes, and restarts."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from headwater.testing import HeadwaterServer
from tests.conftest import ROLE, make_zip, unique, wait_until
from tests.integration.versions_support import (
    GATED,
    MADE,
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


# -- versions -------------------------------------------------------------------------------


def test_a_version_is_a_snapshot_that_later_updates_do_not_change(lam: Any) -> None:
    code_one = make_zip({"app.py": TAGGED.format(tag="one")})
    name = unique("fn")
    MADE.append(name)
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": code_one},
        Timeout=4,
        MemorySize=256,
        Description="first",
        Environment={"Variables": {"COLOUR": "red"}},
    )
    published = lam.publish_version(FunctionName=name, Description="the red one")
    assert published["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert published["Version"] == "1"
    assert published["FunctionArn"] == f"{arn(name)}:1"
    assert published["Description"] == "the red one"
    assert published["CodeSha256"] == base64.b64encode(hashlib.sha256(code_one).digest()).decode()
    set_code(lam, name, TAGGED.format(tag="two"))
    lam.update_function_configuration(
        FunctionName=name,
        Timeout=9,
        MemorySize=512,
        Description="second",
        Environment={"Variables": {"COLOUR": "blue"}},
    )
    version = lam.get_function_configuration(FunctionName=name, Qualifier="1")
    assert (version["Version"], version["FunctionArn"]) == ("1", f"{arn(name)}:1")
    assert (version["Timeout"], version["MemorySize"]) == (4, 256)
    assert version["Environment"] == {"Variables": {"COLOUR": "red"}}
    assert version["Description"] == "the red one"
    assert version["CodeSha256"] == published["CodeSha256"]
    latest = lam.get_function_configuration(FunctionName=name)
    assert (latest["Version"], latest["FunctionArn"]) == ("$LATEST", arn(name))
    assert (latest["Timeout"], latest["MemorySize"], latest["Description"]) == (9, 512, "second")
    assert latest["CodeSha256"] != published["CodeSha256"]
    # The same version by qualified name, by full qualified ARN, and $LATEST explicitly.
    by_name = lam.get_function(FunctionName=f"{name}:1")
    assert by_name["Configuration"]["Environment"] == {"Variables": {"COLOUR": "red"}}
    by_arn = lam.get_function_configuration(FunctionName=f"{arn(name)}:1")
    assert by_arn["Version"] == "1"
    explicit = lam.get_function(FunctionName=name, Qualifier="$LATEST")["Configuration"]
    assert explicit["FunctionArn"] == f"{arn(name)}:$LATEST"
    assert explicit["Version"] == "$LATEST"
    # The version's download link serves the version's own zip, not $LATEST's.
    location = by_name["Code"]["Location"]
    with urllib.request.urlopen(location) as response:
        assert response.read() == code_one


def test_two_versions_run_their_own_code_at_the_same_time(lam: Any, tmp_path: Path) -> None:
    name = create(lam, GATED.format(tag="one"), Timeout=30)
    lam.publish_version(FunctionName=name)
    set_code(lam, name, GATED.format(tag="two"))
    results: dict[str, Any] = {}

    def call(qualifier: str) -> None:
        event = {"started": str(tmp_path / f"started-{qualifier}"), "gate": gates[qualifier]}
        out, body = invoke(lam, name, event, Qualifier=qualifier)
        results[qualifier] = (out["ExecutedVersion"], body)

    gates = {}
    for qualifier in ("1", "$LATEST"):
        gates[qualifier] = str(tmp_path / f"gate-{qualifier}")
        os.mkfifo(gates[qualifier])
    threads = [threading.Thread(target=call, args=(q,)) for q in gates]
    for thread in threads:
        thread.start()
    # Both handlers are inside their invocation before either is let go.
    wait_until(lambda: all((tmp_path / f"started-{q}").exists() for q in gates), timeout=30)
    for gate in gates.values():
        with open(gate, "w") as opened:
            opened.write("go")
    for thread in threads:
        thread.join(timeout=30)
    assert results["1"][0] == "1"
    assert results["1"][1]["code"] == "one" and results["1"][1]["version"] == "1"
    assert results["$LATEST"][0] == "$LATEST"
    assert results["$LATEST"][1]["code"] == "two"
    assert results["$LATEST"][1]["version"] == "$LATEST"
    assert results["1"][1]["pid"] != results["$LATEST"][1]["pid"]


def test_the_handler_sees_the_version_and_the_arn_it_was_invoked_by(lam: Any) -> None:
    name = two_versions(lam)
    out, body = invoke(lam, f"{name}:1")
    assert out["ExecutedVersion"] == "1"
    assert body["code"] == "one"
    assert body["version"] == body["env_version"] == "1"
    assert body["arn"] == f"{arn(name)}:1"
    out, body = invoke(lam, arn(name), Qualifier="2")
    assert (out["ExecutedVersion"], body["code"], body["arn"]) == ("2", "two", f"{arn(name)}:2")
    out, body = invoke(lam, name)
    assert (out["ExecutedVersion"], body["version"], body["arn"]) == (
        "$LATEST",
        "$LATEST",
        arn(name),
    )


def test_updating_latest_keeps_the_versions_warm_workers(lam: Any) -> None:
    name = create(lam, TAGGED.format(tag="one"))
    lam.publish_version(FunctionName=name)
    _, first = invoke(lam, name, Qualifier="1")
    set_code(lam, name, TAGGED.format(tag="two"))
    _, again = invoke(lam, name, Qualifier="1")
    assert again["code"] == "one"
    assert again["pid"] == first["pid"]  # the code update retired $LATEST's workers only
    _, latest = invoke(lam, name)
    assert latest["code"] == "two"


def test_publishing_unchanged_code_and_configuration_returns_the_last_version(lam: Any) -> None:
    name = create(lam, TAGGED.format(tag="one"), Description="plain")
    first = lam.publish_version(FunctionName=name, Description="v1")
    again = lam.publish_version(FunctionName=name, Description="something else")
    assert again["Version"] == "1"
    assert again["Description"] == "v1"
    assert again["RevisionId"] == first["RevisionId"]
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"AB": "b"}})
    second = lam.publish_version(FunctionName=name)
    assert second["Version"] == "2"
    assert second["Description"] == "plain"  # no override: $LATEST's description
    versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]


def test_list_versions_pages_with_latest_first(lam: Any) -> None:
    name = create(lam, TAGGED.format(tag="one"))
    for colour in ("red", "green", "blue"):
        lam.update_function_configuration(
            FunctionName=name, Environment={"Variables": {"COLOUR": colour}}
        )
        lam.publish_version(FunctionName=name)
    page = lam.list_versions_by_function(FunctionName=name, MaxItems=2)
    assert [v["Version"] for v in page["Versions"]] == ["$LATEST", "1"]
    assert page["Versions"][0]["FunctionArn"] == f"{arn(name)}:$LATEST"
    assert page["Versions"][1]["FunctionArn"] == f"{arn(name)}:1"
    assert page["Versions"][1]["Environment"] == {"Variables": {"COLOUR": "red"}}
    rest = lam.list_versions_by_function(FunctionName=name, Marker=page["NextMarker"])
    assert [v["Version"] for v in rest["Versions"]] == ["2", "3"]
    assert "NextMarker" not in rest
    paginated = lam.get_paginator("list_versions_by_function").paginate(
        FunctionName=name, PaginationConfig={"PageSize": 1}
    )
    assert [v["Version"] for p in paginated for v in p["Versions"]] == ["$LATEST", "1", "2", "3"]


def test_a_marker_headwater_did_not_issue_ends_versions_and_aliases_listings(lam: Any) -> None:
    # What AWS answers to a foreign Marker is neither documented nor observed; Headwater keeps
    # answering an empty last page.
    name = two_versions(lam)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert len(lam.list_versions_by_function(FunctionName=name)["Versions"]) == 3
    assert len(lam.list_aliases(FunctionName=name)["Aliases"]) == 1
    versions = lam.list_versions_by_function(FunctionName=name, Marker="not-a-marker")
    aliases = lam.list_aliases(FunctionName=name, Marker="not-a-marker")
    assert (versions["Versions"], aliases["Aliases"]) == ([], [])
    assert "NextMarker" not in versions and "NextMarker" not in aliases


def test_list_functions_all_lists_every_version_qualified(lam: Any) -> None:
    """AWS (observed, moto#3422): without FunctionVersion only $LATEST under the unqualified
    ARN; with ALL, ``:$LATEST`` and every published version under ``:N``. Neither carries the
    state fields (the ListFunctions reference: GetFunction has them)."""
    name = two_versions(lam)
    pages = lam.get_paginator("list_functions").paginate()  # the session server holds many
    plain = [f for page in pages for f in page["Functions"] if f["FunctionName"] == name]
    assert [(f["Version"], f["FunctionArn"]) for f in plain] == [("$LATEST", arn(name))]
    assert "State" not in plain[0] and "LastUpdateStatus" not in plain[0]

    every = lam.get_paginator("list_functions").paginate(
        FunctionVersion="ALL", PaginationConfig={"PageSize": 1}
    )
    mine = [f for page in every for f in page["Functions"] if f["FunctionName"] == name]
    assert [(f["Version"], f["FunctionArn"]) for f in mine] == [
        ("$LATEST", f"{arn(name)}:$LATEST"),
        ("1", f"{arn(name)}:1"),
        ("2", f"{arn(name)}:2"),
    ]
    assert "State" not in mine[1]
    first = lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]
    assert mine[1]["CodeSha256"] == first["CodeSha256"]
    assert mine[1]["RevisionId"] == first["RevisionId"]


def test_publish_preconditions(lam: Any) -> None:
    name = create(lam, TAGGED.format(tag="one"))
    latest = lam.get_function_configuration(FunctionName=name)
    assert error(lam.publish_version, FunctionName=name, RevisionId="wrong") == (
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id",
        412,
    )
    assert error(lam.publish_version, FunctionName=name, CodeSha256="bogus") == (
        "InvalidParameterValueException",
        f"CodeSHA256 (bogus) is different from current CodeSHA256 in $LATEST "
        f"({latest['CodeSha256']}). Please try again with the CodeSHA256 in $LATEST.",
        400,
    )
    published = lam.publish_version(
        FunctionName=name, RevisionId=latest["RevisionId"], CodeSha256=latest["CodeSha256"]
    )
    assert published["Version"] == "1"
    # Publishing changed the function: $LATEST has a new RevisionId.
    assert lam.get_function_configuration(FunctionName=name)["RevisionId"] != latest["RevisionId"]
    assert error(lam.publish_version, FunctionName="no-such-fn")[0] == "ResourceNotFoundException"
    code, _message, status = error(
        lam.update_function_code,
        FunctionName=name,
        ZipFile=make_zip({"app.py": TAGGED.format(tag="x")}),
        RevisionId=latest["RevisionId"],
    )
    assert (code, status) == ("PreconditionFailedException", 412)
    code, _message, status = error(
        lam.update_function_configuration,
        FunctionName=name,
        Timeout=5,
        RevisionId=latest["RevisionId"],
    )
    assert (code, status) == ("PreconditionFailedException", 412)
    current = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    changed = lam.update_function_configuration(FunctionName=name, Timeout=5, RevisionId=current)
    assert changed["Timeout"] == 5


def test_create_and_update_code_can_publish_at_once(lam: Any) -> None:
    name = unique("fn")
    MADE.append(name)
    created = lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": TAGGED.format(tag="one")})},
        Publish=True,
    )
    assert (created["Version"], created["FunctionArn"]) == ("1", arn(name))
    updated = lam.update_function_code(
        FunctionName=name, ZipFile=make_zip({"app.py": TAGGED.format(tag="two")}), Publish=True
    )
    assert (updated["Version"], updated["FunctionArn"]) == ("2", f"{arn(name)}:2")
    assert invoke(lam, name, Qualifier="1")[1]["code"] == "one"
    assert invoke(lam, name, Qualifier="2")[1]["code"] == "two"


def test_qualifier_errors(lam: Any, raw: Any) -> None:
    name = two_versions(lam)
    mismatch = (
        "InvalidParameterValueException",
        "The derived qualifier from the function name does not match the specified qualifier.",
        400,
    )
    for call in (lam.get_function, lam.get_function_configuration, lam.delete_function):
        assert error(call, FunctionName=f"{arn(name)}:1", Qualifier="$LATEST") == mismatch
    assert error(lam.invoke, FunctionName=f"{name}:1", Qualifier="2") == mismatch
    assert error(lam.get_function, FunctionName=name, Qualifier="99") == (
        "ResourceNotFoundException",
        f"Function not found: {arn(name)}:99",
        404,
    )
    assert error(lam.invoke, FunctionName=f"{name}:nope") == (
        "ResourceNotFoundException",
        f"Function not found: {arn(name)}:nope",
        404,
    )
    assert error(lam.get_function_configuration, FunctionName="no-such-fn", Qualifier="1") == (
        "ResourceNotFoundException",
        f"Function not found: {arn('no-such-fn')}:1",
        404,
    )
    code, message, _ = error(raw.get_function, FunctionName=name, Qualifier="a b")
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value 'a b' at 'qualifier'")


def test_deleting_versions(lam: Any) -> None:
    name = two_versions(lam)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1")
    assert error(lam.delete_function, FunctionName=name, Qualifier="$LATEST") == (
        "InvalidParameterValueException",
        "$LATEST version cannot be deleted without deleting the function.",
        400,
    )
    assert error(lam.delete_function, FunctionName=name, Qualifier="live") == (
        "InvalidParameterValueException",
        "Deletion of aliases is not currently supported.",
        400,
    )
    assert error(lam.delete_function, FunctionName=f"{name}:1") == (
        "ResourceConflictException",
        "Unable to delete version because the following aliases reference it: [canary, live]",
        409,
    )
    lam.delete_function(FunctionName=name, Qualifier="42")  # not there: success, as on Lambda
    lam.delete_function(FunctionName=name, Qualifier="2")
    with pytest.raises(ClientError) as err:
        lam.get_function(FunctionName=name, Qualifier="2")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert invoke(lam, name, Qualifier="1")[1]["code"] == "one"
    # Version numbers are not reused.
    lam.update_function_configuration(FunctionName=name, Description="changed")
    assert lam.publish_version(FunctionName=name)["Version"] == "3"
    assert error(lam.delete_function, FunctionName="no-such-fn", Qualifier="1") == (
        "ResourceNotFoundException",
        f"Function not found: {arn('no-such-fn')}",
        404,
    )


def test_deleting_the_function_deletes_every_version_and_alias(lam: Any) -> None:
    name = two_versions(lam)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="2")
    lam.delete_function(FunctionName=name)
    for call, kwargs in (
        (lam.get_function, {"Qualifier": "1"}),
        (lam.get_alias, {"Name": "live"}),
        (lam.list_versions_by_function, {}),
        (lam.list_aliases, {}),
    ):
        assert error(call, FunctionName=name, **kwargs)[0] == "ResourceNotFoundException"
    create(lam, TAGGED.format(tag="three"), name=name)
    versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST"]
    assert lam.list_aliases(FunctionName=name)["Aliases"] == []
    assert invoke(lam, name)[1]["code"] == "three"


def test_reserved_concurrency_is_the_functions_for_every_version(lam: Any) -> None:
    name = two_versions(lam)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    for qualifier in ("1", "2", "$LATEST"):
        code, _message, status = error(lam.invoke, FunctionName=name, Qualifier=qualifier)
        assert (code, status) == ("TooManyRequestsException", 429)
    assert error(
        lam.put_function_concurrency, FunctionName=f"{name}:1", ReservedConcurrentExecutions=1
    ) == (
        "InvalidParameterValueException",
        "This operation is permitted on Lambda functions only. Aliases and versions do not "
        "support this operation. Please specify either a function name or an unqualified "
        "function ARN.",
        400,
    )
    lam.delete_function_concurrency(FunctionName=name)
    assert invoke(lam, name, Qualifier="1")[1]["code"] == "one"


# -- durability -----------------------------------------------------------------------------


def test_versions_and_aliases_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with HeadwaterServer(data_dir=data) as server:
        lam = server.client("lambda")
        name = two_versions(lam)
        lam.create_alias(
            FunctionName=name,
            Name="live",
            FunctionVersion="1",
            Description="prod",
            RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}},
        )
        before = lam.get_alias(FunctionName=name, Name="live")
    # Without the unpacked code the versions' zips must come back from the database.
    shutil.rmtree(data / "functions")
    with HeadwaterServer(data_dir=data) as server:
        lam = server.client("lambda")
        versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
        assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
        after = lam.get_alias(FunctionName=name, Name="live")
        for member in ("AliasArn", "FunctionVersion", "Description", "RevisionId"):
            assert after[member] == before[member]
        assert after["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.1}}
        assert invoke(lam, name, Qualifier="1")[1]["code"] == "one"
        assert invoke(lam, name, Qualifier="2")[1]["code"] == "two"
        assert invoke(lam, name)[1]["code"] == "two"
        # Unchanged since version 2: publishing returns it; the numbering carries on after it.
        assert lam.publish_version(FunctionName=name)["Version"] == "2"
        set_code(lam, name, TAGGED.format(tag="three"))
        assert lam.publish_version(FunctionName=name)["Version"] == "3"


# -- bad input ------------------------------------------------------------------------------

_WRONG: list[Any] = [None, True, 0, -1, 1.5, "", "x" * 300, [], [{}], {}, {"S": "x"}]


def _status(url: str, method: str, body: bytes | None = None) -> int:
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def test_bad_input_gets_a_4xx_never_a_500(server: HeadwaterServer, lam: Any) -> None:
    name = two_versions(lam)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    base = f"{server.url}/2015-03-31/functions/{name}"
    model = botocore.session.get_session().get_service_model("lambda")
    body = {"Name": "fz", "FunctionVersion": "1"}
    failures = []
    for method, path, operation in (
        ("POST", "/versions", "PublishVersion"),
        ("POST", "/aliases", "CreateAlias"),
        ("PUT", "/aliases/live", "UpdateAlias"),
    ):
        members = list(model.operation_model(operation).input_shape.members)
        for member in members:
            for value in _WRONG:
                sent = json.dumps({**body, member: value}).encode()
                if _status(base + path, method, sent) >= 500:
                    failures.append((operation, member, value))
        for weights in ({"2": "x"}, ["2"], {"2": None}, {"": 0.5}, {"2": 0.5, "3": 0.5}):
            sent = json.dumps({**body, "RoutingConfig": {"AdditionalVersionWeights": weights}})
            if _status(base + path, method, sent.encode()) >= 500:
                failures.append((operation, "RoutingConfig", weights))
        for document in (b"", b"[]", b"null", b"{"):
            if _status(base + path, method, document) >= 500:
                failures.append((operation, "<document>", document))
    for method, path in (
        ("GET", "/versions?MaxItems=abc"),
        ("GET", "/versions?MaxItems=0&Marker=zz"),
        ("GET", "/aliases?FunctionVersion=x&MaxItems=-1"),
        ("GET", "?Qualifier=%24nope"),
        ("GET", "/configuration?Qualifier="),
        ("DELETE", "?Qualifier=-1"),
        ("POST", "/invocations?Qualifier=a%20b"),
        ("GET", "/aliases/1"),
        ("DELETE", "/aliases/" + "a" * 200),
    ):
        if _status(base + path, method, b"{}" if method == "POST" else None) >= 500:
            failures.append((method, path))
    assert not failures, failures
