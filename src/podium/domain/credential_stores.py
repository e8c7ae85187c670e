"""Credential stores: where credential secrets are kept.

Podium has one store type, ``Database``: secrets sealed in Podium's own database (see
``podium.domain.crypto``). Every tenant has that built-in store, the default for every resource type.
Other types (CyberArk, Azure Key Vault, HashiCorp Vault ...) have the API shape only: they are listed
by no ``GetAvailableCredentialStoreTypes`` answer and cannot be created.
"""

from __future__ import annotations

import enum

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_assets import credential_store_defaults, credential_stores
from podium.db.types import utcnow

DATABASE = "Database"
BUILTIN_NAME = "Orchestrator Database"
AVAILABLE_TYPES = (DATABASE,)


class CredentialResourceType(enum.IntEnum):
    AssetCredential = 0
    RobotCredential = 1
    BucketCredential = 2
    Secrets = 3


async def ensure_builtin_store(conn: AsyncConnection, tenant_id: int) -> int:
    """The id of the tenant's built-in database store, created on first need."""
    found = (
        await conn.execute(
            select(credential_stores.c.id).where(
                credential_stores.c.tenant_id == tenant_id, credential_stores.c.is_builtin.is_(True)
            )
        )
    ).scalar()
    if found is not None:
        return int(found)
    new_id = (
        await conn.execute(
            insert(credential_stores)
            .values(
                tenant_id=tenant_id,
                name=BUILTIN_NAME,
                type=DATABASE,
                is_read_only=False,
                is_builtin=True,
                creation_time=utcnow(),
            )
            .returning(credential_stores.c.id)
        )
    ).scalar_one()
    return int(new_id)


async def default_store(conn: AsyncConnection, tenant_id: int, resource_type: CredentialResourceType) -> int:
    chosen = (
        await conn.execute(
            select(credential_store_defaults.c.credential_store_id).where(
                credential_store_defaults.c.tenant_id == tenant_id,
                credential_store_defaults.c.resource_type == int(resource_type),
            )
        )
    ).scalar()
    return int(chosen) if chosen is not None else await ensure_builtin_store(conn, tenant_id)
