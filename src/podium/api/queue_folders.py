"""Queues across folders: ShareToFolders, GetFoldersForQueue, GetQueuesAcrossFolders.

A queue is seen in every folder listed in ``queue_definition_folders`` (its creation folder included),
the mechanism buckets and assets use (``EntitySet.shared_through``). The creation folder stays: its
items, their history and the retention policy live there, so removing it is refused (delete the queue
there instead).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from podium.api.context import RequestContext
from podium.api.folders_header import FolderRef
from podium.api.queue_sets import QUEUE_DEFINITIONS
from podium.db.schema import folders
from podium.db.schema_queues import queue_definition_folders, queue_definitions
from podium.errors import bad_request, conflict
from podium.odata import service
from podium.odata.registry import ActionCall, registry
from podium.odata.routes import collection, param, require_body

links = queue_definition_folders


def _unscoped(ctx: RequestContext) -> RequestContext:
    """The caller without its folder header: operations across folders ignore it."""
    return dataclasses.replace(ctx, folder=None)


@registry.operation(
    "QueueDefinitions",
    "GetQueuesAcrossFolders",
    method="GET",
    returns="QueueDefinitions",
    parameters=("excludeFolderId",),
    summary="Queues of every folder where the caller has Queues.View, except the ones in one folder",
)
async def across_folders(ctx: RequestContext, call: ActionCall) -> Response:
    extra: list[ColumnElement[bool]] = []
    raw = call.request.query_params.get("excludeFolderId") or call.params.get("excludeFolderId")
    if raw not in (None, ""):
        if not str(raw).isascii() or not str(raw).isdigit() or len(str(raw)) > 18:
            raise bad_request("excludeFolderId must be a folder id.")
        shared_there = select(links.c.queue_definition_id).where(links.c.folder_id == int(str(raw)))
        extra.append(queue_definitions.c.id.not_in(shared_there))
    page = await service.list_entities(_unscoped(ctx), QUEUE_DEFINITIONS, call.options, extra)
    return collection(ctx, "QueueDefinitions", page.rows, page.count)


async def _linked_folders(conn: AsyncConnection, queue_id: int) -> list[Mapping[str, Any]]:
    query = (
        select(folders.c.id, folders.c.display_name, folders.c.fully_qualified_name)
        .join(links, links.c.folder_id == folders.c.id)
        .where(links.c.queue_definition_id == queue_id)
        .order_by(folders.c.fully_qualified_name)
    )
    return [dict(row._mapping) for row in await conn.execute(query)]


def _queue_id(value: Any) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isascii() or not text.isdigit() or len(text) > 18:
        raise bad_request("id must be a queue id.")
    return int(text)


@registry.operation(
    "QueueDefinitions",
    "GetFoldersForQueue",
    method="GET",
    returns="AccessibleFoldersDto",
    parameters=("id",),
    summary="Folders the queue is shared to that the caller can see, and how many in all",
)
async def folders_for_queue(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    queue_id = _queue_id(param(call, "id"))
    await service.get_entity(_unscoped(ctx), QUEUE_DEFINITIONS, queue_id)  # 404 unless visible
    async with ctx.services.db.read() as conn:
        linked = await _linked_folders(conn, queue_id)
    visible = [row for row in linked if ctx.principal.has("Queues.View", row["fully_qualified_name"])]
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#UiPath.Application.Dto.AccessibleFoldersDto",
        "AccessibleFolders": [
            {"DisplayName": r["display_name"], "FullyQualifiedName": r["fully_qualified_name"], "Id": r["id"]}
            for r in visible
        ],
        "TotalFoldersCount": len(linked),
    }


def _ids(body: Mapping[str, Any], name: str) -> list[int]:
    value = body.get(name) or []
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise bad_request(f"{name} must be a list of integers.")
    return list(dict.fromkeys(value))


@registry.operation(
    "QueueDefinitions", "ShareToFolders", summary="Makes the queues visible in folders (or no longer)"
)
async def share_to_folders(ctx: RequestContext, call: ActionCall) -> None:
    body = require_body(call)
    queue_ids, to_add, to_remove = (
        _ids(body, n) for n in ("QueueIds", "ToAddFolderIds", "ToRemoveFolderIds")
    )
    if set(to_add) & set(to_remove):
        raise bad_request("A folder cannot be both added and removed.")
    unscoped = _unscoped(ctx)
    for queue_id in queue_ids:
        await service.get_entity(unscoped, QUEUE_DEFINITIONS, queue_id)  # 404 unless visible
    async with ctx.services.db.write() as conn:
        added = [await ctx.folder_by_id(conn, folder_id) for folder_id in to_add]
        removed = [await ctx.folder_by_id(conn, folder_id) for folder_id in to_remove]
        for folder in added:
            ctx.require("Queues.Create", folder.fully_qualified_name)
        for folder in removed:
            ctx.require("Queues.Delete", folder.fully_qualified_name)
        for queue_id in queue_ids:
            await _share_one(ctx, conn, queue_id, added, removed)


async def _share_one(
    ctx: RequestContext,
    conn: AsyncConnection,
    queue_id: int,
    added: list[FolderRef],
    removed: list[FolderRef],
) -> None:
    queue = (
        (await conn.execute(select(queue_definitions).where(queue_definitions.c.id == queue_id)))
        .mappings()
        .one()
    )
    current = {int(r["id"]) for r in await _linked_folders(conn, queue_id)}
    if queue["folder_id"] in {f.id for f in removed}:
        raise bad_request(
            f"Queue {queue_id} cannot leave the folder it was created in: its items live there."
        )
    for folder in (f for f in added if f.id not in current):
        clash = (
            select(queue_definitions.c.id)
            .join(links, links.c.queue_definition_id == queue_definitions.c.id)
            .where(links.c.folder_id == folder.id, queue_definitions.c.name == queue["name"])
        )
        if (await conn.execute(clash)).first() is not None:
            raise conflict(
                f"The folder {folder.fully_qualified_name} already has a queue named '{queue['name']}'."
            )
        await conn.execute(
            insert(links).values(queue_definition_id=queue_id, folder_id=folder.id, tenant_id=ctx.tenant_id)
        )
    gone = [f.id for f in removed if f.id in current]
    if gone:
        await conn.execute(
            delete(links).where(links.c.queue_definition_id == queue_id, links.c.folder_id.in_(gone))
        )
    count = select(func.count()).select_from(links).where(links.c.queue_definition_id == queue_id)
    await conn.execute(
        update(queue_definitions)
        .where(queue_definitions.c.id == queue_id)
        .values(folders_count=count.scalar_subquery())
    )
