"""Revocations: access that ends now, told to every server process so that each forgets what it cached
about it (the principal of a token, a robot token's verified claims).

What ends access: a personal access token revoked; a robot disabled, edited or deleted (its token and
its jobs' tokens); a job ended or given back to Pending (its job token); users, roles or folders
changed (everything); a tenant deactivated or deleted (everything of every tenant: rare). Domain
code calls :func:`note` in the write transaction that makes the change.
As with wakeups (``domain/wakeups.py``), the note rides on the connection (``conn.info``) and the
listeners installed by :func:`install` hand it to this process's caches once the transaction has
committed; on PostgreSQL the same transaction runs ``pg_notify`` on :data:`CHANNEL`, which PostgreSQL
delivers after the commit to the ``LISTEN`` of every server process (``services/robot_wakeups.py``). A
rolled-back transaction revokes nothing. The process that committed hears its own revocations back too:
forgetting twice costs one more check, and needs no notion of which process (or app) sent what.

*After* the commit matters: a cache told before it could load the old rows again in between and keep
them (``domain/after_commit.py``). The caches also refuse to keep what a load overlapping a delivery
read (their ``generation``).

The caches stay correct without the messages as well, only later: principals live for a few seconds
(``auth/principal.py``), and a robot token's robot is checked again every few seconds whenever this
process does not hear the other processes' revocations (SQLite, or a lost ``LISTEN`` connection:
``auth/verified_tokens.py``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from podium.domain import after_commit

CHANNEL = "podium_access"
INFO_KEY = "podium.revocations"  # noted in the open transaction


class Subject(enum.StrEnum):
    """What a revocation names."""

    PAT = "pat"  # a personal access token (its row id)
    ROBOT = "robot"  # a robot: its token and its jobs' tokens
    JOB = "job"  # a job: its job token
    EVERYTHING = "all"  # users, roles or folders: every cached principal
    SETTINGS = "settings"  # a tenant's settings changed (its id): cached values (domain/settings.py)
    TENANT = "tenant"  # a tenant deactivated or deleted (its id): every cached access and setting


@dataclass(frozen=True)
class Revocation:
    subject: Subject
    id: int = 0

    def encode(self) -> str:
        return f"{self.subject.value}:{self.id}"

    @staticmethod
    def decode(payload: str) -> Revocation | None:
        try:
            subject, number = payload.split(":")
            return Revocation(Subject(subject), int(number))
        except ValueError:
            return None


EVERYTHING = Revocation(Subject.EVERYTHING)


def pat(token_id: int) -> Revocation:
    return Revocation(Subject.PAT, token_id)


def robot(robot_id: int) -> Revocation:
    return Revocation(Subject.ROBOT, robot_id)


def job(job_id: int) -> Revocation:
    return Revocation(Subject.JOB, job_id)


def tenant(tenant_id: int) -> Revocation:
    return Revocation(Subject.TENANT, tenant_id)


def settings(tenant_id: int) -> Revocation:
    return Revocation(Subject.SETTINGS, tenant_id)


def broadcast_of(revocation: Revocation) -> after_commit.Broadcast:
    return after_commit.Broadcast(INFO_KEY, CHANNEL, revocation, revocation.encode())


async def note(conn: AsyncConnection, revocation: Revocation) -> None:
    """Notes the revocation on the transaction of ``conn``: every process hears it if it commits."""
    await after_commit.broadcast(conn, [broadcast_of(revocation)])


def install(engine: AsyncEngine, deliver: Callable[[Revocation], None]) -> Callable[[], None]:
    """Delivers the revocations of every committed transaction of ``engine`` in this process, once the
    commit is done; returns the uninstaller."""
    return after_commit.install(engine, INFO_KEY, deliver)
