"""tags on buckets, machines, releases, process schedules and queue definitions

Their DTOs carry ``Tags`` (a list of TagDto) as assets' do; Podium answered an empty list and dropped
the tags a client sent. Each table gets a ``tags`` column, JSON text, ``'[]'`` for existing rows.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-08 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

TABLES = ("buckets", "machines", "releases", "process_schedules", "queue_definitions")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("tags", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("tags")
