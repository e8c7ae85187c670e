"""Folders: names and paths, what makes a folder deletable, who sees which folders, and folder users.

A folder's ``fully_qualified_name`` is its parent's path, ``/``, and its display name; renaming a folder
renames the paths of everything below it in the same transaction. Paths are compared exactly and
case-sensitively (:func:`below`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import environments, folder_robots, folder_users, folders, jobs, releases, user_roles
from podium.db.schema_folders import folder_machines, workspace_explorers
from podium.domain import enums
from podium.errors import bad_request, conflict, not_found

PERSONAL = int(enums.FolderType.Personal)  # type: ignore[attr-defined]


def with_folder_path(table: Table) -> Select[Any]:
    """Rows of ``table`` joined to their folder, whose path comes as ``folder_path`` (for the caller's
    permission check in that folder)."""
    return select(table, folders.c.fully_qualified_name.label("folder_path")).join(
        folders, folders.c.id == table.c.folder_id
    )


async def tenant_row_with_folder_path(
    conn: AsyncConnection, table: Table, tenant_id: int, row_id: int, missing: str
) -> dict[str, Any]:
    """The tenant's row ``row_id`` of ``table`` with its ``folder_path``; 404 saying ``missing``."""
    query = with_folder_path(table).where(table.c.id == row_id, table.c.tenant_id == tenant_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found(missing)
    return dict(row)


def below(path: str) -> ColumnElement[bool]:
    """Folders strictly below ``path``. An exact, case-sensitive prefix test: LIKE would read ``_`` and
    ``%`` in folder names as patterns, and ignores case on SQLite."""
    prefix = path + "/"
    return func.substr(folders.c.fully_qualified_name, 1, len(prefix)) == prefix


def with_key(key: str) -> ColumnElement[bool]:
    return folders.c.key == key


def visible(paths: Sequence[str] | None) -> list[ColumnElement[bool]]:
    """Conditions for the folders at or below ``paths`` (``None``: every folder, no condition)."""
    if paths is None:
        return []
    conditions: list[ColumnElement[bool]] = [folders.c.fully_qualified_name == p for p in paths]
    conditions += [below(p) for p in paths]
    return [or_(*conditions)] if conditions else [folders.c.id.is_(None)]


def is_visible(path: str, paths: Sequence[str] | None) -> bool:
    """Whether the folder at ``path`` is one :func:`visible` admits."""
    return paths is None or any(path == p or path.startswith(p + "/") for p in paths)


def navigable(paths: Sequence[str] | None) -> list[ColumnElement[bool]]:
    """Like :func:`visible`, and the folders above those ``paths`` too: the way down to them."""
    if paths is None:
        return []
    above = {"/".join(p.split("/")[:n]) for p in paths for n in range(1, p.count("/") + 1)}
    conditions: list[ColumnElement[bool]] = (
        [folders.c.fully_qualified_name.in_(sorted(above))] if above else []
    )
    return [or_(*visible(paths), *conditions)] if paths else visible(paths)


async def name_folder(
    conn: AsyncConnection, tenant_id: int, values: dict[str, Any], existing: Mapping[str, Any] | None
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
                    folders.c.id == parent_id, folders.c.tenant_id == tenant_id
                )
            )
        ).first()
        if parent is None:
            raise bad_request(f"Parent folder {parent_id} does not exist.")
        values["fully_qualified_name"] = f"{parent.fully_qualified_name}/{name}"
    else:
        values["fully_qualified_name"] = name
    if existing is not None and values["fully_qualified_name"] != existing["fully_qualified_name"]:
        await _rename_subfolders(
            conn, tenant_id, existing["fully_qualified_name"], values["fully_qualified_name"]
        )


async def _rename_subfolders(conn: AsyncConnection, tenant_id: int, old: str, new: str) -> None:
    taken = select(folders.c.id).where(
        folders.c.tenant_id == tenant_id, folders.c.fully_qualified_name == new
    )
    if (await conn.execute(taken)).first() is not None:  # before its subfolders would collide
        raise conflict(f"Folder '{new}' already exists.")
    await conn.execute(
        update(folders)
        .where(folders.c.tenant_id == tenant_id, below(old))
        .values(fully_qualified_name=new + func.substr(folders.c.fully_qualified_name, len(old) + 1))
    )


async def empty_for_delete(conn: AsyncConnection, tenant_id: int, row: Mapping[str, Any]) -> None:
    """A folder is deleted only when neither it nor a subfolder holds anything; its user and robot
    assignments and folder roles go with it."""
    ids = [
        r.id
        for r in await conn.execute(
            select(folders.c.id).where(
                folders.c.tenant_id == tenant_id,
                or_(folders.c.id == row["id"], below(row["fully_qualified_name"])),
            )
        )
    ]
    for table in (jobs, releases, environments):
        if (await conn.execute(select(table.c.id).where(table.c.folder_id.in_(ids)).limit(1))).first():
            raise conflict("The folder or one of its subfolders still holds processes, jobs or environments.")
    if len(ids) > 1:
        raise conflict("The folder still has subfolders: delete them first.")
    for table in (folder_users, folder_robots, user_roles, folder_machines, workspace_explorers):
        await conn.execute(delete(table).where(table.c.folder_id.in_(ids)))


async def assign_users(
    conn: AsyncConnection, folder_id: int, user_ids: list[int], role_ids: list[int]
) -> None:
    """Adds the users to the folder with the roles there (rows that exist already are kept)."""
    for user_id in user_ids:
        await _ensure_row(conn, folder_users, folder_id=folder_id, user_id=user_id)
        for role_id in role_ids:
            await _ensure_row(conn, user_roles, folder_id=folder_id, user_id=user_id, role_id=role_id)


async def _ensure_row(conn: AsyncConnection, table: Any, **values: Any) -> None:
    exists = select(table.c.id).where(*[table.c[k] == v for k, v in values.items()])
    if (await conn.execute(exists)).first() is None:
        await conn.execute(insert(table).values(**values))


async def remove_user(conn: AsyncConnection, folder_id: int, user_id: int) -> None:
    """Removes the user from the folder, with its roles there."""
    await conn.execute(
        delete(folder_users).where(folder_users.c.folder_id == folder_id, folder_users.c.user_id == user_id)
    )
    await conn.execute(
        delete(user_roles).where(user_roles.c.folder_id == folder_id, user_roles.c.user_id == user_id)
    )


async def folder_page(
    conn: AsyncConnection,
    tenant_id: int,
    paths: Sequence[str] | None,
    search: str | None,
    skip: int,
    take: int,
) -> tuple[list[dict[str, Any]], int]:
    """A page of the folders the caller sees (``paths`` as in :func:`visible`) in path order, with the
    count of them all; ``search`` keeps those whose display name contains it."""
    conditions = [folders.c.tenant_id == tenant_id, *visible(paths)]
    if search:
        conditions.append(folders.c.display_name.contains(search, autoescape=True))
    total = (await conn.execute(select(func.count()).select_from(folders).where(*conditions))).scalar_one()
    rows = await conn.execute(
        select(folders).where(*conditions).order_by(folders.c.fully_qualified_name).offset(skip).limit(take)
    )
    return [dict(r) for r in rows.mappings()], int(total)


async def all_folders(
    conn: AsyncConnection, tenant_id: int, paths: Sequence[str] | None
) -> list[dict[str, Any]]:
    """Every folder the caller sees (``paths`` as in :func:`visible`), in path order."""
    rows = await conn.execute(
        select(folders)
        .where(folders.c.tenant_id == tenant_id, *visible(paths))
        .order_by(folders.c.fully_qualified_name)
    )
    return [dict(r) for r in rows.mappings()]


async def folder_row(
    conn: AsyncConnection, tenant_id: int, folder_id: int, paths: Sequence[str] | None = None
) -> dict[str, Any]:
    """The tenant's folder ``folder_id`` if the caller sees it or a folder below it (``paths`` as in
    :func:`visible`); else 404."""
    query = select(folders).where(
        folders.c.tenant_id == tenant_id, folders.c.id == folder_id, *navigable(paths)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        raise not_found("Folder does not exist.")
    return dict(row._mapping)


async def move_folder(
    conn: AsyncConnection, tenant_id: int, folder: Mapping[str, Any], target_parent_id: int | None
) -> None:
    """Puts the folder (with everything below it) under ``target_parent_id`` (None: at the root).

    Refused with a 400 before anything is written: a personal workspace, a target that is the folder
    itself, one of its descendants or a personal workspace; a 409 when the target already holds a
    folder of that name."""
    if folder["folder_type"] == PERSONAL:
        raise bad_request("A personal workspace cannot be moved.")
    path = folder["fully_qualified_name"]
    new_path = folder["display_name"]
    if target_parent_id is not None:
        target = (
            await conn.execute(
                select(folders).where(folders.c.tenant_id == tenant_id, folders.c.id == target_parent_id)
            )
        ).first()
        if target is None:
            raise bad_request(f"Target folder {target_parent_id} does not exist.")
        target_path = target.fully_qualified_name
        if target.id == folder["id"] or target_path.startswith(path + "/"):
            raise bad_request("A folder cannot be moved under itself or one of its subfolders.")
        if target.folder_type == PERSONAL:
            raise bad_request("A folder cannot be moved into a personal workspace.")
        new_path = f"{target_path}/{folder['display_name']}"
    if new_path == path:
        return
    await _rename_subfolders(conn, tenant_id, path, new_path)
    await conn.execute(
        update(folders)
        .where(folders.c.id == folder["id"])
        .values(parent_id=target_parent_id, fully_qualified_name=new_path)
    )


def children_of(folder_id: int | None) -> ColumnElement[bool]:
    return folders.c.parent_id.is_(None) if folder_id is None else folders.c.parent_id == folder_id


async def children_page(
    conn: AsyncConnection,
    tenant_id: int,
    parent_id: int | None,
    paths: Sequence[str] | None,
    skip: int,
    take: int,
) -> tuple[list[dict[str, Any]], int, set[int]]:
    """A page of the direct children of ``parent_id`` (None: the top-level folders) that the caller sees
    or that lead to one it sees (:func:`navigable`), their count, and which of them have children."""
    conditions = [folders.c.tenant_id == tenant_id, children_of(parent_id), *navigable(paths)]
    total = (await conn.execute(select(func.count()).select_from(folders).where(*conditions))).scalar_one()
    rows = [
        dict(r)
        for r in (
            await conn.execute(
                select(folders)
                .where(*conditions)
                .order_by(folders.c.fully_qualified_name)
                .offset(skip)
                .limit(take)
            )
        ).mappings()
    ]
    parents = set()
    if rows:
        query = select(folders.c.parent_id).where(folders.c.parent_id.in_([r["id"] for r in rows])).distinct()
        parents = {r.parent_id for r in await conn.execute(query)}
    return rows, int(total), parents


async def ancestors(conn: AsyncConnection, tenant_id: int, path: str) -> list[dict[str, Any]]:
    """The folders above ``path``, from the top."""
    parts = path.split("/")
    names = ["/".join(parts[:n]) for n in range(1, len(parts))]
    if not names:
        return []
    rows = await conn.execute(
        select(folders).where(folders.c.tenant_id == tenant_id, folders.c.fully_qualified_name.in_(names))
    )
    return sorted((dict(r) for r in rows.mappings()), key=lambda r: len(r["fully_qualified_name"]))
