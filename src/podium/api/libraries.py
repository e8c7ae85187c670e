"""The Libraries feed: the tenant's library packages (``LibraryDto``), uploaded, listed, versioned,
downloaded and deleted like process packages; a library needs a valid manifest but no entry point.
Permissions: ``Libraries.View/Create/Delete``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from podium.api import package_feeds, package_uploads
from podium.api.feed_routes import add_feed_routes
from podium.api.package_feeds import FeedArea, package_fields, tenant_feed_latest
from podium.db.schema_packages import package_versions
from podium.domain.package_feeds import LIBRARIES
from podium.http.context import RequestContext
from podium.odata.declare import boolean, constant, integer, text, when
from podium.odata.model import EntitySet, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, param

router = APIRouter(tags=["Libraries"])
area = Area("Libraries", router)

LIBRARY_PACKAGES = area.add(
    EntitySet(
        name="Libraries",
        type_name="LibraryDto",
        table=package_versions,
        scope=Scope.TENANT,
        permission="Libraries",
        key_column="package_id",
        insertable=False,
        updatable=False,
        deletable=False,
        read_filter=tenant_feed_latest(LIBRARIES),
        fields=[
            when("Created", "published", read_only=True),
            when("LastUpdated", "published", read_only=True),
            text("Owners", "authors", read_only=True),
            constant("IconUrl", None),
            text("Summary", "description", read_only=True),
            integer("PackageSize", "package_size", read_only=True),
            boolean("IsPrerelease", "is_prerelease", read_only=True),
            *package_fields("ProcessLibrary"),
        ],
    )
)
AREA = FeedArea(LIBRARY_PACKAGES, LIBRARIES, "Libraries")
add_feed_routes(router, AREA)


@area.operation(
    "Libraries",
    "UploadPackage",
    raw_body=True,
    returns="BulkItemDtoOfString",
    summary="Uploads a library .nupkg (multipart/form-data)",
)
async def upload_library(ctx: RequestContext, call: ActionCall) -> Any:
    return await package_uploads.upload(ctx, AREA, call.request)


@area.operation(
    "Libraries",
    "GetVersions",
    method="GET",
    parameters=("packageId",),
    returns="Libraries",
    summary="Every version of a library",
)
async def get_versions(ctx: RequestContext, call: ActionCall) -> Any:
    package_id = str(param(call, "packageId"))
    rows, count = await package_feeds.page(ctx, AREA, call.request, call.options, package_id=package_id)
    return collection(ctx, "Libraries", rows, count)


@area.operation(
    "Libraries",
    "DownloadPackage",
    method="GET",
    parameters=("key",),
    returns="Edm.Stream",
    summary="A library's .nupkg",
)
async def download_library(ctx: RequestContext, call: ActionCall) -> Any:
    return await package_feeds.download(ctx, AREA, call.request, param(call, "key"))
