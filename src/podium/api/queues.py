"""The queues area's actions: AddQueueItem, BulkAddQueueItems, StartTransaction, SetTransactionResult,
SetTransactionProgress, GetJsonSchemaDefinition; and the abandon sweep's background loop.

Thin: each handler reads the body, checks the caller's permission in the queue's folder and calls
the domain in one write transaction. Queue actions are in the ``UiPathODataSvc`` namespace.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from podium.api.queue_sets import QUEUE_DEFINITIONS, SCHEMAS, item_dto
from podium.db.schema_queues import queue_definition_folders, queue_definitions
from podium.db.types import utcnow
from podium.domain import queue_items as adding
from podium.domain import queues as transactions
from podium.errors import bad_request, not_found
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import entity, json_response, param, require_body

SVC = "UiPathODataSvc"
BULK_RESPONSE = "UiPath.Server.Configuration.OData.BulkOperationResponseDtoOfFailedQueueItemDto"
log = logging.getLogger(__name__)
area = Area("Queues")


async def _queue(ctx: RequestContext, conn: AsyncConnection, name: Any, permission: str) -> dict[str, Any]:
    """The queue named ``name`` among those the folder of the headers sees (its own and those shared to
    it: names are unique among them); 404 when there is none."""
    folder = ctx.require_folder()
    ctx.require(permission, folder.fully_qualified_name)
    if not isinstance(name, str) or not name:
        raise bad_request("The queue name is required.")
    seen = select(queue_definition_folders.c.queue_definition_id).where(
        queue_definition_folders.c.folder_id == folder.id
    )
    row = (
        (
            await conn.execute(
                select(queue_definitions).where(
                    queue_definitions.c.id.in_(seen),
                    queue_definitions.c.name == name,
                    queue_definitions.c.tenant_id == ctx.tenant_id,
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise not_found(f"Queue '{name}' does not exist in this folder.")
    return dict(row)


def _object(body: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = body.get(name)
    if not isinstance(value, Mapping):
        raise bad_request(f"{name} is required and must be a JSON object.")
    return value


def _item_entity(ctx: RequestContext, row: Mapping[str, Any], status: int = 200) -> Response:
    return entity(ctx, "QueueItems", item_dto(row), status)


@area.operation(
    "Queues", "AddQueueItem", namespace=SVC, summary="Adds a new queue item", returns="QueueItemDto"
)
async def add_queue_item(ctx: RequestContext, call: ActionCall) -> Response:
    data = _object(require_body(call), "itemData")
    async with ctx.state.db.write() as conn:
        queue = await _queue(ctx, conn, data.get("Name"), "Transactions.Create")
        item_id = await adding.add_item(conn, queue, data, ctx.user_id, utcnow())
        item = await transactions.item_for_update(conn, ctx.tenant_id, item_id)
    return _item_entity(ctx, item, 201)


@area.operation(
    "Queues",
    "BulkAddQueueItems",
    namespace=SVC,
    summary="Bulk adds queue items",
    returns="BulkOperationResponseDtoOfFailedQueueItemDto",
)
async def bulk_add_queue_items(ctx: RequestContext, call: ActionCall) -> Response:
    body = require_body(call)
    commit = adding.parse_commit_type(body.get("commitType"))
    async with ctx.state.db.write() as conn:
        queue = await _queue(ctx, conn, body.get("queueName"), "Transactions.Create")
        outcome = await adding.bulk_add(conn, queue, body.get("queueItems"), commit, ctx.user_id, utcnow())
    failed = [
        {"Ordinal": ordinal, "ErrorCode": error.failure, "ErrorMessage": error.message}
        for ordinal, error in outcome.failed
    ]
    message = None
    if outcome.stopped:
        message = f"Stopped at item {failed[0]['Ordinal']}: the items after it were not added."
    elif failed:
        message = f"{len(failed)} of {len(outcome.ids) + len(failed)} items were not added."
    return json_response(
        {
            "@odata.context": f"{ctx.odata_base}/$metadata#{BULK_RESPONSE}",
            "success": not failed,
            "message": message,
            "failedItems": failed,
        }
    )


@area.operation(
    "Queues",
    "StartTransaction",
    namespace=SVC,
    returns="QueueItemDto",
    summary="Starts a transaction: hands the caller the next New item (or null)",
)
async def start_transaction(ctx: RequestContext, call: ActionCall) -> Response:
    data = _object(require_body(call), "transactionData")
    transactions.reject_start_fields(data)
    async with ctx.state.db.write() as conn:
        queue = await _queue(ctx, conn, data.get("Name"), "Transactions.Edit")
        robot_id = await transactions.resolve_robot(
            conn, ctx.tenant_id, data.get("RobotIdentifier"), ctx.principal.robot_id
        )
        item = await transactions.start_transaction(conn, queue, data, robot_id, ctx.user_id)
    if item is None:
        # Orchestrator answers 204; the official Python SDK parses every answer as JSON: null is both.
        return json_response(None)
    return _item_entity(ctx, item)


async def _held_item(ctx: RequestContext, conn: AsyncConnection, key: Any) -> dict[str, Any]:
    """The InProgress item the caller holds, locked; the caller needs Transactions.Edit in the item's
    folder, or in the folder of the headers when the item's queue is shared to it."""
    item = await transactions.item_for_update(conn, ctx.tenant_id, key)
    folder_path = item["folder_path"]
    if ctx.folder is not None and ctx.folder.id != item["folder_id"]:
        links = queue_definition_folders.c
        shared = await conn.execute(
            select(links.folder_id).where(
                links.queue_definition_id == item["queue_definition_id"], links.folder_id == ctx.folder.id
            )
        )
        if shared.first() is not None:
            folder_path = ctx.folder.fully_qualified_name
    ctx.require("Transactions.Edit", folder_path)
    transactions.check_holder(item, ctx.user_id, ctx.principal.robot_id)
    return item


@area.operation(
    "Queues",
    "SetTransactionResult",
    bound_to_entity=True,
    namespace=SVC,
    returns="QueueItemDto",
    summary="Sets the result of a transaction (success, or a business/application exception)",
)
async def set_transaction_result(ctx: RequestContext, call: ActionCall) -> Response:
    result = _object(require_body(call), "transactionResult")
    async with ctx.state.db.write() as conn:
        item = await _held_item(ctx, conn, call.key)
        updated = await transactions.set_result(conn, item, result, ctx.user_id)
    return _item_entity(ctx, updated)


@area.operation(
    "QueueItems",
    "SetTransactionProgress",
    bound_to_entity=True,
    namespace=SVC,
    returns="QueueItemDto",
    summary="Updates the progress of an InProgress item",
)
async def set_transaction_progress(ctx: RequestContext, call: ActionCall) -> Response:
    body = require_body(call)
    async with ctx.state.db.write() as conn:
        item = await _held_item(ctx, conn, call.key)
        updated = await transactions.set_progress(conn, item, body.get("progress"), ctx.user_id)
    return _item_entity(ctx, updated)


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
    columns = {name.lower().removesuffix("jsonschema"): column for column, name in SCHEMAS.items()}
    columns.update(
        {
            "specific": "specific_data_json_schema",
            "output": "output_data_json_schema",
            "analytics": "analytics_data_json_schema",
        }
    )
    column = columns.get(kind)
    if column is None:
        raise bad_request("jsonSchemaType must be SpecificData, OutputData or AnalyticsData.")
    queue = await service.get_entity(ctx, QUEUE_DEFINITIONS, call.key)
    text = queue[SCHEMAS[column]]
    if not text:
        raise not_found("The queue has no such JSON schema.")
    return Response(
        text,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{queue["Name"]}-{kind}.json"'},
    )
