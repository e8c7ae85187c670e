"""The Jobs area: the Jobs entity set and its actions (StartJobs, StopJobs, StopJob, RestartJob,
ResumeJob, GetByKey, Export)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from podium import inputs
from podium.api.attachments import input_file_arguments, start_attachments
from podium.db import schema
from podium.domain import attachments, enums, jobs
from podium.errors import bad_request, not_found
from podium.http.context import RequestContext, request_context
from podium.odata import service
from podium.odata.declare import boolean, choice, constant, integer, key_id, text, when
from podium.odata.export import export_csv
from podium.odata.model import Edm, EntitySet, Navigation, Scope
from podium.odata.options import QueryOptions, parse_options
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, entity, param, require_body

router = APIRouter(tags=["Jobs"])
area = Area("Jobs", router)

JOBS = area.add(
    EntitySet(
        name="Jobs",
        type_name="JobDto",
        table=schema.jobs,
        scope=Scope.FOLDER,
        permission="Jobs",
        insertable=False,
        updatable=False,
        deletable=False,
        navigations=[
            Navigation("Robot", "Robots", local="robot_id", type_name="SimpleRobotDto"),
            Navigation("Release", "Releases", local="release_id", type_name="SimpleReleaseDto"),
            Navigation("Machine", "Machines", local="machine_id"),
        ],
        fields=[
            text("Key", "key"),
            when("StartTime", "start_time"),
            when("EndTime", "end_time"),
            choice("State", enums.JobState, "state"),
            choice("JobPriority", enums.JobPriority, "job_priority"),
            integer("SpecificPriorityValue", "specific_priority_value"),
            text("Source", "source"),
            choice("SourceType", enums.JobSourceType, "source_type"),
            text("BatchExecutionKey", "batch_execution_key"),
            text("Info", "info"),
            when("CreationTime", "creation_time"),
            integer("StartingScheduleId", "starting_schedule_id"),
            text("ReleaseName", "release_name"),
            choice("Type", enums.JobType, "type"),
            text("InputArguments", "input_arguments"),
            text("OutputArguments", "output_arguments"),
            text("HostMachineName", "host_machine_name"),
            constant("HasMediaRecorded", False, Edm.BOOLEAN),
            constant("HasVideoRecorded", False, Edm.BOOLEAN),
            text("PersistenceId", "persistence_id"),
            integer("ResumeVersion", "resume_version"),
            when("ResumeTime", "resume_time"),
            boolean("ResumeOnSameContext", "resume_on_same_context"),
            choice("StopStrategy", enums.StopStrategy, "stop_strategy"),
            choice("RuntimeType", enums.RobotType, "runtime_type"),
            boolean("RequiresUserInteraction", "requires_user_interaction"),
            text("EntryPointPath", "entry_point_path"),
            integer("OrganizationUnitId", "folder_id"),
            text("Reference", "reference"),
            text("KillProcessExpression", "kill_process_expression"),
            text("StopProcessExpression", "stop_process_expression"),
            integer("CreatorUserId", "creator_user_id"),
            integer("ReleaseId", "release_id"),
            integer("RobotId", "robot_id"),
            when("LastModificationTime", "last_modification_time"),
            key_id(),
        ],
    )
)


async def _job_rows(
    ctx: RequestContext, conn: AsyncConnection, condition: ColumnElement[bool], verb: str
) -> list[dict[str, Any]]:
    """Jobs of the caller's tenant matching ``condition``, each checked for ``Jobs.<verb>`` in its folder."""
    rows = await jobs.jobs_where(conn, ctx.tenant_id, condition)
    for row in rows:
        ctx.require(f"Jobs.{verb}", row["folder_path"])
    return rows


async def _find_release(
    ctx: RequestContext, conn: AsyncConnection, info: Mapping[str, Any]
) -> Mapping[str, Any]:
    """The release to start, by ReleaseKey or ReleaseName, in the header's folder or any folder where
    the caller may start jobs."""
    folder_id = ctx.folder.id if ctx.folder is not None else None
    candidates = [
        row
        for row in await jobs.releases_named(conn, ctx.tenant_id, info, folder_id)
        if ctx.principal.has("Jobs.Create", row["folder_path"])
        and (ctx.principal.restricted_folder_id in (None, row["folder_id"]))
    ]
    if not candidates:
        raise not_found("The process (release) does not exist or you cannot start it.")
    if len(candidates) > 1:
        raise bad_request("Several folders have a process with this name: name the folder in a header.")
    return candidates[0]


async def _jobs_by_ids(ctx: RequestContext, ids: list[int]) -> list[dict[str, Any]]:
    page = await service.list_entities(
        ctx, JOBS, QueryOptions(top=len(ids) or 1, count=False), [jobs.with_ids(ids)]
    )
    return page.rows


@area.operation(
    "Jobs", "StartJobs", summary="Adds Pending jobs for the robots the strategy selects", returns="Jobs"
)
async def start_jobs(ctx: RequestContext, call: ActionCall) -> Response:
    body = require_body(call)
    info = body.get("startInfo", body.get("StartInfo"))
    if not isinstance(info, dict):
        raise bad_request("startInfo is required.")
    request = jobs.parse_start_info(info)
    if info.get("InputFile") is not None:  # the SDK's way for input past 10,000 characters
        if request.input_arguments is not None and request.input_arguments.strip() not in ("{}", ""):
            raise bad_request("Send InputArguments or InputFile, not both.")
        from_file = await input_file_arguments(ctx, info["InputFile"])
        request = replace(request, input_arguments=from_file)
    linked = await start_attachments(ctx, info.get("Attachments"))
    async with ctx.state.db.write() as conn:
        release = await _find_release(ctx, conn, info)
        ids = await jobs.start_jobs(conn, release, request, ctx.user_id)
        await attachments.link_new_jobs(conn, linked, ids, ctx.user_id)
    rows = await _jobs_by_ids(ctx, ids)
    return collection(ctx, "Jobs", rows)


async def _stop(ctx: RequestContext, ids: list[int], strategy: Any) -> None:
    parsed = jobs.parse_stop_strategy(strategy)
    async with ctx.state.db.write() as conn:
        rows = await _job_rows(ctx, conn, jobs.with_ids(ids), "Edit")
        missing = set(ids) - {row["id"] for row in rows}
        if missing:
            raise not_found(f"Jobs {sorted(missing)} do not exist.")
        for row in rows:
            await jobs.stop_job(conn, row, parsed)


@area.operation("Jobs", "StopJobs", summary="Cancels (SoftStop) or terminates (Kill) the jobs")
async def stop_jobs(ctx: RequestContext, call: ActionCall) -> Response:
    body = require_body(call)
    await _stop(ctx, inputs.id_list(body.get("jobIds"), "jobIds", what="job ids"), body.get("strategy"))
    return Response(status_code=200)  # as documented: 200 OK with no body


@area.operation("Jobs", "StopJob", bound_to_entity=True, summary="Cancels or terminates the job")
async def stop_job(ctx: RequestContext, call: ActionCall) -> Response:
    await _stop(ctx, [inputs.entity_id(call.key, "The job key")], require_body(call).get("strategy"))
    return Response(status_code=200)


@area.operation("Jobs", "RestartJob", summary="Starts a finished job again", returns="JobDto")
async def restart_job(ctx: RequestContext, call: ActionCall) -> Response:
    job_id = inputs.entity_id(require_body(call).get("jobId"), "jobId")
    async with ctx.state.db.write() as conn:
        rows = await _job_rows(ctx, conn, jobs.with_ids([job_id]), "Create")
        if not rows:
            raise not_found("Job does not exist.")
        new_id = await jobs.restart_job(conn, rows[0], ctx.user_id)
    return entity(ctx, "Jobs", await service.get_entity(ctx, JOBS, new_id))


@area.operation("Jobs", "ResumeJob", summary="Resumes a suspended job", returns="JobDto")
async def resume_job(ctx: RequestContext, call: ActionCall) -> Response:
    key = inputs.text(require_body(call).get("jobKey"), "jobKey", max_length=64)
    async with ctx.state.db.write() as conn:
        rows = await _job_rows(ctx, conn, jobs.with_key(key), "Edit")
        if not rows:
            raise not_found("Job does not exist.")
        await jobs.resume_job(conn, rows[0])
    return entity(ctx, "Jobs", await service.get_entity(ctx, JOBS, rows[0]["id"]))


@area.operation(
    "Jobs",
    "GetByKey",
    method="GET",
    summary="Gets a job by its key",
    returns="JobDto",
    parameters=("identifier",),
)
async def get_by_key(ctx: RequestContext, call: ActionCall) -> Response:
    identifier = str(param(call, "identifier"))
    page = await service.list_entities(
        ctx,
        JOBS,
        QueryOptions(select=call.options.select, expand=call.options.expand, top=1, count=False),
        [jobs.with_key(identifier)],
    )
    if not page.rows:
        raise not_found("Job does not exist.")
    return entity(ctx, "Jobs", page.rows[0])


EXPORT_COLUMNS = (
    "Id",
    "Key",
    "ReleaseName",
    "State",
    "Source",
    "StartTime",
    "EndTime",
    "CreationTime",
    "HostMachineName",
    "Info",
    "InputArguments",
    "OutputArguments",
)


@area.operation(
    "Jobs", "Export", summary="Exports the filtered jobs as CSV", returns="ExportModel", audit=None
)
async def export(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    options = parse_options(call.request.query_params)
    return await export_csv(ctx, JOBS, options, EXPORT_COLUMNS, "Jobs")


CSV_FILE: dict[int | str, dict[str, Any]] = {
    200: {"description": "The CSV file", "content": {"text/csv": {"schema": {"type": "string"}}}}
}


@router.get(
    "/api/Exports/{export_id}/Download",
    summary="Downloads a finished export (CSV)",
    response_class=Response,
    responses=CSV_FILE,
)
async def download_export(export_id: int, request: Request) -> Response:
    ctx = await request_context(request)
    if not 0 < export_id < 2**63:
        raise not_found("Export does not exist.")
    async with ctx.state.db.read() as conn:
        found = await jobs.export_file(conn, ctx.tenant_id, export_id)
    if found is None:
        raise not_found("Export does not exist.")
    name, content = found
    return Response(
        content, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
