"""A robot's user holds the Robot role in the robot's folders only, however the robot came to be: created
through ``POST /odata/Robots`` or given its user when its machine connects (``/api/robot/connect``). Its
token then reads no asset of a folder the robot is not in; a tenant-wide grant left by older versions is
taken away when the robot connects (and by migration 0004)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from podium.db.schema import folder_robots, robots, roles, user_roles
from podium.db.types import utcnow
from tests.assets_support import robot_read
from tests.factories import create_asset
from tests.support import Api

ODATA = "/odata"


def _world(api: Api) -> dict[str, Any]:
    """Folder Other holding asset Secret; Shared holding asset Visible; a machine."""
    other = api.ok(api.post(f"{ODATA}/Folders", {"DisplayName": "Other"}), 201)
    create_asset(api, {"Name": "Secret", "ValueType": "Text", "StringValue": "other-folder-secret"}, "Other")
    create_asset(api, {"Name": "Visible", "ValueType": "Text", "StringValue": "shared-value"})
    machine = api.ok(api.post(f"{ODATA}/Machines", {"Name": "M1", "Type": "Standard"}), 201)
    return {"other": other, "machine": machine}


def _connect(api: Api, machine: dict[str, Any]) -> dict[str, Any]:
    body = {"machineKey": machine["LicenseKey"], "hostMachineName": "host", "agentId": str(uuid.uuid4())}
    robots_: list[dict[str, Any]] = api.ok(api.client.post("/api/robot/connect", json=body))["robots"]
    assert len(robots_) == 1
    return robots_[0]


def _client_credentials_token(api: Api, machine: dict[str, Any]) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": machine["ClientId"],
        "client_secret": machine["ClientSecret"],
    }
    response = api.client.post("/identity_/connect/token", data=form)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _robot_grants(db: Engine, robot_id: int) -> list[int | None]:
    """Folders where the robot's user holds the Robot role (None: tenant-wide)."""
    with db.connect() as conn:
        user_id = conn.execute(select(robots.c.user_id).where(robots.c.id == robot_id)).scalar_one()
        rows = conn.execute(
            select(user_roles.c.folder_id)
            .join(roles, roles.c.id == user_roles.c.role_id)
            .where(user_roles.c.user_id == user_id, roles.c.name == "Robot")
        )
        return sorted((r.folder_id for r in rows), key=lambda f: -1 if f is None else f)


def _assert_confined(api: Api, token: str, robot_key: str) -> None:
    """The token reads Shared's asset, and nothing of folder Other, whichever way it asks."""
    visible = api.ok(robot_read(api, "Visible", robot_key, token=token, folder=None))
    assert visible["StringValue"] == "shared-value"
    for folder in (None, "Other", "Shared"):
        for key in (robot_key, None):
            response = robot_read(api, "Secret", key, token=token, folder=folder)
            assert 400 <= response.status_code < 500, (folder, key, response.text)
            assert "other-folder-secret" not in response.text
    listed = api.get(f"{ODATA}/Assets?$filter=Name eq 'Secret'", folder="Other", token=token)
    assert listed.status_code == 403, listed.text
    filtered = api.get(f"{ODATA}/Assets/UiPath.Server.Configuration.OData.GetFiltered", token=token)
    names = [a["Name"] for a in api.ok(filtered)["value"]]
    assert names == ["Visible"]
    # the Robot role's other rights do not reach Other either
    assert api.get(f"{ODATA}/Releases", folder="Other", token=token).status_code == 403


def test_robot_created_over_odata(api: Api, db: Engine) -> None:
    world = _world(api)
    body = {"Name": "R1", "MachineId": world["machine"]["Id"], "Type": "Unattended"}
    robot = api.ok(api.post(f"{ODATA}/Robots", body, folder="Shared"), 201)
    assert robot["UserId"] is not None
    assert _robot_grants(db, robot["Id"]) == [api.tenant.shared_folder_id]
    with db.connect() as conn:
        key = conn.execute(select(robots.c.key).where(robots.c.id == robot["Id"])).scalar_one()
    _assert_confined(api, _client_credentials_token(api, world["machine"]), key)
    connected = _connect(api, world["machine"])  # connecting changes nothing
    assert connected["robotId"] == robot["Id"] and connected["robotKey"] == key
    assert _robot_grants(db, robot["Id"]) == [api.tenant.shared_folder_id]
    _assert_confined(api, connected["token"], key)


def _robot_without_user(api: Api, db: Engine, machine: dict[str, Any]) -> int:
    """A robot of the machine in Shared with no user yet (written directly, as bulk seeding does)."""
    with db.begin() as conn:
        robot_id = conn.execute(
            insert(robots)
            .values(
                tenant_id=api.tenant.tenant_id,
                key=str(uuid.uuid4()),
                name="R2",
                machine_id=machine["Id"],
                machine_name=machine["Name"],
                creation_time=utcnow(),
            )
            .returning(robots.c.id)
        ).scalar_one()
        conn.execute(insert(folder_robots).values(folder_id=api.tenant.shared_folder_id, robot_id=robot_id))
    return int(robot_id)


def test_robot_provisioned_by_connecting(api: Api, db: Engine) -> None:
    world = _world(api)
    robot_id = _robot_without_user(api, db, world["machine"])
    connected = _connect(api, world["machine"])
    assert connected["robotId"] == robot_id
    assert _robot_grants(db, robot_id) == [api.tenant.shared_folder_id]
    _assert_confined(api, connected["token"], connected["robotKey"])
    _assert_confined(api, _client_credentials_token(api, world["machine"]), connected["robotKey"])


def test_tenant_wide_grant_of_older_versions_is_taken_away(api: Api, db: Engine) -> None:
    world = _world(api)
    robot_id = _robot_without_user(api, db, world["machine"])
    _connect(api, world["machine"])
    with db.begin() as conn:  # what a robot connected by an older version held
        user_id = conn.execute(select(robots.c.user_id).where(robots.c.id == robot_id)).scalar_one()
        role_id = conn.execute(
            select(roles.c.id).where(roles.c.name == "Robot", roles.c.tenant_id == api.tenant.tenant_id)
        ).scalar_one()
        conn.execute(insert(user_roles).values(user_id=user_id, role_id=role_id, folder_id=None))
    token = _client_credentials_token(api, world["machine"])
    leaked = api.get(f"{ODATA}/Releases", folder="Other", token=token)
    assert leaked.status_code == 200  # the tenant-wide grant reaches every folder
    connected = _connect(api, world["machine"])
    assert _robot_grants(db, robot_id) == [api.tenant.shared_folder_id]
    _assert_confined(api, connected["token"], connected["robotKey"])
    _assert_confined(api, token, connected["robotKey"])  # at once: the removal revokes the cached grant
