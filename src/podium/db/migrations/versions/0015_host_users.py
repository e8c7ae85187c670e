"""host_users: the host administrators, who manage tenants (domain/host.py); tenants.admin_user_key,
tenants.last_login_time (TenantDto)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import podium.db.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "host_users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=36), nullable=False),
        sa.Column("user_name", sa.String(length=256), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("creation_time", podium.db.types.UTCDateTime(), nullable=False),
        sa.Column("last_login_time", podium.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_users")),
        sa.UniqueConstraint("key", name=op.f("uq_host_users_key")),
        sa.UniqueConstraint("user_name", name=op.f("uq_host_users_user_name")),
    )
    # plain ALTER TABLE (no batch copy on SQLite: dropping the old tenants table would cascade)
    op.add_column("tenants", sa.Column("admin_user_key", sa.String(length=36), nullable=True))
    op.add_column("tenants", sa.Column("last_login_time", podium.db.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("tenants", "last_login_time")
    op.drop_column("tenants", "admin_user_key")
    op.drop_table("host_users")
