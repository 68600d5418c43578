"""AWS's identifier formats: stream labels, ARNs, shard ids, sequence numbers."""

from __future__ import annotations

import re

import pytest

from headwater.streams import ids


def test_stream_label_is_utc_iso_with_milliseconds() -> None:
    assert ids.stream_label(1432154670.252) == "2015-05-20T20:44:30.252"


def test_stream_label_matches_the_aws_pattern() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}", ids.stream_label(1.5e9))


def test_stream_label_of_a_whole_second_has_zero_milliseconds() -> None:
    assert ids.stream_label(0) == "1970-01-01T00:00:00.000"


def test_stream_label_rounding_up_to_a_full_second_carries() -> None:
    assert ids.stream_label(1.9996) == "1970-01-01T00:00:02.000"


def test_stream_arn_format() -> None:
    assert (
        ids.stream_arn("eu-west-1", "123456789012", "orders", "2015-05-20T20:44:30.252")
        == "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2015-05-20T20:44:30.252"
    )


def test_table_arn_format() -> None:
    assert (
        ids.table_arn("eu-west-1", "123456789012", "orders")
        == "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
    )


def test_shard_id_is_prefix_twenty_digit_millis_and_eight_hex() -> None:
    shard = ids.shard_id(1414562045.508)
    assert re.fullmatch(r"shardId-\d{20}-[0-9a-f]{8}", shard)
    assert shard.startswith("shardId-00000001414562045508-")


def test_shard_ids_of_the_same_instant_differ() -> None:
    assert ids.shard_id(1.0e9) != ids.shard_id(1.0e9)


@pytest.mark.parametrize("seq", [0, 1, 2, 10**6, 10**19])
def test_sequence_numbers_have_at_least_21_digits(seq: int) -> None:
    text = ids.format_sequence(seq)
    assert text.isdigit()
    assert len(text) >= 21


@pytest.mark.parametrize("seq", [0, 1, 41, 10**12, 10**25])
def test_sequence_numbers_round_trip(seq: int) -> None:
    assert ids.parse_sequence(ids.format_sequence(seq)) == seq


def test_formatted_sequence_numbers_order_as_integers() -> None:
    assert int(ids.format_sequence(9)) < int(ids.format_sequence(10))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "1" * 20,  # too short
        "1" * 41,  # too long
        "12345678901234567890a",
        "-" + "1" * 21,
        "+" + "1" * 21,
        " " + "1" * 21,
        "1" * 10 + "." + "1" * 10,
        "0" * 21,  # below the offset: not one of ours
    ],
)
def test_parse_sequence_rejects_what_is_not_one_of_ours(text: str) -> None:
    assert ids.parse_sequence(text) is None


@pytest.mark.parametrize("text", ["1" * 20 + "²", "١" * 21])
def test_parse_sequence_rejects_non_ascii_digits(text: str) -> None:
    assert ids.parse_sequence(text) is None


def test_event_ids_are_32_hex_and_unique() -> None:
    first, second = ids.event_id(), ids.event_id()
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second
