"""Notes that ride on a write transaction and are delivered in this process once it has committed
(wake-ups for waiting robots, revocations for the access caches).

A note is kept on the connection (``conn.info``, which belongs to the pooled DBAPI connection). The
``commit`` event only marks a transaction's notes committed: SQLAlchemy runs it just *before* the
database commits, and a reader told then could look before the change is visible (a robot finding no
job and waiting out its poll; a cache loading the old rows again). The notes are delivered when the
connection goes back to the pool (``checkin``), by which time the commit has completed. A rollback
drops them.

Notes every server process must hear (wake-ups, revocations) are also sent with ``pg_notify`` on
PostgreSQL, which delivers them to every ``LISTEN`` once the transaction commits: :func:`broadcast`
notes several and sends the new ones in one statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")


def note(conn: AsyncConnection, key: str, item: object) -> bool:
    """Adds ``item`` to the notes ``key`` of the transaction of ``conn``; False if already noted."""
    noted: list[object] = conn.info.setdefault(key, [])
    if item in noted:
        return False
    noted.append(item)
    return True


@dataclass(frozen=True)
class Broadcast:
    """A note (``item`` under ``key``) that the other server processes hear as ``payload`` on ``channel``."""

    key: str
    channel: str
    item: object
    payload: str


async def broadcast(conn: AsyncConnection, notes: Iterable[Broadcast]) -> None:
    """Notes each on the transaction of ``conn``; on PostgreSQL those not noted before are sent with ONE
    ``SELECT pg_notify(…), pg_notify(…)`` (a round trip per note cost a resumed job two)."""
    fresh = [item for item in notes if note(conn, item.key, item.item)]
    if fresh and conn.dialect.name == "postgresql":
        await conn.execute(select(*(func.pg_notify(item.channel, item.payload) for item in fresh)))


def install(engine: AsyncEngine, key: str, deliver: Callable[[Any], None]) -> Callable[[], None]:
    """Delivers the notes ``key`` of every committed transaction of ``engine`` after its commit;
    returns the uninstaller."""
    committed = f"{key}.committed"

    def on_commit(connection: Any) -> None:
        noted = connection.info.pop(key, None)
        if noted:
            connection.info.setdefault(committed, []).extend(noted)

    def on_rollback(connection: Any) -> None:
        connection.info.pop(key, None)

    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        for item in record.info.pop(committed, ()):
            deliver(item)

    sync = engine.sync_engine
    event.listen(sync, "commit", on_commit)
    event.listen(sync, "rollback", on_rollback)
    event.listen(sync.pool, "checkin", on_checkin)

    def uninstall() -> None:
        event.remove(sync, "commit", on_commit)
        event.remove(sync, "rollback", on_rollback)
        event.remove(sync.pool, "checkin", on_checkin)

    return uninstall
