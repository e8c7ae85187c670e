"""The robots' background work in each server process: the waiters' hub, PostgreSQL LISTEN, and the
sweep (run by one process at a time) that returns jobs whose claim was never acknowledged to Pending,
disconnects silent robots and enforces jobs' time limits."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from sqlalchemy.engine import make_url

from podium.api.services import Services
from podium.domain import job_claims, job_limits, leases, robot_sessions, wakeups
from podium.domain.robot_hub import Hub

log = logging.getLogger("podium.robots")
SWEEP_LEASE = "robot-sweep"


def libpq_url(url: str) -> str:
    """A libpq connection URI (for psycopg's LISTEN connection) from a SQLAlchemy database URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class RobotRuntime:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.hub = Hub()
        self._tasks: list[asyncio.Task[None]] = []
        self._uninstall = wakeups.install(services.db.write_engine, self.hub.deliver)

    @property
    def sweep_seconds(self) -> float:
        settings = self.services.settings
        return max(
            0.5, min(5.0, settings.heartbeat_timeout_seconds / 4, settings.claim_ack_timeout_seconds / 2)
        )

    def start(self) -> None:
        if not self.services.db.is_sqlite:
            self._tasks.append(asyncio.create_task(self._listen(), name="podium-robots-listen"))
        self._tasks.append(asyncio.create_task(self._sweep_forever(), name="podium-robots-sweep"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._uninstall()

    async def _listen(self) -> None:
        """Wake-ups from the other server processes (PostgreSQL delivers NOTIFY on commit)."""
        import psycopg

        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    libpq_url(self.services.db.url), autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {wakeups.CHANNEL}")
                    async for notice in conn.notifies():
                        decoded = wakeups.Wakeup.decode(notice.payload)
                        if decoded is not None and decoded[0] != wakeups.ORIGIN:
                            self.hub.deliver(decoded[1])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("LISTEN connection lost; reconnecting")
                await asyncio.sleep(1)

    async def sweep_once(self) -> None:
        settings = self.services.settings
        async with self.services.db.write() as conn:
            ttl = dt.timedelta(seconds=self.sweep_seconds * 3)
            if not await leases.acquire(conn, SWEEP_LEASE, wakeups.ORIGIN, ttl):
                return
            # claims never acknowledged first: those jobs never started and go back to Pending
            await job_claims.withdraw_expired(conn)
            timeout = dt.timedelta(seconds=settings.heartbeat_timeout_seconds)
            await robot_sessions.disconnect_silent(conn, timeout)
            await job_limits.enforce(conn)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_seconds)
            try:
                await self.sweep_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("robot sweep failed")
