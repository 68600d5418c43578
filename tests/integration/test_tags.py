"""Table tags through real boto3: TagResource, UntagResource, ListTagsOfResource, CreateTable's
Tags, with AWS's rules and texts (errors.md §2.6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import HeadwaterServer
from tests.conftest import unique

ACCOUNT_ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/"


def make_table(ddb: Any, name: str | None = None, **extra: Any) -> str:
    name = name or unique("tags")
    out = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    arn: str = out["TableDescription"]["TableArn"]
    return arn


def tags_of(ddb: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]}


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_a_new_table_has_no_tags(ddb: Any) -> None:
    arn = make_table(ddb)
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == []


def test_tag_list_and_untag(ddb: Any) -> None:
    arn = make_table(ddb)
    ddb.tag_resource(
        ResourceArn=arn, Tags=[{"Key": "team", "Value": "data"}, {"Key": "env", "Value": "dev"}]
    )
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
    listed = ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert listed == [{"Key": "team", "Value": "data"}, {"Key": "env", "Value": "prod"}]
    ddb.untag_resource(ResourceArn=arn, TagKeys=["team", "never-set"])
    assert tags_of(ddb, arn) == {"env": "prod"}


def test_create_table_applies_its_tags(ddb: Any) -> None:
    arn = make_table(ddb, Tags=[{"Key": "owner", "Value": "me"}, {"Key": "empty", "Value": ""}])
    assert tags_of(ddb, arn) == {"owner": "me", "empty": ""}


def test_create_table_with_a_bad_tag_creates_nothing(ddb: Any) -> None:
    name = unique("tags")
    with pytest.raises(ClientError) as exc:
        make_table(ddb, name, Tags=[{"Key": "aws:owner", "Value": "me"}])
    assert error(exc) == (
        "ValidationException",
        "Tag Key cannot be prefixed with aws:, Key: aws:owner",
    )
    assert name not in ddb.list_tables()["TableNames"]


def test_letters_of_any_script_and_the_allowed_punctuation_are_accepted(ddb: Any) -> None:
    arn = make_table(ddb)
    tags = [{"Key": "ключ 表", "Value": "café a+b-c=d.e_f:g/h@i"}]
    ddb.tag_resource(ResourceArn=arn, Tags=tags)
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == tags


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ([{"Key": "k" * 129, "Value": "v"}], "The Tag Key provided is invalid, Key: " + "k" * 129),
        ([{"Key": "", "Value": "v"}], "The Tag Key provided is invalid, Key: "),
        ([{"Key": "a,b", "Value": "v"}], "The Tag Key provided is invalid, Key: a,b"),
        ([{"Value": "v"}], "The Tag Key provided is invalid, Key: null"),
        (
            [{"Key": "k", "Value": "v" * 257}],
            "The Tag Value provided is invalid, Value: " + "v" * 257,
        ),
        ([{"Key": "k", "Value": "100%"}], "The Tag Value provided is invalid, Value: 100%"),
        ([{"Key": "k"}], "The Tag Value provided is invalid, Value: null"),
        ([{"Key": "AWS:x", "Value": "v"}], "Tag Key cannot be prefixed with aws:, Key: AWS:x"),
        (
            [{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}],
            "Duplicate Tag Keys provided as input: Duplicate Tag Key found dup",
        ),
    ],
)
def test_bad_tags_are_refused_and_nothing_is_applied(
    raw_ddb: Any, ddb: Any, tags: list[dict[str, str]], message: str
) -> None:
    arn = make_table(ddb)
    with pytest.raises(ClientError) as exc:
        raw_ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "good", "Value": "g"}, *tags])
    assert error(exc) == ("ValidationException", message)
    assert tags_of(ddb, arn) == {}


def test_an_empty_tag_list_is_refused(raw_ddb: Any, ddb: Any) -> None:
    arn = make_table(ddb)
    with pytest.raises(ClientError) as tagged:
        raw_ddb.tag_resource(ResourceArn=arn, Tags=[])
    with pytest.raises(ClientError) as untagged:
        raw_ddb.untag_resource(ResourceArn=arn, TagKeys=[])
    assert error(tagged) == (
        "ValidationException",
        "Atleast one Tag needs to be provided as Input.",
    )
    assert error(untagged) == (
        "ValidationException",
        "Atleast one Tag Key needs to be provided as Input.",
    )


def test_a_table_holds_at_most_fifty_tags(ddb: Any) -> None:
    arn = make_table(ddb)
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k0", "Value": "overwritten"}])
    with pytest.raises(ClientError) as exc:
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k50", "Value": "v"}])
    assert error(exc) == (
        "ValidationException",
        "Number of Tags exceed the current limit for the provided ResourceArn",
    )
    tags = tags_of(ddb, arn)
    assert len(tags) == 50 and tags["k0"] == "overwritten"


def test_more_than_fifty_tags_in_one_request_are_refused(ddb: Any) -> None:
    arn = make_table(ddb)
    with pytest.raises(ClientError) as exc:
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    assert error(exc)[1] == "Number of Tags exceed the current limit for the provided ResourceArn"


def test_a_missing_resource_arn_is_an_invalid_table_arn(raw_ddb: Any) -> None:
    with pytest.raises(ClientError) as exc:
        raw_ddb.list_tags_of_resource()
    assert error(exc) == ("ValidationException", "Invalid TableArn")


def test_a_resource_arn_that_is_not_arn_shaped_is_access_denied(raw_ddb: Any) -> None:
    with pytest.raises(ClientError) as exc:
        raw_ddb.tag_resource(ResourceArn="abcd")
    assert error(exc) == (
        "AccessDeniedException",
        "User: arn:aws:iam::000000000000:root is not authorized to perform: "
        "dynamodb:TagResource on resource: abcd",
    )


def test_missing_tags_are_a_shape_error(raw_ddb: Any, ddb: Any) -> None:
    arn = make_table(ddb)
    with pytest.raises(ClientError) as exc:
        raw_ddb.tag_resource(ResourceArn=arn)
    assert error(exc) == (
        "ValidationException",
        "1 validation error detected: Value null at 'tags' failed to satisfy constraint: "
        "Member must not be null",
    )


@pytest.mark.parametrize("suffix", ["ab", "t/index/i"])
def test_an_arn_that_is_not_a_table_arn_is_invalid(raw_ddb: Any, suffix: str) -> None:
    arn = ACCOUNT_ARN + suffix
    with pytest.raises(ClientError) as exc:
        raw_ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    assert error(exc) == (
        "ValidationException",
        f"Invalid TableArn: Invalid ResourceArn provided as input {arn}",
    )


def test_tags_of_a_missing_table_are_resource_not_found(ddb: Any) -> None:
    arn = ACCOUNT_ARN + unique("missing")
    with pytest.raises(ClientError) as tagged:
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    with pytest.raises(ClientError) as listed:
        ddb.list_tags_of_resource(ResourceArn=arn)
    with pytest.raises(ClientError) as untagged:
        ddb.untag_resource(ResourceArn=arn, TagKeys=["k"])
    expected = f"Requested resource not found: ResourcArn: {arn} not found"
    assert error(tagged) == ("ResourceNotFoundException", expected)
    assert error(listed) == ("ResourceNotFoundException", expected)
    assert error(untagged) == ("ResourceNotFoundException", "Requested resource not found")


def test_another_regions_arn_is_not_found(ddb: Any) -> None:
    arn = make_table(ddb)
    other = arn.replace(":us-east-1:", ":eu-west-1:")
    with pytest.raises(ClientError) as exc:
        ddb.list_tags_of_resource(ResourceArn=other)
    assert error(exc)[0] == "ResourceNotFoundException"


def test_tags_go_with_their_table(ddb: Any) -> None:
    arn = make_table(ddb, Tags=[{"Key": "k", "Value": "v"}])
    name = arn.rsplit("/", 1)[1]
    ddb.delete_table(TableName=name)
    with pytest.raises(ClientError) as exc:
        ddb.list_tags_of_resource(ResourceArn=arn)
    assert error(exc)[0] == "ResourceNotFoundException"
    assert make_table(ddb, name) == arn
    assert tags_of(ddb, arn) == {}


def test_tags_survive_a_restart(tmp_path: Path) -> None:
    with HeadwaterServer(data_dir=tmp_path) as first:
        arn = make_table(first.client("dynamodb"), Tags=[{"Key": "k", "Value": "v"}])
    with HeadwaterServer(data_dir=tmp_path) as second:
        assert tags_of(second.client("dynamodb"), arn) == {"k": "v"}


# -- the account-level operations beside them --------------------------------------------


def test_describe_limits_gives_the_default_quotas(ddb: Any) -> None:
    out = ddb.describe_limits()
    assert out["AccountMaxReadCapacityUnits"] == 80000
    assert out["AccountMaxWriteCapacityUnits"] == 80000
    assert out["TableMaxReadCapacityUnits"] == 40000
    assert out["TableMaxWriteCapacityUnits"] == 40000


def test_describe_endpoints_names_this_server(server: HeadwaterServer, ddb: Any) -> None:
    endpoints = ddb.describe_endpoints()["Endpoints"]
    address = server.url.split("://", 1)[1]
    assert endpoints == [{"Address": address, "CachePeriodInMinutes": 1440}]
