"""Licence use: Podium needs no licence, but dashboards and scripts read Orchestrator's licence answers,
so they get the real use of the tenant.

- **Allowed** per robot type: Unattended = the runtimes (``UnattendedSlots``) of the tenant's machines,
  NonProduction = their ``NonProductionSlots``, any other type = the robots of that type (each robot
  counts as its own licence). A machine's runtimes of a type disabled through ``LicensesRuntime
  ToggleEnabled`` (table ``disabled_runtimes``) are not available, nor are the robots of that type on it;
  those robots get no jobs while the type is disabled on their machine (``domain/dispatch.py``).
- **Used** per robot type: each robot of that type connected now (a session that is not Disconnected)
  counts once, unless it holds units acquired through ``/api/Licensing/Acquire`` for that type: then its
  units count instead (a robot that acquires its own slot is not counted twice). Units acquired by a user
  (no robot) count as they are.

Nothing is ever refused for want of a licence key; ``Acquire`` refuses only what would exceed the
available runtimes, as Orchestrator does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import jobs, machines, robots, tenants, users
from podium.db.schema_licensing import disabled_runtimes, license_units
from podium.db.schema_robots import robot_sessions
from podium.db.types import utcnow
from podium.domain import wakeups
from podium.domain.enums import MachineScope, MachineType, RobotState, RobotType, parse_enum
from podium.domain.robot_sessions import ACTIVE
from podium.errors import bad_request, not_found

UNATTENDED, NON_PRODUCTION = int(RobotType["Unattended"]), int(RobotType["NonProduction"])
SLOT_COLUMNS = {UNATTENDED: machines.c.unattended_slots, NON_PRODUCTION: machines.c.non_production_slots}
LIVE = robot_sessions.c.state != int(RobotState.Disconnected)


def robot_type(value: Any, name: str = "robotType") -> int:
    """A robot type from a request (name or number, a function parameter possibly quoted); 400 otherwise."""
    if isinstance(value, str):
        value = value.strip("'")
    try:
        return int(parse_enum(RobotType, value))
    except ValueError as error:
        raise bad_request(f"{name}: {error}") from None


async def disabled(conn: AsyncConnection, tenant_id: int) -> set[tuple[int, int]]:
    """(machine id, robot type) of every runtime type disabled on a machine of the tenant."""
    rows = await conn.execute(
        select(disabled_runtimes.c.machine_id, disabled_runtimes.c.robot_type).where(
            disabled_runtimes.c.tenant_id == tenant_id
        )
    )
    return {(int(m), int(t)) for m, t in rows}


async def is_disabled(conn: AsyncConnection, machine_id: int | None, type_: int) -> bool:
    """Whether the machine's runtimes of the robot type are out of licensing (ToggleEnabled)."""
    if machine_id is None:
        return False
    found = await conn.execute(
        select(disabled_runtimes.c.id).where(
            disabled_runtimes.c.machine_id == machine_id, disabled_runtimes.c.robot_type == type_
        )
    )
    return found.first() is not None


async def _allowed(conn: AsyncConnection, tenant_id: int) -> dict[int, int]:
    off = await disabled(conn, tenant_id)
    allowed = {UNATTENDED: 0, NON_PRODUCTION: 0}
    rows = await conn.execute(
        select(machines.c.id, machines.c.unattended_slots, machines.c.non_production_slots).where(
            machines.c.tenant_id == tenant_id
        )
    )
    for machine_id, unattended, non_production in rows:
        if (machine_id, UNATTENDED) not in off:
            allowed[UNATTENDED] += int(unattended or 0)
        if (machine_id, NON_PRODUCTION) not in off:
            allowed[NON_PRODUCTION] += int(non_production or 0)
    per_robot = await conn.execute(
        select(robots.c.type, robots.c.machine_id).where(
            robots.c.tenant_id == tenant_id, robots.c.type.not_in((UNATTENDED, NON_PRODUCTION))
        )
    )
    for type_, machine_id in per_robot:
        allowed.setdefault(int(type_), 0)
        if (machine_id, type_) not in off:
            allowed[int(type_)] += 1
    return allowed


async def _held(conn: AsyncConnection, tenant_id: int) -> dict[tuple[int | None, int], int]:
    """Units held per (robot id or None, robot type)."""
    rows = await conn.execute(
        select(license_units.c.robot_id, license_units.c.robot_type, func.sum(license_units.c.count))
        .where(license_units.c.tenant_id == tenant_id)
        .group_by(license_units.c.robot_id, license_units.c.robot_type)
    )
    return {(robot_id, int(type_)): int(total) for robot_id, type_, total in rows}


async def _live_robots(conn: AsyncConnection, tenant_id: int) -> list[tuple[int, int]]:
    """(robot id, robot type) of every robot connected now."""
    rows = await conn.execute(
        select(robots.c.id, robots.c.type)
        .join(robot_sessions, robot_sessions.c.robot_id == robots.c.id)
        .where(robots.c.tenant_id == tenant_id, LIVE)
    )
    return [(int(r), int(t)) for r, t in rows]


def _used(live: Iterable[tuple[int, int]], held: dict[tuple[int | None, int], int]) -> Counter[int]:
    used: Counter[int] = Counter()
    for robot_id, type_ in live:
        if (robot_id, type_) not in held:
            used[type_] += 1
    for (_, type_), units in held.items():
        used[type_] += units
    return used


async def use(conn: AsyncConnection, tenant_id: int) -> tuple[dict[str, int], dict[str, int]]:
    """(Allowed, Used) per robot type name, for the types the tenant has."""
    allowed = await _allowed(conn, tenant_id)
    used = _used(await _live_robots(conn, tenant_id), await _held(conn, tenant_id))
    types = sorted(set(allowed) | set(used))
    return (
        {RobotType(t).name: allowed.get(t, 0) for t in types},
        {RobotType(t).name: used.get(t, 0) for t in types},
    )


def _dto(allowed: dict[str, int], used: dict[str, int], created: Any) -> dict[str, Any]:
    return {
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


async def license_dto(conn: AsyncConnection, tenant_id: int) -> dict[str, Any]:
    """The tenant's LicenseDto: registered, never expiring, with the real use; 404 for no such tenant."""
    created = (await conn.execute(select(tenants.c.creation_time).where(tenants.c.id == tenant_id))).first()
    if created is None:
        raise not_found(f"There is no tenant with id {tenant_id}.")
    allowed, used = await use(conn, tenant_id)
    return {"HostLicenseId": HOST_LICENSE_ID, "Id": tenant_id, **_dto(allowed, used, created[0])}


HOST_LICENSE_ID = 1  # the host's one licence record: the sum of its tenants' use


async def host_license(conn: AsyncConnection) -> dict[str, Any]:
    """HostLicenseDto: every active tenant's use added up, with the number of tenants."""
    rows = (
        await conn.execute(
            select(tenants.c.id, tenants.c.creation_time)
            .where(tenants.c.is_active.is_(True))
            .order_by(tenants.c.id)
        )
    ).all()
    allowed: Counter[str] = Counter()
    used: Counter[str] = Counter()
    for tenant_id, _ in rows:
        tenant_allowed, tenant_used = await use(conn, int(tenant_id))
        allowed.update(tenant_allowed)
        used.update(tenant_used)
        for name in tenant_allowed:  # keep types with nothing used
            used.setdefault(name, 0)
    first = min((created for _, created in rows), default=None)
    return {
        "TenantsCount": len(rows),
        "Id": HOST_LICENSE_ID,
        **_dto(dict(sorted(allowed.items())), dict(sorted(used.items())), first),
    }


# -- LicensesRuntime and LicensesNamedUser --------------------------------------------------------------


async def runtimes(conn: AsyncConnection, tenant_id: int, type_: int) -> list[dict[str, Any]]:
    """LicenseRuntimeDto of every machine with runtimes or robots of the type, by name."""
    off = await disabled(conn, tenant_id)
    robot_counts: dict[int | None, int] = dict(
        (
            await conn.execute(
                select(robots.c.machine_id, func.count())
                .where(robots.c.tenant_id == tenant_id, robots.c.type == type_)
                .group_by(robots.c.machine_id)
            )
        )
        .tuples()
        .all()
    )
    executing: dict[int | None, int] = dict(
        (
            await conn.execute(
                select(robots.c.machine_id, func.count())
                .select_from(jobs.join(robots, robots.c.id == jobs.c.robot_id))
                .where(robots.c.tenant_id == tenant_id, robots.c.type == type_, jobs.c.state.in_(ACTIVE))
                .group_by(robots.c.machine_id)
            )
        )
        .tuples()
        .all()
    )
    online: dict[int, str | None] = {}
    for machine_id, host in await conn.execute(
        select(robot_sessions.c.machine_id, robot_sessions.c.host_machine_name)
        .where(robot_sessions.c.tenant_id == tenant_id, LIVE)
        .order_by(robot_sessions.c.reporting_time)
    ):
        online[machine_id] = host
    slots = SLOT_COLUMNS.get(type_)
    query = select(machines).where(machines.c.tenant_id == tenant_id).order_by(machines.c.name)
    answer = []
    for row in (await conn.execute(query)).mappings():
        robots_count = int(robot_counts.get(row["id"], 0))
        count = int(row[slots.name] or 0) if slots is not None else robots_count
        if count == 0 and robots_count == 0:
            continue
        enabled = (row["id"], type_) not in off
        answer.append(
            {
                "Key": row["key"],
                "MachineId": row["id"],
                "MachineName": row["name"],
                "HostMachineName": online.get(row["id"]),
                "ServiceUserName": None,
                "MachineType": MachineType(row["type"]).name,
                "Runtimes": count,
                "RobotsCount": robots_count,
                "ExecutingCount": int(executing.get(row["id"], 0)),
                "IsOnline": row["id"] in online,
                "IsLicensed": enabled and count > 0,
                "Enabled": enabled,
                "MachineScope": MachineScope(row["scope"]).name,
                "Id": row["id"],
            }
        )
    return answer


async def named_users(conn: AsyncConnection, tenant_id: int, type_: int) -> list[dict[str, Any]]:
    """LicenseNamedUserDto of every user with a robot of the type, by user name: the machines of those
    robots, the ones connected now and the robot connected."""
    rows = await conn.execute(
        select(
            users.c.id,
            users.c.key,
            users.c.user_name,
            users.c.last_login_time,
            robots.c.id.label("robot_id"),
            robots.c.enabled,
            machines.c.name.label("machine_name"),
            robot_sessions.c.state,
        )
        .select_from(
            robots.join(users, users.c.id == robots.c.user_id)
            .outerjoin(machines, machines.c.id == robots.c.machine_id)
            .outerjoin(robot_sessions, robot_sessions.c.robot_id == robots.c.id)
        )
        .where(robots.c.tenant_id == tenant_id, robots.c.type == type_)
        .order_by(users.c.user_name, robots.c.id)
    )
    found: dict[int, dict[str, Any]] = {}
    for row in rows.mappings():
        dto = found.setdefault(
            row["id"],
            {
                "Key": row["key"],
                "UserName": row["user_name"],
                "LastLoginDate": row["last_login_time"],
                "MachinesCount": 0,
                "IsLicensed": False,
                "IsExternalLicensed": False,
                "ActiveRobotId": None,
                "MachineNames": [],
                "ActiveMachineNames": [],
                "Id": row["id"],
            },
        )
        dto["IsLicensed"] = dto["IsLicensed"] or bool(row["enabled"])
        name = row["machine_name"]
        if name is not None and name not in dto["MachineNames"]:
            dto["MachineNames"].append(name)
        if row["state"] is not None and row["state"] != int(RobotState.Disconnected):
            dto["ActiveRobotId"] = dto["ActiveRobotId"] or row["robot_id"]
            if name is not None and name not in dto["ActiveMachineNames"]:
                dto["ActiveMachineNames"].append(name)
    for dto in found.values():
        dto["MachinesCount"] = len(dto["MachineNames"])
    return list(found.values())


async def toggle(conn: AsyncConnection, tenant_id: int, machine_key: str, type_: int, enabled: bool) -> None:
    """Enables or disables a machine's runtimes of the robot type for licensing (enabled again: its robots
    of that type are woken to claim jobs); 404 for no such machine."""
    machine_id = (
        await conn.execute(
            select(machines.c.id).where(machines.c.tenant_id == tenant_id, machines.c.key == machine_key)
        )
    ).scalar()
    if machine_id is None:
        raise not_found(f"There is no machine with key {machine_key}.")
    removed = await conn.execute(
        delete(disabled_runtimes).where(
            disabled_runtimes.c.machine_id == machine_id, disabled_runtimes.c.robot_type == type_
        )
    )
    if enabled and removed.rowcount:  # its robots may take jobs again: wake the ones waiting
        affected = await conn.execute(
            select(robots.c.id).where(robots.c.machine_id == machine_id, robots.c.type == type_)
        )
        for (robot_id,) in affected:
            await wakeups.mark(conn, wakeups.Wakeup(tenant_id, int(robot_id)))
    if not enabled:
        await conn.execute(
            insert(disabled_runtimes).values(tenant_id=tenant_id, machine_id=machine_id, robot_type=type_)
        )


# -- /api/Licensing: units acquired and released --------------------------------------------------------


def result(error: str | None = None, message: str | None = None) -> dict[str, Any]:
    """LicenseResultDto."""
    return {"isSuccess": error is None, "errorCode": error, "errorMessage": message}


async def _lock_tenant(conn: AsyncConnection, tenant_id: int) -> None:
    """Acquires of one tenant one at a time (PostgreSQL; SQLite writes are serialized anyway)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(select(tenants.c.id).where(tenants.c.id == tenant_id).with_for_update())


async def acquire(
    conn: AsyncConnection, tenant_id: int, robot_id: int | None, reference: str, type_: int, count: int
) -> dict[str, Any]:
    """Takes ``count`` units of the robot type under ``reference``, unless that would use more than is
    available (NotEnoughAvailableSlots) or the calling robot's machine has the type disabled
    (RuntimeDisabled)."""
    await _lock_tenant(conn, tenant_id)
    name = RobotType(type_).name
    if robot_id is not None:
        machine_id = (await conn.execute(select(robots.c.machine_id).where(robots.c.id == robot_id))).scalar()
        if await is_disabled(conn, machine_id, type_):
            return result("RuntimeDisabled", f"The {name} runtimes of this robot's machine are disabled.")
    allowed = (await _allowed(conn, tenant_id)).get(type_, 0)
    live = await _live_robots(conn, tenant_id)
    held = await _held(conn, tenant_id)
    already = held.get((robot_id, type_), 0)
    counted_before = already or (1 if robot_id is not None and (robot_id, type_) in live else 0)
    after = _used(live, held)[type_] - counted_before + already + count
    if after > allowed:
        return result(
            "NotEnoughAvailableSlots",
            f"{count} {name} unit(s) asked, {allowed - (after - count)} available of {allowed}.",
        )
    row = (
        await conn.execute(
            select(license_units.c.id).where(
                license_units.c.tenant_id == tenant_id,
                license_units.c.reference == reference,
                license_units.c.robot_type == type_,
            )
        )
    ).scalar()
    if row is None:
        await conn.execute(
            insert(license_units).values(
                tenant_id=tenant_id,
                reference=reference,
                robot_type=type_,
                count=count,
                robot_id=robot_id,
                acquired_time=utcnow(),
            )
        )
    else:
        await conn.execute(
            update(license_units).where(license_units.c.id == row).values(count=license_units.c.count + count)
        )
    return result()


async def release(
    conn: AsyncConnection, tenant_id: int, reference: str, type_: int, count: int
) -> dict[str, Any]:
    """Gives back up to ``count`` units held under ``reference`` (all when fewer are held)."""
    row = (
        await conn.execute(
            select(license_units.c.id, license_units.c.count).where(
                license_units.c.tenant_id == tenant_id,
                license_units.c.reference == reference,
                license_units.c.robot_type == type_,
            )
        )
    ).first()
    if row is None:
        return result("InvalidRequest", f"No {RobotType(type_).name} units are held under {reference!r}.")
    row_id, held = int(row[0]), int(row[1])
    if held <= count:
        await conn.execute(delete(license_units).where(license_units.c.id == row_id))
    else:
        await conn.execute(
            update(license_units).where(license_units.c.id == row_id).values(count=held - count)
        )
    return result()
