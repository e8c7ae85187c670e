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
from podium.domain import audit_logs, settings


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
    db: Database,
    tenant: str,
    login: str,
    password: str,
    lockout: Lockout | None = None,
    via: str = "Authenticate",
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
                    users.c.user_name,
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
        async with db.write() as conn:
            tenant_id = await _tenant_id(conn, tenant)
            if tenant_id is not None:
                await _audit_sign_in(conn, tenant_id, None, login, via, "unknown or inactive user")
        return None
    user = (int(row.tenant_id), int(row.id), str(row.user_name))
    now = utcnow()
    if row.locked_until is not None and row.locked_until > now:
        async with db.write() as conn:
            await _audit_sign_in(conn, *user, via, "locked out")
        return LockedOut(math.ceil((row.locked_until - now).total_seconds()))
    if not verify_password(row.password_hash, password):
        async with db.write() as conn:
            if lockout is None:
                lockout = Lockout(*await settings.lockout(conn, int(row.tenant_id)))
            if lockout.attempts > 0:
                await record_failure(conn, int(row.id), lockout, now)
            await _audit_sign_in(conn, *user, via, "wrong password")
        return None
    async with db.write() as conn:
        await conn.execute(update(users).where(users.c.id == row.id).values(last_login_time=now))
        await conn.execute(update(tenants).where(tenants.c.id == row.tenant_id).values(last_login_time=now))
        if row.failed_count is not None:
            await conn.execute(delete(user_lockouts).where(user_lockouts.c.user_id == row.id))
        await _audit_sign_in(conn, *user, via)
    return Identity(int(row.id), int(row.tenant_id), "user")


async def _tenant_id(conn: AsyncConnection, name: str) -> int | None:
    found = (
        await conn.execute(select(tenants.c.id).where(func.lower(tenants.c.name) == name.lower()))
    ).scalar()
    return None if found is None else int(found)


async def _audit_sign_in(
    conn: AsyncConnection,
    tenant_id: int,
    user_id: int | None,
    name: str,
    via: str,
    failure: str | None = None,
    user_type: str = "User",
) -> None:
    """The audit entry of a sign-in (Users, Start; MethodName SignIn or SignInFailed), in the sign-in's
    own transaction: a refused one leaves its entry too."""
    who = audit_logs.Actor(tenant_id, user_id, name[:256], user_type)
    if failure is None:
        text = f"{user_type} {who.user_name} signed in"
    else:
        text = f"Sign-in refused for {user_type.lower()} {who.user_name}: {failure}"
    entry = audit_logs.Entry(
        actor=who,
        component="Users",
        action="Start",
        service_name="Account",
        method_name="SignIn" if failure is None else "SignInFailed",
        entity_name="user",
        parameters={"via": via, "userName": who.user_name, "succeeded": failure is None, "reason": failure},
        entity_id=user_id,
        display_name=who.user_name,
        text=text,
    )
    await audit_logs.write(conn, entry)


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
    """An external application, or the robot of a machine (machine client id/secret), of an active
    tenant for valid client credentials; None otherwise."""
    if "\x00" in client_id:
        return None
    async with db.read() as conn:
        app = (
            (
                await conn.execute(
                    select(external_apps)
                    .join(tenants, tenants.c.id == external_apps.c.tenant_id)
                    .where(external_apps.c.client_id == client_id, tenants.c.is_active.is_(True))
                )
            )
            .mappings()
            .first()
        )
        if app is not None:
            verified = verify_password(app["secret_hash"], secret)
        else:
            return await _machine_robot(db, conn, client_id, secret)
    failure = None if verified else "wrong client secret"
    async with db.write() as conn:
        await _audit_sign_in(
            conn,
            app["tenant_id"],
            app["user_id"],
            app["name"],
            "connect/token",
            failure,
            "DirectoryExternalApplication",
        )
    return Identity(app["user_id"], app["tenant_id"], "app") if verified else None


async def _machine_robot(db: Database, conn: AsyncConnection, client_id: str, secret: str) -> Identity | None:
    """A machine's robot for its client credentials. A refused one is audited; a robot's sign-ins are
    not (its agent signs in again every token lifetime: robot protocol, as heartbeats)."""
    machine = (
        (
            await conn.execute(
                select(machines)
                .join(tenants, tenants.c.id == machines.c.tenant_id)
                .where(machines.c.client_id == client_id, tenants.c.is_active.is_(True))
            )
        )
        .mappings()
        .first()
    )
    if machine is None:
        verify_password(None, secret)  # an unknown client id takes as long as a wrong secret
        return None
    if not verify_password(machine["client_secret_hash"], secret):
        async with db.write() as own:
            await _audit_sign_in(
                own,
                machine["tenant_id"],
                None,
                machine["name"],
                "connect/token",
                "wrong client secret",
                "Robot",
            )
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
