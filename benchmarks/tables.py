"""Table engine: Headwater beside moto's server and MiniStack, in the same run.

Each server runs as its own process on 127.0.0.1 (see ``peers.py`` for how each starts):
Headwater durable (a --data-dir in a temporary directory), Headwater --in-memory, moto and
MiniStack. Against each, one after the other:

1. through boto3, with 1 and with 8 client threads, a bounded number of operations each:
   PutItem (a new ~200-byte item), GetItem (existing keys) and Query (the 20 items of one
   partition of a hash+range table; if the server answers the probe Query with
   ValidationException or UnknownOperation it is recorded as unsupported);
2. with wrk (a C load generator, so the client costs little: boto3 burns 1-1.5 ms of CPU per
   call on the same two cores), 1 thread, 2 connections: a fixed PutItem (the same item again:
   after the first, nothing changes), a PutItem of a new key every time (a real write), a
   fixed GetItem and a fixed Query for the 20 items of one partition (skipped when the
   server does not do Query); then both PutItems again with 8 connections (as many clients
   as the boto3 cells' 8 threads: a durable server's group commit then shares each fsync).

Every cell reports ops/s, client-observed latency p50/p99 and the server's CPU per operation:
utime + stime of the server process (all its threads) from /proc/PID/stat, before and after,
divided by the operations. The whole suite runs ``--repeat`` times (fresh servers each time)
and each number reported is the best of the repetitions; all repetitions are saved.

    python benchmarks/tables.py [--repeat 2] [--ops 1000] [--query-ops 500] [--wrk-seconds 5]
                                [--servers headwater,headwater-memory,moto,ministack]
                                [--no-wrk | --wrk-only]

Prints a table, writes benchmarks/results/tables.json and docs/benchmarks-tables.png.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from peers import (
    DEFAULT_VENV_ROOT,
    Headwater,
    MiniStack,
    Moto,
    PeerUnavailable,
    Server,
    cpu_seconds,
    rss_mib,
)

ROOT = Path(__file__).resolve().parent.parent
WRK_DIR = Path(__file__).resolve().parent / "wrk"
HASH_TABLE = "bench_hash"
RANGE_TABLE = "bench_range"
PARTITIONS = 10
PER_PARTITION = 20
THREADS = (1, 8)
WORKLOADS = ("PutItem", "GetItem", "Query")
WRK_OPS = {
    "PutItem": "putitem.lua",
    "PutItem (new key)": "putitem_unique.lua",
    "GetItem": "getitem.lua",
    "Query": "query.lua",
    "PutItem, 8 connections": "putitem.lua",
    "PutItem (new key), 8 connections": "putitem_unique.lua",
}
# Cells with their own connection count (the rest use --wrk-connections): eight clients at
# once, as the boto3 cells' eight threads, which is where group commit starts sharing fsyncs.
WRK_CONNECTIONS = {"PutItem, 8 connections": 8, "PutItem (new key), 8 connections": 8}
UNSUPPORTED_CODES = {
    "ValidationException",
    "UnknownOperationException",
    "UnknownOperation",
    "InvalidAction",
    "NotImplemented",
    "NotImplementedError",
}
GOALS_MS = {"PutItem (durable)": 0.25, "Query (20 items)": 0.4}
EARLIER_PEERS_MS = {
    "PutItem": {"MiniStack": "0.72-0.86", "moto": "3.0"},
    "Query (20 items)": {"MiniStack": "1.3-1.5", "moto": "24.5"},
}
NOTE = "x" * 128


def item(pk: str, sk: str | None = None) -> dict[str, Any]:
    """About 200 bytes by DynamoDB's size rules (same shape as benchmarks/wrk/putitem.lua)."""
    attributes: dict[str, Any] = {"pk": {"S": pk}}
    if sk is not None:
        attributes["sk"] = {"S": sk}
    attributes.update(
        name={"S": "Ada Lovelace"},
        email={"S": "ada.lovelace@example.com"},
        note={"S": NOTE if sk is None else NOTE[: 128 - 6]},
        age={"N": "36"},
        active={"BOOL": True},
    )
    return attributes


def item_size(attributes: dict[str, Any]) -> int:
    size = 0
    for name, value in attributes.items():
        ((kind, raw),) = value.items()
        size += len(name.encode())
        if kind == "S":
            size += len(raw.encode())
        elif kind == "N":
            size += (len(raw.lstrip("-").replace(".", "")) + 1) // 2 + 1
        else:
            size += 1
    return size


def client(url: str, threads: int = 1) -> Any:
    session = boto3.session.Session()
    return session.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(
            retries={"max_attempts": 1},
            read_timeout=60,
            connect_timeout=10,
            max_pool_connections=max(10, threads),
        ),
    )


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


# -- setting up a server -----------------------------------------------------------------------


def create_tables(ddb: Any) -> None:
    ddb.create_table(
        TableName=HASH_TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )
    ddb.create_table(
        TableName=RANGE_TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
    )
    for name in (HASH_TABLE, RANGE_TABLE):
        deadline = time.monotonic() + 30
        while ddb.describe_table(TableName=name)["Table"]["TableStatus"] != "ACTIVE":
            if time.monotonic() > deadline:
                raise TimeoutError(f"table {name} not ACTIVE after 30 s")
            time.sleep(0.05)
    for p in range(PARTITIONS):
        for s in range(PER_PARTITION):
            ddb.put_item(TableName=RANGE_TABLE, Item=item(f"part-{p:03d}", f"{s:05d}"))
    ddb.put_item(TableName=HASH_TABLE, Item=item("wrk-item"))


def query_args(partition: int) -> dict[str, Any]:
    return {
        "TableName": RANGE_TABLE,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": f"part-{partition:03d}"}},
    }


def probe_query(ddb: Any) -> dict[str, Any]:
    """Whether the server does Query: one try, classified."""
    try:
        answer = ddb.query(**query_args(0))
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        status = "unsupported" if code in UNSUPPORTED_CODES else "error"
        return {"status": status, "code": code, "message": message[:200]}
    except Exception as error:
        return {"status": "error", "code": type(error).__name__, "message": str(error)[:200]}
    if answer.get("Count") != PER_PARTITION:
        return {"status": "error", "code": "WrongCount", "message": f"Count {answer.get('Count')}"}
    return {"status": "supported"}


# -- one boto3 cell --------------------------------------------------------------------------


def run_cell(
    server: Server,
    clients: list[Any],
    workload: str,
    threads: int,
    ops: int,
    max_seconds: float,
    get_keys: list[str],
    written: list[str],
) -> dict[str, Any]:
    shares = [ops // threads + (1 if t < ops % threads else 0) for t in range(threads)]
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[list[str]] = [[] for _ in range(threads)]
    keys: list[list[str]] = [[] for _ in range(threads)]
    ready = threading.Barrier(threads + 1)
    go = threading.Barrier(threads + 1)
    deadline = [0.0]

    def one(ddb: Any, rng: random.Random, t: int, i: int, warm: bool) -> None:
        if workload == "PutItem":
            key = f"{'w' if warm else 'k'}{threads}-{t}-{i:05d}"
            ddb.put_item(TableName=HASH_TABLE, Item=item(key))
            if not warm:
                keys[t].append(key)
        elif workload == "GetItem":
            answer = ddb.get_item(TableName=HASH_TABLE, Key={"pk": {"S": rng.choice(get_keys)}})
            if "Item" not in answer:
                raise LookupError("GetItem found no item")
        else:
            answer = ddb.query(**query_args(rng.randrange(PARTITIONS)))
            if answer.get("Count") != PER_PARTITION:
                raise LookupError(f"Query returned {answer.get('Count')} items")

    def worker(t: int) -> None:
        ddb, rng = clients[t], random.Random(1000 * threads + t)
        for i in range(5):  # opens the connection, warms the server's code paths
            with contextlib.suppress(Exception):
                one(ddb, rng, t, i, warm=True)
        ready.wait()
        go.wait()
        for i in range(shares[t]):
            if time.perf_counter() > deadline[0]:
                break
            began = time.perf_counter()
            try:
                one(ddb, rng, t, i, warm=False)
            except Exception as error:
                errors[t].append(f"{type(error).__name__}: {error}"[:200])
                continue
            latencies[t].append((time.perf_counter() - began) * 1000)

    workers = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(threads)]
    for w in workers:
        w.start()
    ready.wait()
    cpu0, client0 = cpu_seconds(server.pid), os.times()
    began = time.perf_counter()
    deadline[0] = began + max_seconds
    go.wait()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - began
    cpu1, client1 = cpu_seconds(server.pid), os.times()
    done = [x for per in latencies for x in per]
    failed = [x for per in errors for x in per]
    for per in keys:
        written.extend(per)
    attempted = len(done) + len(failed)
    client_cpu = (client1.user - client0.user) + (client1.system - client0.system)
    return {
        "ops": len(done),
        "errors": len(failed),
        "first_error": failed[0] if failed else None,
        "capped_at_seconds": max_seconds if attempted < ops else None,
        "seconds": r(seconds),
        "ops_per_s": r(len(done) / seconds, 1) if done else None,
        "p50_ms": r(percentile(done, 50)),
        "p99_ms": r(percentile(done, 99)),
        "server_cpu_s": r(cpu1 - cpu0),
        "server_cpu_ms_per_op": r((cpu1 - cpu0) * 1000 / attempted, 4) if attempted else None,
        "client_cpu_ms_per_op": r(client_cpu * 1000 / attempted, 4) if attempted else None,
    }


# -- one wrk cell ----------------------------------------------------------------------------


def run_wrk(server: Server, op: str, seconds: float, connections: int) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        return {"status": "skipped", "reason": "wrk not on PATH (apt-get install wrk)"}
    argv = [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s"]
    argv += ["-s", str(WRK_DIR / WRK_OPS[op]), server.url + "/"]
    env = {**os.environ, "BENCH_TABLE": HASH_TABLE, "BENCH_RANGE_TABLE": RANGE_TABLE}
    cpu0 = cpu_seconds(server.pid)
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=seconds + 60)
    cpu1 = cpu_seconds(server.pid)
    lines = [line for line in done.stdout.splitlines() if line.startswith("WRK_JSON ")]
    if done.returncode != 0 or not lines:
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        return {"status": "error", "reason": " | ".join(tail)}
    stats = json.loads(lines[-1].split(" ", 1)[1])
    requests, duration = stats["requests"], stats["duration_us"] / 1e6
    socket_errors = sum(stats[k] for k in ("connect_errors", "read_errors", "write_errors"))
    wrong = stats.get("wrong_answers", 0)  # 200s with the wrong content (query.lua checks)
    good = requests - stats["status_errors"] - wrong
    return {
        "status": "ok" if good > 0 else "error",
        "reason": None if good > 0 else "no response was a right 2xx answer",
        "requests": requests,
        "non_2xx": stats["status_errors"],
        "wrong_answers": wrong,
        "socket_errors": socket_errors,
        "timeouts": stats["timeouts"],
        "seconds": r(duration),
        "requests_per_s": r(requests / duration, 1),
        "p50_ms": r(stats["p50_us"] / 1000),
        "p99_ms": r(stats["p99_us"] / 1000),
        "server_cpu_s": r(cpu1 - cpu0),
        "server_cpu_ms_per_request": r((cpu1 - cpu0) * 1000 / requests, 4) if requests else None,
        "command": " ".join(
            [
                "BENCH_TABLE=" + HASH_TABLE,
                "BENCH_RANGE_TABLE=" + RANGE_TABLE,
                "wrk",
                *argv[1:-1],
                "http://127.0.0.1:PORT/",
            ]
        ).replace(str(ROOT) + "/", ""),
    }


# -- one server, one repetition --------------------------------------------------------------


def bench_server(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"boto3": {}, "wrk": {}}
    try:
        server.start()
    except PeerUnavailable as error:
        return {"status": "unavailable", "reason": str(error)}
    try:
        result["status"] = "ok"
        result["startup_s"] = server.startup_seconds
        ddb = client(server.url)
        began = time.monotonic()
        create_tables(ddb)
        clients = [client(server.url, max(THREADS)) for _ in range(max(THREADS))]
        result["setup_s"] = round(time.monotonic() - began, 2)
        result["query_probe"] = probe_query(ddb)
        written: list[str] = []
        for workload in () if args.wrk_only else WORKLOADS:
            result["boto3"][workload] = {}
            for threads in THREADS:
                if workload == "Query" and result["query_probe"]["status"] != "supported":
                    status = result["query_probe"]["status"]
                    result["boto3"][workload][str(threads)] = {"status": status}
                    print(f"  {server.key:17} {workload:8} x{threads}: {status}", flush=True)
                    continue
                ops = args.query_ops if workload == "Query" else args.ops
                cell = run_cell(
                    server,
                    clients[:threads],
                    workload,
                    threads,
                    ops,
                    args.max_seconds,
                    written[:ops],
                    written,
                )
                cell["status"] = "ok" if cell["ops"] else "error"
                result["boto3"][workload][str(threads)] = cell
                print(f"  {server.key:17} {workload:8} x{threads}: {_brief(cell)}", flush=True)
        for op in WRK_OPS:
            if args.no_wrk:
                result["wrk"][op] = {"status": "skipped", "reason": "--no-wrk"}
            elif op == "Query" and result["query_probe"]["status"] != "supported":
                result["wrk"][op] = {"status": result["query_probe"]["status"]}
            else:
                connections = WRK_CONNECTIONS.get(op, args.wrk_connections)
                cell = run_wrk(server, op, args.wrk_seconds, connections)
                if op == "PutItem" and cell["status"] == "ok":
                    stored = ddb.get_item(TableName=HASH_TABLE, Key={"pk": {"S": "wrk-item"}})
                    cell["item_verified"] = stored.get("Item", {}).get("note") == {"S": NOTE}
                result["wrk"][op] = cell
                print(f"  {server.key:17} wrk {op:8}: {_brief(cell)}", flush=True)
        result["rss_mib_at_end"] = rss_mib(server.pid)
    except Exception as error:
        result["status"] = "error"
        result["reason"] = f"{type(error).__name__}: {error}"[:500]
        result["log_tail"] = server.log_tail()
        print(f"  {server.key}: {result['reason']}", flush=True)
    finally:
        began = time.monotonic()
        server.stop()
        result["stop_s"] = round(time.monotonic() - began, 2)
    return result


def _brief(cell: dict[str, Any]) -> str:
    if cell.get("status") not in (None, "ok"):
        return f"{cell.get('status')} {cell.get('reason') or ''}".strip()
    rate = cell.get("ops_per_s") or cell.get("requests_per_s")
    cpu = cell.get("server_cpu_ms_per_op") or cell.get("server_cpu_ms_per_request")
    text = f"{rate} /s, p50 {cell.get('p50_ms')} ms, p99 {cell.get('p99_ms')} ms, cpu {cpu} ms"
    errors = cell.get("errors") or (cell.get("non_2xx") or 0) + (cell.get("wrong_answers") or 0)
    if errors:
        text += f", errors {errors}"
    return text


# -- best of the repetitions --------------------------------------------------------------------

LOWER_IS_BETTER = ("p50_ms", "p99_ms", "server_cpu_ms_per_op", "server_cpu_ms_per_request")
HIGHER_IS_BETTER = ("ops_per_s", "requests_per_s")


def best_of(cells: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [c for c in cells if c.get("status") == "ok"]
    if not ok:
        return cells[0] if cells else {"status": "missing"}
    best: dict[str, Any] = {"status": "ok", "repetitions": len(ok)}
    for name in LOWER_IS_BETTER + HIGHER_IS_BETTER:
        values = [c[name] for c in ok if c.get(name) is not None]
        if values:
            best[name] = min(values) if name in LOWER_IS_BETTER else max(values)
    best["errors"] = sum(
        c.get("errors", 0) or c.get("non_2xx", 0) + c.get("wrong_answers", 0) for c in ok
    )
    return best


def summarize(servers: dict[str, Any]) -> None:
    for entry in servers.values():
        reps = [rep for rep in entry["repetitions"] if rep.get("status") == "ok"]
        if not reps:
            entry["best"] = {"status": entry["repetitions"][-1].get("status")}
            continue
        best: dict[str, Any] = {"boto3": {}, "wrk": {}}
        for workload in WORKLOADS:
            best["boto3"][workload] = {
                str(t): best_of([rep["boto3"].get(workload, {}).get(str(t), {}) for rep in reps])
                for t in THREADS
            }
            if not any(workload in rep["boto3"] for rep in reps):  # --wrk-only
                best["boto3"][workload] = {str(t): {"status": "skipped"} for t in THREADS}
        for op in WRK_OPS:
            best["wrk"][op] = best_of([rep["wrk"][op] for rep in reps if op in rep["wrk"]])
        entry["best"] = best


# -- output ----------------------------------------------------------------------------------


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _cell_text(cell: dict[str, Any], rate: str, cpu: str) -> list[str]:
    if cell.get("status") != "ok":
        return [cell.get("status", "—")] + ["—"] * 3
    return [
        _num(cell.get(rate), 0),
        _num(cell.get("p50_ms")),
        _num(cell.get("p99_ms")),
        _num(cell.get(cpu), 3),
    ]


def markdown_tables(servers: dict[str, Any]) -> str:
    head = (
        "| Server | Workload | ops/s ×1 | p50 ms ×1 | p99 ms ×1 | server CPU ms/op ×1 "
        "| ops/s ×8 | p50 ms ×8 | p99 ms ×8 | server CPU ms/op ×8 |\n"
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n"
    )
    rows = []
    wrk_rows = []
    for entry in servers.values():
        best = entry.get("best", {})
        if "boto3" not in best:
            reason = entry["repetitions"][-1].get("reason", "")
            rows.append(f"| {entry['label']} | not run: {reason[:80]} |" + " |" * 8)
            continue
        for workload in WORKLOADS:
            cells = []
            for t in THREADS:
                cells += _cell_text(
                    best["boto3"][workload][str(t)], "ops_per_s", "server_cpu_ms_per_op"
                )
            name = "Query (20 items)" if workload == "Query" else workload
            if any(best["boto3"][workload][str(t)].get("status") != "skipped" for t in THREADS):
                rows.append(f"| {entry['label']} | {name} | " + " | ".join(cells) + " |")
        for op in WRK_OPS:
            cell = best["wrk"].get(op, {})
            text = _cell_text(cell, "requests_per_s", "server_cpu_ms_per_request")
            name = "Query (20 items)" if op == "Query" else op
            wrk_rows.append(f"| {entry['label']} | {name} | " + " | ".join(text) + " |")
    wrk_head = (
        "| Server | Request | requests/s | p50 ms | p99 ms | server CPU ms/request |\n"
        "|---|---|--:|--:|--:|--:|\n"
    )
    return head + "\n".join(rows) + "\n\n" + wrk_head + "\n".join(wrk_rows) + "\n"


def plot(servers: dict[str, Any], path: Path, stamp: str) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        return f"matplotlib not installed ({error}); no plot"
    groups = [
        ("PutItem ×1", "boto3", "PutItem", "1"),
        ("PutItem ×8", "boto3", "PutItem", "8"),
        ("PutItem wrk", "wrk", "PutItem", None),
        ("PutItem new\nkey wrk", "wrk", "PutItem (new key)", None),
        ("GetItem ×1", "boto3", "GetItem", "1"),
        ("GetItem ×8", "boto3", "GetItem", "8"),
        ("GetItem wrk", "wrk", "GetItem", None),
        ("Query 20 ×1", "boto3", "Query", "1"),
        ("Query 20 ×8", "boto3", "Query", "8"),
        ("Query 20 wrk", "wrk", "Query", None),
    ]
    shown = [e for e in servers.values() if "boto3" in e.get("best", {})]
    if not shown:
        return "no server produced results; no plot"
    colors = ["#1f6f8b", "#7fb3c8", "#d1495b", "#edae49", "#66a182"]
    fig, axes = plt.subplots(2, 1, figsize=(12, 8.5), constrained_layout=True)
    width = 0.8 / len(shown)
    for axis, what in zip(axes, ("cpu", "rate"), strict=True):
        for s, entry in enumerate(shown):
            xs, ys, missing = [], [], []
            for g, (_, kind, op, threads) in enumerate(groups):
                cell = entry["best"][kind].get(op, {})
                cell = cell.get(threads, {}) if threads else cell
                if what == "cpu":
                    value = cell.get("server_cpu_ms_per_op", cell.get("server_cpu_ms_per_request"))
                else:
                    value = cell.get("ops_per_s", cell.get("requests_per_s"))
                x = g - 0.4 + width * (s + 0.5)
                if value is None:
                    missing.append((x, cell.get("status", "n/a")))
                else:
                    xs.append(x)
                    ys.append(value)
            axis.bar(xs, ys, width, label=entry["label"], color=colors[s % len(colors)])
            for x, y in zip(xs, ys, strict=True):
                text = f"{y:.2f}" if what == "cpu" and y < 10 else f"{y:.0f}"
                axis.text(x, y * 1.08, text, ha="center", va="bottom", fontsize=6.5, rotation=90)
            for x, status in missing:
                label = "n/a" if status in ("unsupported",) else status
                axis.text(
                    x,
                    0.012 if what == "cpu" else 12,
                    label,
                    ha="center",
                    va="bottom",
                    fontsize=6.5,
                    rotation=90,
                    color="#555555",
                )
        axis.set_yscale("log")
        axis.set_xticks(range(len(groups)), [g[0] for g in groups])
        axis.grid(axis="y", which="both", alpha=0.25)
        if what == "cpu":
            axis.set_ylim(0.01, 200)
            axis.set_ylabel("server CPU per operation (ms, log)")
            axis.set_title(f"Server CPU per operation (lower is better) — {stamp}")
            goals = [(0, 3, 0.25, "goal 0.25 ms (durable PutItem)"), (7, 9, 0.4, "goal 0.4 ms")]
            for first, last, goal, text in goals:
                axis.hlines(
                    goal,
                    first - 0.45,
                    last + 0.45,
                    colors="black",
                    linestyles="dashed",
                    linewidth=1,
                )
                axis.text(first - 0.42, goal * 0.72, text, fontsize=7)
            axis.legend(fontsize=8, ncols=len(shown), loc="upper left")
        else:
            axis.set_ylim(10, 30000)
            axis.set_ylabel("operations per second (log)")
            axis.set_title(
                "Throughput (higher is better): ×1/×8 = boto3 client threads; "
                "wrk = 1 thread, 2 connections"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def machine_info() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        mem_gib = round(int(mem) / 1024 / 1024, 1)
    except OSError:
        mem_gib = None
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": mem_gib,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "tmp_filesystem": _fs_type(tempfile.gettempdir()),
    }


def _fs_type(path: str) -> str:
    done = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True)
    return done.stdout.strip()


def versions() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in ("boto3", "botocore", "moto", "matplotlib"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    wrk = shutil.which("wrk")
    if wrk:
        text = subprocess.run([wrk, "--version"], capture_output=True, text=True)
        found["wrk"] = (text.stdout + text.stderr).split("Copyright")[0].strip()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="repetitions; best is reported")
    parser.add_argument("--ops", type=int, default=1000, help="PutItem/GetItem ops per cell")
    parser.add_argument("--query-ops", type=int, default=500, help="Query ops per cell")
    parser.add_argument("--max-seconds", type=float, default=6.0, help="time cap per cell")
    parser.add_argument("--wrk-seconds", type=float, default=5.0)
    parser.add_argument("--wrk-connections", type=int, default=2)
    parser.add_argument("--no-wrk", action="store_true")
    parser.add_argument("--wrk-only", action="store_true", help="skip the boto3 cells")
    parser.add_argument(
        "--servers",
        default="headwater,headwater-memory,moto,ministack",
        help="comma-separated: headwater, headwater-memory, moto, ministack",
    )
    parser.add_argument("--venv-root", type=Path, default=DEFAULT_VENV_ROOT)
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).parent / "results" / "tables.json"
    )
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "benchmarks-tables.png")
    args = parser.parse_args()

    wanted = [name.strip() for name in args.servers.split(",") if name.strip()]
    began = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    load_before = os.getloadavg()
    servers: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hw-tables-") as tmp:
        makers = {
            "headwater": lambda: Headwater(Path(tmp), durable=True),
            "headwater-memory": lambda: Headwater(Path(tmp), durable=False),
            "moto": lambda: Moto(Path(tmp)),
            "ministack": lambda: MiniStack(Path(tmp), args.venv_root),
        }
        for rep in range(args.repeat):
            print(f"repetition {rep + 1} of {args.repeat}", flush=True)
            for name in wanted:
                server = makers[name]()
                began_server = time.monotonic()
                result = bench_server(server, args)
                result["wall_s"] = round(time.monotonic() - began_server, 1)
                entry = servers.setdefault(name, {"repetitions": []})
                entry.update(server.describe())
                entry["repetitions"].append(result)
    summarize(servers)
    table = markdown_tables(servers)
    output: dict[str, Any] = {
        "benchmark": "tables",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "versions": versions(),
        "settings": {
            "repetitions": args.repeat,
            "ops_per_cell": args.ops,
            "query_ops_per_cell": args.query_ops,
            "max_seconds_per_cell": args.max_seconds,
            "client_threads": list(THREADS),
            "wrk": {
                "threads": 1,
                "connections": args.wrk_connections,
                "seconds": args.wrk_seconds,
                "scripts": {op: f"benchmarks/wrk/{script}" for op, script in WRK_OPS.items()},
            },
            "item_bytes": item_size(item("k8-0-00000")),
            "query": f"{PER_PARTITION} items of one partition ({PARTITIONS} partitions)",
            "best": "each number is the best over the repetitions (max rate, min latency, "
            "min CPU); every repetition is kept under servers.*.repetitions",
            "server_cpu": "utime+stime of the server process (all threads) from /proc/PID/stat",
        },
        "goals_server_cpu_ms": GOALS_MS,
        "earlier_peer_measurements_server_cpu_ms": EARLIER_PEERS_MS,
        "servers": servers,
        "table_markdown": table,
        "seconds": round(time.monotonic() - began, 1),
    }
    plot_problem = plot(servers, args.plot, stamp)
    output["plot"] = plot_problem or _display(args.plot)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    print()
    print(table)
    for entry in servers.values():
        last = entry["repetitions"][-1]
        if last.get("status") != "ok":
            print(f"{entry['label']}: {last.get('status')}: {last.get('reason')}")
        elif last.get("query_probe", {}).get("status") != "supported":
            probe = last["query_probe"]
            print(f"{entry['label']}: Query {probe['status']} ({probe.get('code')})")
    print(f"saved {args.output}" + (f"; {plot_problem}" if plot_problem else f" and {args.plot}"))
    print(f"took {output['seconds']} s")


if __name__ == "__main__":
    main()
