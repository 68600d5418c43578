"""The DynamoDB Streams read API: ListStreams, DescribeStream, GetShardIterator, GetRecords."""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass

from headwater.errors import LimitExceeded, ResourceNotFound, TrimmedDataAccess, ValidationError
from headwater.streams import ids
from headwater.streams.iterators import IteratorCodec, Position
from headwater.streams.log import ShardInfo, StreamInfo, StreamLog

MAX_RESPONSE_BYTES = 1024 * 1024
TRIMMED = "The data you are trying to access has been trimmed."
_ARN = re.compile(r"^arn:aws:dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.-]{3,255}/stream/.+$")


@dataclass(frozen=True)
class RecordsPage:
    records: list[bytes]
    next_iterator: str | None


READER_WINDOW_MS = 1000


class StreamService:
    def __init__(
        self, log: StreamLog, codec: IteratorCodec, readers_per_shard: int | None = None
    ) -> None:
        self.log = log
        self.codec = codec
        # Strict mode: AWS throttles a shard read by more than two processes at once. A reader
        # is one GetShardIterator call and the NextShardIterators that follow from it.
        self.readers_per_shard = readers_per_shard
        self._readers: dict[int, dict[int, int]] = {}
        self._readers_lock = threading.Lock()

    def _admit(self, shard_key: int, reader: int, now_ms: int) -> None:
        if self.readers_per_shard is None:
            return
        with self._readers_lock:
            recent = {
                r: t
                for r, t in self._readers.get(shard_key, {}).items()
                if now_ms - t < READER_WINDOW_MS
            }
            if reader not in recent and len(recent) >= self.readers_per_shard:
                self._readers[shard_key] = recent
                raise LimitExceeded("Too many operations for a given subscriber.")
            recent[reader] = now_ms
            self._readers[shard_key] = recent

    def _stream(self, arn: str) -> StreamInfo:
        if not _ARN.match(arn):
            raise ValidationError(f"Invalid StreamArn: {arn}")
        info = self.log.stream(arn)
        if info is None:
            raise ResourceNotFound(f"Requested resource not found: Stream: {arn} not found")
        return info

    def list_streams(
        self, region: str, table_name: str | None, limit: int, exclusive_start: str | None
    ) -> tuple[list[StreamInfo], str | None]:
        found = [
            s
            for s in self.log.streams()
            if s.region == region and (table_name is None or s.table_name == table_name)
        ]
        if exclusive_start is not None:
            arns = [s.arn for s in found]
            found = found[arns.index(exclusive_start) + 1 :] if exclusive_start in arns else []
        page = found[:limit]
        more = len(found) > limit
        return page, (page[-1].arn if more and page else None)

    def describe_stream(
        self,
        arn: str,
        limit: int,
        exclusive_start_shard: str | None,
        child_shards_of: str | None = None,
    ) -> tuple[StreamInfo, list[ShardInfo], str | None]:
        info = self._stream(arn)
        shards = self.log.shards(arn)
        if child_shards_of is not None:
            shards = [s for s in shards if s.parent_shard_id == child_shards_of]
        if exclusive_start_shard is not None:
            shard_ids = [s.shard_id for s in shards]
            if exclusive_start_shard in shard_ids:
                shards = shards[shard_ids.index(exclusive_start_shard) + 1 :]
        page = shards[:limit]
        last = page[-1].shard_id if len(shards) > limit and page else None
        return info, page, last

    def get_shard_iterator(
        self, arn: str, shard_id: str, iterator_type: str, sequence_number: str | None
    ) -> str:
        self._stream(arn)
        shard = self.log.shard(arn, shard_id)
        if shard is None:
            raise ResourceNotFound(
                f"Requested resource not found: Shard: {shard_id} in Stream: {arn} not found"
            )
        latest = self.log.latest_seq(shard)
        if iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            if sequence_number is None:
                raise ValidationError(
                    f"SequenceNumber is required for ShardIteratorType {iterator_type}"
                )
            seq = ids.parse_sequence(sequence_number)
            end = shard.end_seq if shard.end_seq is not None else latest
            if seq is None or seq < shard.start_seq or seq > max(end, shard.start_seq):
                raise ValidationError(
                    f"Invalid SequenceNumber {sequence_number} for shard {shard_id}: "
                    "it is not within the shard's sequence number range"
                )
            if seq <= shard.trimmed_seq:
                raise TrimmedDataAccess(TRIMMED)
            from_seq = seq if iterator_type == "AT_SEQUENCE_NUMBER" else seq + 1
        elif sequence_number is not None:
            raise ValidationError(
                f"SequenceNumber must not be given for ShardIteratorType {iterator_type}"
            )
        elif iterator_type == "TRIM_HORIZON":
            from_seq = max(shard.start_seq, shard.trimmed_seq + 1)
        elif iterator_type == "LATEST":
            from_seq = latest + 1
        else:
            raise ValidationError(f"Unsupported ShardIteratorType {iterator_type}")
        reader = secrets.randbits(63)
        return self.codec.encode(
            Position(arn, shard.shard_key, from_seq, self.log.clock.time_ms(), reader)
        )

    def get_records(self, iterator: str, limit: int) -> RecordsPage:
        now_ms = self.log.clock.time_ms()
        position = self.codec.decode(iterator, now_ms)
        self._stream(position.stream_arn)
        shard = next(
            (s for s in self.log.shards(position.stream_arn) if s.shard_key == position.shard_key),
            None,
        )
        if shard is None:
            raise ResourceNotFound(
                f"Requested resource not found: Stream: {position.stream_arn} not found"
            )
        if position.from_seq <= shard.trimmed_seq:
            raise TrimmedDataAccess(TRIMMED)
        self._admit(shard.shard_key, position.reader, now_ms)
        rows = self.log.read(shard.shard_key, position.from_seq, limit)
        records: list[bytes] = []
        size = 0
        next_seq = position.from_seq
        for seq, _created, record in rows:
            if records and size + len(record) > MAX_RESPONSE_BYTES:
                break
            records.append(record)
            size += len(record)
            next_seq = seq + 1
        if shard.end_seq is not None and (
            not rows or (next_seq > shard.end_seq and len(records) == len(rows))
        ):
            return RecordsPage(records, None)
        next_iterator = self.codec.encode(
            Position(position.stream_arn, shard.shard_key, next_seq, now_ms, position.reader)
        )
        return RecordsPage(records, next_iterator)
