"""Task catalogs: named groups of tasks in a folder. A task keeps its catalog's name
(``tasks.task_catalog_name``, TaskDto.TaskCatalogName), so a rename or a deletion updates its tasks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_tasks import task_catalogs, tasks


async def rename(conn: AsyncConnection, catalog_id: int, name: str) -> None:
    await conn.execute(
        update(tasks).where(tasks.c.task_catalog_id == catalog_id).values(task_catalog_name=name)
    )


async def forget(conn: AsyncConnection, catalog_id: int) -> None:
    """The catalog's tasks belong to no catalog any more (before it is deleted)."""
    await conn.execute(
        update(tasks)
        .where(tasks.c.task_catalog_id == catalog_id)
        .values(task_catalog_id=None, task_catalog_name=None)
    )


async def task_count(conn: AsyncConnection, catalog_id: int) -> int:
    query = (
        select(func.count())
        .select_from(tasks)
        .where(tasks.c.task_catalog_id == catalog_id, tasks.c.is_deleted.is_(False))
    )
    return int((await conn.execute(query)).scalar_one())


async def catalog(conn: AsyncConnection, tenant_id: int, catalog_id: int) -> dict[str, Any] | None:
    row = (
        (
            await conn.execute(
                select(task_catalogs).where(
                    task_catalogs.c.id == catalog_id, task_catalogs.c.tenant_id == tenant_id
                )
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)
