"""queue_item_events without foreign keys to tenants and folders (issue 11)

Every history row checked its tenant and folder keys, which share-locks the tenant row and the folder
row: all transactions of a tenant's robots locked the same two rows (under contention a MultiXact and
a WAL record each). The item's own keys guarantee both; the item's ON DELETE CASCADE still removes its
history, and deleting a tenant deletes its rows by tenant_id (domain/tenants.delete_data).

Revision ID: 0021
Revises: 0024
Create Date: 2026-12-06 20:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0024"
branch_labels = None
depends_on = None

TABLE = "queue_item_events"


def upgrade() -> None:
    # SQLite copies the table (nothing references it); PostgreSQL drops the two constraints in place
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_queue_item_events_tenant_id_tenants"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_queue_item_events_folder_id_folders"), type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_queue_item_events_tenant_id_tenants"),
            "tenants",
            ["tenant_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_queue_item_events_folder_id_folders"), "folders", ["folder_id"], ["id"]
        )
