"""Execution media: the screenshots a robot uploads for a job that faulted (Orchestrator's ExecutionMedia).

A medium is a row (``execution_media``: the job, its folder, a name, the type and size) and a file in the
attachment store (``storage/factory.attachment_store``) at ``<tenant id>/execution-media/<key>``, its
``StorageLocation``. The robot holding the job uploads it (``POST /api/robot/jobs/{key}/media``); readers
need ExecutionMedia.View in the job's folder, deleting ExecutionMedia.Delete. Rows go with their job
(ON DELETE CASCADE); whoever deletes rows removes the files after the commit (a file left behind by a
crash names nothing and reaches no one).

Only images are taken (PNG or JPEG, recognised by their first bytes, not by what the robot claims): a
download is served with the type found at upload.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import jobs
from podium.db.schema_jobs import execution_media
from podium.db.types import utcnow
from podium.domain.enums import JobState
from podium.domain.folders import with_folder_path
from podium.errors import bad_request, forbidden, not_found

SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
NO_MEDIA = "The job has no execution media."


def image_type(head: bytes) -> str:
    """The type of an image from its first bytes; 400 unless PNG or JPEG."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    raise bad_request("Execution media must be PNG or JPEG images.")


def file_path(tenant_id: int, key: str) -> str:
    """Where a medium's bytes are in the attachment store."""
    return f"{tenant_id}/execution-media/{key}"


def new_key() -> str:
    return str(uuid.uuid4())


async def job_with_folder(conn: AsyncConnection, tenant_id: int, job_id: int) -> dict[str, Any]:
    """The tenant's job with its ``folder_path``; 404 otherwise."""
    query = with_folder_path(jobs).where(jobs.c.id == job_id, jobs.c.tenant_id == tenant_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found("Job does not exist.")
    return dict(row)


async def job_of_robot(conn: AsyncConnection, tenant_id: int, robot_id: int, job_key: str) -> dict[str, Any]:
    """The job (by key) the robot runs or ran; 404 for an unknown job, 403 for another robot's job, 400 for
    one that has not started."""
    query = select(jobs).where(
        func.lower(jobs.c.key) == job_key.strip().lower(), jobs.c.tenant_id == tenant_id
    )
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found("Job does not exist.")
    if row["robot_id"] != robot_id:
        raise forbidden("The job is not this robot's.")
    if row["state"] == int(JobState.Pending):
        raise bad_request("The job has not started.")
    return dict(row)


async def add(
    conn: AsyncConnection, job: dict[str, Any], key: str, name: str, content_type: str, size: int
) -> int:
    """Records the medium whose file was stored at ``file_path(tenant, key)``; its id."""
    values = {
        "tenant_id": job["tenant_id"],
        "folder_id": job["folder_id"],
        "job_id": job["id"],
        "key": key,
        "name": name,
        "storage_location": file_path(job["tenant_id"], key),
        "content_type": content_type,
        "size": size,
        "creation_time": utcnow(),
    }
    media_id = (
        await conn.execute(insert(execution_media).values(**values).returning(execution_media.c.id))
    ).scalar_one()
    return int(media_id)


async def latest_of_job(conn: AsyncConnection, job_id: int) -> dict[str, Any]:
    """The job's newest medium; 404 when it has none."""
    query = (
        select(execution_media)
        .where(execution_media.c.job_id == job_id)
        .order_by(execution_media.c.id.desc())
        .limit(1)
    )
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found(NO_MEDIA)
    return dict(row)


async def remove_of_job(conn: AsyncConnection, job_id: int) -> list[str]:
    """Deletes the job's media rows; the paths of their files (404 when it has none)."""
    query = select(execution_media.c.storage_location).where(execution_media.c.job_id == job_id)
    paths = [str(row.storage_location) for row in await conn.execute(query)]
    if not paths:
        raise not_found(NO_MEDIA)
    await conn.execute(delete(execution_media).where(execution_media.c.job_id == job_id))
    return paths
