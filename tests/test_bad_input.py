"""Bad input of every kind answers a 4xx with Orchestrator's error body and writes nothing.

Malformed query options and filters, wrong literal types and enum names, malformed or oversized
bodies, unknown properties, keys and resources, missing or invalid tokens, missing permissions and
folders; a property-based test that throws random and mutated ``$filter``/``$orderby``/``$select`` text
at ``/odata/Jobs``; SQL injection in every literal position.

One case, one test: every table of cases is parametrized, so that a failing case hides no other. The
data the cases aim at (a ``World``: a package, machine, robot, environment, release and jobs) is built
once per backend for the whole module, in a database of the module's own (``module_database_url``);
after each case, the ``readonly`` fixture checks that no table changed. Cases name the World's ids
before it exists with ``Ref``s (``ROBOT``; in URL templates ``f"/odata/Robots({ROBOT})"``), resolved
when the case runs. The few good neighbours that do write (an accepted body, a row created and
deleted) take ``stage`` and move the baseline on.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import ColumnElement, CompoundSelect, Text, cast, func, literal, select, union_all
from sqlalchemy.engine import Connection

from podium.db.tables import metadata
from tests.conftest import sync_engine
from tests.factories import release, role_id, user, user_with
from tests.support import ADMIN_PASSWORD, SIGNING_KEY, Api, assert_error, encoded, start_app

pytestmark = pytest.mark.usefixtures("cheap_password_hashes")

NS = "UiPath.Server.Configuration.OData"
# a key no entity has (fixed, so that every pytest-xdist worker collects the same test ids)
UNKNOWN_KEY = "0d3c1f52-7a4e-4b9e-9c1d-5e8f2a6b7c90"
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
LAST_LOGIN = "last_login_time"  # written by every login, good or bad: not part of the snapshot
Rows = list[tuple[Any, ...]]


def _snapshot_query() -> CompoundSelect[tuple[str, int, str]]:
    """Every row of ``TABLES`` as (table, id, its values as one text) in one statement: one round trip."""
    selects = []
    for name in TABLES:
        table = metadata.tables[name]
        values: list[ColumnElement[str]] = [
            func.coalesce(cast(column, Text), "<null>") for column in table.c if column.name != LAST_LOGIN
        ]
        joined = values[0]
        for value in values[1:]:
            joined = joined + "|" + value
        selects.append(select(literal(name).label("t"), table.c.id, joined.label("row")))
    return union_all(*selects).order_by("t", "id")


SNAPSHOT = _snapshot_query()
SNAPSHOT_SQL: dict[str, str] = {}  # by dialect: the statement with its constants inlined (5x faster to run)


def snapshot(conn: Connection) -> Rows:
    """Every row of every table a bad request could touch (the users' last login time aside), as plain
    tuples straight from the driver (run after every case: it has to be cheap)."""
    name = conn.dialect.name
    if name not in SNAPSHOT_SQL:
        inlined = SNAPSHOT.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        SNAPSHOT_SQL[name] = str(inlined)
    driver = conn.connection.dbapi_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.execute(SNAPSHOT_SQL[name])
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


class World:
    """The data the bad requests aim at: a machine, a robot in Shared and in an environment, a release of
    that environment, two Pending jobs."""

    def __init__(self, api: Api) -> None:
        self.api = api
        shared = api.tenant.shared_folder_id
        self.shared = shared
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
        p1 = release(api, shared, "P1", self.environment)
        self.release, self.release_key = p1["Id"], p1["Key"]
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

    def ids(self) -> dict[str, Any]:
        """What ``Ref``s name."""
        return {
            "machine": self.machine,
            "robot": self.robot,
            "environment": self.environment,
            "release": self.release,
            "release_key": self.release_key,
            "job": self.jobs[0],
            "jobs": self.jobs,
            "job_key": self.job_keys[0],
            "shared": self.shared,
            "admin": self.api.tenant.admin_user_id,
        }


class Ref:
    """A value of the World named before the World exists: a whole value in a body (``{"robotId": ROBOT}``)
    or, formatted into a URL template, a ``{robot}`` placeholder (``f"/odata/Robots({ROBOT})"``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return "{" + self.name + "}"

    def __repr__(self) -> str:
        return self.name


MACHINE, ROBOT, ENVIRONMENT, RELEASE = Ref("machine"), Ref("robot"), Ref("environment"), Ref("release")
RELEASE_KEY, JOB, JOBS, JOB_KEY = Ref("release_key"), Ref("job"), Ref("jobs"), Ref("job_key")
SHARED, ADMIN = Ref("shared"), Ref("admin")
NOBODY, VIEWER_ROLE, AUTOMATION_USER = Ref("nobody"), Ref("viewer_role"), Ref("automation_user")  # `people`


@dataclass
class Stage:
    """One backend's app, World and database for the whole module; ``baseline``: the tables as they must
    stay (moved on only by what a test writes on purpose)."""

    api: Api
    world: World
    reader: Connection  # autocommit: sees every write as soon as it is committed
    baseline: Rows
    ids: dict[str, Any] = field(default_factory=dict)

    def url(self, template: str) -> str:
        return template.format_map(self.ids)

    def body(self, value: Any) -> Any:
        if isinstance(value, Ref):
            return self.ids[value.name]
        if isinstance(value, dict):
            return {k: self.body(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.body(v) for v in value]
        return value

    def request(
        self,
        method: str,
        url: str,
        body: Any = None,
        folder: Any = None,
        token: str | None = None,
    ) -> httpx.Response:
        """As the admin (or ``token``'s user), ``url`` and ``body`` resolved."""
        headers = self.api.headers(self.body(folder), token)
        response: httpx.Response = self.api.client.request(
            method, self.url(url), json=self.body(body), headers=headers
        )
        return response

    def rebase(self) -> None:
        """After a write on purpose: the tables as they are now are the ones to keep."""
        self.baseline = snapshot(self.reader)


@pytest.fixture(scope="module")
def stage(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    """Podium on the module's database of this backend, with its World, built once."""
    db = sync_engine(module_database_url)
    try:
        with (
            db.connect().execution_options(isolation_level="AUTOCOMMIT") as reader,
            start_app(module_database_url, tmp_path_factory.mktemp("bad-input")) as api,
        ):
            world = World(api)
            yield Stage(api, world, reader, snapshot(reader), world.ids())
    finally:
        db.dispose()


@pytest.fixture
def readonly(stage: Stage) -> Iterator[Stage]:
    """The stage, and after the test (passed or failed): no table changed. A change fails this case only:
    the next case compares with the tables as they are then."""
    yield stage
    before, stage.baseline = stage.baseline, snapshot(stage.reader)
    if stage.baseline != before:
        changed = sorted(set(before) ^ set(stage.baseline))  # rows as they were and as they are now
        assert not changed, f"a refused request wrote to the database: {changed}"


def refused(response: httpx.Response, status: int = 400, code: int | None = None) -> None:
    body = assert_error(response, status)
    if code is not None:
        assert body["errorCode"] == code, body


def case_id(value: Any) -> str:
    """A short test id for any case value."""
    if isinstance(value, bytes):
        shown = repr(value)
    elif isinstance(value, str):
        shown = value if value.strip() else repr(value)
    elif isinstance(value, (dict, list)):
        shown = json.dumps(value, default=repr)
    else:
        shown = repr(value)
    return shown if len(shown) <= 60 else f"{shown[:48]}...({len(shown)})"


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
OTHER_SETS = ["Robots", "Machines", "Environments", "Releases", "Folders", "Users", "Roles"]
BAD_OPTIONS_EVERYWHERE = [
    "$top=abc",
    "$top=1001",
    "$skip=-1",
    "$count=maybe",
    "$select=Nope",
    "$expand=Nope",
    "$orderby=Nope desc",
    "$foo=1",
    "$filter=Nope eq 1",
]
BAD_OPTIONS_OF_ONE_JOB = [
    f"/odata/Jobs({JOB})?$select=Nope",
    f"/odata/Jobs/{NS}.GetByKey(identifier='{JOB_KEY}')?$expand=Nope",
    "/odata/Jobs/$count?$filter=State eq",
]


@pytest.mark.parametrize("option", BAD_OPTIONS, ids=case_id)
def test_malformed_query_options(readonly: Stage, option: str) -> None:
    refused(readonly.request("GET", f"/odata/Jobs?{option}"), 400, 1004)


@pytest.mark.parametrize("option", BAD_OPTIONS_EVERYWHERE, ids=case_id)
@pytest.mark.parametrize("entity_set", OTHER_SETS)
def test_malformed_query_options_of_other_sets(readonly: Stage, entity_set: str, option: str) -> None:
    refused(readonly.request("GET", f"/odata/{entity_set}?{option}"), 400, 1004)


@pytest.mark.parametrize("url", BAD_OPTIONS_OF_ONE_JOB, ids=case_id)
def test_malformed_query_options_of_one_job(readonly: Stage, url: str) -> None:
    refused(readonly.request("GET", url), 400, 1004)


def test_the_limits_themselves_are_accepted(readonly: Stage) -> None:
    assert readonly.api.ok(readonly.request("GET", "/odata/Jobs?$top=1000&$skip=0&$count=false"))["value"]


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
BAD_FILTERS_OF_OTHER_SETS = [
    ("Robots", "Name eq 5"),
    ("Robots", "Type eq 'Nope'"),
    ("Robots", "MachineId eq 'x'"),
    ("Robots", "Nope eq 1"),
    ("Robots", "Name eq"),
    ("Folders", "FolderType eq 'Huge'"),
    ("Releases", "JobPriority eq 'Urgent'"),
]
GOOD_NEIGHBOUR_FILTERS = [
    "State eq 'Pending'",
    "State eq '0'",
    "State eq 0",
    "State in ('Pending','Running')",
    "Robot/Id eq 1 or Robot eq null",
    "Id eq 1.0",
]


def get_filtered(stage: Stage, entity_set: str, expression: str) -> httpx.Response:
    response: httpx.Response = stage.api.client.get(
        f"/odata/{entity_set}", params={"$filter": expression}, headers=stage.api.headers()
    )
    return response


@pytest.mark.parametrize("expression", BAD_FILTERS, ids=case_id)
def test_malformed_filters(readonly: Stage, expression: str) -> None:
    refused(get_filtered(readonly, "Jobs", expression), 400, 1004)


@pytest.mark.parametrize(("entity_set", "expression"), BAD_FILTERS_OF_OTHER_SETS, ids=case_id)
def test_malformed_filters_of_other_sets(readonly: Stage, entity_set: str, expression: str) -> None:
    refused(get_filtered(readonly, entity_set, expression), 400, 1004)


@pytest.mark.parametrize("expression", GOOD_NEIGHBOUR_FILTERS, ids=case_id)
def test_the_good_neighbours_of_bad_filters(readonly: Stage, expression: str) -> None:
    readonly.api.ok(get_filtered(readonly, "Jobs", expression))


# -- bodies ----------------------------------------------------------------------------------------------


BODY_TARGETS = [
    ("POST", "/odata/Machines"),
    ("POST", "/odata/Releases"),
    ("POST", "/odata/Folders"),
    ("POST", "/odata/Users"),
    ("POST", "/odata/Roles"),
    ("PUT", f"/odata/Machines({MACHINE})"),
    ("PATCH", f"/odata/Robots({ROBOT})"),
    ("POST", f"/odata/Jobs/{NS}.StartJobs"),
    ("POST", f"/odata/Jobs/{NS}.StopJobs"),
    ("POST", f"/odata/Jobs({JOB})/{NS}.StopJob"),
    ("POST", f"/odata/Jobs/{NS}.RestartJob"),
    ("POST", f"/odata/Jobs/{NS}.ResumeJob"),
    ("POST", f"/odata/Environments({ENVIRONMENT})/{NS}.AddRobot"),
    ("POST", f"/odata/Folders/{NS}.AssignUsers"),
    ("POST", f"/odata/Users({ADMIN})/{NS}.AssignRoles"),
]
MALFORMED_BODIES: list[str | bytes] = [
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


def send_raw(
    stage: Stage, method: str, url: str, content: str | bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    headers = {**(headers or {}), "Content-Type": "application/json"}
    response: httpx.Response = stage.api.client.request(
        method, stage.url(url), content=content, headers=headers
    )
    return response


@pytest.mark.parametrize("content", MALFORMED_BODIES, ids=case_id)
@pytest.mark.parametrize(("method", "url"), BODY_TARGETS, ids=case_id)
def test_malformed_json_and_non_object_bodies(
    readonly: Stage, method: str, url: str, content: str | bytes
) -> None:
    refused(send_raw(readonly, method, url, content, readonly.api.headers(readonly.world.shared)), 400)


@pytest.mark.parametrize("content", MALFORMED_BODIES, ids=case_id)
def test_malformed_bodies_of_authenticate(readonly: Stage, content: str | bytes) -> None:
    refused(send_raw(readonly, "POST", "/api/Account/Authenticate", content), 400)


@pytest.mark.parametrize("content", MALFORMED_BODIES, ids=case_id)
def test_malformed_bodies_of_personal_access_tokens(readonly: Stage, content: str | bytes) -> None:
    refused(send_raw(readonly, "POST", "/api/PersonalAccessTokens", content, readonly.api.headers()), 400)


# -- unknown properties, wrong types and enum names ------------------------------------------------------


BAD_NEW_ROWS: list[tuple[str, dict[str, Any]]] = [
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
BAD_UPDATES: list[tuple[str, Ref, dict[str, Any]]] = [
    ("Machines", MACHINE, {"Name": "M1", "Nope": 1}),
    ("Machines", MACHINE, {"Name": None}),
    ("Machines", MACHINE, {"Type": "Nope"}),
    ("Robots", ROBOT, {"MachineId": "abc"}),
    ("Robots", ROBOT, {"Type": "Robotic"}),
    ("Releases", RELEASE, {"EnvironmentId": 999999}),
    ("Releases", RELEASE, {"JobPriority": "Urgent"}),
    ("Environments", ENVIRONMENT, {"Type": "Staging"}),
    ("Folders", SHARED, {"DisplayName": "a/b"}),
    ("Folders", SHARED, {"ParentId": 5}),
    ("Users", ADMIN, {"Password": "short"}),
    ("Users", ADMIN, {"Nope": 1}),
]


@pytest.mark.parametrize(("entity_set", "body"), BAD_NEW_ROWS, ids=case_id)
def test_unknown_properties_wrong_types_and_enum_names(
    readonly: Stage, entity_set: str, body: dict[str, Any]
) -> None:
    refused(readonly.request("POST", f"/odata/{entity_set}", body, folder=SHARED), 400)


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize(("entity_set", "key", "body"), BAD_UPDATES, ids=case_id)
def test_the_same_mistakes_in_updates(
    readonly: Stage, entity_set: str, key: Ref, body: dict[str, Any], method: str
) -> None:
    refused(readonly.request(method, f"/odata/{entity_set}({key})", body), 400)


def test_read_only_properties_are_ignored_not_written(stage: Stage) -> None:
    api, machine = stage.api, stage.world.machine
    key = api.ok(api.get(f"/odata/Machines({machine})"))["Key"]
    try:
        api.ok(api.put(f"/odata/Machines({machine})", {"Name": "M1", "Id": 999, "Key": str(uuid.uuid4())}))
        assert api.ok(api.get(f"/odata/Machines({machine})"))["Key"] == key
    finally:
        stage.rebase()


# -- action arguments -------------------------------------------------------------------------------------


START = f"/odata/Jobs/{NS}.StartJobs"
BAD_STARTS: list[Any] = [
    {},
    {"startInfo": 5},
    {"startInfo": None},
    {"startInfo": {}},
    {"startInfo": {"ReleaseKey": ""}},
    {"startInfo": {"ReleaseName": 5}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Strategy": "Sometimes"}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Strategy": 9}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Strategy": True}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Strategy": "Specific"}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Strategy": "Specific", "RobotIds": []}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Strategy": "Specific", "RobotIds": "abc"}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Strategy": "Specific", "RobotIds": [True]}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Strategy": "Specific", "RobotIds": ["1"]}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Strategy": "Specific", "RobotIds": [999999]}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Strategy": "Specific", "RobotIds": [18446744073709551615]}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Strategy": "JobsCount", "JobsCount": -1}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Strategy": "JobsCount", "JobsCount": "3"}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Strategy": "JobsCount", "JobsCount": 10_001}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Strategy": "JobsCount", "JobsCount": 1.5}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Strategy": "RobotCount", "NoOfRobots": 2}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Strategy": "RobotCount", "NoOfRobots": -2}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "InputArguments": "not json"}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "InputArguments": "[1, 2]"}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "InputArguments": '"text"'}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "InputArguments": 5}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "InputArguments": {"a": 1}}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Source": 5}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "BatchExecutionKey": "nope"}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "JobPriority": "Urgent"}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Reference": "x" * 200}},
    {"startInfo": {"ReleaseKey": RELEASE_KEY, "Reference": 5}},
]
BAD_ACTIONS: list[tuple[str, Any, int]] = [
    (f"Jobs/{NS}.StopJobs", {"jobIds": "1", "strategy": 1}, 400),
    (f"Jobs/{NS}.StopJobs", {"jobIds": [], "strategy": 1}, 400),
    (f"Jobs/{NS}.StopJobs", {"jobIds": [JOB, "x"], "strategy": 1}, 400),
    (f"Jobs/{NS}.StopJobs", {"jobIds": [JOB], "strategy": "Gently"}, 400),
    (f"Jobs/{NS}.StopJobs", {"jobIds": [JOB], "strategy": 3}, 400),
    (f"Jobs/{NS}.StopJobs", {"jobIds": [JOB]}, 400),
    (f"Jobs/{NS}.StopJobs", {"jobIds": [JOB, 999999], "strategy": 2}, 404),
    (f"Jobs/{NS}.StopJobs", {"jobIds": [18446744073709551615], "strategy": 2}, 400),  # beyond Int64
    (f"Jobs/{NS}.StopJobs", {"jobIds": [-(2**63) - 1], "strategy": 2}, 400),
    (f"Jobs({JOB})/{NS}.StopJob", {"strategy": "x"}, 400),
    (f"Jobs({JOB})/{NS}.StopJob", {}, 400),
    (f"Jobs('abc')/{NS}.StopJob", {"strategy": 1}, 400),
    (f"Jobs(999999)/{NS}.StopJob", {"strategy": 1}, 404),
    (f"Jobs(99999999999999999999)/{NS}.StopJob", {"strategy": 1}, 400),
    (f"Jobs/{NS}.RestartJob", {"jobId": "x"}, 400),
    (f"Jobs/{NS}.RestartJob", {}, 400),
    (f"Jobs/{NS}.RestartJob", {"jobId": 999999}, 404),
    (f"Jobs/{NS}.RestartJob", {"jobId": 18446744073709551615}, 400),
    (f"Jobs/{NS}.RestartJob", {"jobId": JOB}, 400),  # Pending: not finished
    (f"Jobs/{NS}.ResumeJob", {"jobKey": 5}, 400),
    (f"Jobs/{NS}.ResumeJob", {"jobKey": "nope"}, 404),
    (f"Jobs/{NS}.ResumeJob", {"jobKey": JOB_KEY}, 400),  # Pending: not suspended
    (f"Environments({ENVIRONMENT})/{NS}.AddRobot", {"robotId": "x"}, 400),
    (f"Environments({ENVIRONMENT})/{NS}.AddRobot", {}, 400),
    (f"Environments({ENVIRONMENT})/{NS}.AddRobot", {"robotId": 999999}, 400),
    (f"Environments({ENVIRONMENT})/{NS}.AddRobot", {"robotId": 18446744073709551615}, 400),
    (f"Environments({ENVIRONMENT})/{NS}.SetRobots", {"addedRobotIds": "x"}, 400),
    (f"Environments(999999)/{NS}.AddRobot", {"robotId": ROBOT}, 404),
    (f"Folders/{NS}.AssignUsers", {"assignments": 5}, 400),
    (f"Folders/{NS}.AssignUsers", {"assignments": {"UserIds": "x", "RolesPerFolder": []}}, 400),
    (
        f"Folders/{NS}.AssignUsers",
        {"assignments": {"UserIds": [ADMIN], "RolesPerFolder": [{"FolderId": "x"}]}},
        400,
    ),
    (
        f"Folders/{NS}.AssignUsers",
        {
            "assignments": {
                "UserIds": [ADMIN],
                "RolesPerFolder": [{"FolderId": 999999}],
            }
        },
        400,
    ),
    (f"Folders/{NS}.AssignUsers", {"assignments": {"UserIds": [999999], "RolesPerFolder": []}}, 400),
    (f"Users({ADMIN})/{NS}.AssignRoles", {"roleIds": "x"}, 400),
    (f"Users({ADMIN})/{NS}.AssignRoles", {"roleIds": [999999]}, 400),
    (f"Users(999999)/{NS}.AssignRoles", {"roleIds": []}, 400),
    (f"Users({ADMIN})/{NS}.SetActive", {"active": "no"}, 400),
    (f"Users({ADMIN})/{NS}.ToggleRole", {"role": 5, "toggle": True}, 400),
    (f"Users({ADMIN})/{NS}.ToggleRole", {"role": ["Robot"], "toggle": True}, 400),
    (f"Users('admin')/{NS}.AssignRoles", {"roleIds": []}, 400),
    (f"Folders/{NS}.AssignUsers", {"assignments": {"UserIds": ["x"], "RolesPerFolder": []}}, 400),
    (f"Folders/{NS}.AssignUsers", {"assignments": {"UserIds": [True], "RolesPerFolder": []}}, 400),
    (
        f"Folders/{NS}.AssignUsers",
        {
            "assignments": {
                "UserIds": [],
                "RolesPerFolder": [{"FolderId": SHARED, "RoleIds": ["x"]}],
            }
        },
        400,
    ),
    (f"Folders({SHARED})/{NS}.RemoveUserFromFolder", {"userId": "x"}, 400),
    (f"Folders({SHARED})/{NS}.RemoveUserFromFolder", {}, 400),
    (f"Folders('abc')/{NS}.RemoveUserFromFolder", {"userId": 1}, 400),
    (f"Roles('abc')/{NS}.SetUsers", {"addedUserIds": []}, 400),
    (f"Roles({ADMIN})/{NS}.SetUsers", {"addedUserIds": ["x"]}, 400),
    (f"Environments('abc')/{NS}.AddRobot", {"robotId": 1}, 400),
    (
        f"Environments({ENVIRONMENT})/{NS}.SetRobots",
        {"addedRobotIds": [], "removedRobotIds": ["x"]},
        400,
    ),
]
BAD_PERSONAL_ACCESS_TOKENS: list[dict[str, Any]] = [
    {"Name": ""},
    {"Name": 5},
    {"Name": "t", "ExpiresInDays": 0},
    {"Name": "t", "ExpiresInDays": "x"},
    {},
    {"Name": "x" * 129},
]
BAD_LOGINS: list[dict[str, Any]] = [
    {"usernameOrEmailAddress": "admin"},
    {"password": "x"},
    {"usernameOrEmailAddress": 5, "password": ADMIN_PASSWORD},
    {"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": "wrong"},
    {"tenancyName": "Nope", "usernameOrEmailAddress": "admin", "password": ADMIN_PASSWORD},
]


@pytest.mark.parametrize("body", BAD_STARTS, ids=case_id)
def test_bad_start_jobs_arguments(readonly: Stage, body: Any) -> None:
    response = readonly.request("POST", START, body)
    assert 400 <= response.status_code < 500, response.text
    refused(response, response.status_code)


def test_start_jobs_of_an_unknown_release(readonly: Stage) -> None:
    refused(readonly.request("POST", START, {"startInfo": {"ReleaseKey": str(uuid.uuid4())}}), 404)


@pytest.mark.parametrize(("path", "body", "status"), BAD_ACTIONS, ids=case_id)
def test_bad_action_arguments(readonly: Stage, path: str, body: Any, status: int) -> None:
    refused(readonly.request("POST", f"/odata/{path}", body), status)


@pytest.mark.parametrize("body", BAD_PERSONAL_ACCESS_TOKENS, ids=case_id)
def test_bad_personal_access_token_arguments(readonly: Stage, body: dict[str, Any]) -> None:
    refused(readonly.request("POST", "/api/PersonalAccessTokens", body), 400)


@pytest.mark.parametrize("body", BAD_LOGINS, ids=case_id)
def test_bad_logins(readonly: Stage, body: dict[str, Any]) -> None:
    refused(readonly.api.client.post("/api/Account/Authenticate", json=body), 400)


# -- NUL characters ---------------------------------------------------------------------------------------


NUL_REQUESTS: list[tuple[str, str, Any]] = [  # as the admin, no folder header
    ("POST", "/odata/Machines", {"Name": "M\x002"}),
    ("POST", "/odata/Folders", {"DisplayName": "F\x00"}),
    ("PUT", f"/odata/Machines({MACHINE})", {"Name": "M1", "Description": "a\x00b"}),
    ("POST", START, {"startInfo": {"ReleaseKey": RELEASE_KEY, "Source": "a\x00"}}),
    ("POST", START, {"startInfo": {"ReleaseName": "P\x001"}}),
    ("POST", f"/odata/Jobs/{NS}.ResumeJob", {"jobKey": "\x00"}),
    ("GET", f"/odata/Jobs/{NS}.GetByKey(identifier='a%00b')", None),
    ("GET", f"/odata/Folders/{NS}.GetByKey(identifier='a%00b')", None),
    ("GET", "/odata/Machines('%00')", None),
    ("GET", "/odata/Jobs?$select=Id%00", None),
    ("GET", "/odata/Jobs?$orderby=Id%00", None),
    ("GET", "/odata/Jobs?$filter=Info eq 'a%00b'", None),
    ("POST", "/api/PersonalAccessTokens", {"Name": "t\x00"}),
]


@pytest.mark.parametrize(("method", "url", "body"), NUL_REQUESTS, ids=case_id)
def test_strings_with_nul_characters(readonly: Stage, method: str, url: str, body: Any) -> None:
    """PostgreSQL cannot store NUL in text: a NUL anywhere in the input is the client's mistake (4xx)."""
    response = readonly.request(method, url, body)
    assert 400 <= response.status_code < 500, (response.request.url, response.text)
    refused(response, response.status_code)


def test_a_login_with_nul_characters(readonly: Stage) -> None:
    response = readonly.api.client.post(
        "/api/Account/Authenticate",
        json={"tenancyName": "Default\x00", "usernameOrEmailAddress": "admin\x00", "password": "x"},
    )
    assert 400 <= response.status_code < 500, response.text
    refused(response, response.status_code)


# -- unknown keys and resources ----------------------------------------------------------------------------


MISSING = [
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
    ("GET", f"/odata/Jobs/{NS}.GetByKey(identifier={UNKNOWN_KEY})"),
    ("GET", f"/odata/Folders/{NS}.GetByKey(identifier='{UNKNOWN_KEY}')"),
    ("GET", f"/odata/Environments/{NS}.GetRobotIdsForEnvironment(key=999999)"),
    ("GET", "/api/Exports/999999/Download"),
    ("DELETE", "/api/PersonalAccessTokens/999999"),
]
INVALID_KEYS = [
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
HUGE_KEYS = ["99999999999999999999", "-9223372036854775809", "9" * 5000]  # beyond Int64, and Python's parsing
KEYED_ODATA = [
    ("GET", "/odata/Jobs({key})"),
    ("PUT", "/odata/Machines({key})"),
    ("PATCH", "/odata/Robots({key})"),
    ("DELETE", "/odata/Robots({key})"),
    ("POST", f"/odata/Jobs({{key}})/{NS}.StopJob"),
    ("GET", f"/odata/Environments/{NS}.GetRobotIdsForEnvironment(key={{key}})"),
]
KEYED_API = [("GET", "/api/Exports/{key}/Download"), ("DELETE", "/api/PersonalAccessTokens/{key}")]
BAD_PAGES = ["skip=\u00b2", "take=\u00b2", "skip=" + "9" * 5000, "take=-1", "skip=1e3"]
BAD_DIGITS = ["$top=\u00b2", "$skip=\u00b2", "$top=\u0661", "$skip=" + "9" * 5000]
WRONG_METHODS = [
    ("PATCH", "/odata/Jobs"),
    ("DELETE", "/odata/Jobs"),
    ("GET", f"/odata/Jobs/{NS}.StartJobs"),
    ("POST", f"/odata/Jobs/{NS}.GetByKey(identifier='x')"),
    ("PUT", "/odata/Machines"),
]


@pytest.mark.parametrize(("method", "url"), MISSING, ids=case_id)
def test_unknown_keys_and_resources(readonly: Stage, method: str, url: str) -> None:
    body = {"Name": "x"} if method in ("PUT", "PATCH") else None
    refused(readonly.request(method, url, body), 404)


@pytest.mark.parametrize("url", INVALID_KEYS, ids=case_id)
def test_invalid_keys(readonly: Stage, url: str) -> None:
    response = readonly.request("GET", url)
    assert response.status_code in (400, 404), response.text
    refused(response, response.status_code)


@pytest.mark.parametrize("key", HUGE_KEYS, ids=case_id)
@pytest.mark.parametrize(("method", "url"), KEYED_ODATA, ids=case_id)
def test_keys_beyond_int64_are_malformed(readonly: Stage, method: str, url: str, key: str) -> None:
    body = {"Name": "x", "strategy": 1} if method != "GET" else None
    refused(readonly.request(method, url.format(key=key), body), 400)


@pytest.mark.parametrize("key", HUGE_KEYS, ids=case_id)
@pytest.mark.parametrize(("method", "url"), KEYED_API, ids=case_id)
def test_keys_beyond_int64_in_api_routes(readonly: Stage, method: str, url: str, key: str) -> None:
    response = readonly.request(method, url.format(key=key))
    assert response.status_code in (400, 404), response.text
    refused(response, response.status_code)


@pytest.mark.parametrize("query", BAD_PAGES, ids=case_id)
def test_bad_pages_of_folders_navigation(readonly: Stage, query: str) -> None:
    refused(readonly.request("GET", f"/api/FoldersNavigation/GetFoldersForCurrentUser?{query}"), 400)


@pytest.mark.parametrize("option", BAD_DIGITS, ids=case_id)
def test_digits_that_are_not_ascii(readonly: Stage, option: str) -> None:
    refused(readonly.request("GET", f"/odata/Jobs?{option}"), 400, 1004)


@pytest.mark.parametrize(("method", "url"), WRONG_METHODS, ids=case_id)
def test_wrong_methods(readonly: Stage, method: str, url: str) -> None:
    refused(readonly.api.client.request(method, url, headers=readonly.api.headers()), 405)


def test_an_export_id_that_is_not_a_number(readonly: Stage) -> None:
    refused(readonly.request("GET", "/api/Exports/x/Download"), 400)


# -- sizes ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [10_001, 10_002, 50_000])
def test_oversized_input_arguments(readonly: Stage, size: int) -> None:
    too_long = '{"a":"' + "x" * (size - 8) + '"}'
    body = {"startInfo": {"ReleaseKey": RELEASE_KEY, "InputArguments": too_long}}
    refused(readonly.request("POST", START, body), 400, 1203)


def test_input_arguments_padded_beyond_the_limit(readonly: Stage) -> None:
    start_info = {
        "ReleaseKey": RELEASE_KEY,
        "Strategy": "Specific",
        "RobotIds": [ROBOT],
        "InputArguments": "{" + " " * 10_000 + "}",
    }
    refused(readonly.request("POST", START, {"startInfo": start_info}), 400, 1203)


def test_input_arguments_of_exactly_the_limit(stage: Stage) -> None:
    exact = '{"a":"' + "x" * (10_000 - 8) + '"}'
    assert len(exact) == 10_000
    try:
        started = stage.api.ok(
            stage.request("POST", START, {"startInfo": {"ReleaseKey": RELEASE_KEY, "InputArguments": exact}})
        )
        assert started["value"][0]["InputArguments"] == exact
    finally:
        stage.rebase()


@dataclass
class SmallApp:
    """Podium accepting request bodies of at most 2,048 bytes, on the stage's database (its own tenant)."""

    api: Api
    machine: int


@pytest.fixture(scope="module")
def small_app(
    stage: Stage, module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SmallApp]:
    data_dir = tmp_path_factory.mktemp("small-app")
    with start_app(module_database_url, data_dir, tenant_name="Small", max_body_bytes=2048) as api:
        machine = api.ok(api.post("/odata/Machines", {"Name": "M1", "Description": "d" * 400}), 201)["Id"]
        stage.rebase()
        yield SmallApp(api, machine)


SIZED_TARGETS = [
    ("POST", "/odata/Machines"),
    ("PUT", "/odata/Machines({machine})"),
    ("PATCH", "/odata/Machines({machine})"),
    ("POST", f"/odata/Jobs/{NS}.StartJobs"),
    ("POST", f"/odata/Jobs/{NS}.StopJobs"),
    ("POST", "/odata/Releases"),
]
OVERSIZED_LOGINS = [
    (
        "/api/Account/Authenticate",
        {"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": "p" * 5000},
    ),
    ("/api/PersonalAccessTokens", {"Name": "t", "Padding": "p" * 5000}),
    ("/identity_/connect/token", {"grant_type": "password", "username": "admin", "password": "p" * 5000}),
]


def chunks() -> Iterator[bytes]:
    """5,000 bytes of white space, then a small JSON object: too long only as a whole."""
    for _ in range(10):
        yield b" " * 500
    yield b'{"Name": "M3"}'


@pytest.mark.parametrize("sent", ["json", "chunked"])
@pytest.mark.parametrize(("method", "url"), SIZED_TARGETS, ids=case_id)
def test_oversized_bodies(readonly: Stage, small_app: SmallApp, method: str, url: str, sent: str) -> None:
    api = small_app.api
    url = url.format(machine=small_app.machine)
    headers = api.headers(api.tenant.shared_folder_id)
    if sent == "json":
        response = api.client.request(
            method, url, json={"Name": "M2", "Description": "d" * 3000}, headers=headers
        )
    else:
        headers["Content-Type"] = "application/json"
        response = api.client.request(method, url, content=chunks(), headers=headers)
    refused(response, 413, 1013)


@pytest.mark.parametrize(("url", "body"), OVERSIZED_LOGINS, ids=case_id)
def test_oversized_logins(readonly: Stage, small_app: SmallApp, url: str, body: dict[str, Any]) -> None:
    api = small_app.api
    refused(api.client.post(url, json=body, headers=api.headers()), 413, 1013)


def test_a_body_under_the_limit_is_fine(stage: Stage, small_app: SmallApp) -> None:
    api = small_app.api
    try:
        api.ok(api.put(f"/odata/Machines({small_app.machine})", {"Name": "M1", "Description": "d" * 500}))
    finally:
        stage.rebase()


# -- authentication, permissions, folders --------------------------------------------------------------


def signed(claims: dict[str, Any], key: str = SIGNING_KEY) -> str:
    payload = {"sub": "1", "tid": 1, "knd": "user", "exp": int(time.time()) + 600, **claims}
    return jwt.encode(payload, key, algorithm="HS256")


def admin_claims(stage: Stage, **claims: Any) -> dict[str, Any]:
    return {"sub": str(stage.api.tenant.admin_user_id), "tid": stage.api.tenant.tenant_id, **claims}


AUTHORIZATIONS: dict[str, Callable[[Stage], str | None]] = {
    "none": lambda s: None,
    "empty": lambda s: "",
    "bearer-alone": lambda s: "Bearer",
    "bearer-space": lambda s: "Bearer ",
    "garbage": lambda s: "Bearer garbage",
    "basic": lambda s: "Basic YWRtaW46cGFzcw==",
    "other-scheme": lambda s: f"Token {s.api.token}",
    "token-and-more": lambda s: f"Bearer {s.api.token}x",
    "token-cut-short": lambda s: f"Bearer {s.api.token[:-4]}",
    "unknown-personal-token": lambda s: "Bearer pat_nope",
    "three-dots": lambda s: "Bearer a.b.c",
    "other-key": lambda s: "Bearer " + signed(admin_claims(s), key="another-key-" + "y" * 32),
    "expired": lambda s: "Bearer " + signed(admin_claims(s, exp=int(time.time()) - 10)),
    "unknown-tenant": lambda s: "Bearer " + signed(admin_claims(s, tid=s.api.tenant.tenant_id + 1000)),
    "unknown-user": lambda s: "Bearer " + signed(admin_claims(s, sub="999999")),
    "user-name-as-subject": lambda s: "Bearer " + signed(admin_claims(s, sub="admin")),
    "algorithm-none": lambda s: (
        "Bearer " + jwt.encode(admin_claims(s, exp=int(time.time()) + 60), "", algorithm="none")
    ),
    "no-expiry": lambda s: "Bearer " + jwt.encode(admin_claims(s), SIGNING_KEY, algorithm="HS256"),
}
AUTHENTICATED_CALLS: list[tuple[str, str, Any]] = [
    ("GET", "/odata/Jobs", None),
    ("GET", f"/odata/Jobs({JOB})", None),
    ("POST", "/odata/Machines", {"Name": "M9"}),
    ("PUT", f"/odata/Machines({MACHINE})", {"Name": "X"}),
    ("DELETE", f"/odata/Robots({ROBOT})", None),
    ("POST", f"/odata/Jobs/{NS}.StartJobs", {"startInfo": {"ReleaseKey": RELEASE_KEY}}),
    ("POST", f"/odata/Jobs/{NS}.StopJobs", {"jobIds": JOBS, "strategy": 2}),
    ("GET", f"/odata/Users/{NS}.GetCurrentUser", None),
    ("GET", "/odata/Permissions", None),
    ("POST", "/api/PersonalAccessTokens", {"Name": "t"}),
    ("GET", "/api/Exports/1/Download", None),
    ("GET", "/api/FoldersNavigation/GetAllFoldersForCurrentUser", None),
    ("GET", "/podium/Default/orchestrator_/odata/Jobs", None),
]


@pytest.mark.parametrize("authorization", AUTHORIZATIONS)
@pytest.mark.parametrize(("method", "url", "body"), AUTHENTICATED_CALLS, ids=case_id)
def test_missing_and_invalid_tokens(
    readonly: Stage, method: str, url: str, body: Any, authorization: str
) -> None:
    value = AUTHORIZATIONS[authorization](readonly)
    headers = {} if value is None else {"Authorization": value}
    response = readonly.api.client.request(
        method, readonly.url(url), json=readonly.body(body), headers=headers
    )
    refused(response, 401)
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")


@pytest.fixture(scope="module")
def people(stage: Stage) -> dict[str, str]:
    """Three users of little power, built once (the baseline moves on): ``nobody`` (no role), ``folks``
    (Automation User in Shared), ``viewer`` (a tenant role of Jobs.View only); their tokens by name."""
    api = stage.api
    nobody, folks = user(api, "nobody"), user(api, "folks")
    automation_user = role_id(api, "Automation User")
    assignment = {
        "UserIds": [folks],
        "RolesPerFolder": [{"FolderId": stage.world.shared, "RoleIds": [automation_user]}],
    }
    api.ok(api.post(f"/odata/Folders/{NS}.AssignUsers", {"assignments": assignment}), 204)
    viewer = user_with(api, "viewer", ["Jobs.View"])
    viewer_role = role_id(api, "viewer-role")
    stage.ids.update(nobody=nobody, viewer_role=viewer_role, automation_user=automation_user)
    stage.rebase()
    return {
        "nobody": api.login("nobody", "nobody-password"),
        "folks": api.login("folks", "folks-password"),
        "viewer": viewer,
    }


WRITES: list[tuple[str, str, Any]] = [
    ("POST", "/odata/Machines", {"Name": "M9"}),
    ("PUT", f"/odata/Machines({MACHINE})", {"Name": "Renamed"}),
    ("DELETE", f"/odata/Machines({MACHINE})", None),
    ("POST", "/odata/Robots", {"Name": "R9"}),
    ("DELETE", f"/odata/Robots({ROBOT})", None),
    ("POST", "/odata/Releases", {"Name": "P9", "ProcessKey": "P9"}),
    ("PUT", f"/odata/Releases({RELEASE})", {"Name": "Renamed"}),
    ("DELETE", f"/odata/Releases({RELEASE})", None),
    ("POST", "/odata/Environments", {"Name": "E9"}),
    ("POST", "/odata/Folders", {"DisplayName": "F9"}),
    ("DELETE", f"/odata/Folders({SHARED})", None),
    ("POST", "/odata/Users", {"UserName": "u9", "Password": "password-9"}),
    ("PUT", f"/odata/Users({ADMIN})", {"Password": "hijacked-password"}),
    ("DELETE", f"/odata/Users({ADMIN})", None),
    ("POST", "/odata/Roles", {"Name": "r9", "Permissions": [{"Name": "Users.Edit"}]}),
    ("PUT", f"/odata/Roles({VIEWER_ROLE})", {"Name": "viewer-role", "Permissions": [{"Name": "Users.Edit"}]}),
    ("POST", f"/odata/Users({NOBODY})/{NS}.AssignRoles", {"roleIds": [VIEWER_ROLE]}),
    (
        "POST",
        f"/odata/Folders/{NS}.AssignUsers",
        {
            "assignments": {
                "UserIds": [NOBODY],
                "RolesPerFolder": [{"FolderId": SHARED, "RoleIds": [AUTOMATION_USER]}],
            }
        },
    ),
    ("POST", f"/odata/Environments({ENVIRONMENT})/{NS}.AddRobot", {"robotId": ROBOT}),
]
READS = ["/odata/Machines", "/odata/Users", "/odata/Roles", f"/odata/Users({ADMIN})"]
PEOPLE = ["nobody", "folks", "viewer"]


@pytest.mark.parametrize("user", PEOPLE)
@pytest.mark.parametrize(("method", "url", "body"), WRITES, ids=case_id)
def test_users_lacking_permissions_may_not_write(
    readonly: Stage, people: dict[str, str], method: str, url: str, body: Any, user: str
) -> None:
    refused(readonly.request(method, url, body, folder=SHARED, token=people[user]), 403)


@pytest.mark.parametrize("user", PEOPLE)
@pytest.mark.parametrize("url", READS, ids=case_id)
def test_users_lacking_permissions_may_not_read(
    readonly: Stage, people: dict[str, str], url: str, user: str
) -> None:
    refused(readonly.request("GET", url, token=people[user]), 403)


@pytest.mark.parametrize("url", ["/odata/Jobs", "/odata/Robots"])
def test_nobody_may_not_list_jobs_or_robots(readonly: Stage, people: dict[str, str], url: str) -> None:
    refused(readonly.request("GET", url, token=people["nobody"]), 403)


@pytest.mark.parametrize("user", ["viewer", "folks"])
def test_viewer_and_folks_may_list_the_jobs(readonly: Stage, people: dict[str, str], user: str) -> None:
    jobs = readonly.api.ok(readonly.request("GET", "/odata/Jobs", token=people[user]))["value"]
    assert len(jobs) == sum(1 for row in readonly.baseline if row[0] == "jobs")


@pytest.mark.parametrize("user", ["nobody", "viewer"])
def test_nobody_and_viewer_may_not_stop_jobs(readonly: Stage, people: dict[str, str], user: str) -> None:
    body = {"jobIds": JOBS, "strategy": 2}
    refused(readonly.request("POST", f"/odata/Jobs/{NS}.StopJobs", body, token=people[user]), 403)


@pytest.mark.parametrize("user", ["nobody", "viewer"])
def test_nobody_and_viewer_may_not_start_jobs(readonly: Stage, people: dict[str, str], user: str) -> None:
    body = {"startInfo": {"ReleaseKey": RELEASE_KEY}}
    response = readonly.request("POST", START, body, token=people[user])
    assert response.status_code in (403, 404), response.text
    refused(response, response.status_code)


@pytest.mark.parametrize("user", PEOPLE)
@pytest.mark.parametrize("url", [f"/odata/Users/{NS}.GetCurrentUser", "/odata/Permissions"])
def test_everyone_may_ask_who_they_are_and_what_they_may_do(
    readonly: Stage, people: dict[str, str], url: str, user: str
) -> None:
    readonly.api.ok(readonly.request("GET", url, token=people[user]))


UNKNOWN_FOLDERS = [
    {"X-UIPATH-OrganizationUnitId": "999999"},
    {"X-UIPATH-OrganizationUnitId": "abc"},
    {"X-UIPATH-OrganizationUnitId": "-1"},
    {"X-UIPATH-OrganizationUnitId": "99999999999999999999"},
    {"X-UIPATH-FolderPath": "Nope"},
    {"X-UIPATH-FolderPath": "Shared/Nope"},
    {"X-UIPATH-FolderPath": "Shared' OR '1'='1"},
    {"X-UIPATH-FolderPath": "%"},
    {"X-UIPATH-FolderKey": UNKNOWN_KEY},
    {"X-UIPATH-FolderKey": "not-a-guid"},
    {"X-UIPATH-FolderPath-Encoded": encoded("Nope")},
    {"X-UIPATH-FolderPath-Encoded": "%%%notbase64"},
    {"X-UIPATH-FolderPath-Encoded": base64.b64encode(b"\x00\xd8").decode()},
    {"X-UIPATH-FolderPath-Encoded": base64.b64encode(b"abc").decode()},
    {"X-UIPATH-FolderPath-Encoded": encoded("Shared\x00")},
    {"X-UIPATH-FolderPath-Encoded": encoded("\x00")},
]
FOLDER_CALLS: list[tuple[str, str, Any]] = [
    ("GET", "/odata/Jobs", None),
    ("GET", "/odata/Releases", None),
    ("POST", "/odata/Releases", {"Name": "P9", "ProcessKey": "P9"}),
    ("POST", f"/odata/Jobs/{NS}.StartJobs", {"startInfo": {"ReleaseName": "P1"}}),
]


@pytest.mark.parametrize(
    ("url", "body"),
    [("/odata/Releases", {"Name": "P9", "ProcessKey": "P9"}), ("/odata/Environments", {"Name": "E9"})],
)
def test_missing_folders(readonly: Stage, url: str, body: dict[str, Any]) -> None:
    refused(readonly.request("POST", url, body), 400, 1101)


@pytest.mark.parametrize("header", UNKNOWN_FOLDERS, ids=case_id)
@pytest.mark.parametrize(("method", "url", "body"), FOLDER_CALLS, ids=case_id)
def test_unknown_folders(readonly: Stage, method: str, url: str, body: Any, header: dict[str, str]) -> None:
    headers = {**readonly.api.headers(), **header}
    refused(readonly.api.client.request(method, url, json=body, headers=headers), 400, 1100)


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
def test_random_query_text_never_fails_the_server(readonly: Stage, query: dict[str, str]) -> None:
    api = readonly.api
    response = api.client.get("/odata/Jobs", params=query, headers=api.headers())
    assert response.status_code < 500, (query, response.text)
    if response.status_code >= 400:
        refused(response, response.status_code)
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


INJECTED_OPTIONS = [
    "Id; DROP TABLE jobs",
    "Id) DESC; DELETE FROM jobs --",
    "(select 1)",
    "Id,'x'",
    "Id desc nulls first; --",
]
INJECTED_URLS = [
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
INJECTED_BODIES: list[tuple[str, dict[str, Any]]] = [
    (f"/odata/Jobs/{NS}.StartJobs", {"startInfo": {"ReleaseName": "P1' OR '1'='1"}}),
    (f"/odata/Jobs/{NS}.StartJobs", {"startInfo": {"ReleaseKey": "x' OR 1=1 --"}}),
    (f"/odata/Jobs/{NS}.ResumeJob", {"jobKey": "' OR 1=1 --"}),
    (f"/odata/Jobs/{NS}.StopJobs", {"jobIds": ["1 OR 1=1"], "strategy": 2}),
    (f"/odata/Users({ADMIN})/{NS}.ToggleRole", {"role": "x' OR '1'='1", "toggle": True}),
]
INJECTED_LOGINS = ["admin' --", "admin' OR '1'='1", "' OR 1=1 --"]


@pytest.mark.parametrize("expression", INJECTED_FILTERS, ids=case_id)
def test_sql_injection_in_filters(readonly: Stage, expression: str) -> None:
    response = get_filtered(readonly, "Jobs", expression)
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        assert response.json()["value"] == []  # no job's text holds these strings
    else:
        refused(response, 400, 1004)


@pytest.mark.parametrize("value", INJECTED_OPTIONS, ids=case_id)
@pytest.mark.parametrize("option", ["$orderby", "$select", "$expand"])
def test_sql_injection_in_query_options(readonly: Stage, option: str, value: str) -> None:
    api = readonly.api
    refused(api.client.get("/odata/Jobs", params={option: value}, headers=api.headers()), 400, 1004)


@pytest.mark.parametrize("url", INJECTED_URLS, ids=case_id)
def test_sql_injection_in_keys_and_function_arguments(readonly: Stage, url: str) -> None:
    response = readonly.request("GET", url)
    assert 400 <= response.status_code < 500, response.text
    refused(response, response.status_code)


@pytest.mark.parametrize(("url", "body"), INJECTED_BODIES, ids=case_id)
def test_sql_injection_in_action_arguments(readonly: Stage, url: str, body: dict[str, Any]) -> None:
    response = readonly.request("POST", url, body)
    assert 400 <= response.status_code < 500, response.text
    refused(response, response.status_code)


@pytest.mark.parametrize("login", INJECTED_LOGINS, ids=case_id)
def test_sql_injection_in_user_names(readonly: Stage, login: str) -> None:
    body = {"tenancyName": "Default", "usernameOrEmailAddress": login, "password": "x' OR '1'='1"}
    refused(readonly.api.client.post("/api/Account/Authenticate", json=body), 400)


@pytest.mark.parametrize("login", INJECTED_LOGINS, ids=case_id)
def test_sql_injection_in_tenant_names(readonly: Stage, login: str) -> None:
    body = {"tenancyName": "Default' OR '1'='1", "usernameOrEmailAddress": login, "password": ADMIN_PASSWORD}
    refused(readonly.api.client.post("/api/Account/Authenticate", json=body), 400)


def test_sql_injection_in_the_password_grant(readonly: Stage) -> None:
    token = readonly.api.client.post(
        "/identity_/connect/token",
        data={"grant_type": "password", "username": "admin' --", "password": "x", "tenant": "Default"},
    )
    assert token.status_code == 400 and token.json()["error"] == "invalid_grant"


def test_names_with_sql_in_them_are_stored_and_found_as_text(stage: Stage) -> None:
    api = stage.api
    name = "Robert'); DROP TABLE robots; --"
    created = api.ok(api.post("/odata/Machines", {"Name": name}), 201)
    try:
        quoted = name.replace("'", "''")
        found = api.ok(
            api.client.get(
                "/odata/Machines", params={"$filter": f"Name eq '{quoted}'"}, headers=api.headers()
            )
        )
        assert [m["Id"] for m in found["value"]] == [created["Id"]]
    finally:
        api.ok(api.delete(f"/odata/Machines({created['Id']})"), 204)
    before, stage.baseline = stage.baseline, snapshot(stage.reader)
    assert sorted(set(before) ^ set(stage.baseline)) == []  # created and deleted: as before
