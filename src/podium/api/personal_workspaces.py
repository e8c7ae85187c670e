"""Personal workspaces (``/odata/PersonalWorkspaces``): the list (``Folders.View`` across the tenant),
GetPersonalWorkspace (the caller's own, made on first use), ConvertToFolder, StartExploring and
StopExploring (``Folders.Edit``: administrators). The rules are in ``domain/personal_workspaces.py``.

ExploringUserIds is answered by GetPersonalWorkspace (the list leaves it out).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from starlette.responses import Response

from podium import inputs
from podium.db.schema import folders
from podium.domain import personal_workspaces
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.declare import constant, key_id, text
from podium.odata.model import Edm, EntitySet, Field, Navigation, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import entity, require_body

area = Area("PersonalWorkspaces")


def _only_workspaces(ctx: RequestContext) -> list[ColumnElement[bool]]:
    return [personal_workspaces.personal()]


WORKSPACES = area.add(
    EntitySet(
        name="PersonalWorkspaces",
        type_name="PersonalWorkspaceDto",
        table=folders,
        scope=Scope.TENANT,
        permission="Folders",
        insertable=False,
        updatable=False,
        deletable=False,
        read_filter=_only_workspaces,
        lookups=[Navigation("Owner", "Users", "owner_user_id")],
        fields=[
            text("Key", "key", read_only=True),
            text("Name", "display_name", read_only=True),
            constant("IsActive", True, Edm.BOOLEAN),
            Field("OwnerId", Edm.INT64, "owner_user_id", read_only=True),
            Field("OwnerName", Edm.STRING, "user_name", read_only=True, through="Owner"),
            Field("LastLogin", Edm.DATETIME, "last_login_time", read_only=True, through="Owner"),
            key_id(),
        ],
    )
)


async def _with_explorers(ctx: RequestContext, dtos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    async with ctx.state.db.read() as conn:
        for dto in dtos:
            if "Id" in dto:
                dto["ExploringUserIds"] = await personal_workspaces.explorers(conn, dto["Id"])
    return dtos


@area.operation(
    "PersonalWorkspaces",
    "GetPersonalWorkspace",
    method="GET",
    summary="The caller's personal workspace (made on first use)",
    returns="PersonalWorkspaceDto",
)
async def own_workspace(ctx: RequestContext, call: ActionCall) -> Response:
    async with ctx.state.db.write() as conn:
        folder = await personal_workspaces.ensure(conn, ctx.tenant_id, ctx.user_id)
    ctx.state.forget_access()
    page = await service.list_entities_unchecked(
        ctx, WORKSPACES, call.options, [personal_workspaces.with_id(folder["id"])]
    )
    [dto] = await _with_explorers(ctx, page.rows)
    return entity(ctx, "PersonalWorkspaces", dto)


def _workspace_for_admin(ctx: RequestContext, call: ActionCall) -> int:
    ctx.require("Folders.Edit")
    return inputs.entity_id(call.key, "the personal workspace")


@area.operation(
    "PersonalWorkspaces", "StartExploring", bound_to_entity=True, summary="The caller explores the workspace"
)
async def start_exploring(ctx: RequestContext, call: ActionCall) -> None:
    folder_id = _workspace_for_admin(ctx, call)
    async with ctx.state.db.write() as conn:
        folder = await personal_workspaces.workspace(conn, ctx.tenant_id, folder_id)
        await personal_workspaces.start_exploring(conn, ctx.tenant_id, folder, ctx.user_id)
    ctx.state.forget_access()


@area.operation(
    "PersonalWorkspaces", "StopExploring", bound_to_entity=True, summary="The caller stops exploring it"
)
async def stop_exploring(ctx: RequestContext, call: ActionCall) -> None:
    folder_id = _workspace_for_admin(ctx, call)
    async with ctx.state.db.write() as conn:
        folder = await personal_workspaces.workspace(conn, ctx.tenant_id, folder_id)
        await personal_workspaces.stop_exploring(conn, folder, ctx.user_id)
    ctx.state.forget_access()


@area.operation(
    "PersonalWorkspaces",
    "ConvertToFolder",
    bound_to_entity=True,
    summary="Makes the workspace a standard top-level folder named folderName",
)
async def convert(ctx: RequestContext, call: ActionCall) -> None:
    folder_id = _workspace_for_admin(ctx, call)
    name = require_body(call).get("folderName")
    async with ctx.state.db.write() as conn:
        folder = await personal_workspaces.workspace(conn, ctx.tenant_id, folder_id)
        await personal_workspaces.convert_to_folder(conn, ctx.tenant_id, folder, name)
    ctx.state.forget_access()
