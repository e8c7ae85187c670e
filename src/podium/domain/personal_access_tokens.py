"""Personal access tokens: opaque secrets a user creates for itself, shown once and stored as their
digest (``podium.auth.passwords.token_digest``), revoked by their owner."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.auth.passwords import new_secret, token_digest
from podium.auth.tokens import PAT_PREFIX
from podium.db.schema import access_tokens
from podium.db.types import utcnow


@dataclass(frozen=True)
class IssuedToken:
    id: int
    secret: str  # the only time it is known
    expires_at: dt.datetime | None


async def create_token(
    conn: AsyncConnection, tenant_id: int, user_id: int, name: str, expires_in_days: int | None
) -> IssuedToken:
    secret = PAT_PREFIX + new_secret(32)
    now = utcnow()
    expires = now + dt.timedelta(days=expires_in_days) if expires_in_days else None
    token_id = (
        await conn.execute(
            insert(access_tokens)
            .values(
                tenant_id=tenant_id,
                user_id=user_id,
                name=name,
                token_hash=token_digest(secret),
                kind="pat",
                expires_at=expires,
                revoked=False,
                creation_time=now,
            )
            .returning(access_tokens.c.id)
        )
    ).scalar_one()
    return IssuedToken(int(token_id), secret, expires)


async def revoke_token(conn: AsyncConnection, user_id: int, token_id: int) -> bool:
    """Revokes the user's token; False when the user has no token ``token_id``."""
    result = await conn.execute(
        update(access_tokens)
        .where(access_tokens.c.id == token_id, access_tokens.c.user_id == user_id)
        .values(revoked=True)
    )
    return result.rowcount == 1
