"""Building the Lambda event for a batch of stream records (spec §3.2).

Records are stored as their GetRecords JSON; the Lambda form only adds ``eventSourceARN`` at
the end, so the payload is spliced from bytes without parsing anything.
"""

from __future__ import annotations

import orjson


def lambda_event(records: list[bytes], stream_arn: str) -> bytes:
    suffix = b',"eventSourceARN":' + orjson.dumps(stream_arn) + b"}"
    return b'{"Records":[' + b",".join(r[:-1] + suffix for r in records) + b"]}"
