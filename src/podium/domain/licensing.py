"""Licence use: Podium needs no licence, but dashboards and scripts read Orchestrator's licence answers,
so they get the real use of the tenant.

- **Allowed** per robot type: Unattended = the runtimes (``UnattendedSlots``) of the tenant's machines,
  NonProduction = their ``NonProductionSlots``, any other type = the robots of that type (each robot
  counts as its own licence).
- **Used** per robot type: robots of that type connected now (a session that is not Disconnected).

Nothing is ever refused for want of a licence.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import machines, robots, tenants
from podium.db.schema_robots import robot_sessions
from podium.domain.enums import RobotState, RobotType

UNATTENDED, NON_PRODUCTION = int(RobotType["Unattended"]), int(RobotType["NonProduction"])


async def use(conn: AsyncConnection, tenant_id: int) -> tuple[dict[str, int], dict[str, int]]:
    """(Allowed, Used) per robot type name, for the types the tenant has."""
    slots = (
        await conn.execute(
            select(
                func.coalesce(func.sum(machines.c.unattended_slots), 0),
                func.coalesce(func.sum(machines.c.non_production_slots), 0),
            ).where(machines.c.tenant_id == tenant_id)
        )
    ).one()
    allowed: dict[str, int] = {
        RobotType(UNATTENDED).name: int(slots[0]),
        RobotType(NON_PRODUCTION).name: int(slots[1]),
    }
    per_type = await conn.execute(
        select(robots.c.type, func.count()).where(robots.c.tenant_id == tenant_id).group_by(robots.c.type)
    )
    for robot_type, count in per_type:
        if robot_type not in (UNATTENDED, NON_PRODUCTION):
            allowed[RobotType(robot_type).name] = int(count)
    used = {name: 0 for name in allowed}
    connected = await conn.execute(
        select(robots.c.type, func.count())
        .join(robot_sessions, robot_sessions.c.robot_id == robots.c.id)
        .where(robots.c.tenant_id == tenant_id, robot_sessions.c.state != int(RobotState.Disconnected))
        .group_by(robots.c.type)
    )
    for robot_type, count in connected:
        used[RobotType(robot_type).name] = int(count)
    return allowed, used


async def license_dto(conn: AsyncConnection, tenant_id: int) -> dict[str, Any]:
    """The tenant's LicenseDto: registered, never expiring, with the real use."""
    allowed, used = await use(conn, tenant_id)
    created = (await conn.execute(select(tenants.c.creation_time).where(tenants.c.id == tenant_id))).scalar()
    return {
        "HostLicenseId": None,
        "Id": tenant_id,
        "ExpireDate": None,
        "GracePeriodEndDate": None,
        "GracePeriod": None,
        "VersionControl": None,
        "Allowed": allowed,
        "Used": used,
        "AttendedConcurrent": False,
        "DevelopmentConcurrent": False,
        "StudioXConcurrent": False,
        "StudioProConcurrent": False,
        "LicensedFeatures": [],
        "IsRegistered": True,
        "IsCommunity": False,
        "IsProOrEnterprise": False,
        "SubscriptionCode": None,
        "SubscriptionPlan": "Podium (no licence needed)",
        "IsExpired": False,
        "CreationTime": created,
        "Code": None,
        "UserLicensingEnabled": False,
    }
