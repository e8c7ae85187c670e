"""The Processes feed (Orchestrator's "Packages" area): upload, list, versions, download, delete and
argument metadata of process packages, and ``/api/PackageFeeds``.

``Processes`` lists each package once at its latest version (``ProcessDto``: ``Id`` = package id,
``Key`` = ``"<id>:<version>"``); ``GetProcessVersions`` lists every version. See docs/packages.md.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import ColumnElement

from podium.api import package_feeds, package_uploads
from podium.api.feed_routes import add_feed_routes
from podium.api.package_feeds import FeedArea
from podium.db.schema_packages import package_versions as pv
from podium.domain.package_feeds import LIBRARIES, PROCESSES, folder_feeds, resolve_feed, tenant_feed
from podium.http.context import RequestContext, request_context
from podium.odata.declare import boolean, constant, text, when
from podium.odata.model import Edm, EntitySet, Field, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, param, require_body

router = APIRouter(tags=["Packages"])
area = Area("Packages", router)


def tenant_feed_latest(feed: str) -> Any:
    """The generic OData layer (e.g. ``$count``) sees the tenant feed's latest versions only."""

    def conditions(ctx: RequestContext) -> list[ColumnElement[bool]]:
        return [pv.c.feed == feed, pv.c.is_latest_version.is_(True)]

    return conditions


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


PROCESS_PACKAGES = area.add(
    EntitySet(
        name="Processes",
        type_name="ProcessDto",
        table=pv,
        scope=Scope.TENANT,
        permission="Packages",
        key_column="package_id",
        insertable=False,
        updatable=False,
        deletable=False,
        read_filter=tenant_feed_latest("processes"),
        fields=[
            constant("IsActive", True, Edm.BOOLEAN),
            text("Arguments", "arguments", read_only=True),  # ArgumentMetadata, answered as an object
            boolean("SupportsMultipleEntryPoints", "supports_multiple_entry_points", read_only=True),
            text("MainEntryPointPath", "main_entry_point", read_only=True),
            constant("RequiresUserInteraction", False, Edm.BOOLEAN),
            constant("IsAttended", False, Edm.BOOLEAN),
            constant("TargetFramework", "Portable"),
            text("EntryPoints", "entry_points", read_only=True),  # list of EntryPointDto
            *package_fields("Process"),
        ],
    )
)
AREA = FeedArea(PROCESS_PACKAGES, PROCESSES, "Packages")
add_feed_routes(router, AREA)


@area.operation(
    "Processes",
    "UploadPackage",
    raw_body=True,
    returns="BulkItemDtoOfString",
    summary="Uploads a .nupkg (multipart/form-data) to the feed named by feedId (default: the tenant's)",
)
async def upload_package(ctx: RequestContext, call: ActionCall) -> Any:
    return await package_uploads.upload(ctx, AREA, call.request)


@area.operation(
    "Processes",
    "GetProcessVersions",
    method="GET",
    parameters=("processId",),
    returns="Processes",
    summary="Every version of a package",
)
async def get_process_versions(ctx: RequestContext, call: ActionCall) -> Any:
    package_id = str(param(call, "processId"))
    rows, count = await package_feeds.page(
        ctx, AREA, call.request, call.options, [pv.c.package_id_lower == package_id.lower()]
    )
    return collection(ctx, "Processes", rows, count)


@area.operation(
    "Processes",
    "DownloadPackage",
    method="GET",
    parameters=("key",),
    summary="The .nupkg file of '<id>:<version>'",
)
async def download_package(ctx: RequestContext, call: ActionCall) -> Any:
    return await package_feeds.download(ctx, AREA, call.request, param(call, "key"))


@area.operation(
    "Processes",
    "GetArguments",
    method="GET",
    parameters=("key",),
    returns="ArgumentMetadata",
    summary="Input and output argument metadata (JSON schemas) of '<id>:<version>'",
)
async def get_arguments(ctx: RequestContext, call: ActionCall) -> Any:
    return await package_feeds.arguments(ctx, AREA, call.request, param(call, "key"))


@area.operation("Processes", "SetArguments", summary="Saves the argument metadata of a package version")
async def set_arguments(ctx: RequestContext, call: ActionCall) -> None:
    await package_uploads.set_arguments(ctx, AREA, call.request, require_body(call))


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
