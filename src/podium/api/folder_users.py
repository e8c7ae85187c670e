"""Users of folders, read and changed from either side: ``Folders/GetUsersForFolder``,
``Folders/GetAllRolesForUser`` (and ``/api/FoldersNavigation/GetAllRolesForUser`` for names a URL
literal cannot hold), ``OrganizationUnits/GetUserIdsForUnit``, ``GetUsersForUnit``,
``OrganizationUnits({key})/SetUsers`` and ``Folders/AssignDomainUser`` (Podium has local users only:
the assignment names an existing user, see ``domain/folder_users.local_user``).

Reading a folder's users needs Folders.View there (tenant-wide or in the folder) or Users.View;
a user's assignments need Users.View, or being that user; changing them Folders.Edit, as AssignUsers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from podium import inputs
from podium.api.folders import roles_per_folder
from podium.api.users import USERS
from podium.domain import folder_users
from podium.domain.folders import assign_users, folder_row
from podium.domain.roles import require_roles
from podium.domain.users import require_users
from podium.errors import PodiumError, bad_request, forbidden
from podium.http.context import RequestContext, request_context
from podium.odata import service
from podium.odata.computed import RowType, query_rows
from podium.odata.declare import boolean, integer
from podium.odata.model import Edm, Field
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, param, require_body

router = APIRouter(tags=["Folders"])
area = Area("Folder users", router)
USER_ROLES = RowType(
    "UserRolesDto",
    [
        Field("UserEntity", Edm.UNTYPED),
        Field("Roles", Edm.UNTYPED),
        boolean("HasAlertsEnabled"),
        integer("Id"),
    ],
)
MAX_TAKE = 1000


def _may_read_folder(ctx: RequestContext, path: str) -> None:
    if not (ctx.principal.has("Folders.View", path) or ctx.principal.has("Users.View")):
        raise forbidden("You are not authorized! (missing permission Folders.View or Users.View)")


async def _folder(ctx: RequestContext, raw: Any, name: str = "key") -> dict[str, Any]:
    """The tenant's folder of id ``raw`` (404 when there is none) that the caller may read (403)."""
    folder_id = inputs.url_id(raw, name)
    async with ctx.state.db.read() as conn:
        folder = await folder_row(conn, ctx.tenant_id, folder_id)
    _may_read_folder(ctx, folder["fully_qualified_name"])
    return folder


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return inputs.boolean(value, name)


@area.operation(
    "Folders",
    "GetUsersForFolder",
    method="GET",
    parameters=("key", "includeInherited"),
    summary="The users assigned to a folder (includeInherited: or above it) with their roles there",
    returns="UserRolesDto",
)
async def users_for_folder(ctx: RequestContext, call: ActionCall) -> Response:
    """ODataValueOfIEnumerableOfUserRolesDto, by user name, with the OData options of a computed list
    (``odata/computed.py``; UserEntity and Roles are objects, not filterable)."""
    folder = await _folder(ctx, param(call, "key"))
    inherited = _flag(param(call, "includeInherited"), "includeInherited")
    async with ctx.state.db.read() as conn:
        found = await folder_users.users_of_folder(conn, ctx.tenant_id, folder, inherited)
    if call.request.query_params.get("includeAlertsEnabled", "").lower() != "true":
        for item in found:
            item["HasAlertsEnabled"] = False
    page = query_rows(USER_ROLES, found, call.options)
    return collection(ctx, "UserRoles", page.rows, page.count)


def _bounded(raw: Any, name: str, default: int, high: int) -> int:
    if raw in (None, ""):
        return default
    return min(inputs.integer(inputs.url_integer(raw), name, low=0, high=2**62), high)


async def _roles_for_user(ctx: RequestContext, user_name: str, values: dict[str, Any]) -> dict[str, Any]:
    kind = values.get("type")
    if kind not in (None, "", "User", "Robot", "DirectoryUser", "DirectoryRobot"):
        raise bad_request(f"Podium has no directory groups or applications: type '{kind}' is refused.")
    skip = _bounded(values.get("skip"), "skip", 0, 2**62)
    take = _bounded(values.get("take"), "take", 100, MAX_TAKE)
    search = inputs.optional_text(values.get("searchText") or None, "searchText")
    if user_name != ctx.principal.user_name:  # anyone may read their own
        ctx.require("Users.View")
    async with ctx.state.db.read() as conn:
        user = await folder_users.user_named(conn, ctx.tenant_id, user_name)
        answer = await folder_users.role_assignments(conn, ctx.tenant_id, user, search, skip, take)
    return answer


@area.operation(
    "Folders",
    "GetAllRolesForUser",
    method="GET",
    parameters=("username", "skip", "take"),
    summary="A user's tenant roles and a page of the folders it is assigned to, with its roles in each",
    returns="UserRoleAssignmentsDto",
)
async def all_roles_for_user(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    user_name = inputs.text(param(call, "username"), "username")
    values = {name: _optional(call, name) for name in ("type", "skip", "take", "searchText")}
    answer = await _roles_for_user(ctx, user_name, values)
    return {"@odata.context": f"{ctx.odata_base}/$metadata#{NAMESPACE}.UserRoleAssignmentsDto", **answer}


NAMESPACE = "UiPath.Server.Configuration.OData"


def _optional(call: ActionCall, name: str) -> Any:
    try:
        return param(call, name)
    except PodiumError:  # absent: the operation's default
        return None


@router.get(
    "/api/FoldersNavigation/GetAllRolesForUser",
    summary="A user's tenant roles and a page of its folders with its roles (username in the query)",
)
async def all_roles_for_user_navigation(request: Request) -> JSONResponse:
    ctx = await request_context(request)
    query = request.query_params
    user_name = inputs.text(query.get("username"), "username")
    values = {name: query.get(name) for name in ("type", "skip", "take", "searchText")}
    return JSONResponse(await _roles_for_user(ctx, user_name, values))


@area.operation(
    "OrganizationUnits",
    "GetUserIdsForUnit",
    method="GET",
    parameters=("key",),
    summary="Ids of the users assigned to the folder",
)
async def user_ids_for_unit(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    folder = await _folder(ctx, param(call, "key"))
    async with ctx.state.db.read() as conn:
        ids = await folder_users.user_ids_of_folder(conn, folder["id"])
    return {"@odata.context": f"{ctx.odata_base}/$metadata#Collection(Edm.Int64)", "value": ids}


@area.operation(
    "OrganizationUnits",
    "GetUsersForUnit",
    method="GET",
    parameters=("key",),
    summary="The users assigned to the folder (every OData option; Users.View)",
    returns="Users",
)
async def users_for_unit(ctx: RequestContext, call: ActionCall) -> Response:
    """Orchestrator lists every non-robot user with the unit's first; Podium answers the unit's users
    (as Roles/GetUsersForRole does): the Users set, filtered to the folder's, with every OData option."""
    folder = await _folder(ctx, param(call, "key"))
    page = await service.list_entities(ctx, USERS, call.options, [folder_users.in_folder(folder["id"])])
    return collection(ctx, "Users", page.rows, page.count)


@area.operation(
    "OrganizationUnits",
    "SetUsers",
    bound_to_entity=True,
    summary="Adds users to the folder (without roles) and removes others with their roles there",
)
async def set_unit_users(ctx: RequestContext, call: ActionCall) -> None:
    """Body SetUsersRequest {addedUserIds, removedUserIds}: all or nothing (an unknown user is a 400)."""
    folder_id = inputs.entity_id(call.key, "the folder")
    body = require_body(call)
    added = inputs.id_list(body.get("addedUserIds"), "addedUserIds", allow_empty=True, what="user ids")
    removed = inputs.id_list(body.get("removedUserIds"), "removedUserIds", allow_empty=True, what="user ids")
    async with ctx.state.db.write() as conn:
        folder = await folder_row(conn, ctx.tenant_id, folder_id)
        ctx.require("Folders.Edit", folder["fully_qualified_name"])
        await require_users(conn, ctx.tenant_id, added + removed, "addedUserIds and removedUserIds")
        await folder_users.set_folder_users(conn, folder["id"], added, removed)
    ctx.state.forget_access()  # the users' folder roles changed


@area.operation(
    "Folders",
    "AssignDomainUser",
    summary="Assigns a (local) user, named by domain and user name, to folders with roles per folder",
)
async def assign_domain_user(ctx: RequestContext, call: ActionCall) -> None:
    """Body FolderAssignDomainUserRequest {assignment: {Domain, UserName, UserType, RolesPerFolder}}."""
    ctx.require("Folders.Edit")
    assignment = inputs.json_object(require_body(call).get("assignment"), "assignment")
    user_name = inputs.text(assignment.get("UserName"), "UserName")
    domain = inputs.optional_text(assignment.get("Domain"), "Domain")
    user_type = inputs.optional_text(assignment.get("UserType"), "UserType")
    per_folder = roles_per_folder(assignment.get("RolesPerFolder"))
    async with ctx.state.db.write() as conn:
        user_id = await folder_users.local_user(conn, ctx.tenant_id, domain, user_name, user_type)
        for folder_id, role_ids in per_folder:
            folder = await ctx.folder_by_id(conn, folder_id)
            await require_roles(conn, ctx.tenant_id, role_ids, "RoleIds")
            await assign_users(conn, folder.id, [user_id], role_ids)
    ctx.state.forget_access()
