"""The scheduler: fires the time triggers that are due (``domain/schedule_firing.py``). Every process
runs it (not leased): each fire is claimed by one conditional UPDATE, so a due fire creates its jobs
once whichever process gets there first, and a process that dies mid-fire leaves the fire due for the
others. Every ``PODIUM_TRIGGERS_INTERVAL`` seconds (1): the round is one indexed read when nothing is
due. The first round after start makes up the fires missed while no server ran (coalesced, or skipped
when too old: ``Triggers.MissedFireMaxAgeSeconds``)."""

from __future__ import annotations

import datetime as dt
import logging

from podium.db.types import utcnow
from podium.domain import schedule_firing
from podium.http.state import AppState
from podium.services.base import Service

log = logging.getLogger("podium.triggers")


async def fire_due_triggers(state: AppState, now: dt.datetime | None = None) -> int:
    """Fires every trigger due at ``now`` (default: the clock), each in its own transaction (a failed
    launch is recorded on its trigger, the others go on); returns how many fires this process made."""
    moment = now or utcnow()
    fired = 0
    while True:
        async with state.db.read() as conn:
            due = await schedule_firing.due(conn, moment)
        handled = 0
        for schedule_id, read in due:
            try:
                async with state.db.write() as conn:
                    launched = await schedule_firing.fire_due(conn, schedule_id, read, moment)
            except Exception:  # one trigger's trouble must not hold up the others: logged, retried
                log.exception("trigger %s could not be fired", schedule_id)
                continue
            handled += 1
            if launched is not None and launched.job_ids:
                fired += 1
        if len(due) < schedule_firing.BATCH or not handled:
            break
    if fired:
        log.info("fired %d triggers", fired)
    return fired


async def _round(state: AppState) -> None:
    await fire_due_triggers(state)


SERVICE = Service(
    "triggers", _round, lambda settings: 1.0, leased=False, immediate=True, summary=__doc__ or ""
)
