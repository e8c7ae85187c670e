"""Background work a server process repeats at an interval (the queues' abandon and retention sweeps),
as a router lifespan: started with the app, cancelled when it stops, a failed round retried next time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from podium.api.services import Services
from podium.config import Settings

log = logging.getLogger("podium.periodic")


def every(
    seconds: Callable[[Settings], int], work: Callable[[Services], Awaitable[None]], what: str
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan running ``work`` every ``seconds(settings)`` seconds (0: never)."""

    async def repeat(services: Services, interval: int) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await work(services)
            except Exception:  # keep going: a failed round is retried at the next one
                log.exception("%s failed", what)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services: Services = app.state.services
        interval = seconds(services.settings)
        task = asyncio.create_task(repeat(services, interval)) if interval > 0 else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return lifespan
