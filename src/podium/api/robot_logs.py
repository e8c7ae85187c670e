"""Robot logs: ``POST /api/Logs`` and ``/api/Logs/SubmitLogs`` from robots and job processes, and
``/odata/RobotLogs`` (filters, Export, GetTotalCount). Validating and writing them: ``domain.robot_logs``."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from podium.db.schema_robots import robot_logs
from podium.domain import enums
from podium.domain.robot_enums import LogLevel
from podium.domain.robot_logs import JobFolders, LogSource, RobotSources, job_key, parse_batch, store
from podium.errors import bad_request, forbidden
from podium.http.context import RequestContext, request_context, robot_claims
from podium.http.state import AppState
from podium.odata import service
from podium.odata.declare import choice, integer, key_id, text, when
from podium.odata.export import export_csv
from podium.odata.model import EntitySet, Scope
from podium.odata.options import parse_options
from podium.odata.registry import ActionCall, Area

router = APIRouter(tags=["Logs"])
area = Area("Logs", router)
JOB_FOLDERS = JobFolders()
ROBOT_SOURCES = RobotSources()

ROBOT_LOGS = area.add(
    EntitySet(
        name="RobotLogs",
        type_name="LogDto",
        table=robot_logs,
        scope=Scope.FOLDER,
        permission="Logs",
        insertable=False,
        updatable=False,
        deletable=False,
        fields=[
            choice("Level", LogLevel, "level"),
            text("WindowsIdentity", "windows_identity"),
            text("ProcessName", "process_name"),
            when("TimeStamp", "time_stamp"),
            text("Message", "message"),
            text("JobKey", "job_key"),
            text("RawMessage", "raw_message"),
            text("RobotName", "robot_name"),
            text("HostMachineName", "host_machine_name"),
            integer("MachineId", "machine_id"),
            text("MachineKey", "machine_key", visible_with="Machines.Edit"),  # it connects (api/machines.py)
            choice("RuntimeType", enums.RobotType, "runtime_type"),
            key_id(),
        ],
    )
)


async def _source(request: Request) -> LogSource:
    state: AppState = request.app.state.podium
    claims = await robot_claims(request)  # a robot token, while its robot may act
    if claims is not None and claims.robot_id is not None:
        return await ROBOT_SOURCES.source(state.db, claims.tenant_id, int(claims.robot_id))
    ctx = await request_context(request)
    folder = ctx.folder.fully_qualified_name if ctx.folder else None
    if not (ctx.principal.has("Logs.Create", folder) or ctx.principal.folder_grants("Logs.Create")):
        raise forbidden("You are not authorized! (missing permission Logs.Create)")
    if ctx.principal.job_id is not None:
        source = await ROBOT_SOURCES.source(state.db, ctx.tenant_id, int(ctx.principal.robot_id or 0))
        async with state.db.read() as conn:
            key = await job_key(conn, int(ctx.principal.job_id))
        return LogSource(ctx.tenant_id, source.defaults, key)
    return LogSource(ctx.tenant_id, {})


async def _ingest(request: Request, entries: Any) -> Response:
    source = await _source(request)
    rows = parse_batch(entries, source)
    await store(request.app.state.podium.db, source.tenant_id, rows, JOB_FOLDERS)
    return Response(status_code=204)


async def _json(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise bad_request("The body is not valid JSON.") from None


@router.post("/api/Logs", summary="Inserts a log entry")
async def post_log(request: Request) -> Response:
    return await _ingest(request, [await _json(request)])


@router.post("/api/Logs/SubmitLogs", summary="Inserts a batch of log entries (all or nothing)")
async def submit_logs(request: Request) -> Response:
    return await _ingest(request, await _json(request))


EXPORT_COLUMNS = ("TimeStamp", "Level", "ProcessName", "RobotName", "HostMachineName", "JobKey", "Message")


@area.operation("RobotLogs", "GetTotalCount", method="GET", summary="The number of logs the filter selects")
async def total_count(ctx: RequestContext, call: ActionCall) -> Any:
    options = call.options
    options.top, options.count, options.select = 1, True, ["Id"]
    page = await service.list_entities(ctx, ROBOT_LOGS, options)
    return {"@odata.context": f"{ctx.odata_base}/$metadata#Edm.Int64", "value": page.count}


@area.operation(
    "RobotLogs", "Export", summary="Exports the filtered logs as CSV", returns="ExportModel", audit=None
)
async def export(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    options = parse_options(call.request.query_params)
    return await export_csv(ctx, ROBOT_LOGS, options, EXPORT_COLUMNS, "Logs")
