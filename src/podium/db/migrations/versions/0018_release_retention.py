"""release_retention: each release's job retention policy (ReleaseRetention); every existing release gets
Orchestrator's built-in policy (30 days, Delete), as new ones do

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-06 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import podium.db.types

revision = "0018"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "release_retention",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("folder_id", sa.BigInteger(), nullable=False),
        sa.Column("release_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.SmallInteger(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("bucket_id", sa.BigInteger(), nullable=True),
        sa.Column("last_run_time", podium.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["folder_id"], ["folders.id"], name=op.f("fk_release_retention_folder_id_folders")
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_release_retention_release_id_releases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_release_retention_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_retention")),
        sa.UniqueConstraint("release_id", name=op.f("uq_release_retention_release_id")),
    )
    op.execute(
        "INSERT INTO release_retention (tenant_id, folder_id, release_id, action, period)"
        " SELECT tenant_id, folder_id, id, 0, 30 FROM releases"
    )


def downgrade() -> None:
    op.drop_table("release_retention")
