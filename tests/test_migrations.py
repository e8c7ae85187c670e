"""The Alembic migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

import os
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from podium.db.engine import sync_url
from podium.db.migrate import downgrade, upgrade
from podium.db.tables import metadata
from tests.conftest import PG_BASE, sync_engine


def _assert_matches(url: str) -> None:
    upgrade(url)
    engine = sync_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == [], diff


def test_migrations_match_schema_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    _assert_matches(url)
    downgrade(url, "base")
    upgrade(url)


def test_migrations_match_schema_on_postgresql() -> None:
    schema = f"podium_migrations_{os.getpid()}"
    admin = create_engine(sync_url(PG_BASE))
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        url = f"{PG_BASE}?options=-csearch_path%3D{schema}"
        _assert_matches(url)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
