"""Lambda functions through real boto3: CRUD, Invoke, warm workers, errors, logs."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROLE, create_function, make_zip, unique, wait_until

ECHO = """
import os
COUNT = 0

def handler(event, context):
    global COUNT
    COUNT += 1
    print("hello from", context.function_name)
    return {
        "event": event,
        "count": COUNT,
        "pid": os.getpid(),
        "name": context.function_name,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "request_id": context.aws_request_id,
        "remaining": context.get_remaining_time_in_millis(),
        "log_group": context.log_group_name,
        "env": os.environ.get("GREETING"),
        "region": os.environ.get("AWS_REGION"),
    }
"""


def _invoke(lam: Any, name: str, payload: Any = None, **extra: Any) -> tuple[dict[str, Any], Any]:
    out = lam.invoke(FunctionName=name, Payload=json.dumps(payload or {}), **extra)
    return out, json.loads(out["Payload"].read() or b"null")


def test_create_get_list_delete(lam: Any) -> None:
    name = unique("fn")
    created = lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": ECHO})},
        Timeout=7,
        MemorySize=256,
        Environment={"Variables": {"GREETING": "hi"}},
    )
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert created["Runtime"] == "python3.11"
    assert created["Timeout"] == 7 and created["MemorySize"] == 256
    assert created["State"] == "Active"
    assert len(base64.b64decode(created["CodeSha256"])) == 32
    got = lam.get_function(FunctionName=name)
    assert got["Configuration"]["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert got["Code"]["Location"].endswith("code.zip")
    pages = lam.get_paginator("list_functions").paginate()  # the session server holds many
    assert name in [f["FunctionName"] for page in pages for f in page["Functions"]]
    lam.delete_function(FunctionName=name)
    with pytest.raises(ClientError) as err:
        lam.get_function(FunctionName=name)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_invoke_runs_the_handler_with_a_context(lam: Any) -> None:
    name = create_function(lam, ECHO, env={"GREETING": "hi"})
    out, body = _invoke(lam, name, {"x": 1})
    assert out["StatusCode"] == 200
    assert "FunctionError" not in out
    assert body["event"] == {"x": 1}
    assert body["name"] == name
    assert body["arn"].endswith(f":function:{name}")
    assert body["memory"] == "128"
    assert body["log_group"] == f"/aws/lambda/{name}"
    assert 0 < body["remaining"] <= 3000
    assert body["env"] == "hi"
    assert body["region"] == "us-east-1"


def test_worker_stays_warm(lam: Any) -> None:
    name = create_function(lam, ECHO)
    seen: dict[int, list[int]] = {}
    request_ids = set()
    for _ in range(4):
        _, body = _invoke(lam, name)
        seen.setdefault(body["pid"], []).append(body["count"])
        request_ids.add(body["request_id"])
    # At most the prewarmed worker plus one started by the first invoke; each imported the
    # handler once and kept its module state across invocations.
    assert len(seen) <= 2
    for counts in seen.values():
        assert counts == list(range(1, len(counts) + 1))
    assert max(len(c) for c in seen.values()) >= 2
    assert len(request_ids) == 4


def test_handler_exception_is_an_unhandled_function_error(lam: Any) -> None:
    name = create_function(lam, "def handler(event, context):\n    raise KeyError('boom')\n")
    out, body = _invoke(lam, name)
    assert out["StatusCode"] == 200
    assert out["FunctionError"] == "Unhandled"
    assert body["errorType"] == "KeyError"
    assert body["errorMessage"] == "'boom'"
    assert isinstance(body["stackTrace"], list)


# A failing invocation notes its worker's pid first, so the test knows which process must go
# (a prewarmed second worker may serve the other invocations).
DOOMED = """
import os, pathlib

def handler(event, context):
    if event.get("fail"):
        pathlib.Path(os.environ["PIDFILE"]).write_text(str(os.getpid()))
        if event["fail"] == "hang":
            while True:
                pass
        os._exit(3)
    return os.getpid()
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_timeout_kills_the_worker_and_the_next_invoke_works(lam: Any, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    name = create_function(lam, DOOMED, timeout=1, env={"PIDFILE": str(pidfile)})
    _invoke(lam, name)
    out, body = _invoke(lam, name, {"fail": "hang"})
    assert out["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in body["errorMessage"]
    doomed = int(pidfile.read_text())
    wait_until(lambda: not _alive(doomed))
    out, pid_after = _invoke(lam, name)
    assert "FunctionError" not in out
    assert pid_after != doomed


def test_crashing_handler_yields_an_error_and_a_fresh_worker(lam: Any, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    name = create_function(lam, DOOMED, env={"PIDFILE": str(pidfile)})
    _invoke(lam, name)
    out, body = _invoke(lam, name, {"fail": "exit"})
    assert out["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    doomed = int(pidfile.read_text())
    out, pid_after = _invoke(lam, name)
    assert "FunctionError" not in out
    assert pid_after != doomed


def test_log_type_tail_returns_the_log(lam: Any) -> None:
    name = create_function(lam, ECHO)
    out = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    log = base64.b64decode(out["LogResult"]).decode()
    assert "START RequestId:" in log
    assert f"hello from {name}" in log
    assert "REPORT RequestId:" in log


def test_handler_output_reaches_the_server_log(server: Any, lam: Any) -> None:
    marker = unique("printed")
    name = create_function(lam, f"def handler(event, context):\n    print('{marker}')\n")
    start = len(server.output)
    _invoke(lam, name)
    server.wait_for_output(r"START RequestId: [0-9a-f-]{36} Version: \$LATEST", start=start)
    server.wait_for_output(marker, start=start)
    report = server.wait_for_output(r"REPORT RequestId: .*", start=start).group(0)
    assert "\tDuration: " in report and "\tBilled Duration: " in report


def test_update_function_code_replaces_the_handler(lam: Any) -> None:
    name = create_function(lam, "def handler(event, context):\n    return 'v1'\n")
    assert _invoke(lam, name)[1] == "v1"
    updated = lam.update_function_code(
        FunctionName=name, ZipFile=make_zip({"app.py": "def handler(e, c):\n    return 'v2'\n"})
    )
    assert updated["FunctionName"] == name
    assert _invoke(lam, name)[1] == "v2"


def test_import_error_is_reported(lam: Any) -> None:
    name = create_function(lam, "import not_a_module\ndef handler(e, c):\n    return 1\n")
    out, body = _invoke(lam, name)
    assert out["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"


def test_function_errors(lam: Any) -> None:
    name = create_function(lam, ECHO)
    with pytest.raises(ClientError) as err:
        create_function(lam, ECHO, name=name)
    assert err.value.response["Error"]["Code"] == "ResourceConflictException"
    with pytest.raises(ClientError) as err:
        lam.create_function(
            FunctionName=unique("fn"),
            Runtime="nodejs20.x",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": make_zip({"a.js": ""})},
        )
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as err:
        lam.create_function(
            FunctionName=unique("fn"),
            Runtime="python3.11",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": b"not a zip"},
        )
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "Could not unzip uploaded file" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName="no-such-function", Payload=b"{}")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_invoke_payload_over_six_megabytes_is_refused(lam: Any) -> None:
    name = create_function(lam, ECHO)
    payload = json.dumps({"blob": "x" * (6 * 1024 * 1024)})
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName=name, Payload=payload)
    assert err.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


SLOW = """
import os, pathlib, time

def handler(event, context):
    if event.get("hold"):
        pathlib.Path(os.environ["STARTED"]).write_text("1")
        deadline = time.time() + 10
        while not os.path.exists(os.environ["RELEASE"]) and time.time() < deadline:
            time.sleep(0.01)
    return "done"
"""


def test_reserved_concurrency_throttles_and_can_be_removed(lam: Any, tmp_path: Path) -> None:
    import threading

    started, release = tmp_path / "started", tmp_path / "release"
    name = create_function(
        lam, SLOW, timeout=20, env={"STARTED": str(started), "RELEASE": str(release)}
    )
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)
    out = lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    assert out["ReservedConcurrentExecutions"] == 1
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 1}
    busy = threading.Thread(target=lambda: _invoke(lam, name, {"hold": True}))
    busy.start()
    wait_until(started.exists)  # the first invocation holds the only slot
    try:
        with pytest.raises(ClientError) as err:
            _invoke(lam, name)
    finally:
        release.write_text("1")
        busy.join()
    assert err.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert err.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert _invoke(lam, name)[1] == "done"  # the slot is free again
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError):
        _invoke(lam, name)
    lam.delete_function_concurrency(FunctionName=name)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)
    assert _invoke(lam, name)[1] == "done"


def test_idle_workers_end_after_worker_idle_seconds(tmp_path: Path) -> None:
    from headwater.testing import HeadwaterServer

    with HeadwaterServer(in_memory=True, extra_args=["--worker-idle-seconds", "30"]) as server:
        lam = server.client("lambda")
        name = create_function(lam, ECHO)

        def report() -> str:
            out = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
            log = base64.b64decode(out["LogResult"]).decode()
            return next(line for line in log.splitlines() if line.startswith("REPORT"))

        report()
        assert "Init Duration" not in report()  # warm
        server.advance_clock(31)  # unused for 31 s of server clock: the worker is ended
        assert "Init Duration" in report()  # so this invocation starts cold
        assert "Init Duration" not in report()


def test_an_out_of_range_configuration_update_is_refused_and_not_stored(lam: Any) -> None:
    # Timeout above 900 passes botocore's model (which allows 5400) but not Lambda's own check;
    # the refused update must leave the function as it was and invocable.
    name = create_function(lam, ECHO, timeout=5)
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName=name, Timeout=901)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName=name, MemorySize=10241)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    config = lam.get_function_configuration(FunctionName=name)
    assert (config["Timeout"], config["MemorySize"]) == (5, 128)
    out, body = _invoke(lam, name, {"x": 1})
    assert "FunctionError" not in out
    assert body["event"] == {"x": 1}
