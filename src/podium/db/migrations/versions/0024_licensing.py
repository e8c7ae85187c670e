"""disabled_runtimes (LicensesRuntime ToggleEnabled) and license_units (/api/Licensing Acquire/Release):
what changes the licence use Podium reports (domain/licensing.py)

Revision ID: 0024
Revises: 0019
Create Date: 2026-12-06 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import podium.db.types

revision = "0024"
down_revision = "0019"
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity(always=False), nullable=False
    )


def _tenant(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "disabled_runtimes",
        _id(),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("machine_id", sa.BigInteger(), nullable=False),
        sa.Column("robot_type", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["machines.id"],
            name=op.f("fk_disabled_runtimes_machine_id_machines"),
            ondelete="CASCADE",
        ),
        _tenant("disabled_runtimes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disabled_runtimes")),
        sa.UniqueConstraint("machine_id", "robot_type", name=op.f("uq_disabled_runtimes_machine_id")),
    )
    op.create_table(
        "license_units",
        _id(),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=256), nullable=False),
        sa.Column("robot_type", sa.SmallInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("robot_id", sa.BigInteger(), nullable=True),
        sa.Column("acquired_time", podium.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["robot_id"], ["robots.id"], name=op.f("fk_license_units_robot_id_robots"), ondelete="CASCADE"
        ),
        _tenant("license_units"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_license_units")),
        sa.UniqueConstraint("tenant_id", "reference", "robot_type", name=op.f("uq_license_units_tenant_id")),
    )


def downgrade() -> None:
    op.drop_table("license_units")
    op.drop_table("disabled_runtimes")
