"""InvocationType=Event: the event invoke settings (Put/Get/Update/Delete/List
FunctionEventInvokeConfig), retries on the server's clock, and the invocation records sent to
OnSuccess/OnFailure destinations. Real boto3, a real server, real worker processes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import HeadwaterServer
from tests.conftest import create_function, create_queue, unique, wait_until

ACCOUNT = "000000000000"

# Appends each attempt's request id to $OUT, then fails or answers as the event says.
RECORDING = """
import os

def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(context.aws_request_id + "\\n")
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"seen": event}
"""


def _arn(name: str, qualifier: str | None = None) -> str:
    base = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def _attempts(out: Path) -> list[str]:
    return out.read_text().split() if out.exists() else []


def _one_message(sqs: Any, url: str) -> dict[str, Any]:
    messages = wait_until(lambda: sqs.receive_message(QueueUrl=url).get("Messages"))
    assert len(messages) == 1
    body: dict[str, Any] = json.loads(messages[0]["Body"])
    return body


@pytest.fixture(scope="module")
def sqs(server: HeadwaterServer) -> Any:
    return server.client("sqs")


@pytest.fixture
def recorder(lam: Any, tmp_path: Path) -> tuple[str, Path]:
    out = tmp_path / "attempts.txt"
    name = create_function(lam, RECORDING, env={"OUT": str(out)})
    yield name, out
    lam.delete_function(FunctionName=name)


def _error(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


# -- the settings ---------------------------------------------------------------------------


def test_settings_round_trip_with_lambdas_shapes(
    lam: Any, sqs: Any, recorder: tuple[str, Path]
) -> None:
    name, _out = recorder
    _url, queue_arn = create_queue(sqs, unique("async-dlq"))
    put = lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    assert put["FunctionArn"] == _arn(name, "$LATEST")
    assert put["MaximumRetryAttempts"] == 1
    assert "MaximumEventAgeInSeconds" not in put  # never set: left out
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {"Destination": queue_arn}}

    # Update changes only what it names; Put replaces everything.
    updated = lam.update_function_event_invoke_config(
        FunctionName=name, MaximumEventAgeInSeconds=120
    )
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (1, 120)
    assert updated["DestinationConfig"]["OnFailure"] == {"Destination": queue_arn}
    got = lam.get_function_event_invoke_config(FunctionName=name)
    assert got["MaximumEventAgeInSeconds"] == 120
    replaced = lam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60)
    assert "MaximumRetryAttempts" not in replaced
    assert replaced["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}

    lam.publish_version(FunctionName=name)
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="1", MaximumRetryAttempts=0)
    listed = lam.list_function_event_invoke_configs(FunctionName=name)
    arns = [c["FunctionArn"] for c in listed["FunctionEventInvokeConfigs"]]
    assert arns == [_arn(name, "$LATEST"), _arn(name, "1")]
    page = lam.list_function_event_invoke_configs(FunctionName=name, MaxItems=1)
    assert len(page["FunctionEventInvokeConfigs"]) == 1
    rest = lam.list_function_event_invoke_configs(FunctionName=name, Marker=page["NextMarker"])
    assert [c["FunctionArn"] for c in rest["FunctionEventInvokeConfigs"]] == [_arn(name, "1")]

    lam.delete_function_event_invoke_config(FunctionName=name, Qualifier="1")
    code, message = _error(lam.get_function_event_invoke_config, FunctionName=name, Qualifier="1")
    assert code == "ResourceNotFoundException"
    assert message == f"The function {_arn(name, '1')} doesn't have an EventInvokeConfig"


def test_settings_errors(lam: Any, raw: Any, recorder: tuple[str, Path]) -> None:
    name, _out = recorder
    missing = f"The function {_arn(name, '$LATEST')} doesn't have an EventInvokeConfig"
    assert _error(lam.get_function_event_invoke_config, FunctionName=name) == (
        "ResourceNotFoundException",
        missing,
    )
    assert _error(lam.delete_function_event_invoke_config, FunctionName=name)[1] == missing
    assert _error(
        lam.update_function_event_invoke_config, FunctionName=name, MaximumRetryAttempts=1
    ) == ("ResourceNotFoundException", missing)
    assert _error(raw.put_function_event_invoke_config, FunctionName=name) == (
        "InvalidParameterValueException",
        "You must specify at least one of error handling or destination setting.",
    )
    code, message = _error(
        raw.put_function_event_invoke_config, FunctionName=name, MaximumRetryAttempts=3
    )
    assert code == "ValidationException"
    assert "at 'maximumRetryAttempts' failed to satisfy constraint" in message
    code, _message = _error(
        raw.put_function_event_invoke_config, FunctionName=name, MaximumEventAgeInSeconds=59
    )
    assert code == "ValidationException"
    assert _error(
        lam.put_function_event_invoke_config,
        FunctionName=name,
        Qualifier="9",
        MaximumRetryAttempts=1,
    ) == ("ResourceNotFoundException", "The function doesn't exist.")
    assert _error(
        lam.put_function_event_invoke_config,
        FunctionName=name,
        DestinationConfig={"OnSuccess": {"Destination": _arn(name)}},
    ) == (
        "InvalidParameterValueException",
        "You can't specify the function as a destination for itself.",
    )
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t"
    assert _error(
        lam.put_function_event_invoke_config,
        FunctionName=name,
        DestinationConfig={"OnFailure": {"Destination": table}},
    ) == (
        "InvalidParameterValueException",
        "The provided destination config DestinationConfig(onSuccess=null, "
        f"onFailure=OnFailure(destination={table})) is invalid.",
    )


def test_deleting_the_function_removes_its_settings(lam: Any, tmp_path: Path) -> None:
    name = create_function(lam, RECORDING, env={"OUT": str(tmp_path / "x")})
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    lam.delete_function(FunctionName=name)
    create_function(lam, RECORDING, env={"OUT": str(tmp_path / "x")}, name=name)
    try:
        code, _message = _error(lam.get_function_event_invoke_config, FunctionName=name)
        assert code == "ResourceNotFoundException"
    finally:
        lam.delete_function(FunctionName=name)


# -- retries and records --------------------------------------------------------------------


def test_failing_event_is_retried_twice_on_the_clock_then_recorded(
    server: HeadwaterServer, lam: Any, sqs: Any, recorder: tuple[str, Path]
) -> None:
    name, out = recorder
    url, queue_arn = create_queue(sqs, unique("async-failed"))
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": queue_arn}}
    )
    answer = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"fail": true}')
    assert answer["StatusCode"] == 202
    wait_until(lambda: len(_attempts(out)) == 1)

    server.advance_clock(59)  # the first retry waits one minute
    assert len(_attempts(out)) == 1
    server.advance_clock(1)
    wait_until(lambda: len(_attempts(out)) == 2)
    server.advance_clock(119)  # the second waits two
    assert len(_attempts(out)) == 2
    server.advance_clock(1)
    wait_until(lambda: len(_attempts(out)) == 3)

    record = _one_message(sqs, url)
    request_ids = set(_attempts(out))
    assert len(request_ids) == 1  # every attempt is the same request
    assert list(record) == [
        "version",
        "timestamp",
        "requestContext",
        "requestPayload",
        "responseContext",
        "responsePayload",
    ]
    assert record["version"] == "1.0"
    assert record["requestContext"] == {
        "requestId": request_ids.pop(),
        "functionArn": _arn(name, "$LATEST"),
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == {"fail": True}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorType"] == "ValueError"
    server.advance_clock(600)
    assert len(_attempts(out)) == 3  # no more attempts after the record


def test_no_retries_when_maximum_retry_attempts_is_zero(
    lam: Any, sqs: Any, recorder: tuple[str, Path]
) -> None:
    name, out = recorder
    url, queue_arn = create_queue(sqs, unique("async-noretry"))
    lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"fail": true}')
    record = _one_message(sqs, url)
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert len(_attempts(out)) == 1


def test_an_event_too_old_for_its_retry_is_discarded(
    server: HeadwaterServer, lam: Any, sqs: Any, recorder: tuple[str, Path]
) -> None:
    name, out = recorder
    url, queue_arn = create_queue(sqs, unique("async-old"))
    lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumEventAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"fail": true}')
    wait_until(lambda: len(_attempts(out)) == 1)
    server.advance_clock(61)
    record = _one_message(sqs, url)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert len(_attempts(out)) == 1


def test_success_goes_to_on_success_of_the_alias_invoked(
    lam: Any, sqs: Any, recorder: tuple[str, Path]
) -> None:
    name, _out = recorder
    url, queue_arn = create_queue(sqs, unique("async-ok"))
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.put_function_event_invoke_config(
        FunctionName=name,
        Qualifier="live",
        DestinationConfig={"OnSuccess": {"Destination": queue_arn}},
    )
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 1}')  # $LATEST: none
    lam.invoke(FunctionName=f"{name}:live", InvocationType="Event", Payload=b'{"n": 2}')
    record = _one_message(sqs, url)
    assert record["requestContext"]["functionArn"] == _arn(name, "live")
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestPayload"] == {"n": 2}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "1"}
    assert record["responsePayload"] == {"seen": {"n": 2}}


def test_a_function_destination_is_invoked_with_the_record(
    lam: Any, tmp_path: Path, recorder: tuple[str, Path]
) -> None:
    name, _out = recorder
    received = tmp_path / "received.json"
    catcher = create_function(
        lam,
        "import json, os\n"
        "def handler(event, context):\n"
        "    open(os.environ['OUT'], 'w').write(json.dumps(event))\n",
        env={"OUT": str(received)},
    )
    try:
        lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": _arn(catcher)}}
        )
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 3}')
        wait_until(lambda: received.exists() and received.read_text())
        record = json.loads(received.read_text())
        assert record["requestContext"]["condition"] == "Success"
        assert record["responsePayload"] == {"seen": {"n": 3}}
    finally:
        lam.delete_function(FunctionName=catcher)


def test_an_event_payload_over_one_megabyte_is_refused(
    lam: Any, recorder: tuple[str, Path]
) -> None:
    name, out = recorder
    big = json.dumps({"pad": "x" * 1_048_576}).encode()
    code, _message = _error(lam.invoke, FunctionName=name, InvocationType="Event", Payload=big)
    assert code == "RequestEntityTooLargeException"  # as for a RequestResponse over 6 MB
    assert _attempts(out) == []


def test_reserved_concurrency_zero_sends_events_to_on_failure_unrun(
    lam: Any, sqs: Any, recorder: tuple[str, Path]
) -> None:
    """AWS documents this: with reserved concurrency zero, asynchronous events go to the
    on-failure destination without retries."""
    name, out = recorder
    url, queue_arn = create_queue(sqs, unique("async-zero"))
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": queue_arn}}
    )
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 4}')
    record = _one_message(sqs, url)
    assert record["requestPayload"] == {"n": 4}
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in record  # nothing ran
    assert _attempts(out) == []
