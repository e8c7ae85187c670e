"""End to end: the official UiPath SDK's asset methods against a real ``podium serve`` process.

As a user (admin token, no robot key): ``assets.list``, ``retrieve`` (GetFiltered) and
``retrieve_credential`` (direct API access). As a robot (its machine's client-credentials token and
``UIPATH_ROBOT_KEY``): ``retrieve``/``retrieve_credential`` through GetRobotAssetByNameForRobotKey and
``update`` through SetRobotAssetByRobotKey. The database's tables come from the metadata (as in every
test) and are stamped as migrated, so the server starts on them.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from podium.db.migrate import alembic_config
from tests.e2e.test_sdk_jobs import ADMIN_PASSWORD, ODATA, SDK_ENVIRONMENT, ok, podium_server

pytestmark = pytest.mark.e2e


def _stamp(database_url: str) -> None:
    from alembic import command

    command.stamp(alembic_config(database_url), "head")


def _seed(base: str) -> dict[str, Any]:
    """Assets, a machine and a robot (allowed to set asset values) in Shared; the robot's token."""
    with httpx.Client(base_url=base, timeout=10) as http:
        login = {"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": ADMIN_PASSWORD}
        token: str = ok(http.post("/api/Account/Authenticate", json=login))["result"]
        http.headers.update({"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"})
        [shared] = ok(http.get(f"{ODATA}/Folders", params={"$filter": "FullyQualifiedName eq 'Shared'"}))[
            "value"
        ]
        for body in (
            {"Name": "greeting", "ValueType": "Text", "StringValue": "hello"},
            {
                "Name": "login",
                "ValueType": "Credential",
                "CredentialUsername": "bob",
                "CredentialPassword": "pw-open",
                "AllowDirectApiAccess": True,
            },
            {
                "Name": "locked",
                "ValueType": "Credential",
                "CredentialUsername": "eve",
                "CredentialPassword": "pw-locked",
            },
            {
                "Name": "counter",
                "ValueType": "Integer",
                "ValueScope": "PerRobot",
                "IntValue": 1,
                "HasDefaultValue": True,
            },
        ):
            ok(http.post(f"{ODATA}/Assets", json={"ValueScope": "Global", **body}), 201)
        machine = ok(http.post(f"{ODATA}/Machines", json={"Name": "SDK-MACHINE"}), 201)
        robot_key = str(uuid.uuid4())
        robot = ok(
            http.post(
                f"{ODATA}/Robots",
                json={
                    "Name": "sdk-robot",
                    "MachineId": machine["Id"],
                    "LicenseKey": robot_key,
                    "Type": "Unattended",
                },
            ),
            201,
        )
        role = ok(
            http.post(
                f"{ODATA}/Roles",
                json={
                    "Name": "Asset writer",
                    "Permissions": [
                        {"Name": "Assets.View", "IsGranted": True},
                        {"Name": "Assets.Edit", "IsGranted": True},
                    ],
                },
            ),
            201,
        )
        assignment = {
            "UserIds": [robot["UserId"]],
            "RolesPerFolder": [{"FolderId": shared["Id"], "RoleIds": [role["Id"]]}],
        }
        ok(
            http.post(
                f"{ODATA}/Folders/UiPath.Server.Configuration.OData.AssignUsers",
                json={"assignments": assignment},
            ),
            204,
        )
        issued = ok(
            http.post(
                "/identity_/connect/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": machine["ClientId"],
                    "client_secret": machine["ClientSecret"],
                },
            )
        )
    return {"token": token, "robot_token": issued["access_token"], "robot_key": robot_key}


def test_sdk_assets(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _stamp(database_url)
    with podium_server(database_url, tmp_path / "data") as base:
        seeded = _seed(base)
        log = (tmp_path / "data" / "server.log").read_text()
        assert "encryption key file" in log and (tmp_path / "data" / "encryption.keys").exists()
        for name in SDK_ENVIRONMENT:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("UIPATH_FOLDER_PATH", "Shared")
        monkeypatch.setenv("UIPATH_TELEMETRY_ENABLED", "false")
        monkeypatch.chdir(tmp_path)

        from uipath.platform import UiPath
        from uipath.platform.orchestrator.assets import UserAsset

        url = f"{base}/podium/Default"
        user = UiPath(base_url=url, secret=seeded["token"])
        page = user.assets.list(orderby="Name asc", top=10)
        assert [a.name for a in page.items] == [
            "counter",
            "greeting",
            "locked",
            "login",
        ] and not page.has_more
        credentials = user.assets.list(filter="ValueType eq 'Credential'", top=10).items
        assert [a.name for a in credentials] == ["login", "locked"]  # by Id
        greeting = user.assets.retrieve("greeting")
        assert (greeting.value, greeting.string_value, greeting.value_type) == ("hello", "hello", "Text")
        assert user.assets.retrieve("login").credential_password == ""  # never to a user's read
        assert user.assets.retrieve_credential("login") == "pw-open"  # AllowDirectApiAccess
        with pytest.raises(ValueError):
            user.assets.retrieve_credential("locked")  # the SDK refuses itself: no direct access
        with pytest.raises(IndexError):
            user.assets.retrieve("no-such-asset")

        monkeypatch.setenv("UIPATH_ROBOT_KEY", seeded["robot_key"])
        robot = UiPath(base_url=url, secret=seeded["robot_token"])
        assert robot.assets.retrieve_credential("locked") == "pw-locked"  # the robot's own read
        counter = robot.assets.retrieve("counter")
        assert isinstance(counter, UserAsset) and counter.int_value == 1
        answer = robot.assets.update(
            UserAsset.model_validate({"Name": "counter", "ValueType": "Integer", "IntValue": 5})
        )
        assert answer["IntValue"] == 5
        assert robot.assets.retrieve("counter").int_value == 5  # its own value now
        assert user.assets.retrieve("counter").int_value == 1  # the default is unchanged
