#!/usr/bin/env python
"""Benchmark: 1,000 suspended jobs waiting for tasks; their tasks completed at once; completion →
Running with 20 robots (PostgreSQL).

    /work/venv/bin/python benchmarks/resume.py [--jobs 1000] [--robots 20] [--connections 16]

A fresh schema ``podium_resume_bench``; one ``podium serve`` process; a machine with ``--robots``
robots connected through the robot protocol, each simulated (asyncio, in this process) long-polling
``/api/robot/jobs/next``.

1. ``--jobs`` generic tasks (``/tasks/GenericTasks/CreateTask``) and as many jobs (StartJobs).
2. Each robot, given a job, reports it ``Suspended`` waiting for the next task
   (``resumeTriggers: [{"triggerType": "Task", "itemKey": <task key>}]``, what ``podium robot``
   reports for a ``uipath`` run that waits): the job is Suspended and the robot free, until every job
   is Suspended.
3. Every task is completed at once (``/tasks/GenericTasks/CompleteTask`` over ``--connections``
   keep-alive connections): the real resume path (the task's completion fires the job's trigger, the
   job is Resumed and the robots woken, in the completing transaction). A robot given a resumed job
   notes when, and reports it Successful at once.

Printed: completion → Running as the server stamped it (the job's second ``job.running`` outbox event
minus the task's ``CompletionTime``) and as the client saw it (CompleteTask sent → the robot received
the job), p50/p99/max; completion → Resumed (``ResumeTime - CompletionTime``, the resume path without
the wait for a free robot); how long the completions took; the server's CPU, over the whole run and
from the first completion until the robots had every resumed job (per job: its completion, its claim
and its report, the figure that moves least with the machine's load); the load average.
Target: p50 ≤ 100 ms on PostgreSQL with 20 robots. With 1,000 jobs for 20 robots, most jobs wait for
a robot to be free: the p99 is the time 20 robots take to run 1,000 jobs one after the other.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
from lean_http import LeanConnection
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

from podium.db.schema import events, jobs
from podium.db.schema_tasks import tasks

SCHEMA = "podium_resume_bench"
NS = "UiPath.Server.Configuration.OData"


class Fleet:
    """The simulated robots' shared notes."""

    def __init__(self, task_keys: list[str]) -> None:
        self.task_keys = task_keys  # handed out to the jobs suspending
        self.suspended = 0
        self.received: dict[str, float] = {}  # resumed job key → perf_counter at receipt
        self.stop = asyncio.Event()


async def robot_loop(http: httpx.AsyncClient, robot: dict[str, Any], agent: str, fleet: Fleet) -> None:
    headers = {"Authorization": f"Bearer {robot['token']}"}
    while not fleet.stop.is_set():
        response = await http.post(
            "/api/robot/jobs/next", json={"agentId": agent, "wait": 5}, headers=headers
        )
        for job in response.json()["jobs"]:
            key = job["key"]
            if job.get("resume"):
                fleet.received[key] = time.perf_counter()
                body: dict[str, Any] = {"state": "Successful"}
            else:
                task = fleet.task_keys.pop()
                wait = {
                    "interruptId": "approval",
                    "triggerType": "Task",
                    "itemKey": task,
                    "folderPath": "Shared",
                }
                body = {"state": "Suspended", "resumeTriggers": [wait]}
            answer = await http.post(f"/api/robot/jobs/{key}/state", json=body, headers=headers)
            answer.raise_for_status()
            if body["state"] == "Suspended":
                fleet.suspended += 1


async def requests(
    base: str, token: str, bodies: list[tuple[str, bytes]], connections: int
) -> list[tuple[float, float, int, bytes]]:
    """Sends every (path, body) POST over ``connections`` keep-alive connections, all at once;
    (sent, answered, status, answer) per request, in order."""
    headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
    links = [await LeanConnection(base, headers).open() for _ in range(connections)]
    built = [links[0].build("POST", path, body=body) for path, body in bodies]
    results: list[tuple[float, float, int, bytes]] = [(0.0, 0.0, 0, b"")] * len(built)
    cursor = iter(range(len(built)))

    async def worker(link: LeanConnection) -> None:
        for index in cursor:
            sent = time.perf_counter()
            status, answer = await link.send(built[index])
            results[index] = (sent, time.perf_counter(), status, answer)

    await asyncio.gather(*(worker(link) for link in links))
    for link in links:
        await link.close()
    return results


async def drive(
    base: str, token: str, robots: list[dict[str, Any]], agent: str, count: int, connections: int, pid: int
) -> tuple[dict[int, float], dict[str, float], float, tuple[float, float]]:
    """Creates the tasks and jobs, suspends every job, completes every task; answers (task id → sent),
    (job key → received), the completions' duration and the server's (CPU seconds, wall seconds) from
    the first completion until the robots had every resumed job."""
    created = await requests(
        base,
        token,
        [
            (
                "/tasks/GenericTasks/CreateTask",
                orjson.dumps({"type": "ExternalTask", "title": f"t{n}", "data": {"n": n}}),
            )
            for n in range(count)
        ],
        connections,
    )
    if any(status != 201 for _, _, status, _ in created):
        raise RuntimeError(f"CreateTask failed: {next(a for _, _, s, a in created if s != 201)[:300]!r}")
    made = [orjson.loads(answer) for _, _, _, answer in created]
    fleet = Fleet([task["key"] for task in made])
    limits = httpx.Limits(max_connections=len(robots) + 10, max_keepalive_connections=len(robots) + 10)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        loops = [asyncio.create_task(robot_loop(http, r, agent, fleet)) for r in robots]
        await asyncio.sleep(1)
        start = {"startInfo": {"ReleaseName": "proc", "Strategy": "JobsCount", "JobsCount": 100}}
        headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
        for left in range(count, 0, -100):
            start["startInfo"]["JobsCount"] = min(100, left)
            answer = await http.post(f"/odata/Jobs/{NS}.StartJobs", json=start, headers=headers)
            answer.raise_for_status()
        deadline = time.monotonic() + 600
        while fleet.suspended < count and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        if fleet.suspended < count:
            raise RuntimeError(f"only {fleet.suspended} jobs suspended")
        await asyncio.sleep(1)  # every robot is back waiting
        completions = [
            (
                "/tasks/GenericTasks/CompleteTask",
                orjson.dumps({"taskId": task["id"], "data": {"ok": True}, "action": "approve"}),
            )
            for task in made
        ]
        began, cpu_began = time.perf_counter(), cpu_seconds(pid)
        done = await requests(base, token, completions, connections)
        took = time.perf_counter() - began
        if any(status != 204 for _, _, status, _ in done):
            raise RuntimeError(f"CompleteTask failed: {next(a for _, _, s, a in done if s != 204)[:300]!r}")
        deadline = time.monotonic() + 600
        while len(fleet.received) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        resume_cpu = (cpu_seconds(pid) - cpu_began, time.perf_counter() - began)
        fleet.stop.set()
        await asyncio.gather(*loops, return_exceptions=True)
    sent = {int(task["id"]): done[n][0] for n, task in enumerate(made)}
    return sent, fleet.received, took, resume_cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--robots", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    url = fresh_schema(args.database_url, SCHEMA)
    with tempfile.TemporaryDirectory() as data, server(url, Path(data)) as (base, pid):
        token = admin_token(base)
        key = seed_robots(url, args.robots)
        agent = str(uuid.uuid4())
        robots = connect(base, key, agent)
        cpu_before, wall = cpu_seconds(pid), time.monotonic()
        sent, received, took, (resume_cpu, resume_wall) = asyncio.run(
            drive(base, token, robots, agent, args.jobs, args.connections, pid)
        )
        cpu, wall = cpu_seconds(pid) - cpu_before, time.monotonic() - wall
        load = os.getloadavg()
    engine = engine_for(url)
    with engine.connect() as conn:
        waited = {
            str(r.wait_job_key): (int(r.id), r.completion_time)
            for r in conn.execute(select(tasks.c.id, tasks.c.wait_job_key, tasks.c.completion_time))
        }
        job_rows = conn.execute(select(jobs.c.key, jobs.c.resume_time, jobs.c.state)).all()
        running: dict[str, list[Any]] = {}
        for row in conn.execute(
            select(events.c.entity_key, events.c.creation_time)
            .where(events.c.type == "job.running")
            .order_by(events.c.id)
        ):
            running.setdefault(str(row.entity_key), []).append(row.creation_time)
    engine.dispose()
    stamped, resumed, observed = [], [], []
    for row in job_rows:
        task_id, completed = waited.get(str(row.key), (None, None))
        if completed is None:
            continue
        runs = running.get(str(row.key), [])
        if len(runs) >= 2:
            stamped.append((runs[1] - completed).total_seconds() * 1000)
        if row.resume_time is not None:
            resumed.append((row.resume_time - completed).total_seconds() * 1000)
        if task_id in sent and str(row.key) in received:
            observed.append((received[str(row.key)] - sent[task_id]) * 1000)
    print(
        f"robots: {len(robots)}   jobs suspended then resumed: {len(stamped)}/{args.jobs}   "
        f"Successful: {sum(1 for r in job_rows if r.state == 5)}"
    )
    print(f"{args.jobs} CompleteTask over {args.connections} connections took {took:.2f} s")

    def line(name: str, values: list[float]) -> str:
        return (
            f"{name}: p50 {percentile(values, 0.5):.0f} ms  p99 {percentile(values, 0.99):.0f} ms"
            f"  max {max(values, default=float('nan')):.0f} ms"
        )

    print(line("server-stamped completion → Running (2nd job.running event - CompletionTime)", stamped))
    print(line("client-observed CompleteTask sent → robot received the job              ", observed))
    print(line("server-stamped completion → Resumed (ResumeTime - CompletionTime)        ", resumed))
    print(f"server CPU: {cpu:.1f} s over {wall:.1f} s ({100 * cpu / wall:.0f} % of one core)")
    print(
        f"server CPU from the first completion to the last job received: {resume_cpu:.1f} s over "
        f"{resume_wall:.1f} s ({100 * resume_cpu / resume_wall:.0f} % of one core), "
        f"{1000 * resume_cpu / max(len(received), 1):.1f} ms per resumed job (completion + claim + report)"
    )
    ok = percentile(stamped, 0.5) <= 100
    print(f"target p50 <= 100 ms: {'met' if ok else 'NOT met'}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in load)} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
