"""The periodic re-check of queue triggers (``domain/queue_triggers.py``): items added, jobs ended and
Activate already evaluate a queue trigger at once; this round catches what they cannot see (deferred
items whose time came, retried items, a job that ended without a transition). Every
``PODIUM_QUEUE_TRIGGERS_INTERVAL`` seconds (30; Orchestrator's 30 minutes is a known complaint); one
server process at a time."""

from __future__ import annotations

from podium.domain import queue_triggers
from podium.http.state import AppState
from podium.services.base import Service

DEFAULT_INTERVAL = 30.0


async def recheck(state: AppState) -> None:
    async with state.db.read() as conn:
        ids = await queue_triggers.queue_trigger_ids(conn)
    for schedule_id in ids:
        async with state.db.write() as conn:
            await queue_triggers.evaluate(conn, schedule_id)


SERVICE = Service("queue-triggers", recheck, lambda settings: DEFAULT_INTERVAL, summary=__doc__ or "")
