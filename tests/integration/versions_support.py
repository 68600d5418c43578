"""What the version and alias tests share: handlers that say which code ran, and helpers."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from headwater.testing import HeadwaterServer
from tests.conftest import ROLE, make_zip, unique

ACCOUNT = "000000000000"

# Returns which code ran and how Lambda described the invocation to it.
TAGGED = """
import os

def handler(event, context):
    return {{
        "code": "{tag}",
        "version": context.function_version,
        "env_version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
        "arn": context.invoked_function_arn,
        "pid": os.getpid(),
        "colour": os.environ.get("COLOUR"),
    }}
"""

# Signals that it started, then blocks on a FIFO until the test opens it: two of these running
# at once prove two versions are served at the same time.
GATED = """
import os

def handler(event, context):
    open(event["started"], "w").close()
    with open(event["gate"]) as gate:
        gate.read()
    return {{"code": "{tag}", "version": context.function_version, "pid": os.getpid()}}
"""

# Records each batch with the code that handled it.
RECORDER = """
import json, os

def handler(event, context):
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
    line = {{"code": "{tag}", "arn": context.invoked_function_arn, "keys": keys}}
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(line) + "\\n")
"""


MADE: list[str] = []


def arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"


def create(lam: Any, code: str, *, name: str | None = None, **extra: Any) -> str:
    name = name or unique("fn")
    MADE.append(name)
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})},
        **extra,
    )
    return name


def set_code(lam: Any, name: str, code: str) -> dict[str, Any]:
    out: dict[str, Any] = lam.update_function_code(
        FunctionName=name, ZipFile=make_zip({"app.py": code})
    )
    return out


def invoke(lam: Any, name: str, payload: Any = None, **extra: Any) -> tuple[dict[str, Any], Any]:
    out = lam.invoke(FunctionName=name, Payload=json.dumps(payload or {}), **extra)
    return out, json.loads(out["Payload"].read() or b"null")


def error(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    response = err.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def two_versions(lam: Any) -> str:
    """A function whose version 1 runs code "one" and whose $LATEST (and version 2) runs "two"."""
    name = create(lam, TAGGED.format(tag="one"))
    lam.publish_version(FunctionName=name)
    set_code(lam, name, TAGGED.format(tag="two"))
    lam.publish_version(FunctionName=name)
    return name


def raw_lambda(server: HeadwaterServer) -> Any:
    """A Lambda client that skips botocore's own checks, to see the server's validation."""
    return boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


def delete_made(lam: Any) -> None:
    """The session server is shared: functions made by a test go afterwards, and with them
    every version's warm workers."""
    while MADE:
        # Deleted by the test already, or made on another server: nothing to do.
        with contextlib.suppress(ClientError):
            lam.delete_function(FunctionName=MADE.pop())
