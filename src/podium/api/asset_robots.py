"""Robot-facing asset functions: the value a robot gets (its own, else its user's, else the global one).

Clear passwords and secrets go only to the robot the value is read for — a token whose
``principal.robot_id`` is that robot (robot client-credentials tokens now, job tokens later) — and,
without a robot, to a user with Assets.View when the asset allows direct API access (what the SDK's
``retrieve_credential`` does without a robot key). Everyone else gets ``CredentialPassword`` empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from starlette.responses import Response

from podium.api.asset_lookup import Reader, find_asset, global_value, robot_row, value_for_robot
from podium.api.asset_values import write_robot_values
from podium.db.schema_assets import asset_robot_values, assets
from podium.db.types import utcnow
from podium.domain.assets import AssetErrorCode, AssetValueScope, AssetValueType, parse_value, value_from_row
from podium.domain.crypto import keyring_for
from podium.domain.sealed import asset_aad
from podium.errors import PodiumError, bad_request, forbidden
from podium.http.context import RequestContext
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


async def _robot_read(ctx: RequestContext, robot: Mapping[str, Any], name: str) -> Response:
    async with ctx.state.db.read() as conn:
        reader = Reader.of(ctx, robot)
        asset = await find_asset(ctx, conn, name, reader)
        value, aad = await value_for_robot(conn, ctx.tenant_id, asset, robot)
    return robot_asset_dto(ctx, asset, value, aad if reader.is_robot else None)


def _robot_id(value: Any) -> int:
    text = str(value).strip("'")
    if not text.isdigit():
        raise bad_request("robotId must be a robot id.")
    return int(text)


def _asset_name(call: ActionCall) -> str:
    name = param(call, "assetName")
    if not isinstance(name, str) or not name:
        raise bad_request("assetName is required.")
    return name


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
        robot = await robot_row(conn, ctx.tenant_id, robot_id=_robot_id(param(call, "robotId")))
    return await _robot_read(ctx, robot, _asset_name(call))


@area.operation(
    "Assets",
    "GetRobotAssetByNameForRobotKey",
    returns="RobotAssetDto",
    summary="The named asset as the robot with this key gets it",
)
async def get_by_robot_key(ctx: RequestContext, call: ActionCall) -> Response:
    body = require_body(call)
    name = body.get("assetName")
    if not isinstance(name, str) or not name:
        raise bad_request("assetName is required.")
    robot_key = body.get("robotKey")
    if robot_key is not None:
        if not isinstance(robot_key, str):
            raise bad_request("robotKey must be a string.")
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
        asset = await find_asset(ctx, conn, name, Reader.of(ctx, None))
    sealed = AssetValueType(asset["value_type"]) not in (
        AssetValueType.Text,
        AssetValueType.Bool,
        AssetValueType.Integer,
        AssetValueType.KeyValueList,
    )
    if sealed and not asset["allow_direct_api_access"]:
        raise forbidden(f"Direct API access is not allowed for asset '{asset['name']}'.")
    value, aad = global_value(ctx.tenant_id, asset)
    return robot_asset_dto(ctx, asset, value, aad)


@area.operation(
    "Assets",
    "SetRobotAssetByRobotKey",
    summary="Sets the asset's value for the robot with this key (its own value for a per-robot asset)",
)
async def set_by_robot_key(ctx: RequestContext, call: ActionCall) -> Response:
    body = require_body(call)
    robot_key, robot_asset = body.get("robotKey"), body.get("robotAsset")
    if not isinstance(robot_key, str) or not robot_key:
        raise bad_request("robotKey is required.")
    if not isinstance(robot_asset, Mapping) or not isinstance(robot_asset.get("Name"), str):
        raise bad_request("robotAsset with a Name is required.")
    async with ctx.state.db.write() as conn:
        robot = await robot_row(conn, ctx.tenant_id, robot_key=robot_key)
        reader = Reader.of(ctx, robot)
        asset = await find_asset(ctx, conn, robot_asset["Name"], reader, permission="Assets.Edit")
        value_type = AssetValueType(asset["value_type"])
        if asset["value_scope"] == AssetValueScope.PerRobot:
            await _set_robot_value(ctx, conn, asset, robot, robot_asset)
        else:
            await _set_global_value(ctx, conn, asset, value_type, robot_asset)
        value, aad = await value_for_robot(conn, ctx.tenant_id, asset, robot)
    return robot_asset_dto(ctx, asset, value, aad if reader.is_robot else None)


async def _set_robot_value(
    ctx: RequestContext,
    conn: Any,
    asset: Mapping[str, Any],
    robot: Mapping[str, Any],
    robot_asset: Mapping[str, Any],
) -> None:
    """Replaces this robot's value and keeps the other robots' (their secrets stay sealed as they are)."""
    rows = (
        (await conn.execute(select(asset_robot_values).where(asset_robot_values.c.asset_id == asset["id"])))
        .mappings()
        .all()
    )
    items: list[dict[str, Any]] = [
        {"RobotId": r["robot_id"], **value_from_row(r, None), "CredentialPassword": None, "SecretValue": None}
        for r in rows
        if r["robot_id"] != robot["id"]
    ]
    items.append({**robot_asset, "RobotId": robot["id"]})
    await write_robot_values(ctx, conn, asset["id"], AssetValueType(asset["value_type"]), items, True)


async def _set_global_value(
    ctx: RequestContext,
    conn: Any,
    asset: Mapping[str, Any],
    value_type: AssetValueType,
    robot_asset: Mapping[str, Any],
) -> None:
    if robot_asset.get("ValueType") not in (None, value_type.name, int(value_type)):
        raise PodiumError(
            "The type of an asset cannot change.", status=400, code=AssetErrorCode.TYPE_NOT_UPDATABLE
        )
    keyring = keyring_for(ctx.state.settings)
    aad = asset_aad(ctx.tenant_id, asset["key"])
    parsed = parse_value(value_type, robot_asset, has_secret=asset["secret"] is not None)
    columns = parsed.columns(lambda clear: keyring.seal(clear, aad), asset["secret"])
    await conn.execute(
        assets.update()
        .where(assets.c.id == asset["id"])
        .values(
            **columns,
            last_modification_time=utcnow(),
            last_modifier_user_id=ctx.user_id,
        )
    )
