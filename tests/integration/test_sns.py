"""SNS over the query protocol, driven by real boto3: topics, SQS subscriptions, fan-out."""

from __future__ import annotations

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
def sns(server: HeadwaterServer) -> Any:
    return server.client("sns")


@pytest.fixture(scope="module")
def sqs(server: HeadwaterServer) -> Any:
    return server.client("sqs")


def _topic(sns: Any) -> str:
    return str(sns.create_topic(Name=unique("t"))["TopicArn"])


def _queue(sqs: Any) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def _bodies(sqs: Any, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [m["Body"] for m in messages]


# -- topics -----------------------------------------------------------------------------------


def test_create_topic_is_idempotent_and_listed(sns: Any) -> None:
    name = unique("t")
    arn = sns.create_topic(Name=name)["TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:000000000000:{name}"
    assert sns.create_topic(Name=name)["TopicArn"] == arn
    assert arn in [t["TopicArn"] for t in sns.list_topics()["Topics"]]


def test_topic_names_are_checked(sns: Any) -> None:
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.create_topic(Name="has space")
    with pytest.raises(sns.exceptions.InvalidParameterException) as err:
        sns.create_topic(Name=unique("t") + ".fifo")
    assert "FIFO" in err.value.response["Error"]["Message"]


def test_delete_topic_is_idempotent(sns: Any) -> None:
    arn = _topic(sns)
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)
    assert arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_topic_attributes(TopicArn=arn)


def test_list_topics_pages_by_hundred(server: HeadwaterServer) -> None:
    sns = server.client("sns", region="ap-south-1")
    arns = sorted(sns.create_topic(Name=f"page-{i:03d}")["TopicArn"] for i in range(105))
    first = sns.list_topics()
    assert len(first["Topics"]) == 100
    rest = sns.list_topics(NextToken=first["NextToken"])
    assert "NextToken" not in rest
    listed = [t["TopicArn"] for t in first["Topics"] + rest["Topics"]]
    assert listed == arns


def test_topic_attributes(sns: Any, sqs: Any) -> None:
    arn = _topic(sns)
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Alerts")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=_queue(sqs)[1])
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "Alerts"
    assert attrs["TopicArn"] == arn
    assert attrs["SubscriptionsConfirmed"] == "1"
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Colour", AttributeValue="x")


# -- subscriptions ----------------------------------------------------------------------------


def test_subscribe_list_and_unsubscribe(sns: Any, sqs: Any) -> None:
    topic = _topic(sns)
    _, queue_arn = _queue(sqs)
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    assert sub.startswith(topic + ":")
    again = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    assert again["SubscriptionArn"] == sub
    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed == {
        "SubscriptionArn": sub,
        "Owner": "000000000000",
        "Protocol": "sqs",
        "Endpoint": queue_arn,
        "TopicArn": topic,
    }
    assert sub in [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert (attrs["Protocol"], attrs["RawMessageDelivery"]) == ("sqs", "false")
    sns.unsubscribe(SubscriptionArn=sub)
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.unsubscribe(SubscriptionArn=sub)


def test_subscribe_errors(sns: Any, sqs: Any) -> None:
    topic = _topic(sns)
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.subscribe(TopicArn=topic + "-missing", Protocol="sqs", Endpoint=_queue(sqs)[1])
    with pytest.raises(sns.exceptions.InvalidParameterException) as err:
        sns.subscribe(TopicArn=topic, Protocol="https", Endpoint="https://example.com/hook")
    assert "not to https" in err.value.response["Error"]["Message"]
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.subscribe(TopicArn=topic, Protocol="pigeon", Endpoint="x")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint="not-an-arn")
    with pytest.raises(sns.exceptions.InvalidParameterException) as err:
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=_queue(sqs)[1],
            Attributes={"FilterPolicy": '{"k": ["v"]}'},
        )
    assert "filter" in err.value.response["Error"]["Message"].lower()


# -- publishing -------------------------------------------------------------------------------


def test_publish_fans_out_notifications_to_every_subscribed_queue(sns: Any, sqs: Any) -> None:
    topic = _topic(sns)
    queues = [_queue(sqs) for _ in range(2)]
    for _, arn in queues:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    out = sns.publish(
        TopicArn=topic,
        Message="hello",
        Subject="greeting",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
    )
    for url, _ in queues:
        [body] = _bodies(sqs, url)
        envelope = json.loads(body)
        assert envelope["Type"] == "Notification"
        assert envelope["MessageId"] == out["MessageId"]
        assert (envelope["TopicArn"], envelope["Message"]) == (topic, "hello")
        assert envelope["Subject"] == "greeting"
        assert envelope["MessageAttributes"] == {"kind": {"Type": "String", "Value": "test"}}
        assert envelope["Timestamp"].endswith("Z")


def test_raw_message_delivery_sends_the_message_itself(sns: Any, sqs: Any) -> None:
    topic = _topic(sns)
    url, arn = _queue(sqs)
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    sns.publish(
        TopicArn=topic,
        Message='{"raw": true}',
        MessageAttributes={"n": {"DataType": "Number", "StringValue": "7"}},
    )
    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert message["Body"] == '{"raw": true}'
    assert message["MessageAttributes"] == {"n": {"DataType": "Number", "StringValue": "7"}}


def test_message_structure_json_picks_the_sqs_message(sns: Any, sqs: Any) -> None:
    topic = _topic(sns)
    url, arn = _queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(
        TopicArn=topic,
        MessageStructure="json",
        Message=json.dumps({"default": "for everyone", "sqs": "for queues"}),
    )
    [body] = _bodies(sqs, url)
    assert json.loads(body)["Message"] == "for queues"
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.publish(TopicArn=topic, MessageStructure="json", Message='{"sqs": "no default"}')


def test_publish_errors(sns: Any) -> None:
    topic = _topic(sns)
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.publish(TopicArn=topic + "-missing", Message="x")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.publish(TopicArn=topic, Message="")
    with pytest.raises(ClientError) as err:
        sns.publish(TopicArn=topic, Message="x" * (256 * 1024 + 1))
    assert err.value.response["Error"]["Code"] == "InvalidParameter"


def test_a_deleted_queue_does_not_stop_delivery_to_the_others(sns: Any, sqs: Any) -> None:
    topic = _topic(sns)
    gone_url, gone_arn = _queue(sqs)
    url, arn = _queue(sqs)
    for endpoint in (gone_arn, arn):
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=endpoint)
    sqs.delete_queue(QueueUrl=gone_url)
    sns.publish(TopicArn=topic, Message="still")
    assert [json.loads(b)["Message"] for b in _bodies(sqs, url)] == ["still"]


def test_publish_wakes_a_long_poll_on_a_subscribed_queue(server: HeadwaterServer, sqs: Any) -> None:
    sns = server.client("sns")
    topic = _topic(sns)
    url, arn = _queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    timer = threading.Timer(0.3, lambda: server.client("sns").publish(TopicArn=topic, Message="m"))
    timer.start()
    started = time.monotonic()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=15)
    timer.join()
    assert json.loads(got["Messages"][0]["Body"])["Message"] == "m"
    assert time.monotonic() - started < 3


def test_topics_and_subscriptions_survive_a_restart(tmp_path: Path) -> None:
    with HeadwaterServer(data_dir=tmp_path) as server:
        sns, sqs = server.client("sns"), server.client("sqs")
        topic = sns.create_topic(Name="kept")["TopicArn"]
        url, arn = _queue(sqs)
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    with HeadwaterServer(data_dir=tmp_path) as server:
        sns, sqs = server.client("sns"), server.client("sqs")
        assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [topic]
        sns.publish(TopicArn=topic, Message="after restart")
        [body] = _bodies(sqs, url)
        assert json.loads(body)["Message"] == "after restart"
