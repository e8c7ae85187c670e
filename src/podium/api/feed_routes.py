"""The plain routes of a feed's entity set: list (latest versions), one package, delete.

They are routes of their own rather than the generic OData CRUD because a feed is chosen per request
(``feedId``), a package has many versions under one key, and deleting one removes files too. Queries
still go through the generic OData layer (``$filter``, ``$select``, ``$orderby``, ``$top``...).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from podium.api import package_feeds, package_uploads
from podium.api.package_feeds import FeedArea
from podium.http.context import request_context
from podium.odata.options import parse_options
from podium.odata.path import parse_key
from podium.odata.routes import collection, entity


def add_feed_routes(router: APIRouter, area: FeedArea) -> None:
    name = area.entity.name

    @router.get(f"/odata/{name}", include_in_schema=False)
    async def list_packages(request: Request) -> Response:
        """Each package of the feed once, at its latest version."""
        ctx = await request_context(request)
        options = parse_options(request.query_params)
        rows, count = await package_feeds.page(ctx, area, request, options, latest_only=True)
        return collection(ctx, name, rows, count)

    @router.get(f"/odata/{name}({{key}})", include_in_schema=False)
    async def get_package(request: Request, key: str) -> Response:
        ctx = await request_context(request)
        dto = await package_feeds.one(ctx, area, request, parse_key(key), parse_options(request.query_params))
        return entity(ctx, name, dto)

    @router.delete(
        f"/odata/{name}({{key}})",
        status_code=204,
        summary="Deletes a package: every version ('<id>'), or one ('<id>:<version>')",
        operation_id=f"{name}_DeleteById",
        tags=[area.entity.name],
    )
    async def delete_package(request: Request, key: str, feedId: str | None = None) -> Response:
        """Declared in the OpenAPI document (the feed's other routes are generated from its entity
        set, which cannot delete: a package has many versions under one key and its files go too);
        ``feedId`` is read by ``package_uploads.remove`` from the request."""
        ctx = await request_context(request)
        await package_uploads.remove(ctx, area, request, parse_key(key))
        return Response(status_code=204)
