"""calendars: a tenant's calendars of excluded days (domain/calendars.py)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendars",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("time_zone_id", sa.String(length=64), nullable=False),
        sa.Column("excluded_dates", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_calendars_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendars")),
        sa.UniqueConstraint("key", name=op.f("uq_calendars_key")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_calendars_tenant_id")),
    )


def downgrade() -> None:
    op.drop_table("calendars")
