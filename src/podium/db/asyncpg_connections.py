"""asyncpg connections for the hottest statements (PostgreSQL): list pages and queue transactions.

A statement costs ~0.13 ms of the server's CPU through psycopg's async cursor and ~0.07 ms through
asyncpg, whose protocol is compiled (on this machine, ~15 % of a seed-filter Jobs list,
``benchmarks/odata_jobs.py``). So the kept page statements (``odata/driver_rows.py``) and the one-statement
StartTransaction and SetTransactionResult (``domain/queue_hot_path.py``) run on asyncpg connections kept
here; everything else stays on SQLAlchemy and psycopg. asyncpg is an accelerator, never the reference: a
statement it cannot run as psycopg would (a parameter type it will not encode, any error) goes back to
psycopg, which gives the answer or the error.

The connections belong to one event loop, the app's (``bind``, from the lifespan, and ``release`` at its
end): asyncpg connections cannot move between loops, and tests run a ``Database`` from several. Any
other loop simply uses psycopg. Up to ``KEPT`` connections are kept, in autocommit (no transaction is
ever opened on them); one closed or broken is dropped. A database URL with a setting this module cannot
pass on to asyncpg (anything but host, port, user, password, database, ``options`` ``-c`` settings,
``application_name``, ``sslmode``, ``connect_timeout``) leaves asyncpg unused.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import shlex
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import URL, make_url

from podium.db.types import SESSION_SETTINGS

log = logging.getLogger("podium.db")

T = TypeVar("T")

KEPT = 8
"""asyncpg connections open at most per process (the app's loop); calls past them use psycopg."""

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
)
"""Errors after which a connection is dropped (and the call goes to psycopg)."""


def connect_arguments(url: str | URL) -> dict[str, Any] | None:
    """``asyncpg.connect`` keyword arguments for a SQLAlchemy PostgreSQL URL, with the session in UTC as
    Podium's engine has it; None when the URL holds a setting not passed on here."""
    target = make_url(url)
    settings: dict[str, str] = {}
    arguments: dict[str, Any] = {
        "host": target.host,
        "port": target.port,
        "user": target.username,
        "password": target.password,
        "database": target.database,
    }
    for name, value in target.query.items():
        if not isinstance(value, str):
            return None  # a repeated parameter
        if name == "options":
            parsed = _options(value)
            if parsed is None:
                return None
            settings.update(parsed)
        elif name == "application_name":
            settings["application_name"] = value
        elif name == "sslmode":
            arguments["ssl"] = value
        elif name == "connect_timeout" and value.isdigit():
            arguments["timeout"] = int(value)
        elif name == "host":
            arguments["host"] = value  # a socket directory
        else:
            return None
    settings.update(SESSION_SETTINGS)  # as engine.postgres_options sets them for psycopg
    arguments["server_settings"] = settings
    return {key: value for key, value in arguments.items() if value is not None}


def _options(text: str) -> dict[str, str] | None:
    """libpq's ``options`` (``-c name=value`` or ``-cname=value``, ``--name=value``) as settings."""
    settings: dict[str, str] = {}
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    index = 0
    while index < len(words):
        word = words[index]
        if word == "-c" and index + 1 < len(words):
            setting, index = words[index + 1], index + 2
        elif word.startswith(("-c", "--")):
            setting, index = word[2:], index + 1
        else:
            return None
        name, equals, value = setting.partition("=")
        if not equals or not name:
            return None
        settings[name.replace("-", "_")] = value
    return settings


class NotConnected(ConnectionError):
    """asyncpg could not open a connection: nothing was sent (psycopg can run the statement instead)."""


_NAMED = re.compile(r"%\((\w+)\)s|%%")


@functools.lru_cache(maxsize=256)
def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """psycopg's named-parameter SQL (``%(name)s``, ``%%``) as asyncpg's (``$1``...) and the names in
    order: a name used twice is one parameter."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(number, sql), tuple(names)


class AsyncpgConnections:
    """The asyncpg connections of one ``Database`` (see the module)."""

    def __init__(self, url: str) -> None:
        self._arguments = connect_arguments(url)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kept: list[Any] = []
        self._open = 0  # connections open: kept or in use
        self.psycopg_only: set[Hashable] = set()  # statements asyncpg failed and psycopg answered

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Statements run from ``loop`` (the app's) may use asyncpg from now on."""
        self._loop = loop

    @property
    def usable(self) -> bool:
        if self._arguments is None or self._loop is None:
            return False
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A kept (or new) asyncpg connection, kept again after the block unless the block raised one of
        ``CONNECTION_ERRORS`` or it is closed or in a transaction. With ``KEPT`` connections open and
        all in use, :class:`NotConnected`: the call goes to psycopg, whose pool takes the overflow
        (opening a connection for one statement would cost far more than it saves)."""
        assert self._arguments is not None
        conn = None
        while self._kept and conn is None:
            conn = self._kept.pop()
            if conn.is_closed():  # the server closed it while it was kept
                self._open -= 1
                conn = None
        if conn is None:
            if self._open >= KEPT:
                raise NotConnected("every asyncpg connection is in use")
            self._open += 1
            try:
                conn = await self._connect(self._arguments)
            except BaseException:
                self._open -= 1
                raise
        healthy = False
        try:
            yield conn
            healthy = True
        except CONNECTION_ERRORS:
            raise
        except Exception:
            healthy = True  # a statement's own error leaves the connection usable
            raise
        finally:
            if healthy and not conn.is_closed() and not conn.is_in_transaction() and self._loop is not None:
                self._kept.append(conn)
            else:
                self._open -= 1
                conn.terminate()

    async def _connect(self, arguments: dict[str, Any]) -> Any:
        """A new connection; a failure leaves asyncpg unused in this process (psycopg runs every
        statement: an authentication method or setting asyncpg lacks would fail every time)."""
        try:
            return await asyncpg.connect(**arguments)
        except Exception as error:
            self._arguments = None
            reason = type(error).__name__
            log.warning("asyncpg could not connect (%s): every statement runs on psycopg", reason)
            raise NotConnected("asyncpg could not connect") from error

    async def run(
        self,
        key: Hashable,
        on_asyncpg: Callable[[Any], Awaitable[T]],
        on_psycopg: Callable[[], Awaitable[T]],
        *,
        read_only: bool,
    ) -> T:
        """The statement ``key`` run by ``on_asyncpg`` (given a connection) in this loop when it can, else
        by ``on_psycopg``, the reference, which answers or raises as it always did.

        asyncpg's failures go to psycopg: no connection free or none could be opened (nothing was sent),
        a statement PostgreSQL refused (in autocommit it wrote nothing), a parameter asyncpg would not
        encode (nothing was sent). A statement psycopg then answers stays on psycopg (``psycopg_only``).
        A connection lost while the statement ran is run again on psycopg only when ``read_only``: a
        write may have been committed, and is not run twice (the error is raised, as psycopg's would
        be)."""
        if not self.usable or key in self.psycopg_only:
            return await on_psycopg()
        try:
            async with self.connection() as conn:
                return await on_asyncpg(conn)
        except NotConnected:
            return await on_psycopg()
        except CONNECTION_ERRORS:
            if read_only:
                return await on_psycopg()
            raise
        except Exception as error:
            answered = await on_psycopg()  # psycopg's error, if it has one, is raised
            self.psycopg_only.add(key)
            log.info("a statement stays on psycopg: asyncpg failed with %s", type(error).__name__)
            return answered

    async def release(self) -> None:
        """Closes the kept connections; statements use psycopg until ``bind`` again (the app's shutdown)."""
        kept, self._kept, self._loop = self._kept, [], None
        self._open -= len(kept)
        for conn in kept:
            try:
                await asyncio.wait_for(conn.close(), 5)
            except Exception:
                conn.terminate()
