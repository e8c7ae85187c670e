"""The Alembic migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

import contextlib
import importlib
import logging
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from podium.db.migrate import OPTIONAL_INDEXES, downgrade, include_object, upgrade
from podium.db.tables import metadata
from tests.conftest import sync_engine


def _assert_matches(url: str) -> None:
    upgrade(url)
    engine = sync_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object}),
            metadata,
        )
    engine.dispose()
    assert diff == [], diff


def test_migrations_match_schema(empty_database_url: str) -> None:
    _assert_matches(empty_database_url)
    if empty_database_url.startswith("sqlite"):  # down and up again
        downgrade(empty_database_url, "base")
        upgrade(empty_database_url)


def test_postgresql_gets_trigram_indexes_for_searched_text(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = sync_engine(empty_database_url)
    with engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            engine.dispose()
            return
        found = conn.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
            " AND indexname LIKE '%%_trgm'"
        ).all()
    engine.dispose()
    assert {name for name, _ in found} == set(OPTIONAL_INDEXES)
    assert all("USING gin" in definition and "gin_trgm_ops" in definition for _, definition in found)


MIGRATION_0030 = "podium.db.migrations.versions.0030_jobs_indexes_include_folder"


def test_postgresql_job_indexes_include_the_folder(empty_database_url: str) -> None:
    """A folder-scoped count checks ``folder_id`` in the index (migration 0030); down to 0029 undoes it."""

    def definitions() -> dict[str, str]:
        engine = sync_engine(empty_database_url)
        with engine.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                " AND tablename = 'jobs'"
            ).all()
        engine.dispose()
        return dict(found)  # type: ignore[arg-type]

    if not empty_database_url.startswith("postgresql"):
        return
    upgrade(empty_database_url)
    included = {name for name, definition in definitions().items() if "INCLUDE (folder_id)" in definition}
    assert included == {*importlib.import_module(MIGRATION_0030).INDEXES, "ix_jobs_robot"}  # 0031's too
    downgrade(empty_database_url, "0029")
    assert not any("INCLUDE" in definition for definition in definitions().values())
    upgrade(empty_database_url)


def test_a_refused_pg_trgm_is_a_log_line_not_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    """A role without the right to CREATE EXTENSION: the migration goes on without trigram indexes."""
    trigram = importlib.import_module("podium.db.migrations.versions.0013_trigram_text_search")

    class Refusing:
        def exec_driver_sql(self, statement: str) -> Any:
            if statement.startswith("CREATE EXTENSION"):
                raise sa.exc.ProgrammingError(
                    statement, None, Exception("permission denied to create extension")
                )
            return type("Result", (), {"scalar": staticmethod(lambda: None)})()

        def begin_nested(self) -> contextlib.AbstractContextManager[None]:
            return contextlib.nullcontext()

    with caplog.at_level(logging.WARNING, logger="podium.db.migrations"):
        assert trigram._trigram_schema(Refusing()) is None
    assert "permission denied to create extension" in caplog.text
    assert "no trigram indexes" in caplog.text
