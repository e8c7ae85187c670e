"""The entities tests need, made in one place: through the API of an in-process Podium (``Api``), or as
rows (``tenant_rows`` for domain-level tests; ``Seeder`` for UiPath's documentation examples, exact ids).

Each factory asserts that Podium accepted what it made and returns it (its DTO, id or token), except
``upload``, which returns the answer: the feed tests check refusals too. Helpers of one area that only
one module uses stay in that module; the area helpers (``queue_helpers``, ``assets_support``,
``robots/helpers``) keep what is not a factory (transactions, robot reads, the robot protocol).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection, Engine

from podium.db import schema
from podium.db.schema import folders, releases, tenants
from podium.db.schema_webhooks import webhooks
from podium.db.types import utcnow
from podium.outbound import ALLOW_PRIVATE_ENV
from tests.package_builders import nupkg
from tests.support import Api

NS = "UiPath.Server.Configuration.OData"
UPLOAD = f"/odata/Processes/{NS}.UploadPackage"
SHARED = "Shared"

# -- packages and releases --------------------------------------------------------------------------------


def upload(
    api: Api,
    data: bytes,
    *,
    url: str = UPLOAD,
    feed_id: str | None = None,
    name: str = "package.nupkg",
    token: str | None = None,
) -> httpx.Response:
    """Posts a package file to a feed (the tenant's, or ``feed_id``'s; ``url``: another upload route),
    as the admin or ``token``'s user; the answer unchecked."""
    if feed_id is not None:
        url = f"{url}?feedId={feed_id}"
    files = {"file": (name, data, "application/octet-stream")}
    response: httpx.Response = api.client.post(url, files=files, headers=api.headers(None, token))
    return response


def release(api: Api, folder_id: int, name: str, environment: int | None = None) -> dict[str, Any]:
    """A release of package ``name`` 1.0.0 (uploaded to the tenant's feed first) in the folder."""
    api.ok(upload(api, nupkg(name, "1.0.0"), name=f"{name}.1.0.0.nupkg"))
    body: dict[str, Any] = {"Name": name, "ProcessKey": name, "ProcessVersion": "1.0.0"}
    if environment is not None:
        body["EnvironmentId"] = environment
    created: dict[str, Any] = api.ok(api.post("/odata/Releases", body, folder=folder_id), 201)
    return created


# -- users and roles --------------------------------------------------------------------------------------


def user(api: Api, name: str, password: str | None = None, **values: Any) -> int:
    """A user (password ``<name>-password`` unless given) without roles; its id."""
    body = {"UserName": name, "Password": password or f"{name}-password", **values}
    user_id: int = api.ok(api.post("/odata/Users", body), 201)["Id"]
    return user_id


def role_id(api: Api, name: str) -> int:
    [found] = api.ok(api.get(f"/odata/Roles?$filter=Name eq '{name}'"))["value"]
    found_id: int = found["Id"]
    return found_id


def user_with(api: Api, name: str, permissions: list[str], folder: int | None = None) -> str:
    """A user holding a role ``<name>-role`` with ``permissions`` across the tenant (or in ``folder``);
    returns its token."""
    role = api.ok(
        api.post("/odata/Roles", {"Name": f"{name}-role", "Permissions": [{"Name": p} for p in permissions]}),
        201,
    )
    user_id = user(api, name, "pass-word-123")
    if folder is None:
        api.ok(api.post(f"/odata/Users({user_id})/{NS}.AssignRoles", {"roleIds": [role["Id"]]}), 204)
    else:
        assignment = {
            "UserIds": [user_id],
            "RolesPerFolder": [{"FolderId": folder, "RoleIds": [role["Id"]]}],
        }
        api.ok(api.post(f"/odata/Folders/{NS}.AssignUsers", {"assignments": assignment}), 204)
    return api.login(name, "pass-word-123")


# -- machines, robots, robot tokens -----------------------------------------------------------------------


@dataclass
class RobotLogin:
    robot: dict[str, Any]
    machine: dict[str, Any]
    token: str

    @property
    def key(self) -> str:
        """The robot key a robot sends (robotKey, UIPATH_ROBOT_KEY): here its LicenseKey."""
        return str(self.robot["LicenseKey"])


def robot_with_token(api: Api, name: str, folder: str | int = SHARED) -> RobotLogin:
    """A machine (its client secret shown once) and a robot on it in the folder, logged in with the
    machine's client credentials."""
    machine = api.ok(api.post("/odata/Machines", {"Name": f"{name}-machine"}), 201)
    assert machine["ClientId"] == machine["Key"] and len(machine["ClientSecret"]) >= 32
    robot_body = {
        "Name": name,
        "MachineId": machine["Id"],
        "Type": "Unattended",
        "LicenseKey": str(uuid.uuid4()),
    }
    robot = api.ok(api.post("/odata/Robots", robot_body, folder=folder), 201)
    response = api.client.post(
        "/identity_/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": machine["ClientId"],
            "client_secret": machine["ClientSecret"],
        },
    )
    assert response.status_code == 200, response.text
    return RobotLogin(robot, machine, response.json()["access_token"])


def seed_machine(api: Api, db: Engine, robots: int = 1, name: str = "M1") -> dict[str, Any]:
    """A Standard machine with ``robots`` Unattended robots in Shared, and release 'proc' in Shared (a
    row: its package is not the point where this is used); the machine."""
    machine = api.ok(api.post("/odata/Machines", {"Name": name, "Type": "Standard"}), 201)
    for index in range(robots):
        body = {
            "Name": f"{name}-robot-{index}",
            "MachineId": machine["Id"],
            "Type": "Unattended",
            "Username": f"{name.lower()}\\r{index}",
        }
        api.ok(api.post("/odata/Robots", body, folder=SHARED), 201)
    with db.begin() as conn:
        exists = conn.execute(select(releases.c.id).where(releases.c.name == "proc")).first()
        if exists is None:
            conn.execute(
                insert(releases).values(
                    tenant_id=api.tenant.tenant_id,
                    folder_id=api.tenant.shared_folder_id,
                    key=str(uuid.uuid4()),
                    name="proc",
                    process_key="proc",
                    process_version="1.0.0",
                    creation_time=utcnow(),
                )
            )
    return dict(machine)


# -- jobs -------------------------------------------------------------------------------------------------


def start_jobs(api: Api, count: int = 1, **info: Any) -> list[dict[str, Any]]:
    """``count`` Pending jobs of release 'proc' (``seed_machine``) in Shared; ``info``: more startInfo."""
    body = {"startInfo": {"ReleaseName": "proc", "Strategy": "JobsCount", "JobsCount": count, **info}}
    return list(api.ok(api.post(f"/odata/Jobs/{NS}.StartJobs", body, folder=SHARED))["value"])


# -- queues and assets ------------------------------------------------------------------------------------


def create_queue(api: Api, name: str = "invoices", **fields: Any) -> dict[str, Any]:
    """A queue definition in Shared."""
    queue: dict[str, Any] = api.ok(
        api.post("/odata/QueueDefinitions", {"Name": name, **fields}, folder=SHARED), 201
    )
    return queue


def create_asset(api: Api, body: dict[str, Any], folder: str | int = SHARED, status: int = 201) -> Any:
    """An asset (ValueScope Global unless ``body`` says otherwise); ``status``: the expected answer."""
    return api.ok(api.post("/odata/Assets", {"ValueScope": "Global", **body}, folder=folder), status)


# -- webhooks ---------------------------------------------------------------------------------------------

LISTENER = {"Name": "listener", "Url": "http://127.0.0.1:9/hook", "SubscribeToAllEvents": True}


def listen(api: Api) -> dict[str, Any]:
    """An enabled webhook of every event in the tenant (nothing is sent: the suite's delivery is off),
    so that the outbox keeps its events (``domain/events.py`` writes none nobody listens to)."""
    with pytest.MonkeyPatch.context() as patch:  # its URL is loopback's
        patch.setenv(ALLOW_PRIVATE_ENV, "1")
        hook: dict[str, Any] = api.ok(api.post("/odata/Webhooks", LISTENER), 201)
    return hook


# -- rows -------------------------------------------------------------------------------------------------


def listen_rows(conn: Connection, tenant_id: int, now: dt.datetime) -> None:
    """``listen`` as a bare row: an enabled webhook of every event in the tenant."""
    conn.execute(
        insert(webhooks).values(
            tenant_id=tenant_id,
            key=str(uuid.uuid4()),
            name=LISTENER["Name"],
            url=LISTENER["Url"],
            subscribe_to_all_events=True,
            creation_time=now,
        )
    )


def tenant_rows(conn: Connection, name: str, now: dt.datetime) -> tuple[int, int]:
    """A tenant and its Shared folder as bare rows (no roles, users or feeds: for tests that call the domain
    directly); (tenant id, folder id)."""
    tenant_id: int = conn.execute(
        insert(tenants).values(key=str(uuid.uuid4()), name=name, creation_time=now).returning(tenants.c.id)
    ).scalar_one()
    folder_id: int = conn.execute(
        insert(folders)
        .values(
            tenant_id=tenant_id,
            key=str(uuid.uuid4()),
            display_name="Shared",
            fully_qualified_name="Shared",
            creation_time=now,
        )
        .returning(folders.c.id)
    ).scalar_one()
    return tenant_id, folder_id


# -- rows with the exact ids of UiPath's documentation examples ------------------------------------------


def when(text_value: str | None) -> dt.datetime | None:
    if text_value is None:
        return None
    return dt.datetime.fromisoformat(text_value.replace("Z", "+00:00"))


class Seeder:
    """Inserts rows with the ids and values of UiPath's documentation examples, in one tenant's folder;
    ``finish()`` afterwards on PostgreSQL."""

    def __init__(self, engine: Engine, tenant_id: int, folder_id: int) -> None:
        self.engine = engine
        self.tenant_id = tenant_id
        self.folder_id = folder_id

    def environment(self, id: int, name: str) -> None:
        self._insert(
            schema.environments,
            id=id,
            tenant_id=self.tenant_id,
            folder_id=self.folder_id,
            name=name,
            type=0,
            creation_time=when("2017-12-01T00:00:00Z"),
        )

    def robot(self, id: int, name: str, **values: Any) -> None:
        row = {
            "id": id,
            "tenant_id": self.tenant_id,
            "key": str(uuid.uuid4()),
            "name": name,
            "type": 2,
            "robot_environments": "",
            "creation_time": when("2017-12-01T00:00:00Z"),
            **values,
        }
        self._insert(schema.robots, **row)
        self._insert(schema.folder_robots, folder_id=self.folder_id, robot_id=id)

    def environment_robot(self, environment_id: int, robot_id: int) -> None:
        self._insert(schema.environment_robots, environment_id=environment_id, robot_id=robot_id)

    def release(self, id: int, key: str, name: str, **values: Any) -> None:
        row = {
            "id": id,
            "tenant_id": self.tenant_id,
            "folder_id": self.folder_id,
            "key": key,
            "name": name,
            "process_key": name,
            "process_version": "1.0.0",
            "creation_time": when("2017-12-01T00:00:00Z"),
            **values,
        }
        self._insert(schema.releases, **row)

    def job(
        self,
        id: int,
        *,
        robot_id: int | None,
        release_id: int,
        state: int,
        key: str | None = None,
        start: str | None = None,
        end: str | None = None,
        created: str = "2018-01-01T00:00:00Z",
        info: str | None = None,
        batch: str | None = None,
    ) -> None:
        self._insert(
            schema.jobs,
            id=id,
            tenant_id=self.tenant_id,
            folder_id=self.folder_id,
            key=key or str(uuid.uuid4()),
            release_id=release_id,
            release_name=f"release-{release_id}",
            robot_id=robot_id,
            state=state,
            source="Manual",
            source_type=0,
            batch_execution_key=batch or str(uuid.uuid4()),
            info=info,
            creation_time=when(created),
            start_time=when(start),
            end_time=when(end),
        )

    def _insert(self, table: Any, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(table).values(**values))

    def finish(self) -> None:
        """On PostgreSQL, moves identity sequences past the ids inserted by hand."""
        if self.engine.dialect.name != "postgresql":
            return
        with self.engine.begin() as conn:
            for table in schema.metadata.sorted_tables:
                if "id" not in table.c or table.c.id.identity is None:
                    continue
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
                    )
                )
