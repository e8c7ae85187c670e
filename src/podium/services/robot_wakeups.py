"""Wake-ups from the other server processes (PostgreSQL only): this process LISTENs on the robots'
channel and hands each notification (delivered by PostgreSQL on commit) to its waiting robots. Every
process runs its own; a lost connection is reopened after the interval (1 s)."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from podium.domain import wakeups
from podium.http.state import AppState
from podium.services.base import Service


def libpq_url(url: str) -> str:
    """A libpq connection URI (for psycopg's LISTEN connection) from a SQLAlchemy database URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(state: AppState) -> None:
    """Delivers notifications until the connection is lost (the runner logs it and reconnects)."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(libpq_url(state.db.url), autocommit=True) as conn:
        await conn.execute(f"LISTEN {wakeups.CHANNEL}")
        async for notice in conn.notifies():
            decoded = wakeups.Wakeup.decode(notice.payload)
            if decoded is not None and decoded[0] != wakeups.ORIGIN:
                state.hub.deliver(decoded[1])


SERVICE = Service(
    "robot-wakeups",
    listen,
    lambda settings: 1.0,
    leased=False,
    immediate=True,
    applies=lambda state: not state.db.is_sqlite,
    summary=__doc__ or "",
)
