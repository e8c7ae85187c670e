"""The JobTriggers area: what Suspended jobs wait for (``/odata/JobTriggers``, read only, with
``GetWithWaitEvents(jobId=)``), and the inboxes of jobs waiting for an external payload
(``/api/JobTriggers/DeliverPayload/{inboxId}``, ``GetPayload/{inboxId}``). ``SaveExternalTrigger`` is
how the ``uipath`` runtime registers waits on services Podium does not have (DeepRag, batch
transforms...): they are kept, and a suspension on them is refused (``domain/job_triggers.py``).

The SDK's ``jobs.resume(job_id=…)`` reads ``ItemKey`` of the job's first trigger (``$select=ItemKey``)
and delivers to it, so an inbox's id is answered as ``ItemKey`` too (the swagger's DTO has only
``InboxId``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from podium import inputs
from podium.db import schema_job_triggers
from podium.domain import job_triggers
from podium.domain.enums import JobTriggerStatus, JobTriggerType
from podium.errors import bad_request, not_found
from podium.http.context import RequestContext, request_context
from podium.odata.computed import RowType, query_rows
from podium.odata.declare import choice, integer, key_id, text, when
from podium.odata.model import EntitySet, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, json_response, param, read_json
from podium.odata.serialize import format_datetime

router = APIRouter(tags=["JobTriggers"])
area = Area("JobTriggers", router)

JOB_TRIGGERS = area.add(
    EntitySet(
        name="JobTriggers",
        type_name="JobTriggerDto",
        table=schema_job_triggers.job_triggers,
        scope=Scope.FOLDER,
        permission="Jobs",
        insertable=False,
        updatable=False,
        deletable=False,
        fields=[
            integer("JobId", "job_id"),
            choice("TriggerType", JobTriggerType, "trigger_type"),
            choice("Status", JobTriggerStatus, "status"),
            integer("ItemId", "item_id"),
            when("Timer", "timer"),
            text("TriggerMessage", "trigger_message"),
            text("InboxId", "inbox_id"),
            text("ItemKey", "item_key"),
            key_id(),
        ],
    )
)


@area.operation(
    "JobTriggers",
    "GetWithWaitEvents",
    method="GET",
    summary="What a job waits for, with the waited-for item's name and assignee",
    parameters=("jobId",),
    returns="Collection(JobTriggerWithWaitEventsDto)",
)
async def with_wait_events(ctx: RequestContext, call: ActionCall) -> Response:
    job_id = inputs.entity_id(param(call, "jobId"), "jobId")
    async with ctx.state.db.read() as conn:
        folder_path = await job_triggers.job_folder_path(conn, ctx.tenant_id, job_id)
        ctx.require("Jobs.View", folder_path)
        rows = await job_triggers.with_wait_events(conn, job_id)
    page = query_rows(WAIT_EVENT, [_wait_event(row) for row in rows], call.options)
    name = "Collection(UiPath.Server.Configuration.OData.JobTriggerWithWaitEventsDto)"
    return collection(ctx, name, page.rows, page.count)


WAIT_EVENT = RowType(
    "JobTriggerWithWaitEventsDto",
    [
        integer("Id"),
        integer("JobId"),
        choice("TriggerType", JobTriggerType),
        choice("Status", JobTriggerStatus),
        integer("ItemId"),
        when("Timer"),
        text("TriggerMessage"),
        text("ItemName"),
        integer("AssignedToUserId"),
        text("Name"),
        text("Surname"),
        text("UserName"),
        text("EmailAddress"),
        when("CreationTime"),
        when("ModifiedTime"),
    ],
)
"""What ``_wait_event`` answers, for the OData options of GetWithWaitEvents (``odata/computed.py``)."""


def _time(value: Any) -> str | None:
    return None if value is None else format_datetime(value)


def _wait_event(row: dict[str, Any]) -> dict[str, Any]:
    """A trigger as a JobTriggerWithWaitEventsDto (the waited-for task's assignee, when a task)."""
    return {
        "Id": row["id"],
        "JobId": row["job_id"],
        "TriggerType": JobTriggerType(row["trigger_type"]).name,
        "Status": JobTriggerStatus(row["status"]).name,
        "ItemId": row["item_id"],
        "Timer": _time(row["timer"]),
        "TriggerMessage": row["trigger_message"],
        "ItemName": row["item_name"],
        "AssignedToUserId": row["assigned_to_user_id"],
        "Name": row["assignee_name"],
        "Surname": row["assignee_surname"],
        "UserName": row["assignee_user_name"],
        "EmailAddress": row["assignee_email"],
        "CreationTime": _time(row["creation_time"]),
        "ModifiedTime": _time(row["modified_time"]),
    }


async def _inbox(ctx: RequestContext, conn: Any, inbox_id: str, verb: str) -> dict[str, Any]:
    trigger = await job_triggers.inbox(conn, ctx.tenant_id, inputs.text(inbox_id, "inboxId", max_length=64))
    ctx.require(f"Jobs.{verb}", trigger["folder_path"])
    return trigger


@router.post("/api/JobTriggers/DeliverPayload/{inbox_id}", summary="Delivers a payload to a job's inbox")
async def deliver_payload(inbox_id: str, request: Request) -> Response:
    ctx = await request_context(request)
    body = await read_json(request)
    async with ctx.state.db.write() as conn:
        trigger = await _inbox(ctx, conn, inbox_id, "Edit")
        await job_triggers.deliver_payload(conn, trigger, job_triggers.payload_text(body))
    return Response(status_code=200)


@router.get("/api/JobTriggers/GetPayload/{inbox_id}", summary="The payload delivered to a job's inbox")
async def get_payload(inbox_id: str, request: Request) -> Response:
    ctx = await request_context(request)
    async with ctx.state.db.read() as conn:
        trigger = await _inbox(ctx, conn, inbox_id, "View")
    if trigger["payload"] is None:
        raise not_found("No payload has been delivered to this inbox yet.")
    return Response(trigger["payload"], media_type="application/json")


@router.post("/api/JobTriggers/SaveExternalTrigger", summary="Registers a job's wait on an external service")
async def save_external_trigger(request: Request) -> Response:
    ctx = await request_context(request)
    body = inputs.json_object(await read_json(request), "The body")
    job_id = ctx.principal.job_id
    if job_id is None:
        raise bad_request("Only a job's process saves an external trigger (it needs a job's token).")
    kind = inputs.text(body.get("type"), "type", max_length=64)
    external_id = inputs.text(body.get("externalId"), "externalId", max_length=64)
    async with ctx.state.db.write() as conn:
        folder_path = await job_triggers.job_folder_path(conn, ctx.tenant_id, job_id)
        ctx.require("Jobs.Edit", folder_path)
        trigger_id = await job_triggers.save_external(conn, ctx.tenant_id, job_id, kind, external_id)
    return json_response({"Id": trigger_id})
