"""CPU per request of Headwater's own code, without sockets, clients or peers.

The server's HTTP protocol (``server/protocol.py``) is driven in this process with a fake
transport: each request's bytes go to ``HttpConnection.data_received`` and the loop runs until
the answer is written. So the figure is Headwater's Python (parsing, validation, the table
engine, SQLite, the commit) and nothing else — no kernel networking, no client competing for
the two cores, no idle-loop wake-ups — which makes it far steadier than the wrk cells of
``tables.py`` on a noisy VM, and the right tool for an A/B of a change to the request path:

    python benchmarks/request_cpu.py                       # the table below, durable store
    python benchmarks/request_cpu.py --in-memory           # synchronous=OFF: no fsync
    python benchmarks/request_cpu.py --only put-new-key --profile 25   # cProfile's top 25
    PYTHONPATH=/tmp/other-checkout/src python benchmarks/request_cpu.py   # the other build

Requests (one connection, one at a time, after a warm-up): PutItem of the same item again (an
overwrite that changes nothing), PutItem of a new key each time, the same on a table with a
NEW_AND_OLD_IMAGES stream, GetItem, and a Query for the 20 items of one partition. CPU is
``time.process_time()`` (every thread of this process, so the writer thread's share counts),
per request; wall time per request beside it. Writes benchmarks/results/request_cpu.json.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from headwater.runtime import Runtime
from headwater.server.app import create_app
from headwater.server.protocol import HttpConnection, HttpServer
from headwater.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
NOTE = "x" * 128
AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64
)


class _Socket:
    def setsockopt(self, *_: Any) -> None:
        pass


class _Transport:
    """What HttpConnection needs of a transport; keeps what it writes."""

    def __init__(self) -> None:
        self.written = 0
        self.last = b""

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        extra = {"socket": _Socket(), "peername": ("127.0.0.1", 5555), "sockname": ("127.0.0.1", 1)}
        return extra.get(name, default)

    def write(self, data: bytes) -> None:
        self.written += 1
        self.last = data

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass


def request(operation: str, body: dict[str, Any]) -> bytes:
    raw = json.dumps(body, separators=(",", ":")).encode()
    head = (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.0\r\n"
        f"X-Amz-Target: DynamoDB_20120810.{operation}\r\nX-Amz-Date: 20260101T000000Z\r\n"
        f"Authorization: {AUTH}\r\nContent-Length: {len(raw)}\r\n\r\n"
    )
    return head.encode() + raw


def item(pk: str, n: int, sk: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"pk": {"S": pk}, "name": {"S": "Ada Lovelace"}, "n": {"N": str(n)}}
    if sk is not None:
        out["sk"] = {"S": sk}
    out["note"] = {"S": NOTE}
    return out


def table(name: str, *, range_key: bool = False, stream: bool = False) -> dict[str, Any]:
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "sk", "AttributeType": "S"})
    body: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": keys,
        "AttributeDefinitions": attrs,
    }
    if stream:
        body["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
    return body


WORKLOADS: dict[str, Callable[[int], bytes]] = {
    "put-same-item": lambda i: request(
        "PutItem", {"TableName": "bench_hash", "Item": item("same", 1)}
    ),
    "put-new-key": lambda i: request(
        "PutItem", {"TableName": "bench_hash", "Item": item(f"k{i}", i)}
    ),
    "put-new-key-stream": lambda i: request(
        "PutItem", {"TableName": "bench_stream", "Item": item(f"k{i}", i)}
    ),
    "get-item": lambda i: request(
        "GetItem", {"TableName": "bench_hash", "Key": {"pk": {"S": "same"}}}
    ),
    "query-20": lambda i: request(
        "Query",
        {
            "TableName": "bench_range",
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "part"}},
        },
    ),
}


class Driver:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.transport = _Transport()
        app = create_app(runtime)
        server = HttpServer(app, app)
        server.loop = asyncio.get_running_loop()
        self.connection = HttpConnection(server)
        self.connection.connection_made(self.transport)  # type: ignore[arg-type]

    async def send(self, raw: bytes) -> bytes:
        before = self.transport.written
        self.connection.data_received(raw)
        while self.transport.written == before:
            await asyncio.sleep(0)
        return self.transport.last

    async def setup(self) -> None:
        for body in (
            table("bench_hash"),
            table("bench_stream", stream=True),
            table("bench_range", range_key=True),
        ):
            answer = await self.send(request("CreateTable", body))
            assert b" 200 " in answer.split(b"\r\n", 1)[0], answer[:300]
        for name in (
            "bench_hash",
            "bench_stream",
            "bench_range",
        ):  # instant transitions: ACTIVE by the next turn or so
            while b'"ACTIVE"' not in await self.send(request("DescribeTable", {"TableName": name})):
                await asyncio.sleep(0.01)
        await self.send(request("PutItem", {"TableName": "bench_hash", "Item": item("same", 1)}))
        for s in range(20):
            await self.send(
                request("PutItem", {"TableName": "bench_range", "Item": item("part", s, f"{s:03}")})
            )


async def measure(driver: Driver, name: str, count: int, profile: int) -> dict[str, Any]:
    make = WORKLOADS[name]
    offset = 10**7 * (1 + list(WORKLOADS).index(name))  # new keys never repeat across runs
    for i in range(200):  # warm-up
        answer = await driver.send(make(offset + i))
    assert b" 200 " in answer.split(b"\r\n", 1)[0], answer[:300]
    requests = [make(offset + 1000 + i) for i in range(count)]
    profiler = cProfile.Profile() if profile else None
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    for raw in requests:
        await driver.send(raw)
    if profiler is not None:
        profiler.disable()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if profiler is not None:
        print(f"--- {name}: cProfile (its overhead about doubles the times) ---")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(profile)
    return {
        "requests": count,
        "cpu_us_per_request": round(cpu / count * 1e6, 1),
        "wall_us_per_request": round(wall / count * 1e6, 1),
        "profiled": bool(profile),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hw-reqcpu-") as data:
        settings = Settings(
            data_dir=Path(data), port=0, log_level="warning", in_memory=args.in_memory
        )
        runtime = Runtime(settings)
        runtime.start()
        runtime.store.readers.reserve_for_this_thread()
        runtime.store.writer.attach(asyncio.get_running_loop())
        try:
            driver = Driver(runtime)
            await driver.setup()
            results = {}
            for name in args.only:
                results[name] = await measure(driver, name, args.count, args.profile)
                cell = results[name]
                print(
                    f"{name:20} {cell['cpu_us_per_request']:8.1f} us CPU/request "
                    f"{cell['wall_us_per_request']:8.1f} us wall",
                    flush=True,
                )
            return results
        finally:
            runtime.store.writer.detach()
            runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in-memory", action="store_true")
    parser.add_argument("--count", type=int, default=5000, help="requests per workload")
    parser.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated workloads")
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N")
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "results" / "request_cpu.json"
    )
    args = parser.parse_args()
    args.only = [name for name in args.only.split(",") if name]
    unknown = [name for name in args.only if name not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; known: {', '.join(WORKLOADS)}")
    try:
        import uvloop

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        results = runner.run(run(args))
    report = {
        "benchmark": "request_cpu",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "store": "in-memory" if args.in_memory else "durable",
        "loop": "uvloop" if loop_factory else "asyncio",
        "results": results,
    }
    if not args.profile:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n")
        print(f"saved {args.output}")


if __name__ == "__main__":
    main()
