"""The Settings area over HTTP on both backends: every key listed with its value, edits checked against
their key (400, nothing written), defaults back with DeleteBulk, the values used (password policy,
lockout), the Get* functions, licence actions refused, and Settings.* permissions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from podium.db.schema_queues import queue_items
from podium.db.schema_robots import robot_sessions
from podium.domain import settings
from podium.domain.enums import RobotState
from tests.factories import create_queue, seed_machine, user, user_with
from tests.queue_helpers import add_item, item, start
from tests.support import Api, assert_error

pytestmark = pytest.mark.usefixtures("cheap_password_hashes")

OPS = "/odata/Settings/UiPath.Server.Configuration.OData."
LENGTH = settings.PASSWORD_LENGTH.name
ATTEMPTS = settings.LOCKOUT_ATTEMPTS.name


def values(api: Api) -> dict[str, str]:
    listed = api.ok(api.get("/odata/Settings"))
    return {row["Name"]: row["Value"] for row in listed["value"]}


def test_every_key_is_listed_with_its_default(api: Api) -> None:
    listed = api.ok(api.get("/odata/Settings"))
    assert listed["@odata.count"] == len(settings.KEYS)
    row = next(r for r in listed["value"] if r["Name"] == LENGTH)
    assert row == {"Name": LENGTH, "Value": "8", "Scope": "Tenant", "Id": LENGTH}
    one = api.ok(api.get(f"/odata/Settings('{settings.TIME_ZONE.name}')"))
    assert one["Value"] == "UTC"
    found = api.ok(
        api.get(
            "/odata/Settings", params={"$filter": "startswith(Name,'Abp.Zero.UserManagement.UserLockOut')"}
        )
    )
    assert {r["Name"] for r in found["value"]} == {
        settings.LOCKOUT_ENABLED.name,
        settings.LOCKOUT_ATTEMPTS.name,
        settings.LOCKOUT_SECONDS.name,
    }


def test_update_bulk_put_and_delete_bulk(api: Api) -> None:
    body = {
        "settings": [
            {"Name": LENGTH, "Value": "12"},
            {"Name": settings.TIME_ZONE.name, "Value": "GTB Standard Time"},
        ]
    }
    api.ok(api.post(OPS + "UpdateBulk", body), 204)
    assert values(api)[LENGTH] == "12" and values(api)[settings.TIME_ZONE.name] == "GTB Standard Time"
    edited = api.ok(api.put(f"/odata/Settings('{ATTEMPTS}')", {"Name": ATTEMPTS, "Value": "3"}))
    assert edited["Value"] == "3"
    api.ok(api.post(OPS + "DeleteBulk", {"settingNames": [LENGTH]}), 204)
    assert values(api)[LENGTH] == "8" and values(api)[ATTEMPTS] == "3"


@pytest.mark.parametrize(
    "body",
    [
        {"settings": [{"Name": LENGTH, "Value": "10"}, {"Name": "No.Such.Setting", "Value": "1"}]},
        {"settings": [{"Name": LENGTH, "Value": "10"}, {"Name": ATTEMPTS, "Value": "many"}]},
        {"settings": [{"Name": LENGTH, "Value": "10"}, {"Name": ATTEMPTS, "Value": 3}]},
        {"settings": [{"Name": LENGTH, "Value": "0"}]},
        {"settings": [{"Name": settings.LOCKOUT_ENABLED.name, "Value": "maybe"}]},
        {"settings": [{"Name": settings.TIME_ZONE.name, "Value": "Mars Standard Time"}]},
        {"settings": [{"Name": LENGTH}]},
        {"settings": []},
        {"settings": "all"},
    ],
)
def test_bad_updates_change_nothing(api: Api, body: dict[str, Any]) -> None:
    before = values(api)
    assert_error(api.post(OPS + "UpdateBulk", body), 400)
    assert values(api) == before


def test_bad_put_and_delete_bulk(api: Api) -> None:
    before = values(api)
    assert_error(api.put(f"/odata/Settings('{LENGTH}')", {"Value": "short"}), 400)
    assert_error(api.put(f"/odata/Settings('{LENGTH}')", {"Name": ATTEMPTS, "Value": "9"}), 400)
    assert_error(api.put("/odata/Settings('No.Such')", {"Value": "1"}), 404)
    assert_error(api.post(OPS + "DeleteBulk", {"settingNames": [LENGTH, "No.Such"]}), 400)
    assert_error(api.delete(f"/odata/Settings('{LENGTH}')"), 400)
    assert_error(api.post("/odata/Settings", {"Name": "X", "Value": "1"}), 400)
    assert values(api) == before


def test_password_policy_is_used(api: Api) -> None:
    body = {
        "settings": [{"Name": LENGTH, "Value": "12"}, {"Name": settings.PASSWORD_DIGIT.name, "Value": "true"}]
    }
    api.ok(api.post(OPS + "UpdateBulk", body), 204)
    new = {"UserName": "pat", "Name": "Pat", "Password": "short-1"}
    assert "at least 12 characters" in assert_error(api.post("/odata/Users", new), 400)["message"]
    new["Password"] = "long-enough-password"
    assert "a digit" in assert_error(api.post("/odata/Users", new), 400)["message"]
    new["Password"] = "long-enough-password-1"
    api.ok(api.post("/odata/Users", new), 201)
    api.login("pat", "long-enough-password-1")


def test_lockout_settings_are_used(api: Api) -> None:
    api.ok(api.post(OPS + "UpdateBulk", {"settings": [{"Name": ATTEMPTS, "Value": "2"}]}), 204)
    user(api, "eve", "eve-password-1")
    sign_in = {"tenancyName": "Default", "usernameOrEmailAddress": "eve", "password": "wrong"}
    for _ in range(2):
        assert_error(api.client.post("/api/Account/Authenticate", json=sign_in), 400)
    sign_in["password"] = "eve-password-1"
    assert (
        "locked out"
        in assert_error(api.client.post("/api/Account/Authenticate", json=sign_in), 400)["message"]
    )
    off = {"settings": [{"Name": settings.LOCKOUT_ENABLED.name, "Value": "false"}]}
    api.ok(api.post(OPS + "UpdateBulk", off), 204)
    user(api, "mallory", "mallory-password-1")
    sign_in = {"tenancyName": "Default", "usernameOrEmailAddress": "mallory", "password": "wrong"}
    for _ in range(3):
        assert_error(api.client.post("/api/Account/Authenticate", json=sign_in), 400)
    sign_in["password"] = "mallory-password-1"
    assert api.client.post("/api/Account/Authenticate", json=sign_in).status_code == 200


def test_functions(api: Api) -> None:
    auth = api.ok(api.get(OPS + "GetAuthenticationSettings"))
    assert dict(zip(auth["Keys"], auth["Values"], strict=True))[ATTEMPTS] == "10"
    web = api.ok(api.get(OPS + "GetWebSettings"))
    assert dict(zip(web["Keys"], web["Values"], strict=True))[settings.TIME_ZONE.name] == "UTC"
    zones = api.ok(api.get(OPS + "GetTimezones"))["items"]
    assert {"Name", "Value"} <= set(zones[0]) and any(z["Value"] == "GTB Standard Time" for z in zones)
    api.ok(api.post(OPS + "UpdateUserSetting", {"setting": {"Name": settings.LANGUAGE.name, "Value": "de"}}))
    languages = api.ok(api.get(OPS + "GetLanguages"))["Items"]
    assert [lang["Name"] for lang in languages if lang["IsDefault"]] == ["de"]
    assert_error(api.post(OPS + "UpdateUserSetting", {"setting": {"Name": LENGTH, "Value": "9"}}), 400)
    config = api.ok(api.get(OPS + "GetExecutionSettingsConfiguration(scope=1)"))
    assert config["Scope"] == "Robot" and config["Configuration"]
    assert_error(api.get(OPS + "GetExecutionSettingsConfiguration(scope=7)"), 400)
    assert api.ok(api.get(OPS + "GetSecureStoreConfiguration(storeTypeName='Database')"))["value"] == []
    assert_error(api.get(OPS + "GetSecureStoreConfiguration(storeTypeName='CyberArk')"), 400)
    assert api.ok(api.get(OPS + "GetUpdateSettings"))["UpdateServerSource"] == "Orchestrator"
    assert api.ok(api.get(OPS + "GetActivitySettings"))["ApiVersion"]
    assert api.ok(api.get(OPS + "GetConnectionString"))["value"].startswith(("sqlite", "postgresql"))
    licence = api.ok(api.get(OPS + "GetLicense"))
    assert licence["IsRegistered"] and licence["Allowed"] == {"Unattended": 0, "NonProduction": 0}
    for action in ("UploadLicense", "ActivateLicenseOnline", "DeleteLicense", "GetLicenseOffline"):
        assert "needs no licence" in assert_error(api.post(OPS + action, {}), 400)["message"]
    assert "e-mail" in assert_error(api.post(OPS + "VerifySmtpSetting", {"sendTo": "a@b.c"}), 400)["message"]


def test_permissions(api: Api) -> None:
    nobody = user_with(api, "nobody", [])
    viewer = user_with(api, "viewer", ["Settings.View"])
    assert_error(api.get("/odata/Settings", token=nobody), 403)
    assert_error(api.get(OPS + "GetAuthenticationSettings", token=nobody), 403)
    api.ok(api.get("/odata/Settings", token=viewer))
    body = {"settings": [{"Name": LENGTH, "Value": "9"}]}
    assert_error(api.post(OPS + "UpdateBulk", body, token=viewer), 403)
    assert_error(api.put(f"/odata/Settings('{LENGTH}')", {"Value": "9"}, token=viewer), 403)
    assert_error(api.post(OPS + "DeleteBulk", {"settingNames": [LENGTH]}, token=viewer), 403)
    assert_error(api.get(OPS + "GetLicense", token=viewer), 403)
    # any user reads the web settings and sets their own language
    api.ok(api.get(OPS + "GetWebSettings", token=nobody))
    api.ok(
        api.post(
            OPS + "UpdateUserSetting",
            {"setting": {"Name": settings.LANGUAGE.name, "Value": "fr"}},
            token=nobody,
        )
    )
    assert values(api)[LENGTH] == "8"


def run_service(api: Api, name: str) -> None:
    portal: Any = api.client.portal
    portal.call(api.client.app.state.services.run_now, name)  # type: ignore[attr-defined]


def test_heartbeat_settings_are_used(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db)
    body = {"settings": [{"Name": settings.HEARTBEAT_PERIOD.name, "Value": "7"}]}
    api.ok(api.post(OPS + "UpdateBulk", body), 204)
    answer = api.ok(
        api.client.post(
            "/api/robot/connect",
            json={"machineKey": machine["Key"], "hostMachineName": "h", "agentId": str(uuid.uuid4())},
        )
    )
    assert answer["heartbeatSeconds"] == 7
    silent_for = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=20)
    with db.begin() as conn:
        conn.execute(update(robot_sessions).values(reporting_time=silent_for))
    run_service(api, "robot-sweep")  # 7 s x the default threshold (120 s / 30 s = 4): 28 s
    with db.connect() as conn:
        assert conn.execute(select(robot_sessions.c.state)).scalar() != int(RobotState.Disconnected)
    body = {"settings": [{"Name": settings.HEARTBEAT_FAILURES.name, "Value": "2"}]}  # 7 s x 2
    api.ok(api.post(OPS + "UpdateBulk", body), 204)
    run_service(api, "robot-sweep")
    with db.connect() as conn:
        assert conn.execute(select(robot_sessions.c.state)).scalar() == int(RobotState.Disconnected)


def test_queue_abandon_minutes_are_used(api: Api, db: Engine) -> None:
    create_queue(api)
    add_item(api)
    started = start(api)
    with db.begin() as conn:
        ten_minutes_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
        conn.execute(update(queue_items).values(start_processing=ten_minutes_ago))
    run_service(api, "queue-abandon")  # the default: 24 hours
    assert item(api, started["Id"])["Status"] == "InProgress"
    body = {"settings": [{"Name": settings.QUEUE_ABANDON_MINUTES.name, "Value": "5"}]}
    api.ok(api.post(OPS + "UpdateBulk", body), 204)
    run_service(api, "queue-abandon")
    assert item(api, started["Id"])["Status"] == "Abandoned"
