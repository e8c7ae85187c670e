"""The abandon sweep: InProgress queue items older than ``PODIUM_QUEUE_ABANDON_TIMEOUT`` become
Abandoned (and are retried when their queue allows). Every ``PODIUM_QUEUE_ABANDON_SWEEP`` seconds."""

from __future__ import annotations

import datetime as dt
import logging

from podium.domain.queue_transactions import abandon_stale_items
from podium.http.state import AppState
from podium.services.base import Service

log = logging.getLogger("podium.queues")


async def sweep_abandoned(state: AppState) -> None:
    timeout = dt.timedelta(seconds=state.settings.queue_abandon_timeout_seconds)
    done = await abandon_stale_items(state.db, timeout)
    if done:
        log.info("abandoned %d stale queue items", len(done))


SERVICE = Service(
    "queue-abandon",
    sweep_abandoned,
    lambda settings: settings.queue_abandon_sweep_seconds,
    summary=__doc__ or "",
)
