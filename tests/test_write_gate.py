"""The write gate admits N write transactions at once; the robot protocol's, and one opened inside one
already admitted, do not wait (``db/write_gate.py``)."""

from __future__ import annotations

import asyncio

import pytest

from podium.db.engine import Database
from podium.db.write_gate import WriteGate


async def _peak(gate: WriteGate, callers: int, *, robot: bool = False) -> int:
    inside = peak = 0

    async def one() -> None:
        nonlocal inside, peak
        async with gate.admitted(robot=robot):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(one() for _ in range(callers)))
    return peak


def test_at_most_the_limit_is_admitted_at_once() -> None:
    assert asyncio.run(_peak(WriteGate(3), 10)) == 3


def test_the_robot_protocol_is_not_held_back() -> None:
    assert asyncio.run(_peak(WriteGate(1), 5, robot=True)) == 5


def test_no_limit() -> None:
    assert asyncio.run(_peak(WriteGate(0), 5)) == 5


def test_robots_pass_while_every_place_is_taken() -> None:
    async def go() -> bool:
        gate = WriteGate(1)
        async with gate.admitted(), asyncio.timeout(1), gate.admitted(robot=True):
            return True

    assert asyncio.run(go())


def test_a_transaction_inside_an_admitted_one_does_not_wait_for_itself() -> None:
    async def go() -> bool:
        gate = WriteGate(1)
        async with gate.admitted(), asyncio.timeout(1), gate.admitted():
            return True

    assert asyncio.run(go())


def test_a_gate_serves_one_event_loop_after_another() -> None:
    gate = WriteGate(1)
    for _ in range(2):
        assert asyncio.run(_peak(gate, 3)) == 1


def test_database_writes_go_through_the_gate(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: nothing to admit side by side")

    async def go() -> tuple[int, int]:
        database = Database(database_url, write_concurrency=2)
        inside = peak = 0

        async def one() -> None:
            nonlocal inside, peak
            async with database.write():
                inside += 1
                peak = max(peak, inside)
                await asyncio.sleep(0.02)
                inside -= 1

        try:
            await asyncio.gather(*(one() for _ in range(6)))
            robots = 0

            async def robot() -> None:
                nonlocal robots, peak
                async with database.write(robot=True):
                    robots += 1

            async with database.write(), database.write():  # nested: one place
                await asyncio.gather(robot(), robot())
            return peak, robots
        finally:
            await database.dispose()

    assert asyncio.run(go()) == (2, 2)
