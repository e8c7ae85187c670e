"""Machines, Robots, Environments and Releases: what the Jobs area needs to start jobs.

(The robot agent and its protocol are another area.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from sqlalchemy import ColumnElement, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.api import release_packages, robot_identity
from podium.db.schema import (
    environment_robots,
    environments,
    folder_robots,
    folders,
    machines,
    releases,
    robots,
)
from podium.domain import enums
from podium.errors import bad_request, not_found
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.declare import audit, boolean, choice, constant, integer, key_id, text
from podium.odata.model import Edm, EntitySet, Navigation, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, param, require_body

router = APIRouter()
area = Area("Robots", router)


async def _machine_name(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    machine_id = values.get("machine_id")
    if machine_id is None:
        return
    row = (
        await conn.execute(
            select(machines.c.name).where(machines.c.id == machine_id, machines.c.tenant_id == ctx.tenant_id)
        )
    ).first()
    if row is None:
        raise bad_request(f"Machine {machine_id} does not exist.")
    values.setdefault("machine_name", row.name)


async def _assign_to_folder(
    ctx: RequestContext, conn: AsyncConnection, robot_id: int, values: dict[str, Any], body: Mapping[str, Any]
) -> None:
    if ctx.folder is not None:
        await conn.execute(insert(folder_robots).values(folder_id=ctx.folder.id, robot_id=robot_id))
    await robot_identity.provision_robot_user(
        conn, ctx.tenant_id, robot_id
    )  # its user, Robot role in its folders


def _robots_of_folder(ctx: RequestContext) -> list[ColumnElement[bool]]:
    if ctx.folder is None:
        return []
    members = select(folder_robots.c.robot_id).where(folder_robots.c.folder_id == ctx.folder.id)
    return [robots.c.id.in_(members)]


MACHINES = area.add(
    EntitySet(
        name="Machines",
        type_name="MachineDto",
        table=machines,
        scope=Scope.TENANT,
        permission="Machines",
        unique=("name",),
        after_insert=robot_identity.machine_credentials,  # ClientId/ClientSecret, answered once
        fields=[
            text("LicenseKey", "license_key", read_only=True),
            text("Name", "name", required=True, nullable=False, max_length=256),
            text("Description", "description", max_length=500),
            choice("Type", enums.MachineType, "type", nullable=False),
            choice("Scope", enums.MachineScope, "scope", nullable=False),
            integer("NonProductionSlots", "non_production_slots", nullable=False),
            integer("UnattendedSlots", "unattended_slots", nullable=False),
            constant("HeadlessSlots", 0, Edm.INT64),
            constant("TestAutomationSlots", 0, Edm.INT64),
            text("Key", "key", read_only=True),
            constant("Tags", []),
            constant("ClientSecret", None),
            key_id(),
        ],
    )
)

ROBOTS = area.add(
    EntitySet(
        name="Robots",
        type_name="RobotDto",
        table=robots,
        scope=Scope.TENANT,
        permission="Robots",
        unique=("name",),
        before_write=_machine_name,
        after_insert=_assign_to_folder,
        read_filter=_robots_of_folder,
        navigations=[
            Navigation("Machine", "Machines", local="machine_id"),
            Navigation(
                "Environments",
                "Environments",
                local="id",
                many=True,
                link=(environment_robots, "robot_id", "environment_id"),
            ),
        ],
        fields=[
            text("LicenseKey", "license_key"),
            text("MachineName", "machine_name", max_length=256),
            integer("MachineId", "machine_id"),
            text("Name", "name", required=True, nullable=False, max_length=256),
            text("Username", "username", max_length=256),
            text("ExternalName", "external_name", max_length=256),
            text("Description", "description", max_length=500),
            choice("Type", enums.RobotType, "type", nullable=False),
            choice("HostingType", enums.HostingType, "hosting_type", nullable=False),
            choice("ProvisionType", enums.ProvisionType, "provision_type", nullable=False),
            text("Password", None, write_only=True),
            constant("CredentialStoreId", None, Edm.INT64),
            integer("UserId", "user_id", read_only=True),
            boolean("Enabled", "enabled", nullable=False),
            choice("CredentialType", enums.CredentialType, "credential_type", nullable=False),
            text("RobotEnvironments", "robot_environments", read_only=True),
            constant("ExecutionSettings", None),
            constant("IsExternalLicensed", False, Edm.BOOLEAN),
            boolean("LimitConcurrentExecution", "limit_concurrent_execution", nullable=False),
            *audit(),
            key_id(),
        ],
    )
)


async def _environment_robots_string(conn: AsyncConnection, robot_ids: set[int]) -> None:
    """Keeps each robot's ``RobotEnvironments`` (comma-separated environment names) current: one read
    for all the robots, one batched update."""
    if not robot_ids:
        return
    rows = await conn.execute(
        select(environment_robots.c.robot_id, environments.c.name)
        .join(environment_robots, environment_robots.c.environment_id == environments.c.id)
        .where(environment_robots.c.robot_id.in_(sorted(robot_ids)))
        .order_by(environment_robots.c.robot_id, environments.c.name)
    )
    names: dict[int, list[str]] = {robot_id: [] for robot_id in robot_ids}
    for row in rows:
        names[row.robot_id].append(row.name)
    await conn.execute(
        update(robots).where(robots.c.id == bindparam("robot")).values(robot_environments=bindparam("names")),
        [{"robot": robot_id, "names": ",".join(found)} for robot_id, found in sorted(names.items())],
    )


ENVIRONMENTS = area.add(
    EntitySet(
        name="Environments",
        type_name="EnvironmentDto",
        table=environments,
        scope=Scope.FOLDER,
        permission="Environments",
        unique=("name",),
        navigations=[
            Navigation(
                "Robots",
                "Robots",
                local="id",
                many=True,
                link=(environment_robots, "environment_id", "robot_id"),
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
) -> Mapping[str, Any]:
    """The environment of the caller's tenant, checked for ``Environments.<verb>`` in its folder."""
    if isinstance(key, bool) or not isinstance(key, int):
        raise bad_request("The environment key must be an integer id.")
    row = (
        (
            await conn.execute(
                select(environments, folders.c.fully_qualified_name.label("folder_path"))
                .join(folders, folders.c.id == environments.c.folder_id)
                .where(environments.c.id == key, environments.c.tenant_id == ctx.tenant_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("Environment does not exist.")
    ctx.require(f"Environments.{verb}", row["folder_path"])
    return dict(row)


async def _tenant_robot_ids(ctx: RequestContext, conn: AsyncConnection, ids: list[Any]) -> set[int]:
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise bad_request("Robot ids must be integers.")
    found = {
        r.id
        for r in await conn.execute(
            select(robots.c.id).where(robots.c.id.in_(ids), robots.c.tenant_id == ctx.tenant_id)
        )
    }
    missing = set(ids) - found
    if missing:
        raise bad_request(f"Robots {sorted(missing)} do not exist.")
    return found


async def _set_environment_robots(
    ctx: RequestContext, key: Any, added: list[Any], removed: list[Any]
) -> None:
    async with ctx.state.db.write() as conn:
        environment = await _environment_in_scope(ctx, conn, key)
        add_ids = await _tenant_robot_ids(ctx, conn, added)
        remove_ids = await _tenant_robot_ids(ctx, conn, removed)
        existing = {
            r.robot_id
            for r in await conn.execute(
                select(environment_robots.c.robot_id).where(
                    environment_robots.c.environment_id == environment["id"]
                )
            )
        }
        new = add_ids - existing
        if new:
            await conn.execute(
                insert(environment_robots),
                [{"environment_id": environment["id"], "robot_id": r} for r in new],
            )
        if remove_ids:
            await conn.execute(
                delete(environment_robots).where(
                    environment_robots.c.environment_id == environment["id"],
                    environment_robots.c.robot_id.in_(remove_ids),
                )
            )
        await _environment_robots_string(conn, new | remove_ids)


@area.operation(
    "Environments", "AddRobot", bound_to_entity=True, summary="Associates a robot with the environment"
)
async def add_robot(ctx: RequestContext, call: ActionCall) -> None:
    robot_id = require_body(call).get("robotId")
    await _set_environment_robots(ctx, call.key, [robot_id], [])


@area.operation(
    "Environments", "RemoveRobot", bound_to_entity=True, summary="Dissociates a robot from the environment"
)
async def remove_robot(ctx: RequestContext, call: ActionCall) -> None:
    robot_id = require_body(call).get("robotId")
    await _set_environment_robots(ctx, call.key, [], [robot_id])


@area.operation(
    "Environments", "SetRobots", bound_to_entity=True, summary="Adds and removes robots of the environment"
)
async def set_robots(ctx: RequestContext, call: ActionCall) -> None:
    body = require_body(call)
    added, removed = body.get("addedRobotIds") or [], body.get("removedRobotIds") or []
    if not isinstance(added, list) or not isinstance(removed, list):
        raise bad_request("addedRobotIds and removedRobotIds must be lists of robot ids.")
    await _set_environment_robots(ctx, call.key, added, removed)


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
        ids = [
            r.robot_id
            for r in await conn.execute(
                select(environment_robots.c.robot_id)
                .where(environment_robots.c.environment_id == environment["id"])
                .order_by(environment_robots.c.robot_id)
            )
        ]
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
    key = param(call, "key")
    members = select(environment_robots.c.robot_id).where(environment_robots.c.environment_id == key)
    async with ctx.state.db.read() as conn:
        await _environment_in_scope(ctx, conn, key, "View")
    page = await service.list_entities(ctx, ROBOTS, call.options, [robots.c.id.in_(members)])
    return collection(ctx, "Robots", page.rows, page.count)


async def _release_environment(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    environment_id = values.get("environment_id")
    if environment_id is None:
        return
    folder_id = values.get("folder_id") or (existing or {}).get("folder_id")
    row = (
        await conn.execute(
            select(environments.c.name).where(
                environments.c.id == environment_id, environments.c.folder_id == folder_id
            )
        )
    ).first()
    if row is None:
        raise bad_request(f"Environment {environment_id} does not exist in this folder.")
    values["environment_name"] = row.name


async def _release_before_write(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    await _release_environment(ctx, conn, values, existing, body)
    await release_packages.check_release_package(ctx, conn, values, existing, body)  # package feeds area


RELEASES = area.add(
    EntitySet(
        name="Releases",
        type_name="ReleaseDto",
        table=releases,
        scope=Scope.FOLDER,
        permission="Processes",
        unique=("name",),
        before_write=_release_before_write,
        after_insert=release_packages.record_first_version,
        navigations=[Navigation("Environment", "Environments", local="environment_id")],
        fields=[
            text("Key", "key", read_only=True),
            text("ProcessKey", "process_key", required=True, nullable=False, max_length=256),
            text("ProcessVersion", "process_version", nullable=False, max_length=64),
            boolean("IsLatestVersion", "is_latest_version", nullable=False),
            boolean("IsProcessDeleted", "is_process_deleted", read_only=True),
            text("Description", "description", max_length=500),
            text("Name", "name", required=True, nullable=False, max_length=256),
            integer("EnvironmentId", "environment_id"),
            text("EnvironmentName", "environment_name", read_only=True),
            text("EntryPointPath", "entry_point_path", max_length=512),
            text("InputArguments", "input_arguments", max_length=10_000),
            choice("ProcessType", enums.ProcessType, "process_type", nullable=False),
            boolean("RequiresUserInteraction", "requires_user_interaction", nullable=False),
            boolean("IsAttended", "is_attended", nullable=False),
            choice("JobPriority", enums.JobPriority, "job_priority", nullable=False),
            integer("SpecificPriorityValue", "specific_priority_value"),
            integer("OrganizationUnitId", "folder_id", read_only=True),
            constant("Tags", []),
            *audit(),
            key_id(),
        ],
    )
)


@area.operation(
    "Releases", "ListReleases", method="GET", summary="Lists releases (as the uipath CLI asks)"
)
async def list_releases(ctx: RequestContext, call: ActionCall) -> Any:
    page = await service.list_entities(ctx, RELEASES, call.options)
    return collection(ctx, "Releases", page.rows, page.count)
