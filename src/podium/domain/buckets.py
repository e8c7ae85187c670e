"""Rules of storage buckets: providers, options, and the storage settings of a bucket row.

Podium's own storage ("Orchestrator", the default) keeps files in the data folder. An S3-compatible
provider ("Amazon", "Minio", "S3Compatible") is configured by the DTO as:

- ``StorageContainer``: the S3 bucket name;
- ``StorageParameters``: ``Endpoint=http://host:9000;Region=eu-west-1;AccessKeyId=AKIA...`` (``;``
  separated ``key=value``, keys in any case; ``AddressingStyle=virtual`` for virtual-hosted URLs);
- ``Password``: the secret access key (write-only, sealed at rest).

Where an S3 bucket's requests go is checked when its storage settings are written, and again before
each request (``storage.s3.check_target``: public https endpoints only, unless
``PODIUM_OUTBOUND_ALLOW_PRIVATE=1``).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.config import Settings
from podium.db.schema_buckets import bucket_folders, buckets
from podium.errors import bad_request, conflict
from podium.storage.s3 import S3Settings, check_target
from podium.storage.secrets import seal

LOCAL_PROVIDER = "Orchestrator"
STORAGE_FIELDS = ("storage_provider", "storage_parameters", "storage_container")
_LOCAL = {"orchestrator", "local", "podium"}
_S3 = {"amazon", "minio", "s3compatible", "s3"}

BucketOptions: type[enum.IntEnum] = enum.IntEnum(  # type: ignore[assignment]
    "BucketOptions",
    [("None", 0), ("ReadOnly", 1), ("AuditReadAccess", 2), ("AccessDataThroughOrchestrator", 4)],
)
READ_ONLY = 1
THROUGH_PODIUM = 4

FOLDER_LINK = bucket_folders  # every folder that sees a bucket, its creation folder included
SHARED_THROUGH = (FOLDER_LINK, "bucket_id")


def is_local(provider: str | None) -> bool:
    return provider is None or provider.strip().lower() in _LOCAL


def parse_parameters(text: str | None) -> dict[str, str]:
    """``A=1;b=2`` → ``{"a": "1", "b": "2"}``; 400 for a part without '='."""
    result: dict[str, str] = {}
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise bad_request(f"StorageParameters: '{part.strip()}' is not 'name=value'.")
        result[name.strip().lower()] = value.strip()
    return result


def check_storage(values: Mapping[str, Any], has_secret: bool) -> None:
    """400 unless the provider is known and an S3 bucket names its container, endpoint and keys."""
    provider = values.get("storage_provider")
    if is_local(provider):
        return
    if str(provider).strip().lower() not in _S3:
        raise bad_request(
            f"The storage provider '{provider}' is not supported: use Orchestrator or an S3-compatible one."
        )
    if not values.get("storage_container"):
        raise bad_request("StorageContainer (the S3 bucket name) is required for an S3-compatible provider.")
    parameters = parse_parameters(values.get("storage_parameters"))
    endpoint = parameters.get("endpoint")
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise bad_request("StorageParameters: Endpoint must be an http(s) URL.")
    if bool(parameters.get("accesskeyid")) != has_secret:
        raise bad_request(
            "An S3-compatible provider needs both AccessKeyId (StorageParameters) and Password, or neither."
        )


def s3_settings(row: Mapping[str, Any], secret: str | None) -> S3Settings:
    parameters = parse_parameters(row.get("storage_parameters"))
    return S3Settings(
        container=str(row["storage_container"]),
        endpoint=parameters.get("endpoint") or None,
        region=parameters.get("region") or "us-east-1",
        access_key_id=parameters.get("accesskeyid") or None,
        secret_access_key=secret,
        virtual_hosted=parameters.get("addressingstyle", "").lower() == "virtual",
    )


def require_writable(row: Mapping[str, Any]) -> None:
    if row["options"] & READ_ONLY:
        raise bad_request("The bucket is read-only.")


def identifier_is(identifier: str) -> ColumnElement[bool]:
    """The bucket with this Identifier (any case)."""
    return func.lower(buckets.c.identifier) == identifier.lower()


async def prepare_write(
    conn: AsyncConnection,
    tenant_id: int,
    settings: Settings,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    """A new bucket gets an Identifier (unique in the tenant) and the default provider; an Identifier
    never changes; the storage settings must hold together; a given Password is sealed (empty: none)."""
    if existing is None:
        values["identifier"] = values.get("identifier") or str(uuid.uuid4())
        values.setdefault("storage_provider", LOCAL_PROVIDER)
        values["storage_provider"] = values["storage_provider"] or LOCAL_PROVIDER
        values["folders_count"] = 1
        taken = select(buckets.c.id).where(
            buckets.c.tenant_id == tenant_id, buckets.c.identifier == values["identifier"]
        )
        if (await conn.execute(taken)).first() is not None:
            raise conflict(f"A bucket with the identifier '{values['identifier']}' already exists.")
    elif values.get("identifier", existing["identifier"]) != existing["identifier"]:
        raise bad_request("The Identifier of a bucket cannot be changed.")
    merged = {**(existing or {}), **values}
    given = "Password" in body
    secret = values.pop("secret", None)
    check_storage(merged, bool(secret) if given else bool(existing and existing.get("secret")))
    touched = existing is None or any(name in values for name in STORAGE_FIELDS)
    if touched and not is_local(merged.get("storage_provider")):
        await check_target(s3_settings(merged, None))
    if given:
        values["secret"] = seal(settings, tenant_id, merged["identifier"], secret) if secret else None


async def link_creation_folder(conn: AsyncConnection, tenant_id: int, bucket_id: int, folder_id: int) -> None:
    await conn.execute(
        insert(bucket_folders).values(bucket_id=bucket_id, folder_id=folder_id, tenant_id=tenant_id)
    )


async def unlink_folders(conn: AsyncConnection, bucket_id: int) -> None:
    await conn.execute(delete(bucket_folders).where(bucket_folders.c.bucket_id == bucket_id))
