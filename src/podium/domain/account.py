"""Who a set of credentials is: a user by name (or email) and password, an external application or a
machine by client id and secret. Issuing the token is the caller's (``podium.api.account``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.auth.passwords import verify_password
from podium.db.engine import Database
from podium.db.schema import external_apps, machines, robots, tenants, users
from podium.db.types import utcnow


@dataclass(frozen=True)
class Identity:
    user_id: int
    tenant_id: int
    kind: str  # the token kind: "user", "app" or "robot"
    robot_id: int | None = None


async def check_user(db: Database, tenant: str, login: str, password: str) -> Identity | None:
    """The user for valid credentials of an active user of an active tenant (its last login time is
    set), or None."""
    if "\x00" in tenant + login + password:  # never valid, and PostgreSQL cannot compare it
        return None
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(users.c.id, users.c.tenant_id, users.c.password_hash)
                .join(tenants, tenants.c.id == users.c.tenant_id)
                .where(
                    func.lower(tenants.c.name) == tenant.lower(),
                    tenants.c.is_active.is_(True),
                    users.c.is_active.is_(True),
                    (func.lower(users.c.user_name) == login.lower())
                    | (func.lower(users.c.email_address) == login.lower()),
                )
            )
        ).first()
    if row is None or not verify_password(row.password_hash, password):
        return None
    async with db.write() as conn:
        await conn.execute(update(users).where(users.c.id == row.id).values(last_login_time=utcnow()))
    return Identity(int(row.id), int(row.tenant_id), "user")


async def check_client(db: Database, client_id: str, secret: str) -> Identity | None:
    """An external application, or the robot of a machine (machine client id/secret), for valid client
    credentials; None otherwise."""
    if "\x00" in client_id:
        return None
    async with db.read() as conn:
        app = (
            (await conn.execute(select(external_apps).where(external_apps.c.client_id == client_id)))
            .mappings()
            .first()
        )
        if app is not None:
            if not verify_password(app["secret_hash"], secret):
                return None
            return Identity(app["user_id"], app["tenant_id"], "app")
        return await _machine_robot(conn, client_id, secret)


async def _machine_robot(conn: AsyncConnection, client_id: str, secret: str) -> Identity | None:
    machine = (
        (await conn.execute(select(machines).where(machines.c.client_id == client_id))).mappings().first()
    )
    if machine is None or not verify_password(machine["client_secret_hash"], secret):
        return None
    robot = (
        await conn.execute(
            select(robots.c.id, robots.c.user_id).where(
                and_(robots.c.machine_id == machine["id"], robots.c.user_id.is_not(None))
            )
        )
    ).first()
    if robot is None:
        return None
    return Identity(robot.user_id, machine["tenant_id"], "robot", robot_id=robot.id)
