"""Is a Query's cost flat in the table's size? The same 20-item Query at 1k, 100k and 1M items.

A durable Headwater gets the hash+range table of ``tables.py`` with the 20 items of partition
``part-000``; then the table is filled with other partitions (1 item each, the same ~200-byte
shape) straight through the table engine while the server is stopped, and after each step the
server is started again and ``wrk`` (1 thread, 2 connections) posts the fixed Query of
``wrk/query.lua``. Server CPU per request is utime + stime from /proc/PID/stat, best of
``--repeat`` runs per size.

    python benchmarks/query_scale.py [--sizes 1000,100000,1000000] [--seconds 5] [--repeat 3]

Writes benchmarks/results/query_scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from peers import cpu_seconds
from tables import PER_PARTITION, RANGE_TABLE, client, create_tables, item

from headwater.model.keys import encode_key
from headwater.model.values import validate_item
from headwater.runtime import Runtime
from headwater.settings import Settings
from headwater.storage import rows
from headwater.storage.store import Txn
from headwater.testing import HeadwaterServer

HERE = Path(__file__).parent
BATCH = 20_000


def fill(data: Path, have: int, want: int) -> None:
    """Add items in partitions of their own until the table holds ``want`` items."""
    runtime = Runtime(Settings(data_dir=data, log_level="warning"))
    runtime.start()
    try:
        info = runtime.catalog.get("us-east-1", RANGE_TABLE)
        assert info is not None
        for first in range(have, want, BATCH):
            stop = min(first + BATCH, want)

            def job(txn: Txn, first: int = first, stop: int = stop) -> None:
                for n in range(first, stop):
                    stored = validate_item(item(f"fill-{n:07d}", "00000"))
                    hk, rk = encode_key(stored["pk"]), encode_key(stored["sk"])
                    rows.put_item(txn.conn, info.table_id, hk, rk, orjson.dumps(stored))

            runtime.store.write(job)
    finally:
        runtime.close()


def measure(data: Path, seconds: float, repeat: int) -> dict[str, Any]:
    server = HeadwaterServer(data_dir=data).start()
    try:
        env = {**os.environ, "BENCH_RANGE_TABLE": RANGE_TABLE}
        argv = ["wrk", "-t1", "-c2", f"-d{seconds:g}s", "-s", str(HERE / "wrk" / "query.lua")]
        runs = []
        for _ in range(repeat):
            before = cpu_seconds(server.pid)
            done = subprocess.run(
                [*argv, server.url + "/"], capture_output=True, text=True, env=env, check=True
            )
            used = cpu_seconds(server.pid) - before
            line = next(x for x in done.stdout.splitlines() if x.startswith("WRK_JSON "))
            stats = json.loads(line.split(" ", 1)[1])
            if stats["status_errors"] or stats["wrong_answers"]:
                raise RuntimeError(f"wrong answers: {stats}")
            requests = stats["requests"]
            runs.append(
                {
                    "requests_per_s": round(requests / (stats["duration_us"] / 1e6), 1),
                    "p50_ms": stats["p50_us"] / 1000,
                    "server_cpu_ms_per_request": round(used * 1000 / requests, 4),
                }
            )
        return {
            "runs": runs,
            "best_server_cpu_ms_per_request": min(r["server_cpu_ms_per_request"] for r in runs),
            "best_requests_per_s": max(r["requests_per_s"] for r in runs),
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "query_scale.json")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk (apt-get install wrk)")
    sizes = [int(x) for x in args.sizes.split(",")]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hw-scale-") as tmp:
        data = Path(tmp) / "data"
        with HeadwaterServer(data_dir=data) as server:
            create_tables(client(server.url))  # includes the 20 items of part-000
        have = PER_PARTITION * 10  # create_tables writes 10 partitions of 20
        for size in sizes:
            began = time.monotonic()
            fill(data, have, size)
            have = max(have, size)
            fill_s = round(time.monotonic() - began, 1)
            results[str(size)] = {"fill_s": fill_s, **measure(data, args.seconds, args.repeat)}
            best = results[str(size)]["best_server_cpu_ms_per_request"]
            print(f"{size:>9} items: {best:.3f} ms server CPU per Query (filled in {fill_s} s)")
    output = {
        "benchmark": "query_scale",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "query": "KeyConditionExpression pk = :p, the 20 items of part-000 (wrk/query.lua)",
        "wrk": {"threads": 1, "connections": 2, "seconds": args.seconds, "repeat": args.repeat},
        "cpus": os.cpu_count(),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "sizes": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
