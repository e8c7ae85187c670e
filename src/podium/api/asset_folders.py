"""Asset functions over folders: GetFiltered, GetAssetsAcrossFolders, ShareToFolders, GetFoldersForAsset."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncConnection

from podium import inputs
from podium.api.assets import ASSETS
from podium.api.folder_sharing import unscoped
from podium.domain.asset_folders import (
    asset_shares,
    folder_paths,
    folders_of_asset,
    not_shared_to,
    share_asset,
)
from podium.errors import bad_request, not_found
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
    extra: list[ColumnElement[bool]] = []
    excluded = call.request.query_params.get("excludeFolderId") or call.params.get("excludeFolderId")
    if excluded not in (None, ""):
        extra.append(not_shared_to(inputs.url_id(excluded, "excludeFolderId")))
    page = await service.list_entities(unscoped(ctx), ASSETS, call.options, extra)
    return collection(ctx, "Assets", page.rows, page.count)


async def _share_one(
    ctx: RequestContext,
    conn: AsyncConnection,
    asset_id: int,
    add: set[int],
    remove: set[int],
    paths: dict[int, str],
) -> None:
    """404 unless the caller sees the asset; Assets.Edit on it, Create where it is added, Delete where it
    is removed; then the domain shares it."""
    shares = await asset_shares(conn, ctx.tenant_id, asset_id)
    current = shares.current if shares is not None else {}
    if shares is None or not any(ctx.principal.has("Assets.View", p) for p in current.values()):
        raise not_found(f"Asset {asset_id} does not exist.")
    if not any(ctx.principal.has("Assets.Edit", p) for p in current.values()):
        ctx.require("Assets.Edit")
    for folder_id in add - set(current):
        ctx.require("Assets.Create", paths[folder_id])
    for folder_id in remove & set(current):
        ctx.require("Assets.Delete", paths[folder_id])
    await share_asset(conn, shares, add, remove)


@area.operation("Assets", "ShareToFolders", summary="Adds the assets to folders and removes them from others")
async def share_to_folders(ctx: RequestContext, call: ActionCall) -> None:
    body = require_body(call)
    asset_ids = inputs.id_list(body.get("AssetIds"), "AssetIds", allow_empty=True)
    add = set(inputs.id_list(body.get("ToAddFolderIds"), "ToAddFolderIds", allow_empty=True))
    remove = set(inputs.id_list(body.get("ToRemoveFolderIds"), "ToRemoveFolderIds", allow_empty=True))
    if add & remove:
        raise bad_request("A folder cannot be both added and removed.")
    async with ctx.state.db.write() as conn:
        paths = await folder_paths(conn, ctx.tenant_id, add | remove)
        for asset_id in asset_ids:
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
    asset_id = inputs.url_id(param(call, "id"), "id")
    async with ctx.state.db.read() as conn:
        rows, total = await folders_of_asset(conn, ctx.tenant_id, asset_id)
    visible = [
        {"DisplayName": r["display_name"], "FullyQualifiedName": r["fully_qualified_name"], "Id": r["id"]}
        for r in rows
        if ctx.principal.has("Assets.View", r["fully_qualified_name"])
    ]
    if not visible:
        raise not_found("Asset does not exist.")
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#UiPath.Application.Dto.AccessibleFoldersDto",
        "AccessibleFolders": visible,
        "TotalFoldersCount": total,
    }
