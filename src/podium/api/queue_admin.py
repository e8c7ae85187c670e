"""Users' queue item operations: DeleteBulk, review status and reviewer (SetItemReviewStatus with
``Retried`` is the manual retry), GetReviewers, processing history, the QueueItemEvents /
QueueItemComments sets, and a queue's CSV export.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from podium import inputs
from podium.api.queue_definitions import QUEUE_DEFINITIONS
from podium.api.queue_items import QUEUE_ITEMS
from podium.api.users import USERS
from podium.db.schema_queues import queue_item_comments, queue_item_events
from podium.domain import queue_admin
from podium.domain.queue_enums import QueueItemEventAction, QueueItemStatus, ReviewStatus
from podium.domain.queue_items import delete_item, item_for_update
from podium.errors import PodiumError
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.declare import audit, choice, integer, key_id, text, when
from podium.odata.export import export_csv
from podium.odata.model import EntitySet, Scope
from podium.odata.options import QueryOptions, parse_options
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, entity, json_response, param, require_body

area = Area("Queues")

SVC = "UiPathODataSvc"
ItemAction = Callable[[AsyncConnection, dict[str, Any]], Awaitable[Any]]


def _ids(body: Mapping[str, Any]) -> list[int]:
    """The Ids of the body's ``queueItems`` ({Id, RowVersion} entries)."""
    entries = inputs.json_list(body.get("queueItems"), "queueItems")
    ids = [entry.get("Id") if isinstance(entry, Mapping) else None for entry in entries]
    return inputs.id_list(ids, "queueItems", what="{Id, RowVersion} entries with an integer Id")


async def _bulk(ctx: RequestContext, ids: list[int], permission: str, action: ItemAction) -> Response:
    """Applies ``action`` to each item in its own transaction; answers BulkOperationResponseDtoOfInt64."""
    failed: list[int] = []
    for item_id in ids:
        try:
            async with ctx.state.db.write() as conn:
                item = await item_for_update(conn, ctx.tenant_id, item_id)
                ctx.require(permission, item["folder_path"])
                await action(conn, item)
        except PodiumError:
            failed.append(item_id)
    message = None if not failed else f"{len(failed)} of {len(ids)} items could not be changed."
    return json_response({"Success": not failed, "Message": message, "FailedItems": failed})


@area.operation(
    "QueueItems", "DeleteBulk", namespace=SVC, summary="Sets the given New items' status to Deleted"
)
async def delete_bulk(ctx: RequestContext, call: ActionCall) -> Response:
    return await _bulk(
        ctx,
        _ids(require_body(call)),
        "Transactions.Delete",
        lambda conn, item: delete_item(conn, item, ctx.user_id),
    )


@area.operation(
    "QueueItems",
    "SetItemReviewStatus",
    namespace=SVC,
    summary="Sets the review status of items (Retried retries them by hand)",
)
async def set_item_review_status(ctx: RequestContext, call: ActionCall) -> Response:
    body = require_body(call)
    status = queue_admin.parse_review_status(body.get("status"))
    return await _bulk(
        ctx,
        _ids(body),
        "Transactions.Edit",
        lambda conn, item: queue_admin.set_review(conn, item, ctx.user_id, status=status),
    )


async def _reviewer(ctx: RequestContext, user_id: Any) -> int:
    reviewer = inputs.entity_id(user_id, "userId")
    async with ctx.state.db.read() as conn:
        await queue_admin.check_reviewer(conn, ctx.tenant_id, reviewer)
    return reviewer


@area.operation("QueueItems", "SetItemReviewer", namespace=SVC, summary="Sets the reviewer of items")
async def set_item_reviewer(ctx: RequestContext, call: ActionCall) -> Response:
    body = require_body(call)
    reviewer = await _reviewer(ctx, body.get("userId"))
    return await _bulk(
        ctx,
        _ids(body),
        "Transactions.Edit",
        lambda conn, item: queue_admin.set_review(conn, item, ctx.user_id, reviewer=reviewer),
    )


@area.operation("QueueItems", "UnsetItemReviewer", namespace=SVC, summary="Unsets the reviewer of items")
async def unset_item_reviewer(ctx: RequestContext, call: ActionCall) -> Response:
    return await _bulk(
        ctx,
        _ids(require_body(call)),
        "Transactions.Edit",
        lambda conn, item: queue_admin.set_review(conn, item, ctx.user_id, reviewer=None),
    )


async def _chain(ctx: RequestContext, key: Any, options: QueryOptions) -> list[dict[str, Any]]:
    """The item and every retry of it (they share its Key), oldest first."""
    item = await service.get_entity(ctx, QUEUE_ITEMS, key)
    options.orderby = options.orderby or "Id asc"
    page = await service.list_entities(ctx, QUEUE_ITEMS, options, [queue_admin.in_chain(item["Key"])])
    return page.rows


@area.operation(
    "QueueItems",
    "GetItemProcessingHistory",
    method="GET",
    bound_to_entity=True,
    namespace=SVC,
    returns="QueueItems",
    summary="The item and all its retries",
)
async def get_item_processing_history(ctx: RequestContext, call: ActionCall) -> Response:
    return collection(ctx, "QueueItems", await _chain(ctx, call.key, call.options))


@area.operation(
    "QueueItems",
    "GetItemLastRetry",
    method="GET",
    bound_to_entity=True,
    returns="QueueItemDto",
    summary="The last retry of the item",
)
async def get_item_last_retry(ctx: RequestContext, call: ActionCall) -> Response:
    rows = await _chain(ctx, call.key, QueryOptions(top=1, orderby="Id desc", count=False))
    return entity(ctx, "QueueItems", rows[0])


QUEUE_ITEM_EVENTS = area.add(
    EntitySet(
        name="QueueItemEvents",
        type_name="QueueItemEventDto",
        table=queue_item_events,
        scope=Scope.FOLDER,
        permission="Transactions",
        insertable=False,
        updatable=False,
        deletable=False,
        fields=[
            integer("QueueItemId", "queue_item_id", read_only=True),
            when("Timestamp", "timestamp", read_only=True),
            choice("Action", QueueItemEventAction, "action", read_only=True),
            text("Data", "data", read_only=True),
            integer("UserId", "user_id", read_only=True),
            text("UserName", "user_name", read_only=True),
            choice("Status", QueueItemStatus, "status", read_only=True),
            choice("ReviewStatus", ReviewStatus, "review_status", read_only=True),
            integer("ReviewerUserId", "reviewer_user_id", read_only=True),
            text("ReviewerUserName", "reviewer_user_name", read_only=True),
            text("ExternalClientId", "external_client_id", read_only=True),
            key_id(),
        ],
    )
)


async def _chain_key(ctx: RequestContext, call: ActionCall) -> str:
    """The Key of the ``queueItemId`` parameter's item, shared by it and its retries."""
    item_id = inputs.url_id(param(call, "queueItemId"), "queueItemId")
    async with ctx.state.db.read() as conn:
        return await queue_admin.chain_key(conn, ctx.tenant_id, item_id)


@area.operation(
    "QueueItemEvents",
    "GetQueueItemEventsHistory",
    method="GET",
    parameters=("queueItemId",),
    returns="QueueItemEvents",
    summary="Events of an item and of all its retries",
)
async def events_history(ctx: RequestContext, call: ActionCall) -> Response:
    key = await _chain_key(ctx, call)
    page = await service.list_entities(
        ctx, QUEUE_ITEM_EVENTS, call.options, [queue_admin.events_of_chain(key)]
    )
    return collection(ctx, "QueueItemEvents", page.rows, page.count)


async def _comment_item(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    """A comment lives in its item's folder and records who wrote it."""
    if existing is not None:
        values.pop("queue_item_id", None)
        return
    item_id = inputs.entity_id(values.get("queue_item_id"), "QueueItemId")
    item = await item_for_update(conn, ctx.tenant_id, item_id)
    values.update(folder_id=item["folder_id"], user_id=ctx.user_id, user_name=ctx.principal.user_name)


QUEUE_ITEM_COMMENTS = area.add(
    EntitySet(
        name="QueueItemComments",
        type_name="QueueItemCommentDto",
        table=queue_item_comments,
        scope=Scope.FOLDER,
        permission="Transactions",
        before_write=_comment_item,
        fields=[
            text("Text", "text", required=True, nullable=False, max_length=512),
            integer("QueueItemId", "queue_item_id", required=True, nullable=False),
            when("CreationTime", "creation_time", read_only=True),
            integer("UserId", "user_id", read_only=True),
            text("UserName", "user_name", read_only=True),
            *[f for f in audit() if f.name.startswith("LastModif")],
            key_id(),
        ],
    )
)


@area.operation(
    "QueueItemComments",
    "GetQueueItemCommentsHistory",
    method="GET",
    parameters=("queueItemId",),
    returns="QueueItemComments",
    summary="Comments of an item and of all its retries",
)
async def comments_history(ctx: RequestContext, call: ActionCall) -> Response:
    key = await _chain_key(ctx, call)
    page = await service.list_entities(
        ctx, QUEUE_ITEM_COMMENTS, call.options, [queue_admin.comments_of_chain(key)]
    )
    return collection(ctx, "QueueItemComments", page.rows, page.count)


@area.operation(
    "QueueItems",
    "GetReviewers",
    method="GET",
    returns="Users",
    summary="Active users who may review queue items (Transactions.View and Edit) in the folder",
)
async def get_reviewers(ctx: RequestContext, call: ActionCall) -> Response:
    """Reviewers hold both permissions through tenant roles or roles in the folder of the headers (or
    a folder above it); without a folder header, anywhere in the tenant."""
    async with ctx.state.db.read() as conn:
        await ctx.readable_folder_ids(conn, "Transactions.View")  # 403 unless the caller may see items
    folder_path = ctx.folder.fully_qualified_name if ctx.folder is not None else None
    conditions = queue_admin.reviewer_conditions(folder_path)
    page = await service.list_entities_unchecked(ctx, USERS, call.options, conditions)
    return collection(ctx, "Users", page.rows, page.count)


EXPORT_COLUMNS = (
    "Id",
    "Status",
    "ReviewStatus",
    "Reference",
    "Priority",
    "ProcessingExceptionType",
    "DeferDate",
    "DueDate",
    "StartProcessing",
    "EndProcessing",
    "RetryNumber",
    "Progress",
    "CreationTime",
    "SpecificContent",
    "Output",
    "ProcessingException",
)


@area.operation(
    "QueueDefinitions",
    "Export",
    bound_to_entity=True,
    namespace=SVC,
    returns="ExportModel",
    summary="Exports the queue's items (filtered by $filter) as CSV",
    audit=None,  # not a change someone makes (queue traffic, exports)
)
async def export(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    queue = await service.get_entity(ctx, QUEUE_DEFINITIONS, call.key)  # 404 unless the caller sees it
    options = parse_options(call.request.query_params)
    own = f"QueueDefinitionId eq {int(queue['Id'])}"
    options.filter = f"({options.filter}) and {own}" if options.filter else own
    return await export_csv(ctx, QUEUE_ITEMS, options, EXPORT_COLUMNS, "Queues")
