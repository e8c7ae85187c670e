"""Real ``podium serve`` processes for the queue e2e tests, with a known signing key (so tests can hold
robot tokens) and the abandon sweep's settings.

The test database is built from the metadata (``tests/conftest.py``) and stamped at the Alembic head,
so that ``serve``'s migration step has nothing to do whichever tables the migrations know yet.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import jwt
from alembic import command
from sqlalchemy import inspect, select

from podium.auth.tokens import TokenClaims, issue
from podium.db.migrate import alembic_config
from podium.db.schema import robots
from podium.db.tables import metadata
from tests.conftest import sync_engine
from tests.e2e.servers import ADMIN_PASSWORD, ok, podium_process
from tests.support import SIGNING_KEY

ODATA = "/podium/Default/orchestrator_/odata"


def prepare_database(database_url: str) -> None:
    engine = sync_engine(database_url)
    try:
        metadata.create_all(engine)
        stamped = inspect(engine).has_table("alembic_version")
    finally:
        engine.dispose()
    if not stamped:
        command.stamp(alembic_config(database_url), "head")


@contextmanager
def podium_server(
    database_url: str, data_dir: Path, workers: int = 1, **settings: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``podium serve --workers N`` with the e2e signing key; ``settings`` become PODIUM_* variables."""
    with podium_process(
        database_url, data_dir, workers=workers, signing_key=SIGNING_KEY, log_name="server.log", **settings
    ) as served:
        yield served


@contextmanager
def podium_servers(database_url: str, data_dir: Path, count: int, **settings: str) -> Iterator[list[str]]:
    """``count`` servers on one database, started one after the other (the first creates the tenant)."""
    prepare_database(database_url)
    with ExitStack() as stack:
        bases = [
            stack.enter_context(podium_server(database_url, data_dir / f"s{i}", **settings))[0]
            for i in range(count)
        ]
        yield bases


def admin_token(base: str) -> str:
    login = {"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": ADMIN_PASSWORD}
    token: str = ok(httpx.post(f"{base}/api/Account/Authenticate", json=login, timeout=10))["result"]
    return token


def robot_tokens(
    base: str, token: str, database_url: str, count: int, prefix: str = "robot"
) -> list[tuple[int, str, str]]:
    """``count`` robots in Shared: (robot id, robot key, a robot token for it signed with SIGNING_KEY).

    RobotDto does not show a robot's key, so it is read from the database (where robots get it)."""
    headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
    claims = jwt.decode(token, options={"verify_signature": False})
    made = []
    engine = sync_engine(database_url)
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as http, engine.connect() as conn:
            for n in range(count):
                body = {
                    "Name": f"{prefix}-{n}",
                    "MachineName": f"M{n}",
                    "Username": f"dom\\{prefix}{n}",
                    "Type": "Unattended",
                }
                robot_id = int(ok(http.post("/odata/Robots", json=body), 201)["Id"])
                key = conn.execute(select(robots.c.key).where(robots.c.id == robot_id)).scalar_one()
                expires = int(time.time()) + 7200
                signed = issue(
                    SIGNING_KEY,
                    TokenClaims(int(claims["sub"]), int(claims["tid"]), "robot", expires, robot_id=robot_id),
                )
                made.append((robot_id, str(key), signed))
    finally:
        engine.dispose()
    return made
