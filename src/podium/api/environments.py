"""The Environments entity set and its robot-membership operations (AddRobot, RemoveRobot, SetRobots,
GetRobotIdsForEnvironment, GetRobotsForEnvironment); an environment's folder decides the permission."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from podium import inputs
from podium.api.robots import ROBOTS
from podium.db import schema
from podium.domain import enums, environments
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.declare import choice, key_id, text
from podium.odata.model import EntitySet, Navigation, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, param, require_body

area = Area("Environments")

ENVIRONMENTS = area.add(
    EntitySet(
        name="Environments",
        type_name="EnvironmentDto",
        table=schema.environments,
        scope=Scope.FOLDER,
        permission="Environments",
        unique=("name",),
        navigations=[
            Navigation(
                "Robots",
                "Robots",
                local="id",
                many=True,
                link=(schema.environment_robots, "environment_id", "robot_id"),
            )
        ],
        fields=[
            text("Name", "name", required=True, nullable=False, max_length=256),
            text("Description", "description", max_length=500),
            choice("Type", enums.EnvironmentType, "type", nullable=False),
            key_id(),
        ],
    )
)


async def _environment_in_scope(
    ctx: RequestContext, conn: AsyncConnection, key: Any, verb: str = "Edit"
) -> dict[str, Any]:
    """The environment of the caller's tenant, checked for ``Environments.<verb>`` in its folder."""
    environment = await environments.environment(
        conn, ctx.tenant_id, inputs.entity_id(key, "The environment key")
    )
    ctx.require(f"Environments.{verb}", environment["folder_path"])
    return environment


async def _change_robots(
    ctx: RequestContext, key: Any, robot_ids: Callable[[], tuple[list[int], list[int]]]
) -> None:
    """Adds and removes the robots ``robot_ids`` reads from the body (added, removed), once the
    environment is found and the caller may edit it."""
    async with ctx.state.db.write() as conn:
        environment = await _environment_in_scope(ctx, conn, key)
        added, removed = robot_ids()
        await environments.change_robots(
            conn,
            environment["id"],
            await environments.tenant_robot_ids(conn, ctx.tenant_id, added),
            await environments.tenant_robot_ids(conn, ctx.tenant_id, removed),
        )


@area.operation(
    "Environments", "AddRobot", bound_to_entity=True, summary="Associates a robot with the environment"
)
async def add_robot(ctx: RequestContext, call: ActionCall) -> None:
    body = require_body(call)
    await _change_robots(ctx, call.key, lambda: ([inputs.entity_id(body.get("robotId"), "robotId")], []))


@area.operation(
    "Environments", "RemoveRobot", bound_to_entity=True, summary="Dissociates a robot from the environment"
)
async def remove_robot(ctx: RequestContext, call: ActionCall) -> None:
    body = require_body(call)
    await _change_robots(ctx, call.key, lambda: ([], [inputs.entity_id(body.get("robotId"), "robotId")]))


@area.operation(
    "Environments", "SetRobots", bound_to_entity=True, summary="Adds and removes robots of the environment"
)
async def set_robots(ctx: RequestContext, call: ActionCall) -> None:
    body = require_body(call)

    def robot_ids() -> tuple[list[int], list[int]]:
        return (
            inputs.id_list(body.get("addedRobotIds"), "addedRobotIds", allow_empty=True, what="robot ids"),
            inputs.id_list(
                body.get("removedRobotIds"), "removedRobotIds", allow_empty=True, what="robot ids"
            ),
        )

    await _change_robots(ctx, call.key, robot_ids)


@area.operation(
    "Environments",
    "GetRobotIdsForEnvironment",
    method="GET",
    summary="Ids of the environment's robots",
    parameters=("key",),
)
async def robot_ids_for_environment(ctx: RequestContext, call: ActionCall) -> Any:
    async with ctx.state.db.read() as conn:
        environment = await _environment_in_scope(ctx, conn, param(call, "key"), "View")
        ids = await environments.robot_ids(conn, environment["id"])
    return {"@odata.context": f"{ctx.odata_base}/$metadata#Collection(Edm.Int64)", "value": ids}


@area.operation(
    "Environments",
    "GetRobotsForEnvironment",
    method="GET",
    summary="Robots of the environment",
    parameters=("key",),
    returns="Robots",
)
async def robots_for_environment(ctx: RequestContext, call: ActionCall) -> Any:
    async with ctx.state.db.read() as conn:
        environment = await _environment_in_scope(ctx, conn, param(call, "key"), "View")
    page = await service.list_entities(ctx, ROBOTS, call.options, [environments.robots_of(environment["id"])])
    return collection(ctx, "Robots", page.rows, page.count)
