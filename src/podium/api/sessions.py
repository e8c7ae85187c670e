"""Sessions: the robots' live connections (state, machine, last report), as Orchestrator lists them,
and what an administrator does to them (``domain.sessions``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, RowMapping
from starlette.responses import Response

from podium import inputs
from podium.db.schema_robots import robot_sessions
from podium.domain import enums, sessions
from podium.domain.enums import RobotState, StopStrategy
from podium.domain.robot_enums import MaintenanceMode, Platform
from podium.errors import bad_request
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.computed import RowType, query_rows
from podium.odata.declare import boolean, choice, constant, integer, key_id, text, when
from podium.odata.model import Edm, EntitySet, Field, Navigation, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, json_response, param, require_body
from podium.odata.serialize import format_datetime

area = Area("Sessions")


def _header_folder(ctx: RequestContext) -> int | None:
    return None if ctx.folder is None else ctx.folder.id


def _sessions_of_folder(ctx: RequestContext) -> list[ColumnElement[bool]]:
    """With a folder header: the sessions of the folder's robots."""
    return sessions.of_folder(_header_folder(ctx))


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
    key = inputs.entity_id(param(call, "key"), "key")
    ctx.require("Machines.View")
    page = await service.list_entities_unchecked(ctx, SESSIONS, call.options, sessions.of_machine(key))
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


SESSION_RUNTIME = RowType(
    "MachineSessionRuntimeDto",
    [
        integer("SessionId"),
        integer("MachineId"),
        text("MachineName"),
        choice("MaintenanceMode", MaintenanceMode),
        text("HostMachineName"),
        choice("RuntimeType", enums.RobotType),
        choice("MachineType", enums.MachineType),
        choice("MachineScope", enums.MachineScope),
        choice("Status", RobotState),
        boolean("IsUnresponsive"),
        integer("Runtimes"),
        integer("UsedRuntimes"),
        text("ServiceUserName"),
        when("ReportingTime"),
        text("Version"),
        when("DebugModeExpirationDate"),
        choice("Platform", Platform),
        Field("EndpointDetection", Edm.UNTYPED),
        integer("TriggersCount"),
    ],
)
"""What ``runtime_dto`` answers, for the OData options of the lists of runtimes (``odata/computed.py``)."""


@area.operation(
    "Sessions",
    "DeleteInactiveUnattendedSessions",
    summary="Deletes disconnected or unresponsive sessions (all or none)",
)
async def delete_inactive(ctx: RequestContext, call: ActionCall) -> Response:
    ctx.require("Robots.Delete")
    ids = inputs.id_list(require_body(call).get("sessionIds"), "sessionIds", what="session ids")
    async with ctx.state.db.write() as conn:
        await sessions.delete_inactive(
            conn, ctx.tenant_id, ids, ctx.state.settings.heartbeat_interval_seconds
        )
    return Response(status_code=204)


def _maintenance(body: dict[str, Any]) -> tuple[int, MaintenanceMode, StopStrategy | None]:
    session_id = inputs.entity_id(body.get("sessionId"), "sessionId")
    mode = inputs.choice(body.get("maintenanceMode"), "maintenanceMode", MaintenanceMode)
    strategy = body.get("stopJobsStrategy")
    if strategy is None:
        return session_id, mode, None
    return session_id, mode, inputs.choice(strategy, "stopJobsStrategy", StopStrategy)


@area.operation(
    "Sessions",
    "SetMaintenanceMode",
    summary="Takes a host out of dispatch (Enabled) or back in (Default); may stop its running jobs",
)
async def set_maintenance_mode(ctx: RequestContext, call: ActionCall) -> Response:
    ctx.require("Robots.Edit")
    session_id, mode, strategy = _maintenance(require_body(call))
    async with ctx.state.db.write() as conn:
        await sessions.set_maintenance(conn, ctx.tenant_id, session_id, mode, strategy)
    return Response(status_code=204)


@area.operation("Sessions", "GetUsernames", method="GET", summary="Usernames of the robots with a session")
async def usernames(ctx: RequestContext, call: ActionCall) -> Response:
    ctx.require("Robots.View")
    async with ctx.state.db.read() as conn:
        names = await sessions.usernames(conn, ctx.tenant_id, _header_folder(ctx))
    return json_response(
        {"@odata.context": f"{ctx.odata_base}/$metadata#Collection(Edm.String)", "value": names}
    )


async def _runtimes(
    ctx: RequestContext, call: ActionCall, folder_id: int | None = None, robot_id: int | None = None
) -> Response:
    runtime_type = call.request.query_params.get("runtimeType")
    robot_type = int(inputs.choice(runtime_type, "runtimeType", enums.RobotType)) if runtime_type else None
    async with ctx.state.db.read() as conn:
        rows = await sessions.runtimes(
            conn,
            ctx.tenant_id,
            folder_id=folder_id,
            robot_id=robot_id,
            robot_type=robot_type,
        )
    limit = sessions.unresponsive_since(ctx.state.settings.heartbeat_interval_seconds)
    page = query_rows(SESSION_RUNTIME, [runtime_dto(row, limit) for row in rows], call.options)
    name = "Collection(UiPath.Server.Configuration.OData.MachineSessionRuntimeDto)"
    return collection(ctx, name, page.rows, page.count)


@area.operation(
    "Sessions",
    "GetMachineSessionRuntimes",
    method="GET",
    summary="The tenant's sessions as host runtimes (maintenance mode, runtimes in use)",
    returns="MachineSessionRuntimeDto",
)
async def machine_session_runtimes(ctx: RequestContext, call: ActionCall) -> Response:
    ctx.require("Robots.View")
    return await _runtimes(ctx, call)


@area.operation(
    "Sessions",
    "GetMachineSessionRuntimesByFolderId",
    method="GET",
    summary="The sessions of a folder's robots as host runtimes",
    parameters=("folderId",),
    returns="MachineSessionRuntimeDto",
)
async def machine_session_runtimes_of_folder(ctx: RequestContext, call: ActionCall) -> Response:
    folder_id = inputs.entity_id(param(call, "folderId"), "folderId")
    ctx.require("Robots.View")
    robot_id = call.request.query_params.get("robotId")
    if robot_id and not robot_id.isdigit():
        raise bad_request("robotId must be a robot's integer id.")
    return await _runtimes(ctx, call, folder_id, int(robot_id) if robot_id else None)
