"""A server's shutdown does not wait forever for a service that ignores its cancellation."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from podium.services import runner as runner_module
from podium.services.runner import ServiceRunner


def test_a_service_stuck_outside_the_loop_is_left_behind_after_the_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = threading.Event()

    async def scenario() -> tuple[float, bool]:
        runner = ServiceRunner.__new__(ServiceRunner)
        runner._tasks = []
        polite_cancelled = asyncio.Event()

        async def polite() -> None:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                polite_cancelled.set()
                raise

        async def stubborn() -> None:
            while not release.is_set():  # swallows every cancellation, as a round stuck in a thread would
                try:
                    await asyncio.to_thread(release.wait, 0.05)
                except asyncio.CancelledError:
                    continue

        runner._tasks.append(asyncio.create_task(polite(), name="podium-polite"))
        runner._tasks.append(asyncio.create_task(stubborn(), name="podium-stubborn"))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await runner.stop(timeout=0.5)
        took = time.monotonic() - started
        release.set()
        await asyncio.sleep(0.2)
        return took, polite_cancelled.is_set()

    with caplog.at_level("ERROR", logger="podium.services"):
        took, polite_cancelled = asyncio.run(scenario())
    assert polite_cancelled
    assert took < 5.0
    assert "podium-stubborn did not stop" in caplog.text
    assert "podium-polite" not in caplog.text


def test_stop_waits_for_services_that_stop(monkeypatch: Any) -> None:
    async def scenario() -> list[str]:
        runner = ServiceRunner.__new__(ServiceRunner)
        runner._tasks = []
        finished: list[str] = []

        async def slow_cleanup() -> None:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                await asyncio.sleep(0.1)  # a round finishing its statement before it stops
                finished.append("cleaned")
                raise

        runner._tasks.append(asyncio.create_task(slow_cleanup(), name="podium-slow"))
        await asyncio.sleep(0.01)
        await runner.stop()
        return finished

    assert runner_module.STOP_TIMEOUT >= 1.0
    assert asyncio.run(scenario()) == ["cleaned"]
