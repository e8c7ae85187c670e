"""Engines and connections for SQLite (embedded default) and PostgreSQL.

SQLite gets two engines on the same file: reads run statement by statement (autocommit; WAL lets them
run beside a writer), writes start with ``BEGIN IMMEDIATE`` so that two writers queue on the lock
instead of failing with "database is locked" when a read transaction tries to upgrade. PostgreSQL
uses one pooled engine; row claims use ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.util import greenlet_spawn

from podium.db import commit_hooks
from podium.db.asyncpg_connections import AsyncpgConnections
from podium.db.types import SESSION_SETTINGS
from podium.db.write_gate import DEFAULT_LIMIT, WriteGate


def async_url(url: str) -> URL:
    """The async driver URL for a user-given database URL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


def sync_url(url: str) -> URL:
    """The synchronous driver URL (Alembic, command line tools)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


def configure_sqlite(dbapi_connection: Any, *, immediate: bool) -> None:
    """Pragmas every SQLite connection of Podium runs with."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA case_sensitive_like=ON")
    cursor.close()


def _sqlite_engine(url: URL, *, immediate: bool) -> AsyncEngine:
    engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event decide how transactions start (pysqlite would otherwise
        # start deferred transactions on its own).
        dbapi_connection.isolation_level = None
        configure_sqlite(dbapi_connection, immediate=immediate)

    if immediate:

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def postgres_options(url: URL) -> tuple[URL, dict[str, Any]]:
    """Moves libpq ``options`` from the URL into connect arguments, adding ``types.SESSION_SETTINGS``."""
    settings = " ".join(f"-c {name}={value}" for name, value in SESSION_SETTINGS.items())
    options = f"{url.query.get('options', '')} {settings}".strip()
    return url.difference_update_query(["options"]), {"options": options}


def _postgres_engine(url: URL) -> AsyncEngine:
    url, connect_args = postgres_options(url)
    return create_async_engine(url, pool_size=20, max_overflow=20, connect_args=connect_args)


async def driver_connection(conn: AsyncConnection) -> Any:
    """The driver's own connection under ``conn`` (psycopg's ``AsyncConnection`` on PostgreSQL), for
    what SQLAlchemy does not offer (COPY, array parameters) or costs too much on a hot path; statements
    run on it are in ``conn``'s transaction."""
    sync = conn.sync_connection
    if sync is not None and not sync.invalidated and not sync.closed:
        # a valid connection answers without I/O: no greenlet needed (~15 µs a call)
        driver = sync.connection.driver_connection
    else:
        driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    return driver


KEPT_CONNECTIONS = 8
"""Connections ``Database.statements`` keeps checked out between calls (of the pool's 20 + 20)."""

KEPT_READERS = 8
"""Autocommit connections ``Database.read`` keeps open between calls on PostgreSQL (of the same pool)."""


class Database:
    """The database of one Podium process: ``read()`` for queries, ``write()`` for transactions."""

    def __init__(self, url: str, *, write_concurrency: int = DEFAULT_LIMIT) -> None:
        """``write_concurrency``: write transactions admitted at once (``db/write_gate.py``; 0: no limit)."""
        self.url = url
        self.gate = WriteGate(write_concurrency)
        target = async_url(url)
        self.dialect = target.get_backend_name()
        if self.dialect == "sqlite":
            self._read = _sqlite_engine(target, immediate=False)
            self._write = _sqlite_engine(target, immediate=True)
        else:
            self._write = _postgres_engine(target)
            # reads skip BEGIN/ROLLBACK round trips; a page and its count may see different snapshots
            self._read = self._write.execution_options(isolation_level="AUTOCOMMIT")
        # connections of the pool kept checked out, in autocommit, for statements() and read() (see there)
        self._kept: list[Any] = []
        self._readers: list[AsyncConnection] = []
        # asyncpg connections for list pages and queue transactions, in the app loop (asyncpg_connections)
        self.asyncpg = AsyncpgConnections(url) if self.dialect != "sqlite" else None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def write_engine(self) -> AsyncEngine:
        """The engine of write transactions (commit listeners attach to it)."""
        return self._write

    @property
    def engines(self) -> tuple[AsyncEngine, AsyncEngine]:
        """The read and the write engine (the same pool on PostgreSQL)."""
        return self._read, self._write

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for queries: on PostgreSQL in autocommit (each statement its own snapshot).

        On PostgreSQL up to ``KEPT_READERS`` of them stay open between calls: opening one (a pool
        checkout through a greenlet, a connection object, its autobegin) and closing it (two rollbacks
        and a checkin) cost ~0.1-0.2 ms of CPU, a sixth of a seed-filter Jobs list. A block that raised
        closes its connection (it may be broken); a kept one goes back with its marker transaction
        ended, which in autocommit is no round trip."""
        if self.is_sqlite:
            async with self._read.connect() as conn:
                yield conn
            return
        conn = self._readers.pop() if self._readers else await self._read.connect()
        reusable = False
        try:
            yield conn
            reusable = True
        finally:
            if reusable and not conn.closed and not conn.invalidated and len(self._readers) < KEPT_READERS:
                if conn.in_transaction():
                    await conn.rollback()  # autocommit: ends SQLAlchemy's marker, sends nothing
                self._readers.append(conn)
            else:
                await conn.close()

    @asynccontextmanager
    async def write(self, *, robot: bool = False) -> AsyncIterator[AsyncConnection]:
        """A transaction: committed when the block ends, rolled back if it raises. It waits for its turn
        at the write gate (``db/write_gate.py``), unless ``robot``: a robot protocol call."""
        async with self.gate.admitted(robot=robot), self._write.begin() as conn:
            yield conn
            await commit_hooks.run(conn)  # the audit entry of an OData action, in its transaction

    @asynccontextmanager
    async def statements(self) -> AsyncIterator[Any]:
        """PostgreSQL only: a connection of the pool as psycopg's own ``AsyncConnection``, in autocommit
        (each statement is its own transaction).

        For hot paths that do their work in one statement (StartTransaction, SetTransactionResult): on
        this machine SQLAlchemy's async ``execute`` costs ~0.4 ms of CPU a statement and a checkout
        ~0.1 ms more, psycopg's own ``execute`` ~0.1 ms. Up to ``KEPT_CONNECTIONS`` connections stay
        checked out of the pool between calls, in autocommit (a list pop instead of a checkout through a
        greenlet and two autocommit switches); they count in the pool's size like any other, and go back
        to it at ``dispose``. One left in a transaction or broken is not reused."""
        if self.is_sqlite:
            raise RuntimeError("driver statements are PostgreSQL only")
        if self._kept:
            fairy = self._kept.pop()
        else:
            fairy = await greenlet_spawn(self._write.sync_engine.pool.connect)
        conn: Any = fairy.driver_connection
        try:
            if not conn.autocommit:
                await conn.set_autocommit(True)
            yield conn
        finally:
            if conn.closed or conn.info.transaction_status != 0:  # 0: idle, outside a transaction
                await greenlet_spawn(fairy.invalidate)
                await greenlet_spawn(fairy.close)
            elif len(self._kept) < KEPT_CONNECTIONS:
                self._kept.append(fairy)
            else:
                await conn.set_autocommit(False)
                await greenlet_spawn(fairy.close)

    async def dispose(self) -> None:
        if self.asyncpg is not None:
            await self.asyncpg.release()
        readers, self._readers = self._readers, []
        for reader in readers:
            await reader.close()
        kept, self._kept = self._kept, []
        for fairy in kept:  # back to the pool first: dispose closes only connections checked in
            if not fairy.driver_connection.closed:
                await fairy.driver_connection.set_autocommit(False)
            await greenlet_spawn(fairy.close)
        await self._read.dispose()
        await self._write.dispose()
