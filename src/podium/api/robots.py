"""The Robots entity set: robots of the tenant; read with a folder header, the robots of that folder.

A robot created with a folder header joins that folder and gets its user, with the Robot role in its
folders only (``domain/robots.py``, ``domain/robot_identity.py``). (The robot agent and its protocol are
another area: ``api/robot_protocol.py``.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db import schema
from podium.domain import enums, robots
from podium.http.context import RequestContext
from podium.odata.declare import audit, boolean, choice, constant, integer, key_id, text
from podium.odata.model import Edm, EntitySet, Navigation, Scope
from podium.odata.registry import Area

area = Area("Robots")


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
    values.setdefault("machine_name", await robots.machine_name(conn, ctx.tenant_id, machine_id))


async def _settle(
    ctx: RequestContext, conn: AsyncConnection, robot_id: int, values: dict[str, Any], body: Mapping[str, Any]
) -> None:
    robot = {"id": robot_id, "tenant_id": values["tenant_id"], "key": values["key"], "user_id": None}
    await robots.settle_new_robot(conn, robot, ctx.folder.id if ctx.folder is not None else None)


def _robots_of_folder(ctx: RequestContext) -> list[ColumnElement[bool]]:
    return [] if ctx.folder is None else [robots.in_folder(ctx.folder.id)]


ROBOTS = area.add(
    EntitySet(
        name="Robots",
        type_name="RobotDto",
        table=schema.robots,
        scope=Scope.TENANT,
        permission="Robots",
        unique=("name",),
        before_write=_machine_name,
        after_insert=_settle,
        revokes=robots.revoke_tokens,  # disabled or deleted: its tokens are refused at once
        read_filter=_robots_of_folder,
        navigations=[
            Navigation("Machine", "Machines", local="machine_id"),
            Navigation(
                "Environments",
                "Environments",
                local="id",
                many=True,
                link=(schema.environment_robots, "robot_id", "environment_id"),
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
