"""The Buckets entity set and its folder-sharing operations (ShareToFolders, GetBucketsAcrossFolders,
GetFoldersForBucket, GetByKey). File operations are in ``bucket_files.py``.

A bucket lives in the folder it was created in and may be shared to others (``api/folder_sharing.py``):
``bucket_folders`` lists every folder that sees it, and reads are scoped by that list
(``EntitySet.shared_through``). The rules and queries are in ``domain/buckets.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from podium import inputs
from podium.api import folder_sharing
from podium.api.folder_sharing import Sharing
from podium.db.schema_buckets import buckets
from podium.domain.buckets import (
    FOLDER_LINK,
    SHARED_THROUGH,
    BucketOptions,
    identifier_is,
    link_creation_folder,
    prepare_write,
    unlink_folders,
)
from podium.domain.credential_stores import check_store_exists
from podium.errors import not_found
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.declare import choice, guid, integer, key_id, tag_list, text
from podium.odata.model import EntitySet, Scope
from podium.odata.options import QueryOptions
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import entity, param
from podium.storage.factory import bucket_store

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
    await prepare_write(conn, ctx.tenant_id, ctx.state.settings, values, existing, body)


async def _credential_store(ctx: RequestContext, conn: AsyncConnection, value: Any) -> int | None:
    """The tenant's credential store that holds the bucket's secret (given as an id or its text)."""
    if value is None:
        return None
    store_id = inputs.url_id(value, "CredentialStoreId")
    await check_store_exists(conn, ctx.tenant_id, store_id)
    return store_id


async def _link_creation_folder(
    ctx: RequestContext,
    conn: AsyncConnection,
    bucket_id: int,
    values: dict[str, Any],
    body: Mapping[str, Any],
) -> None:
    await link_creation_folder(conn, ctx.tenant_id, bucket_id, values["folder_id"])


async def _before_delete(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    await unlink_folders(conn, row["id"])
    await bucket_store(ctx.state.settings, row).remove_all()


BUCKETS = area.add(
    EntitySet(
        name="Buckets",
        type_name="BucketDto",
        table=buckets,
        scope=Scope.FOLDER,
        permission="Buckets",
        unique=("name",),
        shared_through=SHARED_THROUGH,
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
            tag_list(),
            key_id(),
        ],
    )
)


SHARING = Sharing(
    BUCKETS, FOLDER_LINK, "bucket_id", ids_name="BucketIds", noun="bucket", creation_folder_stays=False
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
    identifier = str(param(call, "identifier")).strip("'")
    single = QueryOptions(select=call.options.select, top=1, count=False)
    page = await service.list_entities(ctx, BUCKETS, single, [identifier_is(identifier)])
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


@area.operation("Buckets", "ShareToFolders", summary="Adds buckets to folders and removes them from others")
async def share_to_folders(ctx: RequestContext, call: ActionCall) -> None:
    await folder_sharing.share_to_folders(ctx, call, SHARING)
