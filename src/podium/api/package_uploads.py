"""Writing to a feed: UploadPackage, deleting packages or versions, SetArguments.

An upload is streamed to an incoming file, then validated, recorded and moved into the feed folder
(``podium.domain.package_uploads``); the incoming file is discarded whatever happens, so a failure
leaves neither a row nor a file behind.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from podium import inputs
from podium.api.package_feeds import FeedArea, request_feed, require, split_key
from podium.domain import package_uploads
from podium.errors import bad_request
from podium.http.context import RequestContext
from podium.http.uploads import receive_file
from podium.odata.routes import json_response
from podium.storage.packages import PackageStore, discard

BULK_ITEM = "UiPath.Server.Configuration.OData.BulkItemDtoOfString"
ARGUMENT_LENGTH = 10 * 1024 * 1024  # a JSON schema of ArgumentMetadata: as much as a default request body


async def upload(ctx: RequestContext, area: FeedArea, request: Request) -> Response:
    """Stores one ``.nupkg``; answers Orchestrator's BulkItemDto list with ``Body`` = {"Id","Version"}."""
    async with ctx.state.db.read() as conn:
        feed = await request_feed(ctx, conn, area, request)
    require(ctx, area, feed, "Create")
    settings = ctx.state.settings
    store = PackageStore.of(settings)
    incoming = store.incoming_path()
    try:
        file_name = await receive_file(request, incoming, settings.max_package_bytes)
        row = await package_uploads.add_version(
            ctx.state.db, store, ctx.tenant_id, ctx.user_id, feed, incoming
        )
    finally:
        discard(incoming)
    body = orjson.dumps({"Id": row["package_id"], "Version": row["version"]}).decode()
    return json_response(
        {
            "@odata.context": f"{ctx.odata_base}/$metadata#Collection({BULK_ITEM})",
            "value": [{"Key": file_name, "Status": "OK", "Body": body}],
        }
    )


async def remove(ctx: RequestContext, area: FeedArea, request: Request, key: Any) -> None:
    """Deletes every version of ``'<id>'``, or one of ``'<id>:<version>'``; 409 while a release uses it."""
    name, version = split_key(key)
    async with ctx.state.db.write() as conn:
        feed = await request_feed(ctx, conn, area, request)
        require(ctx, area, feed, "Delete")
        file_names = await package_uploads.delete_versions(conn, ctx.tenant_id, feed, str(key), name, version)
    store = PackageStore.of(ctx.state.settings)
    for file_name in file_names:
        store.remove(file_name)


def _argument(value: Any, name: str) -> str | None:
    """One schema of ArgumentMetadata: a JSON text, or null."""
    schema = inputs.optional_text(value, f"arguments.{name}", max_length=ARGUMENT_LENGTH)
    if schema is None:
        return None
    try:
        orjson.loads(schema)
    except orjson.JSONDecodeError:
        raise bad_request(f"arguments.{name} is not valid JSON.") from None
    return schema


async def set_arguments(ctx: RequestContext, area: FeedArea, request: Request, body: dict[str, Any]) -> None:
    """Saves the argument metadata (``{"key": "<id>:<version>", "arguments": {"Input", "Output"}}``)."""
    arguments = inputs.json_object(body.get("arguments"), "arguments")
    stored = {
        "Input": _argument(arguments.get("Input"), "Input"),
        "Output": _argument(arguments.get("Output"), "Output"),
    }
    name, version = split_key(body.get("key"))
    async with ctx.state.db.write() as conn:
        feed = await request_feed(ctx, conn, area, request)
        require(ctx, area, feed, "Edit")
        await package_uploads.save_arguments(conn, ctx.tenant_id, feed, name, version, stored)
