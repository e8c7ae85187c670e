"""robots: job claims (jobs handed to a robot, not yet acknowledged) and sessions' maintenance mode

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:32:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import podium.db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_claims",
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("robot_id", sa.BigInteger(), nullable=False),
        sa.Column("assigned_robot_id", sa.BigInteger(), nullable=True),
        sa.Column("token", sa.String(length=36), nullable=False),
        sa.Column("expires_at", podium.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_claims_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_job_claims_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_claims")),
    )
    with op.batch_alter_table("job_claims", schema=None) as batch_op:
        batch_op.create_index("ix_job_claims_expires_at", ["expires_at"], unique=False)
    with op.batch_alter_table("robot_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("maintenance_mode", sa.SmallInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("robot_sessions", schema=None) as batch_op:
        batch_op.drop_column("maintenance_mode")
    with op.batch_alter_table("job_claims", schema=None) as batch_op:
        batch_op.drop_index("ix_job_claims_expires_at")
    op.drop_table("job_claims")
