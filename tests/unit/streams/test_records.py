"""Which event a write is, and what its record carries for each view type."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.model.size import item_size
from headwater.streams.records import build_record, event_name

Item = dict[str, Any]

KEYS: Item = {"Id": {"N": "101"}}
OLD: Item = {"Id": {"N": "101"}, "Message": {"S": "Old"}}
NEW: Item = {"Id": {"N": "101"}, "Message": {"S": "New item!"}}


def record(view_type: str, old: Item | None = OLD, new: Item | None = NEW) -> dict[str, Any]:
    return build_record(
        name="MODIFY",
        view_type=view_type,
        keys=KEYS,
        old=old,
        new=new,
        region="us-west-2",
        sequence_number="100000000000000000042",
        created=1700000000.75,
        event_id="e" * 32,
    )


# -- event_name ---------------------------------------------------------------------------------


def test_new_item_is_insert() -> None:
    assert event_name(None, NEW) == "INSERT"


def test_deleted_item_is_remove() -> None:
    assert event_name(OLD, None) == "REMOVE"


def test_deleting_a_missing_item_is_no_event() -> None:
    assert event_name(None, None) is None


def test_changed_item_is_modify() -> None:
    assert event_name(OLD, NEW) == "MODIFY"


def test_identical_item_is_no_event() -> None:
    assert event_name(OLD, {"Message": {"S": "Old"}, "Id": {"N": "101"}}) is None


def test_added_attribute_is_modify() -> None:
    assert event_name(OLD, {**OLD, "Extra": {"BOOL": True}}) == "MODIFY"


def test_removed_attribute_is_modify() -> None:
    assert event_name(OLD, {"Id": {"N": "101"}}) == "MODIFY"


def test_sets_in_another_order_are_no_change() -> None:
    old = {"Id": {"N": "1"}, "Tags": {"SS": ["a", "b", "c"]}, "Ns": {"NS": ["1", "2"]}}
    new = {"Id": {"N": "1"}, "Tags": {"SS": ["c", "a", "b"]}, "Ns": {"NS": ["2", "1"]}}
    assert event_name(old, new) is None


def test_a_changed_set_member_is_modify() -> None:
    old = {"Id": {"N": "1"}, "Tags": {"SS": ["a", "b"]}}
    new = {"Id": {"N": "1"}, "Tags": {"SS": ["a", "c"]}}
    assert event_name(old, new) == "MODIFY"


def test_equal_numbers_written_differently_are_no_change() -> None:
    assert event_name({"Id": {"N": "1"}}, {"Id": {"N": "1.00"}}) is None


def test_a_changed_type_is_modify() -> None:
    assert event_name({"Id": {"N": "1"}, "v": {"S": "1"}}, {"Id": {"N": "1"}, "v": {"N": "1"}}) == (
        "MODIFY"
    )


def test_list_order_matters() -> None:
    old = {"Id": {"N": "1"}, "l": {"L": [{"S": "a"}, {"S": "b"}]}}
    new = {"Id": {"N": "1"}, "l": {"L": [{"S": "b"}, {"S": "a"}]}}
    assert event_name(old, new) == "MODIFY"


def test_a_changed_nested_map_value_is_modify() -> None:
    old = {"Id": {"N": "1"}, "m": {"M": {"x": {"N": "1"}}}}
    new = {"Id": {"N": "1"}, "m": {"M": {"x": {"N": "2"}}}}
    assert event_name(old, new) == "MODIFY"


# -- build_record -------------------------------------------------------------------------------


def test_keys_only_carries_no_image() -> None:
    body = record("KEYS_ONLY")["dynamodb"]
    assert "NewImage" not in body
    assert "OldImage" not in body
    assert body["Keys"] == KEYS


def test_new_image_carries_only_the_new_image() -> None:
    body = record("NEW_IMAGE")["dynamodb"]
    assert body["NewImage"] == NEW
    assert "OldImage" not in body


def test_old_image_carries_only_the_old_image() -> None:
    body = record("OLD_IMAGE")["dynamodb"]
    assert body["OldImage"] == OLD
    assert "NewImage" not in body


def test_new_and_old_images_carries_both() -> None:
    body = record("NEW_AND_OLD_IMAGES")["dynamodb"]
    assert body["NewImage"] == NEW
    assert body["OldImage"] == OLD


def test_remove_has_no_new_image_even_when_the_view_asks_for_it() -> None:
    body = record("NEW_AND_OLD_IMAGES", new=None)["dynamodb"]
    assert "NewImage" not in body
    assert body["OldImage"] == OLD


def test_insert_has_no_old_image_even_when_the_view_asks_for_it() -> None:
    body = record("NEW_AND_OLD_IMAGES", old=None)["dynamodb"]
    assert "OldImage" not in body
    assert body["NewImage"] == NEW


def test_size_bytes_matches_the_aws_documentation_example() -> None:
    # AWS's example record: Keys {Id: 101}, NewImage {Message: "New item!", Id: 101}: 26 bytes
    assert record("NEW_IMAGE", old=None)["dynamodb"]["SizeBytes"] == 26


@pytest.mark.parametrize(
    ("view_type", "images"),
    [
        ("KEYS_ONLY", ()),
        ("NEW_IMAGE", (NEW,)),
        ("OLD_IMAGE", (OLD,)),
        ("NEW_AND_OLD_IMAGES", (NEW, OLD)),
    ],
)
def test_size_bytes_counts_keys_and_the_images_carried(
    view_type: str, images: tuple[Item, ...]
) -> None:
    expected = item_size(KEYS) + sum(item_size(image) for image in images)
    assert record(view_type)["dynamodb"]["SizeBytes"] == expected


def test_record_fields_are_the_aws_ones() -> None:
    built = record("NEW_IMAGE")
    assert built["eventID"] == "e" * 32
    assert built["eventName"] == "MODIFY"
    assert built["eventVersion"] == "1.1"
    assert built["eventSource"] == "aws:dynamodb"
    assert built["awsRegion"] == "us-west-2"
    body = built["dynamodb"]
    assert body["SequenceNumber"] == "100000000000000000042"
    assert body["StreamViewType"] == "NEW_IMAGE"


def test_creation_time_is_whole_seconds() -> None:
    assert record("KEYS_ONLY")["dynamodb"]["ApproximateCreationDateTime"] == 1700000000.0


def test_body_keys_are_in_the_order_aws_sends_them() -> None:
    assert list(record("NEW_AND_OLD_IMAGES")["dynamodb"]) == [
        "ApproximateCreationDateTime",
        "Keys",
        "NewImage",
        "OldImage",
        "SequenceNumber",
        "SizeBytes",
        "StreamViewType",
    ]


def test_user_identity_only_when_given() -> None:
    assert "userIdentity" not in record("KEYS_ONLY")
    identity = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    built = build_record(
        name="REMOVE",
        view_type="KEYS_ONLY",
        keys=KEYS,
        old=OLD,
        new=None,
        region="us-west-2",
        sequence_number="100000000000000000001",
        created=0.0,
        event_id="x",
        user_identity=identity,
    )
    assert built["userIdentity"] == identity
