"""Migration 0005 on both backends: personal access tokens of robots and external applications are
revoked; tokens without an expiry, or with one past PODIUM_PAT_MAX_DAYS after their creation, expire
then; user_lockouts exists."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from podium.db.migrate import upgrade
from podium.db.types import UTC
from tests.conftest import sync_engine

CREATED = dt.datetime(2026, 1, 1, tzinfo=UTC)

# revision 0004's rows, written by hand
SEED = [
    "INSERT INTO tenants (id, key, name, is_active, creation_time) VALUES (1, 't1', 'T', true, :created)",
    "INSERT INTO users (id, tenant_id, key, user_name, is_active, type, creation_time) VALUES"
    " (1, 1, 'u1', 'alice', true, 0, :created), (2, 1, 'u2', 'robot:r1', true, 1, :created),"
    " (3, 1, 'u3', 'app:x', true, 5, :created), (4, 1, 'u4', 'bob', true, 2, :created)",
    "INSERT INTO access_tokens (id, tenant_id, user_id, name, token_hash, kind, expires_at, revoked,"
    " creation_time) VALUES"
    " (1, 1, 1, 'forever', 'h1', 'pat', NULL, false, :created),"
    " (2, 1, 1, 'ten years', 'h2', 'pat', :ten_years, false, :created),"
    " (3, 1, 1, 'a month', 'h3', 'pat', :month, false, :created),"
    " (4, 1, 2, 'from a job', 'h4', 'pat', :month, false, :created),"
    " (5, 1, 3, 'from an app', 'h5', 'pat', NULL, false, :created),"
    " (6, 1, 4, 'directory user', 'h6', 'pat', NULL, false, :created)",
]


def _check(url: str) -> None:
    upgrade(url, "0004")
    engine = sync_engine(url)
    month, ten_years = CREATED + dt.timedelta(days=30), CREATED + dt.timedelta(days=3650)
    values = {
        "created": _stored(url, CREATED),
        "month": _stored(url, month),
        "ten_years": _stored(url, ten_years),
    }
    try:
        with engine.begin() as conn:
            for statement in SEED:
                conn.execute(text(statement), values)
        upgrade(url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, revoked, expires_at FROM access_tokens ORDER BY id")).all()
            year = CREATED + dt.timedelta(days=365)
            assert [(r.id, bool(r.revoked), _read(r.expires_at)) for r in rows] == [
                (1, False, year),
                (2, False, year),
                (3, False, month),
                (4, True, month),
                (5, True, year),
                (6, False, year),
            ]
            assert conn.execute(text("SELECT count(*) FROM user_lockouts")).scalar_one() == 0
    finally:
        engine.dispose()


def _stored(url: str, value: dt.datetime) -> object:
    """As UTCDateTime stores it: text on SQLite, timestamptz on PostgreSQL."""
    if url.startswith("sqlite"):
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return value


def _read(value: object) -> dt.datetime:
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=UTC)
    assert isinstance(value, dt.datetime)
    return value.astimezone(UTC)


@pytest.fixture(autouse=True)
def _default_lifetime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PODIUM_PAT_MAX_DAYS", raising=False)


def test_migration_0005(empty_database_url: str) -> None:
    _check(empty_database_url)
