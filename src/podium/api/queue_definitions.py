"""Queue definitions: the QueueDefinitions entity set and GetJsonSchemaDefinition; and finding the queue
an action names among those of the folder of the headers (``queue_named``). The checks of a written
queue and what a new one gets live in ``domain/queue_definitions.py``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from podium import inputs
from podium.db.schema_queues import queue_definitions
from podium.domain.queue_definitions import (
    SCHEMAS,
    SHARED_THROUGH,
    check_queue,
    queue_created,
    queue_in_folder,
)
from podium.errors import bad_request, not_found
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.declare import boolean, constant, integer, key_id, tag_list, text, when
from podium.odata.model import Edm, EntitySet, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import param

SVC = "UiPathODataSvc"
area = Area("Queues")


async def _check_queue(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    await check_queue(conn, values, existing)


async def _queue_created(
    ctx: RequestContext, conn: AsyncConnection, queue_id: int, values: dict[str, Any], body: Mapping[str, Any]
) -> None:
    await queue_created(conn, ctx.tenant_id, queue_id, values["folder_id"])


QUEUE_DEFINITIONS = area.add(
    EntitySet(
        name="QueueDefinitions",
        type_name="QueueDefinitionDto",
        table=queue_definitions,
        scope=Scope.FOLDER,
        permission="Queues",
        unique=("name",),
        shared_through=SHARED_THROUGH,
        before_write=_check_queue,
        after_insert=_queue_created,
        fields=[
            text("Key", "key", read_only=True),
            text("Name", "name", required=True, nullable=False, max_length=512),
            text("Description", "description", max_length=750),
            integer("MaxNumberOfRetries", "max_number_of_retries", nullable=False),
            boolean("AcceptAutomaticallyRetry", "accept_automatically_retry", nullable=False),
            boolean("EnforceUniqueReference", "enforce_unique_reference", nullable=False),
            boolean("Encrypted", "encrypted", nullable=False),
            text("SpecificDataJsonSchema", "specific_data_json_schema"),
            text("OutputDataJsonSchema", "output_data_json_schema"),
            text("AnalyticsDataJsonSchema", "analytics_data_json_schema"),
            when("CreationTime", "creation_time", read_only=True),
            integer("ProcessScheduleId", "process_schedule_id", read_only=True),
            integer("SlaInMinutes", "sla_in_minutes", nullable=False),
            integer("RiskSlaInMinutes", "risk_sla_in_minutes", nullable=False),
            integer("ReleaseId", "release_id"),
            constant("IsProcessInCurrentFolder", None, Edm.BOOLEAN),
            integer("FoldersCount", "folders_count", read_only=True),
            integer("OrganizationUnitId", "folder_id", read_only=True),
            constant("OrganizationUnitFullyQualifiedName", None),
            tag_list(),
            key_id(),
        ],
    )
)


async def queue_named(
    ctx: RequestContext, conn: AsyncConnection, name: Any, field: str, permission: str
) -> dict[str, Any]:
    """The queue named ``name`` (the body's ``field``) among those the folder of the headers sees, once
    the caller holds ``permission`` there; 404 when there is none."""
    folder = ctx.require_folder()
    ctx.require(permission, folder.fully_qualified_name)
    return await queue_in_folder(conn, ctx.tenant_id, folder.id, inputs.text(name, field, max_length=512))


SCHEMA_KINDS = {
    **{name.lower().removesuffix("jsonschema"): column for column, name in SCHEMAS.items()},
    "specific": "specific_data_json_schema",
    "output": "output_data_json_schema",
    "analytics": "analytics_data_json_schema",
}


@area.operation(
    "QueueDefinitions",
    "GetJsonSchemaDefinition",
    method="GET",
    bound_to_entity=True,
    namespace=SVC,
    parameters=("jsonSchemaType",),
    summary="A queue's JSON schema as a .json file",
)
async def get_json_schema_definition(ctx: RequestContext, call: ActionCall) -> Response:
    kind = str(param(call, "jsonSchemaType")).strip("'").lower()
    column = SCHEMA_KINDS.get(kind)
    if column is None:
        raise bad_request("jsonSchemaType must be SpecificData, OutputData or AnalyticsData.")
    queue = await service.get_entity(ctx, QUEUE_DEFINITIONS, call.key)
    schema = queue[SCHEMAS[column]]
    if not schema:
        raise not_found("The queue has no such JSON schema.")
    return Response(
        schema,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{queue["Name"]}-{kind}.json"'},
    )
