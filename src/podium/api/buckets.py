"""The Buckets entity set and its folder-sharing operations (ShareToFolders, GetBucketsAcrossFolders,
GetFoldersForBucket, GetByKey). File operations are in ``bucket_files.py``.

A bucket lives in the folder it was created in and may be shared to others: ``bucket_folders`` lists
every folder that sees it, and reads are scoped by that list (``EntitySet.shared_through``).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from podium.api.context import RequestContext
from podium.api.declare import choice, constant, guid, integer, key_id, text
from podium.db.schema import folders
from podium.db.schema_assets import credential_stores
from podium.db.schema_buckets import bucket_folders, buckets
from podium.domain.buckets import LOCAL_PROVIDER, BucketOptions, check_storage
from podium.errors import bad_request, conflict, not_found
from podium.odata import service
from podium.odata.model import EntitySet, Scope
from podium.odata.options import QueryOptions
from podium.odata.registry import ActionCall, registry
from podium.odata.routes import collection, entity, param, require_body
from podium.storage.factory import bucket_store
from podium.storage.secrets import seal


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
        settings = ctx.services.settings
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
    await bucket_store(ctx.services.settings, row).remove_all()


BUCKETS = registry.add(
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


def _unscoped(ctx: RequestContext) -> RequestContext:
    """The caller without its folder header: operations across folders ignore it."""
    return dataclasses.replace(ctx, folder=None)


@registry.operation(
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


@registry.operation(
    "Buckets",
    "GetBucketsAcrossFolders",
    method="GET",
    returns="Buckets",
    summary="Buckets of every folder where the caller has Buckets.View, except one folder",
    parameters=("excludeFolderId",),
)
async def across_folders(ctx: RequestContext, call: ActionCall) -> Response:
    extra: list[ColumnElement[bool]] = []
    raw = call.request.query_params.get("excludeFolderId")
    if raw:
        if not raw.lstrip("-").isdigit():
            raise bad_request("excludeFolderId must be an integer.")
        shared_there = select(bucket_folders.c.bucket_id).where(bucket_folders.c.folder_id == int(raw))
        extra.append(buckets.c.id.not_in(shared_there))
    page = await service.list_entities(_unscoped(ctx), BUCKETS, call.options, extra)
    return collection(ctx, "Buckets", page.rows, page.count)


async def _linked_folders(conn: AsyncConnection, bucket_id: int) -> list[Mapping[str, Any]]:
    query = (
        select(folders.c.id, folders.c.display_name, folders.c.fully_qualified_name)
        .join(bucket_folders, bucket_folders.c.folder_id == folders.c.id)
        .where(bucket_folders.c.bucket_id == bucket_id)
        .order_by(folders.c.fully_qualified_name)
    )
    return [dict(row) for row in (await conn.execute(query)).mappings()]


@registry.operation(
    "Buckets",
    "GetFoldersForBucket",
    method="GET",
    returns="AccessibleFoldersDto",
    summary="Folders the bucket is shared to that the caller can see, and how many in all",
    parameters=("id",),
)
async def folders_for_bucket(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    raw = param(call, "id")
    if isinstance(raw, bool) or not str(raw).isdigit():
        raise bad_request("id must be an integer.")
    unscoped = _unscoped(ctx)
    await service.get_entity(unscoped, BUCKETS, int(raw))  # 404 unless the caller sees the bucket
    async with ctx.services.db.read() as conn:
        linked = await _linked_folders(conn, int(raw))
    visible = [row for row in linked if ctx.principal.has("Buckets.View", row["fully_qualified_name"])]
    return {
        "AccessibleFolders": [
            {"DisplayName": r["display_name"], "FullyQualifiedName": r["fully_qualified_name"], "Id": r["id"]}
            for r in visible
        ],
        "TotalFoldersCount": len(linked),
    }


def _ids(body: Mapping[str, Any], name: str) -> list[int]:
    value = body.get(name) or []
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise bad_request(f"{name} must be a list of integers.")
    return list(dict.fromkeys(value))


@registry.operation(
    "Buckets", "ShareToFolders", summary="Adds buckets to folders and removes them from others"
)
async def share_to_folders(ctx: RequestContext, call: ActionCall) -> None:
    body = require_body(call)
    bucket_ids, to_add, to_remove = (
        _ids(body, n) for n in ("BucketIds", "ToAddFolderIds", "ToRemoveFolderIds")
    )
    if set(to_add) & set(to_remove):
        raise bad_request("A folder cannot be both added and removed.")
    unscoped = _unscoped(ctx)
    for bucket_id in bucket_ids:
        await service.get_entity(unscoped, BUCKETS, bucket_id)  # 404 unless visible to the caller
    async with ctx.services.db.write() as conn:
        added = [await ctx.folder_by_id(conn, folder_id) for folder_id in to_add]
        removed = [await ctx.folder_by_id(conn, folder_id) for folder_id in to_remove]
        for folder in added:
            ctx.require("Buckets.Create", folder.fully_qualified_name)
        for folder in removed:
            ctx.require("Buckets.Delete", folder.fully_qualified_name)
        for bucket_id in bucket_ids:
            await _share_one(ctx, conn, bucket_id, [f.id for f in added], [f.id for f in removed])


async def _share_one(
    ctx: RequestContext, conn: AsyncConnection, bucket_id: int, to_add: list[int], to_remove: list[int]
) -> None:
    row = (await conn.execute(select(buckets).where(buckets.c.id == bucket_id))).mappings().one()
    current = {r["id"] for r in await _linked_folders(conn, bucket_id)}
    for folder_id in (f for f in to_add if f not in current):
        clash = (
            select(buckets.c.id)
            .join(bucket_folders, bucket_folders.c.bucket_id == buckets.c.id)
            .where(bucket_folders.c.folder_id == folder_id, buckets.c.name == row["name"])
        )
        if (await conn.execute(clash)).first() is not None:
            raise conflict(f"The folder {folder_id} already has a bucket named '{row['name']}'.")
        await conn.execute(
            insert(bucket_folders).values(bucket_id=bucket_id, folder_id=folder_id, tenant_id=ctx.tenant_id)
        )
    remaining = (current | set(to_add)) - set(to_remove)
    if not remaining:
        raise bad_request("A bucket must stay in at least one folder.")
    await conn.execute(
        delete(bucket_folders).where(
            bucket_folders.c.bucket_id == bucket_id, bucket_folders.c.folder_id.in_(to_remove)
        )
    )
    values: dict[str, Any] = {"folders_count": len(remaining)}
    if row["folder_id"] not in remaining:  # the creation folder was removed: another one owns it now
        values["folder_id"] = min(remaining)
    await conn.execute(update(buckets).where(buckets.c.id == bucket_id).values(**values))
