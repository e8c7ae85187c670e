"""Property-based fuzzing of every operation of Podium's own OpenAPI document (schemathesis).

The document is ``/swagger/v1/swagger.json`` of a Podium app; each operation in it is one test
(``test_reads[GET /odata/Users]``, ``test_writes[POST /odata/Users]``), its cases sent in-process (ASGI) to
one Podium on SQLite, as the tenant's admin (Bearer token; the robot protocol, ``/api/robot/...``, as a
connected robot). Cases address the Shared folder (``X-UIPATH-OrganizationUnitId``); a negative case keeps
a folder header it was generated with. The checks: no 5xx (``not_a_server_error``) and every answer
conforms to what the document declares for its status (``response_schema_conformance``; errors: the
``ErrorResponse`` body, message, errorCode and traceId). No operation is left out: downloads declare
their file, uploads their multipart file part.

Reads run first, against seeded rows of every kind (so that real entities are checked against their DTO
schemas), then the writes, which change and delete those rows; cases that would take the fuzzer's own
identity away (deleting or editing the admin, the Administrator role, the Shared folder) are not sent.

Bounded for CI and deterministic: ``PODIUM_FUZZ_EXAMPLES`` generated cases per operation (default
``EXAMPLES``, about a minute for the module) plus schemathesis' explicit examples, derandomized (the same
cases on every run), no example database, no shrinking, each request cut at ``TIMEOUT_SECONDS``. Longer
runs by hand, with schemathesis' coverage phase (the boundary and missing-or-wrong-type cases of every
parameter and property) on top:
``PODIUM_FUZZ_EXAMPLES=100 PODIUM_FUZZ_COVERAGE=1 pytest -q -p no:cacheprovider tests/test_fuzz_api.py``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance

from podium.api.docs import build_openapi
from podium.app import create_app
from podium.config import Settings
from tests import factories
from tests.package_builders import nupkg
from tests.robots.helpers import connect
from tests.support import SIGNING_KEY, Api, create_tenant_sync

EXAMPLES = int(os.environ.get("PODIUM_FUZZ_EXAMPLES", "15"))
COVERAGE = os.environ.get("PODIUM_FUZZ_COVERAGE", "") not in ("", "0")
TIMEOUT_SECONDS = 30  # one request; a longer one is a hang
CHECKS = [not_a_server_error, response_schema_conformance]
FOLDER_HEADERS = {"x-uipath-organizationunitid", "x-uipath-folderpath", "x-uipath-folderpath-encoded"}
NS = factories.NS


def _document() -> dict[str, Any]:
    """The OpenAPI document of a Podium app (building it touches no database)."""
    settings_ = Settings(
        data_dir=Path(tempfile.gettempdir()), database_url="sqlite://", secret_key=SIGNING_KEY
    )
    return build_openapi(create_app(settings_))


class Target:
    """The ASGI app the cases go to: the fixture's Podium. The schema (and each copy schemathesis makes of
    it) names this one object, so that the cases and schemathesis' own probes reach the app in-process."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


TARGET = Target()
schema = schemathesis.openapi.from_dict(_document())
schema.app = TARGET
# every case carries the admin's (or the robot's) token: no generated Authorization headers
schema.config.generation.update(
    deterministic=True, no_shrink=True, database="none", with_security_parameters=False
)
schema.config.phases.coverage.enabled = COVERAGE


@dataclass
class World:
    """The Podium under test: its client (in-process, the app's lifespan started) and what the fuzzer
    must not lose (its token's user, that user's role, the Shared folder), and a robot's token."""

    api: Api
    robot_token: str  # for the robot protocol (/api/robot/...)
    admin_id: int
    administrator_role: int
    shared: int


def _seed(api: Api) -> str:
    """Rows of every kind the API lists, so that reads answer real entities; a connected robot's token."""
    shared = api.tenant.shared_folder_id
    api.ok(api.post("/odata/Folders", {"DisplayName": "Fuzz", "ProvisionType": "Automatic"}), 201)
    factories.user(api, "fuzz-user")
    login = factories.robot_with_token(api, "fuzz-robot")
    environment = api.ok(api.post("/odata/Environments", {"Name": "fuzz-env"}, folder=shared), 201)
    add_robot = f"/odata/Environments({environment['Id']})/{NS}.AddRobot"
    api.ok(api.post(add_robot, {"robotId": login.robot["Id"]}, folder=shared), 204)
    factories.release(api, shared, "fuzzproc", environment=environment["Id"])
    api.ok(factories.upload(api, nupkg("fuzzlib", "1.0.0"), url=f"/odata/Libraries/{NS}.UploadPackage"))
    start = {"startInfo": {"ReleaseName": "fuzzproc", "Strategy": "ModernJobsCount", "JobsCount": 1}}
    api.ok(api.post(f"/odata/Jobs/{NS}.StartJobs", start, folder=shared))
    factories.create_queue(api, "fuzz-queue")
    for index in range(2):
        item = {"itemData": {"Name": "fuzz-queue", "SpecificContent": {"n": index}, "Reference": f"r{index}"}}
        api.ok(api.post("/odata/Queues/UiPathODataSvc.AddQueueItem", item, folder=shared), 201)
    factories.create_asset(api, {"Name": "fuzz-text", "ValueType": "Text", "StringValue": "v"})
    factories.create_asset(api, {"Name": "fuzz-int", "ValueType": "Integer", "IntValue": 3})
    credential = {"CredentialUsername": "u", "CredentialPassword": "p"}
    factories.create_asset(api, {"Name": "fuzz-cred", "ValueType": "Credential", **credential})
    bucket = {"Name": "fuzz-bucket", "Identifier": "b0c0ffee-0000-4000-8000-000000000001"}
    bucket_id = api.ok(api.post("/odata/Buckets", bucket, folder=shared), 201)["Id"]
    where = {"path": "docs/a.txt"}
    write = api.ok(api.get(f"/odata/Buckets({bucket_id})/{NS}.GetWriteUri", folder=shared, params=where))
    put = api.client.put(write["Uri"], data=b"fuzz", headers={"Content-Type": "text/plain"})
    assert put.status_code == 201, put.text
    api.ok(api.post(f"/odata/Jobs/{NS}.Export", {}, folder=shared))  # export 1, for its Download
    return connect(api, login.machine)[0].token


@pytest.fixture(scope="module")
def world(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, cheap_password_hashes: None
) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    shutil.copy(sqlite_template, data_dir / "podium.db")
    url = f"sqlite:///{data_dir / 'podium.db'}"
    tenant = create_tenant_sync(url, "Default")
    settings_ = Settings(data_dir=data_dir, database_url=url, secret_key=SIGNING_KEY)
    settings_.long_poll_seconds = 1
    TARGET.app = create_app(settings_)
    shutdown = asgi.shutdown_lifespans
    try:
        with pytest.MonkeyPatch.context() as patch:
            # schemathesis' pytest plugin ends the app's lifespan after every test (the next request
            # starts a new one): one Podium, started once, serves the module
            patch.setattr(asgi, "shutdown_lifespans", lambda: None)
            with asgi.get_client(TARGET) as client:  # starts the app's lifespan
                api = Api(client, tenant, "Default")  # type: ignore[arg-type]  # a requests.Session will do
                robot_token = _seed(api)
                administrator = factories.role_id(api, "Administrator")
                yield World(api, robot_token, tenant.admin_user_id, administrator, tenant.shared_folder_id)
    finally:
        shutdown()
        TARGET.app = None


def _spares_the_fuzzer(case: schemathesis.Case, world: World) -> bool:
    """False for a write that could take the fuzzer's identity away: its user edited, deactivated, stripped
    of roles or deleted, the Administrator role's users replaced, the Shared folder deleted."""
    if case.method == "GET":
        return True
    key = (case.path_parameters or {}).get("key")
    path = case.operation.path
    mine = {
        "/odata/Users({key})": world.admin_id,
        "/odata/Roles({key})": world.administrator_role,
        "/odata/Folders({key})": world.shared,
        "/odata/OrganizationUnits({key})": world.shared,
    }
    return not any(path.startswith(prefix) and key == own for prefix, own in mine.items())


def _folder(case: schemathesis.Case, world: World) -> dict[str, str]:
    """Shared's folder header, in place of a generated one (it names no folder: a 404 that tests nothing
    past the folder lookup) except in a negative case (a malformed header is its point)."""
    generated = [name for name in case.headers or {} if name.lower() in FOLDER_HEADERS]
    if generated and case.meta is not None and case.meta.generation.mode is GenerationMode.NEGATIVE:
        return {}
    for name in generated:
        del case.headers[name]
    return {"X-UIPATH-OrganizationUnitId": str(world.shared)}


def _send(case: schemathesis.Case, world: World) -> None:
    if not _spares_the_fuzzer(case, world):
        return
    token = world.robot_token if case.operation.path.startswith("/api/robot/") else world.api.token
    headers = {"Authorization": f"Bearer {token}", **_folder(case, world)}
    case.call_and_validate(session=world.api.client, headers=headers, checks=CHECKS, timeout=TIMEOUT_SECONDS)


FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


@schema.include(method="GET").parametrize()
@FUZZ
def test_reads(case: schemathesis.Case, world: World) -> None:
    _send(case, world)


@schema.exclude(method="GET").parametrize()
@FUZZ
def test_writes(case: schemathesis.Case, world: World) -> None:
    _send(case, world)
