"""jobs (tenant_id, robot_id, id): a robot's jobs in the pages' order

The seed's filters `Robot/Id eq X` and `Robot/Id eq X and EndTime lt T` (no state) page by id. The
robot's only index, (tenant_id, robot_id, state, id), gives that order only for one state, so PostgreSQL
walked the primary key through the whole table until it met ten of the robot's jobs (~6,000 rows at
1,000 jobs a robot among 1,000,000: 4.5-5.4 ms of PostgreSQL a request in benchmarks/odata_jobs.py).
`Robot/Name eq 'X'` is not helped: its robot comes from a join, whose order PostgreSQL does not carry to
the jobs. On PostgreSQL the index includes folder_id, as the filter indexes do since 0030, so that a
folder-scoped count stays index-only.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_jobs_robot",
        "jobs",
        ["tenant_id", "robot_id", "id"],
        unique=False,
        postgresql_include=["folder_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_robot", table_name="jobs")
