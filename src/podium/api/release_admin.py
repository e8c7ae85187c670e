"""Releases by key and in bulk: ``DELETE /api/Releases/DeleteByKey?key=``, UpdateByKey (package version,
entry point, input arguments of the release of that key), UpdateToLatestPackageVersionBulk (each release
moved in a savepoint of its own: the ones that fail are answered in ``FailedItems``, the others move)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from podium import inputs
from podium.api.releases import RELEASES
from podium.domain import release_admin, releases
from podium.errors import PodiumError
from podium.http.context import RequestContext, request_context
from podium.odata import service
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import json_response, require_body

router = APIRouter(tags=["Releases"])
area = Area("Releases", router)


@router.delete("/api/Releases/DeleteByKey", status_code=204, summary="Deletes the release of that key")
async def delete_by_key(request: Request, key: str) -> Response:
    ctx = await request_context(request)
    async with ctx.state.db.read() as conn:
        release = await release_admin.release_by_key(
            conn, ctx.tenant_id, inputs.text(key, "key", max_length=36)
        )
    await service.delete_entity(ctx, RELEASES, release["id"])
    return Response(status_code=204)


@area.operation(
    "Releases",
    "UpdateByKey",
    summary="Sets the package version, entry point and input arguments of the release of that key",
    body_schema={
        "type": "object",
        "properties": {
            name: {"type": "string"}
            for name in ("releaseKey", "processVersion", "entryPointPath", "inputArgs")
        },
    },
)
async def update_by_key(ctx: RequestContext, call: ActionCall) -> None:
    body = require_body(call)
    key = inputs.text(body.get("releaseKey"), "releaseKey", max_length=36)
    version = inputs.optional_text(body.get("processVersion"), "processVersion", max_length=64)
    values: dict[str, Any] = {}
    if body.get("entryPointPath") is not None:
        values["entry_point_path"] = inputs.text(body["entryPointPath"], "entryPointPath", max_length=512)
    if body.get("inputArgs") is not None:
        values["input_arguments"] = inputs.text(
            body["inputArgs"], "inputArgs", max_length=1_000_000, required=False
        )
    async with ctx.state.db.write() as conn:
        release = await release_admin.release_by_key(conn, ctx.tenant_id, key)
        ctx.require("Processes.Edit", release["folder_path"])
        if version:
            await releases.update_version(conn, ctx.user_id, release, version)
        await release_admin.set_entry(conn, release, values)


@area.operation(
    "Releases",
    "UpdateToLatestPackageVersionBulk",
    summary="Moves each release to the latest version of its package; the ones that fail are listed",
    body_schema={
        "type": "object",
        "properties": {
            "releaseIds": {"type": "array", "items": {"type": "integer"}},
            "mergePackageTags": {"type": "boolean"},
        },
    },
)
async def update_to_latest_bulk(ctx: RequestContext, call: ActionCall) -> Response:
    body = require_body(call)
    ids = inputs.id_list(body.get("releaseIds"), "releaseIds", what="release ids")
    if body.get("mergePackageTags") is not None:
        inputs.boolean(body["mergePackageTags"], "mergePackageTags")
    failed: list[int] = []
    async with ctx.state.db.write() as conn:
        for release_id in ids:
            try:
                async with conn.begin_nested():
                    release = await releases.release(conn, ctx.tenant_id, release_id)
                    ctx.require("Processes.Edit", release["folder_path"])
                    await releases.update_version(conn, ctx.user_id, release, None)
            except PodiumError:
                failed.append(release_id)
    message = None if not failed else f"{len(failed)} of {len(ids)} releases could not be updated."
    return json_response({"Success": not failed, "Message": message, "FailedItems": failed})
