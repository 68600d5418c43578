"""Shared fixtures: a real Headwater server on 127.0.0.1 and real boto3 clients."""

from __future__ import annotations

import io
import re
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from headwater.testing import HeadwaterServer

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


@pytest.fixture(scope="session")
def server() -> Iterator[HeadwaterServer]:
    with HeadwaterServer(in_memory=True) as running:
        yield running


@pytest.fixture(scope="session")
def ddb(server: HeadwaterServer) -> Any:
    return server.client("dynamodb")


@pytest.fixture(scope="session")
def raw_ddb(server: HeadwaterServer) -> Any:
    """A client that skips botocore's own parameter checks, to see the server's errors."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="session")
def streams(server: HeadwaterServer) -> Any:
    return server.client("dynamodbstreams")


@pytest.fixture(scope="session")
def lam(server: HeadwaterServer) -> Any:
    return server.client("lambda")


def make_zip(files: dict[str, str]) -> bytes:
    """The same files always give the same bytes (so the same CodeSha256): every entry carries
    one fixed timestamp, not the time of the call (zip times tick every 2 s, so two zips of the
    same code made a moment apart could differ)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, text)
    return buffer.getvalue()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def metric_value(server: HeadwaterServer, name: str, **labels: str) -> float:
    """One sample of ``/_headwater/metrics`` (0 when it has not been recorded yet)."""
    with urllib.request.urlopen(f"{server.url}/_headwater/metrics", timeout=10) as response:
        text = response.read().decode()
    label_text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    found = re.search(rf"^{name}\{{{re.escape(label_text)}\}} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy (for asynchronous delivery)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def create_stream_table(
    ddb: Any, view_type: str = "NEW_AND_OLD_IMAGES", range_key: bool = False
) -> tuple[str, str]:
    name = unique("tbl")
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "sk", "AttributeType": "N"})
    out = ddb.create_table(
        TableName=name,
        KeySchema=keys,
        AttributeDefinitions=attrs,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type},
    )
    return name, out["TableDescription"]["LatestStreamArn"]


def create_function(
    lam: Any,
    code: str,
    *,
    timeout: int = 3,
    env: dict[str, str] | None = None,
    name: str | None = None,
) -> str:
    name = name or unique("fn")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})},
        Timeout=timeout,
        Environment={"Variables": env or {}},
    )
    return name


def create_table(ddb: Any, *, range_key: bool = False) -> str:
    """A pay-per-request table keyed on pk (S), with sk (N) as its range key if asked."""
    name = unique("tbl")
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "sk", "AttributeType": "N"})
    ddb.create_table(
        TableName=name, KeySchema=keys, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST"
    )
    return name


@pytest.fixture
def new_table(ddb: Any) -> Iterator[Callable[..., str]]:
    """Make tables for one test and drop them after it: the session server is shared, and
    ListTables pages stay short."""
    made: list[str] = []

    def make(*, range_key: bool = False) -> str:
        made.append(create_table(ddb, range_key=range_key))
        return made[-1]

    yield make
    for name in made:
        ddb.delete_table(TableName=name)


def create_queue(sqs: Any, name: str) -> tuple[str, str]:
    """A local SQS queue (say, a mapping's on-failure destination): (its URL, its ARN)."""
    url = str(sqs.create_queue(QueueName=name)["QueueUrl"])
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, str(attributes["Attributes"]["QueueArn"])


@pytest.fixture
def stream_table(ddb: Any) -> Iterator[tuple[str, str]]:
    """A hash-key table with a NEW_AND_OLD_IMAGES stream, deleted afterwards: (name, ARN)."""
    name, arn = create_stream_table(ddb)
    yield name, arn
    ddb.delete_table(TableName=name)


@pytest.fixture(scope="module")
def raw(server: HeadwaterServer) -> Any:
    """A Lambda client that skips botocore's own checks, to see the server's validation."""
    from tests.integration.versions_support import raw_lambda

    return raw_lambda(server)


@pytest.fixture
def delete_made_functions(lam: Any) -> Iterator[None]:
    """Deletes, after the test, the functions versions_support.create made."""
    from tests.integration.versions_support import delete_made

    yield
    delete_made(lam)
