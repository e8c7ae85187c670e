"""Queue statistics: ``QueueProcessingRecords`` and its functions RetrieveQueuesProcessingStatus and
RetrieveLastDaysProcessingRecords, computed from the items (see ``domain/queue_stats.py``).

Both entity sets read the same grouped subquery, so the generic OData layer applies the caller's
folder scope (queues shared to a folder included) and ``$filter``/``$orderby``/``$top``/``$skip`` to the
computed rows in SQL. ``GET /odata/QueueProcessingRecords`` answers one all-time record per queue.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from starlette.responses import Response

from podium import inputs
from podium.api.queue_definitions import QUEUE_DEFINITIONS
from podium.db.types import utcnow
from podium.domain import queue_stats
from podium.domain.queue_definitions import SHARED_THROUGH
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.declare import boolean, constant, integer, text, when
from podium.odata.model import Edm, EntitySet, Field, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, param
from podium.odata.serialize import format_datetime

area = Area("Queues")

SVC = "UiPathODataSvc"
# the grouped subquery stands where the generic layer expects a table: it reads only ``.c`` from it
STATUS = cast(Table, queue_stats.processing_status())


def _double(name: str, column: str) -> Field:
    return Field(name, Edm.DOUBLE, column, read_only=True)


def _count(name: str, column: str) -> Field:
    return integer(name, column, read_only=True)


QUEUE_PROCESSING_STATUS = EntitySet(  # not registered: served by RetrieveQueuesProcessingStatus only
    name="QueueProcessingStatus",
    type_name="QueueProcessingStatusDto",
    table=STATUS,
    scope=Scope.FOLDER,
    permission="Queues",
    insertable=False,
    updatable=False,
    deletable=False,
    shared_through=SHARED_THROUGH,
    fields=[
        _count("ItemsToProcess", "items_to_process"),
        _count("ItemsInProgress", "items_in_progress"),
        _count("QueueDefinitionId", "id"),
        text("QueueDefinitionKey", "key", read_only=True),
        text("QueueDefinitionName", "name", read_only=True),
        text("QueueDefinitionDescription", "description", read_only=True),
        boolean("QueueDefinitionAcceptAutomaticallyRetry", "accept_automatically_retry", read_only=True),
        _count("QueueDefinitionMaxNumberOfRetries", "max_number_of_retries"),
        boolean("QueueDefinitionEnforceUniqueReference", "enforce_unique_reference", read_only=True),
        _double("ProcessingMeanTime", "mean_time"),
        _count("SuccessfulTransactionsNo", "successful"),
        _count("ApplicationExceptionsNo", "application_exceptions"),
        _count("BusinessExceptionsNo", "business_exceptions"),
        _double("SuccessfulTransactionsProcessingTime", "successful_time"),
        _double("ApplicationExceptionsProcessingTime", "application_time"),
        _double("BusinessExceptionsProcessingTime", "business_time"),
        _count("TotalNumberOfTransactions", "total"),
        when("LastProcessed", "last_processed", read_only=True),
        text("ReleaseName", "release_name", read_only=True),
        _count("ReleaseId", "release_id"),
        # the queue's process runs in the queue's own folder (null without a process)
        boolean("IsProcessInCurrentFolder", "process_in_folder", read_only=True),
        boolean("SpecificDataJsonSchemaExists", "specific_schema_exists", read_only=True),
        boolean("OutputDataJsonSchemaExists", "output_schema_exists", read_only=True),
        boolean("AnalyticsDataJsonSchemaExists", "analytics_schema_exists", read_only=True),
        _count("ProcessScheduleId", "process_schedule_id"),
        _count("QueueFoldersCount", "folders_count"),
        constant("Tags", []),
        _count("Id", "id"),
    ],
)

QUEUE_PROCESSING_RECORDS = area.add(
    EntitySet(
        name="QueueProcessingRecords",
        type_name="QueueProcessingRecordDto",
        table=STATUS,
        scope=Scope.FOLDER,
        permission="Queues",
        insertable=False,
        updatable=False,
        deletable=False,
        shared_through=SHARED_THROUGH,
        fields=[
            _count("QueueDefinitionId", "id"),
            when("ProcessingTime", "last_processed", read_only=True),
            constant("ReportType", "All"),
            _count("NumberOfRemainingTransactions", "items_to_process"),
            _count("NumberOfInProgressTransactions", "items_in_progress"),
            _count("NumberOfApplicationExceptions", "application_exceptions"),
            _count("NumberOfBusinessExceptions", "business_exceptions"),
            _count("NumberOfSuccessfulTransactions", "successful"),
            _count("NumberOfRetriedItems", "retried"),
            _double("ApplicationExceptionsProcessingTime", "application_time"),
            _double("BusinessExceptionsProcessingTime", "business_time"),
            _double("SuccessfulTransactionsProcessingTime", "successful_time"),
            _count("TotalNumberOfTransactions", "total"),
            _count("TenantId", "tenant_id"),
            _count("Id", "id"),
        ],
    )
)


@area.operation(
    "QueueProcessingRecords",
    "RetrieveQueuesProcessingStatus",
    method="GET",
    namespace=SVC,
    returns="QueueProcessingStatusDto",
    summary="The processing status of every queue the caller can see; allows OData query options",
)
async def retrieve_queues_processing_status(ctx: RequestContext, call: ActionCall) -> Response:
    page = await service.list_entities(ctx, QUEUE_PROCESSING_STATUS, call.options)
    return collection(
        ctx, "UiPath.Server.Configuration.OData.QueueProcessingStatusDto", page.rows, page.count
    )


def _positive(call: ActionCall, name: str, limit: int) -> int:
    """A function parameter from 1 to ``limit`` (in the URL's parentheses or the query string)."""
    return inputs.integer(inputs.url_integer(param(call, name)), name, low=1, high=limit)


RECORD_FIELDS = {
    "NumberOfApplicationExceptions": "application_exceptions",
    "NumberOfBusinessExceptions": "business_exceptions",
    "NumberOfSuccessfulTransactions": "successful",
    "NumberOfRetriedItems": "retried",
    "TotalNumberOfTransactions": "total",
}
RECORD_TIMES = {
    "ApplicationExceptionsProcessingTime": "application_time",
    "BusinessExceptionsProcessingTime": "business_time",
    "SuccessfulTransactionsProcessingTime": "successful_time",
}


@area.operation(
    "QueueProcessingRecords",
    "RetrieveLastDaysProcessingRecords",
    method="GET",
    namespace=SVC,
    parameters=("daysNo", "queueDefinitionId"),
    returns="QueueProcessingRecordDto",
    summary="One processing record per day of the last daysNo days for a queue",
)
async def retrieve_last_days_processing_records(ctx: RequestContext, call: ActionCall) -> Response:
    days = _positive(call, "daysNo", queue_stats.MAX_DAYS)
    queue_id = _positive(call, "queueDefinitionId", inputs.INT64_MAX)
    queue = await service.get_entity(ctx, QUEUE_DEFINITIONS, queue_id)  # 404 unless the caller sees it
    async with ctx.state.db.read() as conn:
        records = await queue_stats.last_days(conn, queue_id, days, utcnow().date())
    rows: list[dict[str, Any]] = []
    for number, record in enumerate(records, start=1):
        rows.append(
            {
                "QueueDefinitionId": queue_id,
                "UiQueueMetadata": queue,
                "ProcessingTime": format_datetime(record["processing_time"]),
                "ReportType": "Day",
                "NumberOfRemainingTransactions": record["remaining"],
                "NumberOfInProgressTransactions": record["in_progress"],
                **{name: int(record[column]) for name, column in RECORD_FIELDS.items()},
                **{name: float(record[column]) for name, column in RECORD_TIMES.items()},
                "TenantId": ctx.tenant_id,
                "Id": number,
            }
        )
    return collection(ctx, "UiPath.Server.Configuration.OData.QueueProcessingRecordDto", rows, len(rows))
