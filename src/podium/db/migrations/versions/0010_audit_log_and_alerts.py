"""audit_logs and audit_log_entities (the audit log); alert_notifications (each user's copy of an alert)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 07:11:13.860991
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import podium.db.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_logs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("service_name", sa.String(length=128), nullable=False),
        sa.Column("method_name", sa.String(length=128), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=True),
        sa.Column("execution_time", podium.db.types.UTCDateTime(), nullable=False),
        sa.Column("action", sa.SmallInteger(), nullable=False),
        sa.Column("component", sa.SmallInteger(), nullable=False),
        sa.Column("display_name", sa.String(length=512), nullable=True),
        sa.Column("entity_id", sa.BigInteger(), nullable=True),
        sa.Column("operation_text", sa.Text(), nullable=False),
        sa.Column("user_name", sa.String(length=256), nullable=True),
        sa.Column("user_type", sa.SmallInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("user_is_deleted", sa.Boolean(), nullable=False),
        sa.Column("external_client_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_audit_logs_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_logs")),
    )
    with op.batch_alter_table("audit_logs", schema=None) as batch_op:
        batch_op.create_index("ix_audit_logs_tenant_time", ["tenant_id", "execution_time"], unique=False)

    op.create_table(
        "alert_notifications",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=36), nullable=False),
        sa.Column("alert_key", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("folder_id", sa.BigInteger(), nullable=True),
        sa.Column("notification_name", sa.String(length=128), nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("component", sa.SmallInteger(), nullable=False),
        sa.Column("severity", sa.SmallInteger(), nullable=False),
        sa.Column("creation_time", podium.db.types.UTCDateTime(), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("deep_link", sa.String(length=512), nullable=True),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["folders.id"],
            name=op.f("fk_alert_notifications_folder_id_folders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_alert_notifications_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_alert_notifications_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notifications")),
        sa.UniqueConstraint("key", name=op.f("uq_alert_notifications_key")),
    )
    with op.batch_alter_table("alert_notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_alert_notifications_user", ["user_id", "state", "creation_time"], unique=False
        )

    op.create_table(
        "audit_log_entities",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("audit_log_id", sa.BigInteger(), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=True),
        sa.Column("entity_name", sa.String(length=128), nullable=False),
        sa.Column("action", sa.SmallInteger(), nullable=False),
        sa.Column("custom_data", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["audit_log_id"],
            ["audit_logs.id"],
            name=op.f("fk_audit_log_entities_audit_log_id_audit_logs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_entities")),
    )
    with op.batch_alter_table("audit_log_entities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_log_entities_audit_log_id"), ["audit_log_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_log_entities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_entities_audit_log_id"))

    op.drop_table("audit_log_entities")
    with op.batch_alter_table("alert_notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_notifications_user")

    op.drop_table("alert_notifications")
    with op.batch_alter_table("audit_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_logs_tenant_time")

    op.drop_table("audit_logs")
