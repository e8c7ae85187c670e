"""Users, roles and permissions, the current user, and personal access tokens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import JSONResponse, Response

from podium.auth.passwords import hash_password, new_secret, token_digest
from podium.auth.permissions import ALL_PERMISSIONS, is_known
from podium.auth.tokens import PAT_PREFIX
from podium.db.schema import access_tokens, role_permissions, roles, user_roles, users
from podium.db.types import utcnow
from podium.domain import enums
from podium.errors import bad_request, not_found
from podium.http.context import RequestContext, request_context
from podium.odata import service
from podium.odata.declare import audit, boolean, choice, constant, integer, key_id, text, when
from podium.odata.model import EntitySet, Navigation, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, entity, param, require_body

router = APIRouter(tags=["Users"])
area = Area("Users", router)


async def _hash_password(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    password = body.get("Password")
    if password is not None:
        if not isinstance(password, str) or len(password) < 8:
            raise bad_request("Password must be a string of at least 8 characters.")
        values["password_hash"] = hash_password(password)


USERS = area.add(
    EntitySet(
        name="Users",
        type_name="UserDto",
        table=users,
        scope=Scope.TENANT,
        permission="Users",
        unique=("user_name",),
        before_write=_hash_password,
        fields=[
            text("Name", "name", max_length=64),
            text("Surname", "surname", max_length=64),
            text("UserName", "user_name", required=True, nullable=False, max_length=256),
            constant("Domain", None),
            text("EmailAddress", "email_address", max_length=256),
            boolean("IsActive", "is_active", nullable=False),
            when("CreationTime", "creation_time", read_only=True),
            when("LastLoginTime", "last_login_time", read_only=True),
            constant("AuthenticationSource", "Podium"),
            text("Password", None, write_only=True),
            integer("TenantId", "tenant_id", read_only=True),
            choice("Type", enums.UserType, "type", nullable=False),
            text("Key", "key", read_only=True),
            *audit(creation=False),
            key_id(),
        ],
    )
)


def _permissions_of_tenant_roles(ctx: RequestContext) -> list[ColumnElement[bool]]:
    """role_permissions has no tenant_id: only the rows of the caller's tenant's roles are visible."""
    return [role_permissions.c.role_id.in_(select(roles.c.id).where(roles.c.tenant_id == ctx.tenant_id))]


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
    perms = body.get("Permissions")
    if perms is None:
        return None
    if not isinstance(perms, list):
        raise bad_request("Permissions must be a list.")
    names: list[tuple[str, bool]] = []
    for item in perms:
        name = item.get("Name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not is_known(name):
            raise bad_request(f"Unknown permission {name!r}.")
        names.append((name, bool(item.get("IsGranted", True))))
    return names


async def _write_permissions(conn: AsyncConnection, role_id: int, names: list[tuple[str, bool]]) -> None:
    await conn.execute(delete(role_permissions).where(role_permissions.c.role_id == role_id))
    if names:
        rows = [{"role_id": role_id, "name": n, "is_granted": g} for n, g in dict(names).items()]
        await conn.execute(insert(role_permissions), rows)


async def _role_before_write(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    if existing is not None and not existing["is_editable"]:
        raise bad_request("This role cannot be edited.")
    names = _permission_names(body)
    if existing is not None and names is not None:
        await _write_permissions(conn, existing["id"], names)


async def _role_after_insert(
    ctx: RequestContext, conn: AsyncConnection, role_id: int, values: dict[str, Any], body: Mapping[str, Any]
) -> None:
    await _write_permissions(conn, role_id, _permission_names(body) or [])


async def _role_before_delete(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    if row["is_static"]:
        raise bad_request("A built-in role cannot be deleted.")


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


async def _tenant_ids(conn: AsyncConnection, table: Any, tenant_id: int, ids: Any, what: str) -> list[int]:
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise bad_request(f"{what} must be a list of ids.")
    found = [
        r.id
        for r in await conn.execute(
            select(table.c.id).where(table.c.id.in_(ids), table.c.tenant_id == tenant_id)
        )
    ]
    if len(found) != len(set(ids)):
        raise bad_request(f"Some of {what} do not exist.")
    return found


async def _set_tenant_roles(conn: AsyncConnection, user_id: int, add: list[int], remove: list[int]) -> None:
    for role_id in add:
        exists = select(user_roles.c.id).where(
            user_roles.c.user_id == user_id, user_roles.c.role_id == role_id, user_roles.c.folder_id.is_(None)
        )
        if (await conn.execute(exists)).first() is None:
            await conn.execute(insert(user_roles).values(user_id=user_id, role_id=role_id, folder_id=None))
    if remove:
        await conn.execute(
            delete(user_roles).where(
                user_roles.c.user_id == user_id,
                user_roles.c.role_id.in_(remove),
                user_roles.c.folder_id.is_(None),
            )
        )


@area.operation("Users", "AssignRoles", bound_to_entity=True, summary="Sets the user's tenant roles")
async def assign_roles(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Users.Edit")
    async with ctx.state.db.write() as conn:
        user_id = (await _tenant_ids(conn, users, ctx.tenant_id, [call.key], "the user"))[0]
        role_ids = await _tenant_ids(conn, roles, ctx.tenant_id, require_body(call).get("roleIds"), "roleIds")
        current = [
            r.role_id
            for r in await conn.execute(
                select(user_roles.c.role_id).where(
                    user_roles.c.user_id == user_id, user_roles.c.folder_id.is_(None)
                )
            )
        ]
        await _set_tenant_roles(conn, user_id, role_ids, [r for r in current if r not in role_ids])
    ctx.state.forget_access()


@area.operation("Users", "ToggleRole", bound_to_entity=True, summary="Adds or removes one tenant role")
async def toggle_role(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Users.Edit")
    body = require_body(call)
    if not isinstance(body.get("role"), str):
        raise bad_request("role must be the name of a role.")
    async with ctx.state.db.write() as conn:
        user_id = (await _tenant_ids(conn, users, ctx.tenant_id, [call.key], "the user"))[0]
        role = select(roles.c.id).where(roles.c.name == body.get("role"), roles.c.tenant_id == ctx.tenant_id)
        role_id = (await conn.execute(role)).scalar_one_or_none()
        if role_id is None:
            raise bad_request("The role does not exist.")
        add = body.get("toggle") is True
        await _set_tenant_roles(conn, user_id, [role_id] if add else [], [] if add else [role_id])
    ctx.state.forget_access()


@area.operation("Users", "SetActive", bound_to_entity=True, summary="Activates or deactivates the user")
async def set_active(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Users.Edit")
    active = require_body(call).get("active")
    if not isinstance(active, bool):
        raise bad_request("active must be true or false.")
    async with ctx.state.db.write() as conn:
        user_id = (await _tenant_ids(conn, users, ctx.tenant_id, [call.key], "the user"))[0]
        await conn.execute(update(users).where(users.c.id == user_id).values(is_active=active))
    ctx.state.forget_access()


@area.operation("Roles", "SetUsers", bound_to_entity=True, summary="Adds and removes users of the role")
async def role_set_users(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Roles.Edit")
    body = require_body(call)
    async with ctx.state.db.write() as conn:
        role_id = (await _tenant_ids(conn, roles, ctx.tenant_id, [call.key], "the role"))[0]
        for user_id in await _tenant_ids(
            conn, users, ctx.tenant_id, body.get("addedUserIds") or [], "addedUserIds"
        ):
            await _set_tenant_roles(conn, user_id, [role_id], [])
        for user_id in await _tenant_ids(
            conn, users, ctx.tenant_id, body.get("removedUserIds") or [], "removedUserIds"
        ):
            await _set_tenant_roles(conn, user_id, [], [role_id])
    ctx.state.forget_access()


@area.operation(
    "Roles", "GetUserIdsForRole", method="GET", summary="Ids of the role's users", parameters=("key",)
)
async def user_ids_for_role(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Roles.View")
    async with ctx.state.db.read() as conn:
        role_id = (await _tenant_ids(conn, roles, ctx.tenant_id, [param(call, "key")], "the role"))[0]
        ids = sorted(
            {
                r.user_id
                for r in await conn.execute(
                    select(user_roles.c.user_id).where(user_roles.c.role_id == role_id)
                )
            }
        )
    return {"@odata.context": f"{ctx.odata_base}/$metadata#Collection(Edm.Int64)", "value": ids}


async def _current_user(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    page = await service.list_entities_unchecked(ctx, USERS, call.options, [users.c.id == ctx.user_id])
    if not page.rows:
        raise not_found("User does not exist.")
    return page.rows[0]


@area.operation("Users", "GetCurrentUser", method="GET", summary="The user calling", returns="UserDto")
async def current_user(ctx: RequestContext, call: ActionCall) -> Response:
    return entity(ctx, "Users", await _current_user(ctx, call))


@area.operation(
    "Users", "GetCurrentUserExtended", method="GET", summary="The user calling, with workspace"
)
async def current_user_extended(ctx: RequestContext, call: ActionCall) -> Response:
    # the uipath CLI asks ``$expand=PersonalWorkspace`` (publish, invoke); Podium has no workspaces: null
    call.options.expand = [item for item in call.options.expand if item.name.lower() != "personalworkspace"]
    dto = await _current_user(ctx, call)
    dto.update(PersonalWorkspace=None, PersonalWorskpaceFeedId=None, MayHavePersonalWorkspace=False)
    return entity(ctx, "Users", dto)


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


@router.get("/odata/Permissions", summary="The caller's permissions")
async def permissions(request: Request) -> Response:
    ctx = await request_context(request)
    return collection(ctx, "Permissions", _caller_permissions(ctx), len(ALL_PERMISSIONS))


class NewToken(BaseModel):
    Name: str = Field(min_length=1, max_length=128, pattern="^[^\x00]*$")
    ExpiresInDays: int | None = Field(default=None, ge=1, le=3650)


@router.post(
    "/api/PersonalAccessTokens",
    status_code=201,
    tags=["Users"],
    summary="Creates a personal access token for the caller (shown once)",
)
async def create_token(new: NewToken, request: Request) -> JSONResponse:
    ctx = await request_context(request)
    secret = PAT_PREFIX + new_secret(32)
    now = utcnow()
    expires = now + dt.timedelta(days=new.ExpiresInDays) if new.ExpiresInDays else None
    async with ctx.state.db.write() as conn:
        token_id = (
            await conn.execute(
                insert(access_tokens)
                .values(
                    tenant_id=ctx.tenant_id,
                    user_id=ctx.user_id,
                    name=new.Name,
                    token_hash=token_digest(secret),
                    kind="pat",
                    expires_at=expires,
                    revoked=False,
                    creation_time=now,
                )
                .returning(access_tokens.c.id)
            )
        ).scalar_one()
    return JSONResponse(
        {
            "Id": token_id,
            "Name": new.Name,
            "Token": secret,
            "ExpiresAt": expires.isoformat() if expires else None,
        },
        status_code=201,
    )


@router.delete(
    "/api/PersonalAccessTokens/{token_id}", status_code=204, tags=["Users"], summary="Revokes a token"
)
async def revoke_token(token_id: int, request: Request) -> Response:
    ctx = await request_context(request)
    if not 0 < token_id < 2**63:
        raise not_found("Token does not exist.")
    async with ctx.state.db.write() as conn:
        result = await conn.execute(
            update(access_tokens)
            .where(access_tokens.c.id == token_id, access_tokens.c.user_id == ctx.user_id)
            .values(revoked=True)
        )
    if result.rowcount != 1:
        raise not_found("Token does not exist.")
    ctx.state.forget_access()
    return Response(status_code=204)
