"""Queue statistics computed from the items with aggregate SQL: one GROUP BY per request, no query per
queue or per item.

How items count (Orchestrator's processing status):

- ``ItemsToProcess``: New items (deferred ones included); ``ItemsInProgress``: InProgress items.
- Successful transactions: Successful items.
- Application exceptions: Failed items with an application exception, Retried items (each attempt
  that was retried failed with an application exception or was abandoned; its successor counts on its
  own), and Abandoned items. Business exceptions: Failed items with a business exception, and Retried
  items whose exception was a business one (a business failure retried by hand).
- Deleted items count nowhere.
- Processing times are the seconds between StartProcessing and EndProcessing of those attempts;
  ``ProcessingMeanTime`` is their sum over the number of transactions (0 when there is none).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, Integer, and_, case, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import Subquery

from podium.db.schema import releases
from podium.db.schema_queues import queue_definitions, queue_items
from podium.domain.queue_enums import ProcessingExceptionType, QueueItemStatus

S = QueueItemStatus
APPLICATION = int(ProcessingExceptionType.ApplicationException)
BUSINESS = int(ProcessingExceptionType.BusinessException)
MAX_DAYS = 365


class seconds_between(FunctionElement[float]):
    """Seconds from the first datetime column to the second (NULL when either is NULL)."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION)"


class utc_day(FunctionElement[str]):
    """The UTC calendar day of a datetime column as ``YYYY-MM-DD`` text."""

    inherit_cache = True


@compiles(utc_day, "sqlite")
def _day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"  # stored as UTC text


@compiles(utc_day, "postgresql")
def _day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


qi = queue_items.c
SUCCESSFUL = qi.status == int(S.Successful)
APPLICATION_EXCEPTION = and_(
    qi.status.in_([int(S.Failed), int(S.Retried), int(S.Abandoned)]),
    or_(qi.processing_exception_type.is_(None), qi.processing_exception_type == APPLICATION),
)
BUSINESS_EXCEPTION = and_(
    qi.status.in_([int(S.Failed), int(S.Retried)]), qi.processing_exception_type == BUSINESS
)
DURATION = seconds_between(qi.start_processing, qi.end_processing)


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def seconds_if(condition: ColumnElement[bool]) -> ColumnElement[float]:
    return cast(func.coalesce(func.sum(case((condition, DURATION), else_=0.0)), 0.0), Float)


def _counts() -> list[ColumnElement[Any]]:
    """The aggregate columns over queue_items, labelled as the status subquery names them."""
    successful, application, business = (
        count_if(SUCCESSFUL),
        count_if(APPLICATION_EXCEPTION),
        count_if(BUSINESS_EXCEPTION),
    )
    times = seconds_if(or_(SUCCESSFUL, APPLICATION_EXCEPTION, BUSINESS_EXCEPTION))
    total = successful + application + business
    return [
        successful.label("successful"),
        application.label("application_exceptions"),
        business.label("business_exceptions"),
        count_if(qi.status == int(S.Retried)).label("retried"),
        seconds_if(SUCCESSFUL).label("successful_time"),
        seconds_if(APPLICATION_EXCEPTION).label("application_time"),
        seconds_if(BUSINESS_EXCEPTION).label("business_time"),
        cast(total, Integer).label("total"),
        cast(func.coalesce(times / func.nullif(total, 0), 0.0), Float).label("mean_time"),
    ]


def _schema_set(column: ColumnElement[Any]) -> ColumnElement[bool]:
    return case((and_(column.is_not(None), column != ""), literal(True)), else_=literal(False))


def processing_status() -> Subquery:
    """One row per queue definition with its processing status, grouped by the queue's primary key
    (so the tenant, folder and id conditions of a request reach the grouped scan on both databases)."""
    qd = queue_definitions.c
    columns: list[ColumnElement[Any]] = [
        qd.id,
        qd.tenant_id,
        qd.folder_id,
        qd.key,
        qd.name,
        qd.description,
        qd.accept_automatically_retry,
        qd.max_number_of_retries,
        qd.enforce_unique_reference,
        qd.release_id,
        qd.process_schedule_id,
        qd.folders_count,
        _schema_set(qd.specific_data_json_schema).label("specific_schema_exists"),
        _schema_set(qd.output_data_json_schema).label("output_schema_exists"),
        _schema_set(qd.analytics_data_json_schema).label("analytics_schema_exists"),
        func.max(releases.c.name).label("release_name"),
        func.max(
            case((releases.c.id.is_(None), None), (releases.c.folder_id == qd.folder_id, 1), else_=0)
        ).label("process_in_folder"),
        count_if(qi.status == int(S.New)).label("items_to_process"),
        count_if(qi.status == int(S.InProgress)).label("items_in_progress"),
        *_counts(),
        func.max(qi.end_processing).label("last_processed"),
    ]
    source = queue_definitions.outerjoin(queue_items, qi.queue_definition_id == qd.id).outerjoin(
        releases, releases.c.id == qd.release_id
    )
    return (
        select(*columns)
        .select_from(source)
        .group_by(qd.id, qd.tenant_id, qd.folder_id)
        .subquery("queue_processing_status")
    )


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


async def last_days(conn: AsyncConnection, queue_id: int, days: int, today: dt.date) -> list[dict[str, Any]]:
    """One record per UTC day of the last ``days`` days (today included), oldest first: the
    transactions that ended that day. Remaining and in-progress counts are what the queue holds now,
    so only today's record has them (Podium keeps no snapshots of earlier days)."""
    first = today - dt.timedelta(days=days - 1)
    day = utc_day(qi.end_processing).label("day")
    ended = await conn.execute(
        select(day, *_counts())
        .where(qi.queue_definition_id == queue_id, qi.end_processing >= day_start(first))
        .group_by(day)
    )
    by_day = {row.day: row._mapping for row in ended}
    waiting = (
        await conn.execute(
            select(count_if(qi.status == int(S.New)), count_if(qi.status == int(S.InProgress))).where(
                qi.queue_definition_id == queue_id
            )
        )
    ).one()
    records = []
    for offset in range(days):
        current = first + dt.timedelta(days=offset)
        found = by_day.get(current.isoformat())
        is_today = current == today
        records.append(
            {
                "processing_time": day_start(current),
                "remaining": int(waiting[0]) if is_today else 0,
                "in_progress": int(waiting[1]) if is_today else 0,
                **{
                    name: (found[name] if found is not None else 0)
                    for name in (
                        "successful",
                        "application_exceptions",
                        "business_exceptions",
                        "retried",
                        "successful_time",
                        "application_time",
                        "business_time",
                        "total",
                    )
                },
            }
        )
    return records
