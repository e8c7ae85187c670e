"""Calls that arrive while a statement of the same kind is in the database go together in the next one.

A queue transaction pair is two one-row statements, each its own transaction. On a small machine the
database's cost per statement (the protocol, a snapshot, a commit and its WAL flush) is as large as the
row work, so robots that claim from (or complete items of) the same queue at the same moment are
served by one statement: while one runs, later calls of its key wait, and the next statement takes all
of them (up to ``most``). A call that finds its key idle runs at once with the calls of the same turn of
the event loop; it waits ``linger`` seconds for more only when the key's last statements served several
calls (a busy queue), so that a lone robot's calls are never delayed.

The statement answers each call on its own (one result per value, in order). When a batch of several
fails, each of its calls runs again alone, so that one bad value costs only its own call an error, as it
would without batching. A call cancelled while it waits is left out of the next batch; one cancelled
while its batch runs has its result dropped (what its statement did stays done, as for a call cancelled
during its own statement).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")


@dataclass
class _Busy(Generic[V, R]):
    """A key with a statement in the database, and the calls that wait for the next one."""

    waiting: list[tuple[V, asyncio.Future[R]]] = field(default_factory=list)
    served: int = 0  # calls taken into statements since the key was idle


@dataclass
class _Loop(Generic[K, V, R]):
    """The batches of one event loop: its busy keys, and the keys whose last busy spell served more
    than one call (a call that finds such a key idle lingers for others)."""

    busy: dict[K, _Busy[V, R]] = field(default_factory=dict)
    crowded: set[K] = field(default_factory=set)


class Batches(Generic[K, V, R]):
    """Runs ``run(key, values)`` (one result per value, in order) for calls of the same key together."""

    def __init__(
        self, run: Callable[[K, list[V]], Awaitable[list[R]]], most: int = 32, linger: float = 0.0
    ) -> None:
        self._run = run
        self._most = most
        self._linger = linger
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Loop[K, V, R]]
        self._loops = weakref.WeakKeyDictionary()
        self._drains: set[asyncio.Task[None]] = set()

    async def submit(self, key: K, value: V) -> R:
        """The result of ``value``: in the next batch of ``key`` when a statement of ``key`` is in the
        database; else in a statement run at once, with the calls of ``key`` that arrive meanwhile: those
        of the same turn of the event loop (requests read from the network together), or, when the key's
        last statements served several calls, those of the next ``linger`` seconds."""
        loop = asyncio.get_running_loop()
        batches = self._loops.get(loop)
        if batches is None:
            batches = self._loops[loop] = _Loop()
        future: asyncio.Future[R] = loop.create_future()
        state = batches.busy.get(key)
        if state is not None:
            state.waiting.append((value, future))
            return await future
        batches.busy[key] = state = _Busy[V, R]([(value, future)])
        try:
            await asyncio.sleep(self._linger if key in batches.crowded else 0)
            await self._answer(key, self._take(state))
        except BaseException:
            future.cancel()  # cancelled before its statement ran: it is not run later either
            raise
        finally:
            self._next(loop, batches, key, state)
        return future.result()

    def _next(
        self, loop: asyncio.AbstractEventLoop, batches: _Loop[K, V, R], key: K, state: _Busy[V, R]
    ) -> None:
        """After a statement of ``key``: the calls that waited go in a batch, run by a task of its own
        (the call that ran is answered now, not after them); with none waiting, the key is idle."""
        if state.waiting:
            task = loop.create_task(self._drain(batches, key, state))
            self._drains.add(task)
            task.add_done_callback(self._drains.discard)
        else:
            _idle(batches, key, state)

    async def _drain(self, batches: _Loop[K, V, R], key: K, state: _Busy[V, R]) -> None:
        try:
            while state.waiting:
                batch = self._take(state)
                if batch:
                    await self._answer(key, batch)
        except BaseException:
            for _, future in state.waiting:
                future.cancel()
            raise
        finally:
            _idle(batches, key, state)

    def _take(self, state: _Busy[V, R]) -> list[tuple[V, asyncio.Future[R]]]:
        """The next batch: the first ``most`` waiting calls, less those cancelled meanwhile."""
        batch = [(value, future) for value, future in state.waiting[: self._most] if not future.done()]
        del state.waiting[: self._most]
        state.served += len(batch)
        return batch

    async def _answer(self, key: K, batch: list[tuple[V, asyncio.Future[R]]]) -> None:
        try:
            results = await self._run(key, [value for value, _ in batch])
        except Exception as error:
            if len(batch) == 1:
                _settle(batch[0][1], error=error)
                return
            for value, future in batch:  # each alone: the error is only the bad value's
                if future.done():
                    continue
                try:
                    [result] = await self._run(key, [value])
                except Exception as alone:
                    _settle(future, error=alone)
                else:
                    _settle(future, result)
            return
        except BaseException:
            for _, future in batch:  # the loop is stopping: no call of the batch is left waiting
                future.cancel()
            raise
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result)


def _idle(batches: _Loop[K, V, R], key: K, state: _Busy[V, R]) -> None:
    del batches.busy[key]
    if state.served > 1:
        batches.crowded.add(key)
    else:
        batches.crowded.discard(key)


def _settle(
    future: asyncio.Future[R], result: R | None = None, *, error: BaseException | None = None
) -> None:
    if future.done():
        return  # cancelled while its batch ran
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]
