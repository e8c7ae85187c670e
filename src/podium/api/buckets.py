"""The Buckets entity set and its folder-sharing operations (ShareToFolders, GetBucketsAcrossFolders,
GetFoldersForBucket, GetByKey). File operations are in ``bucket_files.py``.

A bucket lives in the folder it was created in and may be shared to others (``api/folder_sharing.py``):
``bucket_folders`` lists every folder that sees it, and reads are scoped by that list
(``EntitySet.shared_through``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from podium.api import folder_sharing
from podium.api.folder_sharing import Sharing
from podium.db.schema_assets import credential_stores
from podium.db.schema_buckets import bucket_folders, buckets
from podium.domain.buckets import LOCAL_PROVIDER, BucketOptions, check_storage
from podium.errors import bad_request, conflict, not_found
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.declare import choice, constant, guid, integer, key_id, text
from podium.odata.model import EntitySet, Scope
from podium.odata.options import QueryOptions
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import entity, param
from podium.storage.factory import bucket_store
from podium.storage.secrets import seal

area = Area("Buckets")


async def _before_write(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    if "CredentialStoreId" in body:
        values["credential_store_id"] = await _credential_store(ctx, conn, body["CredentialStoreId"])
    if existing is None:
        values["identifier"] = values.get("identifier") or str(uuid.uuid4())
        values.setdefault("storage_provider", LOCAL_PROVIDER)
        values["storage_provider"] = values["storage_provider"] or LOCAL_PROVIDER
        values["folders_count"] = 1
        taken = select(buckets.c.id).where(
            buckets.c.tenant_id == ctx.tenant_id, buckets.c.identifier == values["identifier"]
        )
        if (await conn.execute(taken)).first() is not None:
            raise conflict(f"A bucket with the identifier '{values['identifier']}' already exists.")
    elif values.get("identifier", existing["identifier"]) != existing["identifier"]:
        raise bad_request("The Identifier of a bucket cannot be changed.")
    merged = {**(existing or {}), **values}
    given = "Password" in body
    secret = values.pop("secret", None)
    check_storage(merged, bool(secret) if given else bool(existing and existing.get("secret")))
    if given:
        settings = ctx.state.settings
        values["secret"] = seal(settings, ctx.tenant_id, merged["identifier"], secret) if secret else None


async def _credential_store(ctx: RequestContext, conn: AsyncConnection, value: Any) -> int | None:
    """The tenant's credential store that holds the bucket's secret (given as an id or its text)."""
    if value is None:
        return None
    text_value = str(value).strip()
    if (
        isinstance(value, bool)
        or not text_value.isascii()
        or not text_value.isdigit()
        or len(text_value) > 18
    ):
        raise bad_request("CredentialStoreId must be the id of a credential store.")
    found = select(credential_stores.c.id).where(
        credential_stores.c.id == int(text_value), credential_stores.c.tenant_id == ctx.tenant_id
    )
    if (await conn.execute(found)).first() is None:
        raise bad_request(f"Credential store {text_value} does not exist.")
    return int(text_value)


async def _link_creation_folder(
    ctx: RequestContext,
    conn: AsyncConnection,
    bucket_id: int,
    values: dict[str, Any],
    body: Mapping[str, Any],
) -> None:
    await conn.execute(
        insert(bucket_folders).values(
            bucket_id=bucket_id, folder_id=values["folder_id"], tenant_id=ctx.tenant_id
        )
    )


async def _before_delete(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    await conn.execute(delete(bucket_folders).where(bucket_folders.c.bucket_id == row["id"]))
    await bucket_store(ctx.state.settings, row).remove_all()


BUCKETS = area.add(
    EntitySet(
        name="Buckets",
        type_name="BucketDto",
        table=buckets,
        scope=Scope.FOLDER,
        permission="Buckets",
        unique=("name",),
        shared_through=(bucket_folders, "bucket_id"),
        before_write=_before_write,
        after_insert=_link_creation_folder,
        before_delete=_before_delete,
        fields=[
            text("Name", "name", required=True, nullable=False, max_length=128),
            text("Description", "description", max_length=512),
            guid("Identifier", "identifier"),
            text("StorageProvider", "storage_provider", max_length=64),
            text("StorageParameters", "storage_parameters", max_length=2048),
            text("StorageContainer", "storage_container", max_length=512),
            choice("Options", BucketOptions, "options", nullable=False),
            # answered as text: the SDK's Bucket model types it str (Orchestrator's integer breaks it)
            text("CredentialStoreId", "credential_store_id", read_only=True),
            text("ExternalName", "external_name", max_length=512),
            text("Password", "secret", write_only=True),
            integer("FoldersCount", "folders_count", read_only=True),
            constant("Tags", []),
            key_id(),
        ],
    )
)


SHARING = Sharing(
    BUCKETS, bucket_folders, "bucket_id", ids_name="BucketIds", noun="bucket", creation_folder_stays=False
)


@area.operation(
    "Buckets",
    "GetByKey",
    method="GET",
    summary="Gets a bucket by its Identifier",
    returns="BucketDto",
    parameters=("identifier",),
)
async def get_by_key(ctx: RequestContext, call: ActionCall) -> Response:
    identifier = str(param(call, "identifier")).strip("'").lower()
    single = QueryOptions(select=call.options.select, top=1, count=False)
    condition: ColumnElement[bool] = func.lower(buckets.c.identifier) == identifier
    page = await service.list_entities(ctx, BUCKETS, single, [condition])
    if not page.rows:
        raise not_found("Bucket does not exist.")
    return entity(ctx, "Buckets", page.rows[0])


@area.operation(
    "Buckets",
    "GetBucketsAcrossFolders",
    method="GET",
    returns="Buckets",
    summary="Buckets of every folder where the caller has Buckets.View, except one folder",
    parameters=("excludeFolderId",),
)
async def across_folders(ctx: RequestContext, call: ActionCall) -> Response:
    return await folder_sharing.across_folders(ctx, call, SHARING)


@area.operation(
    "Buckets",
    "GetFoldersForBucket",
    method="GET",
    returns="AccessibleFoldersDto",
    summary="Folders the bucket is shared to that the caller can see, and how many in all",
    parameters=("id",),
)
async def folders_for_bucket(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    return await folder_sharing.folders_of(ctx, call, SHARING)


@area.operation(
    "Buckets", "ShareToFolders", summary="Adds buckets to folders and removes them from others"
)
async def share_to_folders(ctx: RequestContext, call: ActionCall) -> None:
    await folder_sharing.share_to_folders(ctx, call, SHARING)
