"""The Settings area over HTTP on both backends: every key listed with its value, edits checked against
their key (400, nothing written), defaults back with DeleteBulk, the values used (password policy,
lockout), the Get* functions, licence actions refused, and Settings.* permissions."""

from __future__ import annotations

from typing import Any

import pytest

from podium.domain import settings
from tests.factories import user, user_with
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
