"""process_schedules: time and queue triggers (domain/process_schedules.py)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 16:10:55.564447
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import podium.db.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "process_schedules",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("folder_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("release_id", sa.BigInteger(), nullable=False),
        sa.Column("job_priority", sa.SmallInteger(), nullable=True),
        sa.Column("specific_priority_value", sa.Integer(), nullable=True),
        sa.Column("runtime_type", sa.SmallInteger(), nullable=True),
        sa.Column("start_process_cron", sa.String(length=256), nullable=False),
        sa.Column("start_process_cron_details", sa.Text(), nullable=True),
        sa.Column("start_process_cron_summary", sa.String(length=512), nullable=True),
        sa.Column("start_strategy", sa.Integer(), nullable=False),
        sa.Column("executor_robots", sa.Text(), nullable=True),
        sa.Column("machine_robots", sa.Text(), nullable=True),
        sa.Column("stop_process_expression", sa.String(length=64), nullable=True),
        sa.Column("stop_strategy", sa.SmallInteger(), nullable=True),
        sa.Column("kill_process_expression", sa.String(length=64), nullable=True),
        sa.Column("external_job_key", sa.String(length=256), nullable=True),
        sa.Column("external_job_key_scheduler", sa.String(length=256), nullable=True),
        sa.Column("time_zone_id", sa.String(length=64), nullable=False),
        sa.Column("time_zone_iana", sa.String(length=64), nullable=False),
        sa.Column("calendar_id", sa.BigInteger(), nullable=True),
        sa.Column("stop_process_date", podium.db.types.UTCDateTime(), nullable=True),
        sa.Column("input_arguments", sa.Text(), nullable=True),
        sa.Column("queue_definition_id", sa.BigInteger(), nullable=True),
        sa.Column("activate_on_job_complete", sa.Boolean(), nullable=False),
        sa.Column("items_activation_threshold", sa.Integer(), nullable=True),
        sa.Column("items_per_job_activation_target", sa.Integer(), nullable=True),
        sa.Column("max_jobs_for_activation", sa.Integer(), nullable=True),
        sa.Column("resume_on_same_context", sa.Boolean(), nullable=False),
        sa.Column("alert_pending_expression", sa.String(length=64), nullable=True),
        sa.Column("alert_running_expression", sa.String(length=64), nullable=True),
        sa.Column("run_as_me", sa.Boolean(), nullable=False),
        sa.Column("consecutive_job_failures_threshold", sa.Integer(), nullable=True),
        sa.Column("job_failures_grace_period_in_hours", sa.Integer(), nullable=True),
        sa.Column("next_fire_at", podium.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_fire_time", podium.db.types.UTCDateTime(), nullable=True),
        sa.Column("failed_launches", sa.Integer(), nullable=False),
        sa.Column("failing_since", podium.db.types.UTCDateTime(), nullable=True),
        sa.Column("disabled_reason", sa.String(length=1024), nullable=True),
        sa.Column("last_misfire", sa.String(length=1024), nullable=True),
        sa.Column("creation_time", podium.db.types.UTCDateTime(), nullable=False),
        sa.Column("last_modification_time", podium.db.types.UTCDateTime(), nullable=True),
        sa.Column("creator_user_id", sa.BigInteger(), nullable=True),
        sa.Column("last_modifier_user_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["calendar_id"], ["calendars.id"], name=op.f("fk_process_schedules_calendar_id_calendars")
        ),
        sa.ForeignKeyConstraint(
            ["folder_id"], ["folders.id"], name=op.f("fk_process_schedules_folder_id_folders")
        ),
        sa.ForeignKeyConstraint(
            ["queue_definition_id"],
            ["queue_definitions.id"],
            name=op.f("fk_process_schedules_queue_definition_id_queue_definitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_process_schedules_release_id_releases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_process_schedules_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_schedules")),
        sa.UniqueConstraint("folder_id", "name", name=op.f("uq_process_schedules_folder_id")),
        sa.UniqueConstraint("key", name=op.f("uq_process_schedules_key")),
        sa.UniqueConstraint("queue_definition_id", name=op.f("uq_process_schedules_queue_definition_id")),
    )
    with op.batch_alter_table("process_schedules", schema=None) as batch_op:
        batch_op.create_index("ix_process_schedules_due", ["next_fire_at"], unique=False)
        batch_op.create_index("ix_process_schedules_release", ["release_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("process_schedules", schema=None) as batch_op:
        batch_op.drop_index("ix_process_schedules_release")
        batch_op.drop_index("ix_process_schedules_due")

    op.drop_table("process_schedules")
