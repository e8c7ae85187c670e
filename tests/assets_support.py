"""Helpers for the asset tests: a machine + robot with a client-credentials token, assets by type."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tests.support import Api

ODATA = "/odata"
NS = "UiPath.Server.Configuration.OData"


@dataclass
class RobotLogin:
    robot: dict[str, Any]
    machine: dict[str, Any]
    token: str

    @property
    def key(self) -> str:
        """The robot key a robot sends (robotKey, UIPATH_ROBOT_KEY): here its LicenseKey."""
        return str(self.robot["LicenseKey"])


def robot_with_token(api: Api, name: str, folder: str | int = "Shared") -> RobotLogin:
    """A machine (its client secret shown once) and a robot on it in the folder, logged in."""
    machine = api.ok(api.post(f"{ODATA}/Machines", {"Name": f"{name}-machine"}), 201)
    assert machine["ClientId"] == machine["Key"] and len(machine["ClientSecret"]) >= 32
    robot_body = {
        "Name": name,
        "MachineId": machine["Id"],
        "Type": "Unattended",
        "LicenseKey": str(uuid.uuid4()),
    }
    robot = api.ok(api.post(f"{ODATA}/Robots", robot_body, folder=folder), 201)
    response = api.client.post(
        "/identity_/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": machine["ClientId"],
            "client_secret": machine["ClientSecret"],
        },
    )
    assert response.status_code == 200, response.text
    return RobotLogin(robot, machine, response.json()["access_token"])


def create_asset(api: Api, body: dict[str, Any], folder: str | int = "Shared", status: int = 201) -> Any:
    return api.ok(api.post(f"{ODATA}/Assets", {"ValueScope": "Global", **body}, folder=folder), status)


def robot_read(
    api: Api, name: str, robot_key: str | None, token: str | None = None, folder: str | int | None = "Shared"
) -> Any:
    body: dict[str, Any] = {"assetName": name, "supportsCredentialsProxyDisconnected": True}
    if robot_key is not None:
        body["robotKey"] = robot_key
    return api.post(f"{ODATA}/Assets/{NS}.GetRobotAssetByNameForRobotKey", body, folder=folder, token=token)
