"""The abandon sweep: InProgress queue items older than their tenant's ``inProgressMaxNumberOfMinutes``
setting (default ``PODIUM_QUEUE_ABANDON_TIMEOUT``) become Abandoned (and are retried when their queue
allows). Every ``PODIUM_QUEUE_ABANDON_SWEEP`` seconds."""

from __future__ import annotations

import datetime as dt
import logging

from podium.domain import settings, tenancy
from podium.domain.queue_transactions import abandon_stale_items
from podium.http.state import AppState
from podium.services.base import Service

log = logging.getLogger("podium.queues")


async def sweep_abandoned(state: AppState) -> None:
    async with state.db.read() as conn:
        limits = {
            tenant_id: await settings.value(conn, tenant_id, settings.QUEUE_ABANDON_MINUTES)
            for tenant_id in await tenancy.tenant_ids(conn)
        }
    done = []
    for tenant_id, minutes in limits.items():
        done += await abandon_stale_items(state.db, dt.timedelta(minutes=minutes), tenant_id)
    if done:
        log.info("abandoned %d stale queue items", len(done))


SERVICE = Service(
    "queue-abandon",
    sweep_abandoned,
    lambda settings: settings.queue_abandon_sweep_seconds,
    summary=__doc__ or "",
)
