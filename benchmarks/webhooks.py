#!/usr/bin/env python
"""Benchmark: 10,000 job events delivered to 3 webhook subscribers on localhost (PostgreSQL).

    /work/venv/bin/python benchmarks/webhooks.py [--events 10000] [--baseline 2000] [--rate 150]

A fresh schema ``podium_webhook_bench``; one ``podium serve`` process with its delivery services on
(``webhook-fanout``, ``webhook-delivery``) and ``PODIUM_OUTBOUND_ALLOW_PRIVATE=1``. Three receivers
(asyncio HTTP/1.1 servers answering 200 at once) run in a subprocess of their own, so that their CPU
is not the driver's; each notes when every event reached it.

1. Without subscribers: ``--baseline`` StartJobs (JobsCount 1) sent at ``--rate`` per second (open
   loop, over ``--connections`` keep-alive connections of ``lean_http``); their latency.
2. Three webhooks subscribed to ``job.created`` pointing at the receivers; ``--events`` StartJobs at
   the same rate: each one job, one ``job.created`` event, three deliveries. Their latency.
3. Wait until every receiver has every event (or ``--timeout``).
4. Backlog: ``--backlog`` job.created events (of the jobs made) written at once straight into the
   outbox; how long fan-out and delivery take to send them all: the delivery capacity in events/s
   (the rounds above only show that delivery keeps up with the StartJobs rate).

Printed: StartJobs latency p50/p99 without and with subscribers and the ratio of the p50s (without /
with; target >= 0.9); end-to-end delivery latency (receiver's clock at arrival - the event's
``Timestamp``, the outbox row's creation time) p50/p99/max over every delivery; events/s delivered
(events whose three deliveries arrived, over the time from the first event to the last arrival);
duplicates and missing; the server's and PostgreSQL's CPU; the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import multiprocessing as mp
import os
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
import orjson
import psycopg
from lean_http import LeanConnection
from robot_bench_support import (
    DEFAULT_URL,
    admin_token,
    cpu_seconds,
    fresh_schema,
    percentile,
    seed_robots,
    server,
)
from sqlalchemy.engine import make_url

from podium.db.engine import sync_url

SCHEMA = "podium_webhook_bench"
NS = "UiPath.Server.Configuration.OData"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


# ---- receivers (subprocess) ---------------------------------------------------------------------


def _receivers(count: int, ports: Connection, stop: Connection, results: Connection) -> None:
    """``count`` HTTP servers; sends their ports, then at ``stop`` each one's (arrival, EventId,
    Timestamp) list."""

    async def run() -> None:
        seen: list[list[tuple[float, str, str]]] = [[] for _ in range(count)]

        def handler(index: int):  # type: ignore[no-untyped-def]
            async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                try:
                    while True:
                        head = await reader.readuntil(b"\r\n\r\n")
                        length = 0
                        for line in head.split(b"\r\n")[1:]:
                            name, _, value = line.partition(b":")
                            if name.strip().lower() == b"content-length":
                                length = int(value)
                        raw = await reader.readexactly(length)
                        arrived = time.time()
                        event = orjson.loads(raw)
                        seen[index].append((arrived, event["EventId"], event["Timestamp"]))
                        writer.write(OK)
                except (asyncio.IncompleteReadError, ConnectionError):
                    writer.close()

            return serve

        servers = [await asyncio.start_server(handler(i), "127.0.0.1", 0) for i in range(count)]
        ports.send([s.sockets[0].getsockname()[1] for s in servers])
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        loop.add_reader(stop.fileno(), done.set)
        await done.wait()
        results.send(seen)

    asyncio.run(run())


# ---- the API driver -----------------------------------------------------------------------------


async def start_jobs(base: str, token: str, count: int, rate: float, connections: int) -> list[float]:
    """``count`` StartJobs at ``rate``/s (open loop); their latencies in ms (failures raise)."""
    headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
    body = orjson.dumps({"startInfo": {"ReleaseName": "proc", "Strategy": "JobsCount", "JobsCount": 1}})
    links = [await LeanConnection(base, headers).open() for _ in range(connections)]
    request = links[0].build("POST", f"/odata/Jobs/{NS}.StartJobs", body=body)
    queue: asyncio.Queue[float | None] = asyncio.Queue()
    latencies: list[float] = []

    async def schedule() -> None:
        began = time.perf_counter()
        for n in range(count):
            wait = began + n / rate - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            queue.put_nowait(began + n / rate)
        for _ in links:
            queue.put_nowait(None)

    async def worker(link: LeanConnection) -> None:
        while (due := await queue.get()) is not None:
            sent = time.perf_counter()
            status, answer = await link.send(request)
            if status >= 300:
                raise RuntimeError(f"StartJobs answered {status}: {answer[:300]!r}")
            latencies.append((time.perf_counter() - sent) * 1000)
            del due

    await asyncio.gather(schedule(), *(worker(link) for link in links))
    for link in links:
        await link.close()
    return latencies


def backend_pids(url: str) -> list[int]:
    info = make_url(sync_url(url)).set(drivername="postgresql", query={}).render_as_string(False)
    with psycopg.connect(info, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return [int(r[0]) for r in rows if int(r[0]) != conn.info.backend_pid]


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            total += cpu_seconds(pid)
    return total


def count(url: str, sql: str) -> int:
    info = make_url(sync_url(url)).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(info, autocommit=True) as conn:
        row = conn.execute(sql).fetchone()
        return int(row[0]) if row else 0


def drained(url: str) -> None:
    while count(url, "SELECT count(*) FROM events WHERE NOT dispatched"):
        time.sleep(0.2)


def backlog(url: str, events: int, delivered: int, pid: int) -> tuple[int, float, float, tuple[float, ...]]:
    """``events`` job.created events written at once into the outbox (of jobs already made), the
    subscribers enabled: waits until they are delivered. Answers (the last event id before them, when
    they were committed, the server's CPU meanwhile, the load average)."""
    if not events:
        return 1 << 62, 0.0, 0.0, os.getloadavg()
    info = make_url(sync_url(url)).set(drivername="postgresql").render_as_string(False)
    before = cpu_seconds(pid)
    with psycopg.connect(info, autocommit=True) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
        last = int(row[0]) if row else 0
        conn.execute(
            "INSERT INTO events (tenant_id, folder_id, type, entity_key, payload, creation_time, dispatched)"
            " SELECT tenant_id, folder_id, 'job.created', key, '{}', now(), false"
            " FROM jobs CROSS JOIN generate_series(1, 1000) LIMIT %s",
            (events,),
        )
    at = time.time()
    subscribers = count(url, "SELECT count(*) FROM webhooks WHERE enabled")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        done = count(url, "SELECT count(*) FROM webhook_deliveries WHERE status = 1")
        if done >= delivered + events * subscribers:
            break
        time.sleep(0.1)
    return last, at, cpu_seconds(pid) - before, os.getloadavg()


def parse_timestamp(text: str) -> float:
    """Orchestrator's ``2026-01-01T00:00:00.1234560Z`` → epoch seconds."""
    moment = dt.datetime.strptime(text[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=dt.UTC)
    return moment.timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=2_000, help="StartJobs without subscribers")
    parser.add_argument("--subscribers", type=int, default=3)
    parser.add_argument("--rate", type=float, default=50.0, help="StartJobs per second")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--backlog", type=int, default=10_000, help="events written at once at the end (0: none)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="alternations without/with subscribers")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for deliveries")
    args = parser.parse_args()

    ports_out, ports_in = mp.Pipe(duplex=False)
    stop_out, stop_in = mp.Pipe(duplex=False)
    results_out, results_in = mp.Pipe(duplex=False)
    receiver = mp.get_context("fork").Process(
        target=_receivers, args=(args.subscribers, ports_in, stop_out, results_in), daemon=True
    )
    receiver.start()
    ports: list[int] = ports_out.recv()

    url = fresh_schema(args.database_url, SCHEMA)
    settings = {"outbound_allow_private": "1"}
    with tempfile.TemporaryDirectory() as data, server(url, Path(data), **settings) as (base, pid):
        token = admin_token(base)
        seed_robots(url, 1)
        backends = backend_pids(url)
        headers = {"Authorization": f"Bearer {token}"}
        hooks = []
        for n, port in enumerate(ports):
            hook = {
                "Name": f"bench-{n}",
                "Url": f"http://127.0.0.1:{port}/hook",
                "Secret": "bench-secret",
                "Events": [{"EventType": "job.created"}],
                "Enabled": False,
            }
            answer = httpx.post(f"{base}/odata/Webhooks", json=hook, headers=headers)
            answer.raise_for_status()
            hooks.append(answer.json()["Id"])

        def enable(on: bool) -> None:
            for hook_id in hooks:
                httpx.patch(
                    f"{base}/odata/Webhooks({hook_id})", json={"Enabled": on}, headers=headers
                ).raise_for_status()

        without: list[float] = []
        with_subscribers: list[float] = []
        expected = args.events * args.subscribers
        cpu_server, cpu_pg, began, sent_for = cpu_seconds(pid), cpu_of(backends), time.time(), 0.0
        cpu_without = cpu_with = delivering = 0.0
        for round_ in range(args.rounds):
            enable(False)
            mark = cpu_seconds(pid)
            without += asyncio.run(
                start_jobs(base, token, args.baseline // args.rounds, args.rate, args.connections)
            )
            drained(url)  # those events fanned out (to no one) before the subscribers are back
            cpu_without += cpu_seconds(pid) - mark
            enable(True)
            mark = cpu_seconds(pid)
            moment = time.time()
            with_subscribers += asyncio.run(
                start_jobs(base, token, args.events // args.rounds, args.rate, args.connections)
            )
            sent_for += time.time() - moment
            share = expected * (round_ + 1) // args.rounds
            limit = time.monotonic() + args.timeout
            while (
                count(url, "SELECT count(*) FROM webhook_deliveries WHERE status = 1") < share
                and time.monotonic() < limit
            ):
                time.sleep(0.05)
            cpu_with += cpu_seconds(pid) - mark
            delivering += time.time() - moment
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            if count(url, "SELECT count(*) FROM webhook_deliveries WHERE status = 1") >= expected:
                break
            time.sleep(0.5)
        backends += [p for p in backend_pids(url) if p not in backends]
        wall = time.time() - began
        cpu_server, cpu_pg = cpu_seconds(pid) - cpu_server, cpu_of(backends) - cpu_pg
        load = os.getloadavg()
        backlog_from, backlog_at, backlog_cpu, backlog_load = backlog(url, args.backlog, expected, pid)
    stop_in.send(True)
    seen: list[list[tuple[float, str, str]]] = results_out.recv()
    receiver.join(timeout=10)

    delays: list[float] = []
    duplicates = 0
    arrivals: dict[str, int] = {}
    backlog_seen = [[x for x in per if int(x[1]) > backlog_from] for per in seen]
    seen = [[x for x in per if int(x[1]) <= backlog_from] for per in seen]
    for per in seen:
        ids = set()
        for arrived, event_id, stamp in per:
            if event_id in ids:
                duplicates += 1
                continue
            ids.add(event_id)
            arrivals[event_id] = arrivals.get(event_id, 0) + 1
            delays.append((arrived - parse_timestamp(stamp)) * 1000)
    complete = sum(1 for n in arrivals.values() if n == args.subscribers)
    missing = expected - sum(arrivals.values())
    print(
        f"events: {args.events} job.created x {args.subscribers} subscribers, StartJobs at {args.rate:.0f}/s"
        f" over {args.connections} connections (sent in {sent_for:.1f} s)"
    )
    ratio = percentile(without, 0.5) / percentile(with_subscribers, 0.5)
    print(
        f"StartJobs latency without subscribers ({len(without)}): p50 {percentile(without, 0.5):.1f} ms"
        f"  p99 {percentile(without, 0.99):.1f} ms"
    )
    print(
        f"StartJobs latency with {args.subscribers} subscribers ({len(with_subscribers)}):"
        f" p50 {percentile(with_subscribers, 0.5):.1f} ms  p99 {percentile(with_subscribers, 0.99):.1f} ms"
    )
    print(f"ratio p50 without/with: {ratio:.2f} (target >= 0.9: {'met' if ratio >= 0.9 else 'NOT met'})")
    print(
        f"delivery latency (event Timestamp -> receiver): p50 {percentile(delays, 0.5):.0f} ms"
        f"  p99 {percentile(delays, 0.99):.0f} ms  max {max(delays, default=float('nan')):.0f} ms"
    )
    span = delivering
    print(
        f"delivered: {sum(arrivals.values())}/{expected} deliveries, {complete} events to every subscriber"
        f" in {span:.1f} s (each round with subscribers, from its first StartJobs to its last delivery):"
        f" {complete / span:.0f} events/s"
        f" ({sum(arrivals.values()) / span:.0f} deliveries/s)"
    )
    print(f"duplicates: {duplicates}   missing: {missing}")
    print(
        f"server CPU per StartJobs: without subscribers {1000 * cpu_without / len(without):.2f} ms"
        f" (the fan-out included), with {args.subscribers} subscribers"
        f" {1000 * cpu_with / len(with_subscribers):.2f} ms (its deliveries included)"
    )
    print(
        f"CPU over the whole measured run ({wall:.1f} s): server {cpu_server:.1f} s"
        f" ({100 * cpu_server / wall:.0f} % of a core), PostgreSQL {cpu_pg:.1f} s"
        f" ({100 * cpu_pg / wall:.0f} %)"
    )
    print(f"load average: {' '.join(f'{x:.2f}' for x in load)} ({os.cpu_count()} cores)")
    if args.backlog:
        got = sum(len(per) for per in backlog_seen)
        last_arrival = max((x[0] for per in backlog_seen for x in per), default=float("nan"))
        drain = last_arrival - backlog_at
        print(
            f"backlog: {args.backlog} job events written at once into the outbox, {got}/"
            f"{args.backlog * args.subscribers} deliveries in {drain:.1f} s: {args.backlog / drain:.0f}"
            f" events/s ({got / drain:.0f} deliveries/s);"
            f" server CPU {1000 * backlog_cpu / max(got, 1):.2f} ms"
            f" per delivery (fan-out included); load {' '.join(f'{x:.2f}' for x in backlog_load)}"
        )


if __name__ == "__main__":
    main()
