"""The scheduler: fires the time triggers that are due (``domain/schedule_firing.py``). Every process
runs it (not leased): each fire is claimed by one conditional UPDATE, so a due fire creates its jobs
once whichever process gets there first, and a process that dies mid-fire leaves the fire due for the
others. The first round after start makes up the fires missed while no server ran (coalesced, or
skipped when too old: ``Triggers.MissedFireMaxAgeSeconds``).

Between rounds it sleeps until the next due time, at most ``PODIUM_TRIGGERS_MAX_WAIT`` seconds (5),
and wakes at once when a trigger is written in this process (an ``after_commit`` note of
``domain/process_schedules.py``). A trigger written through another process is fired by that process's
scheduler, woken the same way; the bounded sleep is what lets the others take over within a few seconds
when that process dies, and see triggers written straight into the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import weakref

from podium.db.types import utcnow
from podium.domain import after_commit, schedule_firing
from podium.domain.process_schedules import SCHEDULES_CHANGED
from podium.http.state import AppState
from podium.services.base import Service

log = logging.getLogger("podium.triggers")
DEFAULT_MAX_WAIT = 5.0
DEFAULT_CONCURRENCY = 2
DEFAULT_BATCH = schedule_firing.BATCH
_wakers: weakref.WeakKeyDictionary[object, asyncio.Event] = weakref.WeakKeyDictionary()
# the time each process's (write engine's) scheduler last fired at
_last_fire: weakref.WeakKeyDictionary[object, dt.datetime] = weakref.WeakKeyDictionary()


async def fire_due_triggers(state: AppState, now: dt.datetime | None = None) -> int:
    """Fires every trigger due at ``now`` (default: the clock) in batches of up to
    ``PODIUM_TRIGGERS_BATCH`` (500) triggers a transaction (``schedule_firing.fire_batch``: a failed
    launch is recorded on its trigger, the others fire); returns how many fires this process made.

    One fire at a time in its own transaction is a dozen statements; 10,000 triggers due together took
    tens of seconds (``benchmarks/triggers.py``); a batch costs about as many statements whatever its
    size. On PostgreSQL up to ``PODIUM_TRIGGERS_CONCURRENCY`` (2) batches are in flight at once, each
    on its own connection, their claims disjoint (``SKIP LOCKED``): one is in the database while the
    other is in Python (more only interleave on the event loop, and each batch ends later); SQLite has
    one writer, so one batch at a time. The defaults are what fired 10,000 triggers due in one second
    within a second with two servers on the 2-core development machine (``benchmarks/README.md``)."""
    moment = now or utcnow()
    size = batch_size()
    fired = 0

    async def worker() -> None:
        nonlocal fired
        while True:
            try:
                async with state.db.write() as conn:
                    claimed, handled, made = await schedule_firing.fire_batch(conn, moment, size)
            except Exception:  # logged; what is still due is retried at the next round
                log.exception("a batch of triggers could not be fired")
                return
            fired += made
            if claimed < size or not handled:
                return

    workers = 1 if state.db.is_sqlite else concurrency()
    await asyncio.gather(*(worker() for _ in range(workers)))
    if fired:
        log.info("fired %d triggers", fired)
    return fired


def batch_size() -> int:
    raw = os.environ.get("PODIUM_TRIGGERS_BATCH")
    return max(1, int(raw)) if raw else DEFAULT_BATCH


def concurrency() -> int:
    raw = os.environ.get("PODIUM_TRIGGERS_CONCURRENCY")
    return max(1, int(raw)) if raw else DEFAULT_CONCURRENCY


def _waker(state: AppState) -> asyncio.Event:
    """This process's wake-up for the scheduler of ``state``: set after a trigger write commits."""
    engine = state.db.write_engine
    event = _wakers.get(engine)
    if event is None:
        event = _wakers[engine] = asyncio.Event()
        after_commit.install(engine, SCHEDULES_CHANGED, lambda _note: event.set())
    return event


def max_wait() -> float:
    raw = os.environ.get("PODIUM_TRIGGERS_MAX_WAIT")
    return float(raw) if raw else DEFAULT_MAX_WAIT


async def _round(state: AppState) -> None:
    """Sleeps until the next due time (or a write, or the longest wait), then fires what is due: the
    fire follows the timer at once (a round that fired and then slept would leave the fire to the next
    round, one service interval later). The first round fires at once what is due (missed while no
    server ran), and so does a round that finds due a trigger that was not due yet when the last round
    fired; one that was due then and is left (it could not be fired, or it is in another process's
    batch) is retried a second later, not in a loop."""
    wake = _waker(state)
    wake.clear()  # writes from here on end the sleep below; earlier ones are seen by the read
    async with state.db.read() as conn:
        following = await schedule_firing.next_due_time(conn)
    wait = max_wait()
    if following is not None:
        wait = min(wait, max(0.0, (following - utcnow()).total_seconds()))
        previous = _last_fire.get(state.db.write_engine)
        if previous is not None and following <= previous:  # due already when the last round fired
            wait = 1.0
    if wait > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), wait)
    moment = utcnow()
    await fire_due_triggers(state, moment)
    _last_fire[state.db.write_engine] = moment


SERVICE = Service(
    "triggers", _round, lambda settings: 0.01, leased=False, immediate=True, summary=__doc__ or ""
)
