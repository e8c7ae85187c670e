"""job_claims.assigned_machine_id: the machine a job was started for, restored when its claim expires

A job started for a machine (a MachineRobots pair of StartJobs or of a trigger) goes only to a robot
connected from it. The claim writes the claiming robot's machine on the job; a claim never acknowledged
put the job back to Pending with no machine at all, and any robot could then take it.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_machine_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_claims", schema=None) as batch_op:
        batch_op.drop_column("assigned_machine_id")
