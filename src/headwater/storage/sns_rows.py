"""The SQL of SNS topics and their subscriptions (keyed by their ARNs)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

Conn = sqlite3.Connection


@dataclass(frozen=True)
class TopicRow:
    arn: str
    region: str
    name: str
    attributes: bytes
    created: float


@dataclass(frozen=True)
class SubscriptionRow:
    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    attributes: bytes


_TOPIC = "SELECT arn, region, name, attributes, created FROM sns_topics"
_SUBSCRIPTION = "SELECT arn, topic_arn, protocol, endpoint, attributes FROM sns_subscriptions"


def get_topic(conn: Conn, arn: str) -> TopicRow | None:
    row = conn.execute(f"{_TOPIC} WHERE arn = ?", (arn,)).fetchone()
    return None if row is None else TopicRow(row[0], row[1], row[2], bytes(row[3]), row[4])


def list_topics(conn: Conn, region: str, after: str, limit: int) -> list[str]:
    return [
        str(arn)
        for (arn,) in conn.execute(
            "SELECT arn FROM sns_topics WHERE region = ? AND arn > ? ORDER BY arn LIMIT ?",
            (region, after, limit),
        )
    ]


def insert_topic(conn: Conn, topic: TopicRow) -> None:
    conn.execute(
        "INSERT INTO sns_topics (arn, region, name, attributes, created) VALUES (?, ?, ?, ?, ?)",
        (topic.arn, topic.region, topic.name, topic.attributes, topic.created),
    )


def update_topic_attributes(conn: Conn, arn: str, attributes: bytes) -> None:
    conn.execute("UPDATE sns_topics SET attributes = ? WHERE arn = ?", (attributes, arn))


def delete_topic(conn: Conn, arn: str) -> None:
    conn.execute("DELETE FROM sns_subscriptions WHERE topic_arn = ?", (arn,))
    conn.execute("DELETE FROM sns_topics WHERE arn = ?", (arn,))


def _subscription(row: tuple[str, str, str, str, bytes]) -> SubscriptionRow:
    return SubscriptionRow(row[0], row[1], row[2], row[3], bytes(row[4]))


def get_subscription(conn: Conn, arn: str) -> SubscriptionRow | None:
    row = conn.execute(f"{_SUBSCRIPTION} WHERE arn = ?", (arn,)).fetchone()
    return None if row is None else _subscription(row)


def subscriptions_of(conn: Conn, topic_arn: str) -> list[SubscriptionRow]:
    return [
        _subscription(row)
        for row in conn.execute(f"{_SUBSCRIPTION} WHERE topic_arn = ? ORDER BY arn", (topic_arn,))
    ]


def all_subscriptions(conn: Conn, region_prefix: str) -> list[SubscriptionRow]:
    """Every subscription whose topic ARN starts with ``region_prefix`` (its region's)."""
    return [
        _subscription(row)
        for row in conn.execute(
            f"{_SUBSCRIPTION} WHERE substr(topic_arn, 1, ?) = ? ORDER BY arn",
            (len(region_prefix), region_prefix),
        )
    ]


def insert_subscription(conn: Conn, subscription: SubscriptionRow) -> None:
    conn.execute(
        "INSERT INTO sns_subscriptions (arn, topic_arn, protocol, endpoint, attributes) "
        "VALUES (?, ?, ?, ?, ?)",
        (
            subscription.arn,
            subscription.topic_arn,
            subscription.protocol,
            subscription.endpoint,
            subscription.attributes,
        ),
    )


def update_subscription_attributes(conn: Conn, arn: str, attributes: bytes) -> None:
    conn.execute("UPDATE sns_subscriptions SET attributes = ? WHERE arn = ?", (attributes, arn))


def delete_subscription(conn: Conn, arn: str) -> None:
    conn.execute("DELETE FROM sns_subscriptions WHERE arn = ?", (arn,))
