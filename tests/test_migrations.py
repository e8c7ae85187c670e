"""The Alembic migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from podium.db.migrate import downgrade, upgrade
from podium.db.tables import metadata
from tests.conftest import sync_engine


def _assert_matches(url: str) -> None:
    upgrade(url)
    engine = sync_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == [], diff


def test_migrations_match_schema(empty_database_url: str) -> None:
    _assert_matches(empty_database_url)
    if empty_database_url.startswith("sqlite"):  # down and up again
        downgrade(empty_database_url, "base")
        upgrade(empty_database_url)
