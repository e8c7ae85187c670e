"""Test fixtures: every database test runs on SQLite and on the PostgreSQL of this machine.

PostgreSQL: ``PODIUM_TEST_DATABASE_URL`` (default: database ``test`` on 127.0.0.1:5432; when that is unset
and nothing answers there, a throwaway server of this session, ``tests/embedded_postgres.py``), in a
schema of this run's own (``podium_test_<pid>``, dropped at the end), so that several runs on one machine
do not disturb each other. SQLite: a file per test copied from a template. Tables are created from the
metadata; ``tests/test_migrations.py`` checks that the Alembic migrations build the same schema.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from podium.db.engine import postgres_options, sync_url
from podium.db.tables import metadata
from tests.embedded_postgres import EmbeddedPostgres, answers
from tests.support import Api, start_app

# webhook fan-out and delivery only where a test asks for them (tests/test_webhooks*.py): elsewhere the
# outbox stays as the change wrote it, and no app polls for deliveries in the background
os.environ.setdefault("PODIUM_WEBHOOK_FANOUT_ENABLED", "0")
os.environ.setdefault("PODIUM_WEBHOOK_DELIVERY_ENABLED", "0")

PG_BASE = os.environ.get("PODIUM_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_SCHEMA = f"podium_test_{os.getpid()}"
BACKENDS = ["sqlite", "postgresql"]
EMBEDDED_POSTGRES = pytest.StashKey[EmbeddedPostgres]()


def pytest_configure(config: pytest.Config) -> None:
    """No PostgreSQL URL given and none on 127.0.0.1:5432: one of this session's own (before collection,
    so that modules importing ``PG_BASE`` and the e2e servers get its URL; also through the environment)."""
    global PG_BASE
    if "PODIUM_TEST_DATABASE_URL" in os.environ or answers("127.0.0.1", 5432):
        return
    server = EmbeddedPostgres().start()
    config.stash[EMBEDDED_POSTGRES] = server
    PG_BASE = os.environ["PODIUM_TEST_DATABASE_URL"] = server.url


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(EMBEDDED_POSTGRES, None)
    if server is not None:
        os.environ.pop("PODIUM_TEST_DATABASE_URL", None)
        server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test id unique: schemathesis (4.32, on pytest 9.2) names its items
    ``test_reads[GET /odata/Users]`` but pytest 9.2 builds their ids from the bare function,
    ``tests/test_fuzz_api.py::test_reads``. pytest-xdist schedules by id, so the 433 fuzzed operations would
    run as 2 tests; such an item gets the id its name says (``tests/test_collection.py`` checks it)."""
    for item in items:
        if item.parent is not None and item.nodeid.rpartition("::")[2] != item.name:
            from _pytest.nodeid import NodeId  # pytest >= 9.2: the only ones whose ids can differ so

            item._id = NodeId.parse(f"{item.parent.nodeid}::{item.name}")


def pytest_report_header(config: pytest.Config) -> str:
    server = config.stash.get(EMBEDDED_POSTGRES, None)
    if server is not None:
        where = f"embedded PostgreSQL {server.version()}: nothing answers on 127.0.0.1:5432"
    else:
        where = "PODIUM_TEST_DATABASE_URL" if "PODIUM_TEST_DATABASE_URL" in os.environ else "default"
    return f"PostgreSQL: {make_url(PG_BASE).render_as_string(hide_password=True)} ({where})"


def pg_url() -> str:
    url = make_url(PG_BASE)
    return url.update_query_dict({"options": f"-csearch_path={PG_SCHEMA}"}).render_as_string(
        hide_password=False
    )


def sync_engine(url: str) -> Engine:
    target = sync_url(url)
    if target.get_backend_name() == "postgresql":
        target, args = postgres_options(target)
        return create_engine(target, connect_args=args)
    return create_engine(target)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "podium.db"
    engine = sync_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> Iterator[str]:
    admin = create_engine(sync_url(PG_BASE))
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    url = pg_url()
    engine = sync_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    yield url
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
    admin.dispose()


def truncate_postgres(url: str) -> None:
    engine = sync_engine(url)
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "podium.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_ready")
    truncate_postgres(url)
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    """A synchronous engine on the test database, for seeding rows and reading them back."""
    engine = sync_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    """Podium on the test database with tenant Default, logged in as admin."""
    with start_app(database_url, tmp_path) as client:
        yield client


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database on each backend of this test module's own, for data built once per module
    (a module-scoped app and its rows) that the module's tests only read: never truncated between tests.
    SQLite: a file copied from the template; PostgreSQL: a schema of its own (``<run schema>_<module>``),
    created here and dropped at the end of the module."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path_factory.mktemp("module-db") / "podium.db"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    schema = f"{PG_SCHEMA}_{request.module.__name__.rsplit('.', 1)[-1]}"[:63]
    admin = create_engine(sync_url(PG_BASE))
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(PG_BASE).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = sync_engine(url.render_as_string(hide_password=False))
    metadata.create_all(engine)
    engine.dispose()
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="module")
def cheap_password_hashes() -> Iterator[None]:
    """Argon2 with its smallest cost for a module's tests (``pytestmark = pytest.mark.usefixtures(...)``):
    passwords are still hashed and verified, in microseconds."""
    from argon2 import PasswordHasher

    from podium.auth import passwords

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        yield


@contextmanager
def postgres_schema(name: str) -> Iterator[str]:
    """A URL of the test PostgreSQL whose search path is a fresh, empty schema ``name`` (dropped after)."""
    admin = create_engine(sync_url(PG_BASE))
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {name}"))
    try:
        url = make_url(PG_BASE).update_query_dict({"options": f"-csearch_path={name}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no tables) on each backend, for tests that run the migrations themselves."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    with postgres_schema(f"{PG_SCHEMA}_empty") as url:
        yield url
