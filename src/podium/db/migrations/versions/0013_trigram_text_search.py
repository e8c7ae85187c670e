"""PostgreSQL: trigram (pg_trgm) GIN indexes on the text columns users search

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 16:20:00

``$filter=indexof(Info,'Logon failure') ne -1`` (and ``contains``/``startswith``/``endswith``) compile to
``LIKE '%…%'`` on PostgreSQL, which a btree cannot serve: on 1 M jobs it was a sequential scan (~380 ms).
A GIN index with ``gin_trgm_ops`` serves any LIKE/ILIKE pattern of three characters or more.

The extension is optional: ``CREATE EXTENSION`` needs a privilege a hosted database may not give. When
it cannot be created (or is not available), the migration logs one line and creates no index; the
filters answer the same, only slower. The indexes are not in the SQLAlchemy metadata for that reason
(see :data:`podium.db.migrate.OPTIONAL_INDEXES`). The extension goes to schema ``public`` (not the
first schema of the search path) so that dropping a Podium schema never drops it from under another.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

log = logging.getLogger("podium.db.migrations")

# index name -> (table, column)
TRIGRAM_INDEXES = {
    "ix_jobs_info_trgm": ("jobs", "info"),
    "ix_jobs_release_name_trgm": ("jobs", "release_name"),
    "ix_queue_items_reference_trgm": ("queue_items", "reference"),
}


def _trigram_schema(bind: sa.Connection) -> str | None:
    """The schema of an installed pg_trgm, creating it first when allowed; None when it cannot be had."""
    found = bind.exec_driver_sql(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    ).scalar()
    if found is not None:
        return str(found)
    try:
        with bind.begin_nested():  # a refused CREATE EXTENSION must not abort the migration's transaction
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        log.warning(
            "pg_trgm could not be created (%s): no trigram indexes; text filters (indexof, contains, "
            "startswith) scan the table. A superuser can run CREATE EXTENSION pg_trgm and "
            "'podium db upgrade' again after 'podium db downgrade 0012'.",
            reason,
        )
        return None
    return "public"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = _trigram_schema(bind)
    if schema is None:
        return
    opclass = f"{bind.dialect.identifier_preparer.quote(schema)}.gin_trgm_ops"
    for name, (table, column) in TRIGRAM_INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} {opclass})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
