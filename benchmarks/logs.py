#!/usr/bin/env python
"""Benchmark: ``POST /api/Logs/SubmitLogs`` ingestion, batches of 100 lines, on PostgreSQL.

    /root/.cache/podium-venv/bin/python benchmarks/logs.py [--seconds 20] [--clients 2] [--connections 8]

A fresh schema (``podium_logs_bench`` unless ``--schema``, so that it can run beside
``heartbeats.py``); one ``podium serve`` process (``--workers N`` passes ``--workers`` to it when the
command has that flag); one connected robot whose token sends batches of 100 entries (a job's key,
levels Trace..Fatal, ~80-character messages).

The client must not be what is measured on a small machine: ``--clients`` processes each run a lean
asyncio loop over ``--connections`` keep-alive HTTP/1.1 streams, sending the same prepared request bytes
(``--client httpx`` uses httpx instead, as earlier versions did). Printed: lines/s accepted (target
≥ 50,000), batch latency, rows counted in ``robot_logs`` afterwards, CPU time per batch of the server
process(es), of the PostgreSQL backends and of the clients (from /proc), and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import tempfile
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson
import psycopg
from robot_bench_support import (
    DEFAULT_URL,
    connect,
    cpu_seconds,
    engine_for,
    fresh_schema,
    percentile,
    seed_robots,
    server,
)
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from podium.db.engine import postgres_options, sync_url
from podium.db.schema import folders, jobs
from podium.db.schema_robots import robot_logs
from podium.db.types import utcnow

SCHEMA = "podium_logs_bench"
APPLICATION_NAME = "podium_logs_bench"
LEVELS = ("Trace", "Debug", "Info", "Warn", "Error", "Fatal")
BATCH = 100


def batch_body(job_key: str) -> bytes:
    return orjson.dumps(
        [
            {
                "message": f"line {i}: the invoice was read and its total checked against the order",
                "level": LEVELS[i % 6],
                "timeStamp": "2026-11-23T10:00:00Z",
                "processName": "bench",
                "jobKey": job_key,
            }
            for i in range(BATCH)
        ]
    )


def request_bytes(host: str, token: str, body: bytes) -> bytes:
    head = (
        f"POST /api/Logs/SubmitLogs HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """Sends one request on a keep-alive stream and reads the whole answer; returns its status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return int(lines[0].split(b" ", 2)[1])


async def lean_client(
    host: str, port: int, request: bytes, connections: int, until: float
) -> tuple[int, int, list[float]]:
    latencies: list[float] = []
    accepted = refused = 0

    async def stream() -> None:
        nonlocal accepted, refused
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.time() < until:
                began = time.perf_counter()
                status = await exchange(reader, writer, request)
                latencies.append((time.perf_counter() - began) * 1000)
                if status == 204:
                    accepted += 1
                else:
                    refused += 1
        finally:
            writer.close()

    await asyncio.gather(*(stream() for _ in range(connections)))
    return accepted, refused, latencies


async def httpx_client(
    base: str, token: str, body: bytes, connections: int, until: float
) -> tuple[int, int, list[float]]:
    latencies: list[float] = []
    accepted = refused = 0
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def stream(http: httpx.AsyncClient) -> None:
        nonlocal accepted, refused
        while time.time() < until:
            began = time.perf_counter()
            response = await http.post("/api/Logs/SubmitLogs", content=body, headers=headers)
            latencies.append((time.perf_counter() - began) * 1000)
            if response.status_code == 204:
                accepted += 1
            else:
                refused += 1

    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        await asyncio.gather(*(stream(http) for _ in range(connections)))
    return accepted, refused, latencies


def client_process(
    kind: str,
    base: str,
    token: str,
    body: bytes,
    connections: int,
    start: float,
    until: float,
    out: Connection,
) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    time.sleep(max(0.0, start - time.time()))
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    if kind == "httpx":
        result = asyncio.run(httpx_client(base, token, body, connections, until))
    else:
        request = request_bytes(f"{host}:{port}", token, body)
        result = asyncio.run(lean_client(host, port, request, connections, until))
    out.send(result)
    out.close()


def seed_job(url: str) -> str:
    """A job row whose key the batches name (its folder and process are filled in on ingestion)."""
    engine = engine_for(url)
    key = str(uuid.uuid4())
    with engine.begin() as conn:
        folder = conn.execute(select(folders.c.id, folders.c.tenant_id)).first()
        assert folder is not None
        conn.execute(
            insert(jobs).values(
                tenant_id=folder.tenant_id,
                folder_id=folder.id,
                key=key,
                release_name="bench",
                batch_execution_key=str(uuid.uuid4()),
                state=0,
                creation_time=utcnow(),
            )
        )
    engine.dispose()
    return key


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (``podium serve --workers N`` forks worker processes)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_of(pids: list[int]) -> dict[int, float]:
    found: dict[int, float] = {}
    for pid in pids:
        with contextlib.suppress(OSError):  # gone, or not visible in this /proc
            found[pid] = cpu_seconds(pid)
    return found


def used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def backend_pids(info: str) -> list[int]:
    with psycopg.connect(info, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (APPLICATION_NAME,)
        ).fetchall()
    return [int(row[0]) for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--schema", default=SCHEMA, help="PostgreSQL schema (dropped and created)")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections per client")
    parser.add_argument("--client", choices=("lean", "httpx"), default="lean")
    parser.add_argument("--workers", type=int, default=0, help="podium serve --workers N (0: omit the flag)")
    args = parser.parse_args()

    url = fresh_schema(args.database_url, args.schema)
    served = make_url(url).update_query_dict({"application_name": APPLICATION_NAME})
    served_url = served.render_as_string(hide_password=False)
    pg_target, _ = postgres_options(sync_url(url))
    pg_info = pg_target.set(drivername="postgresql").render_as_string(hide_password=False)
    extra = ["--workers", str(args.workers)] if args.workers else []
    with (
        tempfile.TemporaryDirectory() as data,
        server(served_url, Path(data), serve_args=extra) as (base, pid),
    ):
        key = seed_robots(url, 1)
        [robot] = connect(base, key, str(uuid.uuid4()))
        body = batch_body(seed_job(url))
        warm = httpx.post(
            f"{base}/api/Logs/SubmitLogs",
            content=body,
            headers={"Authorization": f"Bearer {robot['token']}", "Content-Type": "application/json"},
        )
        assert warm.status_code == 204, warm.text
        context = mp.get_context("fork")
        start = time.time() + 1.0
        until = start + args.seconds
        pipes, processes = [], []
        for _ in range(args.clients):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=client_process,
                args=(args.client, base, robot["token"], body, args.connections, start, until, send),
                daemon=True,
            )
            process.start()
            send.close()
            pipes.append(receive)
            processes.append(process)
        clients = [p.pid for p in processes if p.pid is not None]
        time.sleep(max(0.0, start - time.time()))
        servers, backends = tree(pid), backend_pids(pg_info)
        load_start = os.getloadavg()
        before = cpu_of(servers), cpu_of(backends), cpu_of(clients)
        began = time.time()
        loads = []
        while time.time() < until:
            time.sleep(min(5.0, max(0.0, until - time.time())))
            loads.append(os.getloadavg()[0])
        backends = backend_pids(pg_info)  # the pool opens connections during the run: count them from 0
        after = cpu_of(servers), cpu_of(backends), cpu_of(clients)
        wall = time.time() - began
        accepted = refused = 0
        latencies: list[float] = []
        for pipe in pipes:
            a, r, lat = pipe.recv()
            accepted, refused = accepted + a, refused + r
            latencies.extend(lat)
        for process in processes:
            process.join(timeout=30)
    engine = engine_for(url)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(robot_logs)).scalar_one()
    engine.dispose()
    server_cpu, pg_cpu, client_cpu = (used(b, a) for b, a in zip(before, after, strict=True))
    lines = accepted * BATCH
    rate = lines / wall
    batches = max(accepted + refused, 1)
    print(
        f"server: {len(servers)} process(es)   clients: {args.clients} x {args.connections} {args.client}"
        f"   lines accepted: {lines} in {wall:.1f} s   refused batches: {refused}"
        f"   rows stored: {stored} (incl. 1 warm-up batch)"
    )
    print(f"batch latency: p50 {percentile(latencies, 0.5):.1f} ms  p99 {percentile(latencies, 0.99):.1f} ms")
    print(
        f"CPU per batch of {BATCH}: server {1000 * server_cpu / batches:.2f} ms"
        f" ({100 * server_cpu / wall:.0f} % of a core)   PostgreSQL {1000 * pg_cpu / batches:.2f} ms"
        f" ({100 * pg_cpu / wall:.0f} %)   clients {1000 * client_cpu / batches:.2f} ms"
        f" ({100 * client_cpu / wall:.0f} %)"
    )
    print(
        f"load average (1 min): {load_start[0]:.2f} at start, during {' '.join(f'{x:.2f}' for x in loads)}"
        f"   ({os.cpu_count()} cores)"
    )
    print(f"ingestion: {rate:,.0f} lines/s (target >= 50,000: {'met' if rate >= 50_000 else 'NOT met'})")


if __name__ == "__main__":
    main()
