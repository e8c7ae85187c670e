"""Sessions: the robots' live connections (state, machine, last report), as Orchestrator lists them,
and what an administrator does to them (``domain.session_admin``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, select
from starlette.responses import Response

from podium.db.schema import folder_robots, robots
from podium.db.schema_robots import robot_sessions
from podium.domain import enums, session_admin
from podium.domain.enums import RobotState, StopStrategy, parse_enum
from podium.domain.robot_enums import MaintenanceMode, Platform
from podium.errors import bad_request
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.declare import choice, constant, integer, key_id, text, when
from podium.odata.model import Edm, EntitySet, Navigation, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, json_response, param, require_body
from podium.odata.serialize import format_datetime

area = Area("Sessions")


def _sessions_of_folder(ctx: RequestContext) -> list[ColumnElement[bool]]:
    """With a folder header: the sessions of the folder's robots."""
    if ctx.folder is None:
        return []
    members = select(folder_robots.c.robot_id).where(folder_robots.c.folder_id == ctx.folder.id)
    return [robot_sessions.c.robot_id.in_(members)]


def _fields() -> list[Any]:
    return [
        text("HostMachineName", "host_machine_name", read_only=True),
        integer("MachineId", "machine_id", read_only=True),
        text("MachineName", "machine_name", read_only=True),
        choice("State", enums.RobotState, "state", read_only=True),
        when("ReportingTime", "reporting_time", read_only=True),
        text("Info", "info", read_only=True),
        constant("IsUnresponsive", False, Edm.BOOLEAN),
        constant("RobotSessionType", "LongLived"),
        text("Version", "version", read_only=True),
        choice("Platform", Platform, "platform", read_only=True),
        integer("RobotId", "robot_id", read_only=True),
        key_id(),
    ]


SESSIONS = area.add(
    EntitySet(
        name="Sessions",
        type_name="SessionDto",
        table=robot_sessions,
        scope=Scope.TENANT,
        permission="Robots",
        insertable=False,
        updatable=False,
        deletable=False,
        read_filter=_sessions_of_folder,
        navigations=[Navigation("Robot", "Robots", local="robot_id", type_name="RobotWithLicenseDto")],
        fields=_fields(),
    )
)


@area.operation(
    "Sessions", "GetGlobalSessions", method="GET", summary="All the tenant's sessions", returns="Sessions"
)
async def global_sessions(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Robots.View")
    page = await service.list_entities_unchecked(ctx, SESSIONS, call.options, [])
    return collection(ctx, "Sessions", page.rows, page.count)


@area.operation(
    "Sessions",
    "GetMachineSessions",
    method="GET",
    summary="Sessions of the robots of a machine",
    parameters=("key",),
    returns="Sessions",
)
async def machine_sessions(ctx: RequestContext, call: ActionCall) -> Any:
    key = param(call, "key")
    if isinstance(key, bool) or not isinstance(key, int):
        raise bad_request("key must be the machine's integer id.")
    ctx.require("Machines.View")
    page = await service.list_entities_unchecked(
        ctx, SESSIONS, call.options, [robot_sessions.c.machine_id == key]
    )
    return collection(ctx, "Sessions", page.rows, page.count)


def _name(enum_type: Any, value: Any) -> str | None:
    return None if value is None else str(enum_type(value).name)


def runtime_dto(row: RowMapping, unresponsive_before: dt.datetime) -> dict[str, Any]:
    """A session as a MachineSessionRuntimeDto."""
    state = RobotState(row["state"])
    return {
        "SessionId": row["id"],
        "MachineId": row["machine_id"],
        "MachineName": row["machine_name"],
        "MaintenanceMode": MaintenanceMode(row["maintenance_mode"]).name,
        "HostMachineName": row["host_machine_name"],
        "RuntimeType": _name(enums.RobotType, row["robot_type"]),
        "MachineType": _name(enums.MachineType, row["machine_type"]),
        "MachineScope": _name(enums.MachineScope, row["machine_scope"]),
        "Status": state.name,
        "IsUnresponsive": state is not RobotState.Disconnected
        and row["reporting_time"] < unresponsive_before,
        "Runtimes": row["capacity"],
        "UsedRuntimes": row["used_runtimes"],
        "ServiceUserName": row["robot_username"],
        "ReportingTime": format_datetime(row["reporting_time"]),
        "Version": row["version"],
        "DebugModeExpirationDate": None,
        "Platform": Platform(row["platform"]).name,
        "EndpointDetection": None,
        "TriggersCount": 0,
    }


def _session_ids(value: Any) -> list[int]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise bad_request("sessionIds must be a non-empty list of session ids.")
    return value


@area.operation(
    "Sessions",
    "DeleteInactiveUnattendedSessions",
    summary="Deletes disconnected or unresponsive sessions (all or none)",
)
async def delete_inactive(ctx: RequestContext, call: ActionCall) -> Response:
    ctx.require("Robots.Delete")
    ids = _session_ids(require_body(call).get("sessionIds"))
    async with ctx.state.db.write() as conn:
        await session_admin.delete_inactive(
            conn, ctx.tenant_id, ids, ctx.state.settings.heartbeat_interval_seconds
        )
    return Response(status_code=204)


def _maintenance(body: dict[str, Any]) -> tuple[int, MaintenanceMode, StopStrategy | None]:
    session_id = body.get("sessionId")
    if isinstance(session_id, bool) or not isinstance(session_id, int):
        raise bad_request("sessionId must be the session's integer id.")
    try:
        mode = MaintenanceMode(int(parse_enum(MaintenanceMode, body.get("maintenanceMode"))))
    except ValueError:
        raise bad_request("maintenanceMode must be Default or Enabled.") from None
    strategy = body.get("stopJobsStrategy")
    if strategy is None:
        return session_id, mode, None
    try:
        return session_id, mode, StopStrategy(int(parse_enum(StopStrategy, strategy)))
    except ValueError:
        raise bad_request("stopJobsStrategy must be SoftStop or Kill (or null).") from None


@area.operation(
    "Sessions",
    "SetMaintenanceMode",
    summary="Takes a host out of dispatch (Enabled) or back in (Default); may stop its running jobs",
)
async def set_maintenance_mode(ctx: RequestContext, call: ActionCall) -> Response:
    ctx.require("Robots.Edit")
    session_id, mode, strategy = _maintenance(require_body(call))
    async with ctx.state.db.write() as conn:
        await session_admin.set_maintenance(conn, ctx.tenant_id, session_id, mode, strategy)
    return Response(status_code=204)


@area.operation(
    "Sessions", "GetUsernames", method="GET", summary="Usernames of the robots with a session"
)
async def usernames(ctx: RequestContext, call: ActionCall) -> Response:
    ctx.require("Robots.View")
    query = (
        select(robots.c.username)
        .join(robot_sessions, robot_sessions.c.robot_id == robots.c.id)
        .where(robot_sessions.c.tenant_id == ctx.tenant_id, robots.c.username.is_not(None))
        .where(*_sessions_of_folder(ctx))
        .distinct()
        .order_by(robots.c.username)
    )
    async with ctx.state.db.read() as conn:
        names = [row[0] for row in await conn.execute(query)]
    return json_response(
        {"@odata.context": f"{ctx.odata_base}/$metadata#Collection(Edm.String)", "value": names}
    )


async def _runtimes(ctx: RequestContext, call: ActionCall, conditions: list[ColumnElement[bool]]) -> Response:
    runtime_type = call.request.query_params.get("runtimeType")
    if runtime_type:
        try:
            conditions = [*conditions, robots.c.type == int(parse_enum(enums.RobotType, runtime_type))]
        except ValueError as error:
            raise bad_request(f"runtimeType: {error}") from None
    skip, top = call.options.skip or 0, call.options.top
    async with ctx.state.db.read() as conn:
        rows = await session_admin.runtimes(conn, ctx.tenant_id, conditions, skip, top)
    limit = session_admin.unresponsive_since(ctx.state.settings.heartbeat_interval_seconds)
    dtos = [runtime_dto(row, limit) for row in rows]
    return collection(ctx, "Collection(UiPath.Server.Configuration.OData.MachineSessionRuntimeDto)", dtos)


@area.operation(
    "Sessions",
    "GetMachineSessionRuntimes",
    method="GET",
    summary="The tenant's sessions as host runtimes (maintenance mode, runtimes in use)",
    returns="MachineSessionRuntimeDto",
)
async def machine_session_runtimes(ctx: RequestContext, call: ActionCall) -> Response:
    ctx.require("Robots.View")
    return await _runtimes(ctx, call, [])


@area.operation(
    "Sessions",
    "GetMachineSessionRuntimesByFolderId",
    method="GET",
    summary="The sessions of a folder's robots as host runtimes",
    parameters=("folderId",),
    returns="MachineSessionRuntimeDto",
)
async def machine_session_runtimes_of_folder(ctx: RequestContext, call: ActionCall) -> Response:
    folder_id = param(call, "folderId")
    if isinstance(folder_id, bool) or not isinstance(folder_id, int):
        raise bad_request("folderId must be the folder's integer id.")
    ctx.require("Robots.View")
    members = select(folder_robots.c.robot_id).where(folder_robots.c.folder_id == folder_id)
    conditions: list[ColumnElement[bool]] = [robot_sessions.c.robot_id.in_(members)]
    robot_id = call.request.query_params.get("robotId")
    if robot_id:
        if not robot_id.isdigit():
            raise bad_request("robotId must be a robot's integer id.")
        conditions.append(robot_sessions.c.robot_id == int(robot_id))
    return await _runtimes(ctx, call, conditions)
