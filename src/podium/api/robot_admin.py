"""Robots across folders and in bulk: FindAllAcrossFolders, GetConfiguredRobots, GetFolderRobots,
GetRobotsFromFolder, GetRobotsForProcess, GetUsernames, GetMachineNameToLicenseKeyMappings, DeleteBulk,
ToggleEnabledStatus.

The lists are the Robots entity set's own (every OData option), narrowed to the robots of the folders
where the caller holds Robots.View: a folder-level Robots.View is enough here, where ``GET /odata/Robots``
wants it across the tenant. Machine license keys are the machines' connection secrets, so their mapping
wants Machines.Edit, the permission that shows a machine's keys everywhere else."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from starlette.responses import Response

from podium import inputs
from podium.api.folder_sharing import unscoped
from podium.api.robots import ROBOTS
from podium.domain import enums, robot_admin
from podium.errors import forbidden
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.computed import RowType, query_rows
from podium.odata.declare import text
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, json_response, param, require_body

area = Area("Robots")


async def _robots_page(ctx: RequestContext, call: ActionCall, conditions: list[ColumnElement[bool]]) -> Any:
    return await service.list_entities_unchecked(ctx, ROBOTS, call.options, conditions)


async def _folder_conditions(ctx: RequestContext, call: ActionCall) -> list[ColumnElement[bool]]:
    """The robots of ``folderId`` (Robots.View there), on ``machineId`` when one is given."""
    folder_id = inputs.url_id(param(call, "folderId"), "folderId")
    async with ctx.state.db.read() as conn:
        folder = await ctx.folder_by_id(conn, folder_id)
    ctx.require("Robots.View", folder.fully_qualified_name)
    conditions = [robot_admin.in_folders([folder.id])]
    machine = call.params.get("machineId", call.request.query_params.get("machineId"))
    if machine not in (None, "", "null"):
        conditions.append(robot_admin.on_machine(inputs.url_id(machine, "machineId")))
    return conditions


@area.operation(
    "Robots",
    "FindAllAcrossFolders",
    method="GET",
    returns="Robots",
    summary="Robots of every folder where the caller has Robots.View",
)
async def find_all_across_folders(ctx: RequestContext, call: ActionCall) -> Response:
    async with ctx.state.db.read() as conn:
        folder_ids = await unscoped(ctx).readable_folder_ids(conn, "Robots.View")
    conditions = [] if folder_ids is None else [robot_admin.in_folders(folder_ids)]
    page = await _robots_page(ctx, call, conditions)
    return collection(ctx, "Robots", page.rows, page.count)


@area.operation(
    "Robots",
    "GetConfiguredRobots",
    method="GET",
    returns="Robots",
    summary="Robots provisioned automatically (ProvisionType Automatic), of the folders where the caller "
    "has Robots.View",
)
async def configured_robots(ctx: RequestContext, call: ActionCall) -> Response:
    """Podium provisions no robot from a user by itself: these are the robots declared Automatic."""
    async with ctx.state.db.read() as conn:
        folder_ids = await unscoped(ctx).readable_folder_ids(conn, "Robots.View")
    conditions = [robot_admin.provisioned_automatically()]
    if folder_ids is not None:
        conditions.append(robot_admin.in_folders(folder_ids))
    page = await _robots_page(ctx, call, conditions)
    return collection(ctx, "Robots", page.rows, page.count)


@area.operation(
    "Robots",
    "GetFolderRobots",
    method="GET",
    returns="Robots",
    parameters=("folderId", "machineId"),
    summary="Robots of the folder (on the machine, when given)",
)
async def folder_robots(ctx: RequestContext, call: ActionCall) -> Response:
    page = await _robots_page(ctx, call, await _folder_conditions(ctx, call))
    return collection(ctx, "Robots", page.rows, page.count)


@area.operation(
    "Robots",
    "GetRobotsFromFolder",
    method="GET",
    returns="Robots",
    parameters=("folderId",),
    summary="Robots of the folder (?machineId=), with their users' type, email and full name",
)
async def robots_from_folder(ctx: RequestContext, call: ActionCall) -> Response:
    page = await _robots_page(ctx, call, await _folder_conditions(ctx, call))
    user_ids = [row["UserId"] for row in page.rows if row.get("UserId") is not None]
    async with ctx.state.db.read() as conn:
        users = await robot_admin.users_of(conn, user_ids)
    for row in page.rows:
        user = users.get(row.get("UserId"))  # type: ignore[arg-type]
        full_name = " ".join(p for p in (user.name, user.surname) if p) if user is not None else None
        row["UserType"] = enums.UserType(user.type).name if user is not None else None
        row["UserEmail"] = user.email_address if user is not None else None
        row["UserFullName"] = full_name or None
    return collection(ctx, "Robots", page.rows, page.count)


@area.operation(
    "Robots",
    "GetRobotsForProcess",
    method="GET",
    returns="Robots",
    parameters=("processId",),
    summary="Robots that can run the process: those of the folders holding a release of it",
)
async def robots_for_process(ctx: RequestContext, call: ActionCall) -> Response:
    process_key = inputs.text(param(call, "processId"), "processId").strip("'")
    async with ctx.state.db.read() as conn:
        readable = await ctx.readable_folder_ids(conn, "Robots.View")
        folder_ids = await robot_admin.folders_running(conn, ctx.tenant_id, process_key, readable)
    page = await _robots_page(ctx, call, [robot_admin.in_folders(folder_ids)])
    return collection(ctx, "Robots", page.rows, page.count)


@area.operation("Robots", "GetUsernames", method="GET", summary="User names of the tenant's robots")
async def usernames(ctx: RequestContext, call: ActionCall) -> Response:
    ctx.require("Robots.View")
    async with ctx.state.db.read() as conn:
        names = await robot_admin.usernames(conn, ctx.tenant_id)
    return json_response(
        {"@odata.context": f"{ctx.odata_base}/$metadata#Collection(Edm.String)", "value": names}
    )


@area.operation(
    "Robots",
    "GetMachineNameToLicenseKeyMappings",
    method="GET",
    summary="Machine name to license key of every machine (Machines.Edit: the keys connect robots)",
)
async def machine_license_keys(ctx: RequestContext, call: ActionCall) -> Response:
    if not ctx.principal.has("Machines.Edit"):
        raise forbidden("You are not authorized! (missing permission Machines.Edit)")
    async with ctx.state.db.read() as conn:
        pairs = await robot_admin.machine_license_keys(conn, ctx.tenant_id)
    page = query_rows(KEY_VALUE_PAIR, pairs, call.options)
    name = "Collection(UiPath.Server.Configuration.OData.KeyValuePairOfStringString)"
    return collection(ctx, name, page.rows, page.count)


KEY_VALUE_PAIR = RowType("KeyValuePairOfStringString", [text("Key"), text("Value")])
"""A machine's name and licence key, for the OData options of their list (``odata/computed.py``)."""


@area.operation(
    "Robots",
    "DeleteBulk",
    summary="Deletes the robots, all or none",
    body_schema={
        "type": "object",
        "properties": {"robotIds": {"type": "array", "items": {"type": "integer"}}},
    },
)
async def delete_bulk(ctx: RequestContext, call: ActionCall) -> None:
    body = require_body(call)
    robot_ids = inputs.id_list(body.get("robotIds"), "robotIds", what="robot ids")
    await service.delete_entities(ctx, ROBOTS, robot_ids)


@area.operation(
    "Robots",
    "ToggleEnabledStatus",
    summary="Enables or disables the robots, all or none",
    body_schema={
        "type": "object",
        "properties": {
            "robotIds": {"type": "array", "items": {"type": "integer"}},
            "enabled": {"type": "boolean"},
        },
    },
)
async def toggle_enabled(ctx: RequestContext, call: ActionCall) -> Response:
    ctx.require("Robots.Edit")
    body = require_body(call)
    robot_ids = inputs.id_list(body.get("robotIds"), "robotIds", what="robot ids")
    enabled = inputs.boolean(body.get("enabled"), "enabled")
    async with ctx.state.db.write() as conn:
        await robot_admin.set_enabled(conn, ctx.tenant_id, robot_ids, enabled)
    return json_response({"@odata.context": f"{ctx.odata_base}/$metadata#Edm.Boolean", "value": True})
