"""The Prometheus endpoint: function and mapping metrics as a scraper sees them."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import create_function, create_stream_table, wait_until

HANDLER = """
def handler(event, context):
    for record in event.get("Records", []):
        if record["dynamodb"]["Keys"]["pk"]["S"] == "bad":
            raise ValueError("bad record")
"""


def _scrape(server: Any) -> str:
    with urllib.request.urlopen(f"{server.url}/_headwater/metrics", timeout=10) as response:
        assert response.headers["content-type"].startswith("text/plain")
        return str(response.read().decode())


def _value(text: str, name: str, **labels: str) -> float:
    label_text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    found = re.search(rf"^{name}\{{{re.escape(label_text)}\}} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_invocations_errors_and_mapping_counts_are_exported(
    server: Any, ddb: Any, lam: Any, tmp_path: Path
) -> None:
    table, stream = create_stream_table(ddb)
    fn = create_function(lam, HANDLER)
    uuid = lam.create_event_source_mapping(
        FunctionName=fn,
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=0,
        FilterCriteria={"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]},
    )["UUID"]
    wait_until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    ddb.put_item(TableName=table, Item={"pk": {"S": "good"}})
    # Its own batch first (else all three may share one, and one invocation is counted).
    wait_until(
        lambda: _value(_scrape(server), "headwater_lambda_invocations_total", function=fn) >= 1
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "good"}, "v": {"N": "1"}})  # MODIFY
    ddb.put_item(TableName=table, Item={"pk": {"S": "bad"}})

    def settled() -> str | None:
        text = _scrape(server)
        done = _value(text, "headwater_esm_dropped_events_total", mapping=uuid) >= 1
        return text if done else None

    text = wait_until(settled)
    assert _value(text, "headwater_lambda_invocations_total", function=fn) >= 2
    assert _value(text, "headwater_lambda_errors_total", function=fn) >= 1
    assert _value(text, "headwater_esm_polled_events_total", mapping=uuid) >= 3
    assert _value(text, "headwater_esm_filtered_out_events_total", mapping=uuid) >= 1
    assert _value(text, "headwater_esm_failed_invoke_events_total", mapping=uuid) >= 1
    assert "# TYPE headwater_esm_iterator_age_milliseconds gauge" in text
    assert re.search(rf'headwater_esm_iterator_age_milliseconds\{{mapping="{uuid}"\}} ', text)


def _plain(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.M)
    assert found is not None, f"{name} is not exported"
    return float(found.group(1))


def test_group_commit_counts_are_exported(server: Any, ddb: Any) -> None:
    table, _stream = create_stream_table(ddb)
    before = _scrape(server)
    for i in range(3):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"group-{i}"}})
    after = _scrape(server)
    groups = _plain(after, "headwater_storage_commit_groups_total") - _plain(
        before, "headwater_storage_commit_groups_total"
    )
    writes = _plain(after, "headwater_storage_committed_writes_total") - _plain(
        before, "headwater_storage_committed_writes_total"
    )
    assert groups >= 1
    assert writes >= 3  # the three puts (other writes of the server may share the window)
    assert writes >= groups
