"""Folder assets: what is checked and written when an asset is created, updated or deleted.

An asset is in the folder it was created in and in every folder it is shared to (``asset_folders``
lists them all). Names are unique, in any case, among the assets a folder sees. The global value is
stored on the asset row, its secret sealed with the asset's AAD; the per-robot and per-user values
are in ``domain/asset_values.py``. A robot (or a job's token) sees only the assets of its folders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folder_robots
from podium.db.schema_assets import asset_folders, assets
from podium.domain.asset_enums import AssetErrorCode, AssetValueScope, AssetValueType
from podium.domain.asset_values import parse_value, write_listed_values
from podium.domain.credential_stores import CredentialResourceType, check_store_exists, default_store
from podium.domain.crypto import Keyring
from podium.domain.events import record
from podium.domain.sealed import asset_aad
from podium.errors import PodiumError, conflict

FOLDER_LINK = asset_folders
SHARED_THROUGH = (FOLDER_LINK, "asset_id")

VALUE_PROPERTIES = (
    "Value",
    "StringValue",
    "BoolValue",
    "IntValue",
    "CredentialUsername",
    "CredentialPassword",
    "SecretValue",
    "KeyValueList",
)


def robot_reach(robot_id: int | None) -> list[ColumnElement[bool]]:
    """The assets a robot sees: those of the folders it belongs to (no condition without a robot)."""
    if robot_id is None:
        return []
    robot_folders = select(folder_robots.c.folder_id).where(folder_robots.c.robot_id == robot_id)
    return [
        assets.c.id.in_(select(asset_folders.c.asset_id).where(asset_folders.c.folder_id.in_(robot_folders)))
    ]


async def name_clash(conn: AsyncConnection, name: str, folder_ids: list[int], exclude: int | None) -> bool:
    """Whether another asset with this name (any case) is in, or shared to, one of the folders."""
    query = select(assets.c.id).where(
        func.lower(assets.c.name) == name.lower(),
        assets.c.id.in_(select(asset_folders.c.asset_id).where(asset_folders.c.folder_id.in_(folder_ids)))
        | assets.c.folder_id.in_(folder_ids),
    )
    if exclude is not None:
        query = query.where(assets.c.id != exclude)
    return (await conn.execute(query.limit(1))).first() is not None


async def folder_ids_of(conn: AsyncConnection, asset_id: int) -> list[int]:
    """The folders the asset is in (its creation folder and those it is shared to)."""
    return [
        r.folder_id
        for r in await conn.execute(
            select(asset_folders.c.folder_id).where(asset_folders.c.asset_id == asset_id)
        )
    ]


def _type_and_scope(
    values: dict[str, Any], existing: Mapping[str, Any] | None
) -> tuple[AssetValueType, bool]:
    if existing is not None and values.get("value_type", existing["value_type"]) != existing["value_type"]:
        raise PodiumError(
            "The type of an asset cannot change.", status=400, code=AssetErrorCode.TYPE_NOT_UPDATABLE
        )
    value_type = AssetValueType(
        values.get("value_type", existing["value_type"] if existing else AssetValueType.Text)
    )
    scope = values.get("value_scope", existing["value_scope"] if existing else AssetValueScope.Global)
    values["value_type"], values["value_scope"] = int(value_type), int(scope)
    if scope == AssetValueScope.Global:
        values["has_default_value"] = True
    elif "has_default_value" not in values:
        values["has_default_value"] = bool(existing["has_default_value"]) if existing else False
    return value_type, bool(values["has_default_value"])


async def _check_store(
    conn: AsyncConnection, tenant_id: int, values: dict[str, Any], existing: Mapping[str, Any] | None
) -> None:
    store_id = values.get("credential_store_id")
    if store_id is not None:
        await check_store_exists(conn, tenant_id, store_id)
    elif existing is None:
        values["credential_store_id"] = await default_store(
            conn, tenant_id, CredentialResourceType.AssetCredential
        )


async def prepare_write(
    conn: AsyncConnection,
    tenant_id: int,
    keyring: Keyring,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    """Validates the whole body (value for the type, robots, users, name) before anything is written,
    and completes the columns (the value's, its secret sealed); an update also writes the robots' and
    users' values the body names, and records the event."""
    value_type, has_default = _type_and_scope(values, existing)
    name = values.get("name", existing["name"] if existing else "")
    folder_ids = await folder_ids_of(conn, existing["id"]) if existing else [values["folder_id"]]
    if await name_clash(conn, name, folder_ids, existing["id"] if existing else None):
        raise conflict(f"An asset named '{name}' already exists in this folder.")
    await _check_store(conn, tenant_id, values, existing)
    if existing is None:
        values.setdefault("tags", "[]")  # Tags, when sent, came through their field (domain/tags.py)
    key = values.get("key") or (existing or {}).get("key")
    if not has_default:
        values.update(
            value=None, string_value=None, credential_username=None, secret=None, key_value_list="[]"
        )
    elif existing is None or any(name in body for name in VALUE_PROPERTIES):
        kept = existing["secret"] if existing else None
        parsed = parse_value(value_type, body, has_secret=kept is not None)
        values.update(parsed.columns(lambda clear: keyring.seal(clear, asset_aad(tenant_id, str(key))), kept))
    if existing is not None:  # on create they are written once the asset has its id
        await write_listed_values(conn, tenant_id, keyring, existing["id"], value_type, body)
        await record(
            conn,
            tenant_id,
            "AssetUpdated",
            str(key),
            {"name": name, "type": value_type.name},
            existing["folder_id"],
        )


async def finish_create(
    conn: AsyncConnection,
    tenant_id: int,
    keyring: Keyring,
    asset_id: int,
    values: Mapping[str, Any],
    body: Mapping[str, Any],
) -> None:
    """A new asset: in its creation folder, with the robots' and users' values of the body; recorded."""
    await conn.execute(insert(asset_folders).values(asset_id=asset_id, folder_id=values["folder_id"]))
    value_type = AssetValueType(values["value_type"])
    await write_listed_values(conn, tenant_id, keyring, asset_id, value_type, body)
    await record(
        conn,
        tenant_id,
        "AssetCreated",
        values["key"],
        {"name": values["name"], "type": value_type.name},
        values["folder_id"],
    )


async def record_deleted(conn: AsyncConnection, tenant_id: int, row: Mapping[str, Any]) -> None:
    await record(conn, tenant_id, "AssetDeleted", row["key"], {"name": row["name"]}, row["folder_id"])
