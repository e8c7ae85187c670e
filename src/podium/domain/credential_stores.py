"""Credential stores: where credential secrets are kept.

Podium has one store type, ``Database``: secrets sealed in Podium's own database (see
``podium.domain.crypto``). Every tenant has that built-in store, the default for every resource type.
Other types (CyberArk, Azure Key Vault, HashiCorp Vault ...) have the API shape only: they are listed
by no ``GetAvailableCredentialStoreTypes`` answer and cannot be created.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_assets import assets, credential_store_defaults, credential_stores
from podium.db.types import utcnow
from podium.errors import bad_request, conflict, not_found

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


def check_write(values: Mapping[str, Any], existing: Mapping[str, Any] | None) -> None:
    """Only an available type; a store keeps its type; the one Database store is the built-in one."""
    store_type = values.get("type", existing["type"] if existing else None)
    if store_type not in AVAILABLE_TYPES:
        raise bad_request(
            f"The credential store type {store_type!r} is not available"
            f" (available: {', '.join(AVAILABLE_TYPES)})."
        )
    if existing is not None and values.get("type", existing["type"]) != existing["type"]:
        raise bad_request("The type of a credential store cannot change.")
    if existing is None:
        raise conflict("A Database credential store already exists in this tenant.")


async def check_deletable(conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    """The built-in store stays, and so does a store that still holds credentials."""
    if row["is_builtin"]:
        raise bad_request("The built-in credential store cannot be deleted.")
    used = (
        await conn.execute(select(func.count()).where(assets.c.credential_store_id == row["id"]))
    ).scalar_one()
    if used:
        raise conflict("The credential store still holds credentials.")


async def check_store_exists(conn: AsyncConnection, tenant_id: int, store_id: int) -> None:
    """400 unless the tenant has this credential store (what an asset or a bucket names)."""
    found = await conn.execute(
        select(credential_stores.c.id).where(
            credential_stores.c.id == store_id, credential_stores.c.tenant_id == tenant_id
        )
    )
    if found.first() is None:
        raise bad_request(f"Credential store {store_id} does not exist.")


async def set_default_store(
    conn: AsyncConnection, tenant_id: int, store_id: int, resource_type: CredentialResourceType
) -> None:
    """Makes the tenant's store the default for the resource type (404 for another tenant's)."""
    store = (
        await conn.execute(
            select(credential_stores.c.id).where(
                credential_stores.c.id == store_id, credential_stores.c.tenant_id == tenant_id
            )
        )
    ).scalar()
    if store is None:
        raise not_found("Credential store does not exist.")
    await conn.execute(
        delete(credential_store_defaults).where(
            credential_store_defaults.c.tenant_id == tenant_id,
            credential_store_defaults.c.resource_type == int(resource_type),
        )
    )
    await conn.execute(
        insert(credential_store_defaults).values(
            tenant_id=tenant_id, resource_type=int(resource_type), credential_store_id=store
        )
    )


async def asset_credentials(conn: AsyncConnection, tenant_id: int, store_id: int) -> list[Mapping[str, Any]]:
    """The assets (id, name) whose credentials the store keeps."""
    found = await conn.execute(
        select(assets.c.id, assets.c.name)
        .where(assets.c.tenant_id == tenant_id, assets.c.credential_store_id == store_id)
        .order_by(assets.c.id)
    )
    return [dict(row) for row in found.mappings()]
