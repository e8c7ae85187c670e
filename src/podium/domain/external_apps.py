"""External applications: OAuth2 clients (client credentials) that act with the roles they are given.

Each application acts as a user of its own (``app:<client id>``, type DirectoryExternalApplication)
holding its tenant roles; its secret is stored hashed and shown once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.auth.passwords import hash_password, new_secret
from podium.db.schema import external_apps
from podium.db.types import utcnow
from podium.domain.enums import UserType
from podium.domain.roles import require_roles
from podium.domain.tenancy import create_user
from podium.domain.users import set_tenant_roles


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    secret: str  # the only time it is known


async def create_external_app(
    conn: AsyncConnection, tenant_id: int, name: str, role_ids: list[int]
) -> ClientCredentials:
    """Registers the application with the tenant roles ``role_ids`` (400, writing nothing, when one is
    not the tenant's)."""
    await require_roles(conn, tenant_id, role_ids, "RoleIds")
    client_id = str(uuid.uuid4())
    secret = new_secret(32)
    user_id = await create_user(
        conn, tenant_id, f"app:{client_id}", None, user_type=int(UserType.DirectoryExternalApplication)
    )
    await set_tenant_roles(conn, user_id, list(dict.fromkeys(role_ids)), [])
    await conn.execute(
        insert(external_apps).values(
            tenant_id=tenant_id,
            name=name,
            client_id=client_id,
            secret_hash=hash_password(secret),
            user_id=user_id,
            creation_time=utcnow(),
        )
    )
    return ClientCredentials(client_id, secret)
