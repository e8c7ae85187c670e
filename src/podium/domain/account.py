"""Who a set of credentials is: a user by name (or email) and password, an external application or a
machine by client id and secret. Issuing the token is the caller's (``podium.api.account``).

Lockout, as Orchestrator's: after ``Lockout.attempts`` wrong passwords in a row a user is locked out
for ``Lockout.seconds`` (its right password is refused too), then has as many attempts again; a good
sign-in clears the count. The count and the end of the lockout are rows of ``user_lockouts``, so every
server process sees them; the count goes up in one statement (an upsert), so parallel guesses each
count. Unknown users, inactive ones and users without a password cost as much time as a wrong
password (``verify_password`` checks a hash of the same cost), so timing does not reveal who exists.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.auth.passwords import verify_password
from podium.db.engine import Database
from podium.db.schema import external_apps, machines, robots, tenants, user_lockouts, users
from podium.db.types import utcnow
from podium.domain import settings


@dataclass(frozen=True)
class Identity:
    user_id: int
    tenant_id: int
    kind: str  # the token kind: "user", "app" or "robot"
    robot_id: int | None = None


@dataclass(frozen=True)
class Lockout:
    """After ``attempts`` wrong passwords in a row (0: never) a user is locked out for ``seconds``."""

    attempts: int
    seconds: int


@dataclass(frozen=True)
class LockedOut:
    """The user is locked out for ``seconds_left`` more seconds."""

    seconds_left: int


async def check_user(
    db: Database, tenant: str, login: str, password: str, lockout: Lockout | None = None
) -> Identity | LockedOut | None:
    """The user for valid credentials of an active user of an active tenant (its last login time is
    set, its failed attempts forgotten); LockedOut while it is locked out; None otherwise (a wrong
    password counts, and may lock the user out). The lockout is the tenant's settings' (the lockout
    keys of ``domain/settings.py``) unless ``lockout`` is given."""
    if "\x00" in tenant + login + password:  # never valid, and PostgreSQL cannot compare it
        return None
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(
                    users.c.id,
                    users.c.tenant_id,
                    users.c.password_hash,
                    user_lockouts.c.failed_count,
                    user_lockouts.c.locked_until,
                )
                .join(tenants, tenants.c.id == users.c.tenant_id)
                .outerjoin(user_lockouts, user_lockouts.c.user_id == users.c.id)
                .where(
                    func.lower(tenants.c.name) == tenant.lower(),
                    tenants.c.is_active.is_(True),
                    users.c.is_active.is_(True),
                    (func.lower(users.c.user_name) == login.lower())
                    | (func.lower(users.c.email_address) == login.lower()),
                )
            )
        ).first()
    if row is None:
        verify_password(None, password)  # as long as a wrong password takes
        return None
    now = utcnow()
    if row.locked_until is not None and row.locked_until > now:
        return LockedOut(math.ceil((row.locked_until - now).total_seconds()))
    if not verify_password(row.password_hash, password):
        async with db.write() as conn:
            if lockout is None:
                lockout = Lockout(*await settings.lockout(conn, int(row.tenant_id)))
            if lockout.attempts > 0:
                await record_failure(conn, int(row.id), lockout, now)
        return None
    async with db.write() as conn:
        await conn.execute(update(users).where(users.c.id == row.id).values(last_login_time=now))
        if row.failed_count is not None:
            await conn.execute(delete(user_lockouts).where(user_lockouts.c.user_id == row.id))
    return Identity(int(row.id), int(row.tenant_id), "user")


async def record_failure(conn: AsyncConnection, user_id: int, lockout: Lockout, now: dt.datetime) -> None:
    """One more wrong password in a row; the one that reaches ``lockout.attempts`` locks the user out
    until ``now + lockout.seconds`` and starts the count again."""
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    counted = (
        await conn.execute(
            dialect.insert(user_lockouts)
            .values(user_id=user_id, failed_count=1, last_failure_time=now)
            .on_conflict_do_update(
                index_elements=[user_lockouts.c.user_id],
                set_={"failed_count": user_lockouts.c.failed_count + 1, "last_failure_time": now},
            )
            .returning(user_lockouts.c.failed_count)
        )
    ).scalar_one()
    if lockout.attempts > 0 and counted >= lockout.attempts:
        await conn.execute(
            update(user_lockouts)
            .where(user_lockouts.c.user_id == user_id)
            .values(failed_count=0, locked_until=now + dt.timedelta(seconds=lockout.seconds))
        )


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
    if machine is None:
        verify_password(None, secret)  # an unknown client id takes as long as a wrong secret
        return None
    if not verify_password(machine["client_secret_hash"], secret):
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
