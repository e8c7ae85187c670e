"""Robot-facing asset functions: the value a robot gets (its own, else its user's, else the global one).

Clear passwords and secrets go only to the robot the value is read for — a token whose
``principal.robot_id`` is that robot (robot client-credentials tokens now, job tokens later) — and,
without a robot, to a user with Assets.View when the asset allows direct API access (what the SDK's
``retrieve_credential`` does without a robot key). Everyone else gets ``CredentialPassword`` empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from podium import inputs
from podium.domain.asset_lookup import Reader, find_asset, robot_row, value_for_robot
from podium.domain.asset_robots import direct_value, set_value_for_robot
from podium.domain.asset_values import value_from_row
from podium.domain.crypto import keyring_for
from podium.http.context import RequestContext
from podium.inputs import json_object, optional_text, text
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import json_response, param, require_body

area = Area("Assets")


def robot_asset_dto(
    ctx: RequestContext, asset: Mapping[str, Any], value: Mapping[str, Any], aad: str | None
) -> Response:
    """A RobotAssetDto; the secret opened only when ``aad`` is given (the caller may see it)."""
    keyring = keyring_for(ctx.state.settings)
    opener = (lambda token: keyring.open(token, aad)) if aad is not None else None
    dto = {
        "@odata.context": f"{ctx.odata_base}/$metadata#UiPath.Application.Dto.Assets.RobotAssetDto",
        "Name": asset["name"],
        **value_from_row(value, opener),
        "ExternalName": asset["external_name"],
        "CredentialStoreId": asset["credential_store_id"],
        "AllowDirectApiAccess": bool(asset["allow_direct_api_access"]),
        "ConnectionData": None,
        "Id": asset["id"],
    }
    return json_response(dto)


async def _find(
    ctx: RequestContext, conn: AsyncConnection, name: str, reader: Reader, permission: str = "Assets.View"
) -> Mapping[str, Any]:
    """The asset named for the reader, where the caller looks (its folder header, its token's folder)."""
    return await find_asset(
        conn,
        ctx.tenant_id,
        name,
        reader,
        folder_id=ctx.folder.id if ctx.folder is not None else None,
        restricted_folder_id=ctx.principal.restricted_folder_id,
        permits=ctx.principal.has,
        permission=permission,
    )


async def _robot_read(ctx: RequestContext, robot: Mapping[str, Any], name: str) -> Response:
    async with ctx.state.db.read() as conn:
        reader = Reader.of(robot, ctx.principal.robot_id)
        asset = await _find(ctx, conn, name, reader)
        value, aad = await value_for_robot(conn, ctx.tenant_id, asset, robot)
    return robot_asset_dto(ctx, asset, value, aad if reader.is_robot else None)


@area.operation(
    "Assets",
    "GetRobotAsset",
    method="GET",
    parameters=("robotId", "assetName"),
    returns="RobotAssetDto",
    summary="The named asset as the given robot gets it",
)
async def get_robot_asset(ctx: RequestContext, call: ActionCall) -> Response:
    return await _by_robot_id(ctx, call)


@area.operation(
    "Assets",
    "GetRobotAssetByRobotId",
    method="GET",
    parameters=("robotId", "assetName"),
    returns="RobotAssetDto",
    summary="The named asset as the robot with this id gets it",
)
async def get_robot_asset_by_robot_id(ctx: RequestContext, call: ActionCall) -> Response:
    return await _by_robot_id(ctx, call)


async def _by_robot_id(ctx: RequestContext, call: ActionCall) -> Response:
    async with ctx.state.db.read() as conn:
        robot_id = inputs.url_id(param(call, "robotId"), "robotId")
        robot = await robot_row(conn, ctx.tenant_id, robot_id=robot_id)
    return await _robot_read(ctx, robot, text(param(call, "assetName"), "assetName"))


@area.operation(
    "Assets",
    "GetRobotAssetByNameForRobotKey",
    returns="RobotAssetDto",
    summary="The named asset as the robot with this key gets it",
)
async def get_by_robot_key(ctx: RequestContext, call: ActionCall) -> Response:
    body = require_body(call)
    name = text(body.get("assetName"), "assetName")
    robot_key = optional_text(body.get("robotKey"), "robotKey")
    if robot_key is not None:
        async with ctx.state.db.read() as conn:
            robot = await robot_row(conn, ctx.tenant_id, robot_key=robot_key)
        return await _robot_read(ctx, robot, name)
    if ctx.principal.robot_id is not None:  # a robot (or job) token: its own robot
        async with ctx.state.db.read() as conn:
            robot = await robot_row(conn, ctx.tenant_id, robot_id=ctx.principal.robot_id)
        return await _robot_read(ctx, robot, name)
    return await _direct_read(ctx, name)


async def _direct_read(ctx: RequestContext, name: str) -> Response:
    """No robot: a user reads the global value; secrets only when the asset allows direct API access."""
    async with ctx.state.db.read() as conn:
        asset = await _find(ctx, conn, name, Reader.of(None, ctx.principal.robot_id))
    value, aad = direct_value(ctx.tenant_id, asset)
    return robot_asset_dto(ctx, asset, value, aad)


@area.operation(
    "Assets",
    "SetRobotAssetByRobotKey",
    summary="Sets the asset's value for the robot with this key (its own value for a per-robot asset)",
)
async def set_by_robot_key(ctx: RequestContext, call: ActionCall) -> Response:
    body = require_body(call)
    robot_key = text(body.get("robotKey"), "robotKey")
    robot_asset = json_object(body.get("robotAsset"), "robotAsset")
    name = text(robot_asset.get("Name"), "robotAsset.Name", required=False)
    async with ctx.state.db.write() as conn:
        robot = await robot_row(conn, ctx.tenant_id, robot_key=robot_key)
        reader = Reader.of(robot, ctx.principal.robot_id)
        asset = await _find(ctx, conn, name, reader, permission="Assets.Edit")
        keyring = keyring_for(ctx.state.settings)
        await set_value_for_robot(conn, ctx.tenant_id, keyring, ctx.user_id, asset, robot, robot_asset)
        value, aad = await value_for_robot(conn, ctx.tenant_id, asset, robot)
    return robot_asset_dto(ctx, asset, value, aad if reader.is_robot else None)
