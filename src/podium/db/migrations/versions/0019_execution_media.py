"""execution_media: screenshots a robot uploads for a faulted job (ExecutionMedia); ExecutionMedia.*
permissions for the built-in Administrator and Folder Administrator roles of existing tenants, as new
tenants' roles hold them

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import podium.db.types

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

PERMISSIONS = tuple(f"ExecutionMedia.{verb}" for verb in ("View", "Create", "Edit", "Delete"))
ROLES = ("Administrator", "Folder Administrator")


def _grant_builtin_roles() -> None:
    roles = sa.table(
        "roles",
        sa.column("id", sa.BigInteger()),
        sa.column("name", sa.String()),
        sa.column("is_static", sa.Boolean()),
    )
    grants = sa.table(
        "role_permissions",
        sa.column("role_id", sa.BigInteger()),
        sa.column("name", sa.String()),
        sa.column("is_granted", sa.Boolean()),
    )
    bind = op.get_bind()
    query = sa.select(roles.c.id).where(roles.c.name.in_(ROLES), roles.c.is_static.is_(True))
    for role_id in [row.id for row in bind.execute(query)]:
        held = {row.name for row in bind.execute(sa.select(grants.c.name).where(grants.c.role_id == role_id))}
        missing = [p for p in PERMISSIONS if p not in held]
        if missing:
            bind.execute(
                sa.insert(grants), [{"role_id": role_id, "name": p, "is_granted": True} for p in missing]
            )


def upgrade() -> None:
    op.create_table(
        "execution_media",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("folder_id", sa.BigInteger(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("storage_location", sa.String(length=1024), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("creation_time", podium.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["folder_id"], ["folders.id"], name=op.f("fk_execution_media_folder_id_folders")
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_execution_media_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_execution_media_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_execution_media")),
        sa.UniqueConstraint("key", name=op.f("uq_execution_media_key")),
    )
    with op.batch_alter_table("execution_media", schema=None) as batch_op:
        batch_op.create_index("ix_execution_media_job", ["job_id", "id"], unique=False)
    _grant_builtin_roles()


def downgrade() -> None:
    with op.batch_alter_table("execution_media", schema=None) as batch_op:
        batch_op.drop_index("ix_execution_media_job")
    op.drop_table("execution_media")
    op.execute(
        "DELETE FROM role_permissions WHERE name IN ('ExecutionMedia.View', 'ExecutionMedia.Create',"
        " 'ExecutionMedia.Edit', 'ExecutionMedia.Delete')"
    )
