"""Helpers for the asset tests: a robot reading an asset (robots with a token and assets themselves:
``tests.factories``)."""

from __future__ import annotations

from typing import Any

from tests.support import Api

ODATA = "/odata"
NS = "UiPath.Server.Configuration.OData"


def robot_read(
    api: Api, name: str, robot_key: str | None, token: str | None = None, folder: str | int | None = "Shared"
) -> Any:
    body: dict[str, Any] = {"assetName": name, "supportsCredentialsProxyDisconnected": True}
    if robot_key is not None:
        body["robotKey"] = robot_key
    return api.post(f"{ODATA}/Assets/{NS}.GetRobotAssetByNameForRobotKey", body, folder=folder, token=token)
