#!/usr/bin/env python
"""Benchmark: ``GET /odata/Jobs`` with the seed's filters, against the hand-written SQL they stand for.

Run by hand (it is not a test)::

    /root/.cache/podium-venv/bin/python benchmarks/odata_jobs.py            # load 1M jobs, then measure
    /root/.cache/podium-venv/bin/python benchmarks/odata_jobs.py --reuse    # keep the loaded data

What it does:

1. In schema ``podium_bench`` of a PostgreSQL database (dropped and created again unless ``--reuse``
   finds data of the same size there): Podium's migrations, tenant ``Default`` (user ``admin``, folder
   ``Shared``), then 1,000,000 jobs over 1,000 robots and 200 releases (20 environments) loaded with
   ``COPY``, then ``VACUUM ANALYZE``.
2. Starts ``podium serve`` on that schema on a free port, and logs in as ``admin``.
3. For every filter: N requests over HTTP (keep-alive, ``--concurrency`` at once) and the same number of
   executions of the equivalent SQL (same joins, WHERE, ORDER BY id LIMIT, and the count query, since
   the API answers ``@odata.count`` unless ``$count=false``) over as many psycopg connections. Prints
   latencies, the target check (API p50 <= SQL p50 + 3 ms on the indexed Robot/Id + State filter), the
   CPU time spent by the server process and by the PostgreSQL backends, and EXPLAIN ANALYZE of the
   slowest filter's SQL when the target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from lean_http import LeanConnection
from machine_speed import describe as core_speed
from machine_speed import python_microseconds
from psycopg import sql
from sqlalchemy.engine import make_url

from podium.db.engine import Database, postgres_options, sync_url
from podium.db.migrate import upgrade
from podium.domain.tenancy import TenantSeed, create_tenant

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "podium_bench"
ADMIN_PASSWORD = "podium-bench-admin-1"
DATA_VERSION = 1  # bump when the generated data changes, so that --reuse loads again
TARGET_MS = 3.0

APP_LOAD = "podium-bench-load"
APP_API = "podium-bench-api"
APP_SQL = "podium-bench-sql"

UTC = dt.UTC
EPOCH = dt.datetime(2016, 1, 1, tzinfo=UTC)
SPAN = dt.datetime(2020, 1, 1, tzinfo=UTC) - EPOCH

# Job states (podium.domain.enums.JobState) and their share of the loaded jobs: mostly Successful/Faulted.
STATE_WEIGHTS = ((5, 0.70), (4, 0.20), (6, 0.04), (0, 0.02), (1, 0.02), (7, 0.01), (2, 0.005), (3, 0.005))
FINISHED = frozenset({4, 5, 6})
FAULTS = (
    "Logon failure: unknown user name or bad password.",
    "System.TimeoutException: Activity timeout exceeded.",
    "Could not find the UI element corresponding to this selector.",
    "The remote server returned an error: (500) Internal Server Error.",
    "Object reference not set to an instance of an object.",
)


# -- connections ---------------------------------------------------------------------------------------
def bench_url(base: str, application_name: str) -> str:
    """The base URL with libpq options selecting the bench schema (Podium moves them to connect args)."""
    url = make_url(base)
    options = str(url.query.get("options", ""))
    options = f"{options} -csearch_path={SCHEMA} -capplication_name={application_name}".strip()
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


def conninfo(url: str) -> str:
    """A libpq connection string for a SQLAlchemy URL, with the options Podium's engine would use."""
    target, connect_args = postgres_options(sync_url(url))
    params: dict[str, Any] = {
        "host": target.host,
        "port": target.port,
        "user": target.username,
        "password": target.password,
        "dbname": target.database,
        **{key: str(value) for key, value in target.query.items()},
        **connect_args,
    }
    return psycopg.conninfo.make_conninfo(
        **{key: value for key, value in params.items() if value is not None}
    )


# -- loading -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Meta:
    """What was loaded, kept as the schema's comment so that ``--reuse`` can check it."""

    jobs: int
    robots: int
    releases: int
    environments: int
    seed: int
    tenant_id: int
    folder_id: int
    version: int = DATA_VERSION

    def same_data(self, other: Meta) -> bool:
        mine = (self.jobs, self.robots, self.releases, self.environments, self.seed, self.version)
        return mine == (
            other.jobs,
            other.robots,
            other.releases,
            other.environments,
            other.seed,
            other.version,
        )


def read_meta(info: str) -> Meta | None:
    with psycopg.connect(info, autocommit=True) as conn:
        row = conn.execute(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s", (SCHEMA,)
        ).fetchone()
    if row is None or not row[0]:
        return None
    try:
        return Meta(**json.loads(row[0]))
    except (TypeError, ValueError):
        return None


def count_jobs(info: str) -> int | None:
    with psycopg.connect(info, autocommit=True) as conn:
        try:
            row = conn.execute("SELECT count(*) FROM jobs").fetchone()
        except psycopg.errors.UndefinedTable:
            return None
    return None if row is None else int(row[0])


async def _create_tenant(url: str) -> TenantSeed:
    db = Database(url)
    try:
        async with db.write() as conn:
            return await create_tenant(conn, "Default", ADMIN_PASSWORD)
    finally:
        await db.dispose()


def _text(value: object) -> str:
    """A value in COPY's text format (the generated values hold no tab, newline or backslash)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def _lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    for row in rows:
        yield "\t".join(_text(value) for value in row) + "\n"


def copy_lines(cur: psycopg.Cursor[Any], table: str, columns: Sequence[str], lines: Iterable[str]) -> int:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(column) for column in columns)
    )
    count = 0
    chunk: list[str] = []
    with cur.copy(statement) as copy:
        for line in lines:
            chunk.append(line)
            if len(chunk) >= 10_000:
                copy.write("".join(chunk))
                count += len(chunk)
                chunk.clear()
        if chunk:
            copy.write("".join(chunk))
            count += len(chunk)
    return count


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def robot_name(robot_id: int) -> str:
    return f"Robot-{robot_id:04d}"


def job_lines(meta: Meta, release_names: Sequence[str], rng: random.Random) -> Iterator[str]:
    """Jobs in creation order (ids follow time) over 2016-2019, robots and releases uniformly spread."""
    step = SPAN / meta.jobs
    cumulative: list[tuple[float, int]] = []
    total = 0.0
    for state, weight in STATE_WEIGHTS:
        total += weight
        cumulative.append((total, state))
    tenant, folder = meta.tenant_id, meta.folder_id
    for job_id in range(1, meta.jobs + 1):
        created = EPOCH + step * (job_id - 1) + dt.timedelta(milliseconds=rng.randrange(1000))
        draw = rng.random()
        state = next((s for bound, s in cumulative if draw < bound), 5)
        started = None if state == 0 else created + dt.timedelta(seconds=rng.randrange(1, 120))
        ended = (
            started + dt.timedelta(seconds=rng.randrange(10, 3600)) if started and state in FINISHED else None
        )
        if state == 5:
            info = "Job completed"
        elif state == 4:
            info = rng.choice(FAULTS)
        elif state == 6:
            info = "Job stopped by the user"
        else:
            info = None
        release_id = rng.randint(1, meta.releases)
        yield (
            f"{job_id}\t{tenant}\t{folder}\t{_uuid(rng)}\t{release_id}\t{release_names[release_id - 1]}\t"
            f"{rng.randint(1, meta.robots)}\t{state}\tManual\t0\t0\t2\t{_uuid(rng)}\t{_text(info)}\t"
            f"{created.isoformat()}\t{_text(started)}\t{_text(ended)}\t1\tf\n"
        )


JOB_COLUMNS = (
    "id",
    "tenant_id",
    "folder_id",
    "key",
    "release_id",
    "release_name",
    "robot_id",
    "state",
    "source",
    "source_type",
    "type",
    "runtime_type",
    "batch_execution_key",
    "info",
    "creation_time",
    "start_time",
    "end_time",
    "job_priority",
    "requires_user_interaction",
)


def load(args: argparse.Namespace, admin_info: str) -> Meta:
    """Drops and creates the bench schema, migrates it, creates tenant Default and loads the data."""
    started = time.perf_counter()
    with psycopg.connect(admin_info, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
    url = bench_url(args.database_url, APP_LOAD)
    upgrade(url)
    seed = asyncio.run(_create_tenant(url))
    meta = Meta(
        jobs=args.jobs,
        robots=args.robots,
        releases=args.releases,
        environments=args.environments,
        seed=args.seed,
        tenant_id=seed.tenant_id,
        folder_id=seed.shared_folder_id,
    )
    print(
        f"schema {SCHEMA}: migrated, tenant Default created ({time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    rng = random.Random(args.seed)
    tenant, folder = meta.tenant_id, meta.folder_id
    now = dt.datetime.now(UTC)
    environments = [f"Env-{index:02d}" for index in range(1, meta.environments + 1)]
    releases = [
        (rid, f"Process{rid:03d}_{environments[(rid - 1) % meta.environments]}")
        for rid in range(1, meta.releases + 1)
    ]
    info = conninfo(url)
    with psycopg.connect(info) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        copy_lines(
            cur,
            "environments",
            ("id", "tenant_id", "folder_id", "name", "type", "creation_time"),
            _lines((eid, tenant, folder, name, 0, now) for eid, name in enumerate(environments, 1)),
        )
        copy_lines(
            cur,
            "releases",
            (
                "id",
                "tenant_id",
                "folder_id",
                "key",
                "name",
                "process_key",
                "process_version",
                "is_latest_version",
                "is_process_deleted",
                "environment_id",
                "environment_name",
                "entry_point_path",
                "process_type",
                "job_priority",
                "requires_user_interaction",
                "is_attended",
                "creation_time",
            ),
            _lines(
                (
                    rid,
                    tenant,
                    folder,
                    _uuid(rng),
                    name,
                    f"Process{rid:03d}",
                    f"1.0.{rid}",
                    True,
                    False,
                    (rid - 1) % meta.environments + 1,
                    environments[(rid - 1) % meta.environments],
                    "Main.xaml",
                    1,
                    1,
                    False,
                    False,
                    now,
                )
                for rid, name in releases
            ),
        )
        copy_lines(
            cur,
            "robots",
            (
                "id",
                "tenant_id",
                "key",
                "name",
                "machine_name",
                "username",
                "type",
                "hosting_type",
                "provision_type",
                "credential_type",
                "enabled",
                "robot_environments",
                "limit_concurrent_execution",
                "creation_time",
            ),
            _lines(
                (
                    rid,
                    tenant,
                    _uuid(rng),
                    robot_name(rid),
                    f"MACHINE-{rid:04d}",
                    f"robot{rid:04d}",
                    2,
                    0,
                    0,
                    0,
                    True,
                    "",
                    False,
                    now,
                )
                for rid in range(1, meta.robots + 1)
            ),
        )
        copy_lines(
            cur,
            "folder_robots",
            ("folder_id", "robot_id"),
            _lines((folder, rid) for rid in range(1, meta.robots + 1)),
        )
        print(f"loading {meta.jobs:,} jobs with COPY ...", flush=True)
        copy_started = time.perf_counter()
        # The migration's secondary indexes on jobs are dropped for the load and built again after it
        # (from their own definitions): one sort per index instead of a million random inserts each.
        indexes = cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE schemaname = %s AND tablename = 'jobs' AND indexname LIKE 'ix\\_%%'",
            (SCHEMA,),
        ).fetchall()
        for name, _definition in indexes:
            cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        loaded = copy_lines(cur, "jobs", JOB_COLUMNS, job_lines(meta, [name for _, name in releases], rng))
        print(f"  {loaded:,} jobs copied in {time.perf_counter() - copy_started:.1f} s", flush=True)
        index_started = time.perf_counter()
        cur.execute("SET maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cur.execute(definition)
        names = ", ".join(name for name, _ in indexes)
        print(f"  indexes {names} built in {time.perf_counter() - index_started:.1f} s", flush=True)
        for table in ("environments", "releases", "robots", "folder_robots", "jobs"):
            cur.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), (SELECT max(id) FROM {}))").format(
                    sql.Literal(f"{SCHEMA}.{table}"), sql.Identifier(table)
                )
            )
        conn.commit()
    with psycopg.connect(info, autocommit=True) as conn:
        vacuum_started = time.perf_counter()
        for table in ("jobs", "robots", "releases", "environments", "folder_robots", "folders", "users"):
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
        print(f"  VACUUM ANALYZE in {time.perf_counter() - vacuum_started:.1f} s", flush=True)
        conn.execute(
            sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
                sql.Identifier(SCHEMA), sql.Literal(json.dumps(meta.__dict__))
            )
        )
    print(f"load done in {time.perf_counter() - started:.1f} s", flush=True)
    return meta


# -- the filters -----------------------------------------------------------------------------------------
Params = dict[str, Any]
END_BEFORE = dt.datetime(2018, 2, 22, 10, 0, 0, 837000, tzinfo=UTC)
CREATED_AFTER = dt.datetime(2017, 1, 1, tzinfo=UTC)

NO_JOIN = "FROM jobs"
ROBOT_JOIN = "FROM jobs LEFT OUTER JOIN robots AS j0 ON j0.id = jobs.robot_id"
RELEASE_JOIN = "FROM jobs LEFT OUTER JOIN releases AS j0 ON j0.id = jobs.release_id"
BOTH_JOINS = ROBOT_JOIN + " LEFT OUTER JOIN releases AS j1 ON j1.id = jobs.release_id"
LOGON_WHERE = (
    "WHERE jobs.tenant_id = %(tenant)s AND jobs.creation_time > %(created)s AND jobs.state = %(state)s"
    " AND jobs.info LIKE %(pattern)s"  # what indexof(...) ne -1 compiles to (trigram index, 0013)
)
TEXT_WHERE = "WHERE jobs.tenant_id = %(tenant)s AND jobs.info LIKE %(pattern)s"
TEXT_TARGET_MS = 20.0  # issue 11: indexof/contains/startswith on 1 M jobs, p50


@dataclass(frozen=True)
class Case:
    """One of the seed's filters: its OData query options and the SQL Podium should be as fast as."""

    label: str
    target: bool  # the p50 target applies to it
    top: int
    state: int | None  # the job state the filter names
    odata: Callable[[Params], dict[str, str]]
    page_sql: str
    count_sql: str | None
    folder: bool = False  # sent with the Shared folder's X-UIPATH-OrganizationUnitId, as the SDK does


def _page(select: str, source: str, where: str) -> str:
    return f"SELECT {select} {source} {where} ORDER BY jobs.id ASC LIMIT %(top)s"


def _count(source: str, where: str) -> str:
    return f"SELECT count(*) AS count_1 {source} {where}"


def cases() -> list[Case]:
    # Robot/Id is the job's own robot_id: what a person writes by hand, and what Podium sends
    by_robot_state = (
        "WHERE jobs.tenant_id = %(tenant)s AND jobs.robot_id = %(robot)s AND jobs.state = %(state)s"
    )
    in_folder = by_robot_state + " AND jobs.folder_id IN (%(folder)s)"  # the folder's scope, as Podium's
    by_robot = "WHERE jobs.tenant_id = %(tenant)s AND jobs.robot_id = %(robot)s"
    by_name = "WHERE jobs.tenant_id = %(tenant)s AND j0.name = %(name)s"
    by_end = "WHERE jobs.tenant_id = %(tenant)s AND jobs.robot_id = %(robot)s AND jobs.end_time < %(end)s"
    by_env = "WHERE jobs.tenant_id = %(tenant)s AND j0.environment_id = %(env)s"
    return [
        Case(
            "Robot/Id+State top10 count",
            True,
            10,
            5,
            lambda p: {
                "$filter": f"Robot/Id eq {p['robot']} and State eq 'Successful'",
                "$top": "10",
                "$count": "true",
            },
            _page("jobs.*", NO_JOIN, by_robot_state),
            _count(NO_JOIN, by_robot_state),
        ),
        Case(
            "Robot/Id+State top10 count, folder",
            False,
            10,
            5,
            lambda p: {
                "$filter": f"Robot/Id eq {p['robot']} and State eq 'Successful'",
                "$top": "10",
                "$count": "true",
            },
            _page("jobs.*", NO_JOIN, in_folder),
            _count(NO_JOIN, in_folder),
            folder=True,
        ),
        Case(
            "Robot/Id top3",
            False,
            3,
            None,
            lambda p: {"$filter": f"Robot/Id eq {p['robot']}", "$top": "3"},
            _page("jobs.*", NO_JOIN, by_robot),
            _count(NO_JOIN, by_robot),
        ),
        Case(
            "Robot/Name top10",
            False,
            10,
            None,
            lambda p: {"$filter": f"Robot/Name eq '{p['name']}'", "$top": "10"},
            _page("jobs.*", ROBOT_JOIN, by_name),
            _count(ROBOT_JOIN, by_name),
        ),
        Case(
            "Robot/Id+EndTime top10",
            False,
            10,
            None,
            lambda p: {
                "$filter": f"Robot/Id eq {p['robot']} and EndTime lt 2018-02-22T10:00:00.837Z",
                "$top": "10",
            },
            _page("jobs.*", NO_JOIN, by_end),
            _count(NO_JOIN, by_end),
        ),
        Case(
            "Release/EnvironmentId top2 +Release",
            False,
            2,
            None,
            lambda p: {"$top": "2", "$expand": "Release", "$filter": f"Release/EnvironmentId eq {p['env']}"},
            _page("jobs.*, j0.*", RELEASE_JOIN, by_env),
            _count(RELEASE_JOIN, by_env),
        ),
        Case(
            "Logon failure top2 +Robot,Release",
            False,
            2,
            4,
            lambda p: {
                "$filter": "(CreationTime gt 2017-01-01T00:00:00.000Z and State eq '4' and "
                "indexof(Info,'Logon failure') ne -1)",
                "$expand": "Robot,Release",
                "$top": "2",
            },
            _page("jobs.*, j0.*, j1.*", BOTH_JOINS, LOGON_WHERE),
            # Podium builds the count before $expand adds its joins: no join in the count.
            _count("FROM jobs", LOGON_WHERE),
        ),
        Case(
            "Info text top10 nocount",
            False,
            10,
            None,
            lambda p: {"$filter": "indexof(Info,'Logon failure') ne -1", "$top": "10", "$count": "false"},
            _page("jobs.*", NO_JOIN, TEXT_WHERE),
            None,
        ),
    ]


def case_params(case: Case, meta: Meta, rng: random.Random, n: int) -> list[Params]:
    """Random values for one filter (the same list is used over HTTP and in SQL)."""
    params: list[Params] = []
    for _ in range(n):
        robot = rng.randint(1, meta.robots)
        params.append(
            {
                "tenant": meta.tenant_id,
                "folder": meta.folder_id,
                "robot": robot,
                "name": robot_name(robot),
                "env": rng.randint(1, meta.environments),
                "end": END_BEFORE,
                "created": CREATED_AFTER,
                "state": case.state,
                "text": "Logon failure",
                "pattern": "%Logon failure%",
                "top": case.top,
            }
        )
    return params


# -- CPU time from /proc -------------------------------------------------------------------------------
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (None when /proc does not show it)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU time of a process and its children (``podium serve --workers N`` forks N workers)."""
    own = cpu_seconds(pid)
    if own is None:
        return None
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            own += (int(fields[11]) + int(fields[12])) / TICKS
    return own


class BackendCpu:
    """CPU time of the PostgreSQL backends of one application_name (PostgreSQL runs on this machine)."""

    def __init__(self, info: str, application_name: str) -> None:
        self.info = info
        self.application_name = application_name

    def snapshot(self) -> dict[int, float]:
        with psycopg.connect(self.info, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (self.application_name,)
            ).fetchall()
        found = {int(row[0]): cpu_seconds(int(row[0])) for row in rows}
        return {pid: seconds for pid, seconds in found.items() if seconds is not None}

    @staticmethod
    def used(before: Mapping[int, float], after: Mapping[int, float]) -> float:
        return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


# -- the Podium server -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def podium_command() -> str:
    beside = Path(sys.executable).parent / "podium"
    return str(beside) if beside.exists() else "podium"


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
        except OSError:
            return ""


@contextlib.contextmanager
def podium_server(url: str, data_dir: Path, log_level: str, workers: int = 1) -> Iterator[Server]:
    port = free_port()
    log = data_dir / "server.log"
    env = {**os.environ, "PODIUM_ADMIN_PASSWORD": ADMIN_PASSWORD}
    command = [
        podium_command(),
        "serve",
        "--database-url",
        url,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--log-level",
        log_level,
        "--workers",
        str(workers),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"podium serve exited with {process.returncode}:\n{server.tail()}")
            try:
                if httpx.get(f"{server.base_url}/api/status/version", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"podium serve did not answer within 120 s:\n{server.tail()}")
            time.sleep(0.25)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def authenticate(base_url: str) -> str:
    response = httpx.post(
        f"{base_url}/api/Account/Authenticate",
        json={"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": ADMIN_PASSWORD},
        timeout=30,
    )
    response.raise_for_status()
    token: str = response.json()["result"]
    return token


# -- measuring ---------------------------------------------------------------------------------------------
@dataclass
class Run:
    latencies: list[float]  # seconds
    wall: float
    server_cpu: float | None = None
    backend_cpu: float | None = None
    client_cpu: float | None = None

    def p(self, quantile: float) -> float:
        """Nearest-rank percentile in milliseconds."""
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), round(quantile * len(ordered) + 0.5)))
        return ordered[rank - 1] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000

    def per_request_ms(self, seconds: float | None) -> float | None:
        return None if seconds is None else seconds * 1000 / len(self.latencies)


class ApiClient:
    """``concurrency`` keep-alive connections (lean_http: the client's own CPU stays out of the figures),
    kept over every phase of the run."""

    def __init__(self, base_url: str, token: str, concurrency: int, folder_id: int) -> None:
        self.concurrency = concurrency
        self._folder = {"X-UIPATH-OrganizationUnitId": str(folder_id)}
        self._runner = asyncio.Runner()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._connections = [LeanConnection(base_url, headers) for _ in range(concurrency)]

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        for connection in self._connections:
            self._runner.run(connection.close())
        self._runner.close()

    def run(self, case: Case, params: Sequence[Params]) -> Run:
        return self._runner.run(self._run(case, params))

    async def _run(self, case: Case, params: Sequence[Params]) -> Run:
        latencies: list[float] = []
        queries = iter([case.odata(item) for item in params])
        headers = self._folder if case.folder else None

        async def worker(connection: LeanConnection) -> None:
            for query in queries:
                request = connection.build("GET", "/odata/Jobs", query, headers=headers)
                started = time.perf_counter()
                status, body = await connection.send(request)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"{case.label}: HTTP {status}: {body[:500]!r}")

        started, client_cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker(connection) for connection in self._connections))
        run = Run(latencies, time.perf_counter() - started)
        run.client_cpu = time.process_time() - client_cpu
        return run


def sql_once(conn: psycopg.Connection[Any], case: Case, params: Params) -> tuple[list[int], int | None]:
    """The page (ids) and the count, as the API computes them."""
    rows = conn.execute(case.page_sql, params).fetchall()
    count = None
    if case.count_sql is not None:
        found = conn.execute(case.count_sql, params).fetchone()
        count = None if found is None else int(found[0])
    return [int(row[0]) for row in rows], count


def run_sql(connections: Sequence[psycopg.Connection[Any]], case: Case, params: Sequence[Params]) -> Run:
    latencies: list[float] = []
    pending = iter(params)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(conn: psycopg.Connection[Any]) -> None:
        try:
            while True:
                with lock:
                    item = next(pending, None)
                if item is None:
                    return
                started = time.perf_counter()
                sql_once(conn, case, item)
                latencies.append(time.perf_counter() - started)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(conn,)) for conn in connections]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return Run(latencies, time.perf_counter() - started)


def check_same(
    base_url: str, token: str, conn: psycopg.Connection[Any], case: Case, params: Sequence[Params]
) -> list[str]:
    """The API and the SQL agree on the page's ids and on the count (a few samples)."""
    problems: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as client:
        for item in params:
            body = client.get("/odata/Jobs", params=case.odata(item)).raise_for_status().json()
            ids, count = sql_once(conn, case, item)
            api_ids = [row["Id"] for row in body["value"]]
            if api_ids != ids or body.get("@odata.count") != count:
                problems.append(
                    f"{case.label} {case.odata(item)}: API {api_ids}/{body.get('@odata.count')}, "
                    f"SQL {ids}/{count}"
                )
    return problems


@dataclass
class Result:
    case: Case
    api: Run
    sql: Run

    @property
    def difference(self) -> float:
        return self.api.p50 - self.sql.p50

    @property
    def holds(self) -> bool:
        return self.difference <= TARGET_MS


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


SAMPLE_PARAMS: Params = {"robot": 1, "name": "", "env": 1}


def print_results(results: Sequence[Result], concurrency: int) -> None:
    print()
    print(
        f"Latency per request in ms, concurrency {concurrency} "
        f"(target: API p50 <= SQL p50 + {TARGET_MS:g} ms on the filter marked *)"
    )
    header = (
        f"{'filter':<38} {'n':>5} {'API p50':>8} {'API p99':>8} {'SQL p50':>8} {'SQL p99':>8} "
        f"{'p50 diff':>8}  target"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        mark = "*" if result.case.target else " "
        verdict = (
            ("holds" if result.holds else "MISSED")
            if result.case.target
            else ("(would hold)" if result.holds else "(would miss)")
        )
        print(
            f"{result.case.label + ' ' + mark:<38} {len(result.api.latencies):>5} {result.api.p50:>8.2f} "
            f"{result.api.p(0.99):>8.2f} {result.sql.p50:>8.2f} {result.sql.p(0.99):>8.2f} "
            f"{result.difference:>+8.2f}  {verdict}"
        )
    print()
    print(
        "Throughput and CPU time per request in ms (server = the podium processes; PG = its backends;"
        " client = this benchmark's HTTP client)"
    )
    header = (
        f"{'filter':<38} {'API req/s':>9} {'SQL req/s':>9} {'server CPU':>10} {'PG CPU(API)':>11} "
        f"{'PG CPU(SQL)':>11} {'client CPU':>10}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        api, sql_run = result.api, result.sql
        print(
            f"{result.case.label:<38} {len(api.latencies) / api.wall:>9.0f} "
            f"{len(sql_run.latencies) / sql_run.wall:>9.0f} {_ms(api.per_request_ms(api.server_cpu)):>10} "
            f"{_ms(api.per_request_ms(api.backend_cpu)):>11} "
            f"{_ms(sql_run.per_request_ms(sql_run.backend_cpu)):>11} "
            f"{_ms(api.per_request_ms(api.client_cpu)):>10}"
        )
    print()
    print("Targets (issue 11)")
    for result in results:
        api, sql_run = result.api, result.sql
        if result.case.target:
            ratio = (len(api.latencies) / api.wall) / (len(sql_run.latencies) / sql_run.wall)
            verdict = "MET" if ratio >= 0.5 else "MISSED"
            print(f"  {result.case.label}: API throughput {ratio:.2f} x SQL (target >= 0.5)  {verdict}")
        if "indexof(" in result.case.odata(SAMPLE_PARAMS).get("$filter", ""):
            verdict = "MET" if api.p50 <= TEXT_TARGET_MS else "MISSED"
            print(
                f"  {result.case.label}: text filter API p50 {api.p50:.2f} ms, SQL p50 {sql_run.p50:.2f} ms"
                f" (target API p50 <= {TEXT_TARGET_MS:.0f} ms)  {verdict}"
            )


def explain(info: str, case: Case, params: Params) -> None:
    print()
    print(f"EXPLAIN (ANALYZE, BUFFERS) for {case.label}: {case.odata(params)}")
    with psycopg.connect(info, autocommit=True) as conn:
        for statement in (case.page_sql, case.count_sql):
            if statement is None:
                continue
            with psycopg.ClientCursor(conn) as cur:
                print()
                print(cur.mogrify(statement, params))
                for row in cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params):
                    print("   ", row[0])


# -- main --------------------------------------------------------------------------------------------------
def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("PODIUM_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument(
        "--workers", type=int, default=2, help="podium serve --workers (default 2: one per core here)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help=f"keep the data in schema {SCHEMA} if it matches"
    )
    parser.add_argument("--load-only", action="store_true", help="load (or check) the data, measure nothing")
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--robots", type=int, default=1_000)
    parser.add_argument("--releases", type=int, default=200)
    parser.add_argument("--environments", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20180222)
    parser.add_argument("--requests", type=int, default=400, help="measured requests per filter (each side)")
    parser.add_argument("--warmup", type=int, default=40, help="unmeasured requests per filter (each side)")
    parser.add_argument(
        "--target-requests",
        type=int,
        default=4000,
        help="measured requests of the filter marked * (its throughput ratio is a target; a tenth as many"
        " warm up first, enough for each worker's caches)",
    )
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--only", help="run only the filters whose label contains this text")
    parser.add_argument(
        "--server-log-level", default="warning", help="podium serve --log-level (info logs every request)"
    )
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE for every filter")
    return parser.parse_args(argv)


def ensure_data(args: argparse.Namespace) -> Meta:
    info = conninfo(bench_url(args.database_url, APP_LOAD))
    wanted = Meta(args.jobs, args.robots, args.releases, args.environments, args.seed, 0, 0)
    if args.reuse:
        found = read_meta(info)
        if found is not None and found.same_data(wanted) and count_jobs(info) == found.jobs:
            print(f"reusing the data in schema {SCHEMA} ({found.jobs:,} jobs)", flush=True)
            return found
        print(f"--reuse: schema {SCHEMA} holds no matching data, loading", flush=True)
    return load(args, info)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    meta = ensure_data(args)
    if args.load_only:
        return 0
    selected = [case for case in cases() if not args.only or args.only.lower() in case.label.lower()]
    rng = random.Random(args.seed + 1)
    sql_info = conninfo(bench_url(args.database_url, APP_SQL))
    monitor_info = conninfo(bench_url(args.database_url, APP_LOAD))
    api_backends = BackendCpu(monitor_info, APP_API)
    sql_backends = BackendCpu(monitor_info, APP_SQL)
    results: list[Result] = []
    problems: list[str] = []
    load_before = _load()
    speed_before = python_microseconds()
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="podium-bench-")))
        api_url = bench_url(args.database_url, APP_API)
        server = stack.enter_context(podium_server(api_url, data_dir, args.server_log_level, args.workers))
        token = authenticate(server.base_url)
        print(
            f"podium serve --workers {args.workers} (pid {server.process.pid}) at {server.base_url}; "
            f"{args.requests} requests per "
            f"filter after {args.warmup} warm-up ones ({args.target_requests} after"
            f" {max(args.warmup, args.target_requests // 10)} for the filter marked *),"
            f" concurrency {args.concurrency}",
            flush=True,
        )
        connections = [
            stack.enter_context(psycopg.connect(sql_info, autocommit=True)) for _ in range(args.concurrency)
        ]
        client = stack.enter_context(ApiClient(server.base_url, token, args.concurrency, meta.folder_id))
        for case in selected:
            measured_count = args.target_requests if case.target else args.requests
            warmup = case_params(case, meta, rng, max(args.warmup, measured_count // 10))
            measured = case_params(case, meta, rng, measured_count)
            problems += check_same(server.base_url, token, connections[0], case, measured[:3])
            client.run(case, warmup)
            before_server, before_pg = tree_cpu_seconds(server.process.pid), api_backends.snapshot()
            api = client.run(case, measured)
            after_server, after_pg = tree_cpu_seconds(server.process.pid), api_backends.snapshot()
            if before_server is not None and after_server is not None:
                api.server_cpu = after_server - before_server
            api.backend_cpu = BackendCpu.used(before_pg, after_pg) if after_pg else None
            run_sql(connections, case, warmup)
            before_pg = sql_backends.snapshot()
            sql_run = run_sql(connections, case, measured)
            after_pg = sql_backends.snapshot()
            sql_run.backend_cpu = BackendCpu.used(before_pg, after_pg) if after_pg else None
            results.append(Result(case, api, sql_run))
            print(f"  {case.label}: API p50 {api.p50:.2f} ms, SQL p50 {sql_run.p50:.2f} ms", flush=True)
    print_results(results, args.concurrency)
    print()
    print(f"load average (1/5/15 min) before: {load_before}, after: {_load()} on {os.cpu_count()} CPUs")
    print(core_speed(speed_before))
    for problem in problems:
        print("MISMATCH:", problem)
    missed = [result for result in results if result.case.target and not result.holds]
    if args.explain:
        for result in results:
            explain(sql_info, result.case, case_params(result.case, meta, rng, 1)[0])
    elif missed and results:
        slowest = max(results, key=lambda result: result.api.p50)
        for case in dict.fromkeys([missed[0].case, slowest.case]):
            explain(sql_info, case, case_params(case, meta, rng, 1)[0])
    return 1 if missed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
