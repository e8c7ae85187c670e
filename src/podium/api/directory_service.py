"""``/api/DirectoryService``: GetDomains, SearchForUsersAndGroups, GetDirectoryPermissions over the
tenant's local users (``domain/directory.py``: Podium has no Active Directory). Users.View."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from podium import inputs
from podium.domain import directory
from podium.http.context import request_context
from podium.odata.registry import Area
from podium.odata.routes import json_response

router = APIRouter(tags=["DirectoryService"])
area = Area("DirectoryService", router)
BASE = "/api/DirectoryService"


@router.get(f"{BASE}/GetDomains", summary="The domains users come from: Podium's local users only")
async def get_domains(request: Request) -> Response:
    ctx = await request_context(request)
    ctx.require("Users.View")
    return json_response(directory.domains())


@router.get(
    f"{BASE}/SearchForUsersAndGroups",
    summary="Local users and groups whose name starts with a prefix (DirectoryObjectDto list, at most 50)",
)
async def search_for_users_and_groups(
    request: Request, prefix: str = "", searchContext: str | None = None, domain: str | None = None
) -> Response:
    ctx = await request_context(request)
    ctx.require("Users.View")
    directory.check_domain(domain)
    types = directory.search_types(searchContext)
    start = inputs.text(prefix, "prefix", max_length=256)
    async with ctx.state.db.read() as conn:
        return json_response(await directory.search(conn, ctx.tenant_id, start, types))


@router.get(
    f"{BASE}/GetDirectoryPermissions",
    summary="Roles a user gets through directory groups: none for a local user (404: no such user)",
)
async def get_directory_permissions(
    request: Request, username: str = "", domain: str | None = None
) -> Response:
    ctx = await request_context(request)
    ctx.require("Users.View")
    directory.check_domain(domain)
    name = inputs.text(username, "username", max_length=256)
    async with ctx.state.db.read() as conn:
        return json_response(await directory.directory_permissions(conn, ctx.tenant_id, name))
