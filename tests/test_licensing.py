"""The License area (issue 15): Podium takes no licence, and reports the real use — runtimes the machines
declare per robot type, robots connected and units acquired, per machine and per user. ToggleEnabled
takes a machine's runtimes out of licensing (not available, its robots get no jobs); Acquire/Release
count units with the sessions, never twice. Licence-key operations answer 400; the host reads the sum of
its tenants. Permissions: License.View/License.Edit, the host's own for HostLicenses."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from podium.api import robot_protocol
from tests.factories import NS, seed_machine, start_jobs, user_with
from tests.robots.helpers import RobotClient, connect
from tests.support import Api, assert_error
from tests.test_tenants import _create, _host

pytestmark = pytest.mark.usefixtures("cheap_password_hashes")
RUNTIME = f"/odata/LicensesRuntime/{NS}.GetLicensesRuntime"
NAMED = f"/odata/LicensesNamedUser/{NS}.GetLicensesNamedUser"
HOST = f"/odata/HostLicenses/{NS}"
NO_LICENCE = "Podium needs no licence"


def licence(api: Api, token: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = api.ok(api.get(f"/odata/Settings/{NS}.GetLicense", token=token))
    return answer


def runtimes(api: Api, robot_type: str = "Unattended", token: str | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = api.ok(api.get(f"{RUNTIME}(robotType='{robot_type}')", token=token))["value"]
    return rows


def _machine_id(api: Api, name: str) -> int:
    [machine] = api.ok(api.get("/odata/Machines", params={"$filter": f"Name eq '{name}'"}))["value"]
    return int(machine["Id"])


def toggle(api: Api, machine: dict[str, Any], enabled: bool, token: str | None = None) -> Any:
    body = {"key": machine["Key"], "robotType": "Unattended", "enabled": enabled}
    return api.post(f"/odata/LicensesRuntime('{machine['Key']}')/{NS}.ToggleEnabled", body, token=token)


def two_slot_machine(api: Api, db: Engine) -> tuple[dict[str, Any], list[RobotClient]]:
    """M1 with two Unattended runtimes and two robots, connected; release 'proc' in Shared."""
    machine = seed_machine(api, db, robots=2, name="M1")
    api.ok(
        api.client.patch(
            f"/odata/Machines({machine['Id']})", json={"UnattendedSlots": 2}, headers=api.headers()
        )
    )
    return machine, connect(api, machine)


def test_use_per_type_and_machine(api: Api, db: Engine) -> None:
    assert licence(api)["Allowed"] == {"NonProduction": 0, "Unattended": 0}
    machine = seed_machine(api, db, robots=2, name="M1")
    api.ok(
        api.client.patch(
            f"/odata/Machines({machine['Id']})", json={"UnattendedSlots": 2}, headers=api.headers()
        )
    )
    api.ok(api.post("/odata/Machines", {"Name": "Idle", "UnattendedSlots": 0, "NonProductionSlots": 3}), 201)
    before = licence(api)
    assert before["Allowed"] == {"NonProduction": 3, "Unattended": 2} and before["Used"]["Unattended"] == 0
    [row] = runtimes(api)
    assert (row["MachineName"], row["Runtimes"], row["RobotsCount"], row["IsOnline"]) == ("M1", 2, 2, False)
    assert (
        row["Key"] == machine["Key"] and row["Enabled"] and row["IsLicensed"] and row["ExecutingCount"] == 0
    )
    assert [r["MachineName"] for r in runtimes(api, "NonProduction")] == ["Idle"]
    # $filter, $orderby and $select over the computed rows, as on a stored list
    api.ok(api.post("/odata/Machines", {"Name": "M2", "UnattendedSlots": 1}), 201)
    listed = api.ok(
        api.get(
            f"{RUNTIME}(robotType='Unattended')",
            params={"$filter": "Runtimes ge 1 and not (RobotsCount gt 1)", "$select": "MachineName,Runtimes"},
        )
    )
    assert listed["value"] == [{"MachineName": "M2", "Runtimes": 1}] and listed["@odata.count"] == 1
    unattended = f"{RUNTIME}(robotType='Unattended')"
    ordered = api.ok(api.get(unattended, params={"$orderby": "Runtimes desc", "$top": "1"}))
    assert [r["MachineName"] for r in ordered["value"]] == ["M1"] and ordered["@odata.count"] == 2
    ascending = api.ok(api.get(unattended, params={"$orderby": "MachineName", "$skip": "1"}))
    assert [r["MachineName"] for r in ascending["value"]] == ["M2"]
    assert_error(api.get(unattended, params={"$filter": "Machine/Name eq 'M1'"}), 400)
    assert_error(api.get(unattended, params={"$expand": "Machine"}), 400)
    api.ok(api.client.delete(f"/odata/Machines({_machine_id(api, 'M2')})", headers=api.headers()), 204)

    robots = connect(api, machine)
    after = licence(api)
    assert after["Used"] == {"NonProduction": 0, "Unattended": 2} and after["IsRegistered"] is True
    start_jobs(api, 1)
    assert robots[0].next()["jobs"]
    [row] = runtimes(api)
    assert row["IsOnline"] and row["HostMachineName"] == "host-M1" and row["ExecutingCount"] == 1
    # named users: each robot's user, with its machine, connected now
    named = api.ok(api.get(f"{NAMED}(robotType='Unattended')"))["value"]
    assert len(named) == 2 and all(u["MachineNames"] == ["M1"] for u in named)
    assert all(u["ActiveMachineNames"] == ["M1"] and u["ActiveRobotId"] for u in named)
    assert {u["ActiveRobotId"] for u in named} == {r.robot_id for r in robots}
    assert api.ok(api.get(f"{NAMED}(robotType='Attended')"))["value"] == []
    assert_error(api.get(f"{RUNTIME}(robotType='Nonsense')"), 400)
    assert_error(api.get("/odata/LicensesRuntime"), 404)


def test_disabled_runtimes_are_not_available_and_take_no_jobs(api: Api, db: Engine) -> None:
    machine, robots = two_slot_machine(api, db)
    folder_runtimes = f"/odata/Machines/{NS}.GetRuntimesForFolder(folderId={api.tenant.shared_folder_id})"

    def available() -> int:
        [unattended] = [r for r in api.ok(api.get(folder_runtimes))["value"] if r["Type"] == "Unattended"]
        return int(unattended["Available"])

    assert available() == 2
    api.ok(toggle(api, machine, False), 204)
    [row] = runtimes(api)
    assert row["Enabled"] is False and row["IsLicensed"] is False and row["Runtimes"] == 2
    assert licence(api)["Allowed"]["Unattended"] == 0 and available() == 0
    start_jobs(api, 1)
    assert robots[0].next()["jobs"] == [] and robots[1].next()["jobs"] == []
    api.ok(toggle(api, machine, True), 204)
    assert runtimes(api)[0]["Enabled"] is True and licence(api)["Allowed"]["Unattended"] == 2
    assert len(robots[0].next()["jobs"]) == 1
    audited = api.ok(api.get("/odata/AuditLogs?$filter=Component eq 'License'&$orderby=Id"))["value"]
    assert [(a["Action"], a["MethodName"], a["DisplayName"]) for a in audited] == [
        ("Toggle", "ToggleEnabled", "M1"),
        ("Toggle", "ToggleEnabled", "M1"),
    ]
    # bad input: nothing changes
    assert_error(
        api.post(
            f"/odata/LicensesRuntime('nope')/{NS}.ToggleEnabled",
            {"robotType": "Unattended", "enabled": False},
        ),
        404,
    )
    bad = {"key": machine["Key"], "robotType": "Unattended", "enabled": "maybe"}
    assert_error(api.post(f"/odata/LicensesRuntime('{machine['Key']}')/{NS}.ToggleEnabled", bad), 400)
    assert runtimes(api)[0]["Enabled"] is True


def test_enabling_wakes_a_waiting_robot(api: Api, db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A robot waiting in its long poll takes the job as soon as its runtimes are enabled again: the
    toggle wakes it (without the wake-up it would claim only when its 15 s poll ends)."""
    monkeypatch.setattr(robot_protocol, "SQLITE_RECHECK_SECONDS", 60.0)  # only a wake-up ends the wait
    machine, [robot, _other] = two_slot_machine(api, db)
    api.ok(toggle(api, machine, False), 204)
    [started] = start_jobs(api, 1)
    answer: dict[str, Any] = {}

    def poll() -> None:
        began = time.monotonic()
        answer["result"] = robot.next(wait=15)
        answer["seconds"] = time.monotonic() - began

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.5)  # the poll found nothing and waits
    api.ok(toggle(api, machine, True), 204)
    thread.join(timeout=30)
    assert [j["id"] for j in answer["result"]["jobs"]] == [started["Id"]]
    assert answer["seconds"] < 10  # woken by the toggle, not at the end of its poll


def test_acquire_and_release_count_with_sessions(api: Api, db: Engine) -> None:
    machine, robots = two_slot_machine(api, db)
    robot = robots[0]

    def consume(method: str, body: dict[str, Any], token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token or robot.token}"}
        return api.client.request(
            method,
            f"/api/Licensing/{'Acquire' if method == 'POST' else 'Release'}",
            json=body,
            headers=headers,
        )

    one = {"reference": "job-1", "type": "Unattended", "count": 1}
    assert consume("POST", one).json() == {"isSuccess": True, "errorCode": None, "errorMessage": None}
    assert licence(api)["Used"]["Unattended"] == 2  # its session is not counted besides its unit
    refused = consume("POST", {"reference": "job-2", "type": "Unattended", "count": 1}).json()
    assert refused["isSuccess"] is False and refused["errorCode"] == "NotEnoughAvailableSlots"
    assert licence(api)["Used"]["Unattended"] == 2
    assert consume("PUT", one).json()["isSuccess"] is True
    assert licence(api)["Used"]["Unattended"] == 2
    again = consume("PUT", one).json()
    assert again["isSuccess"] is False and again["errorCode"] == "InvalidRequest"
    # a user with License.Edit acquires units of its own; without it, 403
    assert (
        consume("POST", {"reference": "ops", "type": "NonProduction", "count": 1}, api.token).json()[
            "errorCode"
        ]
        == "NotEnoughAvailableSlots"
    )
    viewer = user_with(api, "viewer", ["License.View"])
    assert_error(consume("POST", one, viewer), 403)
    assert_error(consume("POST", {"reference": "x", "type": "Robotic", "count": 1}), 400)
    assert_error(consume("POST", {"reference": "x", "type": "Unattended", "count": 0}), 400)
    # a disabled machine: RuntimeDisabled
    api.ok(toggle(api, machine, False), 204)
    disabled = consume("POST", {"reference": "job-3", "type": "Unattended", "count": 1}).json()
    assert disabled["errorCode"] == "RuntimeDisabled"


def test_permissions(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db, robots=1, name="M1")
    viewer = user_with(api, "viewer", ["License.View"])
    nobody = user_with(api, "nobody", ["Robots.View"])
    assert runtimes(api, token=viewer)[0]["MachineName"] == "M1"
    assert licence(api, viewer)["Allowed"]["Unattended"] == 1
    assert_error(toggle(api, machine, False, viewer), 403)
    assert runtimes(api)[0]["Enabled"] is True
    assert_error(api.get(f"{RUNTIME}(robotType='Unattended')", token=nobody), 403)
    assert_error(api.get(f"{NAMED}(robotType='Unattended')", token=nobody), 403)
    assert_error(api.get("/odata/HostLicenses"), 403)  # the host's, not a tenant's
    upload = api.post(f"/odata/Settings/{NS}.UploadLicense", {})
    assert_error(api.post(f"/odata/Settings/{NS}.UploadLicense", {}, token=viewer), 403)  # License.Edit
    assert NO_LICENCE in assert_error(upload, 400)["message"]


def test_host_licenses(api: Api, db: Engine, database_url: str) -> None:
    host = _host(api, database_url)
    seed_machine(api, db, robots=1, name="M1")
    api.ok(_create(api, host, "Second"), 201)
    [listed] = api.ok(api.get("/odata/HostLicenses", token=host))["value"]
    assert listed["TenantsCount"] == 2 and listed["Allowed"]["Unattended"] == 1 and listed["Id"] == 1
    assert api.ok(api.get("/odata/HostLicenses(1)", token=host))["Allowed"] == listed["Allowed"]
    assert_error(api.get("/odata/HostLicenses(2)", token=host), 404)
    tenant = api.ok(api.get(f"{HOST}.GetTenantLicense(tenantId={api.tenant.tenant_id})", token=host))
    assert tenant["Id"] == api.tenant.tenant_id and tenant["Allowed"]["Unattended"] == 1
    assert_error(api.get(f"{HOST}.GetTenantLicense(tenantId=999999)", token=host), 404)
    for name in (
        "UploadLicense",
        "ActivateLicenseOnline",
        "ActivateLicenseOffline",
        "GetLicenseOffline",
        "UpdateLicenseOnline",
    ):
        assert NO_LICENCE in assert_error(api.post(f"{HOST}.{name}", {}, token=host), 400)["message"]
    for name in (
        "SetTenantLicense",
        "DeleteTenantLicense",
        "DeactivateLicenseOnline",
        "GetDeactivateLicenseOffline",
    ):
        assert (
            NO_LICENCE
            in assert_error(api.post(f"{HOST}.{name}", {"tenantId": 1}, token=host), 400)["message"]
        )
    assert_error(api.post(f"{HOST}.DeleteTenantLicense", {"tenantId": 999999}, token=host), 404)
    assert NO_LICENCE in assert_error(api.delete("/odata/HostLicenses(1)", token=host), 400)["message"]
    assert_error(api.get(f"{RUNTIME}(robotType='Unattended')", token=host), 403)  # tenant data
    assert_error(api.get(f"{HOST}.GetTenantLicense(tenantId=1)"), 403)
