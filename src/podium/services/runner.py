"""Starts and stops every background service of a server process, all the same way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from podium.domain import wakeups
from podium.http.state import AppState
from podium.services.base import Service, run_round

log = logging.getLogger("podium.services")

STOP_TIMEOUT = 10.0
"""Seconds a server's shutdown waits for its cancelled services; one still running is named in the log
and left behind (a round blocked outside the event loop must not hold the process forever)."""


class ServiceRunner:
    """One asyncio task per enabled service: sleep an interval, run a (leased) round, repeat."""

    def __init__(self, state: AppState, services: Sequence[Service], holder: str = wakeups.ORIGIN) -> None:
        self.state = state
        self.services = list(services)
        self.holder = holder
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for service in self.services:
            config = service.settings(self.state.settings)
            if config.enabled and service.applies(self.state):
                loop = self._loop(service, config.interval)
                self._tasks.append(asyncio.create_task(loop, name=f"podium-{service.name}"))

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, running = await asyncio.wait(self._tasks, timeout=timeout)
            for task in running:
                log.error("%s did not stop within %g s of its cancellation", task.get_name(), timeout)
            for task in self._tasks:
                if task.done():
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        task.result()
        self._tasks.clear()

    async def run_now(self, name: str) -> bool:
        """One round of the named service, now (tests and ``podium admin``)."""
        service = next(s for s in self.services if s.name == name)
        interval = service.settings(self.state.settings).interval or 1.0
        return await run_round(service, self.state, self.holder, interval)

    async def _loop(self, service: Service, interval: float) -> None:
        first = True
        while True:
            if not (first and service.immediate):
                await asyncio.sleep(interval)
            first = False
            try:
                await run_round(service, self.state, self.holder, interval)
            except asyncio.CancelledError:
                raise
            except Exception:  # keep going: a failed round is retried at the next one
                log.exception("%s failed", service.name)
