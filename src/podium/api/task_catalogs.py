"""``/odata/TaskCatalogs``: catalogs tasks are grouped in (folder-scoped, permissions TaskCatalogs.*):
list/get/create/edit/delete, ``CreateTaskCatalog``, ``UpdateTaskCatalog`` and
``GetTaskCatalogExtendedDetails``. Tasks name their catalog on creation (``taskCatalogName``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from podium import inputs
from podium.db import schema_tasks
from podium.domain import task_catalogs
from podium.domain.task_enums import TaskRetentionAction
from podium.errors import bad_request, not_found
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.declare import audit, boolean, choice, constant, entity_key, integer, key_id, text
from podium.odata.model import Edm, EntitySet, Field, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import entity, param, require_body

area = Area("TaskCatalogs")


async def _before_write(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    if values.get("encrypted"):
        raise bad_request("Encrypted task catalogs are not supported: Podium does not seal task data.")
    if existing is not None and "name" in values and values["name"] != existing["name"]:
        await task_catalogs.rename(conn, existing["id"], values["name"])


async def _before_delete(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    await task_catalogs.forget(conn, row["id"])


TASK_CATALOGS = area.add(
    EntitySet(
        name="TaskCatalogs",
        type_name="TaskCatalogDto",
        table=schema_tasks.task_catalogs,
        scope=Scope.FOLDER,
        permission="TaskCatalogs",
        unique=("name",),
        before_write=_before_write,
        before_delete=_before_delete,
        fields=[
            entity_key(),
            text("Name", "name", required=True, nullable=False, max_length=128),
            text("Description", "description", max_length=512),
            constant("FoldersCount", 1, Edm.INT64),
            boolean("Encrypted", "encrypted"),
            Field("Tags", Edm.UNTYPED, "tags", read_only=True),
            choice("RetentionAction", TaskRetentionAction, "retention_action", nullable=False),
            integer("RetentionPeriod", "retention_period"),
            constant("RetentionBucketId", None, Edm.INT64),
            constant("RetentionBucketName", None),
            *audit(),
            key_id(),
        ],
    )
)


@area.operation(
    "TaskCatalogs", "CreateTaskCatalog", returns="TaskCatalogDto", summary="Creates a task catalog"
)
async def create_task_catalog(ctx: RequestContext, call: ActionCall) -> Response:
    created = await service.create_entity(ctx, TASK_CATALOGS, _request(call))
    return entity(ctx, "TaskCatalogs", created, 201)


@area.operation("TaskCatalogs", "UpdateTaskCatalog", bound_to_entity=True, summary="Edits a task catalog")
async def update_task_catalog(ctx: RequestContext, call: ActionCall) -> None:
    key = inputs.url_id(call.key, "key")
    await service.update_entity(ctx, TASK_CATALOGS, key, _request(call), partial=True)


def _request(call: ActionCall) -> dict[str, Any]:
    """A TaskCatalogRequest (Name, Description, Encrypted, RetentionAction, RetentionPeriod; Tags and
    RetentionBucketId are not kept)."""
    body = require_body(call)
    known = ("Name", "Description", "Encrypted", "RetentionAction", "RetentionPeriod")
    return {name: body[name] for name in known if name in body}


@area.operation(
    "TaskCatalogs",
    "GetTaskCatalogExtendedDetails",
    method="GET",
    returns="TaskCatalogExtendedDetailsDto",
    parameters=("taskCatalogId",),
    summary="How many tasks a catalog holds (before deleting it)",
)
async def extended_details(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    catalog_id = inputs.url_id(param(call, "taskCatalogId"), "taskCatalogId")
    found = await service.get_entity(ctx, TASK_CATALOGS, catalog_id)
    async with ctx.state.db.read() as conn:
        row = await task_catalogs.catalog(conn, ctx.tenant_id, catalog_id)
        if row is None:
            raise not_found("TaskCatalog does not exist.")
        count = await task_catalogs.task_count(conn, catalog_id)
    return {
        "AssociatedTasksCount": count,
        "IsEncrypted": bool(found["Encrypted"]),
        "TotalFolderCount": 1,
        "Key": found["Key"],
    }
