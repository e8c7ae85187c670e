"""Wake-ups for robots waiting on ``/api/robot/jobs/next``: noted in a transaction, sent after it commits.

Domain code calls :func:`mark` in the write transaction that creates Pending jobs or asks a robot to
stop one. The note rides on the connection (``conn.info``); once the transaction has committed, the
listeners installed by :func:`install` hand it to this process's waiters (``domain/after_commit.py``).
On PostgreSQL the same transaction also runs ``pg_notify``, which PostgreSQL delivers to every server
process's ``LISTEN`` only on commit, so robots long-polling on other processes wake too. A rolled-back
transaction wakes nobody.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from podium.domain import after_commit

CHANNEL = "podium_robots"
INFO_KEY = "podium.wakeups"
ORIGIN = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"  # this process: its own notifications are skipped


@dataclass(frozen=True)
class Wakeup:
    """Robot ``robot_id`` has news (a job, a stop), or ``count`` jobs any robot of the tenant may take."""

    tenant_id: int
    robot_id: int | None = None
    count: int = 0

    def encode(self) -> str:
        return f"{ORIGIN}:{self.tenant_id}:{self.robot_id or 0}:{self.count}"

    @staticmethod
    def decode(payload: str) -> tuple[str, Wakeup] | None:
        try:
            origin, tenant, robot, count = payload.rsplit(":", 3)
            return origin, Wakeup(int(tenant), int(robot) or None, int(count))
        except ValueError:
            return None


def broadcast_of(wakeup: Wakeup) -> after_commit.Broadcast:
    return after_commit.Broadcast(INFO_KEY, CHANNEL, wakeup, wakeup.encode())


async def mark(conn: AsyncConnection, wakeup: Wakeup) -> None:
    """Notes the wake-up on the transaction of ``conn`` (sent only if it commits)."""
    await after_commit.broadcast(conn, [broadcast_of(wakeup)])


def install(engine: AsyncEngine, deliver: Callable[[Wakeup], None]) -> Callable[[], None]:
    """Delivers the wake-ups of every committed transaction of ``engine`` once it has committed (a
    robot woken before could look too early, find nothing and wait out its poll); returns the
    uninstaller."""
    return after_commit.install(engine, INFO_KEY, deliver)


def announcements(tenant_id: int, robot_ids: list[int | None]) -> list[after_commit.Broadcast]:
    """The wake-ups for new Pending jobs: each named robot, and as many free robots as there are
    unassigned jobs."""
    found = [Wakeup(tenant_id, robot_id) for robot_id in sorted({r for r in robot_ids if r is not None})]
    unassigned = sum(1 for r in robot_ids if r is None)
    if unassigned:
        found.append(Wakeup(tenant_id, None, unassigned))
    return [broadcast_of(wakeup) for wakeup in found]


async def announce_jobs(conn: AsyncConnection, tenant_id: int, robot_ids: list[int | None]) -> None:
    """New Pending jobs: wakes each named robot, and as many free robots as there are unassigned jobs."""
    await after_commit.broadcast(conn, announcements(tenant_id, robot_ids))
