"""What one invocation returns and logs, on real worker processes."""

from __future__ import annotations

import json
import re
import time

from headwater.functions.pool import WorkerPool

from .conftest import MakeFunction, Sink

CONTEXT_HANDLER = """
import time

def handler(event, context):
    first = context.get_remaining_time_in_millis()
    time.sleep(0.05)
    second = context.get_remaining_time_in_millis()
    try:
        context.identity.cognito_identity_id
        identity = "set"
    except AttributeError:
        identity = "unset"
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "client_context": context.client_context,
        "identity": identity,
        "remaining": [first, second],
    }
"""


def test_returned_value_is_the_json_payload(pool: WorkerPool, make_function: MakeFunction) -> None:
    spec = make_function("def handler(event, context):\n    return {'got': event['n'] + 1}\n")
    result = pool.invoke(spec, b'{"n": 41}')
    assert result.status == "ok"
    assert json.loads(result.payload) == {"got": 42}
    assert result.function_error is None
    assert result.init_duration_ms is not None and result.init_duration_ms > 0


def test_context_has_lambdas_fields(pool: WorkerPool, make_function: MakeFunction) -> None:
    spec = make_function(CONTEXT_HANDLER, name="ctx-fn", memory_size=256, timeout=7)
    arn = spec.arn + ":live"
    result = pool.invoke(spec, b"{}", request_id="req-123", invoked_arn=arn)
    context = json.loads(result.payload)
    assert context["function_name"] == "ctx-fn"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == arn
    assert context["memory_limit_in_mb"] == "256"  # a string, as in AWS's runtime
    assert context["aws_request_id"] == "req-123"
    assert context["log_group_name"] == "/aws/lambda/ctx-fn"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", context["log_stream_name"])
    assert context["client_context"] is None
    assert context["identity"] == "unset"
    first, second = context["remaining"]
    assert 6000 < first <= 7000
    assert second <= first - 40


def test_handler_exception_is_a_function_error_in_aws_shape(
    pool: WorkerPool, make_function: MakeFunction, sink: Sink
) -> None:
    spec = make_function(
        """
        import os

        def handler(event, context):
            if event.get("fail"):
                return {}["missing"]
            return os.getpid()
        """
    )
    pid = json.loads(pool.invoke(spec, b"{}").payload)
    result = pool.invoke(spec, b'{"fail": true}', request_id="r-err")
    assert result.status == "function_error"
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorType"] == "KeyError"
    assert error["errorMessage"] == "'missing'"
    assert error["requestId"] == "r-err"
    assert len(error["stackTrace"]) == 1
    assert 'app.py", line 6, in handler' in error["stackTrace"][0]
    assert sink.between("r-err")[:2] == [
        "[ERROR] KeyError: 'missing'",
        "Traceback (most recent call last):",
    ]
    assert json.loads(pool.invoke(spec, b"{}").payload) == pid  # still warm


def test_missing_module_is_an_import_module_error(
    pool: WorkerPool, make_function: MakeFunction
) -> None:
    spec = make_function("x = 1\n", handler="nothere.handler")
    result = pool.invoke(spec, b"{}")
    assert result.status == "function_error"
    error = json.loads(result.payload)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == "Unable to import module 'nothere': No module named 'nothere'"


def test_missing_function_is_handler_not_found(
    pool: WorkerPool, make_function: MakeFunction
) -> None:
    result = pool.invoke(make_function("x = 1\n", handler="app.func"), b"{}")
    error = json.loads(result.payload)
    assert (error["errorType"], error["errorMessage"]) == (
        "Runtime.HandlerNotFound",
        "Handler 'func' missing on module 'app'",
    )


def test_handler_in_a_package_directory(pool: WorkerPool, make_function: MakeFunction) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/sub/__init__.py": "",
        "pkg/sub/mod.py": "def func(event, context):\n    return 'deep'\n",
    }
    for handler in ("pkg/sub/mod.func", "pkg.sub.mod.func"):
        result = pool.invoke(make_function("", handler=handler, files=files), b"{}")
        assert (result.status, result.payload) == ("ok", b'"deep"')


def test_unserialisable_return_is_a_marshal_error(
    pool: WorkerPool, make_function: MakeFunction
) -> None:
    result = pool.invoke(make_function("def handler(e, c):\n    return {1, 2}\n"), b"{}")
    assert result.status == "function_error"
    error = json.loads(result.payload)
    assert error["errorType"] == "Runtime.MarshalError"
    assert error["errorMessage"] == (
        "Unable to marshal response: Object of type set is not JSON serializable"
    )


def test_timeout_kills_the_worker_and_the_next_invoke_works(
    pool: WorkerPool, make_function: MakeFunction, sink: Sink
) -> None:
    spec = make_function(
        """
        import os

        def handler(event, context):
            if event.get("hang"):
                print("about to hang")
                while True:
                    pass
            return os.getpid()
        """,
        timeout=1,
    )
    pid = json.loads(pool.invoke(spec, b"{}").payload)
    started = time.monotonic()
    result = pool.invoke(spec, b'{"hang": true}', request_id="r-slow")
    assert time.monotonic() - started < 1.6
    assert result.status == "timeout"
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorMessage": "RequestId: r-slow Error: Task timed out after 1.00 seconds",
        "errorType": "Sandbox.Timedout",
    }
    own_lines = sink.between("r-slow")
    assert own_lines[0] == "about to hang"
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z r-slow Task timed out after 1\.00 seconds",
        own_lines[1],
    )
    again = pool.invoke(spec, b"{}")
    assert again.status == "ok"
    assert json.loads(again.payload) != pid


def test_a_dying_worker_is_a_crash_and_the_next_invoke_works(
    pool: WorkerPool, make_function: MakeFunction
) -> None:
    spec = make_function(
        """
        import os, signal, sys

        def handler(event, context):
            how = event.get("die")
            if how == "exit":
                os._exit(3)
            if how == "sys.exit":
                sys.exit(2)
            if how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            return "alive"
        """
    )
    for how, reason in [
        ("exit", "Runtime exited with error: exit status 3"),
        ("sys.exit", "Runtime exited with error: exit status 2"),
        ("kill", "Runtime exited with error: signal: killed"),
    ]:
        result = pool.invoke(spec, json.dumps({"die": how}).encode(), request_id=f"r-{how}")
        assert result.status == "crash"
        assert result.function_error == "Unhandled"
        assert json.loads(result.payload) == {
            "errorMessage": f"RequestId: r-{how} Error: {reason}",
            "errorType": "Runtime.ExitError",
        }
        assert pool.invoke(spec, b"{}").payload == b'"alive"'


def test_output_reaches_the_sink_between_start_and_end(
    pool: WorkerPool, make_function: MakeFunction, sink: Sink
) -> None:
    spec = make_function(
        """
        import logging, os, sys

        print("module loaded")

        def handler(event, context):
            print("from print")
            sys.stderr.write("from stderr\\n")
            logging.getLogger().warning("from logging")
            os.write(1, b"from fd 1\\n")
            os.write(2, b"from fd 2\\n")
            print("no newline", end="")
            return None
        """,
        memory_size=512,
    )
    result = pool.invoke(spec, b"{}", request_id="r-logs")
    lines = sink.between("r-logs")
    assert lines[:2] == ["from print", "from stderr"]
    assert re.fullmatch(r"\[WARNING\]\t\S+Z\tr-logs\tfrom logging", lines[2])
    assert lines[3:] == ["from fd 1", "from fd 2", "no newline"]
    assert (
        "module loaded"
        in sink.lines[: sink.lines.index("START RequestId: r-logs Version: $LATEST")]
    )
    report = sink.lines[-1]
    fields = report.split("\t")
    assert fields[0] == "REPORT RequestId: r-logs"
    assert re.fullmatch(r"Duration: \d+\.\d\d ms", fields[1])
    assert re.fullmatch(r"Billed Duration: \d+ ms", fields[2])
    assert fields[3] == "Memory Size: 512 MB"
    assert re.fullmatch(r"Max Memory Used: \d+ MB", fields[4])
    assert re.fullmatch(r"Init Duration: \d+\.\d\d ms", fields[5])
    assert sink.lines[-2] == "END RequestId: r-logs"
    assert result.log_tail.endswith(report + "\n")
    assert "from fd 2\nno newline\nEND RequestId: r-logs\n" in result.log_tail


def test_environment_is_the_functions_plus_lambdas(
    pool: WorkerPool, make_function: MakeFunction
) -> None:
    spec = make_function(
        """
        import os, time

        def handler(event, context):
            names = ["GREETING", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                     "AWS_LAMBDA_FUNCTION_VERSION", "AWS_REGION", "AWS_DEFAULT_REGION", "_HANDLER",
                     "LAMBDA_TASK_ROOT", "AWS_EXECUTION_ENV", "TZ", "AWS_ENDPOINT_URL",
                     "AWS_LAMBDA_LOG_GROUP_NAME"]
            values = {name: os.environ.get(name) for name in names}
            values["cwd"] = os.getcwd()
            values["utc"] = time.localtime().tm_gmtoff == 0
            return values
        """,
        name="env-fn",
        region="eu-west-1",
        environment={"GREETING": "hello"},
    )
    values = json.loads(pool.invoke(spec, b"{}").payload)
    assert values == {
        "GREETING": "hello",
        "AWS_LAMBDA_FUNCTION_NAME": "env-fn",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "_HANDLER": "app.handler",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "TZ": ":UTC",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/env-fn",
        "cwd": str(spec.code_dir),
        "utc": True,
    }
