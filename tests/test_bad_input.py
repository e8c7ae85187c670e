"""Bad input of every kind answers a 4xx with Orchestrator's error body and writes nothing.

Malformed query options and filters, wrong literal types and enum names, malformed or oversized
bodies, unknown properties, keys and resources, missing or invalid tokens, missing permissions and
folders; a property-based test that throws random and mutated ``$filter``/``$orderby``/``$select`` text
at ``/odata/Jobs``; SQL injection in every literal position.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Engine

from podium.auth import passwords
from tests.package_builders import nupkg
from tests.support import ADMIN_PASSWORD, SIGNING_KEY, Api, assert_error, start_app

NS = "UiPath.Server.Configuration.OData"
TABLES = (
    "tenants",
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


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with its smallest cost: passwords are still hashed and verified, in microseconds."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def snapshot(db: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a bad request could touch (the users' last login time aside)."""
    with db.connect() as conn:
        rows = {t: [tuple(r) for r in conn.execute(text(f"select * from {t} order by id"))] for t in TABLES}
        rows["users"] = [
            tuple(r)
            for r in conn.execute(
                text("select id, user_name, password_hash, is_active, name from users order by id")
            )
        ]
    return rows


def counts(db: Engine) -> dict[str, int]:
    with db.connect() as conn:
        return {t: conn.execute(text(f"select count(*) from {t}")).scalar_one() for t in TABLES}


class World:
    """The data the bad requests aim at: a machine, a robot in Shared and in an environment, a release of
    that environment, two Pending jobs."""

    def __init__(self, api: Api) -> None:
        self.api = api
        shared = api.tenant.shared_folder_id
        self.shared = shared
        upload = api.client.post(
            f"/odata/Processes/{NS}.UploadPackage",
            headers=api.headers(),
            files={"file": ("P1.1.0.0.nupkg", nupkg("P1", "1.0.0"), "application/octet-stream")},
        )
        api.ok(upload)
        self.machine = api.ok(api.post("/odata/Machines", {"Name": "M1"}), 201)["Id"]
        self.robot = api.ok(
            api.post("/odata/Robots", {"Name": "R1", "MachineId": self.machine}, folder=shared), 201
        )["Id"]
        self.environment = api.ok(api.post("/odata/Environments", {"Name": "E1"}, folder=shared), 201)["Id"]
        api.ok(
            api.post(
                f"/odata/Environments({self.environment})/{NS}.AddRobot",
                {"robotId": self.robot},
                folder=shared,
            ),
            204,
        )
        release = api.ok(
            api.post(
                "/odata/Releases",
                {"Name": "P1", "ProcessKey": "P1", "EnvironmentId": self.environment},
                folder=shared,
            ),
            201,
        )
        self.release, self.release_key = release["Id"], release["Key"]
        started = api.ok(
            api.post(
                f"/odata/Jobs/{NS}.StartJobs",
                {
                    "startInfo": {
                        "ReleaseKey": self.release_key,
                        "Strategy": "Specific",
                        "RobotIds": [self.robot],
                    }
                },
            )
        )
        more = api.ok(
            api.post(
                f"/odata/Jobs/{NS}.StartJobs",
                {"startInfo": {"ReleaseKey": self.release_key, "Strategy": "JobsCount", "JobsCount": 1}},
            )
        )
        self.jobs = [j["Id"] for j in started["value"] + more["value"]]
        self.job_keys = [j["Key"] for j in started["value"] + more["value"]]


@pytest.fixture
def world(api: Api) -> World:
    return World(api)


def refused(response: httpx.Response, status: int = 400, code: int | None = None, what: Any = "") -> None:
    body = assert_error(response, status)
    if code is not None:
        assert body["errorCode"] == code, (what, body)


# -- query options and filters ------------------------------------------------------------------------


BAD_OPTIONS = [
    "$top=abc",
    "$top=-1",
    "$top=1001",
    "$top=1.5",
    "$top=",
    "$top=99999999999",
    "$skip=-1",
    "$skip=abc",
    "$skip=1e3",
    "$count=maybe",
    "$count=",
    "$count=1",
    "$select=Nope",
    "$select=Id,Nope",
    "$select=Robot/Name",
    "$select=Id,,State",
    "$select=*",
    "$select=Id)",
    "$select=(Id",
    "$expand=Nope",
    "$expand=Robot,Nope",
    "$expand=Robot($select=Nope)",
    "$expand=Robot($top=x)",
    "$expand=Robot(",
    "$expand=Robot($nope=1)",
    "$expand=Robot($select)",
    "$expand=Robot/Machine",
    "$orderby=Nope desc",
    "$orderby=Id sideways",
    "$orderby=Id,",
    "$orderby=Robot/Nope",
    "$orderby=Id desc desc",
    "$orderby='Id'",
    "$foo=1",
    "$format=xml",
    "$top=1&$top=abc",
]


def test_malformed_query_options(api: Api, world: World, db: Engine) -> None:
    before = snapshot(db)
    for option in BAD_OPTIONS:
        refused(api.get(f"/odata/Jobs?{option}"), 400, 1004, option)
    for entity_set in ("Robots", "Machines", "Environments", "Releases", "Folders", "Users", "Roles"):
        for option in (
            "$top=abc",
            "$top=1001",
            "$skip=-1",
            "$count=maybe",
            "$select=Nope",
            "$expand=Nope",
            "$orderby=Nope desc",
            "$foo=1",
            "$filter=Nope eq 1",
        ):
            refused(api.get(f"/odata/{entity_set}?{option}"), 400, 1004, (entity_set, option))
    refused(api.get(f"/odata/Jobs({world.jobs[0]})?$select=Nope"), 400, 1004)
    refused(api.get(f"/odata/Jobs/{NS}.GetByKey(identifier='{world.job_keys[0]}')?$expand=Nope"), 400, 1004)
    refused(api.get("/odata/Jobs/$count?$filter=State eq"), 400, 1004)
    # the limit itself is accepted
    assert api.ok(api.get("/odata/Jobs?$top=1000&$skip=0&$count=false"))["value"]
    assert snapshot(db) == before


BAD_FILTERS = [
    # syntax
    "State eq",
    "eq 1",
    "(Id eq 1",
    "Id eq 1)",
    "Id eq 1 and",
    "Id eq 1 or or Id eq 2",
    "Id eq 'open",
    "Id eq 1 Id eq 2",
    "Id in ()",
    "Id in (1,",
    "Id in 1",
    "not",
    "()",
    "Id eq eq 1",
    "Id == 1",
    "Id eq 1; DROP TABLE jobs",
    "Robot/",
    "/Id eq 1",
    "Id eq 1 &&",
    "Id eq @p",
    # unknown names, functions and arity
    "Nope eq 1",
    "Robot/Nope eq 1",
    "Robot/Name/Extra eq 'x'",
    "Nope/Id eq 1",
    "nosuchfunc(Info) eq 1",
    "contains(Info)",
    "contains(Info,'a','b')",
    "substring()",
    "length() eq 1",
    "Robot eq 'x'",
    # not a condition
    "Id",
    "Info",
    "1",
    "'text'",
    "length(Info)",
    "Id add 1",
    # wrong literal types
    "Id eq 'abc'",
    "Info eq 5",
    "CreationTime gt 'yesterday'",
    "CreationTime gt 2018-13-45T00:00:00Z",
    "CreationTime gt 2018-02-30",
    "Id eq 99999999999999999999",
    "Key eq 5",
    "RequiresUserInteraction eq 'yes'",
    "Id eq true",
    "startswith(Id,'1')",
    "year(Info) eq 2018",
    "Robot/Id eq 'x'",
    "Id eq 1e999",
    "contains(Info,5)",
    "Id in ('a','b')",
    "EndTime lt 5",
    "tolower(Id) eq 'x'",
    # wrong enum names and numbers
    "State eq 'Nope'",
    "State eq 'Runing'",
    "State eq 99",
    "State eq '99'",
    "State eq -1",
    "JobPriority eq 'Urgent'",
    "State eq UiPath.Core.Enums.JobState'Nope'",
    "State in ('Running','Nope')",
    "State eq 'Running' or State eq 'Sleeping'",
    "SourceType eq 'Telepathy'",
    "State eq 1.5",
    "State eq true",
]


def test_malformed_filters(api: Api, world: World, db: Engine) -> None:
    before = snapshot(db)
    for expression in BAD_FILTERS:
        refused(
            api.client.get("/odata/Jobs", params={"$filter": expression}, headers=api.headers()),
            400,
            1004,
            expression,
        )
    for expression in ("Name eq 5", "Type eq 'Nope'", "MachineId eq 'x'", "Nope eq 1", "Name eq"):
        refused(
            api.client.get("/odata/Robots", params={"$filter": expression}, headers=api.headers()),
            400,
            1004,
            expression,
        )
    refused(
        api.client.get("/odata/Folders", params={"$filter": "FolderType eq 'Huge'"}, headers=api.headers()),
        400,
        1004,
    )
    refused(
        api.client.get(
            "/odata/Releases", params={"$filter": "JobPriority eq 'Urgent'"}, headers=api.headers()
        ),
        400,
        1004,
    )
    # the good neighbours of the bad ones
    for expression in (
        "State eq 'Pending'",
        "State eq '0'",
        "State eq 0",
        "State in ('Pending','Running')",
        "Robot/Id eq 1 or Robot eq null",
        "Id eq 1.0",
    ):
        api.ok(api.client.get("/odata/Jobs", params={"$filter": expression}, headers=api.headers()))
    assert snapshot(db) == before


# -- bodies ----------------------------------------------------------------------------------------------


def post_raw(
    api: Api,
    url: str,
    content: bytes | str,
    folder: int | None = None,
    content_type: str = "application/json",
) -> httpx.Response:
    headers = {**api.headers(folder), "Content-Type": content_type}
    return api.client.post(url, content=content, headers=headers)


def test_malformed_json_and_non_object_bodies(api: Api, world: World, db: Engine) -> None:
    before = snapshot(db)
    targets = [
        ("POST", "/odata/Machines"),
        ("POST", "/odata/Releases"),
        ("POST", "/odata/Folders"),
        ("POST", "/odata/Users"),
        ("POST", "/odata/Roles"),
        ("PUT", f"/odata/Machines({world.machine})"),
        ("PATCH", f"/odata/Robots({world.robot})"),
        ("POST", f"/odata/Jobs/{NS}.StartJobs"),
        ("POST", f"/odata/Jobs/{NS}.StopJobs"),
        ("POST", f"/odata/Jobs({world.jobs[0]})/{NS}.StopJob"),
        ("POST", f"/odata/Jobs/{NS}.RestartJob"),
        ("POST", f"/odata/Jobs/{NS}.ResumeJob"),
        ("POST", f"/odata/Environments({world.environment})/{NS}.AddRobot"),
        ("POST", f"/odata/Folders/{NS}.AssignUsers"),
        ("POST", f"/odata/Users({api.tenant.admin_user_id})/{NS}.AssignRoles"),
    ]
    bad = [
        '{"Name": ',
        "not json",
        "{'Name': 'M'}",
        '{"Name": "M",}',
        "[1, 2]",
        '"text"',
        "null",
        "5",
        "true",
        "",
        "\x00",
        '{"Name": NaN}',
        b"\xff\xfe\x00",
    ]
    for method, url in targets:
        for content in bad:
            headers = {**api.headers(world.shared), "Content-Type": "application/json"}
            response = api.client.request(method, url, content=content, headers=headers)
            refused(response, 400, None, (method, url, content))
    # the token endpoints and personal access tokens parse their bodies too
    for content in bad:
        response = api.client.post(
            "/api/Account/Authenticate", content=content, headers={"Content-Type": "application/json"}
        )
        refused(response, 400, None, ("Authenticate", content))
        refused(post_raw(api, "/api/PersonalAccessTokens", content), 400, None, ("PAT", content))
    assert snapshot(db) == before


def test_unknown_properties_wrong_types_and_enum_names(api: Api, world: World, db: Engine) -> None:
    before = snapshot(db)
    cases: list[tuple[str, dict[str, Any]]] = [
        # unknown properties
        ("Machines", {"Name": "M2", "Nope": 1}),
        ("Robots", {"Name": "R2", "Colour": "red"}),
        ("Releases", {"Name": "P2", "ProcessKey": "P2", "Nope": None}),
        ("Environments", {"Name": "E2", "name": "lowercase"}),
        ("Folders", {"DisplayName": "F2", "Parent": 1, "Nope": 1}),
        ("Users", {"UserName": "u2", "Password": "password-2", "IsAdmin": True}),
        ("Roles", {"Name": "r2", "Permission": ["Jobs.View"]}),
        # wrong types, nulls, lengths, missing required values
        ("Machines", {"Name": 5}),
        ("Machines", {"Name": None}),
        ("Machines", {"Name": ["M2"]}),
        ("Machines", {"Name": "M2", "UnattendedSlots": "many"}),
        ("Machines", {"Name": "M2", "UnattendedSlots": 1.5}),
        ("Machines", {"Name": "M2", "UnattendedSlots": True}),
        ("Machines", {"Name": "M2", "UnattendedSlots": 18446744073709551615}),
        ("Machines", {"Name": "M2", "UnattendedSlots": 10**30}),
        ("Machines", {"Name": "M" * 257}),
        ("Machines", {"Name": "M2", "Description": {"text": "x"}}),
        ("Machines", {}),
        ("Machines", {"Name": ""}),
        ("Robots", {"Name": "R2", "MachineId": "abc"}),
        ("Robots", {"Name": "R2", "MachineId": 999999}),
        ("Robots", {"Name": "R2", "Enabled": "yes"}),
        ("Releases", {"Name": "P2"}),
        ("Releases", {"Name": "P2", "ProcessKey": "P2", "EnvironmentId": 999999}),
        ("Releases", {"Name": "P2", "ProcessKey": "P2", "IsLatestVersion": 1}),
        ("Releases", {"Name": "P2", "ProcessKey": "P2", "InputArguments": "x" * 10_001}),
        ("Folders", {"DisplayName": ""}),
        ("Folders", {"DisplayName": "a/b"}),
        ("Folders", {"DisplayName": " padded "}),
        ("Folders", {"DisplayName": "F2", "ParentId": 999999}),
        ("Folders", {"DisplayName": "F2", "ParentId": "Shared"}),
        ("Users", {"Password": "password-2"}),
        ("Users", {"UserName": "u2", "Password": "short"}),
        ("Users", {"UserName": "u2", "Password": 12345678}),
        ("Users", {"UserName": "u2", "IsActive": "yes"}),
        ("Users", {"UserName": "u2", "EmailAddress": 5}),
        ("Roles", {"Name": "r2", "Permissions": [{"Name": "Jobs.Fly"}]}),
        ("Roles", {"Name": "r2", "Permissions": "Jobs.View"}),
        ("Roles", {"Name": "r2", "Permissions": [5]}),
        ("Roles", {"Name": "r2", "Permissions": [{"IsGranted": True}]}),
        # wrong enum names and numbers
        ("Machines", {"Name": "M2", "Type": "Nope"}),
        ("Machines", {"Name": "M2", "Type": 7}),
        ("Machines", {"Name": "M2", "Type": True}),
        ("Machines", {"Name": "M2", "Scope": "Everywhere"}),
        ("Robots", {"Name": "R2", "Type": "Robotic"}),
        ("Robots", {"Name": "R2", "Type": "-1"}),
        ("Environments", {"Name": "E2", "Type": "Staging"}),
        ("Releases", {"Name": "P2", "ProcessKey": "P2", "JobPriority": "Urgent"}),
        ("Releases", {"Name": "P2", "ProcessKey": "P2", "ProcessType": 1.0}),
        ("Folders", {"DisplayName": "F2", "FolderType": "Huge"}),
        ("Roles", {"Name": "r2", "Type": 7}),
        ("Users", {"UserName": "u2", "Type": "Alien"}),
    ]
    for entity_set, body in cases:
        refused(api.post(f"/odata/{entity_set}", body, folder=world.shared), 400, None, (entity_set, body))
    # the same mistakes in updates (PUT and PATCH) of existing rows
    updates: list[tuple[str, int, dict[str, Any]]] = [
        ("Machines", world.machine, {"Name": "M1", "Nope": 1}),
        ("Machines", world.machine, {"Name": None}),
        ("Machines", world.machine, {"Type": "Nope"}),
        ("Robots", world.robot, {"MachineId": "abc"}),
        ("Robots", world.robot, {"Type": "Robotic"}),
        ("Releases", world.release, {"EnvironmentId": 999999}),
        ("Releases", world.release, {"JobPriority": "Urgent"}),
        ("Environments", world.environment, {"Type": "Staging"}),
        ("Folders", world.shared, {"DisplayName": "a/b"}),
        ("Folders", world.shared, {"ParentId": 5}),
        ("Users", api.tenant.admin_user_id, {"Password": "short"}),
        ("Users", api.tenant.admin_user_id, {"Nope": 1}),
    ]
    for entity_set, key, body in updates:
        refused(api.put(f"/odata/{entity_set}({key})", body), 400, None, (entity_set, body))
        response = api.client.patch(f"/odata/{entity_set}({key})", json=body, headers=api.headers())
        refused(response, 400, None, ("PATCH", entity_set, body))
    assert snapshot(db) == before
    # read-only properties are ignored, not written
    key = api.ok(api.get(f"/odata/Machines({world.machine})"))["Key"]
    api.ok(api.put(f"/odata/Machines({world.machine})", {"Name": "M1", "Id": 999, "Key": str(uuid.uuid4())}))
    assert api.ok(api.get(f"/odata/Machines({world.machine})"))["Key"] == key


def test_bad_action_arguments(api: Api, world: World, db: Engine) -> None:
    before = snapshot(db)
    key = world.release_key
    start = f"/odata/Jobs/{NS}.StartJobs"
    start_cases: list[Any] = [
        {},
        {"startInfo": 5},
        {"startInfo": None},
        {"startInfo": {}},
        {"startInfo": {"ReleaseKey": ""}},
        {"startInfo": {"ReleaseName": 5}},
        {"startInfo": {"ReleaseKey": key, "Strategy": "Sometimes"}},
        {"startInfo": {"ReleaseKey": key, "Strategy": 9}},
        {"startInfo": {"ReleaseKey": key, "Strategy": True}},
        {"startInfo": {"ReleaseKey": key, "Strategy": "Specific"}},
        {"startInfo": {"ReleaseKey": key, "Strategy": "Specific", "RobotIds": []}},
        {"startInfo": {"ReleaseKey": key, "Strategy": "Specific", "RobotIds": "abc"}},
        {"startInfo": {"ReleaseKey": key, "Strategy": "Specific", "RobotIds": [True]}},
        {"startInfo": {"ReleaseKey": key, "Strategy": "Specific", "RobotIds": ["1"]}},
        {"startInfo": {"ReleaseKey": key, "Strategy": "Specific", "RobotIds": [999999]}},
        {"startInfo": {"ReleaseKey": key, "Strategy": "Specific", "RobotIds": [18446744073709551615]}},
        {"startInfo": {"ReleaseKey": key, "Strategy": "JobsCount", "JobsCount": -1}},
        {"startInfo": {"ReleaseKey": key, "Strategy": "JobsCount", "JobsCount": "3"}},
        {"startInfo": {"ReleaseKey": key, "Strategy": "JobsCount", "JobsCount": 10_001}},
        {"startInfo": {"ReleaseKey": key, "Strategy": "JobsCount", "JobsCount": 1.5}},
        {"startInfo": {"ReleaseKey": key, "Strategy": "RobotCount", "NoOfRobots": 2}},
        {"startInfo": {"ReleaseKey": key, "Strategy": "RobotCount", "NoOfRobots": -2}},
        {"startInfo": {"ReleaseKey": key, "InputArguments": "not json"}},
        {"startInfo": {"ReleaseKey": key, "InputArguments": "[1, 2]"}},
        {"startInfo": {"ReleaseKey": key, "InputArguments": '"text"'}},
        {"startInfo": {"ReleaseKey": key, "InputArguments": 5}},
        {"startInfo": {"ReleaseKey": key, "InputArguments": {"a": 1}}},
        {"startInfo": {"ReleaseKey": key, "Source": 5}},
        {"startInfo": {"ReleaseKey": key, "BatchExecutionKey": "nope"}},
        {"startInfo": {"ReleaseKey": key, "JobPriority": "Urgent"}},
        {"startInfo": {"ReleaseKey": key, "Reference": "x" * 200}},
        {"startInfo": {"ReleaseKey": key, "Reference": 5}},
    ]
    for body in start_cases:
        response = api.post(start, body)
        assert 400 <= response.status_code < 500, (body, response.text)
        refused(response, response.status_code, None, body)
    refused(api.post(start, {"startInfo": {"ReleaseKey": str(uuid.uuid4())}}), 404)
    job = world.jobs[0]
    stop_cases: list[tuple[str, Any, int]] = [
        (f"Jobs/{NS}.StopJobs", {"jobIds": "1", "strategy": 1}, 400),
        (f"Jobs/{NS}.StopJobs", {"jobIds": [], "strategy": 1}, 400),
        (f"Jobs/{NS}.StopJobs", {"jobIds": [job, "x"], "strategy": 1}, 400),
        (f"Jobs/{NS}.StopJobs", {"jobIds": [job], "strategy": "Gently"}, 400),
        (f"Jobs/{NS}.StopJobs", {"jobIds": [job], "strategy": 3}, 400),
        (f"Jobs/{NS}.StopJobs", {"jobIds": [job]}, 400),
        (f"Jobs/{NS}.StopJobs", {"jobIds": [job, 999999], "strategy": 2}, 404),
        (f"Jobs/{NS}.StopJobs", {"jobIds": [18446744073709551615], "strategy": 2}, 400),  # beyond Int64
        (f"Jobs/{NS}.StopJobs", {"jobIds": [-(2**63) - 1], "strategy": 2}, 400),
        (f"Jobs({job})/{NS}.StopJob", {"strategy": "x"}, 400),
        (f"Jobs({job})/{NS}.StopJob", {}, 400),
        (f"Jobs('abc')/{NS}.StopJob", {"strategy": 1}, 400),
        (f"Jobs(999999)/{NS}.StopJob", {"strategy": 1}, 404),
        (f"Jobs(99999999999999999999)/{NS}.StopJob", {"strategy": 1}, 400),
        (f"Jobs/{NS}.RestartJob", {"jobId": "x"}, 400),
        (f"Jobs/{NS}.RestartJob", {}, 400),
        (f"Jobs/{NS}.RestartJob", {"jobId": 999999}, 404),
        (f"Jobs/{NS}.RestartJob", {"jobId": 18446744073709551615}, 400),
        (f"Jobs/{NS}.RestartJob", {"jobId": job}, 400),  # Pending: not finished
        (f"Jobs/{NS}.ResumeJob", {"jobKey": 5}, 400),
        (f"Jobs/{NS}.ResumeJob", {"jobKey": "nope"}, 404),
        (f"Jobs/{NS}.ResumeJob", {"jobKey": world.job_keys[0]}, 400),  # Pending: not suspended
        (f"Environments({world.environment})/{NS}.AddRobot", {"robotId": "x"}, 400),
        (f"Environments({world.environment})/{NS}.AddRobot", {}, 400),
        (f"Environments({world.environment})/{NS}.AddRobot", {"robotId": 999999}, 400),
        (f"Environments({world.environment})/{NS}.AddRobot", {"robotId": 18446744073709551615}, 400),
        (f"Environments({world.environment})/{NS}.SetRobots", {"addedRobotIds": "x"}, 400),
        (f"Environments(999999)/{NS}.AddRobot", {"robotId": world.robot}, 404),
        (f"Folders/{NS}.AssignUsers", {"assignments": 5}, 400),
        (f"Folders/{NS}.AssignUsers", {"assignments": {"UserIds": "x", "RolesPerFolder": []}}, 400),
        (
            f"Folders/{NS}.AssignUsers",
            {"assignments": {"UserIds": [api.tenant.admin_user_id], "RolesPerFolder": [{"FolderId": "x"}]}},
            400,
        ),
        (
            f"Folders/{NS}.AssignUsers",
            {
                "assignments": {
                    "UserIds": [api.tenant.admin_user_id],
                    "RolesPerFolder": [{"FolderId": 999999}],
                }
            },
            400,
        ),
        (f"Folders/{NS}.AssignUsers", {"assignments": {"UserIds": [999999], "RolesPerFolder": []}}, 400),
        (f"Users({api.tenant.admin_user_id})/{NS}.AssignRoles", {"roleIds": "x"}, 400),
        (f"Users({api.tenant.admin_user_id})/{NS}.AssignRoles", {"roleIds": [999999]}, 400),
        (f"Users(999999)/{NS}.AssignRoles", {"roleIds": []}, 400),
        (f"Users({api.tenant.admin_user_id})/{NS}.SetActive", {"active": "no"}, 400),
        (f"Users({api.tenant.admin_user_id})/{NS}.ToggleRole", {"role": 5, "toggle": True}, 400),
        (f"Users({api.tenant.admin_user_id})/{NS}.ToggleRole", {"role": ["Robot"], "toggle": True}, 400),
        (f"Users('admin')/{NS}.AssignRoles", {"roleIds": []}, 400),
        (f"Folders/{NS}.AssignUsers", {"assignments": {"UserIds": ["x"], "RolesPerFolder": []}}, 400),
        (f"Folders/{NS}.AssignUsers", {"assignments": {"UserIds": [True], "RolesPerFolder": []}}, 400),
        (
            f"Folders/{NS}.AssignUsers",
            {
                "assignments": {
                    "UserIds": [],
                    "RolesPerFolder": [{"FolderId": world.shared, "RoleIds": ["x"]}],
                }
            },
            400,
        ),
        (f"Folders({world.shared})/{NS}.RemoveUserFromFolder", {"userId": "x"}, 400),
        (f"Folders({world.shared})/{NS}.RemoveUserFromFolder", {}, 400),
        (f"Folders('abc')/{NS}.RemoveUserFromFolder", {"userId": 1}, 400),
        (f"Roles('abc')/{NS}.SetUsers", {"addedUserIds": []}, 400),
        (f"Roles({api.tenant.admin_user_id})/{NS}.SetUsers", {"addedUserIds": ["x"]}, 400),
        (f"Environments('abc')/{NS}.AddRobot", {"robotId": 1}, 400),
        (
            f"Environments({world.environment})/{NS}.SetRobots",
            {"addedRobotIds": [], "removedRobotIds": ["x"]},
            400,
        ),
    ]
    for path, body, status in stop_cases:
        refused(api.post(f"/odata/{path}", body), status, None, (path, body))
    for body in (
        {"Name": ""},
        {"Name": 5},
        {"Name": "t", "ExpiresInDays": 0},
        {"Name": "t", "ExpiresInDays": "x"},
        {},
        {"Name": "x" * 129},
    ):
        refused(
            api.client.post("/api/PersonalAccessTokens", json=body, headers=api.headers()), 400, None, body
        )
    for body in (
        {"usernameOrEmailAddress": "admin"},
        {"password": "x"},
        {"usernameOrEmailAddress": 5, "password": ADMIN_PASSWORD},
    ):
        refused(api.client.post("/api/Account/Authenticate", json=body), 400, None, body)
    refused(
        api.client.post(
            "/api/Account/Authenticate",
            json={"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": "wrong"},
        ),
        400,
    )
    refused(
        api.client.post(
            "/api/Account/Authenticate",
            json={"tenancyName": "Nope", "usernameOrEmailAddress": "admin", "password": ADMIN_PASSWORD},
        ),
        400,
    )
    assert snapshot(db) == before


def test_strings_with_nul_characters(api: Api, world: World, db: Engine) -> None:
    """PostgreSQL cannot store NUL in text: a NUL anywhere in the input is the client's mistake (4xx)."""
    before = snapshot(db)
    responses = [
        api.post("/odata/Machines", {"Name": "M\x002"}),
        api.post("/odata/Folders", {"DisplayName": "F\x00"}),
        api.put(f"/odata/Machines({world.machine})", {"Name": "M1", "Description": "a\x00b"}),
        api.post(
            f"/odata/Jobs/{NS}.StartJobs", {"startInfo": {"ReleaseKey": world.release_key, "Source": "a\x00"}}
        ),
        api.post(f"/odata/Jobs/{NS}.StartJobs", {"startInfo": {"ReleaseName": "P\x001"}}),
        api.post(f"/odata/Jobs/{NS}.ResumeJob", {"jobKey": "\x00"}),
        api.get(f"/odata/Jobs/{NS}.GetByKey(identifier='a%00b')"),
        api.get(f"/odata/Folders/{NS}.GetByKey(identifier='a%00b')"),
        api.get("/odata/Machines('%00')"),
        api.get("/odata/Jobs?$select=Id%00"),
        api.get("/odata/Jobs?$orderby=Id%00"),
        api.get("/odata/Jobs?$filter=Info eq 'a%00b'"),
        api.client.post(
            "/api/Account/Authenticate",
            json={"tenancyName": "Default\x00", "usernameOrEmailAddress": "admin\x00", "password": "x"},
        ),
        api.client.post("/api/PersonalAccessTokens", json={"Name": "t\x00"}, headers=api.headers()),
    ]
    for response in responses:
        assert 400 <= response.status_code < 500, (response.request.url, response.text)
        refused(response, response.status_code)
    assert snapshot(db) == before


# -- unknown keys and resources ----------------------------------------------------------------------------


def test_unknown_keys_and_resources(api: Api, world: World, db: Engine) -> None:
    before = snapshot(db)
    missing = [
        ("GET", "/odata/Jobs(999999)"),
        ("GET", "/odata/Jobs(-1)"),
        ("GET", "/odata/Robots(999999)"),
        ("GET", "/odata/Machines(0)"),
        ("GET", "/odata/Environments(999999)"),
        ("GET", "/odata/Releases(999999)"),
        ("GET", "/odata/Folders(999999)"),
        ("GET", "/odata/OrganizationUnits(999999)"),
        ("GET", "/odata/Users(999999)"),
        ("GET", "/odata/Roles(999999)"),
        ("GET", "/odata/Jobs(9223372036854775807)"),
        ("PUT", "/odata/Machines(999999)"),
        ("PUT", "/odata/Robots(999999)"),
        ("PATCH", "/odata/Releases(999999)"),
        ("DELETE", "/odata/Machines(999999)"),
        ("DELETE", "/odata/Folders(999999)"),
        ("DELETE", "/odata/Users(999999)"),
        ("DELETE", "/odata/Roles(999999)"),
        ("GET", "/odata/Nope"),
        ("GET", "/odata/Nope(1)"),
        ("POST", "/odata/Nope"),
        ("GET", f"/odata/Jobs/{NS}.Nope"),
        ("POST", f"/odata/Jobs(1)/{NS}.Nope"),
        ("GET", f"/odata/Jobs/{NS}.GetByKey(identifier='nope')"),
        ("GET", f"/odata/Jobs/{NS}.GetByKey(identifier={uuid.uuid4()})"),
        ("GET", f"/odata/Folders/{NS}.GetByKey(identifier='{uuid.uuid4()}')"),
        ("GET", f"/odata/Environments/{NS}.GetRobotIdsForEnvironment(key=999999)"),
        ("GET", "/api/Exports/999999/Download"),
        ("DELETE", "/api/PersonalAccessTokens/999999"),
    ]
    for method, url in missing:
        response = api.client.request(
            method, url, json={"Name": "x"} if method in ("PUT", "PATCH") else None, headers=api.headers()
        )
        refused(response, 404, None, (method, url))
    invalid_keys = [
        "/odata/Jobs('abc')",
        "/odata/Jobs(1.5)",
        "/odata/Jobs(abc)",
        "/odata/Jobs(1;DROP TABLE jobs)",
        "/odata/Jobs(1,2)",
        "/odata/Jobs(Id=1,Key=2)",
        "/odata/Jobs(true)",
        "/odata/Jobs(null)",
        "/odata/Jobs(",
        "/odata/Jobs(1)/Robot/Machine",
        "/odata/Jobs(1)(2)",
        f"/odata/Jobs/{NS}.GetByKey(identifier='x)",
        "/odata/Robots('R1')",
        f"/odata/Jobs/{NS}.GetByKey(identifier)",
    ]
    for url in invalid_keys:
        response = api.get(url)
        assert response.status_code in (400, 404), (url, response.text)
        refused(response, response.status_code, None, url)
    # keys beyond Int64 (and beyond Python's int parsing) are malformed, whatever the method
    for key in ("99999999999999999999", "-9223372036854775809", "9" * 5000):
        for method, url in (
            ("GET", f"/odata/Jobs({key})"),
            ("PUT", f"/odata/Machines({key})"),
            ("PATCH", f"/odata/Robots({key})"),
            ("DELETE", f"/odata/Robots({key})"),
            ("POST", f"/odata/Jobs({key})/{NS}.StopJob"),
            ("GET", f"/odata/Environments/{NS}.GetRobotIdsForEnvironment(key={key})"),
        ):
            body = {"Name": "x", "strategy": 1} if method != "GET" else None
            response = api.client.request(method, url, json=body, headers=api.headers())
            refused(response, 400, None, (method, url[:60]))
        for method, url in (
            ("GET", f"/api/Exports/{key}/Download"),
            ("DELETE", f"/api/PersonalAccessTokens/{key}"),
        ):
            response = api.client.request(method, url, headers=api.headers())
            assert response.status_code in (400, 404), (url[:60], response.text)
            refused(response, response.status_code, None, url[:60])
    for query in ("skip=\u00b2", "take=\u00b2", "skip=" + "9" * 5000, "take=-1", "skip=1e3"):
        response = api.get(f"/api/FoldersNavigation/GetFoldersForCurrentUser?{query}")
        refused(response, 400, None, query[:40])
    for option in ("$top=\u00b2", "$skip=\u00b2", "$top=\u0661", "$skip=" + "9" * 5000):
        refused(api.get(f"/odata/Jobs?{option}"), 400, 1004, option[:40])
    for method, url in (
        ("PATCH", "/odata/Jobs"),
        ("DELETE", "/odata/Jobs"),
        ("GET", f"/odata/Jobs/{NS}.StartJobs"),
        ("POST", f"/odata/Jobs/{NS}.GetByKey(identifier='x')"),
        ("PUT", "/odata/Machines"),
    ):
        refused(api.client.request(method, url, headers=api.headers()), 405, None, (method, url))
    refused(api.get(f"/api/Exports/{'x'}/Download"), 400)
    assert snapshot(db) == before


# -- sizes ------------------------------------------------------------------------------------------------


def test_oversized_input_arguments(api: Api, world: World, db: Engine) -> None:
    start = f"/odata/Jobs/{NS}.StartJobs"
    exact = '{"a":"' + "x" * (10_000 - 8) + '"}'
    assert len(exact) == 10_000
    before = counts(db)
    for size in (10_001, 10_002, 50_000):
        too_long = '{"a":"' + "x" * (size - 8) + '"}'
        body = assert_error(
            api.post(start, {"startInfo": {"ReleaseKey": world.release_key, "InputArguments": too_long}}), 400
        )
        assert body["errorCode"] == 1203, body
    refused(
        api.post(
            start,
            {
                "startInfo": {
                    "ReleaseKey": world.release_key,
                    "Strategy": "Specific",
                    "RobotIds": [world.robot],
                    "InputArguments": "{" + " " * 10_000 + "}",
                }
            },
        ),
        400,
        1203,
    )
    assert counts(db) == before
    started = api.ok(
        api.post(start, {"startInfo": {"ReleaseKey": world.release_key, "InputArguments": exact}})
    )
    assert started["value"][0]["InputArguments"] == exact


@pytest.fixture
def small_app(database_url: str, tmp_path: Path) -> Iterator[Api]:
    """Podium accepting request bodies of at most 2,048 bytes."""
    with start_app(database_url, tmp_path, max_body_bytes=2048) as client:
        yield client


def test_oversized_bodies(small_app: Api, db: Engine) -> None:
    api = small_app
    shared = api.tenant.shared_folder_id
    machine = api.ok(api.post("/odata/Machines", {"Name": "M1", "Description": "d" * 400}), 201)["Id"]
    before = snapshot(db)
    big = {"Name": "M2", "Description": "d" * 3000}
    targets = [
        ("POST", "/odata/Machines"),
        ("PUT", f"/odata/Machines({machine})"),
        ("PATCH", f"/odata/Machines({machine})"),
        ("POST", f"/odata/Jobs/{NS}.StartJobs"),
        ("POST", f"/odata/Jobs/{NS}.StopJobs"),
        ("POST", "/odata/Releases"),
    ]
    for method, url in targets:
        response = api.client.request(method, url, json=big, headers=api.headers(shared))
        refused(response, 413, 1013, (method, url))

        def chunks() -> Iterator[bytes]:
            for _ in range(10):
                yield b" " * 500
            yield b'{"Name": "M3"}'

        streamed = api.client.request(
            method, url, content=chunks(), headers={**api.headers(shared), "Content-Type": "application/json"}
        )
        refused(streamed, 413, 1013, ("chunked", method, url))
    for url, body in (
        (
            "/api/Account/Authenticate",
            {"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": "p" * 5000},
        ),
        ("/api/PersonalAccessTokens", {"Name": "t", "Padding": "p" * 5000}),
        ("/identity_/connect/token", {"grant_type": "password", "username": "admin", "password": "p" * 5000}),
    ):
        response = api.client.post(url, json=body, headers=api.headers())
        refused(response, 413, 1013, url)
    assert snapshot(db) == before
    # a body under the limit is fine
    api.ok(api.put(f"/odata/Machines({machine})", {"Name": "M1", "Description": "d" * 500}))


# -- authentication, permissions, folders --------------------------------------------------------------


def signed(claims: dict[str, Any], key: str = SIGNING_KEY) -> str:
    payload = {"sub": "1", "tid": 1, "knd": "user", "exp": int(time.time()) + 600, **claims}
    return jwt.encode(payload, key, algorithm="HS256")


def test_missing_and_invalid_tokens(api: Api, world: World, db: Engine) -> None:
    before = snapshot(db)
    admin, tenant = str(api.tenant.admin_user_id), api.tenant.tenant_id
    authorizations = [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer garbage",
        "Basic YWRtaW46cGFzcw==",
        f"Token {api.token}",
        f"Bearer {api.token}x",
        f"Bearer {api.token[:-4]}",
        "Bearer pat_nope",
        "Bearer a.b.c",
        "Bearer " + signed({"sub": admin, "tid": tenant}, key="another-key-" + "y" * 32),
        "Bearer " + signed({"sub": admin, "tid": tenant, "exp": int(time.time()) - 10}),
        "Bearer " + signed({"sub": admin, "tid": tenant + 1000}),
        "Bearer " + signed({"sub": "999999", "tid": tenant}),
        "Bearer " + signed({"sub": "admin", "tid": tenant}),
        "Bearer "
        + jwt.encode({"sub": admin, "tid": tenant, "exp": int(time.time()) + 60}, "", algorithm="none"),
        "Bearer " + jwt.encode({"sub": admin, "tid": tenant}, SIGNING_KEY, algorithm="HS256"),
    ]
    calls = [
        ("GET", "/odata/Jobs", None),
        ("GET", f"/odata/Jobs({world.jobs[0]})", None),
        ("POST", "/odata/Machines", {"Name": "M9"}),
        ("PUT", f"/odata/Machines({world.machine})", {"Name": "X"}),
        ("DELETE", f"/odata/Robots({world.robot})", None),
        ("POST", f"/odata/Jobs/{NS}.StartJobs", {"startInfo": {"ReleaseKey": world.release_key}}),
        ("POST", f"/odata/Jobs/{NS}.StopJobs", {"jobIds": world.jobs, "strategy": 2}),
        ("GET", f"/odata/Users/{NS}.GetCurrentUser", None),
        ("GET", "/odata/Permissions", None),
        ("POST", "/api/PersonalAccessTokens", {"Name": "t"}),
        ("GET", "/api/Exports/1/Download", None),
        ("GET", "/api/FoldersNavigation/GetAllFoldersForCurrentUser", None),
        ("GET", "/podium/Default/orchestrator_/odata/Jobs", None),
    ]
    for authorization in authorizations:
        headers = {} if authorization is None else {"Authorization": authorization}
        for method, url, body in calls:
            response = api.client.request(method, url, json=body, headers=headers)
            refused(response, 401, None, (authorization, method, url))
            assert response.headers.get("www-authenticate", "").lower().startswith("bearer")
    assert snapshot(db) == before


def test_users_lacking_permissions_are_refused(api: Api, world: World, db: Engine) -> None:
    nobody = api.ok(api.post("/odata/Users", {"UserName": "nobody", "Password": "nobody-password"}), 201)[
        "Id"
    ]
    folks = api.ok(api.post("/odata/Users", {"UserName": "folks", "Password": "folks-password"}), 201)["Id"]
    roles = api.ok(api.get("/odata/Roles?$filter=Name eq 'Automation User'"))["value"]
    api.ok(
        api.post(
            f"/odata/Folders/{NS}.AssignUsers",
            {
                "assignments": {
                    "UserIds": [folks],
                    "RolesPerFolder": [{"FolderId": world.shared, "RoleIds": [roles[0]["Id"]]}],
                }
            },
        ),
        204,
    )
    viewer_role = api.ok(
        api.post("/odata/Roles", {"Name": "JobViewer", "Permissions": [{"Name": "Jobs.View"}]}), 201
    )["Id"]
    viewer = api.ok(api.post("/odata/Users", {"UserName": "viewer", "Password": "viewer-password"}), 201)[
        "Id"
    ]
    api.ok(api.post(f"/odata/Users({viewer})/{NS}.AssignRoles", {"roleIds": [viewer_role]}), 204)
    before = snapshot(db)
    tokens = {name: api.login(name, f"{name}-password") for name in ("nobody", "folks", "viewer")}
    writes: list[tuple[str, str, Any]] = [
        ("POST", "/odata/Machines", {"Name": "M9"}),
        ("PUT", f"/odata/Machines({world.machine})", {"Name": "Renamed"}),
        ("DELETE", f"/odata/Machines({world.machine})", None),
        ("POST", "/odata/Robots", {"Name": "R9"}),
        ("DELETE", f"/odata/Robots({world.robot})", None),
        ("POST", "/odata/Releases", {"Name": "P9", "ProcessKey": "P9"}),
        ("PUT", f"/odata/Releases({world.release})", {"Name": "Renamed"}),
        ("DELETE", f"/odata/Releases({world.release})", None),
        ("POST", "/odata/Environments", {"Name": "E9"}),
        ("POST", "/odata/Folders", {"DisplayName": "F9"}),
        ("DELETE", f"/odata/Folders({world.shared})", None),
        ("POST", "/odata/Users", {"UserName": "u9", "Password": "password-9"}),
        ("PUT", f"/odata/Users({api.tenant.admin_user_id})", {"Password": "hijacked-password"}),
        ("DELETE", f"/odata/Users({api.tenant.admin_user_id})", None),
        ("POST", "/odata/Roles", {"Name": "r9", "Permissions": [{"Name": "Users.Edit"}]}),
        (
            "PUT",
            f"/odata/Roles({viewer_role})",
            {"Name": "JobViewer", "Permissions": [{"Name": "Users.Edit"}]},
        ),
        ("POST", f"/odata/Users({nobody})/{NS}.AssignRoles", {"roleIds": [viewer_role]}),
        (
            "POST",
            f"/odata/Folders/{NS}.AssignUsers",
            {
                "assignments": {
                    "UserIds": [nobody],
                    "RolesPerFolder": [{"FolderId": world.shared, "RoleIds": [roles[0]["Id"]]}],
                }
            },
        ),
        ("POST", f"/odata/Environments({world.environment})/{NS}.AddRobot", {"robotId": world.robot}),
    ]
    for name, token in tokens.items():
        for method, url, body in writes:
            response = api.client.request(method, url, json=body, headers=api.headers(world.shared, token))
            refused(response, 403, None, (name, method, url))
    reads = ["/odata/Machines", "/odata/Users", "/odata/Roles", f"/odata/Users({api.tenant.admin_user_id})"]
    for name, token in tokens.items():
        for url in reads:
            refused(api.get(url, token=token), 403, None, (name, url))
    # nobody may not list or stop jobs; viewer may list but not stop them; folks may list Shared's jobs
    refused(api.get("/odata/Jobs", token=tokens["nobody"]), 403)
    refused(api.get("/odata/Robots", token=tokens["nobody"]), 403)
    assert len(api.ok(api.get("/odata/Jobs", token=tokens["viewer"]))["value"]) == len(world.jobs)
    assert len(api.ok(api.get("/odata/Jobs", token=tokens["folks"]))["value"]) == len(world.jobs)
    for name in ("nobody", "viewer"):
        refused(
            api.post(f"/odata/Jobs/{NS}.StopJobs", {"jobIds": world.jobs, "strategy": 2}, token=tokens[name]),
            403,
            None,
            name,
        )
        response = api.post(
            f"/odata/Jobs/{NS}.StartJobs",
            {"startInfo": {"ReleaseKey": world.release_key}},
            token=tokens[name],
        )
        assert response.status_code in (403, 404), response.text
        refused(response, response.status_code)
    # what everyone may do: who am I, what may I do
    for token in tokens.values():
        api.ok(api.get(f"/odata/Users/{NS}.GetCurrentUser", token=token))
        api.ok(api.get("/odata/Permissions", token=token))
    after = snapshot(db)
    assert after == before


def encoded(path: str) -> str:
    return base64.b64encode(path.encode("utf-16-le")).decode()


def test_missing_and_unknown_folders(api: Api, world: World, db: Engine) -> None:
    before = snapshot(db)
    auth = api.headers()
    for url, body in (
        ("/odata/Releases", {"Name": "P9", "ProcessKey": "P9"}),
        ("/odata/Environments", {"Name": "E9"}),
    ):
        refused(api.client.post(url, json=body, headers=auth), 400, 1101, url)
    unknown = [
        {"X-UIPATH-OrganizationUnitId": "999999"},
        {"X-UIPATH-OrganizationUnitId": "abc"},
        {"X-UIPATH-OrganizationUnitId": "-1"},
        {"X-UIPATH-OrganizationUnitId": "99999999999999999999"},
        {"X-UIPATH-FolderPath": "Nope"},
        {"X-UIPATH-FolderPath": "Shared/Nope"},
        {"X-UIPATH-FolderPath": "Shared' OR '1'='1"},
        {"X-UIPATH-FolderPath": "%"},
        {"X-UIPATH-FolderKey": str(uuid.uuid4())},
        {"X-UIPATH-FolderKey": "not-a-guid"},
        {"X-UIPATH-FolderPath-Encoded": encoded("Nope")},
        {"X-UIPATH-FolderPath-Encoded": "%%%notbase64"},
        {"X-UIPATH-FolderPath-Encoded": base64.b64encode(b"\x00\xd8").decode()},
        {"X-UIPATH-FolderPath-Encoded": base64.b64encode(b"abc").decode()},
        {"X-UIPATH-FolderPath-Encoded": encoded("Shared\x00")},
        {"X-UIPATH-FolderPath-Encoded": encoded("\x00")},
    ]
    for header in unknown:
        for method, url, body in (
            ("GET", "/odata/Jobs", None),
            ("GET", "/odata/Releases", None),
            ("POST", "/odata/Releases", {"Name": "P9", "ProcessKey": "P9"}),
            ("POST", f"/odata/Jobs/{NS}.StartJobs", {"startInfo": {"ReleaseName": "P1"}}),
        ):
            response = api.client.request(method, url, json=body, headers={**auth, **header})
            refused(response, 400, 1100, (header, method, url))
    assert snapshot(db) == before


# -- property-based: random and mutated query text -----------------------------------------------------


VALID_FILTERS = [
    "Robot/Id eq 749 and State eq 'Successful'",
    "Robot/Name eq 'DocBot'",
    "Robot/Id eq 759 and EndTime lt 2018-02-22T10:00:00.837Z",
    "(CreationTime gt 2017-01-01T00:00:00.000Z and State eq '4' and indexof(Info,'Logon failure') ne -1)",
    "Release/EnvironmentId eq 312",
    "State in ('Pending','Running') or not (Id ge 10)",
    "contains(tolower(ReleaseName),'p') and length(Info) gt 3",
    "year(CreationTime) eq 2018 and month(StartTime) le 6",
    "Key eq 1c7222dc-416f-4c60-9b17-88262c91768f",
    "substring(Info, 1, 2) eq 'ob' or concat(Source, 'x') eq 'Manualx'",
    "State has UiPath.Core.Enums.JobState'Running'",
    "Robot eq null and Info ne null",
]
VALID_ORDERBY = ["Id desc", "Robot/Name asc, CreationTime desc", "State,Id", "Release/Name desc"]
VALID_SELECT = ["Id,State,Info", "Key", "Id, Robot", "ReleaseName,CreationTime"]
PIECES = [
    "eq",
    "ne",
    "and",
    "or",
    "not",
    "in",
    "has",
    "(",
    ")",
    "'",
    "''",
    "/",
    ",",
    " ",
    "-",
    "null",
    "true",
    "Robot",
    "Id",
    "State",
    "Info",
    "$it",
    "@p",
    "1e309",
    "9223372036854775808",
    "-9223372036854775809",
    "0.5",
    "2018-02-30",
    "2018-02-22T25:00:00Z",
    "contains(",
    "tolower(",
    "substring(",
    "length(",
    "date(",
    "UiPath.Core.Enums.JobState'",
    "guid'",
    "datetime'",
    "%",
    "_",
    "\\",
    '"',
    ";",
    "--",
    "/*",
    "\x00",
    "\u00e9",
    "\U0001f600",
    "desc",
    "asc",
    "*",
    "Release/EnvironmentId",
    "Robot/Machine/Name",
]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[str]) -> str:
    """A valid expression with a few random cuts, insertions, duplications and swaps."""
    value = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        if not value:
            value = draw(st.sampled_from(PIECES))
        at = draw(st.integers(0, len(value)))
        kind = draw(st.sampled_from(["cut", "insert", "piece", "duplicate", "swap", "truncate"]))
        if kind == "cut":
            end = draw(st.integers(at, min(len(value), at + 8)))
            value = value[:at] + value[end:]
        elif kind == "insert":
            value = value[:at] + draw(st.text(max_size=4)) + value[at:]
        elif kind == "piece":
            value = value[:at] + draw(st.sampled_from(PIECES)) + value[at:]
        elif kind == "duplicate":
            value = value[:at] + value[at : at + 10] + value[at:]
        elif kind == "swap":
            words = value.split(" ")
            i, j = draw(st.integers(0, len(words) - 1)), draw(st.integers(0, len(words) - 1))
            words[i], words[j] = words[j], words[i]
            value = " ".join(words)
        else:
            value = value[:at]
    return value


def any_text(seeds: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=60),
        st.lists(st.sampled_from(PIECES), max_size=12).map("".join),
        mutated(seeds),
    )


QUERIES = st.fixed_dictionaries(
    {},
    optional={
        "$filter": any_text(VALID_FILTERS),
        "$orderby": any_text(VALID_ORDERBY),
        "$select": any_text(VALID_SELECT),
        "$expand": st.sampled_from(
            ["Robot", "Release", "Robot,Release", "Release($select=Name)", "Robot($select=Id"]
        ),
        "$top": st.sampled_from(["1", "10", "0", "x", "1001"]),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=QUERIES)
def test_random_query_text_never_fails_the_server(api: Api, world: World, query: dict[str, str]) -> None:
    response = api.client.get("/odata/Jobs", params=query, headers=api.headers())
    assert response.status_code < 500, (query, response.text)
    if response.status_code >= 400:
        refused(response, response.status_code, None, query)
    else:
        assert isinstance(response.json()["value"], list)


# -- SQL injection ----------------------------------------------------------------------------------------


INJECTED_FILTERS = [
    "Robot/Name eq 'x'' or 1 eq 1 --'",
    "Robot/Name eq 'x'' OR ''1''=''1'",
    "Info eq '''; DROP TABLE jobs; --'",
    "ReleaseName eq 'P1''); DELETE FROM jobs; --'",
    "Source eq 'Manual'' UNION SELECT password_hash FROM users --'",
    "contains(Info,''') or 1=1 --')",
    "startswith(ReleaseName,'%')",
    "endswith(ReleaseName,'_')",
    "contains(ReleaseName,'\\')",
    "indexof(Info,'; DROP TABLE jobs') ne -1",
    "tolower(ReleaseName) eq 'p1'' or ''a''=''a'",
    "concat(Source,''' or 1=1') eq 'x'",
    "substring(ReleaseName, 0, 1) eq ''' or 1=1 --'",
    "Robot/Name in ('R9', 'x'' or 1=1 --')",
    "Key eq '00000000-0000-0000-0000-000000000000'' or ''1''=''1'",
    "State eq 'Pending'' or 1=1 --'",
    "State eq UiPath.Core.Enums.JobState'Pending'' or 1=1'",
]


def test_sql_injection_changes_nothing(api: Api, world: World, db: Engine) -> None:
    before = snapshot(db)
    for expression in INJECTED_FILTERS:
        response = api.client.get("/odata/Jobs", params={"$filter": expression}, headers=api.headers())
        assert response.status_code < 500, (expression, response.text)
        if response.status_code == 200:
            assert response.json()["value"] == [], expression  # no job's text holds these strings
        else:
            refused(response, 400, 1004, expression)
    for option in ("$orderby", "$select", "$expand"):
        for value in (
            "Id; DROP TABLE jobs",
            "Id) DESC; DELETE FROM jobs --",
            "(select 1)",
            "Id,'x'",
            "Id desc nulls first; --",
        ):
            refused(
                api.client.get("/odata/Jobs", params={option: value}, headers=api.headers()),
                400,
                1004,
                (option, value),
            )
    urls = [
        "/odata/Jobs(1;DROP TABLE jobs)",
        "/odata/Jobs(1%3BDROP%20TABLE%20jobs)",
        "/odata/Jobs('1; DROP TABLE jobs')",
        "/odata/Jobs(1 or 1=1)",
        "/odata/Jobs(Id=1 or 1=1)",
        "/odata/Jobs(0x1)",
        f"/odata/Jobs/{NS}.GetByKey(identifier='x''; DROP TABLE jobs; --')",
        f"/odata/Jobs/{NS}.GetByKey(identifier='x'' or ''1''=''1')",
        f"/odata/Jobs/{NS}.GetByKey(identifier=1 or 1=1)",
        f"/odata/Folders/{NS}.GetByKey(identifier='x'' or 1=1 --')",
        f"/odata/Environments/{NS}.GetRobotIdsForEnvironment(key='1 or 1=1')",
        f"/odata/Environments/{NS}.GetRobotsForEnvironment(key=1;DROP TABLE robots)",
        f"/odata/Roles/{NS}.GetUserIdsForRole(key='1'' or 1=1')",
        "/odata/Robots('R1'' or ''1''=''1')",
    ]
    for url in urls:
        response = api.get(url)
        assert 400 <= response.status_code < 500, (url, response.text)
        refused(response, response.status_code, None, url)
    bodies = [
        (f"/odata/Jobs/{NS}.StartJobs", {"startInfo": {"ReleaseName": "P1' OR '1'='1"}}),
        (f"/odata/Jobs/{NS}.StartJobs", {"startInfo": {"ReleaseKey": "x' OR 1=1 --"}}),
        (f"/odata/Jobs/{NS}.ResumeJob", {"jobKey": "' OR 1=1 --"}),
        (f"/odata/Jobs/{NS}.StopJobs", {"jobIds": ["1 OR 1=1"], "strategy": 2}),
        (
            f"/odata/Users({api.tenant.admin_user_id})/{NS}.ToggleRole",
            {"role": "x' OR '1'='1", "toggle": True},
        ),
    ]
    for url, body in bodies:
        response = api.post(url, body)
        assert 400 <= response.status_code < 500, (url, response.text)
        refused(response, response.status_code, None, url)
    for login in ("admin' --", "admin' OR '1'='1", "' OR 1=1 --"):
        refused(
            api.client.post(
                "/api/Account/Authenticate",
                json={"tenancyName": "Default", "usernameOrEmailAddress": login, "password": "x' OR '1'='1"},
            ),
            400,
        )
        refused(
            api.client.post(
                "/api/Account/Authenticate",
                json={
                    "tenancyName": "Default' OR '1'='1",
                    "usernameOrEmailAddress": login,
                    "password": ADMIN_PASSWORD,
                },
            ),
            400,
        )
    token = api.client.post(
        "/identity_/connect/token",
        data={"grant_type": "password", "username": "admin' --", "password": "x", "tenant": "Default"},
    )
    assert token.status_code == 400 and token.json()["error"] == "invalid_grant"
    # names with SQL in them are stored as text, and found as text
    name = "Robert'); DROP TABLE robots; --"
    created = api.ok(api.post("/odata/Machines", {"Name": name}), 201)
    quoted = name.replace("'", "''")
    found = api.ok(
        api.client.get("/odata/Machines", params={"$filter": f"Name eq '{quoted}'"}, headers=api.headers())
    )
    assert [m["Id"] for m in found["value"]] == [created["Id"]]
    api.ok(api.delete(f"/odata/Machines({created['Id']})"), 204)
    assert snapshot(db) == before
    assert len(api.ok(api.get("/odata/Jobs"))["value"]) == len(world.jobs)
