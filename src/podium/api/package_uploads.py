"""Writing to a feed: UploadPackage, deleting packages or versions, SetArguments.

An upload is streamed to an incoming file, validated (a process package must be of a kind Podium
runs; a library needs only a valid manifest), recorded, and moved into the feed folder in the same
transaction; any failure leaves neither a row nor a file behind.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import Response

from podium.api.package_feeds import FeedArea, find_version, in_feed, request_feed, require, split_key
from podium.db.schema_packages import package_versions as pv
from podium.db.types import utcnow
from podium.domain import events
from podium.domain.package_feeds import PROCESSES, Feed, refresh_latest, releases_using
from podium.errors import bad_request, conflict, not_found
from podium.http.context import RequestContext
from podium.http.uploads import receive_file
from podium.odata.routes import json_response
from podium.packages import PackageError, read_nuspec, read_package, versions
from podium.storage.packages import PackageStore, discard

BULK_ITEM = "UiPath.Server.Configuration.OData.BulkItemDtoOfString"


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def process_columns(path: Path) -> dict[str, Any]:
    """Column values of a process package (raises PackageError)."""
    info = read_package(path)
    entry_points = [
        {
            "UniqueId": e.unique_id,
            "Path": e.path,
            "InputArguments": _json(e.input_schema),
            "OutputArguments": _json(e.output_schema),
            "DataVariation": None,
            "Id": index,
        }
        for index, e in enumerate(info.entry_points, start=1)
    ]
    return {
        "package_id": info.id,
        "version": info.version,
        "kind": info.kind,
        "title": info.title,
        "description": info.description,
        "authors": info.authors,
        "release_notes": info.release_notes,
        "tags": info.tags,
        "main_entry_point": info.main_entry_point,
        "supports_multiple_entry_points": len(info.entry_points) > 1,
        "entry_points": _json(entry_points),
        "arguments": _json({"Input": _json(info.input_arguments), "Output": _json(info.output_arguments)}),
        "dependencies": _json(info.dependencies),
    }


def library_columns(path: Path) -> dict[str, Any]:
    nuspec = read_nuspec(path)
    return {
        "package_id": nuspec.id,
        "version": nuspec.version,
        "title": nuspec.title,
        "description": nuspec.description,
        "authors": nuspec.authors,
        "release_notes": nuspec.release_notes,
        "tags": nuspec.tags,
        "dependencies": _json(nuspec.dependencies),
    }


def _complete(values: dict[str, Any], ctx: RequestContext, feed: Feed, size: int) -> dict[str, Any]:
    normalized = versions.normalize(values["version"])
    return {
        **values,
        "tenant_id": ctx.tenant_id,
        "feed": feed.name,
        "folder_id": feed.folder_id,
        "package_id_lower": values["package_id"].lower(),
        "version_normalized": normalized,
        "key": f"{values['package_id']}:{values['version']}",
        "is_prerelease": "-" in normalized,
        "package_size": size,
        "file_name": PackageStore.relative_path(ctx.tenant_id, feed.name, values["package_id"], normalized),
        "published": utcnow(),
        "creator_user_id": ctx.user_id,
    }


async def _record(
    ctx: RequestContext, feed: Feed, store: PackageStore, incoming: Path, values: dict[str, Any]
) -> None:
    placed = False
    try:
        async with ctx.state.db.write() as conn:
            exists = select(pv.c.id).where(
                *in_feed(ctx, feed),
                pv.c.package_id_lower == values["package_id_lower"],
                pv.c.version_normalized == values["version_normalized"],
            )
            if (await conn.execute(exists)).first() is not None:
                raise conflict(
                    f"Package '{values['package_id']}' version {values['version']} already exists."
                )
            try:
                await conn.execute(insert(pv).values(**values))
            except IntegrityError:
                raise conflict(
                    f"Package '{values['package_id']}' version {values['version']} already exists."
                ) from None
            await refresh_latest(conn, ctx.tenant_id, feed.name, values["package_id_lower"])
            payload = {"Id": values["package_id"], "Version": values["version"], "Feed": feed.id}
            await events.record(
                conn, ctx.tenant_id, "package.uploaded", values["key"], payload, feed.folder_id
            )
            store.place(incoming, values["file_name"])
            placed = True
    except BaseException:
        if placed:
            store.remove(values["file_name"])
        raise


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
        reader = process_columns if area.purpose == PROCESSES else library_columns
        try:
            values = await asyncio.to_thread(reader, incoming)
        except PackageError as error:
            raise bad_request(f"Invalid package: {error}") from None
        values = _complete(values, ctx, feed, incoming.stat().st_size)
        await _record(ctx, feed, store, incoming, values)
    finally:
        discard(incoming)
    body = orjson.dumps({"Id": values["package_id"], "Version": values["version"]}).decode()
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
        if version is not None:
            rows = [await find_version(ctx, conn, feed, name, version)]
        else:
            query = select(pv).where(*in_feed(ctx, feed), pv.c.package_id_lower == name.lower())
            rows = [dict(r) for r in (await conn.execute(query)).mappings()]
            if not rows:
                raise not_found(f"Package '{name}' does not exist in this feed.")
        if area.purpose == PROCESSES:
            using = await releases_using(conn, ctx.tenant_id, feed, name, version)
            if using:
                raise conflict(
                    f"Package '{key}' is used by the processes {', '.join(using)}; it cannot be deleted."
                )
        await conn.execute(delete(pv).where(pv.c.id.in_([row["id"] for row in rows])))
        await refresh_latest(conn, ctx.tenant_id, feed.name, name.lower())
        await events.record(
            conn, ctx.tenant_id, "package.deleted", str(key), {"Id": name, "Version": version}, feed.folder_id
        )
    store = PackageStore.of(ctx.state.settings)
    for row in rows:
        store.remove(row["file_name"])


def _argument(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"arguments.{name} must be a string (JSON) or null.")
    try:
        orjson.loads(value)
    except orjson.JSONDecodeError:
        raise bad_request(f"arguments.{name} is not valid JSON.") from None
    return value


async def set_arguments(ctx: RequestContext, area: FeedArea, request: Request, body: dict[str, Any]) -> None:
    """Saves the argument metadata (``{"key": "<id>:<version>", "arguments": {"Input", "Output"}}``)."""
    arguments = body.get("arguments")
    if not isinstance(arguments, dict):
        raise bad_request("The body needs 'key' and 'arguments': {\"Input\": ..., \"Output\": ...}.")
    stored = {
        "Input": _argument(arguments.get("Input"), "Input"),
        "Output": _argument(arguments.get("Output"), "Output"),
    }
    name, version = split_key(body.get("key"))
    async with ctx.state.db.write() as conn:
        feed = await request_feed(ctx, conn, area, request)
        require(ctx, area, feed, "Edit")
        row = await find_version(ctx, conn, feed, name, version)
        await conn.execute(update(pv).where(pv.c.id == row["id"]).values(arguments=_json(stored)))
