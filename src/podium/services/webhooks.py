"""Webhook delivery (``domain/webhook_events.py``, ``domain/webhook_delivery.py``), two services:

- ``webhook-fanout`` (one process at a time, every ``PODIUM_WEBHOOK_FANOUT_INTERVAL`` s, 1): the outbox
  events not dispatched yet become deliveries, batch after batch until none is left;
- ``webhook-delivery`` (every process, long-running): claims subscribers with deliveries due and sends
  them, up to ``PODIUM_WEBHOOK_CONCURRENCY`` subscribers at once, each in its own task, so a slow one
  holds only itself. It looks for work every ``PODIUM_WEBHOOK_DELIVERY_INTERVAL`` s (0.5), or at once when
  this process's fan-out wrote deliveries;
- ``webhook-retention`` (one process at a time, every ``PODIUM_WEBHOOK_RETENTION_INTERVAL`` s, 3600):
  delivered deliveries and delivery-log rows older than ``PODIUM_WEBHOOK_RETENTION_DAYS`` (7; 0 keeps
  them) are deleted; pending ones are kept whatever their age.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid

from podium.db.types import utcnow
from podium.domain import wakeups, webhook_delivery, webhook_events
from podium.domain.webhook_delivery import DeliveryConfig, Sender
from podium.http.state import AppState
from podium.services.base import Service

log = logging.getLogger("podium.services")
_nudges: dict[int, asyncio.Event] = {}  # per app: the fan-out of this process wrote deliveries


def _nudge(state: AppState) -> asyncio.Event:
    return _nudges.setdefault(id(state), asyncio.Event())


async def events_pending(state: AppState) -> bool:
    async with state.db.read() as conn:
        return await webhook_events.pending(conn)


async def fan_out(state: AppState) -> None:
    """Every pending outbox event fanned out, a batch per transaction."""
    written = 0
    while True:
        async with state.db.write() as conn:
            await webhook_delivery.relaxed(conn)
            taken, count = await webhook_events.fan_out(conn)
        written += count
        if taken < webhook_events.BATCH:
            break
    if written:
        _nudge(state).set()


async def deliver(state: AppState) -> None:
    """Serves subscribers until cancelled (the runner stops it with the process)."""
    config = DeliveryConfig.from_env()
    interval = DELIVERY.settings(state.settings).interval
    sender = Sender(config.timeout)
    nudge = _nudge(state)
    running: dict[int, asyncio.Task[int]] = {}
    holder = f"{wakeups.ORIGIN}-{uuid.uuid4().hex[:6]}"  # this loop (tests run several apps in a process)
    try:
        while True:
            nudge.clear()
            free = config.concurrency - len(running)
            for webhook_id in await webhook_delivery.claim(
                state.db, holder, utcnow(), free, config.claim_ttl
            ):
                task = asyncio.create_task(
                    webhook_delivery.serve(state.db, state.settings, sender, config, holder, webhook_id)
                )
                running[webhook_id] = task
                task.add_done_callback(functools.partial(_done, running, webhook_id))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(nudge.wait(), timeout=interval)
    finally:
        for task in running.values():
            task.cancel()
        await asyncio.gather(*running.values(), return_exceptions=True)
        await sender.close()


async def retain(state: AppState) -> None:
    deleted = await webhook_delivery.sweep(state.db, utcnow(), DeliveryConfig.from_env().retention_days)
    if deleted:
        log.info("webhook retention: %d old deliveries or log rows deleted", deleted)


def _done(running: dict[int, asyncio.Task[int]], key: int, task: asyncio.Task[int]) -> None:
    running.pop(key, None)
    if not task.cancelled() and task.exception() is not None:
        log.error("webhook %s delivery failed", key, exc_info=task.exception())


FANOUT = Service(
    "webhook-fanout",
    fan_out,
    lambda settings: 1.0,
    immediate=True,
    probe=events_pending,
    summary=__doc__ or "",
)
DELIVERY = Service(
    "webhook-delivery",
    deliver,
    lambda settings: 0.5,
    leased=False,
    immediate=True,
    summary=__doc__ or "",
)
RETENTION = Service(
    "webhook-retention",
    retain,
    lambda settings: 3600.0,
    summary=__doc__ or "",
)
