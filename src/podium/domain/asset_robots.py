"""What robots read and set of an asset: a robot's value (its own, else its user's, else the global
one, in ``domain/asset_lookup.py``), the global value a user reads directly, and setting the value of
an asset for a robot.

A robot's new value replaces only its own: the other robots' values are written back with their secrets
kept sealed as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_assets import asset_robot_values, assets
from podium.db.types import utcnow
from podium.domain.asset_enums import AssetErrorCode, AssetValueScope, AssetValueType
from podium.domain.asset_lookup import global_value
from podium.domain.asset_values import parse_value, value_from_row, write_robot_values
from podium.domain.crypto import Keyring
from podium.domain.sealed import asset_aad
from podium.errors import PodiumError, forbidden

# types whose global value a user reads without the asset allowing direct API access
OPEN_TYPES = frozenset(
    {AssetValueType.Text, AssetValueType.Bool, AssetValueType.Integer, AssetValueType.KeyValueList}
)


def direct_value(tenant_id: int, asset: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    """The global value a caller without a robot reads (and the AAD of its secret); 403 for a sealed
    type unless the asset allows direct API access."""
    if AssetValueType(asset["value_type"]) not in OPEN_TYPES and not asset["allow_direct_api_access"]:
        raise forbidden(f"Direct API access is not allowed for asset '{asset['name']}'.")
    return global_value(tenant_id, asset)


async def set_value_for_robot(
    conn: AsyncConnection,
    tenant_id: int,
    keyring: Keyring,
    user_id: int,
    asset: Mapping[str, Any],
    robot: Mapping[str, Any],
    robot_asset: Mapping[str, Any],
) -> None:
    """The robot's own value of a per-robot asset, else the asset's global value."""
    if asset["value_scope"] == AssetValueScope.PerRobot:
        await _set_robot_value(conn, tenant_id, keyring, asset, robot, robot_asset)
    else:
        await _set_global_value(conn, tenant_id, keyring, user_id, asset, robot_asset)


async def _set_robot_value(
    conn: AsyncConnection,
    tenant_id: int,
    keyring: Keyring,
    asset: Mapping[str, Any],
    robot: Mapping[str, Any],
    robot_asset: Mapping[str, Any],
) -> None:
    """Replaces this robot's value and keeps the other robots' (their secrets stay sealed as they are)."""
    found = await conn.execute(select(asset_robot_values).where(asset_robot_values.c.asset_id == asset["id"]))
    rows = [dict(row) for row in found.mappings()]
    items: list[dict[str, Any]] = [
        {"RobotId": r["robot_id"], **value_from_row(r, None), "CredentialPassword": None, "SecretValue": None}
        for r in rows
        if r["robot_id"] != robot["id"]
    ]
    items.append({**robot_asset, "RobotId": robot["id"]})
    value_type = AssetValueType(asset["value_type"])
    await write_robot_values(conn, tenant_id, keyring, asset["id"], value_type, items)


async def _set_global_value(
    conn: AsyncConnection,
    tenant_id: int,
    keyring: Keyring,
    user_id: int,
    asset: Mapping[str, Any],
    robot_asset: Mapping[str, Any],
) -> None:
    value_type = AssetValueType(asset["value_type"])
    if robot_asset.get("ValueType") not in (None, value_type.name, int(value_type)):
        raise PodiumError(
            "The type of an asset cannot change.", status=400, code=AssetErrorCode.TYPE_NOT_UPDATABLE
        )
    aad = asset_aad(tenant_id, asset["key"])
    parsed = parse_value(value_type, robot_asset, has_secret=asset["secret"] is not None)
    columns = parsed.columns(lambda clear: keyring.seal(clear, aad), asset["secret"])
    await conn.execute(
        assets.update()
        .where(assets.c.id == asset["id"])
        .values(**columns, last_modification_time=utcnow(), last_modifier_user_id=user_id)
    )
