"""``/api/JobAttachments``: attachments linked to jobs, as the SDK's ``jobs.link_attachment`` (``Post``
``{attachmentId, jobKey, category}``), ``jobs.list_attachments`` (``GetByJobKey?jobKey=``, a bare JSON
list whose items carry ``attachmentId``) and ``jobs.create_attachment`` call them. Linking needs Jobs.Edit
in the job's folder and read access to the attachment; listing Jobs.View."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from podium import inputs
from podium.api.attachments import guid, readable
from podium.api.tasks import call_body, value
from podium.domain import attachments
from podium.http.context import request_context
from podium.odata.registry import Area
from podium.odata.routes import json_response

router = APIRouter(tags=["Jobs"])
area = Area("JobAttachments", router)


def _link_dto(link: dict[str, Any], attachment_key: str, job_key: str, name: str) -> dict[str, Any]:
    return {
        "attachmentId": attachment_key,
        "attachmentName": name,
        "jobKey": job_key,
        "category": link["category"],
        "creationTime": link["creation_time"],
        "id": link["id"],
    }


@router.post("/api/JobAttachments/Post", summary="Links an attachment to a job")
async def link(request: Request) -> Response:
    ctx, body = await call_body(request)
    attachment_key = guid(value(body, "attachmentId"), "attachmentId")
    job_key = guid(value(body, "jobKey"), "jobKey")
    category = inputs.optional_text(value(body, "category"), "category", max_length=128)
    attachment = await readable(ctx, attachment_key)
    async with ctx.state.db.write() as conn:
        job = await attachments.job_by_key(conn, ctx.tenant_id, job_key)
        ctx.require("Jobs.Edit", job["folder_path"])
        row = await attachments.link_job(conn, attachment, job, category, ctx.user_id)
    return json_response(_link_dto(row, attachment["key"], job["key"], attachment["name"]))


@router.get("/api/JobAttachments/GetByJobKey", summary="The attachments of a job (a JSON list)")
async def by_job_key(request: Request) -> Response:
    ctx = await request_context(request)
    job_key = guid(request.query_params.get("jobKey"), "jobKey")
    async with ctx.state.db.read() as conn:
        job = await attachments.job_by_key(conn, ctx.tenant_id, job_key)
        ctx.require("Jobs.View", job["folder_path"])
        links = await attachments.of_job(conn, job["id"])
    return json_response(
        [_link_dto(link, link["attachment_key"], job["key"], link["attachment_name"]) for link in links]
    )
