"""Personal workspaces: a folder of its own (FolderType Personal) per user, made the first time the
user asks for it, where the user holds the Folder Administrator role. An administrator may explore a
workspace (StartExploring: the same role there, until StopExploring) and convert it to a standard
top-level folder (ConvertToFolder), which keeps its contents and users and ends the explorations."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folders, users
from podium.db.schema_folders import workspace_explorers
from podium.db.types import utcnow
from podium.domain import enums, revocations
from podium.domain.folders import PERSONAL, assign_users, remove_user
from podium.domain.roles import role_named
from podium.errors import bad_request, conflict, not_found

WORKSPACE_ROLE = "Folder Administrator"  # what the owner and an exploring administrator hold there
_FEED = int(enums.FeedType.PersonalWorkspace)  # type: ignore[attr-defined]


def personal() -> ColumnElement[bool]:
    return folders.c.folder_type == PERSONAL


def with_id(folder_id: int) -> ColumnElement[bool]:
    return folders.c.id == folder_id


async def of_user(conn: AsyncConnection, tenant_id: int, user_id: int) -> dict[str, Any] | None:
    query = select(folders).where(
        folders.c.tenant_id == tenant_id, personal(), folders.c.owner_user_id == user_id
    )
    row = (await conn.execute(query)).first()
    return dict(row._mapping) if row is not None else None


async def ensure(conn: AsyncConnection, tenant_id: int, user_id: int) -> dict[str, Any]:
    """The user's workspace, made now if it has none ("<user name>'s workspace", a top-level folder)."""
    found = await of_user(conn, tenant_id, user_id)
    if found is not None:
        return found
    user_name = (await conn.execute(select(users.c.user_name).where(users.c.id == user_id))).scalar_one()
    base = f"{user_name}'s workspace".replace("/", "_").strip()
    name, suffix = base, 1
    while (
        await conn.execute(
            select(folders.c.id).where(
                folders.c.tenant_id == tenant_id, folders.c.fully_qualified_name == name
            )
        )
    ).first() is not None:
        suffix += 1
        name = f"{base} ({suffix})"
    folder_id = (
        await conn.execute(
            insert(folders)
            .values(
                tenant_id=tenant_id,
                key=str(uuid.uuid4()),
                display_name=name,
                fully_qualified_name=name,
                folder_type=PERSONAL,
                provision_type=1,
                permission_model=1,
                feed_type=_FEED,
                owner_user_id=user_id,
                creation_time=utcnow(),
                creator_user_id=user_id,
            )
            .returning(folders.c.id)
        )
    ).scalar_one()
    await assign_users(conn, folder_id, [user_id], [await role_named(conn, tenant_id, WORKSPACE_ROLE)])
    await revocations.note(conn, revocations.EVERYTHING)  # the owner's folder roles changed
    return dict((await conn.execute(select(folders).where(folders.c.id == folder_id))).first()._mapping)  # type: ignore[union-attr]


async def workspace(conn: AsyncConnection, tenant_id: int, folder_id: int) -> dict[str, Any]:
    query = select(folders).where(folders.c.tenant_id == tenant_id, folders.c.id == folder_id, personal())
    row = (await conn.execute(query)).first()
    if row is None:
        raise not_found("Personal workspace does not exist.")
    return dict(row._mapping)


async def explorers(conn: AsyncConnection, folder_id: int) -> list[int]:
    query = select(workspace_explorers.c.user_id).where(workspace_explorers.c.folder_id == folder_id)
    return sorted(int(row.user_id) for row in await conn.execute(query))


async def start_exploring(
    conn: AsyncConnection, tenant_id: int, folder: dict[str, Any], user_id: int
) -> None:
    if folder["owner_user_id"] == user_id:
        raise bad_request("A personal workspace cannot be explored by its owner.")
    if user_id in await explorers(conn, folder["id"]):
        raise bad_request("The personal workspace is already explored by the current user.")
    await conn.execute(
        insert(workspace_explorers).values(folder_id=folder["id"], user_id=user_id, start_time=utcnow())
    )
    await assign_users(conn, folder["id"], [user_id], [await role_named(conn, tenant_id, WORKSPACE_ROLE)])
    await revocations.note(conn, revocations.EVERYTHING)


async def stop_exploring(conn: AsyncConnection, folder: dict[str, Any], user_id: int) -> None:
    done = await conn.execute(
        delete(workspace_explorers).where(
            workspace_explorers.c.folder_id == folder["id"], workspace_explorers.c.user_id == user_id
        )
    )
    if done.rowcount == 0:
        raise bad_request("The personal workspace is not explored by the current user.")
    await remove_user(conn, folder["id"], user_id)
    await revocations.note(conn, revocations.EVERYTHING)


async def convert_to_folder(conn: AsyncConnection, tenant_id: int, folder: dict[str, Any], name: Any) -> None:
    """Makes the workspace a standard top-level folder called ``name``; explorers lose their access."""
    if not isinstance(name, str) or not name or "/" in name or name != name.strip() or len(name) > 128:
        raise bad_request("folderName is required and cannot contain '/' or surrounding spaces.")
    taken = select(folders.c.id).where(
        folders.c.tenant_id == tenant_id, folders.c.fully_qualified_name == name, folders.c.id != folder["id"]
    )
    if (await conn.execute(taken)).first() is not None:
        raise conflict(f"Folder '{name}' already exists.")
    for user_id in await explorers(conn, folder["id"]):
        await stop_exploring(conn, folder, user_id)
    await conn.execute(
        update(folders)
        .where(folders.c.id == folder["id"])
        .values(
            folder_type=int(enums.FolderType.Standard),  # type: ignore[attr-defined]
            feed_type=0,
            display_name=name,
            fully_qualified_name=name,
            last_modification_time=utcnow(),
        )
    )
    await revocations.note(conn, revocations.EVERYTHING)
