"""Folders (and their classic name, OrganizationUnits) and the folder navigation the SDK uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import JSONResponse

from podium import inputs
from podium.db.schema import folders
from podium.domain import enums
from podium.domain.folders import (
    all_folders,
    assign_users,
    empty_for_delete,
    folder_page,
    name_folder,
    remove_user,
    visible,
    with_key,
)
from podium.domain.roles import require_roles
from podium.domain.users import require_users
from podium.errors import bad_request, not_found
from podium.http.context import RequestContext, request_context
from podium.odata import service
from podium.odata.declare import choice, constant, integer, key_id, text
from podium.odata.model import Edm, EntitySet, Navigation, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import entity, param, require_body

router = APIRouter(tags=["Folders"])
area = Area("Folders", router)


async def _folder_names(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    await name_folder(conn, ctx.tenant_id, values, existing)


async def _folder_is_empty(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    await empty_for_delete(conn, ctx.tenant_id, row)


FOLDER_FIELDS = [
    text("Key", "key", read_only=True),
    text("DisplayName", "display_name", required=True, nullable=False, max_length=128),
    text("FullyQualifiedName", "fully_qualified_name", read_only=True),
    text("FullyQualifiedNameOrderable", "fully_qualified_name", read_only=True),
    text("Description", "description", max_length=500),
    choice("FolderType", enums.FolderType, "folder_type", nullable=False),
    constant("IsPersonal", False, Edm.BOOLEAN),
    choice("ProvisionType", enums.ProvisionType, "provision_type", nullable=False),
    choice("PermissionModel", enums.PermissionModel, "permission_model", nullable=False),
    integer("ParentId", "parent_id"),
    choice("FeedType", enums.FeedType, "feed_type", nullable=False),
    constant("IsActive", True, Edm.BOOLEAN),
    key_id(),
]


def _folder_set(name: str, type_name: str) -> EntitySet:
    return area.add(
        EntitySet(
            name=name,
            type_name=type_name,
            table=folders,
            scope=Scope.TENANT,
            permission="Folders",
            fields=FOLDER_FIELDS,
            unique=("fully_qualified_name",),
            before_write=_folder_names,
            before_delete=_folder_is_empty,
            navigations=[Navigation("Parent", "Folders", local="parent_id")],
            read_filter=_visible_folders,
            read_filter_decides_visibility=True,
        )
    )


def _visible_paths(ctx: RequestContext) -> list[str] | None:
    """Users without a tenant-wide Folders.View see the folders where they hold any role (and below)."""
    return None if ctx.principal.has("Folders.View") else list(ctx.principal.folder_permissions)


def _visible_folders(ctx: RequestContext) -> list[ColumnElement[bool]]:
    return visible(_visible_paths(ctx))


FOLDERS = _folder_set("Folders", "FolderDto")
ORGANIZATION_UNITS = _folder_set("OrganizationUnits", "OrganizationUnitDto")


@area.operation(
    "Folders", "GetByKey", method="GET", summary="Gets a folder by its key", parameters=("identifier",)
)
async def folder_by_key(ctx: RequestContext, call: ActionCall) -> Any:
    identifier = str(param(call, "identifier")).lower()
    page = await service.list_entities(ctx, FOLDERS, call.options, [with_key(identifier)])
    if not page.rows:
        raise not_found("Folder does not exist.")
    return entity(ctx, "Folders", page.rows[0])


def _roles_per_folder(value: Any) -> list[tuple[int, list[int]]]:
    """(FolderId, RoleIds) of each RolesPerFolder item."""
    items = []
    for item in inputs.json_list(value, "RolesPerFolder"):
        item = inputs.json_object(item, "Each RolesPerFolder item")
        folder_id = inputs.entity_id(item.get("FolderId"), "FolderId")
        role_ids = inputs.id_list(item.get("RoleIds"), "RoleIds", allow_empty=True, what="role ids")
        items.append((folder_id, role_ids))
    return items


@area.operation("Folders", "AssignUsers", summary="Assigns users to folders with roles per folder")
async def assign_folder_users(ctx: RequestContext, call: ActionCall) -> None:
    """Body: {"assignments": {"UserIds": [...], "RolesPerFolder": [{"FolderId": n, "RoleIds": [...]}]}}."""
    ctx.require("Folders.Edit")
    body = inputs.json_object(require_body(call).get("assignments"), "assignments")
    user_ids = inputs.json_list(body.get("UserIds"), "UserIds")
    user_ids = inputs.id_list(user_ids, "UserIds", allow_empty=True, what="user ids")
    per_folder = _roles_per_folder(body.get("RolesPerFolder"))
    async with ctx.state.db.write() as conn:
        await require_users(conn, ctx.tenant_id, user_ids, "UserIds")
        for folder_id, role_ids in per_folder:
            folder = await ctx.folder_by_id(conn, folder_id)
            await require_roles(conn, ctx.tenant_id, role_ids, "RoleIds")
            await assign_users(conn, folder.id, user_ids, role_ids)
    ctx.state.forget_access()  # the users' folder roles changed


@area.operation(
    "Folders", "RemoveUserFromFolder", bound_to_entity=True, summary="Removes a user from the folder"
)
async def remove_folder_user(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Folders.Edit")
    user_id = inputs.entity_id(require_body(call).get("userId"), "userId")
    async with ctx.state.db.write() as conn:
        folder = await ctx.folder_by_id(conn, call.key)
        await remove_user(conn, folder.id, user_id)
    ctx.state.forget_access()


def _path_aware(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "FolderPath": row["fully_qualified_name"],
        "Key": row["key"],
        "DisplayName": row["display_name"],
        "FullyQualifiedName": row["fully_qualified_name"],
        "Description": row["description"],
        "FolderType": enums.FolderType(row["folder_type"]).name,
        "IsPersonal": False,
        "ProvisionType": enums.ProvisionType(row["provision_type"]).name,
        "PermissionModel": enums.PermissionModel(row["permission_model"]).name,
        "ParentId": row["parent_id"],
        "ParentKey": None,
        "FeedType": enums.FeedType(row["feed_type"]).name,
        "Id": row["id"],
    }


def _bounded(request: Request, name: str, default: int, limit: int) -> int:
    value = request.query_params.get(name)
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise bad_request(f"{name} must be a non-negative integer.")
    return min(int(value), limit)


@router.get(
    "/api/FoldersNavigation/GetFoldersForCurrentUser", summary="Folders the current user can see, paged"
)
async def folders_for_current_user(request: Request) -> JSONResponse:
    ctx = await request_context(request)
    skip, take = _bounded(request, "skip", 0, 1_000_000), _bounded(request, "take", 20, 1000)
    search = request.query_params.get("searchText")
    async with ctx.state.db.read() as conn:
        rows, total = await folder_page(conn, ctx.tenant_id, _visible_paths(ctx), search, skip, take)
    return JSONResponse({"PageItems": [_path_aware(r) for r in rows], "Count": total})


@router.get(
    "/api/FoldersNavigation/GetAllFoldersForCurrentUser", summary="Every folder the current user can see"
)
async def all_folders_for_current_user(request: Request) -> JSONResponse:
    ctx = await request_context(request)
    async with ctx.state.db.read() as conn:
        rows = await all_folders(conn, ctx.tenant_id, _visible_paths(ctx))
    parents = {r["parent_id"] for r in rows}
    return JSONResponse(
        [
            {
                **_path_aware(r),
                "IsSelectable": True,
                "HasChildren": r["id"] in parents,
                "Level": r["fully_qualified_name"].count("/"),
            }
            for r in rows
        ]
    )
