#!/usr/bin/env python
"""Benchmark: 5,000 simulated robots heartbeating at the default interval against one server process.

    /root/.cache/podium-venv/bin/python benchmarks/heartbeats.py [--robots 5000] [--seconds 120]

A fresh schema ``podium_robot_bench`` on PostgreSQL; one ``podium serve`` process; a machine with
``--robots`` robots connected through the robot protocol (one session each); each robot sends
``POST /api/robot/heartbeat`` every ``heartbeatSeconds`` (the server's default, 30 s) at a random phase.

The client must not be what is measured: the robots are spread over ``--clients`` processes, each a
lean asyncio loop speaking HTTP/1.1 keep-alive over ``--connections`` raw streams with every robot's
request bytes built up front. Each heartbeat has a due time; the client records how late it was sent
and how long the answer took. The steady window starts one interval after the first beats (every
robot has beaten once) and ends at ``--seconds``.

Printed: offered vs achieved heartbeats/s (the run is INVALID, exit status 2, when fewer than 95 % of
the offered heartbeats were answered in the window, or any failed), send lateness, latency p50/p99,
the server process's CPU time over the window (from /proc: robust on a busy machine) as a share of
one core (target < 25 %), the PostgreSQL backends' and the client processes' CPU, and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson
import psycopg
from robot_bench_support import (
    DEFAULT_URL,
    SCHEMA,
    cpu_seconds,
    fresh_schema,
    percentile,
    seed_robots,
    server,
)
from sqlalchemy.engine import make_url

from podium.db.engine import postgres_options, sync_url

APPLICATION_NAME = "podium_robot_bench_hb"
VALID_SHARE = 0.95


@dataclass(frozen=True)
class Plan:
    """What one client process runs: its robots' request bytes and phases, and the shared clock."""

    host: str
    port: int
    requests: list[bytes]
    phases: list[float]
    every: float
    start: float  # time.time() of the first possible beat (same in every client process)
    end: float  # no beat is due at or after this
    connections: int


@dataclass
class Sample:
    due: float
    done: float
    latency_ms: float
    late_ms: float
    status: int


def request_bytes(host: str, token: str, agent: str) -> bytes:
    body = orjson.dumps({"agentId": agent, "running": {}})
    head = (
        f"POST /api/robot/heartbeat HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Link:
    """One keep-alive HTTP/1.1 connection; reopened when the server has closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def _drop(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def exchange(self, request: bytes) -> int:
        """Sends the request and reads the whole answer; returns the status (0: transport error).
        A reused connection that turns out closed (keep-alive timeout) is reopened once."""
        for attempt in (0, 1):
            reused = self.writer is not None
            try:
                if self.writer is None:
                    await self._open()
                assert self.reader is not None and self.writer is not None
                self.writer.write(request)
                head = await self.reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                status = int(lines[0].split(b" ", 2)[1])
                length, close = 0, False
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"connection" and value.strip().lower() == b"close":
                        close = True
                if length:
                    await self.reader.readexactly(length)
                if close:
                    self._drop()
                return status
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                self._drop()
                if not reused or attempt == 1:
                    return 0
        return 0


async def _client(plan: Plan) -> list[Sample]:
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    samples: list[Sample] = []
    order = sorted(range(len(plan.requests)), key=lambda i: plan.phases[i])

    async def schedule() -> None:
        round_ = 0
        while True:
            for index in order:
                due = plan.start + plan.phases[index] + round_ * plan.every
                if due >= plan.end:
                    for _ in range(plan.connections):
                        queue.put_nowait(None)
                    return
                wait = due - time.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                queue.put_nowait((index, due))
            round_ += 1

    async def connection() -> None:
        link = Link(plan.host, plan.port)
        while (item := await queue.get()) is not None:
            index, due = item
            sent = time.time()
            if sent >= plan.end:  # a backlog the client could not send in time: not sent (status -1)
                samples.append(Sample(due, sent, 0.0, (sent - due) * 1000, -1))
                continue
            began = time.perf_counter()
            status = await link.exchange(plan.requests[index])
            latency = (time.perf_counter() - began) * 1000
            samples.append(Sample(due, time.time(), latency, (sent - due) * 1000, status))

    await asyncio.gather(schedule(), *(connection() for _ in range(plan.connections)))
    return samples


def client_process(plan: Plan, out: Connection) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    samples = asyncio.run(_client(plan))
    out.send([(s.due, s.done, s.latency_ms, s.late_ms, s.status) for s in samples])
    out.close()


def user_system(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process (Linux /proc): the system share is the kernel's
    socket work, which on loopback includes the peer's side of TCP."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def backend_pids(info: str) -> list[int]:
    with psycopg.connect(info, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (APPLICATION_NAME,)
        ).fetchall()
    return [int(row[0]) for row in rows]


def cpu_of(pids: list[int]) -> dict[int, float]:
    found: dict[int, float] = {}
    for pid in pids:
        with contextlib.suppress(OSError):  # gone, or not visible in this /proc
            found[pid] = cpu_seconds(pid)
    return found


def used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


@dataclass
class Window:
    """The steady window and what was spent in it."""

    start: float
    end: float
    server_cpu: float = 0.0
    server_user: float = 0.0
    server_system: float = 0.0
    postgres_cpu: float = 0.0
    client_cpu: float = 0.0
    loads: list[float] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.end - self.start


def start_clients(
    args: argparse.Namespace, base: str, robots: list[dict[str, str]], agent: str, every: float
) -> tuple[list[BaseProcess], list[Connection], float, float]:
    """The client processes, each with its share of the robots; returns them, their result pipes and
    the run's start and end (time.time())."""
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    start = time.time() + 2.0
    end = start + args.seconds
    context = mp.get_context("fork")
    pipes: list[Connection] = []
    processes: list[BaseProcess] = []
    for n in range(args.clients):
        share = robots[n :: args.clients]
        plan = Plan(
            host,
            port,
            [request_bytes(f"{host}:{port}", r["token"], agent) for r in share],
            [random.uniform(0, every) for _ in share],
            every,
            start,
            end,
            args.connections,
        )
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=client_process, args=(plan, send), daemon=True)
        process.start()
        send.close()
        pipes.append(receive)
        processes.append(process)
    return processes, pipes, start, end


def measure(window: Window, server_pid: int, backends: list[int], clients: list[int]) -> None:
    """Sleeps through the window, reading CPU times (/proc) at both ends and the load average."""
    time.sleep(max(0.0, window.start - time.time()))
    server, server_split = cpu_seconds(server_pid), user_system(server_pid)
    postgres, client = cpu_of(backends), cpu_of(clients)
    window.start = time.time()
    while time.time() < window.end:
        time.sleep(min(5.0, max(0.0, window.end - time.time())))
        window.loads.append(os.getloadavg()[0])
    window.end = time.time()
    window.server_cpu = cpu_seconds(server_pid) - server
    split = user_system(server_pid)
    window.server_user, window.server_system = split[0] - server_split[0], split[1] - server_split[1]
    window.postgres_cpu = used(postgres, cpu_of(backends))
    window.client_cpu = used(client, cpu_of(clients))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--robots", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=120, help="run length, first interval included")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections per client")
    parser.add_argument("--schema", default=SCHEMA, help="PostgreSQL schema (dropped and created)")
    parser.add_argument("--interval", type=int, default=None, help="the server's heartbeat interval (s)")
    args = parser.parse_args()
    url = fresh_schema(args.database_url, args.schema)
    served_url = make_url(url).update_query_dict({"application_name": APPLICATION_NAME})
    settings = {} if args.interval is None else {"heartbeat_interval": str(args.interval)}
    pg_target, _ = postgres_options(sync_url(url))
    pg_info = pg_target.set(drivername="postgresql").render_as_string(hide_password=False)
    with (
        tempfile.TemporaryDirectory() as data,
        server(served_url.render_as_string(hide_password=False), Path(data), **settings) as (base, pid),
    ):
        key = seed_robots(url, args.robots)
        agent = str(uuid.uuid4())
        began = time.perf_counter()
        answer = httpx.post(
            f"{base}/api/robot/connect",
            json={"machineKey": key, "hostMachineName": "h", "agentId": agent},
            timeout=600,
        ).json()
        print(f"connect of {args.robots} robots: {time.perf_counter() - began:.1f} s")
        robots, every = answer["robots"], float(answer["heartbeatSeconds"])
        processes, pipes, start, end = start_clients(args, base, robots, agent, every)
        window = Window(start + every, end)  # from when every robot has beaten once
        time.sleep(max(0.0, window.start - time.time() - 1))
        clients = [p.pid for p in processes if p.pid is not None]
        measure(window, pid, backend_pids(pg_info), clients)
        results: list[tuple[float, float, float, float, int]] = []
        for pipe in pipes:
            results.extend(pipe.recv())
        for process in processes:
            process.join(timeout=30)
    report(args, results, every, window, len(robots))


def report(
    args: argparse.Namespace,
    results: list[tuple[float, float, float, float, int]],
    every: float,
    window: Window,
    robots: int,
) -> None:
    wall = window.seconds
    in_window = [r for r in results if window.start <= r[1] < window.end]
    answered = [r for r in in_window if r[4] == 200]
    failed = [r for r in results if r[4] != 200]
    offered = robots / every
    achieved = len(answered) / wall
    latencies = [r[2] for r in answered]
    lateness = [r[3] for r in in_window]
    print(
        f"robots: {robots}   interval: {every:.0f} s   clients: {args.clients} processes x "
        f"{args.connections} connections   window: {wall:.1f} s"
    )
    print(
        f"heartbeats/s: offered {offered:.1f}   achieved {achieved:.1f} "
        f"({100 * achieved / offered:.1f} %)   failed: {len(failed)} "
        f"(statuses {sorted({r[4] for r in failed})})"
    )
    print(
        f"send lateness (client-side delay past the due time): p50 {percentile(lateness, 0.5):.1f} ms  "
        f"p99 {percentile(lateness, 0.99):.1f} ms  max {max(lateness, default=float('nan')):.1f} ms"
    )
    print(
        f"heartbeat latency: p50 {percentile(latencies, 0.5):.1f} ms  "
        f"p99 {percentile(latencies, 0.99):.1f} ms  max {max(latencies, default=float('nan')):.1f} ms"
    )
    share = 100 * window.server_cpu / wall
    print(
        f"server CPU: {window.server_cpu:.1f} s over {wall:.1f} s = {share:.1f} % of one core "
        f"(user {window.server_user:.1f} s, system {window.server_system:.1f} s; "
        f"{1000 * window.server_cpu / max(1, len(answered)):.2f} ms per heartbeat; target < 25 %: "
        f"{'met' if share < 25 else 'NOT met'})"
    )
    print(
        f"PostgreSQL backends CPU: {window.postgres_cpu:.1f} s = "
        f"{100 * window.postgres_cpu / wall:.1f} % of one core   client processes CPU: "
        f"{window.client_cpu:.1f} s = {100 * window.client_cpu / wall:.1f} % of one core"
    )
    print(
        f"load average (1 min) during the window: {' '.join(f'{x:.2f}' for x in window.loads[::3])}  "
        f"(at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores)"
    )
    if achieved < VALID_SHARE * offered or failed:
        print(
            f"INVALID: the client delivered {achieved:.1f} of {offered:.1f} heartbeats/s "
            f"(< {VALID_SHARE:.0%}) or some failed; the figures above do not measure the server."
        )
        sys.exit(2)
    print(f"valid: achieved >= {VALID_SHARE:.0%} of offered and no failure")


if __name__ == "__main__":
    main()
