"""Write → handler-start latency and end-to-end records/s for the whole loop.

Starts a real Headwater server (durable SQLite in a temporary directory), creates a table with
a stream, a Python function and a mapping (BatchSize 100, LATEST), then:

1. latency: a few hundred PutItems, one at a time with a short pause; each item carries the
   client's send time, and the handler notes when it starts; p50/p99 of the difference;
2. throughput: many PutItems from several client threads; records/s from the first send to the
   handler having seen the last record.

    python benchmarks/loop_latency.py [--writes 300] [--burst 3000] [--threads 4]

Prints a summary and writes benchmarks/results/loop_latency.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

from headwater.testing import HeadwaterServer

HANDLER = """
import json, os, time

OUT = os.environ["OUT"]

def handler(event, context):
    started = time.time()
    with open(OUT, "a") as out:
        for record in event["Records"]:
            image = record["dynamodb"].get("NewImage", {})
            sent = float(image.get("sent", {}).get("N", "0"))
            out.write(f"{sent} {started} {len(event['Records'])}\\n")
"""


def _zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", text)
    return buffer.getvalue()


def _read(path: Path) -> list[tuple[float, float, int]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        sent, started, size = line.split()
        rows.append((float(sent), float(started), int(size)))
    return rows


def _wait_for(path: Path, count: int, timeout: float) -> list[tuple[float, float, int]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = _read(path)
        if len(rows) >= count:
            return rows
        time.sleep(0.01)
    raise TimeoutError(f"only {len(_read(path))} of {count} records reached the handler")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def run(writes: int, burst: int, threads: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "handler.log"
        with HeadwaterServer(data_dir=Path(tmp) / "data") as server:
            ddb, lam = server.client("dynamodb"), server.client("lambda")
            ddb.create_table(
                TableName="bench",
                BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
            )
            stream = ddb.describe_table(TableName="bench")["Table"]["LatestStreamArn"]
            lam.create_function(
                FunctionName="bench",
                Runtime="python3.11",
                Handler="app.handler",
                Role="arn:aws:iam::000000000000:role/bench",
                Code={"ZipFile": _zip(HANDLER)},
                Environment={"Variables": {"OUT": str(out)}},
                Timeout=30,
            )
            uuid = lam.create_event_source_mapping(
                FunctionName="bench",
                EventSourceArn=stream,
                StartingPosition="LATEST",
                BatchSize=100,
            )["UUID"]
            while lam.get_event_source_mapping(UUID=uuid)["State"] != "Enabled":
                time.sleep(0.01)
            # Warm up: the first invocation pays for the worker's start.
            ddb.put_item(TableName="bench", Item={"pk": {"S": "warm"}, "sent": {"N": "0"}})
            _wait_for(out, 1, 30)
            out.unlink()

            for i in range(writes):
                ddb.put_item(
                    TableName="bench", Item={"pk": {"S": f"l{i}"}, "sent": {"N": repr(time.time())}}
                )
                time.sleep(0.005)
            rows = _wait_for(out, writes, 60)
            latencies = [(started - sent) * 1000 for sent, started, _ in rows]
            out.unlink()

            per_thread = burst // threads

            def writer(t: int) -> None:
                client = server.client("dynamodb")
                for i in range(per_thread):
                    client.put_item(
                        TableName="bench", Item={"pk": {"S": f"b{t}-{i}"}, "sent": {"N": "0"}}
                    )

            begin = time.time()
            workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            write_done = time.time()
            rows = _wait_for(out, per_thread * threads, 120)
            delivered = max(started for _, started, _ in rows)
            batches = [size for _, _, size in rows]
    total = per_thread * threads
    return {
        "benchmark": "loop_latency",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "latency_ms": {
            "writes": writes,
            "p50": round(statistics.median(latencies), 3),
            "p90": round(percentile(latencies, 90), 3),
            "p99": round(percentile(latencies, 99), 3),
            "max": round(max(latencies), 3),
        },
        "throughput": {
            "records": total,
            "client_threads": threads,
            "write_seconds": round(write_done - begin, 3),
            "writes_per_second": round(total / (write_done - begin), 1),
            "end_to_end_records_per_second": round(total / (delivered - begin), 1),
            "mean_batch_size": round(statistics.mean(batches), 1),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--burst", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).parent / "results" / "loop_latency.json"
    )
    args = parser.parse_args()
    result = run(args.writes, args.burst, args.threads)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    lat, thr = result["latency_ms"], result["throughput"]
    print(
        f"write -> handler start: p50 {lat['p50']} ms, p90 {lat['p90']} ms, "
        f"p99 {lat['p99']} ms over {lat['writes']} writes"
    )
    print(
        f"end to end: {thr['end_to_end_records_per_second']} records/s "
        f"({thr['records']} records, {thr['client_threads']} client threads, "
        f"writes {thr['writes_per_second']}/s, mean batch {thr['mean_batch_size']})"
    )
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
