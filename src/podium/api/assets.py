"""``/odata/Assets``: folder assets shared to several folders, with global, per-robot and per-user values.

Reads see the assets of a folder plus those shared into it (``asset_folders``). Every read here
answers ``CredentialPassword`` empty and never ``SecretValue``: clear secrets only go to robots, through
the robot-facing functions of ``api/asset_robots.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, false, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.api.asset_values import write_robot_values, write_user_values
from podium.db.schema import folder_robots
from podium.db.schema_assets import (
    asset_folders,
    asset_robot_values,
    asset_user_values,
    assets,
    credential_stores,
)
from podium.domain.assets import AssetErrorCode, AssetValueScope, AssetValueType, parse_tags, parse_value
from podium.domain.credential_stores import CredentialResourceType, default_store
from podium.domain.crypto import keyring_for
from podium.domain.events import record
from podium.domain.sealed import asset_aad
from podium.errors import PodiumError, bad_request, conflict
from podium.http.context import RequestContext
from podium.odata.declare import audit, boolean, choice, constant, entity_key, integer, key_id, text
from podium.odata.model import Edm, EntitySet, Field, Navigation, Scope
from podium.odata.registry import Area

area = Area("Assets")

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


def _hidden(ctx: RequestContext) -> list[ColumnElement[bool]]:
    return [false()]  # value rows are read through $expand of their asset only


def _value_fields(password: bool = True) -> list[Field]:
    return [
        choice("ValueType", AssetValueType, "value_type", read_only=True),
        text("StringValue", "string_value", read_only=True),
        boolean("BoolValue", "bool_value", read_only=True),
        integer("IntValue", "int_value", read_only=True),
        text("Value", "value", read_only=True),
        text("CredentialUsername", "credential_username", read_only=True),
        constant("CredentialPassword", "" if password else None),
        constant("ExternalName", None),
        constant("CredentialStoreId", None, Edm.INT64),
        Field("KeyValueList", Edm.UNTYPED, "key_value_list", read_only=True),
    ]


area.add(
    EntitySet(
        name="AssetRobotValues",
        type_name="AssetRobotValueDto",
        table=asset_robot_values,
        scope=Scope.HOST,
        permission=None,
        insertable=False,
        updatable=False,
        deletable=False,
        read_filter=_hidden,
        fields=[
            integer("RobotId", "robot_id"),
            text("RobotName", "robot_name"),
            constant("KeyTrail", None),
            *_value_fields(),
            key_id(),
        ],
    )
)
area.add(
    EntitySet(
        name="AssetUserValues",
        type_name="AssetUserValueDto",
        table=asset_user_values,
        scope=Scope.HOST,
        permission=None,
        insertable=False,
        updatable=False,
        deletable=False,
        read_filter=_hidden,
        fields=[
            integer("UserId", "user_id"),
            text("UserName", "user_name"),
            integer("MachineId", "machine_id"),
            text("MachineName", "machine_name"),
            *_value_fields(),
            key_id(),
        ],
    )
)


def _robot_reach(ctx: RequestContext) -> list[ColumnElement[bool]]:
    """A robot (or a job's token) sees only assets of the folders the robot belongs to."""
    robot_id = ctx.principal.robot_id
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


async def _folders_of(conn: AsyncConnection, asset_id: int) -> list[int]:
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
    ctx: RequestContext, conn: AsyncConnection, values: dict[str, Any], existing: Any
) -> None:
    store_id = values.get("credential_store_id")
    if store_id is not None:
        found = await conn.execute(
            select(credential_stores.c.id).where(
                credential_stores.c.id == store_id, credential_stores.c.tenant_id == ctx.tenant_id
            )
        )
        if found.first() is None:
            raise bad_request(f"Credential store {store_id} does not exist.")
    elif existing is None:
        values["credential_store_id"] = await default_store(
            conn, ctx.tenant_id, CredentialResourceType.AssetCredential
        )


async def _before_write(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    """Validates the whole body (value for the type, robots, users, name) before anything is written."""
    value_type, has_default = _type_and_scope(values, existing)
    name = values.get("name", existing["name"] if existing else "")
    folder_ids = await _folders_of(conn, existing["id"]) if existing else [values["folder_id"]]
    if await name_clash(conn, name, folder_ids, existing["id"] if existing else None):
        raise conflict(f"An asset named '{name}' already exists in this folder.")
    await _check_store(ctx, conn, values, existing)
    tags = parse_tags(body)
    if tags is not None or existing is None:
        values["tags"] = tags or "[]"
    tenant_id = ctx.tenant_id
    key = values.get("key") or (existing or {}).get("key")
    keyring = keyring_for(ctx.state.settings)
    if not has_default:
        values.update(
            value=None, string_value=None, credential_username=None, secret=None, key_value_list="[]"
        )
    elif existing is None or any(name in body for name in VALUE_PROPERTIES):
        kept = existing["secret"] if existing else None
        parsed = parse_value(value_type, body, has_secret=kept is not None)
        values.update(parsed.columns(lambda clear: keyring.seal(clear, asset_aad(tenant_id, str(key))), kept))
    if existing is not None:  # on create they are written once the asset has its id
        await write_robot_values(
            ctx, conn, existing["id"], value_type, body.get("RobotValues"), "RobotValues" in body
        )
        await write_user_values(
            ctx, conn, existing["id"], value_type, body.get("UserValues"), "UserValues" in body
        )
        await record(
            conn,
            tenant_id,
            "AssetUpdated",
            str(key),
            {"name": name, "type": value_type.name},
            existing["folder_id"],
        )


async def _after_insert(
    ctx: RequestContext, conn: AsyncConnection, asset_id: int, values: dict[str, Any], body: Mapping[str, Any]
) -> None:
    await conn.execute(insert(asset_folders).values(asset_id=asset_id, folder_id=values["folder_id"]))
    value_type = AssetValueType(values["value_type"])
    await write_robot_values(ctx, conn, asset_id, value_type, body.get("RobotValues"), "RobotValues" in body)
    await write_user_values(ctx, conn, asset_id, value_type, body.get("UserValues"), "UserValues" in body)
    await record(
        conn,
        ctx.tenant_id,
        "AssetCreated",
        values["key"],
        {"name": values["name"], "type": value_type.name},
        values["folder_id"],
    )


async def _before_delete(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    await record(conn, ctx.tenant_id, "AssetDeleted", row["key"], {"name": row["name"]}, row["folder_id"])


ASSETS = area.add(
    EntitySet(
        name="Assets",
        type_name="AssetDto",
        table=assets,
        scope=Scope.FOLDER,
        permission="Assets",
        shared_through=(asset_folders, "asset_id"),
        before_write=_before_write,
        after_insert=_after_insert,
        before_delete=_before_delete,
        read_filter=_robot_reach,
        navigations=[
            Navigation("RobotValues", "AssetRobotValues", local="id", remote="asset_id", many=True),
            Navigation("UserValues", "AssetUserValues", local="id", remote="asset_id", many=True),
        ],
        fields=[
            entity_key(),
            text("Name", "name", required=True, nullable=False, max_length=256),
            constant("CanBeDeleted", True, Edm.BOOLEAN),
            choice("ValueScope", AssetValueScope, "value_scope", nullable=False),
            choice("ValueType", AssetValueType, "value_type", nullable=False, required=True),
            text("Value", "value", read_only=True),
            text("StringValue", "string_value", read_only=True),
            boolean("BoolValue", "bool_value", read_only=True),
            integer("IntValue", "int_value", read_only=True),
            text("CredentialUsername", "credential_username", read_only=True),
            constant("CredentialPassword", ""),
            constant("SecretValue", None),
            text("ExternalName", "external_name", max_length=256),
            integer("CredentialStoreId", "credential_store_id"),
            Field("KeyValueList", Edm.UNTYPED, "key_value_list", read_only=True),
            boolean("HasDefaultValue", "has_default_value", nullable=False),
            text("Description", "description", max_length=1000),
            boolean("AllowDirectApiAccess", "allow_direct_api_access", nullable=False),
            Field("Tags", Edm.UNTYPED, "tags", read_only=True),
            integer("FoldersCount", "folders_count", read_only=True),
            *audit(),
            key_id(),
        ],
    )
)
