"""ix_webhooks_tenant_enabled: the outbox asks for every event whether its tenant has an enabled webhook

An event of a tenant without one is written already dispatched (``domain/events.py``, the queue hot
path): the question is a lookup by tenant, not a scan of every tenant's webhooks.

Revision ID: 0028
Revises: 0025
Create Date: 2026-12-06 23:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0028"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.create_index("ix_webhooks_tenant_enabled", ["tenant_id", "enabled"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_index("ix_webhooks_tenant_enabled")
