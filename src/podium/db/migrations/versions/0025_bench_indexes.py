"""Indexes the benchmarks asked for:

- jobs (starting_schedule_id, state) and (tenant_id, release_id, state), for the triggers' pending-job
  rule (domain/schedule_firing.py): a fire looked for a Pending job of its trigger (or of its process)
  through ix_jobs_tenant_state, reading every Pending job of the tenant, so 10,000 triggers due at once
  made each fire slower than the one before (benchmarks/triggers.py);
- webhook_deliveries (status, delivered_time), webhook_attempts (time) and (delivery_id), for the
  webhook retention sweep (services/webhooks.py).

Revision ID: 0025
Revises: 0022
Create Date: 2026-12-06 20:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_schedule_state", ["starting_schedule_id", "state"], unique=False)
        batch_op.create_index("ix_jobs_release_state", ["tenant_id", "release_id", "state"], unique=False)
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_delivered", ["status", "delivered_time"], unique=False)
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_attempts_time", ["time"], unique=False)
        batch_op.create_index("ix_webhook_attempts_delivery", ["delivery_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_attempts_delivery")
        batch_op.drop_index("ix_webhook_attempts_time")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_delivered")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_release_state")
        batch_op.drop_index("ix_jobs_schedule_state")
