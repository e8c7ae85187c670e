"""Admission of write transactions: at most N at once in a process, the robot protocol's aside.

One process serves every request on one event loop, and each statement a transaction awaits waits its
turn behind every coroutine that is ready meanwhile. Sixteen API clients completing tasks as fast as they
are answered keep some sixteen transactions ready at all times; a robot's claim or report (a dozen
statements each) then waits behind all of them at every statement, the robots fall behind the work they
are given, and a resumed job waited seconds for a robot (``benchmarks/resume.py``). So write
transactions are admitted ``limit`` at a time (``PODIUM_WRITE_CONCURRENCY``), in order of arrival; those
of the robot protocol (claims, reports: ``Database.write(robot=True)``) are not counted and never wait.
Work is done in the same order and no faster or slower in CPU, only the robots no longer queue behind it.

A task that holds a place and opens another write transaction (one inside another) is not counted
twice: it could otherwise wait for itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

DEFAULT_LIMIT = 4

_holding: ContextVar[bool] = ContextVar("podium_write_gate_holding", default=False)


class WriteGate:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        """``limit``: write transactions admitted at once (0 or less: no limit)."""
        self.limit = limit
        self._places: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        """The places, of the running event loop (a database object may outlive a loop: tests)."""
        loop = asyncio.get_running_loop()
        if self._places is None or self._loop is not loop:
            self._places, self._loop = asyncio.Semaphore(self.limit), loop
        return self._places

    @asynccontextmanager
    async def admitted(self, *, robot: bool = False) -> AsyncIterator[None]:
        """Waits for a place (not for the robot protocol, nor for a task holding one already)."""
        if self.limit <= 0 or robot or _holding.get():
            yield
            return
        async with self._semaphore():
            token = _holding.set(True)
            try:
                yield
            finally:
                _holding.reset(token)
