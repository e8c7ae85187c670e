"""Assets over folders: the folders an asset is in, the assets a folder does not see, and adding assets
to folders and removing them from others.

An asset stays in at least one folder; when its creation folder is removed, the smallest id of its
remaining folders becomes its home. Adding a folder where an asset of the same name (any case) is seen
is a 409. Permissions are the caller's to check between :func:`asset_shares` and :func:`share_asset`
(both in one transaction).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folders
from podium.db.schema_assets import asset_folders, assets
from podium.domain.assets import folder_ids_of, name_clash
from podium.errors import bad_request, conflict


@dataclass(frozen=True)
class AssetShares:
    """An asset and the folders it is in now (id → path)."""

    asset: Mapping[str, Any]
    current: dict[int, str]


def not_shared_to(folder_id: int) -> ColumnElement[bool]:
    """The assets the folder does not see."""
    return assets.c.id.not_in(select(asset_folders.c.asset_id).where(asset_folders.c.folder_id == folder_id))


async def folder_paths(conn: AsyncConnection, tenant_id: int, ids: set[int]) -> dict[int, str]:
    """The paths of the tenant's folders (id → path); 400 when one does not exist."""
    if not ids:
        return {}
    rows = await conn.execute(
        select(folders.c.id, folders.c.fully_qualified_name).where(
            folders.c.id.in_(ids), folders.c.tenant_id == tenant_id
        )
    )
    found = {r.id: r.fully_qualified_name for r in rows}
    if set(found) != ids:
        raise bad_request(f"Folders {sorted(ids - set(found))} do not exist.")
    return found


async def asset_shares(conn: AsyncConnection, tenant_id: int, asset_id: int) -> AssetShares | None:
    """The tenant's asset and its folders; None when it has no such asset."""
    row = (
        (await conn.execute(select(assets).where(assets.c.id == asset_id, assets.c.tenant_id == tenant_id)))
        .mappings()
        .first()
    )
    if row is None:
        return None
    current = await folder_paths(conn, tenant_id, set(await folder_ids_of(conn, asset_id)))
    return AssetShares(dict(row), current)


async def share_asset(conn: AsyncConnection, shares: AssetShares, add: set[int], remove: set[int]) -> None:
    """Adds the asset to the ``add`` folders and removes it from the ``remove`` ones."""
    asset_id, name = shares.asset["id"], shares.asset["name"]
    current = set(shares.current)
    new_folders = add - current
    if new_folders and await name_clash(conn, name, sorted(new_folders), asset_id):
        raise conflict(f"An asset named '{name}' already exists in a target folder.")
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
    home = shares.asset["folder_id"] if shares.asset["folder_id"] in remaining else min(remaining)
    await conn.execute(
        update(assets).where(assets.c.id == asset_id).values(folder_id=home, folders_count=len(remaining))
    )


async def folders_of_asset(
    conn: AsyncConnection, tenant_id: int, asset_id: int
) -> tuple[list[Mapping[str, Any]], int]:
    """The folders the tenant's asset is in (id, display_name, fully_qualified_name; by path), and how
    many folders it is in."""
    rows = (
        await conn.execute(
            select(folders.c.id, folders.c.display_name, folders.c.fully_qualified_name)
            .join(asset_folders, asset_folders.c.folder_id == folders.c.id)
            .join(assets, assets.c.id == asset_folders.c.asset_id)
            .where(assets.c.id == asset_id, assets.c.tenant_id == tenant_id)
            .order_by(folders.c.fully_qualified_name)
        )
    ).mappings()
    found: list[Mapping[str, Any]] = [dict(row) for row in rows]
    total = (
        await conn.execute(select(func.count()).where(asset_folders.c.asset_id == asset_id))
    ).scalar_one()
    return found, int(total)
