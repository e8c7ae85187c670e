"""Suspended jobs waiting for a time (``WaitUntil``, ``podium.runtime.wait_until``): the triggers whose
time has come fire and their jobs resume. Every second."""

from __future__ import annotations

import logging

from podium.domain import job_triggers
from podium.http.state import AppState
from podium.services.base import Service

log = logging.getLogger("podium.jobs")


async def timers_due(state: AppState) -> bool:
    async with state.db.read() as conn:
        return await job_triggers.timers_due(conn)


async def fire_due_timers(state: AppState) -> None:
    while True:  # a backlog is worked off in batches, each its own transaction
        async with state.db.write() as conn:
            fired = await job_triggers.fire_due_timers(conn)
        if fired:
            log.info("resumed %d jobs whose wait time has come", fired)
        if fired < job_triggers.TIMER_BATCH:
            return


SERVICE = Service(
    "job-timers", fire_due_timers, lambda settings: 1.0, probe=timers_due, summary=__doc__ or ""
)
