"""Queues and messages below the API: the clock drives visibility, the store keeps state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headwater.clock import Clock
from headwater.destinations import DestinationNotFound, Destinations
from headwater.destinations.errors import (
    InvalidAttributeName,
    QueueDoesNotExist,
    QueueNameExists,
    ReceiptHandleIsInvalid,
)
from headwater.destinations.queue_messages import Outgoing, Received, parse_handle
from headwater.errors import NotEmulated, ValidationError

REGION = "us-east-1"


def _create(d: Destinations, name: str = "q", **attributes: str) -> None:
    d.queues.create(REGION, name, attributes, {}).result()


def _receive(d: Destinations, name: str = "q", count: int = 10) -> list[Received]:
    return d.messages.receive(REGION, name, count, None).result().messages


def _send(d: Destinations, body: str, name: str = "q") -> None:
    [result] = d.messages.send(REGION, name, [Outgoing(body)]).result()
    assert not isinstance(result, Exception)


def test_create_is_idempotent_only_for_matching_attributes(destinations: Destinations) -> None:
    _create(destinations, VisibilityTimeout="30")
    _create(destinations, VisibilityTimeout="30")  # also the default: same queue
    _create(destinations)
    with pytest.raises(QueueNameExists):
        _create(destinations, VisibilityTimeout="31")
    assert destinations.queues.list_names(REGION) == ["q"]


def test_names_and_attributes_are_checked(destinations: Destinations) -> None:
    with pytest.raises(NotEmulated):
        _create(destinations, "jobs.fifo")
    with pytest.raises(ValidationError):
        _create(destinations, "x" * 81)
    with pytest.raises(InvalidAttributeName):
        _create(destinations, Unknown="1")


def test_visibility_timeout_follows_the_clock(destinations: Destinations, clock: Clock) -> None:
    _create(destinations, VisibilityTimeout="60")
    _send(destinations, "a")
    [first] = _receive(destinations)
    assert _receive(destinations) == []
    clock.advance(59)
    assert _receive(destinations) == []
    clock.advance(2)
    [again] = _receive(destinations)
    assert (again.message_id, again.receive_count) == (first.message_id, 2)
    assert again.first_received == first.first_received


def test_receive_reports_when_a_hidden_message_returns(
    destinations: Destinations, clock: Clock
) -> None:
    _create(destinations, VisibilityTimeout="60")
    _send(destinations, "a")
    _receive(destinations)
    outcome = destinations.messages.receive(REGION, "q", 1, None).result()
    assert outcome.messages == []
    assert outcome.next_visible_at == pytest.approx(clock.time() + 60, abs=1)


def test_only_the_latest_receipt_handle_deletes(destinations: Destinations, clock: Clock) -> None:
    _create(destinations, VisibilityTimeout="10")
    _send(destinations, "a")
    [stale] = _receive(destinations)
    clock.advance(11)
    [fresh] = _receive(destinations)
    assert destinations.messages.delete(REGION, "q", [stale.receipt_handle]).result() == [None]
    in_flight = ["ApproximateNumberOfMessagesNotVisible"]
    assert destinations.queues.attributes(REGION, "q", in_flight) == {in_flight[0]: "1"}
    destinations.messages.delete(REGION, "q", [fresh.receipt_handle]).result()
    clock.advance(11)
    assert _receive(destinations) == []
    assert parse_handle(fresh.receipt_handle)[:2] == parse_handle(stale.receipt_handle)[:2]


def test_garbage_receipt_handle_is_invalid(destinations: Destinations) -> None:
    _create(destinations)
    [error] = destinations.messages.delete(REGION, "q", ["%%%"]).result()
    assert isinstance(error, ReceiptHandleIsInvalid)


def test_redrive_moves_to_the_dead_letter_queue(destinations: Destinations, clock: Clock) -> None:
    _create(destinations, "dlq")
    arn = destinations.queues.arn(REGION, "dlq")
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 1})
    _create(destinations, VisibilityTimeout="5", RedrivePolicy=policy)
    _send(destinations, "poison")
    assert len(_receive(destinations)) == 1
    clock.advance(6)
    assert _receive(destinations) == []
    [moved] = _receive(destinations, "dlq")
    assert moved.body == "poison"
    assert moved.receive_count == 1


def test_sends_notify_long_pollers_after_commit(destinations: Destinations) -> None:
    _create(destinations)
    woken: list[str] = []
    unsubscribe = destinations.signals.subscribe((REGION, "q"), lambda: woken.append("x"))
    _send(destinations, "a")
    assert woken == ["x"]
    unsubscribe()
    _send(destinations, "b")
    assert woken == ["x"]
    assert destinations.signals.waiting((REGION, "q")) == 0


def test_attribute_counts(destinations: Destinations) -> None:
    _create(destinations)
    for body in "abc":
        _send(destinations, body)
    destinations.messages.send(REGION, "q", [Outgoing("d", delay_seconds=30)]).result()
    _receive(destinations, count=1)
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    got = destinations.queues.attributes(REGION, "q", names)
    assert [got[n] for n in names] == ["2", "1", "1"]


# -- deliver: the interface the mapping runtime calls ---------------------------------------


def test_deliver_to_a_queue_sends_the_body(destinations: Destinations) -> None:
    _create(destinations)
    destinations.deliver(destinations.queues.arn(REGION, "q"), b'{"condition": "x"}')
    [message] = _receive(destinations)
    assert json.loads(message.body) == {"condition": "x"}


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sqs:us-east-1:000000000000:missing",
        "arn:aws:sqs:us-east-1:111111111111:q",
        "arn:aws:sqs:eu-west-1:000000000000:q",
        "arn:aws:kafka:us-east-1:000000000000:cluster/x",
        "nonsense",
    ],
)
def test_deliver_to_a_missing_target_raises_destination_not_found(
    destinations: Destinations, arn: str
) -> None:
    _create(destinations)
    with pytest.raises(DestinationNotFound):
        destinations.deliver(arn, b"{}")


def test_missing_queue_is_a_destination_not_found(destinations: Destinations) -> None:
    with pytest.raises(QueueDoesNotExist):
        _receive(destinations, "nope")
    assert issubclass(QueueDoesNotExist, DestinationNotFound)


# -- buckets --------------------------------------------------------------------------------


def test_deliver_to_a_bucket_writes_the_object_at_the_key(
    destinations: Destinations, tmp_path: Path
) -> None:
    destinations.buckets.create("failures", REGION)
    key = "aws/lambda/uuid/shard/2026/11/23/record"
    destinations.deliver("arn:aws:s3:::failures", b'{"payload": 1}', s3_key=key)
    assert destinations.buckets.read("failures", key) == b'{"payload": 1}'
    stored = destinations.buckets.head("failures", key)
    assert stored.path == tmp_path / "s3" / REGION / "failures" / key
    assert stored.headers == {"content-type": "application/json"}
    with pytest.raises(DestinationNotFound):
        destinations.deliver("arn:aws:s3:::missing", b"{}", s3_key="k")


def test_keys_that_cannot_be_paths_are_kept_aside(destinations: Destinations) -> None:
    destinations.buckets.create("b-1", REGION)
    for key in ("a/b", "a", "../up", "x/", "./dot"):
        destinations.buckets.put("b-1", key, key.encode(), {})
    for key in ("a/b", "a", "../up", "x/", "./dot"):
        assert destinations.buckets.read("b-1", key) == key.encode()
    root = destinations.buckets.root.resolve()
    for key in ("a", "../up", "x/", "./dot"):
        path = destinations.buckets.head("b-1", key).path.resolve()
        assert path.parent.name == ".headwater"
        assert root in path.parents
    listing = destinations.buckets.list_objects("b-1", delimiter="/")
    assert [o.key for o in listing.objects] == ["a"]
    assert listing.common_prefixes == ["../", "./", "a/", "x/"]


def test_listing_pages_resume_after_a_common_prefix(destinations: Destinations) -> None:
    destinations.buckets.create("b-2", REGION)
    for key in ("a/1", "a/2", "b", "c/1"):
        destinations.buckets.put("b-2", key, b"x", {})
    first = destinations.buckets.list_objects("b-2", delimiter="/", max_keys=1)
    assert (first.common_prefixes, first.truncated, first.last) == (["a/"], True, "a/")
    second = destinations.buckets.list_objects("b-2", delimiter="/", max_keys=2, after="a/")
    assert [o.key for o in second.objects] == ["b"]
    assert second.common_prefixes == ["c/"]
    assert second.truncated is False


# -- topics ---------------------------------------------------------------------------------


def test_deliver_to_a_topic_reaches_its_queues_as_a_notification(
    destinations: Destinations,
) -> None:
    _create(destinations)
    topic = destinations.topics.create(REGION, "failures", {}).result()
    destinations.topics.subscribe(topic, "sqs", destinations.queues.arn(REGION, "q"), {}).result()
    destinations.deliver(topic, b'{"condition": "RetryAttemptsExhausted"}')
    [message] = _receive(destinations)
    envelope = json.loads(message.body)
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == topic
    assert json.loads(envelope["Message"]) == {"condition": "RetryAttemptsExhausted"}


@pytest.mark.parametrize(
    "arn", ["arn:aws:sns:us-east-1:000000000000:missing", "arn:aws:sns:bad", "arn:aws:sns:::"]
)
def test_deliver_to_a_missing_topic_raises_destination_not_found(
    destinations: Destinations, arn: str
) -> None:
    with pytest.raises(DestinationNotFound):
        destinations.deliver(arn, b"{}")


def test_zero_visibility_never_returns_a_message_twice_in_one_receive(
    destinations: Destinations,
) -> None:
    _create(destinations, VisibilityTimeout="0")
    _send(destinations, "a")
    _send(destinations, "b")
    got = _receive(destinations, count=10)
    assert sorted(m.body for m in got) == ["a", "b"]
    assert sorted(m.body for m in _receive(destinations, count=10)) == ["a", "b"]


def test_receive_never_returns_more_than_asked_for(destinations: Destinations) -> None:
    _create(destinations)
    for i in range(5):
        _send(destinations, str(i))
    assert [m.body for m in _receive(destinations, count=2)] == ["0", "1"]
    assert [m.body for m in _receive(destinations, count=2)] == ["2", "3"]
