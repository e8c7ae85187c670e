"""Entities shared to several folders (Buckets, QueueDefinitions): the across-folders list, the folders
one row is shared to, and ShareToFolders, written once for every such entity set.

A shared row is seen in every folder its link table lists (``EntitySet.shared_through``). Names are
unique among the rows a folder sees, so adding a folder where the name is taken is a 409. What happens
when the creation folder is removed differs: a bucket moves to another of its folders; a queue refuses
(its items live in its creation folder).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from podium.db.schema import folders
from podium.errors import bad_request, conflict
from podium.http.context import RequestContext
from podium.http.folders_header import FolderRef
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
    def table(self) -> Table:
        table: Table = self.entity_set.table
        return table

    @property
    def area(self) -> str:
        return str(self.entity_set.permission)


def unscoped(ctx: RequestContext) -> RequestContext:
    """The caller without its folder header: operations across folders ignore it."""
    return dataclasses.replace(ctx, folder=None)


def _folder_id(value: Any, name: str) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isascii() or not text.isdigit() or len(text) > 18:
        raise bad_request(f"{name} must be an id.")
    return int(text)


def _ids(body: Mapping[str, Any], name: str) -> list[int]:
    value = body.get(name) or []
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise bad_request(f"{name} must be a list of integers.")
    return list(dict.fromkeys(value))


async def across_folders(ctx: RequestContext, call: ActionCall, sharing: Sharing) -> Response:
    """Rows of every folder where the caller may view them, except those seen in ``excludeFolderId``."""
    extra: list[ColumnElement[bool]] = []
    raw = call.request.query_params.get("excludeFolderId") or call.params.get("excludeFolderId")
    if raw not in (None, ""):
        link = sharing.link.c
        shared_there = select(link[sharing.column]).where(
            link.folder_id == _folder_id(raw, "excludeFolderId")
        )
        extra.append(sharing.table.c.id.not_in(shared_there))
    page = await service.list_entities(unscoped(ctx), sharing.entity_set, call.options, extra)
    return collection(ctx, sharing.entity_set.name, page.rows, page.count)


async def linked_folders(conn: AsyncConnection, sharing: Sharing, row_id: int) -> list[Mapping[str, Any]]:
    link = sharing.link.c
    query = (
        select(folders.c.id, folders.c.display_name, folders.c.fully_qualified_name)
        .join(sharing.link, link.folder_id == folders.c.id)
        .where(link[sharing.column] == row_id)
        .order_by(folders.c.fully_qualified_name)
    )
    return [dict(row) for row in (await conn.execute(query)).mappings()]


async def folders_of(ctx: RequestContext, call: ActionCall, sharing: Sharing) -> dict[str, Any]:
    """AccessibleFoldersDto: the folders the row is shared to that the caller may see, and how many in all."""
    row_id = _folder_id(param(call, "id"), "id")
    await service.get_entity(unscoped(ctx), sharing.entity_set, row_id)  # 404 unless visible
    async with ctx.state.db.read() as conn:
        linked = await linked_folders(conn, sharing, row_id)
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
        _ids(body, n) for n in (sharing.ids_name, "ToAddFolderIds", "ToRemoveFolderIds")
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
        for row_id in row_ids:
            await _share_one(ctx, conn, sharing, row_id, added, {f.id for f in removed})


async def _share_one(
    ctx: RequestContext,
    conn: AsyncConnection,
    sharing: Sharing,
    row_id: int,
    added: list[FolderRef],
    removed: set[int],
) -> None:
    table, link = sharing.table, sharing.link
    row = (await conn.execute(select(table).where(table.c.id == row_id))).mappings().one()
    current = {int(r["id"]) for r in await linked_folders(conn, sharing, row_id)}
    if sharing.creation_folder_stays and row["folder_id"] in removed:
        raise bad_request(
            f"The {sharing.noun} {row_id} cannot leave the folder it was created in: its items live there."
        )
    remaining = (current | {f.id for f in added}) - removed
    if not remaining:
        raise bad_request(f"A {sharing.noun} must stay in at least one folder.")
    for folder in (f for f in added if f.id not in current):
        clash = (
            select(table.c.id)
            .join(link, link.c[sharing.column] == table.c.id)
            .where(link.c.folder_id == folder.id, table.c.name == row["name"])
        )
        if (await conn.execute(clash)).first() is not None:
            where = folder.fully_qualified_name
            raise conflict(f"The folder {where} already has a {sharing.noun} named '{row['name']}'.")
        await conn.execute(
            insert(link).values({sharing.column: row_id, "folder_id": folder.id, "tenant_id": ctx.tenant_id})
        )
    gone = sorted(current & removed)
    if gone:
        await conn.execute(delete(link).where(link.c[sharing.column] == row_id, link.c.folder_id.in_(gone)))
    values: dict[str, Any] = {"folders_count": len(remaining)}
    if row["folder_id"] not in remaining:  # the creation folder was removed: another one owns it now
        values["folder_id"] = min(remaining)
    await conn.execute(update(table).where(table.c.id == row_id).values(**values))
