"""The retention sweep: every queue's finished items older than its retention period are deleted or
archived (``domain/queue_retention.py``). Every ``PODIUM_QUEUE_RETENTION_SWEEP`` seconds (1 h)."""

from __future__ import annotations

import logging

from podium.domain import queue_retention
from podium.domain.queue_items import item_dto
from podium.http.state import AppState
from podium.services.base import Service

log = logging.getLogger("podium.queues")


async def sweep_retention(state: AppState) -> None:
    report = await queue_retention.apply_retention(state.db, state.settings.data_dir, item_dto)
    if report.deleted:
        log.info(
            "queue retention: %d items deleted, %d archived",
            sum(report.deleted.values()),
            sum(report.archived.values()),
        )


SERVICE = Service(
    "queue-retention",
    sweep_retention,
    lambda settings: settings.queue_retention_sweep_seconds,
    summary=__doc__ or "",
)
