#!/usr/bin/env python
"""Benchmark: StartJobs → Running latency with 100 robots long-polling (PostgreSQL).

    /root/.cache/podium-venv/bin/python benchmarks/dispatch.py [--robots 100] [--jobs 1000]

A fresh schema ``podium_robot_bench``; one ``podium serve`` process; a machine with ``--robots`` robots
connected through the robot protocol; each simulated robot (asyncio, in this process) long-polls
``/api/robot/jobs/next`` and reports each job Successful at once. Jobs are started one at a time
(``StartJobs``, JobsCount 1). Printed: latency from StartJobs to Running as the server stamped it
(``StartTime - CreationTime``) and as a robot saw it (StartJobs sent → job received), p50/p99.
Target: p50 ≤ 50 ms, p99 ≤ 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from robot_bench_support import (
    DEFAULT_URL,
    admin_token,
    connect,
    cpu_seconds,
    engine_for,
    fresh_schema,
    percentile,
    seed_robots,
    server,
)
from sqlalchemy import select

from podium.db.schema import jobs


async def robot_loop(
    http: httpx.AsyncClient, robot: dict[str, Any], agent: str, seen: dict[str, float], stop: asyncio.Event
) -> None:
    headers = {"Authorization": f"Bearer {robot['token']}"}
    while not stop.is_set():
        response = await http.post(
            "/api/robot/jobs/next", json={"agentId": agent, "wait": 5}, headers=headers
        )
        for job in response.json()["jobs"]:
            seen[job["key"]] = time.perf_counter()
            await http.post(
                f"/api/robot/jobs/{job['key']}/state", json={"state": "Successful"}, headers=headers
            )


async def drive(
    base: str, token: str, robots: list[dict[str, Any]], agent: str, count: int
) -> dict[str, float]:
    limits = httpx.Limits(max_connections=len(robots) + 10, max_keepalive_connections=len(robots) + 10)
    seen: dict[str, float] = {}
    sent: dict[str, float] = {}
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        loops = [asyncio.create_task(robot_loop(http, r, agent, seen, stop)) for r in robots]
        await asyncio.sleep(2)  # every robot is waiting
        headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
        body = {"startInfo": {"ReleaseName": "proc", "Strategy": "JobsCount", "JobsCount": 1}}
        for _ in range(count):
            began = time.perf_counter()
            answer = await http.post(
                "/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs", json=body, headers=headers
            )
            sent[answer.json()["value"][0]["Key"]] = began
            await asyncio.sleep(0.01)  # ~ a steady stream, not a burst
        deadline = time.monotonic() + 60
        while len(seen) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.gather(*loops, return_exceptions=True)
    return {key: (seen[key] - sent[key]) * 1000 for key in sent if key in seen}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--robots", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=1000)
    args = parser.parse_args()
    url = fresh_schema(args.database_url)
    with tempfile.TemporaryDirectory() as data, server(url, Path(data)) as (base, pid):
        token = admin_token(base)
        key = seed_robots(url, args.robots)
        agent = str(uuid.uuid4())
        robots = connect(base, key, agent)
        cpu_before, wall = cpu_seconds(pid), time.monotonic()
        observed = asyncio.run(drive(base, token, robots, agent, args.jobs))
        cpu, wall = cpu_seconds(pid) - cpu_before, time.monotonic() - wall
    engine = engine_for(url)
    with engine.connect() as conn:
        rows = conn.execute(select(jobs.c.creation_time, jobs.c.start_time, jobs.c.state)).all()
    engine.dispose()
    stamped = [(r.start_time - r.creation_time).total_seconds() * 1000 for r in rows if r.start_time]
    print(
        f"robots: {len(robots)}   jobs started: {len(rows)}   "
        f"Successful: {sum(1 for r in rows if r.state == 5)}"
    )
    print(
        f"server-stamped StartJobs→Running (StartTime-CreationTime): p50 {percentile(stamped, 0.5):.1f} ms  "
        f"p99 {percentile(stamped, 0.99):.1f} ms  max {max(stamped):.1f} ms"
    )
    seen = list(observed.values())
    print(
        f"robot-observed StartJobs sent→job received:               p50 {percentile(seen, 0.5):.1f}"
        f" ms  p99 {percentile(seen, 0.99):.1f} ms  ({len(observed)} jobs)"
    )
    print(f"server CPU: {cpu:.1f} s over {wall:.1f} s ({100 * cpu / wall:.0f} % of one core)")
    ok = percentile(stamped, 0.5) <= 50 and percentile(stamped, 0.99) <= 250
    print(f"target p50 <= 50 ms, p99 <= 250 ms: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
