"""Machines of folders (the Folders area's machine operations): AssignMachines,
UpdateMachinesToFolderAssociations, RemoveMachinesFromFolder, ToggleFolderMachineInherit,
GetMachinesForFolder, GetSubfoldersWithAssignedMachine and GetMoveFolderMachinesChanges. The rules
(assigned, inherited, propagation) are in ``domain/folder_machines.py``.

Permissions: assigning and removing needs ``Folders.Edit`` in every folder named (a tenant-wide grant
holds everywhere); reading needs ``Folders.View`` there or ``Machines.View`` across the tenant.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from podium import inputs
from podium.api.folders import FOLDERS
from podium.api.machines import MACHINES
from podium.domain import folder_machines
from podium.http.context import RequestContext
from podium.http.folders_header import FolderRef
from podium.odata import service
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, param, require_body

area = Area("Folders")
NAMESPACE = "UiPath.Server.Configuration.OData"


def _may_read(ctx: RequestContext, folder: FolderRef) -> None:
    if not ctx.principal.has("Machines.View"):
        ctx.require("Folders.View", folder.fully_qualified_name)


@area.operation("Folders", "AssignMachines", summary="Assigns machines to folders")
async def assign_machines(ctx: RequestContext, call: ActionCall) -> None:
    """Body FolderAssignMachinesRequest: {"assignments": {"MachineIds": [...], "FolderIds": [...]}}."""
    body = inputs.json_object(require_body(call).get("assignments"), "assignments")
    machine_ids = inputs.id_list(body.get("MachineIds"), "MachineIds", what="machine ids")
    folder_ids = inputs.id_list(body.get("FolderIds"), "FolderIds", what="folder ids")
    async with ctx.state.db.write() as conn:
        for folder_id in folder_ids:
            folder = await ctx.folder_by_id(conn, folder_id)
            ctx.require("Folders.Edit", folder.fully_qualified_name)
        await folder_machines.require_machines(conn, ctx.tenant_id, machine_ids, "MachineIds")
        await folder_machines.assign(conn, folder_ids, machine_ids)


@area.operation(
    "Folders", "UpdateMachinesToFolderAssociations", summary="Adds and removes machines of one folder"
)
async def update_associations(ctx: RequestContext, call: ActionCall) -> None:
    """Body: {"associations": {"FolderId": n, "AddedMachineIds": [...], "RemovedMachineIds": [...]}}."""
    body = inputs.json_object(require_body(call).get("associations"), "associations")
    folder_id = inputs.entity_id(body.get("FolderId"), "FolderId")
    added = inputs.id_list(body.get("AddedMachineIds") or [], "AddedMachineIds", allow_empty=True)
    removed = inputs.id_list(body.get("RemovedMachineIds") or [], "RemovedMachineIds", allow_empty=True)
    async with ctx.state.db.write() as conn:
        folder = await ctx.folder_by_id(conn, folder_id)
        ctx.require("Folders.Edit", folder.fully_qualified_name)
        await folder_machines.require_machines(conn, ctx.tenant_id, added + removed, "the machine ids")
        await folder_machines.unassign(conn, folder.id, removed)
        await folder_machines.assign(conn, [folder.id], [m for m in added if m not in removed])


@area.operation(
    "Folders", "RemoveMachinesFromFolder", bound_to_entity=True, summary="Removes machines from the folder"
)
async def remove_machines(ctx: RequestContext, call: ActionCall) -> None:
    machine_ids = inputs.id_list(require_body(call).get("machineIds"), "machineIds", what="machine ids")
    async with ctx.state.db.write() as conn:
        folder = await ctx.folder_by_id(conn, inputs.entity_id(call.key, "the folder"))
        ctx.require("Folders.Edit", folder.fully_qualified_name)
        await folder_machines.unassign(conn, folder.id, machine_ids)


@area.operation(
    "Folders",
    "ToggleFolderMachineInherit",
    summary="Whether a folder's machine is inherited by all its subfolders",
)
async def toggle_inherit(ctx: RequestContext, call: ActionCall) -> None:
    """Body FolderMachineInheritDto: {"MachineId": n, "FolderId": n, "InheritEnabled": bool}."""
    body = require_body(call)
    machine_id = inputs.entity_id(body.get("MachineId"), "MachineId")
    folder_id = inputs.entity_id(body.get("FolderId"), "FolderId")
    enabled = inputs.boolean(body.get("InheritEnabled"), "InheritEnabled")
    async with ctx.state.db.write() as conn:
        folder = await ctx.folder_by_id(conn, folder_id)
        ctx.require("Folders.Edit", folder.fully_qualified_name)
        await folder_machines.set_propagation(conn, folder.id, machine_id, enabled)


@area.operation(
    "Folders",
    "GetMachinesForFolder",
    method="GET",
    parameters=("key",),
    summary="The machines a folder has, assigned or inherited",
    returns="MachineFolderDto",
)
async def machines_for_folder(ctx: RequestContext, call: ActionCall) -> Response:
    folder_id = inputs.url_id(param(call, "key"), "key")
    async with ctx.state.db.read() as conn:
        folder = await ctx.folder_by_id(conn, folder_id)
        _may_read(ctx, folder)
        found = await folder_machines.states(conn, ctx.tenant_id, folder.fully_qualified_name)
        with_robots = await folder_machines.machines_with_robots(conn, list(found))
    page = await service.list_entities_unchecked(
        ctx, MACHINES, call.options, [folder_machines.machines_with(list(found))]
    )
    rows: list[dict[str, Any]] = []
    for dto in page.rows:
        state = found[dto["Id"]]
        rows.append(
            {
                **dto,
                "IsAssignedToFolder": state.state == "Assigned",
                "HasMachineRobots": dto["Id"] in with_robots,
                "IsInherited": state.state == "Inherited",
                "PropagateToSubFolders": state.propagate,
                "InheritedFromFolderName": state.inherited_from,
            }
        )
    return collection(ctx, "Machines", rows, page.count)


@area.operation(
    "Folders",
    "GetSubfoldersWithAssignedMachine",
    method="GET",
    summary="The folders below rootFolderId the machine machineId is assigned to",
    returns="Folders",
)
async def subfolders_with_machine(ctx: RequestContext, call: ActionCall) -> Response:
    query = call.request.query_params
    root_id = inputs.url_id(query.get("rootFolderId") or call.params.get("rootFolderId"), "rootFolderId")
    machine_id = inputs.url_id(query.get("machineId") or call.params.get("machineId"), "machineId")
    async with ctx.state.db.read() as conn:
        root = await ctx.folder_by_id(conn, root_id)
        _may_read(ctx, root)
        condition = await folder_machines.subfolders_with_machine(
            conn, ctx.tenant_id, root.fully_qualified_name, machine_id
        )
    page = await service.list_entities(ctx, FOLDERS, call.options, [condition])
    return collection(ctx, "Folders", page.rows, page.count)


@area.operation(
    "Folders",
    "GetMoveFolderMachinesChanges",
    method="GET",
    summary="How the folder's machines would change if it were moved under targetParentId",
    returns="MoveFolderMachineChange",
)
async def move_machine_changes(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    query = call.request.query_params
    folder_id = inputs.url_id(query.get("folderId") or call.params.get("folderId"), "folderId")
    raw_target = query.get("targetParentId") or call.params.get("targetParentId")
    async with ctx.state.db.read() as conn:
        folder = await ctx.folder_by_id(conn, folder_id)
        _may_read(ctx, folder)
        target = None
        if raw_target not in (None, "", "null"):
            target = await ctx.folder_by_id(conn, inputs.url_id(raw_target, "targetParentId"))
        changes = await folder_machines.move_changes(
            conn, ctx.tenant_id, folder.fully_qualified_name, target.fully_qualified_name if target else None
        )
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#Collection({NAMESPACE}.MoveFolderMachineChange)",
        "value": [
            {"MachineId": m, "MachineName": name, "OldMachineFolderState": old, "NewMachineFolderState": new}
            for m, name, old, new in changes
        ],
    }
