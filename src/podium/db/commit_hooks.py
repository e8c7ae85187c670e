"""Work to do inside the next write transaction of this request, just before it commits.

An OData action does its change in a transaction the handler opens itself; the audit entry of the action
must be written in that same transaction (a change that fails leaves no entry, one that commits always
has one). The dispatcher cannot reach the handler's connection, so it leaves a hook here
(:func:`pending`) and ``Database.write`` runs it on the first write transaction of the request that
reaches its end without an error (:func:`run`). A hook runs once, in the task that left it: work a
handler hands to another task (which copies the context) does not carry it off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

Hook = Callable[[AsyncConnection], Awaitable[None]]


@dataclass
class _Pending:
    hook: Hook
    task: asyncio.Task[object] | None
    done: bool = False


_pending: ContextVar[_Pending | None] = ContextVar("podium_before_commit", default=None)


@contextmanager
def pending(hook: Hook) -> Iterator[None]:
    """Runs ``hook`` in the first write transaction of this block that is about to commit."""
    token = _pending.set(_Pending(hook, asyncio.current_task()))
    try:
        yield
    finally:
        _pending.reset(token)


def consume() -> bool:
    """Marks the pending hook done without running it (its work was done another way); whether one
    was pending."""
    current = _pending.get()
    if current is None or current.done or current.task is not asyncio.current_task():
        return False
    current.done = True
    return True


async def run(conn: AsyncConnection) -> None:
    """Runs the pending hook of this task, once (``Database.write`` calls it before committing)."""
    current = _pending.get()
    if current is None or current.done or current.task is not asyncio.current_task():
        return
    current.done = True
    await current.hook(conn)
