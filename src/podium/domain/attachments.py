"""Attachments: files a process or a person keeps with a job or a task (``/odata/Attachments``), and their
links to jobs (``/api/JobAttachments``). The bytes live in the attachment store (``storage/factory.py``,
path ``<tenant id>/<key>``) and move through signed URIs, never through these calls.

An attachment belongs to the folder it was created in; reading it needs Jobs.View or Tasks.View there,
creating or deleting it Jobs.Edit or Tasks.Edit (a robot's job holds the first, a person working on tasks
the second). The handlers check them with the ``folder_path`` answered here.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import jobs
from podium.db.schema_tasks import attachments, job_attachments
from podium.db.types import utcnow
from podium.domain.folders import with_folder_path
from podium.errors import not_found

MISSING = "Attachment does not exist."


def file_path(row: dict[str, Any]) -> str:
    """Where the attachment's bytes are in the store."""
    return f"{row['tenant_id']}/{row['key']}"


async def create(
    conn: AsyncConnection, tenant_id: int, folder_id: int, user_id: int, name: str
) -> dict[str, Any]:
    now = utcnow()
    values = {
        "tenant_id": tenant_id,
        "folder_id": folder_id,
        "key": str(uuid.uuid4()),
        "name": name,
        "creation_time": now,
        "last_modification_time": now,
        "creator_user_id": user_id,
    }
    attachment_id = (
        await conn.execute(insert(attachments).values(**values).returning(attachments.c.id))
    ).scalar_one()
    return await by_id(conn, tenant_id, attachment_id)


async def by_id(conn: AsyncConnection, tenant_id: int, attachment_id: int) -> dict[str, Any]:
    query = with_folder_path(attachments).where(
        attachments.c.id == attachment_id, attachments.c.tenant_id == tenant_id
    )
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found(MISSING)
    return dict(row)


async def by_key(conn: AsyncConnection, tenant_id: int, key: str) -> dict[str, Any]:
    """The tenant's attachment with this key (a GUID, any case), with its ``folder_path``; 404 otherwise."""
    query = with_folder_path(attachments).where(
        func.lower(attachments.c.key) == key.strip().lower(), attachments.c.tenant_id == tenant_id
    )
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found(MISSING)
    return dict(row)


async def remove(conn: AsyncConnection, row: dict[str, Any]) -> None:
    """Deletes the attachment's row (its job links go with it); the caller removes the file after commit."""
    await conn.execute(delete(attachments).where(attachments.c.id == row["id"]))


async def job_by_key(conn: AsyncConnection, tenant_id: int, key: str) -> dict[str, Any]:
    query = with_folder_path(jobs).where(
        func.lower(jobs.c.key) == key.strip().lower(), jobs.c.tenant_id == tenant_id
    )
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found("Job does not exist.")
    return dict(row)


async def link_job(
    conn: AsyncConnection, attachment: dict[str, Any], job: dict[str, Any], category: str | None, user_id: int
) -> dict[str, Any]:
    """Links the attachment to the job (again: its category is the new one); the link."""
    existing = (
        (
            await conn.execute(
                select(job_attachments).where(
                    job_attachments.c.attachment_id == attachment["id"], job_attachments.c.job_id == job["id"]
                )
            )
        )
        .mappings()
        .first()
    )
    if existing is not None:
        await conn.execute(
            job_attachments.update().where(job_attachments.c.id == existing["id"]).values(category=category)
        )
        return {**existing, "category": category}
    values = {
        "tenant_id": attachment["tenant_id"],
        "attachment_id": attachment["id"],
        "job_id": job["id"],
        "category": category,
        "creation_time": utcnow(),
        "creator_user_id": user_id,
    }
    link_id = (
        await conn.execute(insert(job_attachments).values(**values).returning(job_attachments.c.id))
    ).scalar_one()
    return {"id": link_id, **values}


async def link_new_jobs(
    conn: AsyncConnection, linked: list[dict[str, Any]], job_ids: list[int], user_id: int
) -> None:
    """Links every job just made (no link yet) to each attachment, in one statement (StartJobs'
    ``Attachments``; up to 100 attachments times the jobs started)."""
    now = utcnow()
    rows = [
        {
            "tenant_id": attachment["tenant_id"],
            "attachment_id": attachment["id"],
            "job_id": job_id,
            "category": None,
            "creation_time": now,
            "creator_user_id": user_id,
        }
        for attachment in linked
        for job_id in job_ids
    ]
    if rows:
        await conn.execute(insert(job_attachments), rows)


async def of_job(conn: AsyncConnection, job_id: int) -> list[dict[str, Any]]:
    """The job's attachments, oldest link first, with each attachment's key and name."""
    query = (
        select(
            job_attachments.c.id,
            job_attachments.c.category,
            job_attachments.c.creation_time,
            attachments.c.key.label("attachment_key"),
            attachments.c.name.label("attachment_name"),
        )
        .join(attachments, attachments.c.id == job_attachments.c.attachment_id)
        .where(job_attachments.c.job_id == job_id)
        .order_by(job_attachments.c.id)
    )
    return [dict(row) for row in (await conn.execute(query)).mappings()]
