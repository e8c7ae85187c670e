"""The audit log: an entry for every kind of change made through the API, in the change's transaction
(a failed change leaves none), secrets redacted, read with the OData options and Audit.View.

One app per backend for the module (the entries of each test are those written after it began)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from podium.config import Settings
from podium.db.engine import Database
from podium.db.schema_audit import audit_logs
from podium.db.types import utcnow
from podium.domain.audit_logs import delete_older_than, retention_days
from podium.domain.crypto import Keyring
from podium.domain.key_rotation import rotate_key
from tests.conftest import sync_engine
from tests.factories import NS, SHARED, create_queue, seed_machine, start_jobs, user, user_with
from tests.support import SIGNING_KEY, Api, assert_error, start_app

pytestmark = pytest.mark.usefixtures("cheap_password_hashes")
DATA_DIRS: dict[str, Path] = {}  # the app's data folder (its key file), per database


@pytest.fixture(scope="module")
def app(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data_dir = DATA_DIRS[module_database_url] = tmp_path_factory.mktemp("audit")
    with start_app(module_database_url, data_dir) as api:
        engine = sync_engine(module_database_url)
        seed_machine(api, engine, name="AM")
        engine.dispose()
        yield api


def last_id(api: Api) -> int:
    page = api.ok(api.get("/odata/AuditLogs?$orderby=Id desc&$top=1&$select=Id"))["value"]
    return int(page[0]["Id"]) if page else 0


def entries_since(api: Api, since: int) -> list[dict[str, Any]]:
    page = api.ok(api.get(f"/odata/AuditLogs?$filter=Id gt {since}&$orderby=Id&$expand=Entities"))
    return list(page["value"])


Change = Callable[[Api], Any]


def _machine(api: Api, name: str) -> dict[str, Any]:
    return dict(api.ok(api.post("/odata/Machines", {"Name": name}), 201))


def create_robot(api: Api) -> None:
    machine = _machine(api, "rm1")
    api.ok(
        api.post(
            "/odata/Robots", {"Name": "R1", "MachineId": machine["Id"], "Type": "Unattended"}, folder=SHARED
        ),
        201,
    )


def update_machine(api: Api) -> None:
    machine = _machine(api, "um1")
    api.ok(api.put(f"/odata/Machines({machine['Id']})", {"Name": "um1-renamed", "Description": "x"}))


def delete_environment(api: Api) -> None:
    env = api.ok(api.post("/odata/Environments", {"Name": "E1", "Type": "Dev"}, folder=SHARED), 201)
    api.ok(api.delete(f"/odata/Environments({env['Id']})", folder=SHARED), 204)


def start_job(api: Api) -> None:
    start_jobs(api, 1)


def stop_job(api: Api) -> None:
    [job] = start_jobs(api, 1)
    api.ok(api.post(f"/odata/Jobs({job['Id']})/{NS}.StopJob", {"strategy": "SoftStop"}, folder=SHARED))


def create_role(api: Api) -> None:
    api.ok(api.post("/odata/Roles", {"Name": "auditors", "Permissions": [{"Name": "Audit.View"}]}), 201)


def assign_roles(api: Api) -> None:
    user_id = user(api, "assignee")
    [role] = api.ok(api.get("/odata/Roles?$filter=Name eq 'Automation User'"))["value"]
    api.ok(api.post(f"/odata/Users({user_id})/{NS}.AssignRoles", {"roleIds": [role["Id"]]}), 204)


# change, then the last entry it wrote: Component, Action, OperationText (None: not checked)
CHANGES: list[tuple[Change, str, str, str | None]] = [
    (create_robot, "Robots", "Create", "User admin created robot R1"),
    (update_machine, "Machines", "Update", "User admin updated machine um1-renamed"),
    (delete_environment, "Environments", "Delete", "User admin deleted environment E1"),
    (start_job, "Jobs", "StartJob", None),
    (stop_job, "Jobs", "StopJob", None),
    (create_role, "Roles", "Create", "User admin created role auditors"),
    (assign_roles, "Users", "Assign", "User admin assigned user assignee"),
]


@pytest.mark.parametrize(
    ("change", "component", "action", "text"), CHANGES, ids=[c[0].__name__ for c in CHANGES]
)
def test_each_kind_of_change_has_an_entry(
    app: Api, change: Change, component: str, action: str, text: str | None
) -> None:
    since = last_id(app)
    change(app)
    entries = entries_since(app, since)
    last = entries[-1]
    assert (last["Component"], last["Action"]) == (component, action), entries
    assert last["UserName"] == "admin" and last["UserType"] == "User" and last["ExecutionTime"]
    if text is not None:
        assert last["OperationText"] == text
    assert last["Entities"] and last["Entities"][0]["Action"] == action


def test_failed_change_leaves_no_entry(app: Api) -> None:
    machine = _machine(app, "dup-m")
    since = last_id(app)
    assert_error(app.post("/odata/Machines", {"Name": "dup-m"}), 409)  # a name clash
    assert_error(app.put(f"/odata/Machines({machine['Id']})", {"Name": "x" * 300}), 400)
    body = {"startInfo": {"ReleaseName": "no-such-release", "Strategy": "JobsCount", "JobsCount": 1}}
    assert app.post(f"/odata/Jobs/{NS}.StartJobs", body, folder=SHARED).status_code in (400, 404)
    assert entries_since(app, since) == []


def test_queue_traffic_and_reads_are_not_audited(app: Api) -> None:
    queue = create_queue(app, "audit-q")
    since = last_id(app)
    item = {"itemData": {"Name": "audit-q", "SpecificContent": {"a": 1}}}
    app.ok(app.post("/odata/Queues/UiPathODataSvc.AddQueueItem", item, folder=SHARED), 201)
    started = {"transactionData": {"Name": "audit-q", "RobotIdentifier": None}}
    app.post("/odata/Queues/UiPathODataSvc.StartTransaction", started, folder=SHARED)
    app.ok(app.get(f"/odata/QueueDefinitions({queue['Id']})", folder=SHARED))
    assert entries_since(app, since) == []


def test_secrets_are_redacted(app: Api) -> None:
    since = last_id(app)
    user(app, "secretive", password="very-secret-pass-1")
    [entry] = entries_since(app, since)
    assert "very-secret-pass-1" not in entry["Parameters"]
    assert '"Password":"***"' in entry["Parameters"] and '"UserName":"secretive"' in entry["Parameters"]
    details = app.ok(app.get(f"/odata/AuditLogs/{NS}.GetAuditLogDetails(auditLogId={entry['Id']})"))["value"]
    assert details[0]["EntityName"] == "User" and details[0]["EntityId"] == entry["EntityId"]
    assert "very-secret-pass-1" not in str(details)
    url = f"/odata/AuditLogs/{NS}.GetAuditLogDetails(auditLogId={entry['Id']})"
    chosen = app.ok(app.get(url, params={"$filter": "EntityName eq 'User'", "$select": "EntityId"}))
    assert chosen["value"] == [{"EntityId": entry["EntityId"]}] and chosen["@odata.count"] == 1
    assert app.ok(app.get(url, params={"$filter": "EntityName eq 'Robot'"}))["value"] == []


def test_reading_needs_audit_view_and_takes_odata_options(app: Api) -> None:
    reader = user_with(app, "audit-reader", ["Audit.View"])
    outsider = user_with(app, "audit-outsider", ["Robots.View"])
    assert_error(app.get("/odata/AuditLogs", token=outsider), 403)
    assert_error(app.get(f"/odata/AuditLogs/{NS}.GetAuditLogDetails(auditLogId=1)", token=outsider), 403)
    page = app.ok(
        app.get(
            "/odata/AuditLogs?$filter=Component eq 'Roles' and Action eq 'Create'&$orderby=ExecutionTime desc"
            "&$select=OperationText,Action&$count=true",
            token=reader,
        )
    )
    assert page["@odata.count"] >= 1 and all(e["Action"] == "Create" for e in page["value"])
    assert_error(app.get(f"/odata/AuditLogs/{NS}.GetAuditLogDetails(auditLogId=999999)", token=reader), 404)
    exported = app.ok(app.post(f"/odata/AuditLogs/{NS}.Export?$filter=Component eq 'Roles'", token=reader))
    assert exported["Type"] == "OrchestratorAudit" and exported["Status"] == "Completed"


def test_entries_are_in_the_tenant_of_the_change(app: Api, module_database_url: str) -> None:
    engine = sync_engine(module_database_url)
    with engine.connect() as conn:
        tenants = conn.execute(select(func.count(func.distinct(audit_logs.c.tenant_id)))).scalar_one()
    engine.dispose()
    assert tenants == 1


def newest_entry(api: Api, method: str) -> dict[str, Any]:
    page = api.ok(api.get(f"/odata/AuditLogs?$filter=MethodName eq '{method}'&$orderby=Id desc&$top=1"))
    return dict(page["value"][0])


def test_sign_ins_succeeded_and_refused(app: Api) -> None:
    user(app, "signer", password="signer-pass-12")
    since = last_id(app)
    app.login("signer", "signer-pass-12")
    ok = newest_entry(app, "SignIn")
    assert ok["Id"] > since and ok["OperationText"] == "User signer signed in"
    assert (ok["Component"], ok["Action"], ok["UserName"]) == ("Users", "Start", "signer")
    wrong = {"tenancyName": app.tenant_name, "usernameOrEmailAddress": "signer", "password": "nope-nope-1"}
    assert app.client.post("/api/Account/Authenticate", json=wrong).status_code == 400
    refused = newest_entry(app, "SignInFailed")
    assert refused["OperationText"] == "Sign-in refused for user signer: wrong password"
    assert "nope-nope-1" not in refused["Parameters"] and refused["UserId"] == ok["UserId"]
    form = {"grant_type": "password", "username": "nobody-here", "password": "x", "tenant": app.tenant_name}
    assert app.client.post("/identity_/connect/token", data=form).status_code == 400
    unknown = newest_entry(app, "SignInFailed")
    assert unknown["UserName"] == "nobody-here" and unknown["UserId"] is None
    assert '"via":"connect/token"' in unknown["Parameters"]


def test_personal_access_tokens_created_and_revoked(app: Api) -> None:
    created = app.ok(app.post("/api/PersonalAccessTokens", {"Name": "ci-token", "ExpiresInDays": 5}), 201)
    entry = newest_entry(app, "Post")
    assert entry["OperationText"] == "User admin created personal access token ci-token"
    assert created["Token"] not in entry["Parameters"] and entry["EntityId"] == created["Id"]
    app.ok(app.delete(f"/api/PersonalAccessTokens/{created['Id']}"), 204)
    revoked = newest_entry(app, "Delete")
    assert (revoked["Component"], revoked["Action"], revoked["EntityId"]) == (
        "Users",
        "Delete",
        created["Id"],
    )
    assert "revoked personal access token" in revoked["OperationText"]


def test_deleted_users_entries_say_so(app: Api) -> None:
    user_id = user(app, "leaver", password="leaver-pass-12")
    app.login("leaver", "leaver-pass-12")
    app.ok(app.delete(f"/odata/Users({user_id})"), 204)
    entries = app.ok(app.get(f"/odata/AuditLogs?$filter=UserId eq {user_id}"))["value"]
    assert entries and all(e["UserIsDeleted"] for e in entries)


def test_key_rotation_and_retention(app: Api, module_database_url: str) -> None:
    settings = Settings(
        data_dir=DATA_DIRS[module_database_url], database_url=module_database_url, secret_key=SIGNING_KEY
    )
    asyncio.run(rotate_key(settings))
    rotated = newest_entry(app, "RotateKey")
    assert (rotated["Component"], rotated["Action"]) == ("Secrets", "Update")
    assert rotated["DisplayName"] == Keyring(settings).primary
    engine = sync_engine(module_database_url)
    with engine.begin() as conn:  # one entry from long ago
        old = utcnow() - dt.timedelta(days=400)
        conn.execute(update(audit_logs).where(audit_logs.c.id == rotated["Id"]).values(execution_time=old))
    engine.dispose()

    async def sweep() -> tuple[list[tuple[int, int]], int]:
        database = Database(module_database_url)
        try:
            async with database.read() as conn:
                kept = await retention_days(conn)
            async with database.write() as conn:
                deleted = await delete_older_than(
                    conn, app.tenant.tenant_id, utcnow() - dt.timedelta(days=365)
                )
            return kept, deleted
        finally:
            await database.dispose()

    kept, deleted = asyncio.run(sweep())
    assert (app.tenant.tenant_id, 365) in kept and deleted == 1
    assert_error(app.get(f"/odata/AuditLogs/{NS}.GetAuditLogDetails(auditLogId={rotated['Id']})"), 404)
    assert last_id(app) == rotated["Id"] - 1  # the newer ones stay
