"""jobs: the filter indexes include folder_id (PostgreSQL)

A folder-scoped list (any request with a folder header: the SDK's, a robot's) carries
``jobs.folder_id IN (...)`` besides its filter. The indexes led by the tenant answered the filter, but
the folder test needed the table's row, so ``@odata.count`` read the row of every match instead of an
index-only scan: `Robot/Id eq X and State eq 'Successful'` with a folder header cost 1.67 ms of
PostgreSQL a request against 0.16 without (benchmarks/odata_jobs.py, 1,000,000 jobs). PostgreSQL's
``INCLUDE (folder_id)`` puts the column in the index's leaf entries, where the scan checks it. SQLite
has no INCLUDE: its indexes stay as they are.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 12:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_jobs_robot_state": ["tenant_id", "robot_id", "state", "id"],
    "ix_jobs_tenant_state": ["tenant_id", "state", "id"],
    "ix_jobs_release": ["tenant_id", "release_id", "id"],
    "ix_jobs_creation_time": ["tenant_id", "creation_time"],
    "ix_jobs_release_state": ["tenant_id", "release_id", "state"],
}


def _rebuild(include: list[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="jobs")
        op.create_index(name, "jobs", columns, unique=False, postgresql_include=include)


def upgrade() -> None:
    _rebuild(["folder_id"])


def downgrade() -> None:
    _rebuild([])
