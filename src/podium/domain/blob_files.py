"""The bucket a signed blob URI grants access to (``/api/BlobFiles/{token}``: no bearer token, the
signed grant names the tenant, the bucket, the path and the verb; see ``storage/signing.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_buckets import buckets
from podium.errors import not_found
from podium.storage.signing import BlobGrant


async def granted_bucket(conn: AsyncConnection, grant: BlobGrant) -> Mapping[str, Any]:
    """The grant's bucket in the grant's tenant; 404 when it was deleted since."""
    query = select(buckets).where(buckets.c.id == grant.bucket_id, buckets.c.tenant_id == grant.tenant_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found("Bucket does not exist.")
    return dict(row)
