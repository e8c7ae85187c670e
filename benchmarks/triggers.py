#!/usr/bin/env python
"""Benchmark: 10,000 time triggers all due in the same second, two server processes (PostgreSQL).

    /work/venv/bin/python benchmarks/triggers.py [--triggers 10000] [--idle-seconds 30]

A fresh schema ``podium_trigger_bench``; two ``podium serve`` processes on it, each running the
scheduler (``services/triggers.py``). The triggers are rows written straight into the database (release
``proc`` in Shared, JobsCount 1, UTC, no calendar), as the servers would store them.

1. Idle: both servers' CPU time (``/proc``) over ``--idle-seconds`` as a share of one core, without
   triggers, then with the triggers' next fire a year away; the difference is the scheduler's (target
   <= 1 %; the rest is every other background service of a server).
2. Fire: every trigger's cron and ``next_fire_at`` set to one whole second ``--lead`` seconds ahead
   (``S M H D Mon ? Y``: that second only). Measured: for each trigger, its job's ``CreationTime`` (the
   job is created Pending) minus the due time, p50/p99/max (target p99 <= 1 s); duplicates (triggers
   with more than one job) and missing (none) after the last fire plus a few rounds (must be 0/0);
   fires/s (triggers / (last job - due time)); each server's share of the fires and CPU. The first line
   says which batch size and concurrency the servers ran with (``PODIUM_TRIGGERS_BATCH`` and
   ``PODIUM_TRIGGERS_CONCURRENCY`` from this environment, else the defaults).
3. Raw inserts: as many single-row ``INSERT INTO jobs`` (one transaction each, the columns of a fired
   job) over two psycopg connections in two threads; inserts/s, and the ratio fires/s / inserts/s.

Printed with the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import psycopg
from robot_bench_support import (
    DEFAULT_URL,
    cpu_seconds,
    engine_for,
    fresh_schema,
    percentile,
    seed_robots,
    server,
)
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import make_url

from podium.db.engine import sync_url
from podium.db.schema import folders, jobs, releases, tenants
from podium.db.schema_process_schedules import process_schedules
from podium.db.types import utcnow

SCHEMA = "podium_trigger_bench"


def once(moment: dt.datetime) -> str:
    """Quartz cron of that one UTC second."""
    return f"{moment.second} {moment.minute} {moment.hour} {moment.day} {moment.month} ? {moment.year}"


def seed_triggers(url: str, count: int, due: dt.datetime) -> tuple[int, int, int]:
    """``count`` triggers due at ``due``; (tenant, folder, release) ids."""
    engine = engine_for(url)
    now = utcnow()
    with engine.begin() as conn:
        tenant_id = conn.execute(select(tenants.c.id).where(tenants.c.name == "Default")).scalar_one()
        folder_id = conn.execute(select(folders.c.id).where(folders.c.tenant_id == tenant_id)).scalar_one()
        release_id = conn.execute(
            select(releases.c.id).where(releases.c.tenant_id == tenant_id, releases.c.name == "proc")
        ).scalar_one()
        rows = [
            {
                "tenant_id": tenant_id,
                "folder_id": folder_id,
                "key": str(uuid.uuid4()),
                "name": f"bench-{n}",
                "enabled": True,
                "release_id": release_id,
                "start_process_cron": once(due),
                "start_strategy": 1,
                "time_zone_id": "UTC",
                "time_zone_iana": "UTC",
                "next_fire_at": due,
                "creation_time": now,
            }
            for n in range(count)
        ]
        for start in range(0, count, 2000):
            conn.execute(insert(process_schedules), rows[start : start + 2000])
    engine.dispose()
    return tenant_id, folder_id, release_id


def scheduler_settings() -> str:
    """The scheduler's batch size and concurrency the servers run with (inherited from this
    environment), and whether they are the defaults."""
    from podium.services import triggers

    given = [name for name in ("PODIUM_TRIGGERS_BATCH", "PODIUM_TRIGGERS_CONCURRENCY") if name in os.environ]
    where = f"set by {', '.join(given)}" if given else "the defaults"
    return f"batches of {triggers.batch_size()}, {triggers.concurrency()} per process ({where})"


def raw_inserts(url: str, count: int, tenant_id: int, folder_id: int, release_id: int) -> float:
    """Single-row job INSERTs, one transaction each, over two connections; inserts/s."""
    info = make_url(sync_url(url)).set(drivername="postgresql").render_as_string(False)
    sql = (
        "INSERT INTO jobs (tenant_id, folder_id, key, release_id, release_name, state, type, source, "
        "source_type, runtime_type, job_priority, resume_on_same_context, requires_user_interaction, "
        "creation_time, batch_execution_key) "
        "VALUES (%s, %s, %s, %s, 'proc', 0, 0, 'raw', 2, 2, 1, false, false, now(), %s)"
    )

    def work(n: int) -> None:
        with psycopg.connect(info, autocommit=True) as conn:
            for _ in range(n):
                conn.execute(sql, (tenant_id, folder_id, str(uuid.uuid4()), release_id, str(uuid.uuid4())))

    threads = [threading.Thread(target=work, args=(count // 2,)) for _ in range(2)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (count // 2 * 2) / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--triggers", type=int, default=10_000)
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--lead", type=float, default=12.0, help="seconds from the update to the due time")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    url = fresh_schema(args.database_url, SCHEMA)
    engine = engine_for(url)
    with tempfile.TemporaryDirectory() as data, ExitStack() as stack:
        for name in ("a", "b"):
            (Path(data) / name).mkdir()
        _, first_pid = stack.enter_context(server(url, Path(data) / "a"))
        seed_robots(url, 1)
        _, second_pid = stack.enter_context(server(url, Path(data) / "b"))
        pids = (first_pid, second_pid)
        time.sleep(3)
        before = [cpu_seconds(p) for p in pids]
        time.sleep(args.idle_seconds)
        empty = [(cpu_seconds(p) - b) / args.idle_seconds for p, b in zip(pids, before, strict=True)]
        empty_load = os.getloadavg()

        far = utcnow().replace(microsecond=0) + dt.timedelta(days=365)
        tenant_id, folder_id, release_id = seed_triggers(url, args.triggers, far)
        time.sleep(6)  # both schedulers have seen them (their longest sleep is 5 s)
        before = [cpu_seconds(p) for p in pids]
        time.sleep(args.idle_seconds)
        idle = [(cpu_seconds(p) - b) / args.idle_seconds for p, b in zip(pids, before, strict=True)]
        idle_load = os.getloadavg()

        due = utcnow().replace(microsecond=0) + dt.timedelta(seconds=args.lead)
        with engine.begin() as conn:
            conn.execute(update(process_schedules).values(start_process_cron=once(due), next_fire_at=due))
        before = [cpu_seconds(p) for p in pids]
        deadline = time.monotonic() + args.lead + args.timeout
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                made = conn.execute(select(func.count()).select_from(jobs)).scalar_one()
                waiting = conn.execute(
                    select(func.count())
                    .select_from(process_schedules)
                    .where(process_schedules.c.next_fire_at <= utcnow())
                ).scalar_one()
            if made >= args.triggers and waiting == 0 and utcnow() > due:
                break
            time.sleep(0.25)
        time.sleep(6)  # a doubled fire would show within a round of either server
        fire_cpu = [cpu_seconds(p) - b for p, b in zip(pids, before, strict=True)]
        fire_load = os.getloadavg()
        with engine.connect() as conn:
            rows = conn.execute(select(jobs.c.starting_schedule_id, jobs.c.creation_time)).all()
    per_trigger: dict[int, list[dt.datetime]] = {}
    for row in rows:
        per_trigger.setdefault(int(row.starting_schedule_id), []).append(row.creation_time)
    delays = [(min(times) - due).total_seconds() * 1000 for times in per_trigger.values()]
    duplicates = sum(len(times) - 1 for times in per_trigger.values())
    missing = args.triggers - len(per_trigger)
    last = max((max(t) for t in per_trigger.values()), default=due)
    span = (last - due).total_seconds()
    fires_per_s = len(per_trigger) / span if span > 0 else float("nan")

    inserts_per_s = raw_inserts(url, args.triggers, tenant_id, folder_id, release_id)
    raw_load = os.getloadavg()
    engine.dispose()

    print(f"triggers: {args.triggers}, two server processes, one PostgreSQL database; {scheduler_settings()}")
    print(
        f"idle server processes (every service), no trigger, over {args.idle_seconds:.0f} s: CPU "
        f"{' + '.join(f'{100 * x:.2f} %' for x in empty)} of a core   "
        f"load {' '.join(f'{x:.2f}' for x in empty_load)}"
    )
    print(
        f"the same with {args.triggers} triggers not due (next fire a year away): CPU "
        f"{' + '.join(f'{100 * x:.2f} %' for x in idle)} of a core   "
        f"load {' '.join(f'{x:.2f}' for x in idle_load)}"
    )
    extra = [x - e for x, e in zip(idle, empty, strict=True)]
    print(
        f"the scheduler's share (the difference): {' + '.join(f'{100 * x:.2f} %' for x in extra)}"
        f" (target <= 1 % of a core: {'met' if max(extra) <= 0.01 else 'NOT met'})"
    )
    print(
        f"due -> job Pending: min {min(delays, default=float('nan')):.0f} ms  p50"
        f" {percentile(delays, 0.5):.0f} ms  p99 {percentile(delays, 0.99):.0f} ms"
        f"  max {max(delays, default=float('nan')):.0f} ms (target p99 <= 1000 ms: "
        f"{'met' if percentile(delays, 0.99) <= 1000 else 'NOT met'})"
    )
    print(f"duplicates: {duplicates}   missing: {missing}")
    print(
        f"fires/s: {fires_per_s:.0f} (all fired {span:.1f} s after the due time); server CPU during the"
        f" fire: {' + '.join(f'{x:.1f} s' for x in fire_cpu)}"
        f"   load {' '.join(f'{x:.2f}' for x in fire_load)}"
    )
    print(
        f"raw single-row job INSERTs (2 connections): {inserts_per_s:.0f}/s; fires/s / inserts/s ="
        f" {fires_per_s / inserts_per_s:.2f}   load {' '.join(f'{x:.2f}' for x in raw_load)}"
    )


if __name__ == "__main__":
    main()
