"""Finding the asset a robot (or a user) asks for by name, and the value that applies to a robot."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folder_robots, folders, robots
from podium.db.schema_assets import asset_folders, asset_robot_values, asset_user_values, assets
from podium.domain.asset_enums import AssetErrorCode, AssetValueScope
from podium.domain.sealed import asset_aad, robot_value_aad, user_value_aad
from podium.errors import ErrorCode, PodiumError, forbidden, not_found

Permits = Callable[[str, str], bool]  # (permission, folder path) -> whether the caller holds it there


@dataclass(frozen=True)
class Reader:
    """Whom a value is read for: a robot (``is_robot`` when the caller is that very robot) or no robot."""

    robot: Mapping[str, Any] | None
    is_robot: bool

    @classmethod
    def of(cls, robot: Mapping[str, Any] | None, caller_robot_id: int | None) -> Reader:
        """``caller_robot_id``: the robot of the caller's token (a robot reads only its own values)."""
        if robot is not None and caller_robot_id is not None and caller_robot_id != robot["id"]:
            raise forbidden("A robot reads and sets only its own asset values.")
        return cls(robot, robot is not None and caller_robot_id == robot["id"])


async def robot_row(
    conn: AsyncConnection, tenant_id: int, *, robot_id: int | None = None, robot_key: str | None = None
) -> Mapping[str, Any]:
    query = select(robots.c.id, robots.c.key, robots.c.name, robots.c.user_id, robots.c.machine_id).where(
        robots.c.tenant_id == tenant_id
    )
    if robot_id is not None:
        query = query.where(robots.c.id == robot_id)
    else:  # the robot's Key, or its LicenseKey (what a robot configured by license key knows itself by)
        query = query.where((robots.c.key == robot_key) | (robots.c.license_key == robot_key))
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found("Robot does not exist.")
    return dict(row)


async def find_asset(
    conn: AsyncConnection,
    tenant_id: int,
    name: str,
    reader: Reader,
    *,
    folder_id: int | None,
    restricted_folder_id: int | None,
    permits: Permits,
    permission: str = "Assets.View",
) -> Mapping[str, Any]:
    """The one asset of this name in the folder of the headers (``folder_id``; else in any folder the
    reader reaches, or the one the caller's token is restricted to).

    A robot reaches the folders it belongs to (``folder_robots``) and reads there as their member; other
    callers need ``permission`` in the folder (a robot needs it too to set a value).
    """
    query = (
        select(assets, folders.c.fully_qualified_name.label("folder_path"))
        .join(asset_folders, asset_folders.c.asset_id == assets.c.id)
        .join(folders, folders.c.id == asset_folders.c.folder_id)
        .where(assets.c.tenant_id == tenant_id, func.lower(assets.c.name) == name.lower())
    )
    if folder_id is not None:
        query = query.where(asset_folders.c.folder_id == folder_id)
    if restricted_folder_id is not None:
        query = query.where(asset_folders.c.folder_id == restricted_folder_id)
    if reader.robot is not None:
        member_of = select(folder_robots.c.folder_id).where(folder_robots.c.robot_id == reader.robot["id"])
        query = query.where(asset_folders.c.folder_id.in_(member_of))
    rows = (await conn.execute(query.order_by(assets.c.id))).mappings().all()
    allowed = {
        row["id"]: dict(row)
        for row in rows
        if (reader.is_robot and permission == "Assets.View") or permits(permission, row["folder_path"])
    }
    if not allowed:
        if rows:
            raise forbidden(f"You are not authorized! (missing permission {permission})")
        raise PodiumError(f"Asset '{name}' was not found.", status=404, code=AssetErrorCode.NOT_FOUND)
    if len(allowed) > 1:
        raise PodiumError(
            f"Several assets are named '{name}'; name the folder (X-UIPATH-FolderPath).",
            status=400,
            code=ErrorCode.FOLDER_REQUIRED,
        )
    return next(iter(allowed.values()))


def global_value(tenant_id: int, asset: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    if asset["value_scope"] == AssetValueScope.PerRobot and not asset["has_default_value"]:
        raise PodiumError(
            f"Asset '{asset['name']}' has no value for this robot.",
            status=404,
            code=AssetErrorCode.NOT_AVAILABLE_FOR_ROBOT,
        )
    return asset, asset_aad(tenant_id, asset["key"])


async def value_for_robot(
    conn: AsyncConnection, tenant_id: int, asset: Mapping[str, Any], robot: Mapping[str, Any]
) -> tuple[Mapping[str, Any], str]:
    """The robot's own value, else its user's (on its machine first), else the asset's global value."""
    own = (
        (
            await conn.execute(
                select(asset_robot_values).where(
                    asset_robot_values.c.asset_id == asset["id"], asset_robot_values.c.robot_id == robot["id"]
                )
            )
        )
        .mappings()
        .first()
    )
    if own is not None:
        return dict(own), robot_value_aad(asset["id"], robot["id"])
    if robot["user_id"] is not None:
        machine = asset_user_values.c.machine_id
        users_value = (
            (
                await conn.execute(
                    select(asset_user_values)
                    .where(
                        asset_user_values.c.asset_id == asset["id"],
                        asset_user_values.c.user_id == robot["user_id"],
                        machine.is_(None) | (machine == robot["machine_id"]),
                    )
                    .order_by(machine.is_(None))
                )
            )
            .mappings()
            .first()
        )
        if users_value is not None:
            aad = user_value_aad(asset["id"], users_value["user_id"], users_value["machine_id"])
            return dict(users_value), aad
    return global_value(tenant_id, asset)
