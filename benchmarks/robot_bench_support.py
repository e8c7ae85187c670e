"""Shared setup of the robot benchmarks: a fresh PostgreSQL schema, ``podium serve`` on it, a machine
with N robots connected through the robot protocol, and the server process's CPU time."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from podium.db.engine import postgres_options, sync_url
from podium.db.schema import folders, machines, releases, robots, tenants
from podium.db.tables import metadata
from podium.db.types import utcnow

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "podium_robot_bench"
ADMIN_PASSWORD = "robot-bench-admin-1"


def schema_url(base: str, schema: str = SCHEMA) -> str:
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def fresh_schema(base: str, schema: str = SCHEMA) -> str:
    """Drops and creates the benchmark schema (``podium_robot_bench`` unless told: a benchmark that may
    run beside another passes its own) with every table (from the metadata), stamped migrated."""
    admin = create_engine(sync_url(base))
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    url = schema_url(base, schema)
    target, args = postgres_options(sync_url(url))
    engine = create_engine(target, connect_args=args)
    metadata.create_all(engine)
    engine.dispose()
    from alembic import command

    from podium.db.migrate import alembic_config

    command.stamp(alembic_config(url), "head")
    return url


def engine_for(url: str) -> Any:
    target, args = postgres_options(sync_url(url))
    return create_engine(target, connect_args=args)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(
    url: str, data_dir: Path, *, serve_args: Sequence[str] = (), **settings: str
) -> Iterator[tuple[str, int]]:
    """``podium serve`` (one process, unless ``serve_args`` asks for workers) on the schema; yields
    (base URL, pid). ``serve_args`` are appended to the command line."""
    port = free_port()
    env = {**os.environ, "PODIUM_ADMIN_PASSWORD": ADMIN_PASSWORD, "PODIUM_SECRET_KEY": "bench-" + "k" * 40}
    env.update({f"PODIUM_{k.upper()}": v for k, v in settings.items()})
    podium = Path(sys.executable).with_name("podium")
    command = [
        str(podium),
        "serve",
        "--database-url",
        url,
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
        "--log-level",
        "warning",
        *serve_args,
    ]
    base = f"http://127.0.0.1:{port}"
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115  (closed below)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/status/version", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def admin_token(base: str) -> str:
    login = {"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": ADMIN_PASSWORD}
    token: str = httpx.post(f"{base}/api/Account/Authenticate", json=login).json()["result"]
    return token


def seed_robots(url: str, count: int) -> str:
    """A machine with ``count`` robots (rows written directly, fast) and release 'proc' in Shared;
    returns the machine key. The robots' users are created when they connect."""
    engine = engine_for(url)
    now = utcnow()
    with engine.begin() as conn:
        tenant_id = conn.execute(select(tenants.c.id).where(tenants.c.name == "Default")).scalar_one()
        folder_id = conn.execute(select(folders.c.id).where(folders.c.tenant_id == tenant_id)).scalar_one()
        key = str(uuid.uuid4())
        machine_id = conn.execute(
            insert(machines)
            .values(tenant_id=tenant_id, key=key, name="BENCH", creation_time=now)
            .returning(machines.c.id)
        ).scalar_one()
        rows = [
            {
                "tenant_id": tenant_id,
                "key": str(uuid.uuid4()),
                "machine_id": machine_id,
                "name": f"bench-{i}",
                "creation_time": now,
                "robot_environments": "",
            }
            for i in range(count)
        ]
        conn.execute(insert(robots), rows)
        conn.execute(
            text(
                "INSERT INTO folder_robots (folder_id, robot_id) "
                "SELECT :f, id FROM robots WHERE machine_id = :m"
            ),
            {"f": folder_id, "m": machine_id},
        )
        conn.execute(
            insert(releases).values(
                tenant_id=tenant_id,
                folder_id=folder_id,
                key=str(uuid.uuid4()),
                name="proc",
                process_key="proc",
                creation_time=now,
            )
        )
    engine.dispose()
    return key


def connect(base: str, machine_key: str, agent_id: str) -> list[dict[str, Any]]:
    body = {"machineKey": machine_key, "hostMachineName": "bench-host", "agentId": agent_id}
    response = httpx.post(f"{base}/api/robot/connect", json=body, timeout=600)
    response.raise_for_status()
    robots_: list[dict[str, Any]] = response.json()["robots"]
    return robots_


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")
