"""Event source mappings: Headwater beside MiniStack, in the same run.

For each server (see ``peers.py`` for how each starts) and each configuration — BatchSize 1, 100
and 1000 × ParallelizationFactor 1 and 4 × a silent handler and one that prints a line per
record — two measurements:

1. **latency**: a mapping at LATEST on a live table; PutItems one at a time, a short pause
   apart. The handler notes the instant it starts; the client notes two instants per request:
   when its last byte has been written to the socket (the request is on the wire: the moment
   any server could start on it — ``p50_ms``/``p99_ms``, what the goal is judged on) and,
   earlier, botocore's ``before-send`` event (after boto3's serialising and signing, before
   urllib3 takes a connection and writes — ``p50_ms_before_send``/``p99_ms_before_send``,
   which adds the client library's own send path). p50/p99 over ``--writes`` writes;
2. **throughput**: a backlog of ``--records`` stream records written beforehand (BatchWriteItem);
   a mapping at TRIM_HORIZON reads it. Records/s from the CreateEventSourceMapping call to the
   end of the invocation that saw the last record (each cell also capped at ``--cap`` seconds:
   a server that has not finished by then is credited with what it delivered by then).

The handler appends one line per invocation to a file: start, end, number of records and
(for small batches) the keys, so measuring costs it one small write.

    python benchmarks/mapping.py [--servers headwater,headwater-memory,ministack] [--writes 100]
                                 [--records 20000] [--cap 30] [--batch-sizes 1,100,1000]
                                 [--factors 1,4] [--handlers silent,printing]

Prints a table, writes benchmarks/results/mapping.json and docs/benchmarks-mapping.png.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.awsrequest import AWSConnection
from botocore.config import Config
from peers import DEFAULT_VENV_ROOT, Headwater, MiniStack, PeerUnavailable, Server, cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
ROLE = "arn:aws:iam::000000000000:role/bench"
GOALS = {"p50_ms": 2.0, "p99_ms": 5.0, "records_per_second": 20_000}

HANDLERS = {
    "silent": """
import os, time
OUT = os.environ["OUT"]

def handler(event, context):
    started = time.time()
    if "warm" in event:  # the benchmark starting workers: hold this one so others start
        time.sleep(event["warm"])
        return
    records = event["Records"]
    keys = " ".join(r["dynamodb"]["Keys"]["pk"]["S"] for r in records) if len(records) <= 10 else ""
    with open(OUT, "a") as out:
        out.write(f"{started} {time.time()} {len(records)} {keys}\\n")
""",
    "printing": """
import os, time
OUT = os.environ["OUT"]

def handler(event, context):
    started = time.time()
    if "warm" in event:  # the benchmark starting workers: hold this one so others start
        time.sleep(event["warm"])
        return
    records = event["Records"]
    for r in records:
        print("processing", r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"])
    keys = " ".join(r["dynamodb"]["Keys"]["pk"]["S"] for r in records) if len(records) <= 10 else ""
    with open(OUT, "a") as out:
        out.write(f"{started} {time.time()} {len(records)} {keys}\\n")
""",
}


_ON_WIRE: list[Any] = []  # callbacks run once a request's last byte is written (this thread)
_send_output = AWSConnection._send_output


def _send_output_noted(self: Any, *args: Any, **kwargs: Any) -> Any:
    result = _send_output(self, *args, **kwargs)
    if _ON_WIRE:
        _ON_WIRE[-1]()
    return result


AWSConnection._send_output = _send_output_noted  # type: ignore[method-assign]


def zipped(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", text)
    return buffer.getvalue()


def client(url: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=16),
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


Line = tuple[float, float, int, list[str]]


def read_lines(path: Path) -> list[Line]:
    if not path.exists():
        return []
    lines = []
    for text in path.read_text().splitlines():
        parts = text.split()
        if len(parts) < 3:
            continue  # a line being written
        lines.append((float(parts[0]), float(parts[1]), int(parts[2]), parts[3:]))
    return lines


def wait_records(path: Path, count: int, timeout: float) -> list[Line]:
    deadline = time.monotonic() + timeout
    lines = read_lines(path)
    while sum(n for _, _, n, _ in lines) < count and time.monotonic() < deadline:
        time.sleep(0.02)
        lines = read_lines(path)
    return lines


def create_table(ddb: Any, name: str) -> str:
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    for _ in range(600):
        table = ddb.describe_table(TableName=name)["Table"]
        if table["TableStatus"] == "ACTIVE" and table.get("LatestStreamArn"):
            return str(table["LatestStreamArn"])
        time.sleep(0.05)
    raise RuntimeError(f"table {name} never became ACTIVE")


def preload(url: str, table: str, records: int, threads: int = 4) -> float:
    """Write ``records`` items with BatchWriteItem from a few threads; seconds taken."""
    began = time.monotonic()
    per_thread = -(-records // threads)

    def writer(t: int) -> None:
        ddb = client(url, "dynamodb")
        first, last = t * per_thread, min(records, (t + 1) * per_thread)
        for start in range(first, last, 25):
            batch = [
                {"PutRequest": {"Item": {"pk": {"S": f"r{i:07d}"}, "v": {"N": str(i)}}}}
                for i in range(start, min(last, start + 25))
            ]
            while batch:
                left = ddb.batch_write_item(RequestItems={table: batch})["UnprocessedItems"]
                batch = left.get(table, [])

    pool = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.monotonic() - began


class Bench:
    def __init__(self, server: Server, work: Path, args: argparse.Namespace) -> None:
        self.server = server
        self.work = work
        self.args = args
        self.ddb = client(server.url, "dynamodb")
        self.lam = client(server.url, "lambda")
        self._sent: dict[str, float] = {}  # botocore's before-send
        self._wired: dict[str, float] = {}  # the request's last byte written
        self._next_key = ""
        self.ddb.meta.events.register("before-send.dynamodb.PutItem", self._note_send)
        self.functions = 0

    def _note_send(self, **_: Any) -> None:
        self._sent[self._next_key] = time.time()
        _ON_WIRE.append(self._note_wired)

    def _note_wired(self) -> None:
        self._wired[self._next_key] = time.time()
        _ON_WIRE.clear()

    def function(self, kind: str, out: Path) -> str:
        self.functions += 1
        name = f"bench-{kind}-{self.functions}"
        self.lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Handler="app.handler",
            Role=ROLE,
            Code={"ZipFile": zipped(HANDLERS[kind])},
            Environment={"Variables": {"OUT": str(out)}},
            Timeout=60,
            MemorySize=512,
        )
        for _ in range(600):
            state = self.lam.get_function(FunctionName=name)["Configuration"].get("State")
            if state in (None, "Active"):
                break
            time.sleep(0.05)
        return name

    def mapping(self, function: str, stream: str, batch: int, factor: int, start: str) -> str:
        uuid = str(
            self.lam.create_event_source_mapping(
                FunctionName=function,
                EventSourceArn=stream,
                StartingPosition=start,
                BatchSize=batch,
                ParallelizationFactor=factor,
                MaximumRetryAttempts=0,
            )["UUID"]
        )
        for _ in range(600):
            if self.lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled":
                return uuid
            time.sleep(0.05)
        raise RuntimeError(f"mapping {uuid} never became Enabled")

    def drop_mapping(self, uuid: str) -> None:
        try:
            self.lam.delete_event_source_mapping(UUID=uuid)
        except Exception as error:  # a peer's quirk must not end the run
            print(f"    (could not delete mapping {uuid}: {error})")

    def latency(self, live: str, kind: str, batch: int, factor: int) -> dict[str, Any]:
        out = self.work / f"lat-{kind}-{batch}-{factor}.log"
        function = self.function(kind, out)
        uuid = self.mapping(function, live, batch, factor, "LATEST")
        try:
            # Warm up (the first invocations start the worker) and let a LATEST mapping settle.
            tag = f"{kind}-{batch}-{factor}"
            for i in range(3):
                self._put(f"warm-{tag}-{i}")
                wait_records(out, i + 1, 60)
            out.unlink(missing_ok=True)
            self._sent.clear()
            self._wired.clear()
            cpu0 = cpu_seconds(self.server.pid)
            keys = [f"lat-{tag}-{i}" for i in range(self.args.writes)]
            for key in keys:
                self._put(key)
                time.sleep(self.args.pause)
            lines = wait_records(out, len(keys), 60)
            cpu = cpu_seconds(self.server.pid) - cpu0
        finally:
            self.drop_mapping(uuid)
        started = {k: s for s, _, _, ks in lines for k in ks}
        latencies = [(started[k] - self._wired[k]) * 1000 for k in keys if k in started]
        early = [(started[k] - self._sent[k]) * 1000 for k in keys if k in started]
        if not latencies:
            return {"delivered": 0, "writes": len(keys)}
        return {
            "writes": len(keys),
            "delivered": len(latencies),
            "p50_ms": round(statistics.median(latencies), 3),
            "p90_ms": round(percentile(latencies, 90), 3),
            "p99_ms": round(percentile(latencies, 99), 3),
            "max_ms": round(max(latencies), 3),
            "p50_ms_before_send": round(statistics.median(early), 3),
            "p99_ms_before_send": round(percentile(early, 99), 3),
            "server_cpu_ms_per_write": round(cpu / len(keys) * 1000, 3),
        }

    def _put(self, key: str) -> None:
        self._next_key = key
        self.ddb.put_item(TableName="live", Item={"pk": {"S": key}, "v": {"N": "1"}})

    def throughput(self, backlog: str, kind: str, batch: int, factor: int) -> dict[str, Any]:
        out = self.work / f"thr-{kind}-{batch}-{factor}.log"
        function = self.function(kind, out)
        # Warm a worker per lane first (overlapping invocations, so each starts its own), so
        # the cell measures delivery rather than cold starts.
        warming = [
            threading.Thread(
                target=self.lam.invoke,
                kwargs={"FunctionName": function, "Payload": b'{"warm": 0.3}'},
            )
            for _ in range(factor)
        ]
        for thread in warming:
            thread.start()
        for thread in warming:
            thread.join()
        out.unlink(missing_ok=True)
        cpu0 = cpu_seconds(self.server.pid)
        created = time.time()
        uuid = self.mapping(function, backlog, batch, factor, "TRIM_HORIZON")
        try:
            lines = wait_records(out, self.args.records, self.args.cap)
            cpu = cpu_seconds(self.server.pid) - cpu0
        finally:
            self.drop_mapping(uuid)
        delivered = sum(n for _, _, n, _ in lines)
        if not lines:
            return {"records": self.args.records, "delivered": 0}
        first = min(s for s, _, _, _ in lines)
        last = max(e for _, e, _, _ in lines)
        return {
            "records": self.args.records,
            "delivered": delivered,
            "complete": delivered >= self.args.records,
            "invocations": len(lines),
            "mean_batch": round(delivered / len(lines), 1),
            "seconds": round(last - created, 3),
            "records_per_second": round(delivered / max(last - created, 1e-6), 1),
            "first_invocation_after_s": round(first - created, 3),
            "server_cpu_us_per_record": round(cpu / max(delivered, 1) * 1e6, 2),
        }


def bench_server(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    print(f"== {server.label}: starting", flush=True)
    try:
        server.start()
    except PeerUnavailable as error:
        print(f"   unavailable: {error}")
        return {"server": server.describe(), "unavailable": str(error)}
    result: dict[str, Any] = {"server": server.describe(), "cells": []}
    try:
        with tempfile.TemporaryDirectory(prefix=f"map-{server.key}-") as tmp:
            bench = Bench(server, Path(tmp), args)
            live = create_table(bench.ddb, "live")
            backlog = create_table(bench.ddb, "backlog")
            took = preload(server.url, "backlog", args.records)
            print(f"   backlog of {args.records} records written in {took:.1f} s", flush=True)
            result["preload_seconds"] = round(took, 2)
            for kind in args.handlers:
                for batch in args.batch_sizes:
                    for factor in args.factors:
                        cell: dict[str, Any] = {"handler": kind, "batch": batch, "factor": factor}
                        try:
                            cell["latency"] = bench.latency(live, kind, batch, factor)
                            cell["throughput"] = bench.throughput(backlog, kind, batch, factor)
                        except Exception as error:
                            cell["error"] = f"{type(error).__name__}: {error}"
                        print("  ", brief(cell), flush=True)
                        result["cells"].append(cell)
    finally:
        server.stop()
    return result


def brief(cell: dict[str, Any]) -> str:
    head = f"{cell['handler']:8} BatchSize {cell['batch']:>4} × PF {cell['factor']}:"
    if "error" in cell:
        return f"{head} error {cell['error']}"
    lat, thr = cell["latency"], cell["throughput"]
    return (
        f"{head} p50 {lat.get('p50_ms')} ms p99 {lat.get('p99_ms')} ms "
        f"[from before-send {lat.get('p50_ms_before_send')} / {lat.get('p99_ms_before_send')}] "
        f"({lat.get('delivered')}/{lat.get('writes')}); "
        f"{thr.get('records_per_second')} records/s "
        f"({thr.get('delivered')}/{thr.get('records')}, mean batch {thr.get('mean_batch')})"
    )


def markdown(servers: dict[str, Any]) -> str:
    lines = [
        "| Server | Handler | BatchSize | PF | p50 ms | p99 ms | records/s | complete |",
        "|---|---|--:|--:|--:|--:|--:|---|",
    ]
    for result in servers.values():
        label = result["server"]["label"]
        if "unavailable" in result:
            lines.append(f"| {label} | unavailable: {result['unavailable'][:80]} |||||||")
            continue
        for cell in result["cells"]:
            lat, thr = cell.get("latency", {}), cell.get("throughput", {})
            lines.append(
                f"| {label} | {cell['handler']} | {cell['batch']} | {cell['factor']} | "
                f"{lat.get('p50_ms', '—')} | {lat.get('p99_ms', '—')} | "
                f"{thr.get('records_per_second', '—')} | "
                f"{'yes' if thr.get('complete') else 'no (capped)'} |"
            )
    return "\n".join(lines)


def plot(servers: dict[str, Any], path: Path, stamp: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed; no plot (pip install -e '.[bench]')")
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    usable = {k: v for k, v in servers.items() if "cells" in v}
    labels: list[str] = []
    for result in usable.values():
        for cell in result["cells"]:
            name = f"{cell['handler'][0]} B{cell['batch']} PF{cell['factor']}"
            if name not in labels:
                labels.append(name)
    width = 0.8 / max(1, len(usable))
    for n, result in enumerate(usable.values()):
        by_name = {f"{c['handler'][0]} B{c['batch']} PF{c['factor']}": c for c in result["cells"]}
        xs = [i + n * width for i in range(len(labels))]
        p50 = [by_name.get(lbl, {}).get("latency", {}).get("p50_ms", 0) or 0 for lbl in labels]
        rate = [
            by_name.get(lbl, {}).get("throughput", {}).get("records_per_second", 0) or 0
            for lbl in labels
        ]
        left.bar(xs, p50, width, label=result["server"]["label"])
        right.bar(xs, rate, width, label=result["server"]["label"])
    for axis, title in (
        (left, "write → handler start, p50 (ms, log scale; lower is better)"),
        (right, "records/s from a backlog (log scale; higher is better)"),
    ):
        axis.set_xticks([i + 0.4 - width / 2 for i in range(len(labels))])
        axis.set_xticklabels(labels, rotation=60, fontsize=8)
        axis.set_yscale("log")
        axis.set_title(title, fontsize=10)
        axis.legend(fontsize=8)
    left.axhline(GOALS["p50_ms"], color="grey", linestyle="--", linewidth=0.8)
    right.axhline(GOALS["records_per_second"], color="grey", linestyle="--", linewidth=0.8)
    fig.suptitle(f"Event source mappings, {stamp} (s = silent handler, p = printing)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"saved {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="headwater,ministack")
    parser.add_argument("--writes", type=int, default=100)
    parser.add_argument("--pause", type=float, default=0.01)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--cap", type=float, default=30.0)
    parser.add_argument("--batch-sizes", default="1,100,1000")
    parser.add_argument("--factors", default="1,4")
    parser.add_argument("--handlers", default="silent,printing")
    parser.add_argument("--venv-root", type=Path, default=DEFAULT_VENV_ROOT)
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "results" / "mapping.json"
    )
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "benchmarks-mapping.png")
    args = parser.parse_args()
    args.batch_sizes = [int(x) for x in args.batch_sizes.split(",")]
    args.factors = [int(x) for x in args.factors.split(",")]
    args.handlers = args.handlers.split(",")
    logs = Path(tempfile.mkdtemp(prefix="map-bench-logs-"))
    makers = {
        "headwater": lambda: Headwater(logs, durable=True),
        "headwater-memory": lambda: Headwater(logs, durable=False),
        "ministack": lambda: MiniStack(logs, args.venv_root),
    }
    servers: dict[str, Any] = {}
    for key in args.servers.split(","):
        servers[key] = bench_server(makers[key](), args)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    report = {
        "benchmark": "mapping",
        "date": stamp,
        "goals": GOALS,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            k: v for k, v in vars(args).items() if k not in ("output", "plot", "venv_root")
        },
        "servers": servers,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(markdown(servers))
    print(f"saved {args.output}")
    plot(servers, args.plot, stamp)


if __name__ == "__main__":
    main()
