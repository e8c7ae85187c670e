"""Sessions: the robots' live connections (state, machine, last report), as Orchestrator lists them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select

from podium.api.context import RequestContext
from podium.api.declare import choice, constant, integer, key_id, text, when
from podium.db.schema import folder_robots
from podium.db.schema_robots import robot_sessions
from podium.domain import enums
from podium.domain.robot_enums import Platform
from podium.errors import bad_request
from podium.odata import service
from podium.odata.model import Edm, EntitySet, Navigation, Scope
from podium.odata.registry import ActionCall, registry
from podium.odata.routes import collection, param


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


SESSIONS = registry.add(
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


@registry.operation(
    "Sessions", "GetGlobalSessions", method="GET", summary="All the tenant's sessions", returns="Sessions"
)
async def global_sessions(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Robots.View")
    page = await service.list_entities_unchecked(ctx, SESSIONS, call.options, [])
    return collection(ctx, "Sessions", page.rows, page.count)


@registry.operation(
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
