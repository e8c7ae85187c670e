"""Folders (and their classic name, OrganizationUnits) and the folder navigation the SDK uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import JSONResponse, Response

from podium import inputs
from podium.db.schema import folders
from podium.domain import enums, revocations
from podium.domain.folders import (
    PERSONAL,
    all_folders,
    ancestors,
    assign_users,
    children_page,
    empty_for_delete,
    folder_page,
    folder_row,
    is_visible,
    move_folder,
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
from podium.odata.options import QueryOptions
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import entity, param, read_json, require_body

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


def roles_per_folder(value: Any) -> list[tuple[int, list[int]]]:
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
    per_folder = roles_per_folder(body.get("RolesPerFolder"))
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
        "IsPersonal": row["folder_type"] == PERSONAL,
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
    return JSONResponse([_extended(r, r["id"] in parents) for r in rows])


def _extended(row: Mapping[str, Any], has_children: bool, paths: list[str] | None = None) -> dict[str, Any]:
    """ExtendedFolderDto: a folder in a navigation tree (not selectable: only on the way to one)."""
    path_aware = _path_aware(row)
    del path_aware["FolderPath"]
    return {
        "IsSelectable": is_visible(row["fully_qualified_name"], paths),
        "HasChildren": has_children,
        "Level": row["fully_qualified_name"].count("/"),
        **path_aware,
    }


def _simple(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "DisplayName": row["display_name"],
        "FullyQualifiedName": row["fully_qualified_name"],
        "Id": row["id"],
    }


@router.get(
    "/api/FoldersNavigation/GetFolderNavigationContextForCurrentUser",
    summary="A page of a folder's children the current user sees, with the folder's ancestors",
)
async def navigation_context(request: Request) -> JSONResponse:
    """FolderNavigationContextDto of ``folderId`` (absent: the root, whose children are the top-level
    folders); 404 for a folder the caller does not see."""
    ctx = await request_context(request)
    skip, take = _bounded(request, "skip", 0, 1_000_000), _bounded(request, "take", 20, 1000)
    raw = request.query_params.get("folderId")
    folder_id = None if raw in (None, "") else inputs.url_id(raw, "folderId")
    paths = _visible_paths(ctx)
    async with ctx.state.db.read() as conn:
        folder = None
        if folder_id is not None:
            folder = await folder_row(conn, ctx.tenant_id, folder_id, paths)
        rows, total, parents = await children_page(conn, ctx.tenant_id, folder_id, paths, skip, take)
        above = await ancestors(conn, ctx.tenant_id, folder["fully_qualified_name"]) if folder else []
    return JSONResponse(
        {
            "Id": folder_id,
            "DisplayName": folder["display_name"] if folder else None,
            "IsSelectable": folder is not None and is_visible(folder["fully_qualified_name"], paths),
            "IsPersonal": bool(folder and folder["folder_type"] == PERSONAL),
            "ProvisionType": enums.ProvisionType(folder["provision_type"]).name if folder else None,
            "Ancestors": [_simple(r) for r in above],
            "ChildrenPage": [_extended(r, r["id"] in parents, paths) for r in rows],
            "ChildrenCount": total,
        }
    )


@area.operation(
    "Folders",
    "MoveFolder",
    method="PUT",
    bound_to_entity=True,
    summary="Moves a folder (and its subfolders) under targetParentId (none: to the root)",
)
async def move(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Folders.Edit")
    folder_id = inputs.entity_id(call.key, "the folder")
    raw = call.request.query_params.get("targetParentId")
    target = None if raw in (None, "", "null") else inputs.url_id(raw, "targetParentId")
    async with ctx.state.db.write() as conn:
        folder = await folder_row(conn, ctx.tenant_id, folder_id)
        await move_folder(conn, ctx.tenant_id, folder, target)
        await revocations.note(conn, revocations.EVERYTHING)  # folder paths in cached principals
    ctx.state.forget_access()


async def _id_of_key(ctx: RequestContext, request: Request) -> int:
    """The id of the folder whose Key is the ``key`` query parameter, if the caller sees it; else 404."""
    key = request.query_params.get("key")
    if not key:
        raise bad_request("key is required.")
    page = await service.list_entities(ctx, FOLDERS, QueryOptions(top=1), [with_key(key.lower())])
    if not page.rows:
        raise not_found("Folder does not exist.")
    return int(page.rows[0]["Id"])


@router.delete("/api/Folders/DeleteByKey", status_code=204, summary="Deletes a folder by its Key")
async def delete_by_key(request: Request) -> Response:
    ctx = await request_context(request)
    await service.delete_entity(ctx, FOLDERS, await _id_of_key(ctx, request))
    return Response(status_code=204)


@router.patch("/api/Folders/PatchNameDescription", summary="Renames a folder and edits its description")
async def patch_name_description(request: Request) -> Response:
    """Body FolderUpdateNameDescriptionRequest {name, description}; answers the FolderDto."""
    ctx = await request_context(request)
    folder_id = await _id_of_key(ctx, request)
    body = inputs.json_object(await read_json(request), "The body")
    changes: dict[str, Any] = {}
    if body.get("name") is not None:
        changes["DisplayName"] = body["name"]
    if "description" in body:
        changes["Description"] = body["description"]
    if not changes:
        raise bad_request("Give a name or a description.")
    updated = await service.update_entity(ctx, FOLDERS, folder_id, changes, partial=True)
    return entity(ctx, "Folders", updated)
