"""What the Processes and Libraries feeds share: which feed a request means, who may do what in it,
and reading package versions (lists, versions, one version, download, arguments).

Permissions: listing and reading versions needs ``<area>.View`` (Packages for processes, Libraries for
libraries) across the tenant, or in the folder owning a folder feed. Downloading a package and reading
its arguments is also allowed to whoever may view processes there (robots and automation users run
what the feed holds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import FileResponse

from podium.db.schema_packages import package_versions as pv
from podium.domain.package_feeds import Feed, resolve_feed
from podium.errors import bad_request, not_found
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.model import EntitySet
from podium.odata.options import QueryOptions
from podium.packages import versions
from podium.storage.packages import PackageStore


@dataclass(frozen=True)
class FeedArea:
    entity: EntitySet  # Processes (ProcessDto) or Libraries (LibraryDto)
    purpose: str  # Processes | Libraries
    permission: str  # Packages | Libraries


def feed_id_param(request: Request) -> str | None:
    for name, value in request.query_params.items():
        if name.lower() == "feedid":
            return value.strip() or None
    return None


async def request_feed(ctx: RequestContext, conn: AsyncConnection, area: FeedArea, request: Request) -> Feed:
    return await resolve_feed(conn, ctx.tenant_id, area.purpose, feed_id_param(request))


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


def in_feed(ctx: RequestContext, feed: Feed) -> list[ColumnElement[bool]]:
    return [pv.c.tenant_id == ctx.tenant_id, pv.c.feed == feed.name]


def split_key(key: Any) -> tuple[str, str | None]:
    """``'Name:1.0.0'`` -> (Name, 1.0.0); ``'Name'`` -> (Name, None): the latest version."""
    if not isinstance(key, str) or not key.strip():
        raise bad_request("The package key must be '<package id>' or '<package id>:<version>'.")
    name, _, version = key.strip().partition(":")
    return name, version or None


async def find_version(
    ctx: RequestContext, conn: AsyncConnection, feed: Feed, name: str, version: str | None
) -> Mapping[str, Any]:
    """One version's row (the latest when ``version`` is None); 404 when the feed lacks it."""
    query = select(pv).where(*in_feed(ctx, feed), pv.c.package_id_lower == name.lower())
    if version is None:
        query = query.where(pv.c.is_latest_version.is_(True))
    elif versions.is_valid(version):
        query = query.where(pv.c.version_normalized == versions.normalize(version))
    else:
        raise not_found(f"Package '{name}' has no version '{version}'.")
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found(f"Package '{name}{':' + version if version else ''}' does not exist in this feed.")
    return dict(row)


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
    extra: list[ColumnElement[bool]],
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the request's feed (``feedId``) with OData options and ``searchTerm``."""
    async with ctx.state.db.read() as conn:
        feed = await request_feed(ctx, conn, area, request)
        require(ctx, area, feed, "View")
        conditions = in_feed(ctx, feed) + extra
        term = (
            next((v for k, v in request.query_params.items() if k.lower() == "searchterm"), "")
            .strip()
            .lower()
        )
        if term:
            pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conditions.append(
                or_(
                    pv.c.package_id_lower.like(pattern, escape="\\"),
                    func.lower(pv.c.title).like(pattern, escape="\\"),
                )
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
        row = await find_version(ctx, conn, feed, name, version)
        single = QueryOptions(select=options.select, expand=options.expand, top=1, count=False)
        result = await service.run_page(ctx, conn, area.entity, single, [pv.c.id == row["id"]])
    return shape_dto(result.rows[0])


async def download(ctx: RequestContext, area: FeedArea, request: Request, key: Any) -> FileResponse:
    """Streams the stored ``.nupkg`` of ``'<id>:<version>'`` (or of the latest version)."""
    name, version = split_key(key)
    async with ctx.state.db.read() as conn:
        feed = await request_feed(ctx, conn, area, request)
        require_read(ctx, area, feed)
        row = await find_version(ctx, conn, feed, name, version)
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
        row = await find_version(ctx, conn, feed, name, version)
    stored = orjson.loads(row["arguments"]) if row["arguments"] else {}
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#UiPath.Server.Configuration.OData.ArgumentMetadata",
        "Input": stored.get("Input"),
        "Output": stored.get("Output"),
    }
