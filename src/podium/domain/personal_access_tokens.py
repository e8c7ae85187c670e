"""Personal access tokens: opaque secrets a user creates for itself, shown once and stored as their
digest (``podium.auth.passwords.token_digest``), revoked by their owner or by an administrator of the
tenant. Every token expires: within ``PODIUM_PAT_MAX_DAYS`` of its creation (the handler checks the
lifetime asked for; who may create one is its rule too: interactive users only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.auth.passwords import new_secret, token_digest
from podium.auth.tokens import PAT_PREFIX
from podium.db.schema import access_tokens, users
from podium.db.types import utcnow
from podium.domain import revocations


@dataclass(frozen=True)
class IssuedToken:
    id: int
    secret: str  # the only time it is known
    expires_at: dt.datetime


async def create_token(
    conn: AsyncConnection, tenant_id: int, user_id: int, name: str, expires_in_days: int
) -> IssuedToken:
    secret = PAT_PREFIX + new_secret(32)
    now = utcnow()
    expires = now + dt.timedelta(days=expires_in_days)
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


async def list_tokens(conn: AsyncConnection, tenant_id: int, user_id: int | None) -> list[dict[str, Any]]:
    """The tenant's personal access tokens (``user_id``: that user's only), oldest first, revoked and
    expired ones too; never their secret."""
    query = (
        select(
            access_tokens.c.id,
            access_tokens.c.name,
            access_tokens.c.user_id,
            users.c.user_name,
            access_tokens.c.creation_time,
            access_tokens.c.expires_at,
            access_tokens.c.revoked,
        )
        .outerjoin(users, users.c.id == access_tokens.c.user_id)
        .where(access_tokens.c.tenant_id == tenant_id, access_tokens.c.kind == "pat")
        .order_by(access_tokens.c.id)
    )
    if user_id is not None:
        query = query.where(access_tokens.c.user_id == user_id)
    return [dict(row) for row in (await conn.execute(query)).mappings()]


async def revoke_token(conn: AsyncConnection, tenant_id: int, token_id: int, user_id: int | None) -> bool:
    """Revokes the tenant's token ``token_id`` (``user_id``: only if that user's); False when there is
    no such token."""
    condition = [access_tokens.c.id == token_id, access_tokens.c.tenant_id == tenant_id]
    if user_id is not None:
        condition.append(access_tokens.c.user_id == user_id)
    result = await conn.execute(update(access_tokens).where(*condition).values(revoked=True))
    if result.rowcount != 1:
        return False
    await revocations.note(conn, revocations.pat(token_id))  # every server process refuses it at once
    return True
