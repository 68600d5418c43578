"""Bad input gets a clear 4xx, never a 500: every implemented operation, every top-level
member, every JSON type in the wrong place, plus a few malformed documents."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import botocore.session
import pytest

from headwater.server.app import TARGETS

_AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0"
)
_WRONG_VALUES: list[Any] = [None, True, 0, -1, 1.5, "", "x" * 300, [], [{}], {}, {"S": "x"}]


def _post(url: str, target: str, body: bytes) -> int:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "X-Amz-Target": target,
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": _AUTH,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def _members(service: str, operation: str) -> list[str]:
    model = botocore.session.get_session().get_service_model(service)
    shape = model.operation_model(operation).input_shape
    return list(shape.members) if shape is not None else []


_SERVICES = {
    "DynamoDB_20120810": "dynamodb",
    "DynamoDBStreams_20120810": "dynamodbstreams",
    "AmazonSQS": "sqs",
    "GraniteServiceVersion20100801": "cloudwatch",
}
_CASES = [(_SERVICES[prefix], prefix, op) for prefix, ops in TARGETS.items() for op in ops]


@pytest.mark.parametrize(("service", "prefix", "operation"), _CASES)
def test_no_500_for_wrong_member_types(
    server: Any, ddb: Any, service: str, prefix: str, operation: str
) -> None:
    ddb.create_table(
        TableName="fuzz-table",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    ) if "fuzz-table" not in ddb.list_tables()["TableNames"] else None
    target = f"{prefix}.{operation}"
    base: dict[str, Any] = {"TableName": "fuzz-table"}
    statuses = []
    for member in _members(service, operation):
        for value in _WRONG_VALUES:
            body = json.dumps({**base, member: value}).encode()
            statuses.append((member, value, _post(server.url, target, body)))
    for body in (b"", b"[]", b"null", b"{", b'{"TableName": {"nested": [1, {"x": null}]}}'):
        statuses.append(("<document>", body, _post(server.url, target, body)))
    server_errors = [s for s in statuses if s[2] >= 500]
    assert not server_errors, server_errors


_BAD_ITEMS: list[Any] = [
    {"pk": {"S": "a"}, "x": {"N": "abc"}},
    {"pk": {"Q": 1}},
    {"pk": {"S": "a", "N": "1"}},
    {"pk": {"S": "a"}, "m": {"M": []}},
    {"pk": {"L": "x"}},
    {"pk": {"S": "a"}, "b": {"B": "!!"}},
    {"pk": {"S": "a"}, "s": {"SS": []}},
    {"pk": {"S": "a"}, "s": {"NS": ["1", "1"]}},
    {"pk": {"S": "a"}, "n": {"N": "1e999"}},
    {"pk": {"S": ""}},
    {"pk": {"S": "a"}, "": {"S": "x"}},
    {"pk": {"S": "a"}, "deep": json.loads('{"L": [' * 40 + "]}" * 40)},
]


@pytest.mark.parametrize("item", _BAD_ITEMS)
def test_no_500_for_malformed_items(server: Any, ddb: Any, item: Any) -> None:
    if "fuzz-items" not in ddb.list_tables()["TableNames"]:
        ddb.create_table(
            TableName="fuzz-items",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    for operation, body in (
        ("PutItem", {"TableName": "fuzz-items", "Item": item}),
        ("GetItem", {"TableName": "fuzz-items", "Key": item}),
        ("DeleteItem", {"TableName": "fuzz-items", "Key": item}),
        (
            "UpdateItem",
            {
                "TableName": "fuzz-items",
                "Key": {"pk": {"S": "a"}},
                "UpdateExpression": "SET v = :v",
                "ExpressionAttributeValues": {":v": item},
            },
        ),
    ):
        status = _post(server.url, f"DynamoDB_20120810.{operation}", json.dumps(body).encode())
        assert 400 <= status < 500, (operation, item, status)


def _request(url: str, method: str, body: bytes) -> int:
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


@pytest.mark.parametrize(
    ("operation", "method", "path"),
    [
        ("CreateFunction", "POST", "/2015-03-31/functions"),
        ("CreateEventSourceMapping", "POST", "/2015-03-31/event-source-mappings"),
        ("UpdateEventSourceMapping", "PUT", "/2015-03-31/event-source-mappings/nope"),
        ("UpdateFunctionConfiguration", "PUT", "/2015-03-31/functions/nope/configuration"),
        ("UpdateFunctionCode", "PUT", "/2015-03-31/functions/nope/code"),
    ],
)
def test_no_500_from_lambda_for_wrong_member_types(
    server: Any, operation: str, method: str, path: str
) -> None:
    base = {
        "FunctionName": "fuzz-fn",
        "Runtime": "python3.11",
        "Role": "arn:aws:iam::000000000000:role/r",
        "Handler": "app.handler",
        "EventSourceArn": "arn:aws:dynamodb:us-east-1:000000000000:table/x/stream/y",
        "StartingPosition": "LATEST",
    }
    failures = []
    for member in _members("lambda", operation):
        for value in _WRONG_VALUES:
            status = _request(
                server.url + path, method, json.dumps({**base, member: value}).encode()
            )
            if status >= 500:
                failures.append((member, value, status))
    for body in (b"", b"[]", b"null", b"{"):
        status = _request(server.url + path, method, body)
        if status >= 500:
            failures.append(("<document>", body, status))
    assert not failures, failures
