"""What the Processes and Libraries feeds share: which feed a request means, who may do what in it,
reading package versions (lists, versions, one version, download, arguments), and
``/api/PackageFeeds`` (the feeds a caller may publish to).

Permissions: listing and reading versions needs ``<area>.View`` (Packages for processes, Libraries for
libraries) across the tenant, or in the folder owning a folder feed. Downloading a package and reading
its arguments is also allowed to whoever may view processes there (robots and automation users run
what the feed holds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import FileResponse

from podium import inputs
from podium.domain.package_feeds import (
    LIBRARIES,
    PROCESSES,
    Feed,
    find_version,
    folder_feeds,
    latest_of_tenant_feed,
    listed_versions,
    resolve_feed,
    tenant_feed,
    with_id,
)
from podium.errors import bad_request, not_found
from podium.http.context import RequestContext, request_context
from podium.odata import service
from podium.odata.declare import boolean, constant, text, when
from podium.odata.model import Edm, EntitySet, Field
from podium.odata.options import QueryOptions
from podium.odata.registry import Area
from podium.storage.packages import PackageStore

router = APIRouter(tags=["Packages"])
area = Area("PackageFeeds", router)
KEY_LENGTH = 200  # package_versions.key: "<id>:<version>"


@dataclass(frozen=True)
class FeedArea:
    entity: EntitySet  # Processes (ProcessDto) or Libraries (LibraryDto)
    purpose: str  # Processes | Libraries
    permission: str  # Packages | Libraries


def tenant_feed_latest(purpose: str) -> Callable[[RequestContext], list[ColumnElement[bool]]]:
    """The generic OData layer (e.g. ``$count``) sees the tenant feed's latest versions only."""
    return lambda ctx: latest_of_tenant_feed(purpose)


def package_fields(project_type: str) -> list[Field]:
    """The properties ProcessDto and LibraryDto share."""
    return [
        text("Title", "title", read_only=True),
        text("Version", "version", read_only=True),
        text("Key", "key", read_only=True),
        text("Description", "description", read_only=True),
        when("Published", "published", read_only=True),
        boolean("IsLatestVersion", "is_latest_version", read_only=True),
        constant("OldVersion", None),
        text("ReleaseNotes", "release_notes", read_only=True),
        text("Authors", "authors", read_only=True),
        constant("ProjectType", project_type),
        text("Tags", "tags", read_only=True),
        constant("IsCompiled", False, Edm.BOOLEAN),
        constant("LicenseUrl", None),
        constant("ProjectUrl", None),
        constant("ResourceTags", []),
        text("Id", "package_id", read_only=True, nullable=False),
    ]


def query_param(request: Request, name: str) -> str:
    """A query parameter named in any case ('' when absent), stripped."""
    lowered = name.lower()
    return next((v for k, v in request.query_params.items() if k.lower() == lowered), "").strip()


async def request_feed(ctx: RequestContext, conn: AsyncConnection, area: FeedArea, request: Request) -> Feed:
    """The feed named by ``feedId`` (none: the tenant's feed of the area); 404 when unknown."""
    return await resolve_feed(conn, ctx.tenant_id, area.purpose, query_param(request, "feedId") or None)


def require(ctx: RequestContext, area: FeedArea, feed: Feed, verb: str) -> None:
    ctx.require(f"{area.permission}.{verb}", feed.folder_path)


def require_read(ctx: RequestContext, area: FeedArea, feed: Feed) -> None:
    """``<area>.View`` for the feed, or ``Processes.View`` where the feed's packages run."""
    principal = ctx.principal
    if principal.has(f"{area.permission}.View", feed.folder_path):
        return
    if feed.folder_path is not None and principal.has("Processes.View", feed.folder_path):
        return
    if feed.folder_path is None and (
        "Processes.View" in principal.tenant_permissions or principal.folder_grants("Processes.View")
    ):
        return
    require(ctx, area, feed, "View")


def split_key(key: Any) -> tuple[str, str | None]:
    """``'Name:1.0.0'`` -> (Name, 1.0.0); ``'Name'`` -> (Name, None): the latest version."""
    text = inputs.text(key, "The package key", max_length=KEY_LENGTH).strip()
    if not text:
        raise bad_request("The package key must be '<package id>' or '<package id>:<version>'.")
    name, _, version = text.partition(":")
    return name, version or None


def shape_dto(dto: dict[str, Any]) -> dict[str, Any]:
    """JSON columns become objects: Arguments (ArgumentMetadata), EntryPoints (list of EntryPointDto)."""
    for name in ("Arguments", "EntryPoints"):
        if isinstance(dto.get(name), str):
            dto[name] = orjson.loads(dto[name])
    return dto


async def page(
    ctx: RequestContext,
    area: FeedArea,
    request: Request,
    options: QueryOptions,
    *,
    latest_only: bool = False,
    package_id: str | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the request's feed (``feedId``) with OData options and ``searchTerm``: its latest
    versions, or every version of one package."""
    async with ctx.state.db.read() as conn:
        feed = await request_feed(ctx, conn, area, request)
        require(ctx, area, feed, "View")
        conditions = listed_versions(
            ctx.tenant_id,
            feed,
            latest_only=latest_only,
            package_id=package_id,
            search_term=query_param(request, "searchTerm"),
        )
        result = await service.run_page(ctx, conn, area.entity, options, conditions)
    return [shape_dto(dto) for dto in result.rows], result.count


async def one(
    ctx: RequestContext, area: FeedArea, request: Request, key: Any, options: QueryOptions
) -> dict[str, Any]:
    name, version = split_key(key)
    async with ctx.state.db.read() as conn:
        feed = await request_feed(ctx, conn, area, request)
        require(ctx, area, feed, "View")
        row = await find_version(conn, ctx.tenant_id, feed, name, version)
        single = QueryOptions(select=options.select, expand=options.expand, top=1, count=False)
        result = await service.run_page(ctx, conn, area.entity, single, with_id(row["id"]))
    return shape_dto(result.rows[0])


async def download(ctx: RequestContext, area: FeedArea, request: Request, key: Any) -> FileResponse:
    """Streams the stored ``.nupkg`` of ``'<id>:<version>'`` (or of the latest version)."""
    name, version = split_key(key)
    async with ctx.state.db.read() as conn:
        feed = await request_feed(ctx, conn, area, request)
        require_read(ctx, area, feed)
        row = await find_version(conn, ctx.tenant_id, feed, name, version)
    path = PackageStore.of(ctx.state.settings).path(row["file_name"])
    if not path.is_file():
        raise not_found(f"The file of package '{row['key']}' is missing from the feed folder.")
    return FileResponse(
        path, media_type="application/octet-stream", filename=f"{row['package_id']}.{row['version']}.nupkg"
    )


async def arguments(ctx: RequestContext, area: FeedArea, request: Request, key: Any) -> dict[str, Any]:
    name, version = split_key(key)
    async with ctx.state.db.read() as conn:
        feed = await request_feed(ctx, conn, area, request)
        require_read(ctx, area, feed)
        row = await find_version(conn, ctx.tenant_id, feed, name, version)
    stored = orjson.loads(row["arguments"]) if row["arguments"] else {}
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#UiPath.Server.Configuration.OData.ArgumentMetadata",
        "Input": stored.get("Input"),
        "Output": stored.get("Output"),
    }


@router.get("/api/PackageFeeds/GetFeeds", summary="The feeds packages can be published to")
async def get_feeds(request: Request) -> list[dict[str, str]]:
    """The tenant's processes and libraries feeds, then each folder the caller may publish to, named
    ``Orchestrator <folder path> Feed`` with the id of the feed that folder uses (``uipath publish
    --folder NAME`` matches on it)."""
    ctx = await request_context(request)
    async with ctx.state.db.read() as conn:
        feeds = [
            await tenant_feed(conn, ctx.tenant_id, PROCESSES),
            await tenant_feed(conn, ctx.tenant_id, LIBRARIES),
        ]
        listed = [{"purpose": f.purpose, "name": f.display_name, "id": f.id} for f in feeds]
        for path, feed in await folder_feeds(conn, ctx.tenant_id):
            if ctx.principal.has("Packages.Create", path) or ctx.principal.has("Packages.View", path):
                listed.append({"purpose": PROCESSES, "name": f"Orchestrator {path} Feed", "id": feed.id})
    return listed


@router.get("/api/PackageFeeds/GetFolderFeed", summary="The id of the feed a folder uses")
async def get_folder_feed(request: Request, folderId: int) -> str:
    ctx = await request_context(request)
    async with ctx.state.db.read() as conn:
        folder = await ctx.folder_by_id(conn, folderId)
        ctx.require("Packages.View", folder.fully_qualified_name)
        feed = await resolve_feed(conn, ctx.tenant_id, PROCESSES, folder.key)
    return feed.id
