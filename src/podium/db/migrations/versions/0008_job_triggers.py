"""job_triggers (what a Suspended job waits for), job_runtime_states (the state its process left);
jobs get ResumeTime and ResumeOnSameContext

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import podium.db.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_triggers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("folder_id", sa.BigInteger(), nullable=False),
        sa.Column("trigger_type", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("resume_version", sa.Integer(), nullable=False),
        sa.Column("interrupt_id", sa.String(length=128), nullable=True),
        sa.Column("item_id", sa.BigInteger(), nullable=True),
        sa.Column("item_key", sa.String(length=64), nullable=True),
        sa.Column("item_name", sa.String(length=512), nullable=True),
        sa.Column("item_folder_path", sa.String(length=512), nullable=True),
        sa.Column("timer", podium.db.types.UTCDateTime(), nullable=True),
        sa.Column("inbox_id", sa.String(length=64), nullable=True),
        sa.Column("trigger_message", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("creation_time", podium.db.types.UTCDateTime(), nullable=False),
        sa.Column("modified_time", podium.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_triggers_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_job_triggers_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_triggers")),
    )
    op.create_index("ix_job_triggers_job", "job_triggers", ["job_id", "id"])
    op.create_index("ix_job_triggers_item", "job_triggers", ["trigger_type", "item_id", "status"])
    op.create_index("ix_job_triggers_inbox", "job_triggers", ["inbox_id"])
    op.create_index("ix_job_triggers_timer", "job_triggers", ["status", "timer"])
    op.create_table(
        "job_runtime_states",
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("resume_version", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("modified_time", podium.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_runtime_states_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_job_runtime_states_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_runtime_states")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resume_time", podium.db.types.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("resume_on_same_context", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("resume_on_same_context")
        batch_op.drop_column("resume_time")
    op.drop_table("job_runtime_states")
    op.drop_index("ix_job_triggers_timer", table_name="job_triggers")
    op.drop_index("ix_job_triggers_inbox", table_name="job_triggers")
    op.drop_index("ix_job_triggers_item", table_name="job_triggers")
    op.drop_index("ix_job_triggers_job", table_name="job_triggers")
    op.drop_table("job_triggers")
