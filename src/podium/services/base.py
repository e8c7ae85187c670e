"""A background service: work a server process repeats at an interval.

Every service is started the same way (:mod:`podium.services.runner`) and has its own settings:
``PODIUM_<NAME>_ENABLED`` (default on) and ``PODIUM_<NAME>_INTERVAL`` (seconds; its default comes from
the service, usually from an older setting such as ``PODIUM_QUEUE_RETENTION_SWEEP``; 0 turns it off).
A *leased* service runs in one server process at a time: before each round the process takes or
renews the lease named after the service (``domain/leases.py``) for one and a half intervals, so the
holder keeps it while it lives and another process takes over after it dies. A service that polls often
has a *probe*, a read that tells whether the round has work: when it finds none the round ends there,
without the lease, so an idle server writes nothing each second (the lease lapses, and whichever process
next finds work takes it). A round that fails is logged and retried at the next interval; it never stops
the loop.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from podium.config import Settings
from podium.domain import leases
from podium.http.state import AppState


@dataclass(frozen=True)
class ServiceSettings:
    enabled: bool
    interval: float  # seconds between rounds


@dataclass(frozen=True)
class Service:
    name: str  # lease, log and settings name: ``queue-retention`` → PODIUM_QUEUE_RETENTION_*
    run_once: Callable[[AppState], Awaitable[None]]
    default_interval: Callable[[Settings], float]
    leased: bool = True  # False: every server process runs it (e.g. its own LISTEN connection)
    immediate: bool = False  # the first round at start rather than after one interval
    applies: Callable[[AppState], bool] = lambda state: True  # e.g. only on PostgreSQL
    probe: Callable[[AppState], Awaitable[bool]] | None = None  # a read: False when there is nothing to do
    summary: str = ""

    @property
    def env_prefix(self) -> str:
        return "PODIUM_" + self.name.upper().replace("-", "_")

    def settings(self, settings: Settings) -> ServiceSettings:
        enabled = os.environ.get(f"{self.env_prefix}_ENABLED", "1").strip().lower() not in {
            "0",
            "false",
            "no",
        }
        raw = os.environ.get(f"{self.env_prefix}_INTERVAL")
        interval = float(raw) if raw else float(self.default_interval(settings))
        return ServiceSettings(enabled=enabled and interval > 0, interval=interval)

    def lease_ttl(self, interval: float) -> dt.timedelta:
        return dt.timedelta(seconds=max(interval * 1.5, interval + 1))


async def run_round(service: Service, state: AppState, holder: str, interval: float) -> bool:
    """One round of ``service`` in this process; False when another process holds its lease."""
    if service.probe is not None and not await service.probe(state):
        return True  # nothing to do: no lease taken, nothing written
    if service.leased:
        async with state.db.write() as conn:
            if not await leases.acquire(conn, service.name, holder, service.lease_ttl(interval)):
                return False
    await service.run_once(state)
    return True
