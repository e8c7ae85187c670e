"""The Processes feed (Orchestrator's "Packages" area): upload, list, versions, download, delete and
argument metadata of process packages (``/api/PackageFeeds`` is in ``package_feeds``).

``Processes`` lists each package once at its latest version (``ProcessDto``: ``Id`` = package id,
``Key`` = ``"<id>:<version>"``); ``GetProcessVersions`` lists every version. See docs/packages.md.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from podium.api import package_feeds, package_uploads
from podium.api.feed_routes import add_feed_routes
from podium.api.package_feeds import FeedArea, package_fields, tenant_feed_latest
from podium.db.schema_packages import package_versions
from podium.domain.package_feeds import PROCESSES
from podium.http.context import RequestContext
from podium.odata.declare import boolean, constant, text
from podium.odata.model import Edm, EntitySet, Field, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, param, require_body

router = APIRouter(tags=["Packages"])
area = Area("Packages", router)


PROCESS_PACKAGES = area.add(
    EntitySet(
        name="Processes",
        type_name="ProcessDto",
        table=package_versions,
        scope=Scope.TENANT,
        permission="Packages",
        key_column="package_id",
        insertable=False,
        updatable=False,
        deletable=False,
        read_filter=tenant_feed_latest(PROCESSES),
        fields=[
            constant("IsActive", True, Edm.BOOLEAN),
            Field("Arguments", Edm.UNTYPED, "arguments", read_only=True),  # ArgumentMetadata (an object)
            boolean("SupportsMultipleEntryPoints", "supports_multiple_entry_points", read_only=True),
            text("MainEntryPointPath", "main_entry_point", read_only=True),
            constant("RequiresUserInteraction", False, Edm.BOOLEAN),
            constant("IsAttended", False, Edm.BOOLEAN),
            constant("TargetFramework", "Portable"),
            Field("EntryPoints", Edm.UNTYPED, "entry_points", read_only=True),  # list of EntryPointDto
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
    rows, count = await package_feeds.page(ctx, AREA, call.request, call.options, package_id=package_id)
    return collection(ctx, "Processes", rows, count)


@area.operation(
    "Processes",
    "DownloadPackage",
    method="GET",
    parameters=("key",),
    returns="Edm.Stream",
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
