"""Shard iterators: sealed tokens that round-trip, reject tampering and expire."""

from __future__ import annotations

import base64

import pytest

from headwater.errors import ExpiredIterator, ValidationError
from headwater.streams.iterators import ITERATOR_LIFETIME_SECONDS, IteratorCodec, Position

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"
ISSUED = 1_700_000_000_000
POSITION = Position(ARN, shard_key=3, from_seq=42, issued_ms=ISSUED)


@pytest.fixture
def codec() -> IteratorCodec:
    return IteratorCodec(b"secret")


def test_token_round_trips(codec: IteratorCodec) -> None:
    assert codec.decode(codec.encode(POSITION), ISSUED) == POSITION


def test_token_names_the_stream(codec: IteratorCodec) -> None:
    assert codec.encode(POSITION).startswith(ARN + "|1|")


def test_token_stays_valid_for_fifteen_minutes(codec: IteratorCodec) -> None:
    token = codec.encode(POSITION)
    assert codec.decode(token, ISSUED + ITERATOR_LIFETIME_SECONDS * 1000) == POSITION


def test_token_expires_after_fifteen_minutes(codec: IteratorCodec) -> None:
    token = codec.encode(POSITION)
    with pytest.raises(ExpiredIterator):
        codec.decode(token, ISSUED + ITERATOR_LIFETIME_SECONDS * 1000 + 1)


def test_a_token_from_another_secret_is_invalid(codec: IteratorCodec) -> None:
    token = IteratorCodec(b"other").encode(POSITION)
    with pytest.raises(ValidationError):
        codec.decode(token, ISSUED)


def test_an_edited_body_is_invalid(codec: IteratorCodec) -> None:
    arn, _, sealed = codec.encode(POSITION).partition("|1|")
    raw = bytearray(base64.b64decode(sealed))
    raw[15] ^= 0x01  # from_seq 42 -> 43
    forged = f"{arn}|1|{base64.b64encode(bytes(raw)).decode()}"
    with pytest.raises(ValidationError):
        codec.decode(forged, ISSUED)


def test_an_edited_stream_arn_is_invalid(codec: IteratorCodec) -> None:
    token = codec.encode(POSITION).replace("table/orders/", "table/others/")
    with pytest.raises(ValidationError):
        codec.decode(token, ISSUED)


@pytest.mark.parametrize("cut", [1, 4, 8, 30])
def test_a_truncated_token_is_invalid(codec: IteratorCodec, cut: int) -> None:
    token = codec.encode(POSITION)
    with pytest.raises(ValidationError):
        codec.decode(token[:-cut], ISSUED)


@pytest.mark.parametrize(
    "token",
    ["", "garbage", f"{ARN}|1|", f"{ARN}|1|not base64!", f"{ARN}|1|ééé", f"{ARN}|2|AAAA"],
)
def test_malformed_tokens_are_invalid(codec: IteratorCodec, token: str) -> None:
    with pytest.raises(ValidationError, match="Invalid ShardIterator"):
        codec.decode(token, ISSUED)


def test_a_forged_seal_is_invalid_rather_than_expired(codec: IteratorCodec) -> None:
    arn, _, sealed = codec.encode(POSITION).partition("|1|")
    raw = bytearray(base64.b64decode(sealed))
    raw[-1] ^= 0xFF
    forged = f"{arn}|1|{base64.b64encode(bytes(raw)).decode()}"
    with pytest.raises(ValidationError):
        codec.decode(forged, ISSUED + ITERATOR_LIFETIME_SECONDS * 2000)
