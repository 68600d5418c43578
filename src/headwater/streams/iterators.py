"""Shard iterators: opaque, self-validating, expiring tokens.

A token names the stream (as AWS's do), then carries the shard, the next sequence number to read
and the issue time, sealed with an HMAC under a key kept in the database, so tokens survive a
restart and cannot be forged or edited. They expire 15 minutes after issue.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from dataclasses import dataclass

from headwater.errors import ExpiredIterator, ValidationError

ITERATOR_LIFETIME_SECONDS = 15 * 60
_LAYOUT = struct.Struct(">QQQQ")  # shard_key, from_seq, issued_ms, reader


@dataclass(frozen=True)
class Position:
    stream_arn: str
    shard_key: int
    from_seq: int
    issued_ms: int
    reader: int = 0  # one id per GetShardIterator call, carried along its NextShardIterators


class IteratorCodec:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, arn: str, body: bytes) -> bytes:
        return hmac.new(self._secret, arn.encode() + body, hashlib.sha256).digest()[:16]

    def encode(self, position: Position) -> str:
        body = _LAYOUT.pack(
            position.shard_key, position.from_seq, position.issued_ms, position.reader
        )
        token = base64.b64encode(body + self._mac(position.stream_arn, body)).decode()
        return f"{position.stream_arn}|1|{token}"

    def decode(self, text: str, now_ms: int) -> Position:
        arn, sep1, rest = text.partition("|1|")
        invalid = ValidationError(
            f"Invalid ShardIterator: {text}" if len(text) < 200 else "Invalid ShardIterator"
        )
        if not sep1:
            raise invalid
        try:
            raw = base64.b64decode(rest, validate=True)
        except ValueError:
            raise invalid from None
        if len(raw) != _LAYOUT.size + 16:
            raise invalid
        body, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
        if not hmac.compare_digest(mac, self._mac(arn, body)):
            raise invalid
        shard_key, from_seq, issued_ms, reader = _LAYOUT.unpack(body)
        if now_ms - issued_ms > ITERATOR_LIFETIME_SECONDS * 1000:
            raise ExpiredIterator(
                "Iterator expired. The iterator was created at time "
                f"{issued_ms} while right now it is {now_ms}."
            )
        return Position(arn, shard_key, from_seq, issued_ms, reader)
