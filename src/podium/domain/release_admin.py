"""Releases found by their key (DeleteByKey, UpdateByKey) and edited as UpdateByKey says: the package
version (through ``releases.update_version``, which records the move), the entry point, the input
arguments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import releases
from podium.domain.folders import with_folder_path
from podium.errors import not_found


async def release_by_key(conn: AsyncConnection, tenant_id: int, key: str) -> dict[str, Any]:
    """The tenant's release of that key, with its folder's ``folder_path``; 404 when there is none."""
    query = with_folder_path(releases).where(releases.c.key == key, releases.c.tenant_id == tenant_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found("Release does not exist.")
    return dict(row)


async def set_entry(conn: AsyncConnection, release: Mapping[str, Any], values: dict[str, Any]) -> None:
    """Writes ``entry_point_path`` / ``input_arguments`` of the release (only those given)."""
    if values:
        await conn.execute(update(releases).where(releases.c.id == release["id"]).values(**values))
