"""SQS over the JSON protocol, driven by real boto3: queues, messages, visibility timeouts on
the server's clock, long polls woken by sends, dead-letter redrive and durability."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import HeadwaterServer
from tests.conftest import unique


@pytest.fixture(scope="module")
def sqs(server: HeadwaterServer) -> Any:
    return server.client("sqs")


def _queue(sqs: Any, **attributes: str) -> str:
    return str(sqs.create_queue(QueueName=unique("q"), Attributes=attributes)["QueueUrl"])


def _counts(sqs: Any, url: str) -> tuple[int, int, int]:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return (
        int(attrs["ApproximateNumberOfMessages"]),
        int(attrs["ApproximateNumberOfMessagesNotVisible"]),
        int(attrs["ApproximateNumberOfMessagesDelayed"]),
    )


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


# -- queues -----------------------------------------------------------------------------------


def test_create_queue_returns_a_url_on_this_server(server: HeadwaterServer, sqs: Any) -> None:
    name = unique("q")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url == f"{server.url}/000000000000/{name}"
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url


def test_create_queue_is_idempotent_for_the_same_attributes(sqs: Any) -> None:
    name = unique("q")
    first = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "40"})
    again = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "40"})
    assert first["QueueUrl"] == again["QueueUrl"]
    with pytest.raises(sqs.exceptions.QueueNameExists) as err:
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "41"})
    assert _code(err) == "QueueAlreadyExists"
    assert "VisibilityTimeout" in err.value.response["Error"]["Message"]


def test_missing_queue_raises_the_modelled_exception_with_the_legacy_code(sqs: Any) -> None:
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as err:
        sqs.get_queue_url(QueueName=unique("missing"))
    assert _code(err) == "AWS.SimpleQueueService.NonExistentQueue"
    assert err.value.response["Error"]["Message"] == "The specified queue does not exist."
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_fifo_queues_are_refused_clearly(sqs: Any) -> None:
    with pytest.raises(sqs.exceptions.UnsupportedOperation) as err:
        sqs.create_queue(QueueName=unique("q") + ".fifo", Attributes={"FifoQueue": "true"})
    assert "FIFO" in err.value.response["Error"]["Message"]


def test_invalid_queue_name_is_refused(sqs: Any) -> None:
    with pytest.raises(ClientError) as err:
        sqs.create_queue(QueueName="has space")
    assert _code(err) == "InvalidParameterValue"


def test_unknown_and_invalid_attributes_are_refused(sqs: Any) -> None:
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.create_queue(QueueName=unique("q"), Attributes={"Colour": "blue"})
    with pytest.raises(sqs.exceptions.InvalidAttributeValue):
        sqs.create_queue(QueueName=unique("q"), Attributes={"VisibilityTimeout": "43201"})


def test_list_queues_filters_by_prefix_and_pages(sqs: Any) -> None:
    prefix = unique("list")
    urls = sorted(sqs.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(3))
    sqs.create_queue(QueueName=unique("other"))
    assert sorted(sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"]) == urls
    first = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
    assert first["QueueUrls"] == urls[:2]
    rest = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, NextToken=first["NextToken"])
    assert rest["QueueUrls"] == urls[2:]
    assert "NextToken" not in rest
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=unique("none"))


def test_queues_are_per_region(server: HeadwaterServer, sqs: Any) -> None:
    url = _queue(sqs)
    name = url.rsplit("/", 1)[1]
    other = server.client("sqs", region="eu-west-1")
    with pytest.raises(other.exceptions.QueueDoesNotExist):
        other.get_queue_url(QueueName=name)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    assert arn == {"QueueArn": f"arn:aws:sqs:us-east-1:000000000000:{name}"}


def test_deleted_queue_is_gone(sqs: Any) -> None:
    url = _queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=url, MessageBody="x")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.delete_queue(QueueUrl=url)


def test_queue_attributes_have_defaults_and_can_be_set(sqs: Any) -> None:
    before = time.time()
    url = _queue(sqs)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "30"
    assert attrs["MessageRetentionPeriod"] == "345600"
    assert attrs["DelaySeconds"] == "0"
    assert int(attrs["CreatedTimestamp"]) >= int(before) - 1
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "7"})
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert got["Attributes"] == {"VisibilityTimeout": "7"}
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url)
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Nope"])
    with pytest.raises(sqs.exceptions.InvalidAttributeValue):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "901"})


def test_tags(sqs: Any) -> None:
    name = unique("q")
    url = sqs.create_queue(QueueName=name, tags={"team": "a"})["QueueUrl"]
    sqs.tag_queue(QueueUrl=url, Tags={"env": "dev"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a", "env": "dev"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "dev"}


# -- sending and receiving ---------------------------------------------------------------------


def test_send_returns_md5s_and_receive_returns_the_message(sqs: Any) -> None:
    url = _queue(sqs)
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="héllo",
        MessageAttributes={
            "test_attribute_name_1": {
                "DataType": "String",
                "StringValue": "test_attribute_value_1",
            },
            "test_attribute_name_2": {
                "DataType": "String",
                "StringValue": "test_attribute_value_2",
            },
        },
    )
    assert sent["MD5OfMessageBody"] == hashlib.md5("héllo".encode()).hexdigest()
    # AWS's published example digest for these two attributes.
    assert sent["MD5OfMessageAttributes"] == "d53f3b558fe951154770f25cb63dbba9"
    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert message["MessageId"] == sent["MessageId"]
    assert message["Body"] == "héllo"
    assert message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert message["MessageAttributes"]["test_attribute_name_1"]["StringValue"] == (
        "test_attribute_value_1"
    )


def test_message_attributes_of_every_type_round_trip_and_can_be_selected(sqs: Any) -> None:
    url = _queue(sqs)
    sqs.send_message(
        QueueUrl=url,
        MessageBody="x",
        MessageAttributes={
            "order.id": {"DataType": "Number", "StringValue": "42"},
            "order.blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
            "other": {"DataType": "String.custom", "StringValue": "y"},
        },
    )
    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["order.*"])["Messages"]
    assert message["MessageAttributes"] == {
        "order.id": {"DataType": "Number", "StringValue": "42"},
        "order.blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
    }


def test_bad_message_attributes_are_refused(sqs: Any) -> None:
    url = _queue(sqs)
    with pytest.raises(ClientError) as err:
        sqs.send_message(
            QueueUrl=url,
            MessageBody="x",
            MessageAttributes={"n": {"DataType": "Number", "StringValue": "abc"}},
        )
    assert _code(err) == "InvalidParameterValue"


def test_system_attributes_on_receive(sqs: Any) -> None:
    url = _queue(sqs)
    before_ms = int(time.time() * 1000) - 1000
    sqs.send_message(QueueUrl=url, MessageBody="x")
    [message] = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["All"])["Messages"]
    attrs = message["Attributes"]
    assert attrs["ApproximateReceiveCount"] == "1"
    assert int(attrs["SentTimestamp"]) >= before_ms
    assert int(attrs["ApproximateFirstReceiveTimestamp"]) >= int(attrs["SentTimestamp"])
    sqs.send_message(QueueUrl=url, MessageBody="y")
    [plain] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert plain["Body"] == "y"
    assert "Attributes" not in plain
    assert "MessageAttributes" not in plain


def test_invalid_characters_and_oversized_bodies_are_refused(sqs: Any) -> None:
    url = _queue(sqs, MaximumMessageSize="1024")
    with pytest.raises(sqs.exceptions.InvalidMessageContents):
        sqs.send_message(QueueUrl=url, MessageBody="bell \x07")
    with pytest.raises(ClientError) as err:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1025)
    assert _code(err) == "InvalidParameterValue"
    assert "shorter than 1024 bytes" in err.value.response["Error"]["Message"]


def test_receive_takes_up_to_max_number_of_messages(sqs: Any) -> None:
    url = _queue(sqs)
    for i in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(got) == 10
    assert len({m["ReceiptHandle"] for m in got}) == 10
    assert _counts(sqs, url) == (2, 10, 0)
    with pytest.raises(ClientError) as err:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert _code(err) == "InvalidParameterValue"


def test_empty_queue_answers_without_messages(sqs: Any) -> None:
    url = _queue(sqs)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_received_message_is_hidden_until_its_visibility_timeout_passes(
    server: HeadwaterServer, sqs: Any
) -> None:
    url = _queue(sqs, VisibilityTimeout="120")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    first = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert _counts(sqs, url) == (0, 1, 0)
    server.advance_clock(121)
    again = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])
    [message] = again["Messages"]
    assert message["MessageId"] == first["MessageId"]
    assert message["ReceiptHandle"] != first["ReceiptHandle"]
    assert message["Attributes"]["ApproximateReceiveCount"] == "2"


def test_receive_visibility_timeout_overrides_the_queue_default(
    server: HeadwaterServer, sqs: Any
) -> None:
    url = _queue(sqs, VisibilityTimeout="600")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=5)
    server.advance_clock(6)
    assert len(sqs.receive_message(QueueUrl=url)["Messages"]) == 1


def test_delay_seconds_hide_a_new_message(server: HeadwaterServer, sqs: Any) -> None:
    url = _queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=300)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert _counts(sqs, url) == (0, 0, 1)
    server.advance_clock(301)
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "later"
    with pytest.raises(ClientError) as err:
        sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901)
    assert _code(err) == "InvalidParameterValue"


def test_messages_older_than_the_retention_period_are_dropped(
    server: HeadwaterServer, sqs: Any
) -> None:
    url = _queue(sqs, MessageRetentionPeriod="60")
    sqs.send_message(QueueUrl=url, MessageBody="old")
    server.advance_clock(61)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert _counts(sqs, url) == (0, 0, 0)


# -- long polling -------------------------------------------------------------------------------


def _send_later(server: HeadwaterServer, url: str, delay: float) -> threading.Timer:
    def send() -> None:
        server.client("sqs").send_message(QueueUrl=url, MessageBody="woken")

    timer = threading.Timer(delay, send)
    timer.start()
    return timer


def test_long_poll_is_woken_by_a_send(server: HeadwaterServer, sqs: Any) -> None:
    url = _queue(sqs)
    timer = _send_later(server, url, 0.3)
    started = time.monotonic()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=15)
    elapsed = time.monotonic() - started
    timer.join()
    assert got["Messages"][0]["Body"] == "woken"
    assert 0.25 <= elapsed < 3


def test_queue_wait_time_attribute_makes_receives_long_polls(
    server: HeadwaterServer, sqs: Any
) -> None:
    url = _queue(sqs, ReceiveMessageWaitTimeSeconds="15")
    timer = _send_later(server, url, 0.3)
    started = time.monotonic()
    got = sqs.receive_message(QueueUrl=url)
    timer.join()
    assert got["Messages"][0]["Body"] == "woken"
    assert time.monotonic() - started < 3


def test_long_poll_with_nothing_to_receive_waits_the_full_time(sqs: Any) -> None:
    url = _queue(sqs)
    started = time.monotonic()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert "Messages" not in got
    assert 0.9 <= time.monotonic() - started < 5


def test_long_poll_is_woken_when_the_clock_makes_a_message_visible(
    server: HeadwaterServer, sqs: Any
) -> None:
    url = _queue(sqs, VisibilityTimeout="300")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.receive_message(QueueUrl=url)
    timer = threading.Timer(0.3, lambda: server.advance_clock(301))
    timer.start()
    started = time.monotonic()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=15)
    timer.join()
    assert got["Messages"][0]["Body"] == "x"
    assert time.monotonic() - started < 3


def test_long_poll_returns_when_a_visibility_timeout_expires(sqs: Any) -> None:
    url = _queue(sqs, VisibilityTimeout="1")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.receive_message(QueueUrl=url)
    started = time.monotonic()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=15)
    assert got["Messages"][0]["Body"] == "x"
    assert time.monotonic() - started < 3


def test_wait_time_out_of_range_is_refused(sqs: Any) -> None:
    url = _queue(sqs)
    with pytest.raises(ClientError) as err:
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21)
    assert _code(err) == "InvalidParameterValue"


# -- deleting and changing visibility ----------------------------------------------------------


def test_delete_message_removes_it(server: HeadwaterServer, sqs: Any) -> None:
    url = _queue(sqs, VisibilityTimeout="5")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)  # again: still fine, as on AWS
    server.advance_clock(6)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert _counts(sqs, url) == (0, 0, 0)


def test_delete_with_a_stale_receipt_handle_keeps_the_message(
    server: HeadwaterServer, sqs: Any
) -> None:
    url = _queue(sqs, VisibilityTimeout="5")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    stale = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    server.advance_clock(6)
    fresh = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=stale)
    assert _counts(sqs, url) == (0, 1, 0)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=fresh)
    assert _counts(sqs, url) == (0, 0, 0)


def test_invalid_receipt_handle_is_refused(sqs: Any) -> None:
    url = _queue(sqs)
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    other = _queue(sqs)
    sqs.send_message(QueueUrl=other, MessageBody="x")
    handle = sqs.receive_message(QueueUrl=other)["Messages"][0]["ReceiptHandle"]
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)


def test_change_message_visibility(server: HeadwaterServer, sqs: Any) -> None:
    url = _queue(sqs, VisibilityTimeout="5")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=600)
    server.advance_clock(6)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "x"
    with pytest.raises(ClientError) as err:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    assert _code(err) == "InvalidParameterValue"  # the handle is stale now


def test_purge_queue_drops_every_message(sqs: Any) -> None:
    url = _queue(sqs)
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    sqs.receive_message(QueueUrl=url)
    sqs.purge_queue(QueueUrl=url)
    assert _counts(sqs, url) == (0, 0, 0)


def test_a_second_purge_within_sixty_seconds_is_refused(server: HeadwaterServer, sqs: Any) -> None:
    url = _queue(sqs)
    name = url.rsplit("/", 1)[-1]
    sqs.purge_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress) as err:
        sqs.purge_queue(QueueUrl=url)
    assert _code(err) == "AWS.SimpleQueueService.PurgeQueueInProgress"
    # the model's awsQueryError trait gives 403 (every other SQS error Headwater raises is 400)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err.value.response["Error"]["Type"] == "Sender"
    message = err.value.response["Error"]["Message"]
    assert message == f"Only one PurgeQueue operation on {name} is allowed every 60 seconds."
    server.advance_clock(60)
    sqs.send_message(QueueUrl=url, MessageBody="after")
    sqs.purge_queue(QueueUrl=url)  # a minute later it is allowed again
    assert _counts(sqs, url) == (0, 0, 0)


# -- batches ------------------------------------------------------------------------------------


def test_send_message_batch_reports_each_entry(sqs: Any) -> None:
    url = _queue(sqs)
    out = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "good", "MessageBody": "a"},
            {"Id": "bad", "MessageBody": "\x00"},
            {"Id": "late", "MessageBody": "c", "DelaySeconds": 60},
        ],
    )
    assert sorted(e["Id"] for e in out["Successful"]) == ["good", "late"]
    [failed] = out["Failed"]
    assert failed["Id"] == "bad"
    assert failed["Code"] == "InvalidMessageContents"
    assert failed["SenderFault"] is True
    assert _counts(sqs, url) == (1, 0, 1)


@pytest.mark.parametrize(
    ("entries", "exception"),
    [
        ([], "EmptyBatchRequest"),
        ([{"Id": str(i), "MessageBody": "x"} for i in range(11)], "TooManyEntriesInBatchRequest"),
        ([{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}],
         "BatchEntryIdsNotDistinct"),
        ([{"Id": "no spaces", "MessageBody": "x"}], "InvalidBatchEntryId"),
    ],
)  # fmt: skip
def test_malformed_batches_are_refused(sqs: Any, entries: list[Any], exception: str) -> None:
    url = _queue(sqs)
    with pytest.raises(getattr(sqs.exceptions, exception)):
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def test_delete_and_change_visibility_batches(sqs: Any) -> None:
    url = _queue(sqs)
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)]
    )
    handles = [
        m["ReceiptHandle"]
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3)["Messages"]
    ]
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url, Entries=[{"Id": "v", "ReceiptHandle": handles[0], "VisibilityTimeout": 0}]
    )
    assert [e["Id"] for e in changed["Successful"]] == ["v"]
    assert _counts(sqs, url) == (1, 2, 0)
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "one", "ReceiptHandle": handles[1]},
            {"Id": "two", "ReceiptHandle": handles[2]},
            {"Id": "junk", "ReceiptHandle": "junk"},
        ],
    )
    assert sorted(e["Id"] for e in deleted["Successful"]) == ["one", "two"]
    assert [(e["Id"], e["Code"]) for e in deleted["Failed"]] == [("junk", "ReceiptHandleIsInvalid")]
    assert _counts(sqs, url) == (1, 0, 0)


# -- dead-letter queues and durability ---------------------------------------------------------


def test_messages_received_too_often_move_to_the_dead_letter_queue(
    server: HeadwaterServer, sqs: Any
) -> None:
    dlq = _queue(sqs)
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    source = _queue(sqs, VisibilityTimeout="10", RedrivePolicy=policy)
    sent = sqs.send_message(QueueUrl=source, MessageBody="poison")
    for _ in range(2):
        assert sqs.receive_message(QueueUrl=source)["Messages"][0]["Body"] == "poison"
        server.advance_clock(11)
    assert "Messages" not in sqs.receive_message(QueueUrl=source)
    [moved] = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert (moved["MessageId"], moved["Body"]) == (sent["MessageId"], "poison")


def test_queues_and_messages_survive_a_restart(tmp_path: Path) -> None:
    with HeadwaterServer(data_dir=tmp_path) as server:
        sqs = server.client("sqs")
        url = sqs.create_queue(QueueName="kept", Attributes={"VisibilityTimeout": "900"})[
            "QueueUrl"
        ]
        sqs.send_message(QueueUrl=url, MessageBody="in flight")
        sqs.receive_message(QueueUrl=url)
        sqs.send_message(
            QueueUrl=url,
            MessageBody="waiting",
            MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
        )
    with HeadwaterServer(data_dir=tmp_path) as server:
        sqs = server.client("sqs")
        url = sqs.get_queue_url(QueueName="kept")["QueueUrl"]
        assert _counts(sqs, url) == (1, 1, 0)
        [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
        assert message["Body"] == "waiting"
        assert message["MessageAttributes"]["k"]["StringValue"] == "v"
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
        assert attrs["Attributes"]["VisibilityTimeout"] == "900"
