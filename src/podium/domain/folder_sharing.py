"""Rows shared to several folders (Buckets, QueueDefinitions): the folders a row is shared to, the rows
not seen in a folder, and adding rows to folders and removing them from others.

A shared row is seen in every folder its link table lists. Names are unique among the rows a folder
sees, so adding a folder where the name is taken is a 409. What happens when the creation folder is
removed differs: a bucket moves to another of its folders; a queue refuses (its items live in its
creation folder).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folders
from podium.errors import bad_request, conflict


@dataclass(frozen=True)
class SharedTable:
    table: Table  # the shared rows (id, name, folder_id, folders_count)
    link: Table  # (folder_id, <column>, tenant_id)
    column: str  # the link's column naming the shared row
    noun: str  # in messages: "bucket", "queue"
    creation_folder_stays: bool  # True: removing it is refused; False: another folder owns the row


def not_shared_to(shared: SharedTable, folder_id: int) -> ColumnElement[bool]:
    """The rows the folder does not see."""
    link = shared.link.c
    return shared.table.c.id.not_in(select(link[shared.column]).where(link.folder_id == folder_id))


async def linked_folders(conn: AsyncConnection, shared: SharedTable, row_id: int) -> list[Mapping[str, Any]]:
    """The folders the row is shared to (id, display_name, fully_qualified_name), by path."""
    link = shared.link.c
    query = (
        select(folders.c.id, folders.c.display_name, folders.c.fully_qualified_name)
        .join(shared.link, link.folder_id == folders.c.id)
        .where(link[shared.column] == row_id)
        .order_by(folders.c.fully_qualified_name)
    )
    return [dict(row) for row in (await conn.execute(query)).mappings()]


async def share_row(
    conn: AsyncConnection,
    tenant_id: int,
    shared: SharedTable,
    row_id: int,
    added: Mapping[int, str],
    removed: set[int],
) -> None:
    """Adds the row to the ``added`` folders (id → path) and removes it from the ``removed`` ones."""
    table, link = shared.table, shared.link
    row = (await conn.execute(select(table).where(table.c.id == row_id))).mappings().one()
    current = {int(r["id"]) for r in await linked_folders(conn, shared, row_id)}
    if shared.creation_folder_stays and row["folder_id"] in removed:
        raise bad_request(
            f"The {shared.noun} {row_id} cannot leave the folder it was created in: its items live there."
        )
    remaining = (current | set(added)) - removed
    if not remaining:
        raise bad_request(f"A {shared.noun} must stay in at least one folder.")
    for folder_id, path in added.items():
        if folder_id in current:
            continue
        clash = (
            select(table.c.id)
            .join(link, link.c[shared.column] == table.c.id)
            .where(link.c.folder_id == folder_id, table.c.name == row["name"])
        )
        if (await conn.execute(clash)).first() is not None:
            raise conflict(f"The folder {path} already has a {shared.noun} named '{row['name']}'.")
        await conn.execute(
            insert(link).values({shared.column: row_id, "folder_id": folder_id, "tenant_id": tenant_id})
        )
    gone = sorted(current & removed)
    if gone:
        await conn.execute(delete(link).where(link.c[shared.column] == row_id, link.c.folder_id.in_(gone)))
    values: dict[str, Any] = {"folders_count": len(remaining)}
    if row["folder_id"] not in remaining:  # the creation folder was removed: another one owns it now
        values["folder_id"] = min(remaining)
    await conn.execute(update(table).where(table.c.id == row_id).values(**values))
