#!/usr/bin/env python
"""Benchmark: 5,000 simulated robots heartbeating at the default interval against one server process.

    /root/.cache/podium-venv/bin/python benchmarks/heartbeats.py [--robots 5000] [--seconds 90]

A fresh schema ``podium_robot_bench`` on PostgreSQL; one ``podium serve`` process; a machine with
``--robots`` robots connected through the robot protocol (one session each); each robot sends
``POST /api/robot/heartbeat`` every ``heartbeatSeconds`` (the server's default, 30 s) at a random phase,
from this process (asyncio). Printed: the server process's CPU share over the window (target < 25 % of
one core) and the heartbeat latency p50/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from robot_bench_support import DEFAULT_URL, cpu_seconds, fresh_schema, percentile, seed_robots, server


async def beat(
    http: httpx.AsyncClient,
    robot: dict[str, Any],
    agent: str,
    every: float,
    until: float,
    latencies: list[float],
    errors: list[int],
) -> None:
    await asyncio.sleep(random.uniform(0, every))
    headers = {"Authorization": f"Bearer {robot['token']}"}
    while time.monotonic() < until:
        began = time.perf_counter()
        try:
            response = await http.post(
                "/api/robot/heartbeat", json={"agentId": agent, "running": {}}, headers=headers
            )
        except httpx.TransportError:
            errors.append(0)
        else:
            latencies.append((time.perf_counter() - began) * 1000)
            if response.status_code != 200:
                errors.append(response.status_code)
        await asyncio.sleep(every)


async def run(
    base: str, robots: list[dict[str, Any]], agent: str, every: float, seconds: float, pid: int
) -> tuple[list[float], list[int], float, float]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    latencies: list[float] = []
    errors: list[int] = []
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        start = time.monotonic()
        tasks = [
            asyncio.create_task(beat(http, r, agent, every, start + seconds, latencies, errors))
            for r in robots
        ]
        await asyncio.sleep(every)  # every robot has started beating: measure a steady window
        cpu, wall = cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(max(1.0, seconds - every))
        cpu, wall = cpu_seconds(pid) - cpu, time.monotonic() - wall
        await asyncio.gather(*tasks)
    return latencies, errors, cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--robots", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=90)
    args = parser.parse_args()
    url = fresh_schema(args.database_url)
    with tempfile.TemporaryDirectory() as data, server(url, Path(data)) as (base, pid):
        key = seed_robots(url, args.robots)
        agent = str(uuid.uuid4())
        answer = httpx.post(
            f"{base}/api/robot/connect",
            json={"machineKey": key, "hostMachineName": "h", "agentId": agent},
            timeout=600,
        ).json()
        robots, every = answer["robots"], float(answer["heartbeatSeconds"])
        latencies, errors, cpu, wall = asyncio.run(run(base, robots, agent, every, args.seconds, pid))
    print(
        f"robots: {len(robots)}   interval: {every:.0f} s   heartbeats: {len(latencies)}   "
        f"errors: {len(errors)}"
    )
    print(
        f"heartbeat latency: p50 {percentile(latencies, 0.5):.1f} ms  "
        f"p99 {percentile(latencies, 0.99):.1f} ms"
    )
    share = 100 * cpu / wall
    print(
        f"server CPU: {cpu:.1f} s over {wall:.1f} s = {share:.1f} % of one core (target < 25 %: "
        f"{'met' if share < 25 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
