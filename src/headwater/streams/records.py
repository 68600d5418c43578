"""Stream records: which event a write is, and what the record carries for each view type.

The rules are AWS's (spec §3.4, §3.5): INSERT when the item did not exist, MODIFY when it did and
changed, REMOVE when it existed and was deleted; no record at all when nothing changed. Images
are whole items, chosen by the stream's view type.
"""

from __future__ import annotations

from typing import Any

from headwater.model.size import item_size
from headwater.model.values import values_equal

Item = dict[str, Any]

VIEW_TYPES = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")


def items_equal(a: Item, b: Item) -> bool:
    if a.keys() != b.keys():
        return False
    return all(values_equal(a[name], b[name]) for name in a)


def event_name(old: Item | None, new: Item | None) -> str | None:
    """INSERT / MODIFY / REMOVE, or None when the write changed nothing."""
    if old is None:
        return None if new is None else "INSERT"
    if new is None:
        return "REMOVE"
    return None if items_equal(old, new) else "MODIFY"


def build_record(
    *,
    name: str,
    view_type: str,
    keys: Item,
    old: Item | None,
    new: Item | None,
    region: str,
    sequence_number: str,
    created: float,
    event_id: str,
    user_identity: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The GetRecords form of one record, keys in the order AWS sends them."""
    body: dict[str, Any] = {"ApproximateCreationDateTime": float(int(created)), "Keys": keys}
    size = item_size(keys)
    if new is not None and view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        body["NewImage"] = new
        size += item_size(new)
    if old is not None and view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        body["OldImage"] = old
        size += item_size(old)
    body["SequenceNumber"] = sequence_number
    body["SizeBytes"] = max(1, size)
    body["StreamViewType"] = view_type
    record: dict[str, Any] = {
        "eventID": event_id,
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": body,
    }
    if user_identity is not None:
        record["userIdentity"] = user_identity
    return record
