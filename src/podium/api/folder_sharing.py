"""Entities shared to several folders (Buckets, QueueDefinitions): the across-folders list, the folders
one row is shared to, and ShareToFolders, written once for every such entity set (the queries and the
rules of sharing are in ``domain/folder_sharing.py``).

Also the reading of ids and numbers given in a URL as text (:func:`url_id`, :func:`url_integer`), which
these and the asset and bucket functions share.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table
from starlette.responses import Response

from podium import inputs
from podium.domain.folder_sharing import SharedTable, linked_folders, not_shared_to, share_row
from podium.errors import bad_request
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.model import EntitySet
from podium.odata.registry import ActionCall
from podium.odata.routes import collection, param, require_body


@dataclass(frozen=True)
class Sharing:
    entity_set: EntitySet
    link: Table  # (folder_id, <column>, tenant_id)
    column: str  # the link's column naming the shared row
    ids_name: str  # ShareToFolders' body list of rows: "BucketIds", "QueueIds"
    noun: str  # in messages: "bucket", "queue"
    creation_folder_stays: bool  # True: removing it is refused; False: another folder owns the row

    @property
    def shared(self) -> SharedTable:
        table: Table = self.entity_set.table
        return SharedTable(table, self.link, self.column, self.noun, self.creation_folder_stays)

    @property
    def area(self) -> str:
        return str(self.entity_set.permission)


def unscoped(ctx: RequestContext) -> RequestContext:
    """The caller without its folder header: operations across folders ignore it."""
    return dataclasses.replace(ctx, folder=None)


async def across_folders(ctx: RequestContext, call: ActionCall, sharing: Sharing) -> Response:
    """Rows of every folder where the caller may view them, except those seen in ``excludeFolderId``."""
    extra: list[ColumnElement[bool]] = []
    raw = call.request.query_params.get("excludeFolderId") or call.params.get("excludeFolderId")
    if raw not in (None, ""):
        extra.append(not_shared_to(sharing.shared, inputs.url_id(raw, "excludeFolderId")))
    page = await service.list_entities(unscoped(ctx), sharing.entity_set, call.options, extra)
    return collection(ctx, sharing.entity_set.name, page.rows, page.count)


async def folders_of(ctx: RequestContext, call: ActionCall, sharing: Sharing) -> dict[str, Any]:
    """AccessibleFoldersDto: the folders the row is shared to that the caller may see, and how many in all."""
    row_id = inputs.url_id(param(call, "id"), "id")
    await service.get_entity(unscoped(ctx), sharing.entity_set, row_id)  # 404 unless visible
    async with ctx.state.db.read() as conn:
        linked = await linked_folders(conn, sharing.shared, row_id)
    view = f"{sharing.area}.View"
    visible = [row for row in linked if ctx.principal.has(view, row["fully_qualified_name"])]
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#UiPath.Application.Dto.AccessibleFoldersDto",
        "AccessibleFolders": [
            {"DisplayName": r["display_name"], "FullyQualifiedName": r["fully_qualified_name"], "Id": r["id"]}
            for r in visible
        ],
        "TotalFoldersCount": len(linked),
    }


async def share_to_folders(ctx: RequestContext, call: ActionCall, sharing: Sharing) -> None:
    """Adds the rows to folders (Create permission there) and removes them from others (Delete)."""
    body = require_body(call)
    row_ids, to_add, to_remove = (
        inputs.id_list(body.get(n), n, allow_empty=True)
        for n in (sharing.ids_name, "ToAddFolderIds", "ToRemoveFolderIds")
    )
    if set(to_add) & set(to_remove):
        raise bad_request("A folder cannot be both added and removed.")
    for row_id in row_ids:
        await service.get_entity(unscoped(ctx), sharing.entity_set, row_id)  # 404 unless visible
    async with ctx.state.db.write() as conn:
        added = [await ctx.folder_by_id(conn, folder_id) for folder_id in to_add]
        removed = [await ctx.folder_by_id(conn, folder_id) for folder_id in to_remove]
        for folder in added:
            ctx.require(f"{sharing.area}.Create", folder.fully_qualified_name)
        for folder in removed:
            ctx.require(f"{sharing.area}.Delete", folder.fully_qualified_name)
        paths = {folder.id: folder.fully_qualified_name for folder in added}
        for row_id in row_ids:
            await share_row(conn, ctx.tenant_id, sharing.shared, row_id, paths, {f.id for f in removed})
