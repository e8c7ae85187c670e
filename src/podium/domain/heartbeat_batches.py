"""Heartbeats of one server process stamped in batches: one UPDATE for all the beats of a short window.

5,000 robots beating every 30 s are ~170 beats/s. Stamping each with its own statement costs a
database round trip per beat (on loopback the server process pays for both ends' TCP work); batching
them costs one per window. A beat waits at most :data:`WINDOW_SECONDS` for its batch, then gets the
same answer it would have got alone (the UPDATE is per beat conditional, see
``robot_sessions.stamp``): stamped and whether a job of the robot is asked to stop, or not stamped.
A batch runs as a task of its own, so a caller that goes away does not strand the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.engine import Database
from podium.domain import robot_sessions
from podium.domain.robot_sessions import Beat

WINDOW_SECONDS = 0.05
MAX_BATCH = 200  # 4 parameters a beat: far under both databases' limits


@dataclass
class _Batch:
    beats: list[Beat] = field(default_factory=list)
    answers: list[asyncio.Future[bool | None]] = field(default_factory=list)


class HeartbeatBatcher:
    """Collects beats for :data:`WINDOW_SECONDS` (or until :data:`MAX_BATCH`), then stamps them."""

    def __init__(self, db: Database, window: float = WINDOW_SECONDS, max_batch: int = MAX_BATCH) -> None:
        self.db = db
        self.window = window
        self.max_batch = max_batch
        self._open: _Batch | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def stamp(self, beat: Beat) -> bool | None:
        """None: not stamped (state change or no session of this agent); else whether a job of the
        robot is asked to stop."""
        loop = asyncio.get_running_loop()
        batch = self._open
        if batch is None:
            batch = self._open = _Batch()
            loop.call_later(self.window, self._close, batch)
        answer: asyncio.Future[bool | None] = loop.create_future()
        batch.beats.append(beat)
        batch.answers.append(answer)
        if len(batch.beats) >= self.max_batch:
            self._close(batch)
        return await answer

    def _close(self, batch: _Batch) -> None:
        if self._open is not batch:  # closed already (it filled up before its window ended)
            return
        self._open = None
        task = asyncio.get_running_loop().create_task(self._flush(batch))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        # PostgreSQL: the one statement in autocommit (read() is the write engine in autocommit mode);
        # SQLite: a write transaction, so that it queues on the write lock like every writer
        if self.db.is_sqlite:
            async with self.db.write(robot=True) as conn:
                yield conn
        else:
            async with self.db.read() as conn:
                yield conn

    async def _flush(self, batch: _Batch) -> None:
        try:
            async with self._connection() as conn:
                results = await robot_sessions.stamp(conn, batch.beats)
        except Exception as error:  # every waiting beat fails as its own statement would have
            for answer in batch.answers:
                if not answer.done():
                    answer.set_exception(error)
            return
        for answer, result in zip(batch.answers, results, strict=True):
            if not answer.done():
                answer.set_result(result)
