#!/usr/bin/env python
"""Benchmark: queue throughput on PostgreSQL, all in one run (not a test; run by hand)::

    /root/.cache/podium-venv/bin/python benchmarks/queue_throughput.py [--seconds 8] [--big 1000000]

In schema ``podium_bench_queues`` (dropped and created again) of the test database:

(a) the physical floor: the minimal dequeue on the same table (its shape and indexes), 16 psycopg
    connections, no HTTP, no history, no outbox: one ``UPDATE … WHERE id = (SELECT … ORDER BY <dequeue
    order> LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING`` to claim, one ``UPDATE`` to complete; then the
    same with each extra Podium writes, added one at a time (the Output JSON, the history row, the
    outbox row), so that the cost of each is visible;
(a') Podium's domain path (the functions the API calls, in process, no HTTP), 16 callers at once (calls that
    meet share a statement: ``db/batches.py``);
(b) Podium over HTTP (``--servers`` ``podium serve`` processes): StartTransaction + SetTransactionResult
    pairs with 1, 8, 16 and 32 concurrent consumers (keep-alive connections of ``lean_http``, whose own
    CPU stays out of the figure); prints pairs/s, the ratio (b)/(a) (target >= 0.5 with 16 consumers)
    and the servers' CPU per pair (target <= 1.5 ms);
(c) BulkAddQueueItems ingest of 100,000 items in batches of 1,000 (4 clients at once);
(d) StartTransaction p99 with 10,000 items in the queue, then with ``--big`` items (loaded with SQL;
    target <= 20 ms at 1,000,000).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from alembic import command
from lean_http import LeanConnection
from machine_speed import describe as core_speed
from machine_speed import python_microseconds
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from podium.db.engine import Database, postgres_options, sync_url
from podium.db.migrate import alembic_config
from podium.db.tables import metadata
from podium.domain import queue_hot_path, queue_transactions
from podium.domain.tenancy import create_tenant

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "podium_bench_queues"
PASSWORD = "podium-bench-admin-1"
SVC = "/odata/Queues/UiPathODataSvc"
APPLICATION = "podium_bench_queues"  # the servers' application_name: their backends' CPU is counted


def schema_url(base: str) -> str:
    url = make_url(base).update_query_dict({"options": f"-csearch_path={SCHEMA}"})
    return url.render_as_string(hide_password=False)


def reset_schema(base: str) -> str:
    target, args = postgres_options(sync_url(base))
    admin = create_engine(target, connect_args=args)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()
    url = schema_url(base)
    target, args = postgres_options(sync_url(url))
    engine = create_engine(target, connect_args=args)
    metadata.create_all(engine)
    engine.dispose()
    command.stamp(alembic_config(url), "head")
    return url


async def seed(url: str) -> tuple[int, int]:
    db = Database(url)
    try:
        async with db.write() as conn:
            tenant = await create_tenant(conn, "Default", PASSWORD)
    finally:
        await db.dispose()
    return tenant.tenant_id, tenant.shared_folder_id


def sql_exec(url: str, statement: str) -> None:
    target, args = postgres_options(sync_url(url))
    engine = create_engine(target, connect_args=args, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def fill(url: str, queue_id: int, tenant_id: int, folder_id: int, count: int, name: str) -> None:
    """``count`` New items in the queue, written with one INSERT … SELECT (fast, for the big queue)."""
    sql_exec(
        url,
        f"""
        INSERT INTO queue_items (tenant_id, folder_id, queue_definition_id, queue_definition_name, key,
            unique_key, status, review_status, priority, due_order, reference, specific_content,
            seconds_in_previous_attempts, retry_number, manual_retry_number, creation_time)
        SELECT {tenant_id}, {folder_id}, {queue_id}, '{name}', md5(g::text || 'k'), md5(g::text || 'k'), 0, 0,
            g % 3, 1, 'r' || g, '{{"n": ' || g || '}}', 0, 0, 0, now()
        FROM generate_series(1, {count}) AS g""",
    )
    sql_exec(url, "ANALYZE queue_items")


def start_servers(url: str, count: int, data_dir: Path) -> tuple[list[str], list[subprocess.Popen[bytes]]]:
    import socket

    bases, processes = [], []
    env = {**os.environ, "PODIUM_ADMIN_PASSWORD": PASSWORD, "PODIUM_SECRET_KEY": "bench-" + "k" * 40}
    for n in range(count):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        script = Path(sys.executable).with_name("podium")
        log = open(data_dir / f"server-{n}.log", "wb")  # noqa: SIM115 (kept open for the process)
        processes.append(
            subprocess.Popen(
                [
                    str(script),
                    "serve",
                    "--database-url",
                    url,
                    "--data-dir",
                    str(data_dir / f"s{n}"),
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/status/version", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        bases.append(base)
    return bases, processes


# (a): the physical floor and its extras, written by hand (what any queue on this table must do at least).
# The completion names its row by id and checks ``status + 0``: with ``status = 1`` the planner walks
# ix_queue_items_status_start's InProgress range, every past InProgress version in it (see
# queue_item_states.status_unindexed), which halved the floor before issue 11's second round.
CLAIM = """
    UPDATE queue_items SET status = 1, start_processing = now(), last_modification_time = now()
    WHERE id = (
        SELECT id FROM queue_items
        WHERE queue_definition_id = %(queue)s AND status = 0 AND (defer_date IS NULL OR defer_date <= now())
        ORDER BY due_order, priority, due_date, id
        LIMIT 1 FOR UPDATE SKIP LOCKED
    ) AND status + 0 = 0
    RETURNING id, tenant_id, folder_id, unique_key, queue_definition_id"""
COMPLETE = """
    UPDATE queue_items SET status = 3, end_processing = now(), last_modification_time = now(){output}
    WHERE id = %(id)s AND status + 0 = 1
    RETURNING id, tenant_id, folder_id, unique_key, queue_definition_id"""
HISTORY = """
    INSERT INTO queue_item_events (tenant_id, folder_id, queue_item_id, timestamp, action, user_id, status,
        review_status)
    SELECT tenant_id, folder_id, id, now(), 0, %(user)s, {status}, 0 FROM done"""
OUTBOX = """
    INSERT INTO events (tenant_id, folder_id, type, entity_key, payload, creation_time, dispatched)
    SELECT tenant_id, folder_id, 'queueitem.{kind}', unique_key,
        '{{"QueueItemId":' || id || ',"QueueDefinitionId":' || queue_definition_id
            || ',"From":"{was}","Status":"{status}"}}', now(), false
    FROM done"""
EXTRAS = ("floor", "+ Output JSON", "+ history row", "+ outbox row")


def floor_statements(level: int) -> tuple[str, str]:
    """The claim and complete statements of (a) with the first ``level`` extras of EXTRAS."""
    complete = COMPLETE.format(output=", output = %(output)s" if level >= 1 else "")
    if level < 2:
        return CLAIM, complete
    statements = []
    for main, number, was, status in (
        (CLAIM, 1, "New", "InProgress"),
        (complete, 3, "InProgress", "Successful"),
    ):
        parts = [f"WITH done AS ({main}), history AS ({HISTORY.format(status=number)})"]
        if level >= 3:
            outbox = OUTBOX.format(kind=status.lower(), was=was, status=status)
            parts.append(f", outbox AS ({outbox})")
        parts.append(" SELECT id FROM done")
        statements.append("".join(parts))
    return statements[0], statements[1]


async def connect(url: str) -> Any:
    import psycopg

    parsed = make_url(url)
    return await psycopg.AsyncConnection.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname=parsed.database,
        options=f"-csearch_path={SCHEMA} -c timezone=UTC",
        autocommit=True,
    )


async def floor_pairs(url: str, queue_id: int, user_id: int, level: int, seconds: float) -> float:
    """(a): claim + complete (each statement its own transaction) over 16 psycopg connections."""
    claim, complete = floor_statements(level)
    output = orjson.dumps({"ok": 1}).decode()
    done = 0
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done
        conn = await connect(url)
        try:
            while time.monotonic() < deadline:
                row = await (await conn.execute(claim, {"queue": queue_id, "user": user_id})).fetchone()
                if row is None:
                    return
                await conn.execute(complete, {"id": row[0], "user": user_id, "output": output})
                done += 1
        finally:
            await conn.close()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(16)))
    return done / (time.monotonic() - started)


async def domain_pairs(
    url: str, tenant_id: int, folder_id: int, queue: str, user_id: int, seconds: float, connections: int = 16
) -> float:
    """(a'): the domain functions StartTransaction and SetTransactionResult call (``queue_hot_path``) in
    process, ``connections`` at once."""
    db = Database(url)
    done = 0
    deadline = time.monotonic() + seconds
    outcome = queue_transactions.read_result({"IsSuccessful": True, "Output": {"ok": 1}})

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            now = dt.datetime.now(dt.UTC)
            _, item = await queue_hot_path.start_transaction(
                db, tenant_id, folder_id, queue, None, None, user_id, now
            )
            if item is None:
                return
            now = dt.datetime.now(dt.UTC)
            await queue_hot_path.set_result(db, tenant_id, folder_id, item["id"], outcome, None, user_id, now)
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.monotonic() - started
    await db.dispose()
    return done / elapsed


async def http_pairs(
    bases: list[str], token: str, queue: str, consumers: int, seconds: float
) -> tuple[float, list[float]]:
    """(b): StartTransaction + SetTransactionResult over HTTP; pairs/s and StartTransaction latencies."""
    headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
    latencies: list[float] = []
    done = 0
    deadline = time.monotonic() + seconds

    async def consumer(n: int) -> None:
        nonlocal done
        http = await LeanConnection(bases[n % len(bases)], headers).open()
        start = http.build(
            "POST", f"{SVC}.StartTransaction", body=orjson.dumps({"transactionData": {"Name": queue}})
        )
        result = orjson.dumps({"transactionResult": {"IsSuccessful": True, "Output": {"ok": 1}}})
        try:
            while time.monotonic() < deadline:
                t0 = time.perf_counter()
                status, answer = await http.send(start)
                latencies.append(time.perf_counter() - t0)
                if status == 204:
                    return
                assert status == 200, answer
                item = orjson.loads(answer)
                path = f"/odata/Queues({item['Id']})/UiPathODataSvc.SetTransactionResult"
                status, answer = await http.request("POST", path, body=result)
                assert status == 200, answer
                done += 1
        finally:
            await http.close()

    started = time.monotonic()
    await asyncio.gather(*(consumer(n) for n in range(consumers)))
    return done / (time.monotonic() - started), latencies


def bulk_bodies(queue: str, total: int) -> list[bytes]:
    """(c)'s request bodies, built before the clock starts (the client's JSON work is not measured)."""
    bodies = []
    for start in range(0, total, 1000):
        items = [
            {"Reference": f"bulk-{i}", "SpecificContent": {"n": i, "text": "invoice"}, "Priority": "Normal"}
            for i in range(start, min(start + 1000, total))
        ]
        bodies.append(orjson.dumps({"queueName": queue, "commitType": "AllOrNothing", "queueItems": items}))
    return bodies


async def ingest(bases: list[str], token: str, bodies: list[bytes], clients: int = 4) -> float:
    """(c): BulkAddQueueItems of the prepared bodies, ``clients`` requests in flight; seconds taken."""
    headers = {
        "Authorization": f"Bearer {token}",
        "X-UIPATH-FolderPath": "Shared",
        "Content-Type": "application/json",
    }
    pending = list(bodies)

    async def client(n: int) -> None:
        async with httpx.AsyncClient(base_url=bases[n % len(bases)], headers=headers, timeout=120) as http:
            while pending:
                answer = await http.post(f"{SVC}.BulkAddQueueItems", content=pending.pop())
                assert answer.status_code == 200 and answer.json()["success"], answer.text

    started = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return time.monotonic() - started


def bulk(args: argparse.Namespace, url: str, bases: list[str], pids: list[int], token: str) -> None:
    """(c), with the CPU time per batch of 1,000 of the servers, their PostgreSQL backends and this
    client process, and the load average."""
    bodies = bulk_bodies("bulk", args.bulk_items)
    load = os.getloadavg()[0]
    backends = backend_pids(url)
    before = cpu_seconds(pids), cpu_of(backends), time.process_time()
    seconds = asyncio.run(ingest(bases, token, bodies, args.bulk_clients))
    backends = backend_pids(url)  # the pools open connections during the run: those count from 0
    server, client = cpu_seconds(pids) - before[0], time.process_time() - before[2]
    database = sum(cpu - before[1].get(pid, 0.0) for pid, cpu in cpu_of(backends).items())
    rate = args.bulk_items / seconds
    per_batch = 1000 / max(len(bodies), 1)
    print(
        f"(c) BulkAddQueueItems ingest:  {rate:8.0f} items/s ({args.bulk_items:,} items, batches of 1,000,"
        f" {args.bulk_clients} in flight; target >= 20,000: {'met' if rate >= 20_000 else 'NOT met'})\n"
        f"    CPU a batch: servers {server * per_batch:.1f} ms, PostgreSQL {database * per_batch:.1f} ms,"
        f" client {client * per_batch:.1f} ms ({seconds:.1f} s)"
        f"   load average {load:.1f} -> {os.getloadavg()[0]:.1f}"
    )


def backend_pids(url: str) -> list[int]:
    """The PostgreSQL backends of the servers (by their application_name)."""
    target, args = postgres_options(sync_url(url))
    engine = create_engine(target, connect_args=args)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"), {"name": APPLICATION}
        )
        pids = [int(row[0]) for row in rows]
    engine.dispose()
    return pids


def cpu_of(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError):  # gone, or not visible in this /proc
            found[pid] = cpu_seconds([pid])
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes (Linux /proc), to show where the time goes."""
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] * 1000 if len(values) > 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("PODIUM_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each throughput phase")
    parser.add_argument("--servers", type=int, default=2, help="podium serve processes for (b)-(d)")
    parser.add_argument(
        "--big", type=int, default=1_000_000, help="queue size of the second p99 figure (0: skip)"
    )
    parser.add_argument(
        "--only",
        choices=("bulk", "pairs"),
        default=None,
        help="run only one part: bulk = (c) BulkAddQueueItems, pairs = (a), (a') and (b)",
    )
    parser.add_argument("--items", type=int, default=100_000, help="New items in each queue of (a)-(b)")
    parser.add_argument("--bulk-items", type=int, default=100_000, help="items of (c), in batches of 1,000")
    parser.add_argument("--bulk-clients", type=int, default=4, help="requests of (c) in flight at once")
    args = parser.parse_args()
    url = reset_schema(args.database_url)
    tenant_id, folder_id = asyncio.run(seed(url))
    with tempfile.TemporaryDirectory() as data:
        served = make_url(url).update_query_dict({"application_name": APPLICATION})
        served_url = served.render_as_string(hide_password=False)
        bases, processes = start_servers(served_url, args.servers, Path(data))
        try:
            run(args, url, bases, [p.pid for p in processes], tenant_id, folder_id)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=20)


def run(
    args: argparse.Namespace, url: str, bases: list[str], pids: list[int], tenant_id: int, folder_id: int
) -> None:
    login = {"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": PASSWORD}
    token = httpx.post(f"{bases[0]}/api/Account/Authenticate", json=login).json()["result"]
    headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
    queues = {}
    consumer_counts = (1, 8, 16, 32)
    http_names = [f"http{consumers}" for consumers in consumer_counts]
    names = ("domain", *http_names, "bulk", "small", "big", *(f"floor{n}" for n in range(len(EXTRAS))))
    for name in names:
        queues[name] = httpx.post(
            f"{bases[0]}/odata/QueueDefinitions", json={"Name": name}, headers=headers
        ).json()
    admin_id = int(__import__("jwt").decode(token, options={"verify_signature": False})["sub"])
    load = os.getloadavg()[0]
    print(
        f"PostgreSQL, {args.servers} podium serve processes, {os.cpu_count()} CPUs"
        f" (load average {load:.1f} at start), {args.seconds:.0f} s a phase"
    )
    speed_before = python_microseconds()
    print(f"core speed before the run: {speed_before:.1f} µs (benchmarks/machine_speed.py)")
    if args.only == "bulk":
        bulk(args, url, bases, pids, token)
        return
    # each line claims from a queue of its own, filled alike, as the floor's levels do: a queue another
    # line consumed first would make it step over that line's dead index entries (until VACUUM)
    for name in ("domain", *http_names):
        fill(url, queues[name]["Id"], tenant_id, folder_id, args.items, name)
    floor = 0.0
    for level, extra in enumerate(EXTRAS):
        fill(url, queues[f"floor{level}"]["Id"], tenant_id, folder_id, args.items, f"floor{level}")
        rate = asyncio.run(floor_pairs(url, queues[f"floor{level}"]["Id"], admin_id, level, args.seconds))
        floor = floor or rate
        cost = f"   {1000 / rate - 1000 / floor:+.2f} ms a pair over the floor" if level else ""
        print(f"(a)  {extra:<16} 16 connections: {rate:8.0f} pairs/s{cost}")
    rate = asyncio.run(domain_pairs(url, tenant_id, folder_id, "domain", admin_id, args.seconds))
    print(
        f"(a') Podium's domain path, 16 callers:     {rate:5.0f} pairs/s"
        f"   {1000 / rate - 1000 / floor:+.2f} ms a pair over the floor"
    )
    summary = [f"floor {floor:.0f} pairs/s, (a') {rate:.0f} pairs/s"]
    for consumers in consumer_counts:
        backends = backend_pids(url)
        before = cpu_seconds(pids), cpu_of(backends), os.getloadavg()[0]
        rate, _ = asyncio.run(http_pairs(bases, token, f"http{consumers}", consumers, args.seconds))
        pairs = max(rate * args.seconds, 1)
        per_pair = (cpu_seconds(pids) - before[0]) / pairs * 1000
        database = sum(cpu - before[1].get(pid, 0.0) for pid, cpu in cpu_of(backend_pids(url)).items())
        line = (
            f"(b)  HTTP, {consumers:2d} consumers:      {rate:8.0f} pairs/s   (b)/(a) = {rate / floor:.2f}"
            f"   CPU a pair: servers {per_pair:.2f} ms, PostgreSQL {database / pairs * 1000:.2f} ms"
            f"   load {before[2]:.1f}"
        )
        if consumers == 16:
            summary.append(
                f"HTTP 16 consumers {rate:.0f} pairs/s = {rate / floor:.2f} x floor (target >= 0.5:"
                f" {'met' if rate >= floor / 2 else 'NOT met'}), server CPU {per_pair:.2f} ms a pair"
                f" (target <= 1.5: {'met' if per_pair <= 1.5 else 'NOT met'})"
            )
        print(line)
    if args.only == "pairs":
        print_summary(summary, speed_before)
        return
    bulk(args, url, bases, pids, token)
    fill(url, queues["small"]["Id"], tenant_id, folder_id, 10_000, "small")
    _, small = asyncio.run(http_pairs(bases, token, "small", 4, args.seconds))
    print(f"(d) StartTransaction p99, 10,000 items in the queue:  {p99(small):6.1f} ms ({len(small)} calls)")
    if args.big:
        started = time.monotonic()
        fill(url, queues["big"]["Id"], tenant_id, folder_id, args.big, "big")
        print(f"    ({args.big:,} items loaded in {time.monotonic() - started:.0f} s)")
        _, big = asyncio.run(http_pairs(bases, token, "big", 4, args.seconds))
        print(
            f"(d) StartTransaction p99, {args.big:,} items in the queue: {p99(big):6.1f} ms"
            f" ({len(big)} calls; target <= 20 ms: {'met' if p99(big) <= 20 else 'NOT met'})"
        )
        summary.append(f"StartTransaction p99 at {args.big:,} New items {p99(big):.1f} ms (target <= 20)")
    print_summary(summary, speed_before)


def print_summary(lines: list[str], speed_before: float) -> None:
    print(f"Issue 11 (load average now {os.getloadavg()[0]:.1f}; {core_speed(speed_before)}):")
    for line in lines:
        print(f"    {line}")


if __name__ == "__main__":
    main()
