"""Sealing the secret access key of an S3-compatible bucket.

The interface is two functions, ``seal(..., plaintext) -> str`` and ``unseal(..., sealed) -> str`` for one
bucket; they delegate to the keyring of ``podium.domain.crypto`` (AES-GCM, rotation by
``podium admin rotate-key``) with the associated data ``bucket:<tenant id>:<identifier>``, so a sealed
key copied into another bucket's row does not open. ``podium admin rotate-key`` must list
``buckets.secret`` with ``bucket_aad(row["tenant_id"], row["identifier"])`` among its sealed columns.
"""

from __future__ import annotations

from podium.config import Settings


def bucket_aad(tenant_id: int, identifier: str) -> str:
    return f"bucket:{tenant_id}:{identifier}"


def seal(settings: Settings, tenant_id: int, identifier: str, plaintext: str) -> str:
    from podium.domain.crypto import keyring_for

    return keyring_for(settings).seal(plaintext, bucket_aad(tenant_id, identifier))


def unseal(settings: Settings, tenant_id: int, identifier: str, sealed: str) -> str:
    from podium.domain.crypto import keyring_for

    return keyring_for(settings).open(sealed, bucket_aad(tenant_id, identifier))
