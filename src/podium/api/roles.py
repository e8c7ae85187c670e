"""Roles and their permissions (RolePermissions), the caller's own permissions (``/odata/Permissions``),
and the users holding a role."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response

from podium import inputs
from podium.api.users import USERS
from podium.auth.permissions import ALL_PERMISSIONS, is_known
from podium.db.schema import role_permissions, roles
from podium.domain import enums
from podium.domain.roles import (
    edit_role,
    holders,
    permissions_of_tenant,
    require_deletable,
    require_role,
    role_user_ids,
    set_role_users,
    write_permissions,
)
from podium.errors import bad_request
from podium.http.context import RequestContext, request_context
from podium.odata import service
from podium.odata.computed import RowType, query_rows
from podium.odata.declare import audit, boolean, choice, constant, integer, key_id, text
from podium.odata.model import EntitySet, Navigation, Scope
from podium.odata.options import parse_options
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, param, require_body

area = Area("Roles")


def _permissions_of_tenant_roles(ctx: RequestContext) -> list[ColumnElement[bool]]:
    return permissions_of_tenant(ctx.tenant_id)


ROLE_PERMISSIONS = area.add(
    EntitySet(
        name="RolePermissions",
        type_name="PermissionDto",
        table=role_permissions,
        scope=Scope.HOST,
        permission="Roles",
        read_filter=_permissions_of_tenant_roles,
        insertable=False,
        updatable=False,
        deletable=False,
        fields=[
            text("Name", "name"),
            boolean("IsGranted", "is_granted"),
            integer("RoleId", "role_id"),
            constant("Scope", "GlobalOrFolder"),
            key_id(),
        ],
    )
)


def _permission_names(body: Mapping[str, Any]) -> list[tuple[str, bool]] | None:
    """(name, granted) of each item of the body's Permissions; None without Permissions."""
    perms = body.get("Permissions")
    if perms is None:
        return None
    names: list[tuple[str, bool]] = []
    for item in inputs.json_list(perms, "Permissions"):
        name = item.get("Name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not is_known(name):
            raise bad_request(f"Unknown permission {name!r}.")
        names.append((name, bool(item.get("IsGranted", True))))
    return names


async def _role_before_write(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    await edit_role(conn, existing, _permission_names(body))


async def _role_after_insert(
    ctx: RequestContext, conn: AsyncConnection, role_id: int, values: dict[str, Any], body: Mapping[str, Any]
) -> None:
    await write_permissions(conn, role_id, _permission_names(body) or [])


async def _role_before_delete(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    require_deletable(row)


ROLES = area.add(
    EntitySet(
        name="Roles",
        type_name="RoleDto",
        table=roles,
        scope=Scope.TENANT,
        permission="Roles",
        unique=("name",),
        before_write=_role_before_write,
        after_insert=_role_after_insert,
        before_delete=_role_before_delete,
        navigations=[Navigation("Permissions", "RolePermissions", local="id", remote="role_id", many=True)],
        fields=[
            text("Name", "name", required=True, nullable=False, max_length=64),
            text("DisplayName", "display_name", max_length=64),
            choice("Type", enums.RoleType, "type", nullable=False),
            constant("Groups", None),
            boolean("IsStatic", "is_static", read_only=True),
            boolean("IsEditable", "is_editable", read_only=True),
            *audit(),
            key_id(),
        ],
    )
)


@area.operation("Roles", "SetUsers", bound_to_entity=True, summary="Adds and removes users of the role")
async def role_set_users(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Roles.Edit")
    role_id = inputs.entity_id(call.key, "the role")
    body = require_body(call)
    added = inputs.id_list(body.get("addedUserIds"), "addedUserIds", allow_empty=True, what="user ids")
    removed = inputs.id_list(body.get("removedUserIds"), "removedUserIds", allow_empty=True, what="user ids")
    async with ctx.state.db.write() as conn:
        await require_role(conn, ctx.tenant_id, role_id)
        await set_role_users(conn, ctx.tenant_id, role_id, added, removed)
    ctx.state.forget_access()


@area.operation(
    "Roles", "GetUserIdsForRole", method="GET", summary="Ids of the role's users", parameters=("key",)
)
async def user_ids_for_role(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Roles.View")
    role_id = inputs.entity_id(param(call, "key"), "key")
    async with ctx.state.db.read() as conn:
        await require_role(conn, ctx.tenant_id, role_id)
        ids = await role_user_ids(conn, role_id)
    return {"@odata.context": f"{ctx.odata_base}/$metadata#Collection(Edm.Int64)", "value": ids}


@area.operation(
    "Roles",
    "GetUsersForRole",
    method="GET",
    summary="Users holding the role (every OData option)",
    parameters=("key",),
    returns="Users",
)
async def users_for_role(ctx: RequestContext, call: ActionCall) -> Any:
    """The role's users, as ``GetRobotsForEnvironment`` answers an environment's robots: Orchestrator
    lists every user with the role's first; Podium answers the role's users only (filter the Users set
    for the others)."""
    ctx.require("Roles.View")
    role_id = inputs.entity_id(inputs.url_integer(param(call, "key")), "key")
    async with ctx.state.db.read() as conn:
        await require_role(conn, ctx.tenant_id, role_id)
    page = await service.list_entities(ctx, USERS, call.options, [holders(role_id)])
    return collection(ctx, "Users", page.rows, page.count)


def _caller_permissions(ctx: RequestContext) -> list[dict[str, Any]]:
    granted = {p: "Global" for p in ctx.principal.tenant_permissions}
    for names in ctx.principal.folder_permissions.values():
        for name in names:
            granted.setdefault(name, "Folder")
    return [
        {
            "Name": name,
            "IsGranted": name in granted,
            "RoleId": None,
            "Scope": granted.get(name, "Global"),
            "Id": index,
        }
        for index, name in enumerate(ALL_PERMISSIONS, start=1)
    ]


CALLER_PERMISSION = RowType.of(ROLE_PERMISSIONS)  # the same PermissionDto, computed for the caller


@area.router.get("/odata/Permissions", summary="The caller's permissions")
async def permissions(request: Request) -> Response:
    ctx = await request_context(request)
    page = query_rows(CALLER_PERMISSION, _caller_permissions(ctx), parse_options(request.query_params))
    return collection(ctx, "Permissions", page.rows, page.count)
