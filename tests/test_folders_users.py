"""Folders, users, roles, tokens and the Jobs actions, through the API.

Folders: create, nest, list, GetByKey, rename (children follow), delete rules, and the four folder
headers naming the same folder. Users and roles: CRUD, hashed passwords, tenant roles (AssignRoles)
and folder roles (AssignUsers) deciding what a user sees, the current user and its permissions.
Tokens: personal access tokens and their revocation, the OAuth2 password grant. Jobs: StopJob,
RestartJob, ResumeJob, GetByKey, Export, the StartJobs strategies and the state machine.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from podium.domain.enums import JobState
from tests.factories import release, role_id, user
from tests.support import ADMIN_PASSWORD, Api, assert_error, encoded

NS = "UiPath.Server.Configuration.OData"
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


def folder(api: Api, name: str, parent: int | None = None, **values: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"DisplayName": name, **values}
    if parent is not None:
        body["ParentId"] = parent
    created: dict[str, Any] = api.ok(api.post("/odata/Folders", body), 201)
    return created


def start(
    api: Api, release_key: str, token: str | None = None, folder: int | None = None, **info: Any
) -> list[dict[str, Any]]:
    response = api.post(
        f"/odata/Jobs/{NS}.StartJobs",
        {"startInfo": {"ReleaseKey": release_key, **info}},
        folder=folder,
        token=token,
    )
    jobs: list[dict[str, Any]] = api.ok(response)["value"]
    return jobs


def set_state(db: Engine, job_id: int, state: JobState) -> None:
    """Stands in for a robot moving the job (the robot protocol is another area)."""
    with db.begin() as conn:
        conn.execute(text("update jobs set state = :s where id = :i"), {"s": int(state), "i": job_id})


def ids(body: dict[str, Any]) -> list[int]:
    return [row["Id"] for row in body["value"]]


# -- folders ---------------------------------------------------------------------------------------------


def test_folders_create_nest_list_and_get_by_key(api: Api) -> None:
    parent = folder(api, "Parent", Description="top")
    child = folder(api, "Child", parent["Id"])
    grand = folder(api, "Grand", child["Id"])
    assert (parent["FullyQualifiedName"], parent["ParentId"], parent["Description"]) == (
        "Parent",
        None,
        "top",
    )
    assert (child["FullyQualifiedName"], child["ParentId"], child["DisplayName"]) == (
        "Parent/Child",
        parent["Id"],
        "Child",
    )
    assert grand["FullyQualifiedName"] == "Parent/Child/Grand"
    assert uuid.UUID(parent["Key"]) and parent["Key"] != child["Key"]
    assert_error(api.post("/odata/Folders", {"DisplayName": "Child", "ParentId": parent["Id"]}), 409)
    other = folder(api, "Child")  # the same name under another parent (here: the root) is another folder
    assert other["FullyQualifiedName"] == "Child"

    body = api.ok(api.get("/odata/Folders?$orderby=FullyQualifiedName&$select=Id,FullyQualifiedName"))
    assert [f["FullyQualifiedName"] for f in body["value"]] == [
        "Child",
        "Parent",
        "Parent/Child",
        "Parent/Child/Grand",
        "Shared",
    ]
    assert body["@odata.count"] == 5 and set(body["value"][0]) == {"Id", "FullyQualifiedName"}
    assert ids(api.ok(api.get(f"/odata/Folders?$filter=ParentId eq {parent['Id']}"))) == [child["Id"]]
    units = api.ok(api.get("/odata/OrganizationUnits?$orderby=Id"))
    assert ids(units) == sorted(f["Id"] for f in body["value"])
    assert units["@odata.context"].endswith("$metadata#OrganizationUnits")

    got = api.ok(api.get(f"/odata/Folders({child['Id']})?$expand=Parent"))
    assert got["FullyQualifiedName"] == "Parent/Child" and got["Parent"]["Id"] == parent["Id"]
    for identifier in (child["Key"], f"'{child['Key']}'", child["Key"].upper()):
        by_key = api.ok(api.get(f"/odata/Folders/{NS}.GetByKey(identifier={identifier})"))
        assert by_key["Id"] == child["Id"] and by_key["@odata.context"].endswith("$metadata#Folders/$entity")
    assert_error(api.get(f"/odata/Folders/{NS}.GetByKey(identifier={uuid.uuid4()})"), 404)

    navigation = api.ok(
        api.client.get("/api/FoldersNavigation/GetAllFoldersForCurrentUser", headers=api.headers())
    )
    by_name = {f["FullyQualifiedName"]: f for f in navigation}
    assert by_name["Parent"]["HasChildren"] and not by_name["Parent/Child/Grand"]["HasChildren"]
    assert by_name["Parent/Child/Grand"]["Level"] == 2
    paged = api.ok(
        api.client.get(
            "/api/FoldersNavigation/GetFoldersForCurrentUser?take=2&skip=1&searchText=Child",
            headers=api.headers(),
        )
    )
    assert paged["Count"] == 2  # "Child" and "Parent/Child", ordered by path; the page skips the first
    assert [f["FullyQualifiedName"] for f in paged["PageItems"]] == ["Parent/Child"]


def test_folder_rename_propagates_to_children_only(api: Api) -> None:
    parent = folder(api, "Parent")
    child = folder(api, "Child", parent["Id"])
    grand = folder(api, "Grand", child["Id"])
    # names that are LIKE patterns of each other, and names differing only in case
    underscore, lookalike = folder(api, "A_B"), folder(api, "AxB")
    kid_a, kid_x = folder(api, "Kid", underscore["Id"]), folder(api, "Kid", lookalike["Id"])
    team, loud = folder(api, "Team"), folder(api, "TEAM")
    sub_team, sub_loud = folder(api, "Sub", team["Id"]), folder(api, "Sub", loud["Id"])

    # the old path is looked up (and remembered by this process) before the rename
    assert api.ok(api.get("/odata/Releases", folder="Parent/Child/Grand"))["value"] == []
    renamed = api.ok(api.put(f"/odata/Folders({parent['Id']})", {"DisplayName": "Moved"}))
    assert renamed["FullyQualifiedName"] == "Moved"
    api.ok(api.put(f"/odata/Folders({child['Id']})", {"DisplayName": "Kept"}))
    api.ok(api.put(f"/odata/Folders({underscore['Id']})", {"DisplayName": "Renamed"}))
    api.ok(api.put(f"/odata/Folders({team['Id']})", {"DisplayName": "Crew"}))

    def name(f: dict[str, Any]) -> str:
        value: str = api.ok(api.get(f"/odata/Folders({f['Id']})"))["FullyQualifiedName"]
        return value

    assert [name(f) for f in (parent, child, grand)] == ["Moved", "Moved/Kept", "Moved/Kept/Grand"]
    assert [name(f) for f in (underscore, kid_a, lookalike, kid_x)] == [
        "Renamed",
        "Renamed/Kid",
        "AxB",
        "AxB/Kid",
    ]
    assert [name(f) for f in (team, sub_team, loud, sub_loud)] == ["Crew", "Crew/Sub", "TEAM", "TEAM/Sub"]
    # the folder headers follow the new names
    releases = api.ok(api.get("/odata/Releases", folder="Moved/Kept/Grand"))
    assert releases["value"] == []
    assert assert_error(api.get("/odata/Releases", folder="Parent/Child/Grand"), 400)["errorCode"] == 1100
    # the parent is changed by moving, not by editing; a rename onto a sibling's name is a conflict
    assert_error(api.put(f"/odata/Folders({grand['Id']})", {"DisplayName": "Grand", "ParentId": None}), 400)
    assert_error(api.put(f"/odata/Folders({lookalike['Id']})", {"DisplayName": "Renamed"}), 409)
    assert name(lookalike) == "AxB"


def test_folder_delete_is_refused_while_it_holds_anything(api: Api, db: Engine) -> None:
    parent = folder(api, "Parent")
    child = folder(api, "Child", parent["Id"])
    process = release(api, child["Id"], "Proc")
    envs = folder(api, "Envs")
    api.ok(api.post("/odata/Environments", {"Name": "E"}, folder=envs["Id"]), 201)
    underscore, lookalike = folder(api, "A_B"), folder(api, "AxB")
    folder(api, "Kid", lookalike["Id"])

    assert_error(api.delete(f"/odata/Folders({parent['Id']})"), 409)  # a subfolder
    assert_error(api.delete(f"/odata/Folders({child['Id']})"), 409)  # a release
    assert_error(api.delete(f"/odata/Folders({envs['Id']})"), 409)  # an environment
    assert_error(api.delete(f"/odata/OrganizationUnits({child['Id']})"), 409)
    with db.connect() as conn:
        assert conn.execute(text("select count(*) from folders")).scalar_one() == 7  # Shared and six

    api.ok(api.delete(f"/odata/Releases({process['Id']})", folder=child["Id"]), 204)
    api.ok(api.delete(f"/odata/Folders({child['Id']})"), 204)
    api.ok(api.delete(f"/odata/Folders({parent['Id']})"), 204)
    assert_error(api.get(f"/odata/Folders({parent['Id']})"), 404)
    assert_error(api.get("/odata/Releases", folder="Parent"), 400)
    # "AxB/Kid" is not a subfolder of "A_B"
    api.ok(api.delete(f"/odata/Folders({underscore['Id']})"), 204)
    # a folder with users assigned goes, and so do its assignments
    staffed = folder(api, "Staffed")
    member = user(api, "member")
    api.ok(
        api.post(
            f"/odata/Folders/{NS}.AssignUsers",
            {
                "assignments": {
                    "UserIds": [member],
                    "RolesPerFolder": [
                        {"FolderId": staffed["Id"], "RoleIds": [role_id(api, "Automation User")]}
                    ],
                }
            },
        ),
        204,
    )
    api.ok(api.delete(f"/odata/Folders({staffed['Id']})"), 204)
    with db.connect() as conn:
        assert (
            conn.execute(
                text("select count(*) from user_roles where user_id = :u"), {"u": member}
            ).scalar_one()
            == 0
        )


def test_folder_headers_name_the_same_folder(api: Api) -> None:
    top = folder(api, "Fin")
    ops = folder(api, "Ops", top["Id"])
    umlaut = folder(api, "Über Ordner", top["Id"])
    in_shared = release(api, api.tenant.shared_folder_id, "SharedProc")
    in_top, in_ops, in_umlaut = (
        release(api, top["Id"], "TopProc"),
        release(api, ops["Id"], "OpsProc"),
        release(api, umlaut["Id"], "UmlautProc"),
    )
    for target, expected in ((ops, in_ops), (umlaut, in_umlaut), (top, in_top)):
        path = target["FullyQualifiedName"]
        variants = [
            {"X-UIPATH-OrganizationUnitId": str(target["Id"])},
            {"X-UIPATH-FolderPath-Encoded": encoded(path)},
            {"X-UIPATH-FolderPath-Encoded": encoded("/" + path)},
            {"X-UIPATH-FolderKey": target["Key"]},
            {"X-UIPATH-FolderKey": target["Key"].upper()},
        ]
        if path.isascii():  # a plain header carries ASCII only: hence the encoded variant
            variants += [{"X-UIPATH-FolderPath": path}, {"X-UIPATH-FolderPath": "/" + path}]
        for header in variants:
            headers = {**api.headers(), **header}
            body = api.ok(api.client.get("/odata/Releases", headers=headers))
            assert ids(body) == [expected["Id"]], header
            if target is ops:  # a folder-scoped create lands in the folder the header names
                created = api.ok(
                    api.client.post("/odata/Environments", json={"Name": "E"}, headers=headers), 201
                )
                assert ids(api.ok(api.client.get("/odata/Environments", headers=headers))) == [created["Id"]]
                api.ok(api.client.delete(f"/odata/Environments({created['Id']})", headers=headers), 204)
    # without a header every folder's releases are listed; the key header wins over the id header
    assert sorted(ids(api.ok(api.get("/odata/Releases")))) == sorted(
        r["Id"] for r in (in_shared, in_top, in_ops, in_umlaut)
    )
    both = {**api.headers(), "X-UIPATH-FolderKey": ops["Key"], "X-UIPATH-OrganizationUnitId": str(top["Id"])}
    assert ids(api.ok(api.client.get("/odata/Releases", headers=both))) == [in_ops["Id"]]


# -- users, roles, permissions -------------------------------------------------------------------------------


def test_users_crud_with_hashed_passwords(api: Api, db: Engine) -> None:
    created = api.ok(
        api.post(
            "/odata/Users",
            {
                "UserName": "bob",
                "Name": "Bob",
                "Surname": "Builder",
                "EmailAddress": "bob@example.com",
                "Password": "bob-password-1",
            },
        ),
        201,
    )
    assert (created["UserName"], created["Name"], created["EmailAddress"], created["IsActive"]) == (
        "bob",
        "Bob",
        "bob@example.com",
        True,
    )
    assert created["Password"] is None and "PasswordHash" not in created
    assert created["TenantId"] == api.tenant.tenant_id and created["Type"] == "User"
    with db.connect() as conn:
        stored = conn.execute(
            text("select password_hash from users where id = :i"), {"i": created["Id"]}
        ).scalar_one()
    assert stored != "bob-password-1" and "bob-password-1" not in stored and stored.startswith("$argon2")
    assert api.login("bob", "bob-password-1") and api.login("bob@example.com", "bob-password-1")
    assert api.login("BOB", "bob-password-1")
    assert_error(
        api.client.post(
            "/api/Account/Authenticate",
            json={"tenancyName": "Default", "usernameOrEmailAddress": "bob", "password": "bob-password-2"},
        ),
        400,
    )
    assert_error(api.post("/odata/Users", {"UserName": "bob", "Password": "another-password"}), 409)

    assert ids(api.ok(api.get("/odata/Users?$filter=UserName eq 'bob'"))) == [created["Id"]]
    updated = api.ok(api.put(f"/odata/Users({created['Id']})", {"Name": "Robert"}))
    assert (updated["Name"], updated["Surname"]) == ("Robert", "Builder")
    api.ok(api.put(f"/odata/Users({created['Id']})", {"Password": "bob-password-2"}))
    assert api.login("bob", "bob-password-2")
    assert_error(
        api.client.post(
            "/api/Account/Authenticate",
            json={"tenancyName": "Default", "usernameOrEmailAddress": "bob", "password": "bob-password-1"},
        ),
        400,
    )

    # deactivating or deleting a user ends its sessions at once
    token = api.login("bob", "bob-password-2")
    assert api.ok(api.get(f"/odata/Users/{NS}.GetCurrentUser", token=token))["UserName"] == "bob"
    api.ok(api.put(f"/odata/Users({created['Id']})", {"IsActive": False}))
    assert_error(api.get(f"/odata/Users/{NS}.GetCurrentUser", token=token), 401)
    assert_error(
        api.client.post(
            "/api/Account/Authenticate",
            json={"tenancyName": "Default", "usernameOrEmailAddress": "bob", "password": "bob-password-2"},
        ),
        400,
    )
    api.ok(api.put(f"/odata/Users({created['Id']})", {"IsActive": True}))
    token = api.login("bob", "bob-password-2")
    api.ok(api.get(f"/odata/Users/{NS}.GetCurrentUser", token=token))
    api.ok(api.delete(f"/odata/Users({created['Id']})"), 204)
    assert_error(api.get(f"/odata/Users/{NS}.GetCurrentUser", token=token), 401)
    assert_error(api.get(f"/odata/Users({created['Id']})"), 404)


def test_roles_crud_with_permissions(api: Api) -> None:
    created = api.ok(
        api.post(
            "/odata/Roles",
            {
                "Name": "Auditor",
                "DisplayName": "Auditors",
                "Type": "Tenant",
                "Permissions": [{"Name": "Jobs.View"}, {"Name": "Robots.View", "IsGranted": True}],
            },
        ),
        201,
    )
    assert (created["Name"], created["DisplayName"], created["Type"]) == ("Auditor", "Auditors", "Tenant")
    assert created["IsStatic"] is False

    def granted(role: int) -> set[str]:
        body = api.ok(api.get(f"/odata/Roles({role})?$expand=Permissions"))
        return {p["Name"] for p in body["Permissions"] if p["IsGranted"]}

    assert granted(created["Id"]) == {"Jobs.View", "Robots.View"}
    listed = api.ok(api.get(f"/odata/RolePermissions?$filter=RoleId eq {created['Id']}&$orderby=Name"))
    assert [p["Name"] for p in listed["value"]] == ["Jobs.View", "Robots.View"]
    api.ok(
        api.put(
            f"/odata/Roles({created['Id']})",
            {"Name": "Auditor", "Permissions": [{"Name": "Jobs.View"}, {"Name": "Machines.View"}]},
        )
    )
    assert granted(created["Id"]) == {"Jobs.View", "Machines.View"}
    api.ok(api.put(f"/odata/Roles({created['Id']})", {"DisplayName": "Renamed"}))  # permissions kept
    assert granted(created["Id"]) == {"Jobs.View", "Machines.View"}
    assert_error(api.post("/odata/Roles", {"Name": "Auditor"}), 409)
    assert_error(api.post("/odata/Roles", {"Name": "Bad", "Permissions": [{"Name": "Jobs.Fly"}]}), 400)

    # a role's permissions decide what its users may do, as soon as they change
    auditor = user(api, "auditor")
    api.ok(api.post(f"/odata/Users({auditor})/{NS}.AssignRoles", {"roleIds": [created["Id"]]}), 204)
    token = api.login("auditor", "auditor-password")
    api.ok(api.get("/odata/Machines", token=token))
    assert_error(api.get("/odata/Robots", token=token), 403)
    api.ok(api.put(f"/odata/Roles({created['Id']})", {"Permissions": [{"Name": "Robots.View"}]}))
    api.ok(api.get("/odata/Robots", token=token))
    assert_error(api.get("/odata/Machines", token=token), 403)
    api.ok(api.delete(f"/odata/Roles({created['Id']})"), 204)
    assert_error(api.get("/odata/Robots", token=token), 403)
    assert_error(api.get(f"/odata/Roles({created['Id']})"), 404)

    administrator = role_id(api, "Administrator")
    assert_error(api.delete(f"/odata/Roles({administrator})"), 400)
    assert_error(api.put(f"/odata/Roles({administrator})", {"Permissions": []}), 400)
    assert len(granted(administrator)) == len(api.ok(api.get("/odata/Permissions"))["value"])


def test_role_users_toggle_and_refused_assignments_write_nothing(api: Api) -> None:
    dave, erin = user(api, "dave"), user(api, "erin")
    robot_role, automation = role_id(api, "Robot"), role_id(api, "Automation User")

    def holders(role: int) -> list[int]:
        found: list[int] = api.ok(api.get(f"/odata/Roles/{NS}.GetUserIdsForRole(key={role})"))["value"]
        return found

    api.ok(api.post(f"/odata/Roles({robot_role})/{NS}.SetUsers", {"addedUserIds": [dave, erin, dave]}), 204)
    assert holders(robot_role) == sorted([dave, erin])
    api.ok(api.post(f"/odata/Roles({robot_role})/{NS}.SetUsers", {"removedUserIds": [erin]}), 204)
    assert holders(robot_role) == [dave]
    api.ok(api.post(f"/odata/Users({erin})/{NS}.ToggleRole", {"role": "Robot", "toggle": True}), 204)
    api.ok(api.post(f"/odata/Users({dave})/{NS}.ToggleRole", {"role": "Robot", "toggle": False}), 204)
    assert holders(robot_role) == [erin]

    # a refused request changes nothing: no roleIds is not "no roles", an unknown id stops the whole list
    refused: list[tuple[str, dict[str, Any]]] = [
        (f"Users({erin})/{NS}.AssignRoles", {}),
        (f"Users({erin})/{NS}.AssignRoles", {"roleIds": [automation, 987654]}),
        (f"Users({erin})/{NS}.AssignRoles", {"roleIds": [0]}),
        (f"Users({erin})/{NS}.ToggleRole", {"role": "", "toggle": False}),
        (f"Users({erin})/{NS}.ToggleRole", {"role": "Nope", "toggle": False}),
        (f"Roles({robot_role})/{NS}.SetUsers", {"removedUserIds": [erin, 987654]}),
        (f"Roles({robot_role})/{NS}.SetUsers", {"addedUserIds": [dave], "removedUserIds": [-1]}),
        (f"Roles(987654)/{NS}.SetUsers", {"addedUserIds": [dave]}),
        (f"Users({erin})/{NS}.SetActive", {"active": 0}),
        (
            f"Folders/{NS}.AssignUsers",
            {
                "assignments": {
                    "UserIds": [dave],
                    "RolesPerFolder": [
                        {"FolderId": api.tenant.shared_folder_id, "RoleIds": [automation]},
                        {"FolderId": api.tenant.shared_folder_id, "RoleIds": [987654]},
                    ],
                }
            },
        ),
        (f"Folders/{NS}.AssignUsers", {"assignments": {"UserIds": [dave], "RolesPerFolder": [5]}}),
        (f"Folders({api.tenant.shared_folder_id})/{NS}.RemoveUserFromFolder", {"userId": 0}),
    ]
    for path, body in refused:
        assert_error(api.post(f"/odata/{path}", body), 400)
    assert holders(robot_role) == [erin] and holders(automation) == []
    assert_error(api.get(f"/odata/Roles/{NS}.GetUserIdsForRole(key=987654)"), 400)
    assert api.ok(api.get(f"/odata/Users({erin})"))["IsActive"] is True


def test_assign_roles_and_folder_roles_decide_what_a_user_sees(api: Api, db: Engine) -> None:
    shared = api.tenant.shared_folder_id
    fin = folder(api, "Fin")
    ops = folder(api, "Ops", fin["Id"])
    shared_release, fin_release, ops_release = (
        release(api, shared, "SharedProc"),
        release(api, fin["Id"], "FinProc"),
        release(api, ops["Id"], "OpsProc"),
    )
    shared_jobs = start(api, shared_release["Key"], Strategy="JobsCount", JobsCount=2)
    fin_jobs = start(api, fin_release["Key"], Strategy="JobsCount", JobsCount=1)
    ops_jobs = start(api, ops_release["Key"], Strategy="JobsCount", JobsCount=1)
    # "FIN/Ops" is not below "Fin" (folder paths are case-sensitive, also on SQLite)
    loud_ops = folder(api, "Ops", folder(api, "FIN")["Id"])
    loud_jobs = start(api, release(api, loud_ops["Id"], "LoudProc")["Key"], Strategy="JobsCount", JobsCount=1)
    every = {j["Id"] for j in shared_jobs + fin_jobs + ops_jobs + loud_jobs}

    carol = user(api, "carol")
    token = api.login("carol", "carol-password")
    assert_error(api.get("/odata/Jobs", token=token), 403)  # no role yet (and the principal is now cached)

    # tenant roles: AssignRoles sets them, the user sees every folder's jobs
    viewer = api.ok(
        api.post("/odata/Roles", {"Name": "JobViewer", "Permissions": [{"Name": "Jobs.View"}]}), 201
    )["Id"]
    api.ok(api.post(f"/odata/Users({carol})/{NS}.AssignRoles", {"roleIds": [viewer]}), 204)
    assert set(ids(api.ok(api.get("/odata/Jobs", token=token)))) == every
    api.ok(api.post(f"/odata/Users({carol})/{NS}.AssignRoles", {"roleIds": []}), 204)
    assert_error(api.get("/odata/Jobs", token=token), 403)

    # folder roles: Automation User in Fin reaches Fin and Ops, nothing else
    api.ok(
        api.post(
            f"/odata/Folders/{NS}.AssignUsers",
            {
                "assignments": {
                    "UserIds": [carol],
                    "RolesPerFolder": [{"FolderId": fin["Id"], "RoleIds": [role_id(api, "Automation User")]}],
                }
            },
        ),
        204,
    )
    body = api.ok(api.get("/odata/Jobs?$count=true", token=token))
    assert set(ids(body)) == {j["Id"] for j in fin_jobs + ops_jobs} and body["@odata.count"] == 2
    assert ids(api.ok(api.get("/odata/Jobs", folder=ops["Id"], token=token))) == [ops_jobs[0]["Id"]]
    assert_error(api.get("/odata/Jobs", folder=shared, token=token), 403)
    assert_error(api.get("/odata/Jobs", folder="Shared", token=token), 403)
    assert_error(api.get(f"/odata/Jobs({shared_jobs[0]['Id']})", token=token), 404)
    api.ok(api.get(f"/odata/Jobs({fin_jobs[0]['Id']})", token=token))
    assert_error(api.get("/odata/Machines", token=token), 403)
    assert_error(api.get("/odata/Users", token=token), 403)
    navigation = api.client.get(
        "/api/FoldersNavigation/GetAllFoldersForCurrentUser", headers=api.headers(token=token)
    )
    assert sorted(f["FullyQualifiedName"] for f in api.ok(navigation)) == ["Fin", "Fin/Ops"]
    assert_error(api.get(f"/odata/Jobs({loud_jobs[0]['Id']})", token=token), 404)
    assert_error(api.get("/odata/Jobs", folder=loud_ops["Id"], token=token), 403)
    # it may start and stop jobs in its folders only
    started = start(api, fin_release["Key"], token=token, Strategy="JobsCount", JobsCount=1)
    assert started[0]["OrganizationUnitId"] == fin["Id"]
    assert_error(
        api.post(
            f"/odata/Jobs/{NS}.StartJobs", {"startInfo": {"ReleaseKey": shared_release["Key"]}}, token=token
        ),
        404,
    )
    assert_error(
        api.post(
            f"/odata/Jobs/{NS}.StopJobs", {"jobIds": [shared_jobs[0]["Id"]], "strategy": 2}, token=token
        ),
        403,
    )
    api.ok(
        api.post(f"/odata/Jobs/{NS}.StopJobs", {"jobIds": [fin_jobs[0]["Id"]], "strategy": 2}, token=token)
    )
    with db.connect() as conn:
        state = conn.execute(
            text("select state from jobs where id = :i"), {"i": shared_jobs[0]["Id"]}
        ).scalar_one()
    assert state == int(JobState.Pending)

    # removed from the folder: nothing again
    api.ok(api.post(f"/odata/Folders({fin['Id']})/{NS}.RemoveUserFromFolder", {"userId": carol}), 204)
    assert_error(api.get("/odata/Jobs", token=token), 403)


def test_current_user_and_permissions(api: Api) -> None:
    me = api.ok(api.get(f"/odata/Users/{NS}.GetCurrentUser"))
    assert (me["Id"], me["UserName"], me["TenantId"]) == (
        api.tenant.admin_user_id,
        "admin",
        api.tenant.tenant_id,
    )
    assert me["@odata.context"].endswith("$metadata#Users/$entity") and me["Password"] is None
    extended = api.ok(api.get(f"/odata/Users/{NS}.GetCurrentUserExtended"))
    assert (
        extended["Id"] == me["Id"]
        and "PersonalWorkspace" in extended
        and "MayHavePersonalWorkspace" in extended
    )
    picked = api.ok(api.get(f"/odata/Users/{NS}.GetCurrentUser?$select=UserName"))
    assert picked["UserName"] == "admin" and "Name" not in picked

    permissions = api.ok(api.get("/odata/Permissions"))
    assert permissions["value"] and all(p["IsGranted"] for p in permissions["value"])
    names = {p["Name"] for p in permissions["value"]}
    assert {"Jobs.View", "Jobs.Create", "Jobs.Edit", "Robots.View", "Folders.Delete"} <= names

    dave = user(api, "dave")
    api.ok(
        api.post(
            f"/odata/Folders/{NS}.AssignUsers",
            {
                "assignments": {
                    "UserIds": [dave],
                    "RolesPerFolder": [
                        {
                            "FolderId": api.tenant.shared_folder_id,
                            "RoleIds": [role_id(api, "Automation User")],
                        }
                    ],
                }
            },
        ),
        204,
    )
    token = api.login("dave", "dave-password")
    assert api.ok(api.get(f"/odata/Users/{NS}.GetCurrentUser", token=token))["UserName"] == "dave"
    assert api.ok(api.get(f"/odata/Users/{NS}.GetCurrentUserExtended", token=token))["Id"] == dave
    mine = {p["Name"]: p for p in api.ok(api.get("/odata/Permissions", token=token))["value"]}
    assert mine["Jobs.View"]["IsGranted"] and mine["Jobs.View"]["Scope"] == "Folder"
    assert not mine["Machines.View"]["IsGranted"] and not mine["Users.Edit"]["IsGranted"]
    jobs_granted = {
        "$filter": "IsGranted and startswith(Name,'Jobs.')",
        "$select": "Name,Scope",
        "$orderby": "Name",
    }
    answer = api.ok(api.get("/odata/Permissions", token=token, params=jobs_granted))
    assert answer["value"] == [
        {"Name": name, "Scope": "Folder"}
        for name in sorted(n for n in mine if n.startswith("Jobs.") and mine[n]["IsGranted"])
    ]
    assert answer["@odata.count"] == len(answer["value"]) > 0
    assert_error(api.get("/odata/Permissions", params={"$filter": "Granted eq true"}), 400)
    assert_error(api.get(f"/odata/Users/{NS}.GetCurrentUser", token="nope"), 401)


# -- tokens ----------------------------------------------------------------------------------------------


def test_personal_access_tokens(api: Api, db: Engine) -> None:
    response = api.client.post(
        "/api/PersonalAccessTokens", json={"Name": "ci", "ExpiresInDays": 30}, headers=api.headers()
    )
    created = api.ok(response, 201)
    secret = created["Token"]
    assert secret.startswith("pat_") and created["Name"] == "ci" and created["ExpiresAt"]
    with db.connect() as conn:
        stored = conn.execute(
            text("select token_hash from access_tokens where id = :i"), {"i": created["Id"]}
        )
        assert secret not in stored.scalar_one()
    me = api.ok(api.get(f"/odata/Users/{NS}.GetCurrentUser", token=secret))
    assert me["UserName"] == "admin"
    api.ok(api.get("/odata/Jobs", token=secret))
    api.ok(api.get("/podium/Default/orchestrator_/odata/Jobs", token=secret))
    # another user cannot revoke it
    user(api, "eve")
    eve = api.login("eve", "eve-password")
    assert_error(
        api.client.delete(f"/api/PersonalAccessTokens/{created['Id']}", headers=api.headers(token=eve)), 404
    )
    api.ok(api.get("/odata/Jobs", token=secret))
    # revoked: refused at once (the principal cache is cleared); revoking again changes nothing
    api.ok(api.client.delete(f"/api/PersonalAccessTokens/{created['Id']}", headers=api.headers()), 204)
    assert_error(api.get("/odata/Jobs", token=secret), 401)
    again = api.client.delete(f"/api/PersonalAccessTokens/{created['Id']}", headers=api.headers())
    assert again.status_code in (204, 404), again.text
    assert_error(api.get("/odata/Jobs", token=secret), 401)
    # an expired token is refused too
    expiring = api.ok(
        api.client.post(
            "/api/PersonalAccessTokens", json={"Name": "old", "ExpiresInDays": 1}, headers=api.headers()
        ),
        201,
    )
    with db.begin() as conn:
        conn.execute(
            text("update access_tokens set expires_at = :t where id = :i"),
            {"t": "2000-01-01 00:00:00", "i": expiring["Id"]},
        )
    assert_error(api.get("/odata/Jobs", token=expiring["Token"]), 401)
    assert_error(api.get("/odata/Jobs", token=secret + "x"), 401)


def test_oauth_password_grant(api: Api) -> None:
    url = "/identity_/connect/token"
    good = {"grant_type": "password", "username": "admin", "password": ADMIN_PASSWORD, "tenant": "Default"}
    body = api.ok(api.client.post(url, data=good))
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0 and body["access_token"]
    me = api.ok(api.get(f"/odata/Users/{NS}.GetCurrentUser", token=body["access_token"]))
    assert me["UserName"] == "admin"
    cloud = api.ok(
        api.client.post(f"/podium{url}", data={**good, "tenant": None, "acr_values": "tenant:Default"})
    )
    api.ok(api.get("/odata/Jobs", token=cloud["access_token"]))
    for wrong in ({"password": "wrong"}, {"username": "nobody"}, {"tenant": "Nope"}, {"password": ""}):
        refused = api.client.post(url, data={**good, **wrong})
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant", (
            wrong,
            refused.text,
        )
    unsupported = api.client.post(url, data={**good, "grant_type": "magic"})
    assert unsupported.status_code == 400 and unsupported.json()["error"] == "unsupported_grant_type"
    client = api.client.post(
        url, data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}
    )
    assert client.status_code == 401 and client.json()["error"] == "invalid_client"


# -- jobs actions ----------------------------------------------------------------------------------------


class Robots:
    """Three robots in one environment, a release of that environment."""

    def __init__(self, api: Api) -> None:
        shared = api.tenant.shared_folder_id
        self.environment = api.ok(api.post("/odata/Environments", {"Name": "Env"}, folder=shared), 201)["Id"]
        self.robots = []
        for name in ("R1", "R2", "R3"):
            robot = api.ok(api.post("/odata/Robots", {"Name": name}, folder=shared), 201)["Id"]
            api.ok(
                api.post(f"/odata/Environments({self.environment})/{NS}.AddRobot", {"robotId": robot}), 204
            )
            self.robots.append(robot)
        created = release(api, shared, "Proc", self.environment)
        self.release, self.key = created["Id"], created["Key"]


def test_start_jobs_strategies(api: Api) -> None:
    world = Robots(api)
    counted = start(api, world.key, Strategy="JobsCount", JobsCount=3, InputArguments='{"n": 1}')
    assert len(counted) == 3 and {j["RobotId"] for j in counted} == {None}
    assert {j["State"] for j in counted} == {"Pending"} and len(
        {j["BatchExecutionKey"] for j in counted}
    ) == 1
    assert {j["InputArguments"] for j in counted} == {'{"n": 1}'} and len({j["Key"] for j in counted}) == 3
    assert len(start(api, world.key, Strategy="ModernJobsCount", JobsCount=2)) == 2
    assert len(start(api, world.key, Strategy=3, JobsCount=1)) == 1
    two = start(api, world.key, Strategy="RobotCount", NoOfRobots=2)
    assert (
        len(two) == 2
        and len({j["RobotId"] for j in two}) == 2
        and {j["RobotId"] for j in two} <= set(world.robots)
    )
    everyone = start(api, world.key, Strategy="All")
    assert sorted(j["RobotId"] for j in everyone) == world.robots
    specific = start(api, world.key, Strategy="Specific", RobotIds=[world.robots[1]])
    assert [j["RobotId"] for j in specific] == [world.robots[1]]
    assert_error(
        api.post(
            f"/odata/Jobs/{NS}.StartJobs",
            {"startInfo": {"ReleaseKey": world.key, "Strategy": "RobotCount", "NoOfRobots": 4}},
        ),
        400,
    )
    by_name = start(api, "", ReleaseName="Proc", Strategy="JobsCount", JobsCount=1)
    assert by_name[0]["ReleaseName"] == "Proc"
    assert api.ok(api.get("/odata/Jobs?$count=true&$top=0"))["@odata.count"] == 3 + 2 + 1 + 2 + 3 + 1 + 1


def test_stop_restart_resume_and_the_state_machine(api: Api, db: Engine) -> None:
    world = Robots(api)
    jobs = start(api, world.key, Strategy="All") + start(api, world.key, Strategy="JobsCount", JobsCount=4)
    running, soft, pending, done, faulted, suspended, mixed = (j["Id"] for j in jobs)
    for job, state in (
        (running, JobState.Running),
        (soft, JobState.Running),
        (done, JobState.Successful),
        (faulted, JobState.Faulted),
        (suspended, JobState.Suspended),
        (mixed, JobState.Running),
    ):
        set_state(db, job, state)

    def get(job: int) -> dict[str, Any]:
        found: dict[str, Any] = api.ok(api.get(f"/odata/Jobs({job})"))
        return found

    api.ok(api.post(f"/odata/Jobs({running})/{NS}.StopJob", {"strategy": "Kill"}))
    assert (get(running)["State"], get(running)["StopStrategy"], get(running)["EndTime"]) == (
        "Terminating",
        "Kill",
        None,
    )
    api.ok(api.post(f"/odata/Jobs({soft})/{NS}.StopJob", {"strategy": 1}))
    assert get(soft)["State"] == "Stopping"
    api.ok(api.post(f"/odata/Jobs({soft})/{NS}.StopJob", {"strategy": "2"}))  # a stopping job can be killed
    assert get(soft)["State"] == "Terminating"
    api.ok(api.post(f"/odata/Jobs({pending})/{NS}.StopJob", {"strategy": "SoftStop"}))
    assert get(pending)["State"] == "Stopped" and get(pending)["EndTime"]

    # a finished job cannot be stopped; StopJobs is all or nothing
    for finished in (done, faulted, pending):
        body = assert_error(api.post(f"/odata/Jobs({finished})/{NS}.StopJob", {"strategy": "Kill"}), 400)
        assert body["errorCode"] == 1201
    body = assert_error(api.post(f"/odata/Jobs/{NS}.StopJobs", {"jobIds": [mixed, done], "strategy": 1}), 400)
    assert body["errorCode"] == 1201
    assert get(mixed)["State"] == "Running" and get(done)["State"] == "Successful"

    # restart: a new Pending job like the finished one; an unfinished job is not restarted
    restarted = api.ok(api.post(f"/odata/Jobs/{NS}.RestartJob", {"jobId": faulted}))
    original = get(faulted)
    assert restarted["State"] == "Pending" and restarted["Id"] not in (j["Id"] for j in jobs)
    assert restarted["Key"] != original["Key"] and restarted["ReleaseId"] == original["ReleaseId"]
    assert restarted["RobotId"] == original["RobotId"] and original["State"] == "Faulted"
    assert restarted["@odata.context"].endswith("$metadata#Jobs/$entity")
    assert_error(api.post(f"/odata/Jobs/{NS}.RestartJob", {"jobId": mixed}), 400)

    # resume: a suspended job only
    resumed = api.ok(api.post(f"/odata/Jobs/{NS}.ResumeJob", {"jobKey": get(suspended)["Key"]}))
    assert resumed["State"] == "Resumed" and resumed["Id"] == suspended
    assert_error(api.post(f"/odata/Jobs/{NS}.ResumeJob", {"jobKey": get(suspended)["Key"]}), 400)
    assert_error(api.post(f"/odata/Jobs/{NS}.ResumeJob", {"jobKey": get(mixed)["Key"]}), 400)

    # GetByKey
    key = get(mixed)["Key"]
    for identifier in (key, f"'{key}'", key.upper()):
        found = api.ok(api.get(f"/odata/Jobs/{NS}.GetByKey(identifier={identifier})"))
        assert found["Id"] == mixed and found["@odata.context"].endswith("$metadata#Jobs/$entity")
    selected = api.ok(api.get(f"/odata/Jobs/{NS}.GetByKey(identifier={key})?$select=State&$expand=Robot"))
    assert selected["State"] == "Running" and selected["Robot"] is None and "Key" not in selected


def test_export_downloads_the_filtered_jobs(api: Api, db: Engine) -> None:
    world = Robots(api)
    jobs = start(api, world.key, Strategy="All") + start(
        api, world.key, Strategy="JobsCount", JobsCount=2, InputArguments='{"text": "a, \\"quoted\\" value"}'
    )
    set_state(db, jobs[0]["Id"], JobState.Successful)
    export = api.ok(api.post(f"/odata/Jobs/{NS}.Export?$filter=State eq 'Pending'&$orderby=Id desc", {}))
    assert export["Status"] == "Completed" and export["Type"] == "Jobs" and export["Size"] > 0
    download = api.client.get(f"/api/Exports/{export['Id']}/Download", headers=api.headers())
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [int(r["Id"]) for r in rows] == sorted((j["Id"] for j in jobs[1:]), reverse=True)
    assert {r["State"] for r in rows} == {"Pending"} and {r["ReleaseName"] for r in rows} == {"Proc"}
    assert rows[0]["InputArguments"] == '{"text": "a, \\"quoted\\" value"}'
    everything = api.ok(api.post(f"/odata/Jobs/{NS}.Export", {}))
    text_all = api.client.get(f"/api/Exports/{everything['Id']}/Download", headers=api.headers()).text
    assert len(list(csv.DictReader(io.StringIO(text_all)))) == len(jobs)
    assert_error(api.post(f"/odata/Jobs/{NS}.Export?$filter=State eq 'Nope'", {}), 400)


def test_folder_role_user_lists_only_its_folders(api: Api) -> None:
    """A user whose only role is in one folder sees that folder (and its subfolders) in /odata/Folders."""
    team = api.ok(api.post("/odata/Folders", {"DisplayName": "TeamOnly"}), 201)
    api.ok(api.post("/odata/Folders", {"DisplayName": "Sub", "ParentId": team["Id"]}), 201)
    api.ok(api.post("/odata/Folders", {"DisplayName": "Elsewhere"}), 201)
    user = api.ok(api.post("/odata/Users", {"UserName": "member", "Password": "member-pass-1"}), 201)
    roles = {r["Name"]: r["Id"] for r in api.ok(api.get("/odata/Roles"))["value"]}
    api.post(
        "/odata/Folders/UiPath.Server.Configuration.OData.AssignUsers",
        {
            "assignments": {
                "UserIds": [user["Id"]],
                "RolesPerFolder": [{"FolderId": team["Id"], "RoleIds": [roles["Automation User"]]}],
            }
        },
    )
    token = api.login("member", "member-pass-1")
    names = [f["FullyQualifiedName"] for f in api.ok(api.get("/odata/Folders", token=token))["value"]]
    assert names == ["TeamOnly", "TeamOnly/Sub"]
