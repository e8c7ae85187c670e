"""The settings store (domain/settings.py), called directly on both backends: typed keys with their
defaults (the server's environment where Podium had a variable), per-tenant values, all-or-nothing
checks, user values, and the cache forgetting a change at once in the process that made it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from podium.config import Settings
from podium.db.engine import Database
from podium.domain import revocations, settings
from podium.domain.tenancy import create_tenant
from podium.errors import PodiumError

T = TypeVar("T")


def run(url: str, work: Callable[[Database], Awaitable[T]], environment: Settings | None = None) -> T:
    async def main() -> T:
        db = Database(url)
        if environment is not None:
            settings.use_environment(environment, db.engines)
        uninstall = revocations.install(db.write_engine, lambda r: settings.forget(r.id))
        try:
            return await work(db)
        finally:
            uninstall()
            await db.dispose()

    return asyncio.run(main())


async def two_tenants(db: Database) -> tuple[int, int]:
    async with db.write() as conn:
        first = await create_tenant(conn, "One", "password-1")
        second = await create_tenant(conn, "Two", "password-1")
    return first.tenant_id, second.tenant_id


def test_defaults_come_from_the_environment(database_url: str, tmp_path: Path) -> None:
    environment = Settings(data_dir=tmp_path, lockout_attempts=4, lockout_seconds=60)
    environment.queue_abandon_timeout_seconds = 7200

    async def work(db: Database) -> list[Any]:
        one, _ = await two_tenants(db)
        async with db.read() as conn:
            return [
                await settings.value(conn, one, settings.LOCKOUT_ATTEMPTS),
                await settings.value(conn, one, settings.LOCKOUT_SECONDS),
                await settings.value(conn, one, settings.LOCKOUT_ENABLED),
                await settings.value(conn, one, settings.QUEUE_ABANDON_MINUTES),
                await settings.value(conn, one, settings.TIME_ZONE),
                await settings.lockout(conn, one),
            ]

    assert run(database_url, work, environment) == [4, 60, True, 120, "UTC", (4, 60)]


def test_values_are_per_tenant_and_typed(database_url: str) -> None:
    async def work(db: Database) -> list[Any]:
        one, two = await two_tenants(db)
        async with db.write() as conn:
            changes = settings.check_changes(
                [
                    ("abp.zero.usermanagement.userlockout.maxfailedaccessattemptsbeforelockout", " 3 "),
                    (settings.LOCKOUT_ENABLED.name, "TRUE"),
                    (settings.TIME_ZONE.name, "Europe/Berlin"),
                ]
            )
            await settings.update(conn, one, changes, user_id=None)
        async with db.read() as conn:
            return [
                await settings.value(conn, one, settings.LOCKOUT_ATTEMPTS),
                await settings.value(conn, one, settings.LOCKOUT_ENABLED),
                await settings.value(conn, one, settings.TIME_ZONE),
                await settings.value(conn, two, settings.TIME_ZONE),
                await settings.stored(conn, one),
            ]

    attempts, enabled, zone, other_zone, stored = run(database_url, work)
    assert (attempts, enabled, zone, other_zone) == (3, True, "Europe/Berlin", "UTC")
    assert stored == {
        settings.LOCKOUT_ATTEMPTS.name: "3",
        settings.LOCKOUT_ENABLED.name: "true",
        settings.TIME_ZONE.name: "Europe/Berlin",
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ([("No.Such.Key", "1")], "Unknown setting"),
        ([(settings.LOCKOUT_ATTEMPTS.name, "ten")], "must be an integer"),
        ([(settings.LOCKOUT_ATTEMPTS.name, "0")], "from 1 to 1000"),
        ([(settings.LOCKOUT_ATTEMPTS.name, 5)], "must be a string"),
        ([(settings.LOCKOUT_ENABLED.name, "yes")], "true or false"),
        ([(settings.TIME_ZONE.name, "Mars/Olympus")], "not a known time zone"),
        ([(settings.LANGUAGE.name, "xx")], "must be one of"),
        ([(settings.TIME_ZONE.name, "UTC"), (settings.TIME_ZONE.name.upper(), "UTC")], "given twice"),
        ([(settings.TIME_ZONE.name, "Europe/Paris"), ("Unknown", "1")], "Unknown setting"),
    ],
)
def test_bad_changes_are_refused_whole(changes: list[tuple[str, Any]], message: str) -> None:
    with pytest.raises(PodiumError) as refused:
        settings.check_changes(changes)
    assert refused.value.status == 400 and message in refused.value.message


def test_reset_returns_to_the_default_and_refuses_unknown_names(database_url: str) -> None:
    async def work(db: Database) -> list[Any]:
        one, _ = await two_tenants(db)
        async with db.write() as conn:
            await settings.update(conn, one, settings.check_changes([(settings.PASSWORD_LENGTH.name, "12")]))
        with pytest.raises(PodiumError):
            async with db.write() as conn:
                await settings.reset(conn, one, [settings.PASSWORD_LENGTH.name, "Nope"])
        async with db.read() as conn:
            kept = await settings.value(conn, one, settings.PASSWORD_LENGTH)
        async with db.write() as conn:
            await settings.reset(conn, one, [settings.PASSWORD_LENGTH.name])
        async with db.read() as conn:
            return [kept, await settings.value(conn, one, settings.PASSWORD_LENGTH)]

    assert run(database_url, work) == [12, 8]


def test_the_cache_forgets_a_change_at_commit(database_url: str) -> None:
    async def work(db: Database) -> list[Any]:
        one, _ = await two_tenants(db)
        seen = []
        async with db.read() as conn:
            seen.append(await settings.cached_value(conn, one, settings.HEARTBEAT_PERIOD))
        async with db.write() as conn:
            await settings.update(conn, one, settings.check_changes([(settings.HEARTBEAT_PERIOD.name, "7")]))
        async with db.read() as conn:
            seen.append(await settings.cached_value(conn, one, settings.HEARTBEAT_PERIOD))
        return seen

    assert run(database_url, work, Settings(heartbeat_interval_seconds=30)) == [30, 7]


def test_user_values_and_password_policy(database_url: str) -> None:
    async def work(db: Database) -> list[Any]:
        async with db.write() as conn:
            seed = await create_tenant(conn, "One", "password-1")
            one = seed.tenant_id
            await settings.update_user(conn, one, seed.admin_user_id, settings.LANGUAGE.name, "DE")
            with pytest.raises(PodiumError):
                await settings.update_user(conn, one, seed.admin_user_id, settings.TIME_ZONE.name, "UTC")
            changes = [(settings.PASSWORD_LENGTH.name, "10"), (settings.PASSWORD_DIGIT.name, "true")]
            await settings.update(conn, one, settings.check_changes(changes))
            problems = []
            for password in ("short1", "long-enough-but-no-digit", "long-enough-1"):
                try:
                    await settings.check_password(conn, one, password)
                    problems.append("")
                except PodiumError as error:
                    problems.append(error.message)
            return [
                await settings.user_value(conn, one, seed.admin_user_id, settings.LANGUAGE),
                await settings.value(conn, one, settings.LANGUAGE),
                problems,
            ]

    language, tenant_language, problems = run(database_url, work)
    assert (language, tenant_language) == ("de", "en")
    assert "at least 10 characters" in problems[0] and "a digit" in problems[1] and problems[2] == ""
