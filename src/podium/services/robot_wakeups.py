"""Notifications from the other server processes (PostgreSQL only): this process LISTENs on the robots'
channel and hands each wake-up (delivered by PostgreSQL on commit) to its waiting robots, and on the
access channel and hands each revocation to its caches (``domain/revocations.py``). Every process runs
its own; a lost connection is reopened after the interval (1 s). While the connection is up the
process hears every revocation (its robot tokens need no periodic re-check); when it is (re)opened,
everything cached before is forgotten, since revocations sent meanwhile were missed."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from podium.domain import revocations, wakeups
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
        await conn.execute(f"LISTEN {revocations.CHANNEL}")
        state.hear_revocations(True)
        try:
            async for notice in conn.notifies():
                if notice.channel == revocations.CHANNEL:
                    _revoke(state, notice.payload)
                    continue
                decoded = wakeups.Wakeup.decode(notice.payload)
                if decoded is not None and decoded[0] != wakeups.ORIGIN:
                    state.hub.deliver(decoded[1])
        finally:
            state.hear_revocations(False)


def _revoke(state: AppState, payload: str) -> None:
    revocation = revocations.Revocation.decode(payload)
    if revocation is None:
        state.forget_all_access()  # unreadable: forget everything rather than miss one
    else:
        state.revoke(revocation)


SERVICE = Service(
    "robot-wakeups",
    listen,
    lambda settings: 1.0,
    leased=False,
    immediate=True,
    applies=lambda state: not state.db.is_sqlite,
    summary=__doc__ or "",
)
