"""AWS's identifier formats for streams: ARNs, labels, shard ids and sequence numbers."""

from __future__ import annotations

import secrets
import time

# Sequence numbers are kept as small integers internally and shown to clients with this offset,
# which gives AWS's 21-digit minimum length (AWS compares them as integers, and so must clients).
SEQUENCE_OFFSET = 10**20
STREAM_ARN_PREFIX = "arn:aws:dynamodb:"


def stream_label(epoch_seconds: float) -> str:
    """``2015-05-20T20:51:10.252``: ISO-8601 with milliseconds and no zone, in UTC."""
    whole = int(epoch_seconds)
    millis = round((epoch_seconds - whole) * 1000)
    if millis == 1000:
        whole, millis = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}"


def stream_arn(region: str, account: str, table_name: str, label: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{table_name}/stream/{label}"


def table_arn(region: str, account: str, table_name: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{table_name}"


def shard_id(epoch_seconds: float) -> str:
    """``shardId-00000001414562045508-2bac9cd2``: creation time in ms, then 8 random hex."""
    return f"shardId-{int(epoch_seconds * 1000):020d}-{secrets.token_hex(4)}"


def format_sequence(seq: int) -> str:
    return str(SEQUENCE_OFFSET + seq)


def parse_sequence(text: str) -> int | None:
    """The internal number for a client's sequence number, or None when it is not one of ours."""
    if not (text.isascii() and text.isdigit()) or not 21 <= len(text) <= 40:
        return None
    value = int(text) - SEQUENCE_OFFSET
    return value if value >= 0 else None


def event_id() -> str:
    return secrets.token_hex(16)
