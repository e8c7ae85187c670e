"""``/odata/Assets``: folder assets shared to several folders, with global, per-robot and per-user values.

Reads see the assets of a folder plus those shared into it (``asset_folders``). Every read here
answers ``CredentialPassword`` empty and never ``SecretValue``: clear secrets only go to robots, through
the robot-facing functions of ``api/asset_robots.py``. The rules and queries are in ``domain/assets.py``
(and ``domain/asset_values.py`` for values).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, false
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_assets import asset_robot_values, asset_user_values, assets
from podium.domain.asset_enums import AssetValueScope, AssetValueType
from podium.domain.assets import SHARED_THROUGH, finish_create, prepare_write, record_deleted, robot_reach
from podium.domain.crypto import keyring_for
from podium.http.context import RequestContext
from podium.odata.declare import audit, boolean, choice, constant, entity_key, integer, key_id, tag_list, text
from podium.odata.model import Edm, EntitySet, Field, Navigation, Scope
from podium.odata.registry import Area

area = Area("Assets")


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
    return robot_reach(ctx.principal.robot_id)


async def _before_write(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    """Validates the whole body (value for the type, robots, users, name) before anything is written."""
    await prepare_write(conn, ctx.tenant_id, keyring_for(ctx.state.settings), values, existing, body)


async def _after_insert(
    ctx: RequestContext, conn: AsyncConnection, asset_id: int, values: dict[str, Any], body: Mapping[str, Any]
) -> None:
    await finish_create(conn, ctx.tenant_id, keyring_for(ctx.state.settings), asset_id, values, body)


async def _before_delete(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    await record_deleted(conn, ctx.tenant_id, row)


ASSETS = area.add(
    EntitySet(
        name="Assets",
        type_name="AssetDto",
        table=assets,
        scope=Scope.FOLDER,
        permission="Assets",
        shared_through=SHARED_THROUGH,
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
            tag_list(),
            integer("FoldersCount", "folders_count", read_only=True),
            *audit(),
            key_id(),
        ],
    )
)
