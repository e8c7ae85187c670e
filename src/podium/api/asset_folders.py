"""Asset functions over folders: GetFiltered, GetAssetsAcrossFolders, ShareToFolders, GetFoldersForAsset."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.api.assets import ASSETS, name_clash
from podium.db.schema import folders
from podium.db.schema_assets import asset_folders, assets
from podium.errors import bad_request, conflict, not_found
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, param, require_body

area = Area("Assets")


@area.operation("Assets", "GetFiltered", method="GET", summary="Get Filtered Assets", returns="Assets")
async def get_filtered(ctx: RequestContext, call: ActionCall) -> Any:
    page = await service.list_entities(ctx, ASSETS, call.options)
    return collection(ctx, "Assets", page.rows, page.count)


@area.operation(
    "Assets",
    "GetAssetsAcrossFolders",
    method="GET",
    returns="Assets",
    parameters=("excludeFolderId",),
    summary="Assets of every folder where the caller has Assets.View, except the one specified",
)
async def across_folders(ctx: RequestContext, call: ActionCall) -> Any:
    everywhere = dataclasses.replace(ctx, folder=None)
    extra: list[ColumnElement[bool]] = []
    excluded = call.request.query_params.get("excludeFolderId") or call.params.get("excludeFolderId")
    if excluded not in (None, ""):
        if not str(excluded).isdigit():
            raise bad_request("excludeFolderId must be a folder id.")
        in_excluded = select(asset_folders.c.asset_id).where(asset_folders.c.folder_id == int(excluded))
        extra.append(assets.c.id.not_in(in_excluded))
    page = await service.list_entities(everywhere, ASSETS, call.options, extra)
    return collection(ctx, "Assets", page.rows, page.count)


def _ids(body: dict[str, Any], name: str) -> list[int]:
    value = body.get(name) or []
    if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
        raise bad_request(f"{name} must be a list of ids.")
    return value


async def _folder_paths(ctx: RequestContext, conn: AsyncConnection, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await conn.execute(
        select(folders.c.id, folders.c.fully_qualified_name).where(
            folders.c.id.in_(ids), folders.c.tenant_id == ctx.tenant_id
        )
    )
    found = {r.id: r.fully_qualified_name for r in rows}
    if set(found) != ids:
        raise bad_request(f"Folders {sorted(ids - set(found))} do not exist.")
    return found


async def _share_one(
    ctx: RequestContext,
    conn: AsyncConnection,
    asset_id: int,
    add: set[int],
    remove: set[int],
    paths: dict[int, str],
) -> None:
    row = (
        (
            await conn.execute(
                select(assets).where(assets.c.id == asset_id, assets.c.tenant_id == ctx.tenant_id)
            )
        )
        .mappings()
        .first()
    )
    current = {
        r.folder_id
        for r in await conn.execute(
            select(asset_folders.c.folder_id).where(asset_folders.c.asset_id == asset_id)
        )
    }
    current_paths = await _folder_paths(ctx, conn, current) if row is not None else {}
    if row is None or not any(ctx.principal.has("Assets.View", p) for p in current_paths.values()):
        raise not_found(f"Asset {asset_id} does not exist.")
    if not any(ctx.principal.has("Assets.Edit", p) for p in current_paths.values()):
        ctx.require("Assets.Edit")
    new_folders = add - current
    for folder_id in new_folders:
        ctx.require("Assets.Create", paths[folder_id])
    for folder_id in remove & current:
        ctx.require("Assets.Delete", paths[folder_id])
    if new_folders and await name_clash(conn, row["name"], sorted(new_folders), asset_id):
        raise conflict(f"An asset named '{row['name']}' already exists in a target folder.")
    remaining = (current | add) - remove
    if not remaining:
        raise bad_request(f"Asset {asset_id} would be in no folder.")
    if new_folders:
        await conn.execute(
            insert(asset_folders), [{"asset_id": asset_id, "folder_id": f} for f in sorted(new_folders)]
        )
    gone = remove & current
    if gone:
        await conn.execute(
            delete(asset_folders).where(
                asset_folders.c.asset_id == asset_id, asset_folders.c.folder_id.in_(gone)
            )
        )
    home = row["folder_id"] if row["folder_id"] in remaining else min(remaining)
    await conn.execute(
        update(assets).where(assets.c.id == asset_id).values(folder_id=home, folders_count=len(remaining))
    )


@area.operation(
    "Assets", "ShareToFolders", summary="Adds the assets to folders and removes them from others"
)
async def share_to_folders(ctx: RequestContext, call: ActionCall) -> None:
    body = require_body(call)
    asset_ids = _ids(body, "AssetIds")
    add, remove = set(_ids(body, "ToAddFolderIds")), set(_ids(body, "ToRemoveFolderIds"))
    if add & remove:
        raise bad_request("A folder cannot be both added and removed.")
    async with ctx.state.db.write() as conn:
        paths = await _folder_paths(ctx, conn, add | remove)
        for asset_id in dict.fromkeys(asset_ids):
            await _share_one(ctx, conn, asset_id, add, remove, paths)


@area.operation(
    "Assets",
    "GetFoldersForAsset",
    method="GET",
    parameters=("id",),
    returns="AccessibleFoldersDto",
    summary="Accessible folders where the asset is shared, and how many folders it is shared to in all",
)
async def folders_for_asset(ctx: RequestContext, call: ActionCall) -> Any:
    asset_id = param(call, "id")
    if isinstance(asset_id, str) and asset_id.isdigit():
        asset_id = int(asset_id)
    if not isinstance(asset_id, int) or isinstance(asset_id, bool):
        raise bad_request("id must be an asset id.")
    async with ctx.state.db.read() as conn:
        rows = (
            await conn.execute(
                select(folders.c.id, folders.c.display_name, folders.c.fully_qualified_name)
                .join(asset_folders, asset_folders.c.folder_id == folders.c.id)
                .join(assets, assets.c.id == asset_folders.c.asset_id)
                .where(assets.c.id == asset_id, assets.c.tenant_id == ctx.tenant_id)
                .order_by(folders.c.fully_qualified_name)
            )
        ).all()
        total = (
            await conn.execute(select(func.count()).where(asset_folders.c.asset_id == asset_id))
        ).scalar_one()
    visible = [
        {"DisplayName": r.display_name, "FullyQualifiedName": r.fully_qualified_name, "Id": r.id}
        for r in rows
        if ctx.principal.has("Assets.View", r.fully_qualified_name)
    ]
    if not visible:
        raise not_found("Asset does not exist.")
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#UiPath.Application.Dto.AccessibleFoldersDto",
        "AccessibleFolders": visible,
        "TotalFoldersCount": total,
    }
