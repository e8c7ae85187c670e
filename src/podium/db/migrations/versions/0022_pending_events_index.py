"""ix_events_pending holds only the events not dispatched yet (issue 11)

Every queue transaction writes two outbox events and the fan-out marks each dispatched: on an index
over (dispatched, id) that is one more index entry per event, and an index as large as the table's
whole history. A partial index on id WHERE dispatched IS false gets no entry when an event is marked,
and holds only the backlog the fan-out reads.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 20:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_pending")
        batch_op.create_index(
            "ix_events_pending",
            ["id"],
            unique=False,
            postgresql_where=sa.text("dispatched IS false"),
            sqlite_where=sa.text("dispatched IS 0"),
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_pending")
        batch_op.create_index("ix_events_pending", ["dispatched", "id"], unique=False)
