"""queue sharing (queue_definition_folders, folders_count) and per-queue retention rows

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:30:04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_definition_folders",
        sa.Column("queue_definition_id", sa.BigInteger(), nullable=False),
        sa.Column("folder_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["folders.id"],
            name=op.f("fk_queue_definition_folders_folder_id_folders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["queue_definition_id"],
            ["queue_definitions.id"],
            name=op.f("fk_queue_definition_folders_queue_definition_id_queue_definitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_queue_definition_folders_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("queue_definition_id", "folder_id", name=op.f("pk_queue_definition_folders")),
    )
    with op.batch_alter_table("queue_definition_folders", schema=None) as batch_op:
        batch_op.create_index("ix_queue_definition_folders_folder", ["folder_id"], unique=False)
    # every existing queue is seen by its own folder (reads are scoped through this table)
    op.execute(
        "INSERT INTO queue_definition_folders (queue_definition_id, folder_id, tenant_id)"
        " SELECT id, folder_id, tenant_id FROM queue_definitions"
    )

    with op.batch_alter_table("queue_definitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("folders_count", sa.Integer(), nullable=False, server_default="1"))

    # queue_retention had no writer before this revision; rows are one per queue from now on
    op.execute("DELETE FROM queue_retention")
    with op.batch_alter_table("queue_retention", schema=None) as batch_op:
        batch_op.add_column(sa.Column("folder_id", sa.BigInteger(), nullable=False))
        batch_op.create_foreign_key(
            batch_op.f("fk_queue_retention_folder_id_folders"), "folders", ["folder_id"], ["id"]
        )
    op.execute(
        "INSERT INTO queue_retention (tenant_id, folder_id, queue_definition_id, action, period)"
        " SELECT tenant_id, folder_id, id, 0, 30 FROM queue_definitions"
    )


def downgrade() -> None:
    with op.batch_alter_table("queue_retention", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_queue_retention_folder_id_folders"), type_="foreignkey")
        batch_op.drop_column("folder_id")
    with op.batch_alter_table("queue_definitions", schema=None) as batch_op:
        batch_op.drop_column("folders_count")
    with op.batch_alter_table("queue_definition_folders", schema=None) as batch_op:
        batch_op.drop_index("ix_queue_definition_folders_folder")
    op.drop_table("queue_definition_folders")
