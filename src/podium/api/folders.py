"""Folders (and their classic name, OrganizationUnits) and the folder navigation the SDK uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import ColumnElement, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import JSONResponse

from podium.db.schema import (
    environments,
    folder_robots,
    folder_users,
    folders,
    jobs,
    releases,
    roles,
    user_roles,
    users,
)
from podium.domain import enums
from podium.errors import bad_request, conflict, not_found
from podium.http.context import RequestContext, request_context
from podium.http.folders_header import below
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
    """Derives FullyQualifiedName from the parent and display name, keeping subfolders' names in step."""
    name = values.get("display_name", (existing or {}).get("display_name"))
    if not name or "/" in name or name != name.strip():
        raise bad_request("DisplayName is required and cannot contain '/' or surrounding spaces.")
    parent_id = values.get("parent_id", (existing or {}).get("parent_id"))
    if existing is not None and "parent_id" in values and values["parent_id"] != existing["parent_id"]:
        raise bad_request("Use MoveFolder to change a folder's parent.")
    if parent_id is not None:
        parent = (
            await conn.execute(
                select(folders.c.fully_qualified_name).where(
                    folders.c.id == parent_id, folders.c.tenant_id == ctx.tenant_id
                )
            )
        ).first()
        if parent is None:
            raise bad_request(f"Parent folder {parent_id} does not exist.")
        values["fully_qualified_name"] = f"{parent.fully_qualified_name}/{name}"
    else:
        values["fully_qualified_name"] = name
    if existing is not None and values["fully_qualified_name"] != existing["fully_qualified_name"]:
        old = existing["fully_qualified_name"]
        taken = select(folders.c.id).where(
            folders.c.tenant_id == ctx.tenant_id,
            folders.c.fully_qualified_name == values["fully_qualified_name"],
        )
        if (await conn.execute(taken)).first() is not None:  # before its subfolders would collide
            raise conflict(f"Folder '{values['fully_qualified_name']}' already exists.")
        await conn.execute(
            update(folders)
            .where(folders.c.tenant_id == ctx.tenant_id, below(old))
            .values(
                fully_qualified_name=values["fully_qualified_name"]
                + func.substr(folders.c.fully_qualified_name, len(old) + 1)
            )
        )


async def _folder_is_empty(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    """A folder is deleted only when neither it nor a subfolder holds anything."""
    ids = [
        r.id
        for r in await conn.execute(
            select(folders.c.id).where(
                folders.c.tenant_id == ctx.tenant_id,
                or_(
                    folders.c.id == row["id"],
                    below(row["fully_qualified_name"]),
                ),
            )
        )
    ]
    for table in (jobs, releases, environments):
        if (await conn.execute(select(table.c.id).where(table.c.folder_id.in_(ids)).limit(1))).first():
            raise conflict("The folder or one of its subfolders still holds processes, jobs or environments.")
    if len(ids) > 1:
        raise conflict("The folder still has subfolders: delete them first.")
    for table in (folder_users, folder_robots, user_roles):
        await conn.execute(delete(table).where(table.c.folder_id.in_(ids)))


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


def _visible_folders(ctx: RequestContext) -> list[ColumnElement[bool]]:
    """Users without a tenant-wide Folders.View see the folders where they hold any role."""
    if ctx.principal.has("Folders.View"):
        return []
    paths = list(ctx.principal.folder_permissions)
    conditions: list[ColumnElement[bool]] = [folders.c.fully_qualified_name == p for p in paths]
    conditions += [below(p) for p in paths]
    return [or_(*conditions)] if conditions else [folders.c.id.is_(None)]


FOLDERS = _folder_set("Folders", "FolderDto")
ORGANIZATION_UNITS = _folder_set("OrganizationUnits", "OrganizationUnitDto")


@area.operation(
    "Folders", "GetByKey", method="GET", summary="Gets a folder by its key", parameters=("identifier",)
)
async def folder_by_key(ctx: RequestContext, call: ActionCall) -> Any:
    identifier = str(param(call, "identifier")).lower()
    page = await service.list_entities(ctx, FOLDERS, call.options, [folders.c.key == identifier])
    if not page.rows:
        raise not_found("Folder does not exist.")
    return entity(ctx, "Folders", page.rows[0])


async def _role_ids(conn: AsyncConnection, tenant_id: int, ids: Any) -> list[int]:
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise bad_request("RoleIds must be a list of role ids.")
    found = [
        r.id
        for r in await conn.execute(
            select(roles.c.id).where(roles.c.id.in_(ids), roles.c.tenant_id == tenant_id)
        )
    ]
    if len(found) != len(set(ids)):
        raise bad_request("A role does not exist.")
    return found


@area.operation("Folders", "AssignUsers", summary="Assigns users to folders with roles per folder")
async def assign_users(ctx: RequestContext, call: ActionCall) -> None:
    """Body: {"assignments": {"UserIds": [...], "RolesPerFolder": [{"FolderId": n, "RoleIds": [...]}]}}."""
    ctx.require("Folders.Edit")
    body = require_body(call).get("assignments")
    if not isinstance(body, dict):
        raise bad_request("assignments is required.")
    user_ids, per_folder = body.get("UserIds"), body.get("RolesPerFolder")
    if not isinstance(user_ids, list) or not isinstance(per_folder, list):
        raise bad_request("assignments needs UserIds and RolesPerFolder lists.")
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in user_ids):
        raise bad_request("UserIds must be a list of user ids.")
    async with ctx.state.db.write() as conn:
        known = {
            r.id
            for r in await conn.execute(
                select(users.c.id).where(users.c.id.in_(user_ids), users.c.tenant_id == ctx.tenant_id)
            )
        }
        if known != set(user_ids):
            raise bad_request("A user does not exist.")
        for item in per_folder:
            if not isinstance(item, dict) or not isinstance(item.get("FolderId"), int):
                raise bad_request("Each RolesPerFolder item needs a FolderId.")
            folder = await ctx.folder_by_id(conn, item["FolderId"])
            role_ids = await _role_ids(conn, ctx.tenant_id, item.get("RoleIds") or [])
            for user_id in user_ids:
                await _ensure_row(conn, folder_users, folder_id=folder.id, user_id=user_id)
                for role_id in role_ids:
                    await _ensure_row(conn, user_roles, folder_id=folder.id, user_id=user_id, role_id=role_id)
    ctx.state.forget_access()  # the users' folder roles changed


async def _ensure_row(conn: AsyncConnection, table: Any, **values: Any) -> None:
    exists = select(table.c.id).where(*[table.c[k] == v for k, v in values.items()])
    if (await conn.execute(exists)).first() is None:
        await conn.execute(insert(table).values(**values))


@area.operation(
    "Folders", "RemoveUserFromFolder", bound_to_entity=True, summary="Removes a user from the folder"
)
async def remove_user(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Folders.Edit")
    user_id = require_body(call).get("userId")
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise bad_request("userId must be a user id.")
    async with ctx.state.db.write() as conn:
        folder = await ctx.folder_by_id(conn, call.key)
        await conn.execute(
            delete(folder_users).where(
                folder_users.c.folder_id == folder.id, folder_users.c.user_id == user_id
            )
        )
        await conn.execute(
            delete(user_roles).where(user_roles.c.folder_id == folder.id, user_roles.c.user_id == user_id)
        )
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
    conditions = [folders.c.tenant_id == ctx.tenant_id, *_visible_folders(ctx)]
    if search:
        conditions.append(folders.c.display_name.contains(search, autoescape=True))
    async with ctx.state.db.read() as conn:
        total = (
            await conn.execute(select(func.count()).select_from(folders).where(*conditions))
        ).scalar_one()
        rows = (
            (
                await conn.execute(
                    select(folders)
                    .where(*conditions)
                    .order_by(folders.c.fully_qualified_name)
                    .offset(skip)
                    .limit(take)
                )
            )
            .mappings()
            .all()
        )
    return JSONResponse({"PageItems": [_path_aware(dict(r)) for r in rows], "Count": total})


@router.get(
    "/api/FoldersNavigation/GetAllFoldersForCurrentUser", summary="Every folder the current user can see"
)
async def all_folders_for_current_user(request: Request) -> JSONResponse:
    ctx = await request_context(request)
    async with ctx.state.db.read() as conn:
        rows = (
            (
                await conn.execute(
                    select(folders)
                    .where(folders.c.tenant_id == ctx.tenant_id, *_visible_folders(ctx))
                    .order_by(folders.c.fully_qualified_name)
                )
            )
            .mappings()
            .all()
        )
    parents = {r["parent_id"] for r in rows}
    return JSONResponse(
        [
            {
                **_path_aware(dict(r)),
                "IsSelectable": True,
                "HasChildren": r["id"] in parents,
                "Level": r["fully_qualified_name"].count("/"),
            }
            for r in rows
        ]
    )
