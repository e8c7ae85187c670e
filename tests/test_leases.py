"""Leases (``domain/leases.py``): one holder at a time, renewed by its holder, taken over once expired;
on both backends, with concurrent takers. A service's probe (``services/base.py``) keeps an idle round
from taking the lease at all."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from podium.config import Settings
from podium.db.engine import Database
from podium.db.schema_robots import leases
from podium.domain.leases import acquire
from podium.http.state import AppState
from podium.services.base import Service, run_round
from tests.support import SIGNING_KEY

TTL = dt.timedelta(seconds=30)


def take(url: str, holder: str, ttl: dt.timedelta = TTL) -> bool:
    async def go() -> bool:
        db = Database(url)
        try:
            async with db.write() as conn:
                return await acquire(conn, "sweep", holder, ttl)
        finally:
            await db.dispose()

    return asyncio.run(go())


def holder_of(db: Engine) -> tuple[str, dt.datetime] | None:
    with db.connect() as conn:
        row = conn.execute(select(leases.c.holder, leases.c.expires_at)).first()
    return None if row is None else (row.holder, row.expires_at)


def test_the_first_taker_holds_renews_and_others_are_refused(database_url: str, db: Engine) -> None:
    assert take(database_url, "a") is True
    first = holder_of(db)
    assert first is not None and first[0] == "a"
    assert take(database_url, "b") is False
    assert holder_of(db) == first  # the refused taker changed nothing
    assert take(database_url, "a") is True  # renewed by its holder
    renewed = holder_of(db)
    assert renewed is not None and renewed[0] == "a" and renewed[1] >= first[1]


def test_an_expired_lease_is_taken_over(database_url: str, db: Engine) -> None:
    assert take(database_url, "a", dt.timedelta(seconds=-1)) is True  # already expired
    assert take(database_url, "b") is True
    found = holder_of(db)
    assert found is not None and found[0] == "b"
    assert take(database_url, "a") is False


def test_concurrent_takers_get_one_lease(database_url: str) -> None:
    async def go() -> list[bool]:
        db = Database(database_url)

        async def one(holder: str) -> bool:
            async with db.write() as conn:
                return await acquire(conn, "sweep", holder, TTL)

        try:
            return list(await asyncio.gather(*(one(f"h{n}") for n in range(8))))
        finally:
            await db.dispose()

    assert sorted(asyncio.run(go())) == [False] * 7 + [True]


def test_a_round_whose_probe_finds_no_work_takes_no_lease_and_does_not_run(
    database_url: str, db: Engine, tmp_path: Path
) -> None:
    """An idle server writes nothing: the probe's read ends the round before the lease is taken."""
    work: list[str] = []
    ran: list[str] = []

    async def probe(state: AppState) -> bool:
        return bool(work)

    async def run_once(state: AppState) -> None:
        ran.append(work.pop())

    service = Service("probed", run_once, lambda settings: 1.0, probe=probe)

    async def one_round() -> bool:
        state = AppState(
            settings=Settings(data_dir=tmp_path), db=Database(database_url), signing_key=SIGNING_KEY
        )
        try:
            return await run_round(service, state, "a", interval=1.0)
        finally:
            await state.db.dispose()

    assert asyncio.run(one_round()) is True
    assert ran == [] and holder_of(db) is None  # nothing run, no lease row written
    work.append("x")
    assert asyncio.run(one_round()) is True
    assert ran == ["x"]
    with db.connect() as conn:
        assert conn.execute(select(leases.c.name, leases.c.holder)).all() == [("probed", "a")]
