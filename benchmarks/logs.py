#!/usr/bin/env python
"""Benchmark: ``POST /api/Logs/SubmitLogs`` ingestion, batches of 100 lines, on PostgreSQL.

    /root/.cache/podium-venv/bin/python benchmarks/logs.py [--seconds 20] [--clients 8]

A fresh schema ``podium_robot_bench``; one ``podium serve`` process; one connected robot whose token
sends batches of 100 entries (a job's key, levels Trace..Fatal, ~80-character messages) from
``--clients`` concurrent connections. Printed: lines/s accepted (target ≥ 50,000), batch latency, and
the rows counted in ``robot_logs`` afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from robot_bench_support import (
    DEFAULT_URL,
    connect,
    engine_for,
    fresh_schema,
    percentile,
    seed_robots,
    server,
)
from sqlalchemy import func, select

from podium.db.schema_robots import robot_logs

LEVELS = ("Trace", "Debug", "Info", "Warn", "Error", "Fatal")


async def client(
    http: httpx.AsyncClient, token: str, batch: bytes, until: float, latencies: list[float]
) -> int:
    sent = 0
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    while time.monotonic() < until:
        began = time.perf_counter()
        response = await http.post("/api/Logs/SubmitLogs", content=batch, headers=headers)
        latencies.append((time.perf_counter() - began) * 1000)
        if response.status_code == 204:
            sent += 100
    return sent


async def run(
    base: str, token: str, batch: bytes, clients: int, seconds: float
) -> tuple[int, float, list[float]]:
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        began = time.monotonic()
        counts = await asyncio.gather(
            *(client(http, token, batch, began + seconds, latencies) for _ in range(clients))
        )
        return sum(counts), time.monotonic() - began, latencies


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    import orjson

    url = fresh_schema(args.database_url)
    with tempfile.TemporaryDirectory() as data, server(url, Path(data)) as (base, _pid):
        key = seed_robots(url, 1)
        [robot] = connect(base, key, str(uuid.uuid4()))
        entries = [
            {
                "message": f"line {i}: the invoice was read and its total checked against the order",
                "level": LEVELS[i % 6],
                "timeStamp": "2026-11-23T10:00:00Z",
                "processName": "bench",
            }
            for i in range(100)
        ]
        lines, wall, latencies = asyncio.run(
            run(base, robot["token"], orjson.dumps(entries), args.clients, args.seconds)
        )
    engine = engine_for(url)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(robot_logs)).scalar_one()
    engine.dispose()
    rate = lines / wall
    print(f"clients: {args.clients}   lines accepted: {lines} in {wall:.1f} s   rows stored: {stored}")
    print(f"batch latency: p50 {percentile(latencies, 0.5):.1f} ms  p99 {percentile(latencies, 0.99):.1f} ms")
    print(f"ingestion: {rate:,.0f} lines/s (target >= 50,000: {'met' if rate >= 50_000 else 'NOT met'})")


if __name__ == "__main__":
    main()
