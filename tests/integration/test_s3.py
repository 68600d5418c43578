"""S3 to a local directory, driven by real boto3: buckets, objects as files, listings."""

from __future__ import annotations

import base64
import hashlib
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import HeadwaterServer
from tests.conftest import unique


@pytest.fixture(scope="module")
def s3(server: HeadwaterServer) -> Any:
    return server.client("s3")


def _bucket(s3: Any) -> str:
    name = unique("bkt")
    s3.create_bucket(Bucket=name)
    return name


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def _keys(listing: dict[str, Any]) -> list[str]:
    return [o["Key"] for o in listing.get("Contents", [])]


# -- buckets ----------------------------------------------------------------------------------


def test_bucket_life_cycle(s3: Any) -> None:
    name = _bucket(s3)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    head = s3.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    s3.delete_bucket(Bucket=name)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as err:
        s3.head_bucket(Bucket=name)
    assert _code(err) == "404"


def test_missing_bucket_is_no_such_bucket(s3: Any) -> None:
    with pytest.raises(s3.exceptions.NoSuchBucket) as err:
        s3.list_objects_v2(Bucket=unique("missing"))
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(s3.exceptions.NoSuchBucket):
        s3.put_object(Bucket=unique("missing"), Key="k", Body=b"x")


def test_bucket_names_are_checked(s3: Any) -> None:
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket="Upper_Case")
    assert _code(err) == "InvalidBucketName"


def test_creating_an_owned_bucket_again(server: HeadwaterServer, s3: Any) -> None:
    name = _bucket(s3)
    s3.create_bucket(Bucket=name)  # us-east-1 answers 200, as AWS does
    west = server.client("s3", region="eu-west-1")
    other = unique("bkt")
    west.create_bucket(Bucket=other, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert west.get_bucket_location(Bucket=other)["LocationConstraint"] == "eu-west-1"
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    with pytest.raises(s3.exceptions.BucketAlreadyOwnedByYou) as err:
        west.create_bucket(
            Bucket=other, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_location_constraints_must_fit_the_endpoint(server: HeadwaterServer, s3: Any) -> None:
    west = server.client("s3", region="eu-west-1")

    def refused(client: Any, **config: str) -> tuple[str, str, int]:
        extra = {"CreateBucketConfiguration": config} if config else {}
        with pytest.raises(ClientError) as err:
            client.create_bucket(Bucket=unique("bkt"), **extra)
        response = err.value.response
        status = response["ResponseMetadata"]["HTTPStatusCode"]
        return response["Error"]["Code"], response["Error"]["Message"], status

    suffix = "location constraint is incompatible for the region specific endpoint this request "
    assert refused(west) == (
        "IllegalLocationConstraintException",
        f"The unspecified {suffix}was sent to.",
        400,
    )
    assert refused(west, LocationConstraint="eu-central-1") == (
        "IllegalLocationConstraintException",
        f"The eu-central-1 {suffix}was sent to.",
        400,
    )
    assert refused(s3, LocationConstraint="us-east-1") == (
        "InvalidLocationConstraint",
        "The specified location-constraint is not valid",
        400,
    )
    # us-east-1's endpoint is the global one: it makes a bucket in another region on request
    name = unique("bkt")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    with pytest.raises(s3.exceptions.BucketAlreadyOwnedByYou) as err:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_only_an_empty_bucket_can_be_deleted(s3: Any) -> None:
    name = _bucket(s3)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ClientError) as err:
        s3.delete_bucket(Bucket=name)
    assert _code(err) == "BucketNotEmpty"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)


# -- objects ----------------------------------------------------------------------------------


def test_put_and_get_keep_bytes_metadata_and_md5_etag(s3: Any) -> None:
    name = _bucket(s3)
    data = bytes(range(256)) * 10
    put = s3.put_object(
        Bucket=name, Key="dir/file.bin", Body=data, ContentType="app/x", Metadata={"who": "me"}
    )
    etag = f'"{hashlib.md5(data).hexdigest()}"'
    assert put["ETag"] == etag
    got = s3.get_object(Bucket=name, Key="dir/file.bin")
    assert got["Body"].read() == data
    assert (got["ETag"], got["ContentType"], got["Metadata"]) == (etag, "app/x", {"who": "me"})
    assert got["ContentLength"] == len(data)
    head = s3.head_object(Bucket=name, Key="dir/file.bin")
    assert (head["ETag"], head["ContentLength"]) == (etag, len(data))


def test_overwrite_replaces_the_object(s3: Any) -> None:
    name = _bucket(s3)
    s3.put_object(Bucket=name, Key="k", Body=b"first")
    s3.put_object(Bucket=name, Key="k", Body=b"second")
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"second"
    assert _keys(s3.list_objects_v2(Bucket=name)) == ["k"]


def test_missing_key(s3: Any) -> None:
    name = _bucket(s3)
    with pytest.raises(s3.exceptions.NoSuchKey) as err:
        s3.get_object(Bucket=name, Key="nope")
    assert err.value.response["Error"]["Key"] == "nope"
    with pytest.raises(ClientError) as head:
        s3.head_object(Bucket=name, Key="nope")
    assert _code(head) == "404"


def test_range_requests(s3: Any) -> None:
    name = _bucket(s3)
    s3.put_object(Bucket=name, Key="k", Body=b"0123456789")
    part = s3.get_object(Bucket=name, Key="k", Range="bytes=2-4")
    assert part["Body"].read() == b"234"
    assert part["ContentRange"] == "bytes 2-4/10"
    assert s3.get_object(Bucket=name, Key="k", Range="bytes=-3")["Body"].read() == b"789"
    assert s3.get_object(Bucket=name, Key="k", Range="bytes=8-")["Body"].read() == b"89"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=name, Key="k", Range="bytes=10-")
    assert _code(err) == "InvalidRange"


def test_content_md5_is_checked(s3: Any) -> None:
    name = _bucket(s3)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=name, Key="k", Body=b"data", ContentMD5=wrong)
    assert _code(err) == "BadDigest"
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=name, Key="k")


def test_delete_object_even_when_missing(s3: Any) -> None:
    name = _bucket(s3)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    assert s3.delete_object(Bucket=name, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.delete_object(Bucket=name, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert _keys(s3.list_objects_v2(Bucket=name)) == []


def test_delete_objects(s3: Any) -> None:
    name = _bucket(s3)
    for key in ("a", "b", "c"):
        s3.put_object(Bucket=name, Key=key, Body=b"x")
    out = s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["a", "b"]
    assert _keys(s3.list_objects_v2(Bucket=name)) == ["c"]


def test_copy_object(s3: Any) -> None:
    name = _bucket(s3)
    s3.put_object(Bucket=name, Key="src", Body=b"payload", Metadata={"m": "1"})
    out = s3.copy_object(Bucket=name, Key="dst", CopySource={"Bucket": name, "Key": "src"})
    assert out["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"payload").hexdigest()}"'
    got = s3.get_object(Bucket=name, Key="dst")
    assert (got["Body"].read(), got["Metadata"]) == (b"payload", {"m": "1"})


def test_a_key_and_a_folder_of_the_same_name_coexist(s3: Any) -> None:
    name = _bucket(s3)
    s3.put_object(Bucket=name, Key="a/b", Body=b"inner")
    s3.put_object(Bucket=name, Key="a", Body=b"outer")
    s3.put_object(Bucket=name, Key="x//y/../z", Body=b"odd")
    assert s3.get_object(Bucket=name, Key="a")["Body"].read() == b"outer"
    assert s3.get_object(Bucket=name, Key="a/b")["Body"].read() == b"inner"
    assert s3.get_object(Bucket=name, Key="x//y/../z")["Body"].read() == b"odd"
    assert _keys(s3.list_objects_v2(Bucket=name)) == ["a", "a/b", "x//y/../z"]


def test_multipart_uploads_are_refused_clearly(s3: Any) -> None:
    name = _bucket(s3)
    with pytest.raises(ClientError) as err:
        s3.create_multipart_upload(Bucket=name, Key="big")
    assert _code(err) == "NotImplemented"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_unsigned_and_presigned_downloads(server: HeadwaterServer, s3: Any) -> None:
    name = _bucket(s3)
    s3.put_object(Bucket=name, Key="pub/file.txt", Body=b"plain")
    with urllib.request.urlopen(f"{server.url}/{name}/pub/file.txt", timeout=10) as response:
        assert response.read() == b"plain"
    url = s3.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "pub/file.txt"})
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"plain"


def test_dynamodb_health_check_still_answers_at_root(server: HeadwaterServer) -> None:
    with urllib.request.urlopen(server.url + "/", timeout=10) as response:
        assert response.read().startswith(b"healthy: dynamodb")


# -- listing ----------------------------------------------------------------------------------


def test_list_with_prefix_and_delimiter(s3: Any) -> None:
    name = _bucket(s3)
    for key in ("top.txt", "logs/2024/a", "logs/2024/b", "logs/2025/c", "logs/x", "other/y"):
        s3.put_object(Bucket=name, Key=key, Body=b"x")
    root = s3.list_objects_v2(Bucket=name, Delimiter="/")
    assert _keys(root) == ["top.txt"]
    assert [p["Prefix"] for p in root["CommonPrefixes"]] == ["logs/", "other/"]
    assert root["KeyCount"] == 3
    logs = s3.list_objects_v2(Bucket=name, Prefix="logs/", Delimiter="/")
    assert _keys(logs) == ["logs/x"]
    assert [p["Prefix"] for p in logs["CommonPrefixes"]] == ["logs/2024/", "logs/2025/"]
    assert _keys(s3.list_objects_v2(Bucket=name, Prefix="logs/2024/")) == [
        "logs/2024/a",
        "logs/2024/b",
    ]


def test_list_pages_with_continuation_tokens(s3: Any) -> None:
    name = _bucket(s3)
    keys = sorted(f"k{i:02d}" for i in range(25))
    for key in keys:
        s3.put_object(Bucket=name, Key=key, Body=b"x")
    first = s3.list_objects_v2(Bucket=name, MaxKeys=10)
    assert first["IsTruncated"] is True
    assert _keys(first) == keys[:10]
    second = s3.list_objects_v2(
        Bucket=name, MaxKeys=10, ContinuationToken=first["NextContinuationToken"]
    )
    assert _keys(second) == keys[10:20]
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=name, PaginationConfig={"PageSize": 7}
    )
    assert [k for page in pages for k in _keys(page)] == keys
    assert _keys(s3.list_objects_v2(Bucket=name, StartAfter="k22")) == ["k23", "k24"]
    v1 = s3.get_paginator("list_objects").paginate(Bucket=name, PaginationConfig={"PageSize": 7})
    assert [k for page in v1 for k in _keys(page)] == keys


def test_paging_over_common_prefixes(s3: Any) -> None:
    name = _bucket(s3)
    for folder in ("a", "b", "c"):
        for i in range(3):
            s3.put_object(Bucket=name, Key=f"{folder}/{i}", Body=b"x")
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=name, Delimiter="/", PaginationConfig={"PageSize": 2}
    )
    prefixes = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
    assert prefixes == ["a/", "b/", "c/"]


def test_keys_with_special_characters_list_back_unchanged(s3: Any) -> None:
    name = _bucket(s3)
    keys = ["a b", "plus+sign", "100%", "ünïcode/ß", "q?x=1&y"]
    for key in keys:
        s3.put_object(Bucket=name, Key=key, Body=key.encode())
    assert sorted(_keys(s3.list_objects_v2(Bucket=name))) == sorted(keys)
    for key in keys:
        assert s3.get_object(Bucket=name, Key=key)["Body"].read() == key.encode()


# -- the directory and durability ---------------------------------------------------------------


def test_objects_are_files_in_the_data_directory_and_survive_restart(tmp_path: Path) -> None:
    with HeadwaterServer(data_dir=tmp_path) as server:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="kept")
        s3.put_object(Bucket="kept", Key="aws/lambda/x/record.json", Body=b'{"a": 1}')
    on_disk = tmp_path / "s3" / "us-east-1" / "kept" / "aws" / "lambda" / "x" / "record.json"
    assert on_disk.read_bytes() == b'{"a": 1}'
    with HeadwaterServer(data_dir=tmp_path) as server:
        s3 = server.client("s3")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["kept"]
        got = s3.get_object(Bucket="kept", Key="aws/lambda/x/record.json")
        assert got["Body"].read() == b'{"a": 1}'
        s3.delete_object(Bucket="kept", Key="aws/lambda/x/record.json")
    assert not on_disk.exists()
    assert not (tmp_path / "s3" / "us-east-1" / "kept" / "aws").exists()


def test_aws_chunked_uploads_are_decoded(server: HeadwaterServer, s3: Any) -> None:
    name = _bucket(s3)
    body = b"5;chunk-signature=ab\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n"
    request = urllib.request.Request(
        f"{server.url}/{name}/chunked",
        data=body,
        method="PUT",
        headers={
            "Content-Encoding": "aws-chunked",
            "X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "X-Amz-Decoded-Content-Length": "11",
        },
    )
    with urllib.request.urlopen(request, timeout=10):
        pass
    got = s3.get_object(Bucket=name, Key="chunked")
    assert got["Body"].read() == b"hello world"
    assert "ContentEncoding" not in got
