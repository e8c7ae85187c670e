"""Users, their tenant roles and state, the current user and the caller's permissions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from podium import inputs
from podium.auth.passwords import hash_password
from podium.db.schema import users
from podium.domain import enums, personal_workspaces, settings
from podium.domain.folders import assign_users, remove_user
from podium.domain.roles import require_roles, role_named
from podium.domain.users import (
    assign_tenant_roles,
    busy_users,
    require_an_admin,
    require_user,
    require_users,
    set_active,
    set_tenant_roles,
    with_id,
)
from podium.errors import bad_request, not_found
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.declare import audit, boolean, choice, constant, integer, key_id, text, when
from podium.odata.model import EntitySet, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import entity, require_body

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
        if not isinstance(password, str):
            raise bad_request("Password must be a string.")
        await settings.check_password(conn, ctx.tenant_id, password)  # the tenant's password policy
        values["password_hash"] = hash_password(password)


async def _not_last_admin(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    await require_an_admin(conn, ctx.tenant_id, leaving=row["id"])


USERS = area.add(
    EntitySet(
        name="Users",
        type_name="UserDto",
        table=users,
        scope=Scope.TENANT,
        permission="Users",
        unique=("user_name",),
        before_write=_hash_password,
        before_delete=_not_last_admin,
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


@area.operation("Users", "AssignRoles", bound_to_entity=True, summary="Sets the user's tenant roles")
async def assign_roles(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Users.Edit")
    user_id = inputs.entity_id(call.key, "the user")
    role_ids = inputs.json_list(require_body(call).get("roleIds"), "roleIds")
    role_ids = inputs.id_list(role_ids, "roleIds", allow_empty=True, what="role ids")
    async with ctx.state.db.write() as conn:
        await require_user(conn, ctx.tenant_id, user_id)
        await require_roles(conn, ctx.tenant_id, role_ids, "roleIds")
        await assign_tenant_roles(conn, user_id, role_ids)
        await require_an_admin(conn, ctx.tenant_id)
    ctx.state.forget_access()


@area.operation("Users", "ToggleRole", bound_to_entity=True, summary="Adds or removes one tenant role")
async def toggle_role(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Users.Edit")
    user_id = inputs.entity_id(call.key, "the user")
    body = require_body(call)
    role = inputs.text(body.get("role"), "role")
    add = body.get("toggle") is True
    async with ctx.state.db.write() as conn:
        await require_user(conn, ctx.tenant_id, user_id)
        role_id = await role_named(conn, ctx.tenant_id, role)
        await set_tenant_roles(conn, user_id, [role_id] if add else [], [] if add else [role_id])
        await require_an_admin(conn, ctx.tenant_id)
    ctx.state.forget_access()


@area.operation("Users", "SetActive", bound_to_entity=True, summary="Activates or deactivates the user")
async def set_user_active(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Users.Edit")
    user_id = inputs.entity_id(call.key, "the user")
    active = inputs.boolean(require_body(call).get("active"), "active")
    async with ctx.state.db.write() as conn:
        await require_user(conn, ctx.tenant_id, user_id)
        await set_active(conn, user_id, active)
        await require_an_admin(conn, ctx.tenant_id)
    ctx.state.forget_access()


async def _change_culture(ctx: RequestContext, call: ActionCall, user_id: int) -> None:
    culture = require_body(call).get("culture")
    async with ctx.state.db.write() as conn:
        await require_user(conn, ctx.tenant_id, user_id)
        await settings.update_user(conn, ctx.tenant_id, user_id, settings.LANGUAGE.name, culture)


@area.operation("Users", "ChangeCulture", summary="Sets the calling user's language (culture)")
async def change_culture(ctx: RequestContext, call: ActionCall) -> None:
    """Body UserChangeCultureRequest {culture}: one of GetLanguages' names, else 400."""
    await _change_culture(ctx, call, ctx.user_id)


@area.operation("Users", "ChangeUserCulture", bound_to_entity=True, summary="Sets a user's language")
async def change_user_culture(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Users.Edit")
    await _change_culture(ctx, call, inputs.entity_id(call.key, "the user"))


@area.operation(
    "Users",
    "ToggleOrganizationUnit",
    bound_to_entity=True,
    summary="Adds the user to a folder (without roles) or removes it from the folder with its roles there",
)
async def toggle_organization_unit(ctx: RequestContext, call: ActionCall) -> None:
    """Body UsersToggleOrganizationUnitRequest {organizationUnitId, toggle}."""
    ctx.require("Users.Edit")
    user_id = inputs.entity_id(call.key, "the user")
    body = require_body(call)
    folder_id = inputs.entity_id(body.get("organizationUnitId"), "organizationUnitId")
    add = inputs.boolean(body.get("toggle"), "toggle")
    async with ctx.state.db.write() as conn:
        await require_user(conn, ctx.tenant_id, user_id)
        folder = await ctx.folder_by_id(conn, folder_id)
        if add:
            await assign_users(conn, folder.id, [user_id], [])
        else:
            await remove_user(conn, folder.id, user_id)
    ctx.state.forget_access()


@area.operation(
    "Users",
    "Validate",
    method="GET",
    parameters=("userIds",),
    summary="Whether the robots of the given users are busy (running a job), by user id",
)
async def validate(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    ctx.require("Users.View")
    user_ids = inputs.id_list(call.params.get("userIds"), "userIds", allow_empty=True, what="user ids")
    async with ctx.state.db.read() as conn:
        await require_users(conn, ctx.tenant_id, user_ids, "userIds")
        busy = await busy_users(conn, ctx.tenant_id, user_ids)
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#Collection(Edm.Boolean)",
        "value": {str(user_id): user_id in busy for user_id in user_ids},
    }


async def _current_user(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    page = await service.list_entities_unchecked(ctx, USERS, call.options, [with_id(ctx.user_id)])
    if not page.rows:
        raise not_found("User does not exist.")
    return page.rows[0]


@area.operation("Users", "GetCurrentUser", method="GET", summary="The user calling", returns="UserDto")
async def current_user(ctx: RequestContext, call: ActionCall) -> Response:
    return entity(ctx, "Users", await _current_user(ctx, call))


@area.operation("Users", "GetCurrentUserExtended", method="GET", summary="The user calling, with workspace")
async def current_user_extended(ctx: RequestContext, call: ActionCall) -> Response:
    # the uipath CLI asks ``$expand=PersonalWorkspace`` (publish, invoke) and publishes to the
    # workspace's feed (PersonalWorskpaceFeedId, sic); the SDK's get_personal_workspace asks
    # ``$select=PersonalWorkspace&$expand=PersonalWorkspace``. The workspace is made by GetPersonalWorkspace.
    call.options.expand = [item for item in call.options.expand if item.name.lower() != "personalworkspace"]
    selected = call.options.select
    if selected is not None:  # the extended fields are not UserDto's: the generic $select would refuse them
        plain = [name for name in selected if name.lower() not in _EXTENDED]
        call.options.select = plain or ["Id"]
    dto = await _current_user(ctx, call)
    user_type = dto.get("Type", "User")
    if selected is not None and not any(name.lower() == "id" for name in selected):
        dto.pop("Id", None)
    async with ctx.state.db.read() as conn:
        folder = await personal_workspaces.of_user(conn, ctx.tenant_id, ctx.user_id)
    workspace = None
    if folder is not None:
        workspace = {
            "Key": folder["key"],
            "DisplayName": folder["display_name"],
            "FullyQualifiedName": folder["fully_qualified_name"],
            "FolderType": "Personal",
            "IsPersonal": True,
            "ParentId": None,
            "FeedType": "PersonalWorkspace",
            "Id": folder["id"],
        }
    extended = {
        "PersonalWorkspace": workspace,
        "PersonalWorskpaceFeedId": folder["key"] if folder is not None else None,
        "MayHavePersonalWorkspace": user_type == "User",
    }
    if selected is not None:
        wanted = {name.lower() for name in selected}
        extended = {name: value for name, value in extended.items() if name.lower() in wanted}
    dto.update(extended)
    return entity(ctx, "Users", dto)


_EXTENDED = {"personalworkspace", "personalworskpacefeedid", "mayhavepersonalworkspace"}


@area.operation(
    "Users",
    "GetCurrentPermissions",
    method="GET",
    summary="The permissions the caller holds: tenant-wide, and in the folder of the request's folder header",
    returns="UserPermissionsCollection",
)
async def current_permissions(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    principal = ctx.principal
    held = set(principal.tenant_permissions)
    if ctx.folder is not None:
        path = ctx.folder.fully_qualified_name
        held.update(
            name
            for granted, names in principal.folder_permissions.items()
            if path == granted or path.startswith(granted + "/")
            for name in names
        )
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#{NAMESPACE}.UserPermissionsCollection",
        "UserId": ctx.user_id,
        "Permissions": sorted(held),
    }


NAMESPACE = "UiPath.Server.Configuration.OData"
