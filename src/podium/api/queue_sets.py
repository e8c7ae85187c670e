"""Entity declarations of the queues area: QueueDefinitions, QueueItems and Queues (the set the
transaction actions are bound to), plus ``item_dto`` that turns a queue_items row into a
QueueItemDto without another query (the hot paths answer from the row they just wrote)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_queues import queue_definition_folders, queue_definitions, queue_items, queue_retention
from podium.domain import queue_admin
from podium.domain.queue_enums import (
    RETENTION_DELETE,
    ProcessingExceptionType,
    QueueItemPriority,
    QueueItemStatus,
    ReviewStatus,
)
from podium.domain.queue_schemas import check_schema_definition
from podium.errors import bad_request, conflict
from podium.http.context import RequestContext
from podium.odata.declare import audit, boolean, choice, constant, integer, key_id, text, when
from podium.odata.model import Edm, EntitySet, Field, Navigation, Scope
from podium.odata.registry import Area
from podium.odata.serialize import converter

area = Area("Queues")

SCHEMAS = {
    "specific_data_json_schema": "SpecificDataJsonSchema",
    "output_data_json_schema": "OutputDataJsonSchema",
    "analytics_data_json_schema": "AnalyticsDataJsonSchema",
}


def _untyped(name: str, column: str) -> Field:
    return Field(name, Edm.UNTYPED, column, read_only=True)


async def _check_queue(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    """Valid schemas and limits; a renamed queue renames its items' QueueDefinitionName too."""
    for column, name in SCHEMAS.items():
        check_schema_definition(values.get(column), name)
    retries = values.get("max_number_of_retries")
    if retries is not None and not 0 <= retries <= 50:
        raise bad_request("MaxNumberOfRetries must be between 0 and 50.")
    merged = {**(existing or {}), **values}
    sla, risk = merged.get("sla_in_minutes") or 0, merged.get("risk_sla_in_minutes") or 0
    if sla < 0 or risk < 0 or (sla and risk and risk >= sla):
        raise bad_request(
            "SlaInMinutes and RiskSlaInMinutes must be positive, RiskSlaInMinutes below SlaInMinutes."
        )
    await _check_name_in_shared_folders(conn, values, existing)
    if existing is None:
        return
    enforce = values.get("enforce_unique_reference")
    if enforce is not None and bool(enforce) != bool(existing["enforce_unique_reference"]):
        raise bad_request("EnforceUniqueReference cannot change once the queue exists.")
    if values.get("name") not in (None, existing["name"]):
        await conn.execute(
            update(queue_items)
            .where(queue_items.c.queue_definition_id == existing["id"])
            .values(queue_definition_name=values["name"])
        )


DEFAULT_RETENTION_DAYS = 30  # Orchestrator's built-in policy: finished items deleted after 30 days


async def _queue_created(
    ctx: RequestContext, conn: AsyncConnection, queue_id: int, values: dict[str, Any], body: Mapping[str, Any]
) -> None:
    """A new queue is seen in its folder and gets the built-in retention policy."""
    common = {"queue_definition_id": queue_id, "folder_id": values["folder_id"], "tenant_id": ctx.tenant_id}
    await conn.execute(insert(queue_definition_folders).values(**common))
    await conn.execute(
        insert(queue_retention).values(**common, action=RETENTION_DELETE, period=DEFAULT_RETENTION_DAYS)
    )


async def _check_name_in_shared_folders(
    conn: AsyncConnection, values: dict[str, Any], existing: Mapping[str, Any] | None
) -> None:
    """A name is unique among the queues a folder sees, shared ones included (409)."""
    name = values.get("name")
    if name is None or (existing is not None and name == existing["name"]):
        return
    links, seen = queue_definition_folders.c, queue_definition_folders.alias("seen")
    seen_in: ColumnElement[bool] = (
        links.folder_id == values["folder_id"]
        if existing is None
        else links.folder_id.in_(select(seen.c.folder_id).where(seen.c.queue_definition_id == existing["id"]))
    )
    clash = (
        select(queue_definitions.c.id)
        .join(queue_definition_folders, links.queue_definition_id == queue_definitions.c.id)
        .where(seen_in, queue_definitions.c.name == name)
    )
    if existing is not None:
        clash = clash.where(queue_definitions.c.id != existing["id"])
    if (await conn.execute(clash.limit(1))).first() is not None:
        raise conflict(f"QueueDefinition '{name}' already exists in a folder that sees this queue.")


QUEUE_DEFINITIONS = area.add(
    EntitySet(
        name="QueueDefinitions",
        type_name="QueueDefinitionDto",
        table=queue_definitions,
        scope=Scope.FOLDER,
        permission="Queues",
        unique=("name",),
        shared_through=(queue_definition_folders, "queue_definition_id"),
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
            constant("Tags", []),
            key_id(),
        ],
    )
)

ITEM_FIELDS = [
    integer("QueueDefinitionId", "queue_definition_id", read_only=True),
    text("QueueDefinitionName", "queue_definition_name", read_only=True),
    _untyped("ProcessingException", "processing_exception"),
    constant("Encrypted", False, Edm.BOOLEAN),
    _untyped("SpecificContent", "specific_content"),
    _untyped("Output", "output"),
    constant("OutputData", None),
    _untyped("Analytics", "analytics"),
    constant("AnalyticsData", None),
    choice("Status", QueueItemStatus, "status", read_only=True),
    choice("ReviewStatus", ReviewStatus, "review_status", read_only=True),
    integer("ReviewerUserId", "reviewer_user_id", read_only=True),
    text("Key", "key", read_only=True),
    text("Reference", "reference", read_only=True),
    choice("ProcessingExceptionType", ProcessingExceptionType, "processing_exception_type", read_only=True),
    when("DueDate", "due_date", read_only=True),
    when("RiskSlaDate", "risk_sla_date", read_only=True),
    choice("Priority", QueueItemPriority, "priority", read_only=True),
    integer("RobotId", "robot_id", read_only=True),
    when("DeferDate", "defer_date", read_only=True),
    when("StartProcessing", "start_processing", read_only=True),
    when("EndProcessing", "end_processing", read_only=True),
    integer("SecondsInPreviousAttempts", "seconds_in_previous_attempts", read_only=True),
    integer("AncestorId", "ancestor_id", read_only=True),
    text("AncestorUniqueKey", "ancestor_unique_key", read_only=True),
    integer("RetryNumber", "retry_number", read_only=True),
    integer("ManualAncestorId", "manual_ancestor_id", read_only=True),
    text("ManualAncestorUniqueKey", "manual_ancestor_unique_key", read_only=True),
    integer("ManualRetryNumber", "manual_retry_number", read_only=True),
    text("UniqueKey", "unique_key", read_only=True),
    constant("HasVideoRecorded", False, Edm.BOOLEAN),
    constant("SpecificData", None),
    when("CreationTime", "creation_time", read_only=True),
    text("Progress", "progress", read_only=True),
    constant("RowVersion", None),
    text("Source", "source", read_only=True),
    text("ParentOperationId", "parent_operation_id", read_only=True),
    text("OperationId", "operation_id", read_only=True),
    integer("OrganizationUnitId", "folder_id", read_only=True),
    constant("OrganizationUnitFullyQualifiedName", None),
    *[f for f in audit() if f.name.startswith("LastModif")],
    key_id(),
]
ITEM_NAVIGATIONS = [
    Navigation(
        "QueueDefinition", "QueueDefinitions", local="queue_definition_id", type_name="QueueDefinitionDto"
    ),
    Navigation("Robot", "Robots", local="robot_id", type_name="SimpleRobotDto"),
    Navigation("ReviewerUser", "Users", local="reviewer_user_id", type_name="SimpleUserDto"),
]


async def _delete_item(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    """DELETE /odata/QueueItems(id): a New item becomes Deleted (the row stays, for history)."""
    await queue_admin.delete_item(conn, row, ctx.user_id)


async def _edit_item(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any], body: Any) -> None:
    """PUT /odata/QueueItems(id) with a QueueItemDataDto: edits a New item."""
    await queue_admin.edit_item(conn, row, body, ctx.user_id)


# items are seen in every folder their queue is shared to
ITEMS_SHARED_THROUGH = (queue_definition_folders, "queue_definition_id", "queue_definition_id")

QUEUE_ITEMS = area.add(
    EntitySet(
        name="QueueItems",
        type_name="QueueItemDto",
        table=queue_items,
        scope=Scope.FOLDER,
        permission="Transactions",
        insertable=False,
        shared_through=ITEMS_SHARED_THROUGH,
        edit=_edit_item,
        soft_delete=_delete_item,
        navigations=ITEM_NAVIGATIONS,
        fields=ITEM_FIELDS,
    )
)

# The transaction actions live on /odata/Queues; reading it lists queue items like QueueItems.
QUEUES = area.add(
    EntitySet(
        name="Queues",
        type_name="QueueItemDto",
        table=queue_items,
        scope=Scope.FOLDER,
        permission="Transactions",
        insertable=False,
        updatable=False,
        deletable=False,
        shared_through=ITEMS_SHARED_THROUGH,
        navigations=ITEM_NAVIGATIONS,
        fields=ITEM_FIELDS,
    )
)

_ITEM_CONVERTERS = [
    (f.name, str(f.column), converter(f)) if f.stored else (f.name, None, lambda _v, c=f.constant: c)
    for f in ITEM_FIELDS
]


def item_dto(row: Mapping[str, Any]) -> dict[str, Any]:
    """The QueueItemDto of a queue_items row (without navigation properties)."""
    return {name: convert(row[column] if column else None) for name, column, convert in _ITEM_CONVERTERS}
