"""Execution media (the Jobs area's ``ExecutionMedia``): the list and single reads (the generic layer,
every OData option), ``DownloadMediaByJobId(jobId=)``, ``DeleteMediaByJobId`` and the robot's upload,
``POST /api/robot/jobs/{key}/media`` (Podium's robot protocol; the catalog has no upload route).

The bytes live in the attachment store; the rules are in ``domain/execution_media.py``. Reading needs
ExecutionMedia.View in the job's folder, deleting ExecutionMedia.Delete; uploading, a robot token of the
robot that ran the job.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from podium import inputs
from podium.api.blob_files import BlockFileResponse, download_headers
from podium.api.robot_protocol import robot_caller
from podium.db import schema_jobs
from podium.domain import execution_media
from podium.errors import ErrorCode, PodiumError
from podium.http.context import RequestContext
from podium.http.state import AppState
from podium.odata.declare import integer, key_id, text
from podium.odata.model import Edm, EntitySet, Field, Navigation, Scope
from podium.odata.registry import ActionCall, Area, Audited
from podium.odata.routes import param, require_body
from podium.storage.base import BlobStore, file_missing
from podium.storage.factory import attachment_store
from podium.storage.local import LocalStore

router = APIRouter(tags=["ExecutionMedia"])
area = Area("ExecutionMedia", router)

EXECUTION_MEDIA = area.add(
    EntitySet(
        name="ExecutionMedia",
        type_name="ExecutionMediaDto",
        table=schema_jobs.execution_media,
        scope=Scope.FOLDER,
        permission="ExecutionMedia",
        insertable=False,
        updatable=False,
        deletable=False,
        lookups=[Navigation("Job", "Jobs", "job_id")],
        fields=[
            text("StorageLocation", "storage_location", read_only=True),
            text("Name", "name", read_only=True),
            integer("JobId", "job_id", read_only=True),
            Field("ReleaseName", Edm.STRING, "release_name", read_only=True, through="Job"),
            key_id(),
        ],
    )
)


def store(state: AppState) -> BlobStore:
    return attachment_store(state.settings)


async def _job(ctx: RequestContext, raw: Any, permission: str) -> dict[str, Any]:
    """The job of id ``raw`` (404 when the tenant has none) if the caller holds ``permission`` in its
    folder (else 403)."""
    job_id = inputs.url_id(raw, "jobId")
    async with ctx.state.db.read() as conn:
        job = await execution_media.job_with_folder(conn, ctx.tenant_id, job_id)
    ctx.require(permission, str(job["folder_path"]))
    return job


@area.operation(
    "ExecutionMedia",
    "DownloadMediaByJobId",
    method="GET",
    parameters=("jobId",),
    summary="The job's (newest) screenshot, as a file",
)
async def download_by_job(ctx: RequestContext, call: ActionCall) -> Response:
    job = await _job(ctx, param(call, "jobId"), "ExecutionMedia.View")
    async with ctx.state.db.read() as conn:
        media = await execution_media.latest_of_job(conn, job["id"])
    blobs = store(ctx.state)
    path, name, media_type = media["storage_location"], media["name"], media["content_type"]
    headers = download_headers(name, media_type)
    if isinstance(blobs, LocalStore):
        if await blobs.head(path) is None:
            raise file_missing(name)
        return BlockFileResponse(blobs.local_file(path), media_type=media_type, headers=headers)
    blob = await blobs.read(path)
    return StreamingResponse(
        blob.chunks, media_type=media_type, headers={"Content-Length": str(blob.info.size), **headers}
    )


@area.operation(
    "ExecutionMedia",
    "DeleteMediaByJobId",
    summary="Deletes the job's execution media",
    audit=Audited(action="Delete"),
)
async def delete_by_job(ctx: RequestContext, call: ActionCall) -> None:
    """Body ExecutionMediaDeleteMediaByJobIdRequest {jobId}; 404 when the job has none."""
    job = await _job(ctx, require_body(call).get("jobId"), "ExecutionMedia.Delete")
    async with ctx.state.db.write() as conn:
        paths = await execution_media.remove_of_job(conn, job["id"])
    blobs = store(ctx.state)
    for path in paths:  # the rows are gone: the files name nothing any more
        await blobs.delete(path)


async def _body(request: Request, limit: int) -> bytes:
    """The whole request body, at most ``limit`` bytes (413 past it)."""
    declared = request.headers.get("content-length")
    too_large = PodiumError("The file is too large.", status=413, code=ErrorCode.PAYLOAD_TOO_LARGE)
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise too_large
    return bytes(data)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


@router.post(
    "/api/robot/jobs/{job_key}/media",
    status_code=201,
    summary="The robot uploads a screenshot of a job it ran (body: the PNG or JPEG bytes; ?name=)",
)
async def upload(job_key: str, request: Request) -> Response:
    caller = await robot_caller(request)
    state: AppState = request.app.state.podium
    name = inputs.text(request.query_params.get("name") or "screenshot", "name", max_length=255)
    if "/" in name or "\\" in name or any(ord(ch) < 32 for ch in name):
        raise PodiumError("name must be a file name.", status=400, code=ErrorCode.VALIDATION)
    async with state.db.read() as conn:
        job = await execution_media.job_of_robot(conn, caller.tenant_id, caller.robot_id, job_key)
    data = await _body(request, state.settings.max_body_bytes)
    content_type = execution_media.image_type(data[:8])
    key = execution_media.new_key()
    path = execution_media.file_path(caller.tenant_id, key)
    blobs = store(state)
    await blobs.write(path, _once(data), content_type=content_type, max_bytes=len(data))
    try:
        async with state.db.write() as conn:
            media_id = await execution_media.add(conn, job, key, name, content_type, len(data))
    except BaseException:
        await blobs.delete(path)
        raise
    return Response(orjson.dumps({"Id": media_id, "JobId": job["id"]}), 201, media_type="application/json")
