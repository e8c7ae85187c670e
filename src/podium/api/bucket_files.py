"""Files of a bucket: GetFiles, GetDirectories, GetFile, DeleteFile, GetReadUri, GetWriteUri (OData) and
``/api/Buckets/{id}/ListFiles`` (the SDK's cursor listing). The bytes themselves move through the URIs
(``blob_files.py`` for Podium's own, the provider's pre-signed URL for S3), never through these calls.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from podium import inputs
from podium.api.buckets import BUCKETS
from podium.domain.bucket_files import bucket_where, list_page, matches_glob, path_of_token
from podium.domain.buckets import THROUGH_PODIUM, require_writable
from podium.errors import PodiumError, forbidden, not_found
from podium.http.context import RequestContext, request_context
from podium.odata import service
from podium.odata.computed import RowType, query_rows
from podium.odata.declare import boolean, integer, text
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, json_response, param
from podium.odata.serialize import format_datetime
from podium.storage import paths
from podium.storage.base import BlobInfo, BlobStore, file_missing
from podium.storage.factory import bucket_store
from podium.storage.signing import ROUTE, BlobGrant, derive_key, sign

router = APIRouter(tags=["Buckets"])
area = Area("Buckets", router)

DEFAULT_EXPIRY_MINUTES = 60
MAX_EXPIRY_MINUTES = 7 * 24 * 60  # S3's limit for pre-signed URLs
DEFAULT_TAKE = 500


async def bucket_row(ctx: RequestContext, key: Any, verb: str = "View") -> Mapping[str, Any]:
    """The bucket if the caller sees it (404 otherwise) and holds ``Buckets.<verb>`` there (403 otherwise)."""
    bucket_id = inputs.url_id(key, "key")
    async with ctx.state.db.read() as conn:
        row = None
        for needed in dict.fromkeys(("View", verb)):
            conditions = await service.scope_conditions(ctx, conn, BUCKETS, needed)
            row = await bucket_where(conn, bucket_id, conditions)
            if row is None and needed == "View":
                raise not_found("Bucket does not exist.")
            if row is None:
                raise forbidden(f"You are not authorized! (missing permission Buckets.{verb})")
    assert row is not None
    return row


def _store(ctx: RequestContext, row: Mapping[str, Any]) -> BlobStore:
    return bucket_store(ctx.state.settings, row)


def file_dto(info: BlobInfo) -> dict[str, Any]:
    return {
        "FullPath": info.path,
        "ContentType": info.content_type,
        "Size": info.size,
        "IsDirectory": False,
        "Id": info.path,
    }


def _directory_dto(path: str) -> dict[str, Any]:
    return {"FullPath": path, "ContentType": None, "Size": 0, "IsDirectory": True, "Id": path}


def _optional(call: ActionCall, name: str) -> str | None:
    try:
        value = param(call, name)
    except PodiumError:
        return None
    return None if value is None else str(value)


BLOB_FILE = RowType(
    "BlobFileDto",
    [text("FullPath"), text("ContentType"), integer("Size"), boolean("IsDirectory"), text("Id")],
)


@area.operation(
    "Buckets",
    "GetFiles",
    method="GET",
    bound_to_entity=True,
    returns="BlobFiles",
    summary="Files of a directory, optionally of every subdirectory too",
    parameters=("directory", "recursive", "fileNameGlob"),
)
async def get_files(ctx: RequestContext, call: ActionCall) -> Response:
    row = await bucket_row(ctx, call.key)
    directory = paths.directory_path(_optional(call, "directory"))
    recursive = (_optional(call, "recursive") or "false").lower() == "true"
    glob = _optional(call, "fileNameGlob")
    listing = await _store(ctx, row).list(directory, recursive=recursive)
    items = [file_dto(info) for info in listing.files if matches_glob(glob, info.path)]
    page = query_rows(BLOB_FILE, items, call.options)
    return collection(ctx, "BlobFiles", page.rows, page.count)


@area.operation(
    "Buckets",
    "GetDirectories",
    method="GET",
    bound_to_entity=True,
    returns="BlobFiles",
    summary="Child directories of a directory",
    parameters=("directory", "fileNameGlob"),
)
async def get_directories(ctx: RequestContext, call: ActionCall) -> Response:
    row = await bucket_row(ctx, call.key)
    directory = paths.directory_path(_optional(call, "directory"))
    glob = _optional(call, "fileNameGlob")
    listing = await _store(ctx, row).list(directory, recursive=False)
    items = [_directory_dto(path) for path in listing.directories if matches_glob(glob, path)]
    page = query_rows(BLOB_FILE, items, call.options)
    return collection(ctx, "BlobFiles", page.rows, page.count)


@area.operation(
    "Buckets",
    "GetFile",
    method="GET",
    bound_to_entity=True,
    returns="BlobFileDto",
    summary="Metadata of one file",
    parameters=("path",),
)
async def get_file(ctx: RequestContext, call: ActionCall) -> Response:
    row = await bucket_row(ctx, call.key)
    path = paths.file_path(_optional(call, "path"))
    info = await _store(ctx, row).head(path)
    if info is None:
        raise file_missing(path)
    return json_response(file_dto(info))


@area.operation(
    "Buckets",
    "DeleteFile",
    method="DELETE",
    bound_to_entity=True,
    summary="Deletes a file",
    parameters=("path",),
)
async def delete_file(ctx: RequestContext, call: ActionCall) -> None:
    row = await bucket_row(ctx, call.key, "Edit")
    require_writable(row)
    path = paths.file_path(_optional(call, "path"))
    if not await _store(ctx, row).delete(path):
        raise file_missing(path)


def _expiry(call: ActionCall) -> dt.timedelta:
    raw = _optional(call, "expiryInMinutes")
    if raw is None or raw == "":
        return dt.timedelta(minutes=DEFAULT_EXPIRY_MINUTES)
    minutes = inputs.integer(inputs.url_integer(raw), "expiryInMinutes", high=MAX_EXPIRY_MINUTES)
    return dt.timedelta(minutes=minutes or DEFAULT_EXPIRY_MINUTES)


async def _access(ctx: RequestContext, call: ActionCall, verb: str) -> dict[str, Any]:
    row = await bucket_row(ctx, call.key, "View" if verb == "GET" else "Edit")
    path = paths.file_path(_optional(call, "path"))
    content_type = _optional(call, "contentType")
    store = _store(ctx, row)
    if verb == "PUT":
        require_writable(row)
    if verb == "GET" and await store.head(path) is None:
        raise file_missing(path)
    expiry = _expiry(call)
    signed = None if row["options"] & THROUGH_PODIUM else await store.sign(verb, path, expiry, content_type)
    if signed is not None:
        uri, headers = signed.uri, signed.headers
    else:
        grant = BlobGrant(
            ctx.tenant_id, row["id"], path, verb, int(time.time() + expiry.total_seconds()), content_type
        )
        token = sign(derive_key(ctx.state.signing_key), grant)
        url = call.request.url
        uri, headers = f"{url.scheme}://{url.netloc}{ROUTE}{token}", {}
    return {
        "Uri": uri,
        "Verb": verb,
        "RequiresAuth": False,
        "Headers": {"Keys": list(headers), "Values": list(headers.values())},
    }


@area.operation(
    "Buckets",
    "GetReadUri",
    method="GET",
    bound_to_entity=True,
    returns="BlobFileAccessDto",
    summary="A direct download URL for a file",
    parameters=("path", "expiryInMinutes"),
)
async def get_read_uri(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    return await _access(ctx, call, "GET")


@area.operation(
    "Buckets",
    "GetWriteUri",
    method="GET",
    bound_to_entity=True,
    returns="BlobFileAccessDto",
    summary="A direct upload URL for a file",
    parameters=("path", "expiryInMinutes", "contentType"),
)
async def get_write_uri(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    return await _access(ctx, call, "PUT")


@router.get(
    "/api/Buckets/{bucket_id}/ListFiles", summary="Files whose path starts with a prefix, page by page"
)
async def list_files(bucket_id: str, request: Request) -> Response:
    ctx = await request_context(request)
    row = await bucket_row(ctx, bucket_id)
    query = request.query_params
    prefix = paths.prefix_path(query.get("prefix"))
    take_hint = inputs.url_integer(query.get("takeHint") or DEFAULT_TAKE)
    take = inputs.integer(take_hint, "takeHint", low=1, high=inputs.INT64_MAX)
    after = path_of_token(query["continuationToken"]) if query.get("continuationToken") else None
    directory = prefix.rpartition("/")[0]
    listing = await _store(ctx, row).list(directory, recursive=True)
    page, token = list_page(listing.files, prefix, after, take)
    return json_response({"items": [_listed(info) for info in page], "continuationToken": token})


def _listed(info: BlobInfo) -> dict[str, Any]:
    return {
        "fullPath": "/" + info.path,
        "contentType": info.content_type,
        "size": info.size,
        "lastModified": format_datetime(info.last_modified) if info.last_modified else None,
    }
