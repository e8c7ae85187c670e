"""user_lockouts (failed sign-ins in a row, locked until); personal access tokens get a lifetime

Only interactive users (UserType User or DirectoryUser) create personal access tokens now, and each one
expires within ``PODIUM_PAT_MAX_DAYS`` (365) of its creation. Tokens a robot, a job or an external
application created before are revoked; tokens created without an expiry, or a longer one, expire
``PODIUM_PAT_MAX_DAYS`` after their creation (already, for older ones).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 10:00:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import podium.db.types
from podium.config import Settings

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INTERACTIVE_USER_TYPES = (0, 2)  # UserType.User, UserType.DirectoryUser

_users = sa.table("users", sa.column("id", sa.BigInteger()), sa.column("type", sa.SmallInteger()))
_tokens = sa.table(
    "access_tokens",
    sa.column("id", sa.BigInteger()),
    sa.column("user_id", sa.BigInteger()),
    sa.column("kind", sa.String()),
    sa.column("revoked", sa.Boolean()),
    sa.column("expires_at", podium.db.types.UTCDateTime()),
    sa.column("creation_time", podium.db.types.UTCDateTime()),
)


def upgrade() -> None:
    op.create_table(
        "user_lockouts",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", podium.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_failure_time", podium.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_lockouts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_lockouts")),
    )
    _limit_personal_access_tokens(Settings().pat_max_days)


def _limit_personal_access_tokens(max_days: int) -> None:
    bind = op.get_bind()
    not_interactive = sa.select(_users.c.id).where(_users.c.type.not_in(INTERACTIVE_USER_TYPES))
    bind.execute(
        sa.update(_tokens)
        .where(_tokens.c.kind == "pat", _tokens.c.user_id.in_(not_interactive))
        .values(revoked=True)
    )
    lifetime = dt.timedelta(days=max_days)
    rows = bind.execute(
        sa.select(_tokens.c.id, _tokens.c.creation_time, _tokens.c.expires_at).where(_tokens.c.kind == "pat")
    ).all()
    for token_id, created, expires in rows:
        latest = created + lifetime
        if expires is None or expires > latest:
            bind.execute(sa.update(_tokens).where(_tokens.c.id == token_id).values(expires_at=latest))


def downgrade() -> None:
    op.drop_table("user_lockouts")
