"""folder_machines (machines assigned to folders), workspace_explorers (administrators exploring a
personal workspace), folders.owner_user_id (a personal workspace's user)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import podium.db.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("folders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_user_id", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_folders_owner_user_id"), ["owner_user_id"], unique=False)
    op.create_table(
        "folder_machines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("folder_id", sa.BigInteger(), nullable=False),
        sa.Column("machine_id", sa.BigInteger(), nullable=False),
        sa.Column("propagate_to_subfolders", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["folders.id"],
            name=op.f("fk_folder_machines_folder_id_folders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["machines.id"],
            name=op.f("fk_folder_machines_machine_id_machines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_folder_machines")),
        sa.UniqueConstraint("folder_id", "machine_id", name=op.f("uq_folder_machines_folder_id")),
    )
    with op.batch_alter_table("folder_machines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_folder_machines_machine_id"), ["machine_id"], unique=False)
    op.create_table(
        "workspace_explorers",
        sa.Column("folder_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("start_time", podium.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["folders.id"],
            name=op.f("fk_workspace_explorers_folder_id_folders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_workspace_explorers_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("folder_id", "user_id", name=op.f("pk_workspace_explorers")),
    )


def downgrade() -> None:
    op.drop_table("workspace_explorers")
    with op.batch_alter_table("folder_machines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_folder_machines_machine_id"))
    op.drop_table("folder_machines")
    with op.batch_alter_table("folders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_folders_owner_user_id"))
        batch_op.drop_column("owner_user_id")
