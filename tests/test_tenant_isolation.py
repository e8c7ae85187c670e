"""Two tenants on one database: the same data in both, and nothing of one ever reaches the other.

Tenant ``Default`` (the ``api`` fixture's) and tenant ``Other`` get the same machine, robot, environment,
release, folders, user, role and jobs, all created through the API. Every entity set of the core issue
is then listed, read, edited and deleted across the boundary, every action is called with the other
tenant's ids and keys, the folder headers name the other tenant's folders, and a token is sent to the
other tenant's URL.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from podium.db.engine import Database
from podium.domain.host import ensure_host_admin
from tests.package_builders import nupkg
from tests.support import ADMIN_PASSWORD, Api, assert_error, encoded

NS = "UiPath.Server.Configuration.OData"
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")
SETS = {  # entity set -> table holding its rows
    "Jobs": "jobs",
    "Robots": "robots",
    "Machines": "machines",
    "Environments": "environments",
    "Releases": "releases",
    "Folders": "folders",
    "OrganizationUnits": "folders",
    "Users": "users",
    "Roles": "roles",
}


@dataclass
class Tenant:
    """One tenant's token and the ids of what was created in it."""

    name: str
    tenant_id: int
    token: str
    shared: int
    ids: dict[str, int] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    jobs: list[int] = field(default_factory=list)
    job_keys: list[str] = field(default_factory=list)


def login(api: Api, tenant: str, user: str = "admin", password: str = ADMIN_PASSWORD) -> str:
    response = api.client.post(
        "/api/Account/Authenticate",
        json={"tenancyName": tenant, "usernameOrEmailAddress": user, "password": password},
    )
    body = api.ok(response)
    assert body["success"] is True
    token: str = body["result"]
    return token


def upload_package(api: Api, name: str, token: str) -> None:
    """A release needs its package in the folder's feed (here the tenant's)."""
    response = api.client.post(
        f"/odata/Processes/{NS}.UploadPackage",
        headers=api.headers(token=token),
        files={"file": (f"{name}.1.0.0.nupkg", nupkg(name, "1.0.0"), "application/octet-stream")},
    )
    api.ok(response)


def build(api: Api, t: Tenant, user_password: str) -> None:
    """The same data in tenant ``t``, through the API only."""
    tok, shared = t.token, t.shared
    upload_package(api, "Process1", tok)
    machine = api.ok(api.post("/odata/Machines", {"Name": "Machine1", "Type": "Standard"}, token=tok), 201)
    robot = api.ok(
        api.post(
            "/odata/Robots",
            {"Name": "Robot1", "MachineId": machine["Id"], "Type": "Unattended", "Username": "robo"},
            folder=shared,
            token=tok,
        ),
        201,
    )
    env = api.ok(
        api.post("/odata/Environments", {"Name": "Env1", "Type": "Prod"}, folder=shared, token=tok), 201
    )
    api.ok(
        api.post(
            f"/odata/Environments({env['Id']})/{NS}.AddRobot",
            {"robotId": robot["Id"]},
            folder=shared,
            token=tok,
        ),
        204,
    )
    release = api.ok(
        api.post(
            "/odata/Releases",
            {
                "Name": "Process1",
                "ProcessKey": "Process1",
                "ProcessVersion": "1.0.0",
                "EnvironmentId": env["Id"],
            },
            folder=shared,
            token=tok,
        ),
        201,
    )
    folder = api.ok(api.post("/odata/Folders", {"DisplayName": "Finance"}, token=tok), 201)
    child = api.ok(
        api.post("/odata/Folders", {"DisplayName": f"Only{t.name}", "ParentId": folder["Id"]}, token=tok), 201
    )
    user = api.ok(
        api.post(
            "/odata/Users", {"UserName": "alice", "Name": "Alice", "Password": user_password}, token=tok
        ),
        201,
    )
    role = api.ok(
        api.post("/odata/Roles", {"Name": "Viewers", "Permissions": [{"Name": "Jobs.View"}]}, token=tok), 201
    )
    t.ids = {
        "Machines": machine["Id"],
        "Robots": robot["Id"],
        "Environments": env["Id"],
        "Releases": release["Id"],
        "Folders": folder["Id"],
        "OrganizationUnits": folder["Id"],
        "Child": child["Id"],
        "Users": user["Id"],
        "Roles": role["Id"],
    }
    t.keys = {
        "Machines": machine["Key"],
        "Users": user["Key"],
        "Releases": release["Key"],
        "Folders": folder["Key"],
        "Child": child["Key"],
        "ChildPath": child["FullyQualifiedName"],
    }
    start = f"/odata/Jobs/{NS}.StartJobs"
    specific = api.ok(
        api.post(
            start,
            {"startInfo": {"ReleaseKey": release["Key"], "Strategy": "Specific", "RobotIds": [robot["Id"]]}},
            token=tok,
        )
    )
    counted = api.ok(
        api.post(
            start,
            {"startInfo": {"ReleaseKey": release["Key"], "Strategy": "JobsCount", "JobsCount": 2}},
            token=tok,
        )
    )
    started = specific["value"] + counted["value"]
    assert len(started) == 3
    t.jobs = [j["Id"] for j in started]
    t.job_keys = [j["Key"] for j in started]
    t.ids["Jobs"] = t.jobs[0]
    # a finished job (restartable) and an export of the tenant's jobs
    api.ok(api.post(f"/odata/Jobs({t.jobs[2]})/{NS}.StopJob", {"strategy": "Kill"}, token=tok))
    export = api.ok(api.post(f"/odata/Jobs/{NS}.Export", {}, token=tok))
    t.ids["Export"] = export["Id"]
    pat = api.client.post(
        "/api/PersonalAccessTokens", json={"Name": "script"}, headers={"Authorization": f"Bearer {tok}"}
    )
    assert pat.status_code == 201, pat.text
    t.ids["Token"] = pat.json()["Id"]
    t.keys["Token"] = pat.json()["Token"]


def create_through_host(api: Api, database_url: str, name: str) -> tuple[int, str, int]:
    """Tenant ``name`` made as the host administrator makes one (POST /odata/Tenants): its id, its
    admin's token and its Shared folder's id."""
    asyncio.run(_host_admin(database_url))
    host = login(api, "Host", "admin", HOST_PASSWORD)
    created = api.ok(
        api.post("/odata/Tenants", {"Name": name, "AdminPassword": ADMIN_PASSWORD}, token=host), 201
    )
    token = login(api, name)
    shared = api.ok(api.get("/odata/Folders?$filter=DisplayName eq 'Shared'", token=token))["value"][0]
    return created["Id"], token, shared["Id"]


HOST_PASSWORD = "host-password-1"


async def _host_admin(url: str) -> None:
    db = Database(url)
    try:
        async with db.write() as conn:
            await ensure_host_admin(conn, HOST_PASSWORD)
    finally:
        await db.dispose()


@pytest.fixture
def tenants(api: Api, database_url: str) -> tuple[Tenant, Tenant]:
    """Default (the first start's) and Other, created through the host's Tenants API."""
    other_id, other_token, other_shared = create_through_host(api, database_url, "Other")
    a = Tenant("Default", api.tenant.tenant_id, api.token, api.tenant.shared_folder_id)
    b = Tenant("Other", other_id, other_token, other_shared)
    build(api, a, "alice-default-1")
    build(api, b, "alice-other-1")
    return a, b


def snapshot(db: Engine) -> dict[str, Any]:
    """Everything the isolation checks could change, to compare before and after."""
    with db.connect() as conn:
        return {
            table: [tuple(r) for r in conn.execute(text(f"select * from {table} order by id"))]
            for table in (
                "jobs",
                "robots",
                "machines",
                "environments",
                "environment_robots",
                "releases",
                "folders",
                "users",
                "roles",
                "role_permissions",
                "user_roles",
                "folder_users",
                "folder_robots",
                "access_tokens",
                "exports",
            )
        }


def own_ids(db: Engine, table: str, tenant_id: int) -> set[int]:
    with db.connect() as conn:
        return {
            r[0] for r in conn.execute(text(f"select id from {table} where tenant_id = :t"), {"t": tenant_id})
        }


def ids_of(body: dict[str, Any]) -> set[int]:
    return {row["Id"] for row in body["value"]}


def each_tenant_lists_only_its_rows(api: Api, tenants: tuple[Tenant, Tenant], db: Engine) -> None:
    a, b = tenants
    with db.connect() as conn:
        names = conn.execute(text("select tenant_id, name from machines order by tenant_id")).all()
    assert [tuple(r) for r in names] == [(a.tenant_id, "Machine1"), (b.tenant_id, "Machine1")]
    for entity_set, table in SETS.items():
        for me, other in (tenants, tenants[::-1]):
            check_listing(api, db, entity_set, table, me, other)


def check_listing(api: Api, db: Engine, entity_set: str, table: str, me: Tenant, other: Tenant) -> None:
    expected = own_ids(db, table, me.tenant_id)
    assert expected and not expected & own_ids(db, table, other.tenant_id)
    body = api.ok(api.get(f"/odata/{entity_set}?$count=true", token=me.token))
    assert ids_of(body) == expected
    assert body["@odata.count"] == len(expected)
    count = api.get(f"/odata/{entity_set}/$count", token=me.token)
    assert count.status_code == 200 and int(count.text) == len(expected)
    # asking for the other tenant's id by filter finds nothing
    body = api.ok(api.get(f"/odata/{entity_set}?$filter=Id eq {other.ids[entity_set]}", token=me.token))
    assert body["value"] == [] and body["@odata.count"] == 0
    body = api.ok(
        api.get(
            f"/odata/{entity_set}?$filter=Id in ({','.join(map(str, expected))},"
            f"{other.ids[entity_set]})&$orderby=Id desc",
            token=me.token,
        )
    )
    assert ids_of(body) == expected


def expansions_and_folder_lists_stay_in_the_tenant(
    api: Api, tenants: tuple[Tenant, Tenant], db: Engine
) -> None:
    for me, other in (tenants, tenants[::-1]):
        body = api.ok(api.get("/odata/Jobs?$expand=Robot,Release", token=me.token))
        assert {j["Robot"]["Id"] for j in body["value"] if j["Robot"]} == {me.ids["Robots"]}
        assert {j["Release"]["Id"] for j in body["value"]} == {me.ids["Releases"]}
        body = api.ok(api.get("/odata/Environments?$expand=Robots", token=me.token))
        assert [[r["Id"] for r in e["Robots"]] for e in body["value"]] == [[me.ids["Robots"]]]
        body = api.ok(api.get("/odata/Robots?$expand=Environments,Machine", token=me.token))
        assert [r["Machine"]["Id"] for r in body["value"]] == [me.ids["Machines"]]
        assert [[e["Id"] for e in r["Environments"]] for r in body["value"]] == [[me.ids["Environments"]]]
        roles = own_ids(db, "roles", me.tenant_id)
        body = api.ok(api.get("/odata/Roles?$expand=Permissions", token=me.token))
        assert {p["RoleId"] for r in body["value"] for p in r["Permissions"]} <= roles
        body = api.ok(api.get("/odata/RolePermissions", token=me.token))
        assert {p["RoleId"] for p in body["value"]} <= roles, "role permissions of another tenant are listed"
        body = api.ok(
            api.get(
                f"/odata/Environments/{NS}.GetRobotsForEnvironment(key={me.ids['Environments']})",
                token=me.token,
            )
        )
        assert ids_of(body) == {me.ids["Robots"]}
        mine = own_ids(db, "folders", me.tenant_id)
        navigation = api.client.get(
            "/api/FoldersNavigation/GetAllFoldersForCurrentUser",
            headers={"Authorization": f"Bearer {me.token}"},
        )
        assert {f["Id"] for f in api.ok(navigation)} == mine
        paged = api.client.get(
            "/api/FoldersNavigation/GetFoldersForCurrentUser?take=100",
            headers={"Authorization": f"Bearer {me.token}"},
        )
        assert {f["Id"] for f in api.ok(paged)["PageItems"]} == mine
        current = api.ok(api.get(f"/odata/Users/{NS}.GetCurrentUser", token=me.token))
        assert current["TenantId"] == me.tenant_id and current["UserName"] == "admin"
        assert other.tenant_id != me.tenant_id


UPDATES: dict[str, dict[str, Any]] = {
    "Robots": {"Name": "Hijacked", "Type": "Unattended"},
    "Machines": {"Name": "Hijacked", "Type": "Standard"},
    "Environments": {"Name": "Hijacked", "Type": "Dev"},
    "Releases": {"Name": "Hijacked", "ProcessKey": "Hijacked", "ProcessVersion": "6.6.6"},
    "Folders": {"DisplayName": "Hijacked"},
    "OrganizationUnits": {"DisplayName": "Hijacked"},
    "Users": {"UserName": "hijacked", "Name": "Hijacked"},
    "Roles": {"Name": "Hijacked"},
}


def other_tenants_ids_are_not_found(api: Api, tenants: tuple[Tenant, Tenant], db: Engine) -> None:
    before = snapshot(db)
    for entity_set in SETS:
        for me, other in (tenants, tenants[::-1]):
            check_not_found(api, entity_set, me, other)
    assert snapshot(db) == before


def check_not_found(api: Api, entity_set: str, me: Tenant, other: Tenant) -> None:
    key = other.ids[entity_set]
    assert_error(api.get(f"/odata/{entity_set}({key})", token=me.token), 404)
    assert_error(api.get(f"/odata/{entity_set}({key})?$select=Id", token=me.token), 404)
    if entity_set == "Jobs":  # Jobs are not edited or deleted through the entity set: same answer as for own
        own = api.put(f"/odata/Jobs({me.jobs[0]})", {"Info": "x"}, token=me.token).status_code
        assert 400 <= own < 500
        assert_error(api.put(f"/odata/Jobs({key})", {"Info": "x"}, token=me.token), own)
        own = api.delete(f"/odata/Jobs({me.jobs[0]})", token=me.token).status_code
        assert_error(api.delete(f"/odata/Jobs({key})", token=me.token), own)
        return
    assert_error(api.put(f"/odata/{entity_set}({key})", UPDATES[entity_set], token=me.token), 404)
    assert_error(
        api.client.patch(
            f"/odata/{entity_set}({key})",
            json=UPDATES[entity_set],
            headers={"Authorization": f"Bearer {me.token}"},
        ),
        404,
    )
    assert_error(api.delete(f"/odata/{entity_set}({key})", token=me.token), 404)


def writes_cannot_point_at_the_other_tenant(api: Api, tenants: tuple[Tenant, Tenant], db: Engine) -> None:
    a, b = tenants
    before = snapshot(db)
    tok = a.token
    # a robot on the other tenant's machine, a release in the other tenant's environment, a subfolder of
    # the other tenant's folder
    assert_error(api.post("/odata/Robots", {"Name": "R2", "MachineId": b.ids["Machines"]}, token=tok), 400)
    assert_error(
        api.put(
            f"/odata/Robots({a.ids['Robots']})", {"Name": "Robot1", "MachineId": b.ids["Machines"]}, token=tok
        ),
        400,
    )
    assert_error(
        api.post(
            "/odata/Releases",
            {"Name": "P2", "ProcessKey": "P2", "EnvironmentId": b.ids["Environments"]},
            folder=a.shared,
            token=tok,
        ),
        400,
    )
    assert_error(
        api.put(f"/odata/Releases({a.ids['Releases']})", {"EnvironmentId": b.ids["Environments"]}, token=tok),
        400,
    )
    assert_error(
        api.post("/odata/Folders", {"DisplayName": "Sub", "ParentId": b.ids["Folders"]}, token=tok), 400
    )
    # a folder-scoped create in the other tenant's folder
    assert_error(
        api.post("/odata/Releases", {"Name": "P3", "ProcessKey": "P3"}, folder=b.shared, token=tok), 400
    )
    assert_error(api.post("/odata/Environments", {"Name": "E3"}, folder=b.ids["Folders"], token=tok), 400)
    assert snapshot(db) == before


def job_actions_do_not_reach_the_other_tenant(api: Api, tenants: tuple[Tenant, Tenant], db: Engine) -> None:
    before = snapshot(db)
    for me, other in (tenants, tenants[::-1]):
        tok = me.token
        start = f"/odata/Jobs/{NS}.StartJobs"
        assert_error(
            api.post(
                start,
                {
                    "startInfo": {
                        "ReleaseKey": other.keys["Releases"],
                        "Strategy": "JobsCount",
                        "JobsCount": 1,
                    }
                },
                token=tok,
            ),
            404,
        )
        assert_error(
            api.post(
                start,
                {"startInfo": {"ReleaseName": "Process1", "Strategy": "JobsCount", "JobsCount": 1}},
                folder=other.shared,
                token=tok,
            ),
            400,
        )
        assert_error(
            api.post(
                start,
                {
                    "startInfo": {
                        "ReleaseKey": me.keys["Releases"],
                        "Strategy": "Specific",
                        "RobotIds": [other.ids["Robots"]],
                    }
                },
                token=tok,
            ),
            400,
        )
        assert_error(
            api.post(f"/odata/Jobs/{NS}.StopJobs", {"jobIds": other.jobs[:2], "strategy": "Kill"}, token=tok),
            404,
        )
        assert_error(
            api.post(
                f"/odata/Jobs/{NS}.StopJobs",
                {"jobIds": [me.jobs[0], other.jobs[0]], "strategy": "SoftStop"},
                token=tok,
            ),
            404,
        )
        assert_error(api.post(f"/odata/Jobs({other.jobs[0]})/{NS}.StopJob", {"strategy": 2}, token=tok), 404)
        assert_error(api.post(f"/odata/Jobs/{NS}.RestartJob", {"jobId": other.jobs[2]}, token=tok), 404)
        assert_error(api.post(f"/odata/Jobs/{NS}.ResumeJob", {"jobKey": other.job_keys[0]}, token=tok), 404)
        assert_error(api.get(f"/odata/Jobs/{NS}.GetByKey(identifier={other.job_keys[0]})", token=tok), 404)
        assert_error(api.get(f"/odata/Jobs/{NS}.GetByKey(identifier='{other.job_keys[1]}')", token=tok), 404)
        # the export lists the caller's jobs only, and the other tenant's export cannot be downloaded
        export = api.ok(api.post(f"/odata/Jobs/{NS}.Export", {}, token=tok))
        auth = {"Authorization": f"Bearer {tok}"}
        csv_text = api.client.get(f"/api/Exports/{export['Id']}/Download", headers=auth).text
        lines = csv_text.strip().splitlines()[1:]
        assert sorted(int(line.split(",")[0]) for line in lines) == sorted(me.jobs)
        assert_error(api.client.get(f"/api/Exports/{other.ids['Export']}/Download", headers=auth), 404)
        # drop the export just made so the snapshot compares
        with db.begin() as conn:
            conn.execute(text("delete from exports where id = :i"), {"i": export["Id"]})
    assert snapshot(db) == before


def environment_folder_user_and_role_actions(api: Api, tenants: tuple[Tenant, Tenant], db: Engine) -> None:
    before = snapshot(db)
    for me, other in (tenants, tenants[::-1]):
        tok = me.token
        env, robot = me.ids["Environments"], me.ids["Robots"]
        for action in ("AddRobot", "RemoveRobot"):
            assert_error(
                api.post(
                    f"/odata/Environments({env})/{NS}.{action}", {"robotId": other.ids["Robots"]}, token=tok
                ),
                400,
            )
            assert_error(
                api.post(
                    f"/odata/Environments({other.ids['Environments']})/{NS}.{action}",
                    {"robotId": robot},
                    token=tok,
                ),
                404,
            )
        assert_error(
            api.post(
                f"/odata/Environments({env})/{NS}.SetRobots",
                {"addedRobotIds": [other.ids["Robots"]], "removedRobotIds": []},
                token=tok,
            ),
            400,
        )
        assert_error(
            api.get(
                f"/odata/Environments/{NS}.GetRobotIdsForEnvironment(key={other.ids['Environments']})",
                token=tok,
            ),
            404,
        )
        assert_error(
            api.get(
                f"/odata/Environments/{NS}.GetRobotsForEnvironment(key={other.ids['Environments']})",
                token=tok,
            ),
            404,
        )
        for folder_set in ("Folders", "OrganizationUnits"):
            assert_error(
                api.get(
                    f"/odata/{folder_set}/{NS}.GetByKey(identifier='{other.keys['Folders']}')", token=tok
                ),
                404,
            )
        assert_error(
            api.get(f"/odata/Folders/{NS}.GetByKey(identifier={other.keys['Folders']})", token=tok), 404
        )
        mine = api.ok(api.get(f"/odata/Folders/{NS}.GetByKey(identifier={me.keys['Folders']})", token=tok))
        assert mine["Id"] == me.ids["Folders"]
        assign = f"/odata/Folders/{NS}.AssignUsers"
        assert_error(
            api.post(
                assign,
                {
                    "assignments": {
                        "UserIds": [me.ids["Users"]],
                        "RolesPerFolder": [{"FolderId": other.ids["Folders"], "RoleIds": [me.ids["Roles"]]}],
                    }
                },
                token=tok,
            ),
            400,
        )
        assert_error(
            api.post(
                assign,
                {
                    "assignments": {
                        "UserIds": [other.ids["Users"]],
                        "RolesPerFolder": [{"FolderId": me.ids["Folders"], "RoleIds": [me.ids["Roles"]]}],
                    }
                },
                token=tok,
            ),
            400,
        )
        assert_error(
            api.post(
                assign,
                {
                    "assignments": {
                        "UserIds": [me.ids["Users"]],
                        "RolesPerFolder": [{"FolderId": me.ids["Folders"], "RoleIds": [other.ids["Roles"]]}],
                    }
                },
                token=tok,
            ),
            400,
        )
        assert_error(
            api.post(
                f"/odata/Folders({other.ids['Folders']})/{NS}.RemoveUserFromFolder",
                {"userId": other.ids["Users"]},
                token=tok,
            ),
            400,
        )
        assert_error(
            api.post(
                f"/odata/Users({other.ids['Users']})/{NS}.AssignRoles",
                {"roleIds": [me.ids["Roles"]]},
                token=tok,
            ),
            400,
        )
        assert_error(
            api.post(
                f"/odata/Users({me.ids['Users']})/{NS}.AssignRoles",
                {"roleIds": [other.ids["Roles"]]},
                token=tok,
            ),
            400,
        )
        assert_error(
            api.post(f"/odata/Users({other.ids['Users']})/{NS}.SetActive", {"active": False}, token=tok), 400
        )
        assert_error(
            api.post(
                f"/odata/Users({other.ids['Users']})/{NS}.ToggleRole",
                {"role": "Viewers", "toggle": True},
                token=tok,
            ),
            400,
        )
        assert_error(
            api.post(
                f"/odata/Roles({other.ids['Roles']})/{NS}.SetUsers",
                {"addedUserIds": [me.ids["Users"]]},
                token=tok,
            ),
            400,
        )
        assert_error(
            api.post(
                f"/odata/Roles({me.ids['Roles']})/{NS}.SetUsers",
                {"addedUserIds": [other.ids["Users"]]},
                token=tok,
            ),
            400,
        )
        assert_error(
            api.get(f"/odata/Roles/{NS}.GetUserIdsForRole(key={other.ids['Roles']})", token=tok), 400
        )
        other_folder, other_release = other.ids["Folders"], other.ids["Releases"]
        for url in (  # folder users, job retention and execution media (issue 15)
            f"/odata/Folders/{NS}.GetUsersForFolder(key={other_folder},includeInherited=true)",
            f"/odata/OrganizationUnits/{NS}.GetUserIdsForUnit(key={other_folder})",
            f"/odata/OrganizationUnits/{NS}.GetUsersForUnit(key={other_folder})",
            f"/odata/ReleaseRetention({other_release})",
            f"/odata/ExecutionMedia/{NS}.DownloadMediaByJobId(jobId={other.jobs[0]})",
        ):
            assert_error(api.get(url, token=tok), 404)
        unit_users = {"addedUserIds": [me.ids["Users"]]}
        assert_error(
            api.post(f"/odata/OrganizationUnits({other_folder})/{NS}.SetUsers", unit_users, token=tok), 404
        )
        foreign = {"addedUserIds": [other.ids["Users"]]}
        assert_error(
            api.post(f"/odata/OrganizationUnits({me.ids['Folders']})/{NS}.SetUsers", foreign, token=tok), 400
        )
        domain_user = {"UserName": "alice", "RolesPerFolder": [{"FolderId": other_folder, "RoleIds": []}]}
        assign_domain = f"/odata/Folders/{NS}.AssignDomainUser"
        assert_error(api.post(assign_domain, {"assignment": domain_user}, token=tok), 400)
        policy = {"Action": "None", "Period": 5}
        assert_error(api.put(f"/odata/ReleaseRetention({other_release})", policy, token=tok), 404)
        assert_error(api.delete(f"/odata/ReleaseRetention({other_release})", token=tok), 404)
        media = {"jobId": other.jobs[0]}
        assert_error(api.post(f"/odata/ExecutionMedia/{NS}.DeleteMediaByJobId", media, token=tok), 404)
        assert_error(
            api.client.delete(
                f"/api/PersonalAccessTokens/{other.ids['Token']}", headers={"Authorization": f"Bearer {tok}"}
            ),
            404,
        )
    assert snapshot(db) == before


def licence_and_directory_stay_in_the_tenant(api: Api, tenants: tuple[Tenant, Tenant], db: Engine) -> None:
    """The License area and the directory answer the caller's tenant only: another tenant's machine key
    is not found (nothing toggled), runtimes, named users and searches list the caller's own, and
    units acquired in one tenant are not used in the other."""
    before = snapshot(db)
    for me, other in (tenants, tenants[::-1]):
        tok = me.token
        toggle = {"robotType": "Unattended", "enabled": False}
        url = f"/odata/LicensesRuntime('{other.keys['Machines']}')/{NS}.ToggleEnabled"
        assert_error(api.post(url, toggle, token=tok), 404)
        runtime = api.ok(
            api.get(f"/odata/LicensesRuntime/{NS}.GetLicensesRuntime(robotType='Unattended')", token=tok)
        )
        assert [r["Key"] for r in runtime["value"]] == [me.keys["Machines"]]
        named = api.ok(
            api.get(f"/odata/LicensesNamedUser/{NS}.GetLicensesNamedUser(robotType='Unattended')", token=tok)
        )
        assert len(named["value"]) == 1 and named["value"][0]["MachineNames"] == ["Machine1"]
        found = api.ok(api.get("/api/DirectoryService/SearchForUsersAndGroups?prefix=ali", token=tok))
        assert [f["identifier"] for f in found] == [me.keys["Users"]]
        assert_error(
            api.get(f"/odata/HostLicenses/{NS}.GetTenantLicense(tenantId={other.tenant_id})", token=tok), 403
        )
    assert snapshot(db) == before
    me, other = tenants
    unit = {"reference": "isolation", "type": "Unattended", "count": 1}
    headers = {"Authorization": f"Bearer {me.token}"}
    assert api.ok(api.client.post("/api/Licensing/Acquire", json=unit, headers=headers))["isSuccess"] is True
    used = [
        api.ok(api.get(f"/odata/Settings/{NS}.GetLicense", token=t.token))["Used"]["Unattended"]
        for t in tenants
    ]
    assert used == [1, 0]
    assert api.ok(api.client.put("/api/Licensing/Release", json=unit, headers=headers))["isSuccess"] is True


def folder_headers_naming_the_other_tenants_folder(
    api: Api, tenants: tuple[Tenant, Tenant], db: Engine
) -> None:
    before = snapshot(db)
    for me, other in (tenants, tenants[::-1]):
        auth = {"Authorization": f"Bearer {me.token}"}
        headers = [
            {"X-UIPATH-FolderKey": other.keys["Folders"]},
            {"X-UIPATH-FolderKey": other.keys["Child"]},
            {"X-UIPATH-OrganizationUnitId": str(other.shared)},
            {"X-UIPATH-OrganizationUnitId": str(other.ids["Child"])},
            {"X-UIPATH-FolderPath": other.keys["ChildPath"]},
            {"X-UIPATH-FolderPath-Encoded": encoded(other.keys["ChildPath"])},
        ]
        for header in headers:
            for method, url, body in (
                ("GET", "/odata/Jobs", None),
                ("GET", "/odata/Releases", None),
                ("GET", "/odata/Robots", None),
                ("POST", "/odata/Releases", {"Name": "Leak", "ProcessKey": "Leak"}),
                ("POST", "/odata/Environments", {"Name": "Leak"}),
                ("POST", f"/odata/Jobs/{NS}.StartJobs", {"startInfo": {"ReleaseName": "Process1"}}),
            ):
                response = api.client.request(method, url, json=body, headers={**auth, **header})
                assert assert_error(response, 400)["errorCode"] == 1100, (header, url)
        # the same path names the caller's own folder: it resolves to it
        mine = api.client.get("/odata/Releases", headers={**auth, "X-UIPATH-FolderPath": "Shared"})
        assert ids_of(api.ok(mine)) == {me.ids["Releases"]}
    assert snapshot(db) == before


def token_is_refused_on_the_other_tenants_url(api: Api, tenants: tuple[Tenant, Tenant], service: str) -> None:
    a, b = tenants
    for me, other in ((a, b), (b, a)):
        auth = {"Authorization": f"Bearer {me.token}"}
        body = assert_error(api.client.get(f"/podium/{other.name}/{service}/Jobs", headers=auth), 401)
        assert "Robot1" not in str(body)
        assert_error(
            api.client.get(f"/podium/{other.name}/{service}/Jobs({other.jobs[0]})", headers=auth), 401
        )
        assert_error(
            api.client.post(
                f"/podium/{other.name}/{service}/Jobs/{NS}.StopJobs",
                json={"jobIds": other.jobs, "strategy": "Kill"},
                headers=auth,
            ),
            401,
        )
        own = api.ok(api.client.get(f"/podium/{me.name}/{service}/Jobs", headers=auth))
        assert ids_of(own) == set(me.jobs)
        assert own["@odata.context"].startswith(f"http://testserver/podium/{me.name}/")


def logins_and_tokens_belong_to_one_tenant(api: Api, tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    # alice has another password in each tenant: each works in its own tenant only
    assert login(api, "Other", "alice", "alice-other-1")
    assert login(api, "Default", "alice", "alice-default-1")
    for tenant, password in (("Other", "alice-default-1"), ("Default", "alice-other-1")):
        response = api.client.post(
            "/api/Account/Authenticate",
            json={"tenancyName": tenant, "usernameOrEmailAddress": "alice", "password": password},
        )
        assert_error(response, 400)
    token = api.client.post(
        "/identity_/connect/token",
        data={"grant_type": "password", "username": "admin", "password": ADMIN_PASSWORD, "tenant": "Other"},
    )
    other_token = api.ok(token)["access_token"]
    body = api.ok(api.get("/odata/Jobs", token=other_token))
    assert ids_of(body) == set(b.jobs)
    # a personal access token of one tenant sees that tenant only
    body = api.ok(api.get("/odata/Machines", token=a.keys["Token"]))
    assert ids_of(body) == {a.ids["Machines"]}
    assert_error(
        api.client.get(
            "/podium/Other/orchestrator_/odata/Machines",
            headers={"Authorization": f"Bearer {a.keys['Token']}"},
        ),
        401,
    )
    assert uuid.UUID(a.keys["Releases"]) != uuid.UUID(b.keys["Releases"])


# Each test builds both tenants once and runs several groups of checks over them (building is the
# costly part: two tenants, password hashes, a dozen writes each).


def test_reads_and_writes_stay_in_the_tenant(api: Api, tenants: tuple[Tenant, Tenant], db: Engine) -> None:
    each_tenant_lists_only_its_rows(api, tenants, db)
    expansions_and_folder_lists_stay_in_the_tenant(api, tenants, db)
    other_tenants_ids_are_not_found(api, tenants, db)
    writes_cannot_point_at_the_other_tenant(api, tenants, db)


def test_actions_and_folder_headers_stay_in_the_tenant(
    api: Api, tenants: tuple[Tenant, Tenant], db: Engine
) -> None:
    job_actions_do_not_reach_the_other_tenant(api, tenants, db)
    environment_folder_user_and_role_actions(api, tenants, db)
    folder_headers_naming_the_other_tenants_folder(api, tenants, db)
    licence_and_directory_stay_in_the_tenant(api, tenants, db)


def test_tokens_and_urls_stay_in_the_tenant(api: Api, tenants: tuple[Tenant, Tenant]) -> None:
    for service in ("orchestrator_/odata", "odata"):
        token_is_refused_on_the_other_tenants_url(api, tenants, service)
    logins_and_tokens_belong_to_one_tenant(api, tenants)
