"""Machines seen from a folder and deleted in bulk: GetAssignedMachines, GetRuntimesForFolder, DeleteBulk.
A machine serves a folder when assigned to it (or above it, propagated) or when one of its robots belongs to
it (``domain/machine_admin.py``)."""

from __future__ import annotations

from starlette.responses import Response

from podium import inputs
from podium.api.machines import MACHINES
from podium.domain import machine_admin
from podium.errors import forbidden
from podium.http.context import RequestContext
from podium.http.folders_header import FolderRef
from podium.odata import service
from podium.odata.computed import RowType, query_rows
from podium.odata.declare import integer, text
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, param, require_body

area = Area("Machines")


async def _folder(ctx: RequestContext, call: ActionCall) -> FolderRef:
    """``folderId``'s folder; Machines.View across the tenant or in that folder."""
    folder_id = inputs.url_id(param(call, "folderId"), "folderId")
    async with ctx.state.db.read() as conn:
        folder = await ctx.folder_by_id(conn, folder_id)
    if not ctx.principal.has("Machines.View", folder.fully_qualified_name):
        raise forbidden("You are not authorized! (missing permission Machines.View)")
    return folder


@area.operation(
    "Machines",
    "GetAssignedMachines",
    method="GET",
    returns="Machines",
    parameters=("folderId",),
    summary="Machines assigned to the folder (?robotId=: that robot's machine, if it is in the folder)",
)
async def assigned_machines(ctx: RequestContext, call: ActionCall) -> Response:
    folder = await _folder(ctx, call)
    raw = call.params.get("robotId", call.request.query_params.get("robotId"))
    robot_id = None if raw in (None, "", "null") else inputs.url_id(raw, "robotId")
    condition = machine_admin.assigned_to(folder.id, folder.fully_qualified_name, robot_id)
    page = await service.list_entities_unchecked(ctx, MACHINES, call.options, [condition])
    return collection(ctx, "Machines", page.rows, page.count)


@area.operation(
    "Machines",
    "GetRuntimesForFolder",
    method="GET",
    parameters=("folderId",),
    summary="Runtimes (slots) of the folder's machines per type: total, connected, available",
)
async def runtimes_for_folder(ctx: RequestContext, call: ActionCall) -> Response:
    folder = await _folder(ctx, call)
    async with ctx.state.db.read() as conn:
        rows = await machine_admin.runtimes_of_folder(
            conn, ctx.tenant_id, folder.id, folder.fully_qualified_name
        )
    page = query_rows(MACHINE_RUNTIME, rows, call.options)
    name = "Collection(UiPath.Server.Configuration.OData.MachineRuntimeDto)"
    return collection(ctx, name, page.rows, page.count)


MACHINE_RUNTIME = RowType(
    "MachineRuntimeDto", [text("Type"), integer("Total"), integer("Connected"), integer("Available")]
)
"""What ``machine_admin.runtimes_of_folder`` answers, for its OData options (``odata/computed.py``)."""


@area.operation(
    "Machines",
    "DeleteBulk",
    summary="Deletes the machines, all or none",
    body_schema={
        "type": "object",
        "properties": {"machineIds": {"type": "array", "items": {"type": "integer"}}},
    },
)
async def delete_bulk(ctx: RequestContext, call: ActionCall) -> None:
    body = require_body(call)
    machine_ids = inputs.id_list(body.get("machineIds"), "machineIds", what="machine ids")
    await service.delete_entities(ctx, MACHINES, machine_ids)
