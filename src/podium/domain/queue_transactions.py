"""Transactions: StartTransaction, SetTransactionProgress, SetTransactionResult, retries and the
abandon sweep.

An application exception (or an abandoned item) on a queue that accepts automatic retries, with
retries left, marks the item ``Retried`` and adds its successor: a ``New`` item with the same key,
content and reference, ``AncestorId`` pointing back and ``RetryNumber`` one higher. Business
exceptions are never retried automatically.

An encrypted queue's Output and Analytics are sealed before they are written (``queue_sealing``); a
successor copies its ancestor's sealed SpecificContent as it is (bound to the Key they share).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.engine import Database
from podium.db.schema import robots
from podium.db.schema_queues import queue_items
from podium.db.types import utcnow
from podium.domain import alerts
from podium.domain.enums import parse_enum
from podium.domain.queue_definitions import queue_of
from podium.domain.queue_enums import ProcessingExceptionType, QueueItemEventAction, ReferenceFilterOption
from podium.domain.queue_item_states import S, claim_next, record_history, transition
from podium.domain.queue_items import (
    checked_item_values,
    content_json,
    insert_items,
    optional_date,
    optional_text,
    sealer,
)
from podium.domain.queue_schemas import ItemError, off_loop, validate
from podium.domain.queue_sealing import Keys, seal_columns
from podium.errors import ErrorCode, PodiumError, bad_request, forbidden, not_found
from podium.odata.serialize import format_datetime

MAX_REASON_CHARS = 2048
MAX_DETAILS_CHARS = 262_144
COPIED_ON_RETRY = (
    "tenant_id",
    "folder_id",
    "queue_definition_id",
    "queue_definition_name",
    "key",
    "priority",
    "due_order",
    "reference",
    "specific_content",
    "defer_date",
    "due_date",
    "risk_sla_date",
    "source",
    "parent_operation_id",
    "manual_ancestor_id",
    "manual_ancestor_unique_key",
    "manual_retry_number",
    "review_status",
)


async def resolve_robot(
    conn: AsyncConnection, tenant_id: int, identifier: Any, token_robot: int | None
) -> int | None:
    """The robot taking the item: ``RobotIdentifier`` (a robot's Key), else the token's robot."""
    if identifier in (None, ""):
        return token_robot
    if not isinstance(identifier, str):
        raise bad_request("RobotIdentifier must be a robot's key.")
    robot_id = (
        await conn.execute(
            select(robots.c.id).where(
                robots.c.key == identifier.strip().lower(), robots.c.tenant_id == tenant_id
            )
        )
    ).scalar()
    if robot_id is None:
        raise not_found("No robot has this RobotIdentifier (robot key).")
    if token_robot is not None and token_robot != robot_id:
        raise forbidden("The RobotIdentifier is not the calling robot's key.")
    return int(robot_id)


def reference_conditions(data: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    reference = optional_text(data, "Reference", 128)
    if reference is None:
        return []
    option = data.get("ReferenceFilterOption")
    try:
        parsed = (
            parse_enum(ReferenceFilterOption, option) if option is not None else ReferenceFilterOption.Equals
        )
    except ValueError as error:
        raise bad_request(f"The value '{option}' of 'ReferenceFilterOption' is not valid: {error}.") from None
    if parsed == ReferenceFilterOption.StartsWith:
        escaped = reference.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return [queue_items.c.reference.like(escaped + "%", escape="\\")]
    return [queue_items.c.reference == reference]


async def start_transaction(
    conn: AsyncConnection,
    queue: Mapping[str, Any],
    data: Mapping[str, Any],
    robot_id: int | None,
    user_id: int | None,
    keys: Keys | None = None,
) -> dict[str, Any] | None:
    """The item handed to the caller (now InProgress), or None when no New item is available.

    With ``SpecificContent`` the item is created from the request and started at once.
    """
    now = utcnow()
    if data.get("SpecificContent") is not None:
        fields = {
            k: data[k]
            for k in ("SpecificContent", "DeferDate", "DueDate", "Reference", "ParentOperationId")
            if data.get(k) is not None
        }
        values = await checked_item_values(fields, queue, user_id, now, check_name=False)
        values.update(defer_date=None)  # started now, whatever the deferral asked
        [item_id] = await insert_items(conn, queue, [values], user_id, keys)
        condition = [queue_items.c.id == item_id]
        return await claim_next(conn, queue["id"], condition, robot_id, user_id, now)
    return await claim_next(conn, queue["id"], reference_conditions(data), robot_id, user_id, now)


def check_holder(item: Mapping[str, Any], user_id: int, robot_id: int | None) -> None:
    """Only the caller that started the transaction (its robot, when it has one) may touch it."""
    if item["status"] != int(S.InProgress):
        raise PodiumError(
            f"The queue item is {S(item['status']).name}, not InProgress: its transaction is not started.",
            status=400,
            code=ErrorCode.VALIDATION,
        )
    holder_robot = item["robot_id"]
    if robot_id is not None and holder_robot is not None and robot_id != holder_robot:
        raise forbidden("The transaction is held by another robot.")
    if robot_id is None and item["processing_user_id"] not in (None, user_id):
        raise forbidden("The transaction was started by another caller.")


async def set_progress(
    conn: AsyncConnection, item: Mapping[str, Any], progress: Any, user_id: int
) -> dict[str, Any]:
    if progress is not None and not isinstance(progress, str):
        raise bad_request("progress must be a string.")
    now = utcnow()
    await conn.execute(
        update(queue_items)
        .where(queue_items.c.id == item["id"])
        .values(progress=progress, last_modification_time=now)
    )
    await record_history(conn, item, QueueItemEventAction.Edit, user_id, {"Progress": progress})
    return {**item, "progress": progress, "last_modification_time": now}


def processing_exception(value: Any) -> tuple[ProcessingExceptionType, str]:
    """The exception type and the stored ProcessingExceptionDto of a failed transaction."""
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise bad_request("ProcessingException must be a JSON object.")
    raw_type = value.get("Type")
    try:
        kind = (
            ProcessingExceptionType(int(parse_enum(ProcessingExceptionType, raw_type)))
            if raw_type is not None
            else ProcessingExceptionType.ApplicationException
        )
    except ValueError as error:
        raise bad_request(f"The value '{raw_type}' of 'Type' is not valid: {error}.") from None
    reason = optional_text(value, "Reason", MAX_REASON_CHARS)
    details = optional_text(value, "Details", MAX_DETAILS_CHARS)
    image = optional_text(value, "AssociatedImageFilePath", 512)
    dto = {
        "Reason": reason,
        "Details": details,
        "Type": kind.name,
        "AssociatedImageFilePath": image,
        "CreationTime": format_datetime(utcnow()),
    }
    return kind, orjson.dumps(dto).decode()


@dataclass(frozen=True)
class Outcome:
    """A transactionResult read and checked: the item's new status and the columns it writes."""

    successful: bool
    changes: dict[str, Any]  # output, analytics (always), progress, operation_id, the exception (if any)
    kind: ProcessingExceptionType | None  # the exception's type; None when successful

    @property
    def retryable(self) -> bool:
        """An application exception: retried when the queue allows it and retries are left."""
        return self.kind is ProcessingExceptionType.ApplicationException


def read_result(result: Any) -> Outcome:
    """The Outcome of a SetTransactionResult body (400 on a bad value); the queue's own checks (schemas,
    sealing, retries) come after, in :func:`set_result` or in the one statement of ``queue_hot_path``."""
    if not isinstance(result, Mapping):
        raise bad_request("transactionResult must be a JSON object.")
    is_successful = result.get("IsSuccessful", True)
    if not isinstance(is_successful, bool):
        raise bad_request("IsSuccessful must be true or false.")
    output = content_json(result.get("Output"), "Output", "QueueItemOutputDataSizeExceeded")
    analytics = content_json(result.get("Analytics"), "Analytics", "QueueItemAnalyticsDataSizeExceeded")
    changes: dict[str, Any] = {"output": output, "analytics": analytics}
    if "Progress" in result:
        changes["progress"] = optional_text(result, "Progress", None)
    if result.get("OperationId") is not None:
        changes["operation_id"] = optional_text(result, "OperationId", 128)
    if is_successful:
        return Outcome(True, changes, None)
    kind, exception = processing_exception(result.get("ProcessingException"))
    changes.update(processing_exception_type=int(kind), processing_exception=exception)
    return Outcome(False, changes, kind)


async def set_result(
    conn: AsyncConnection, item: Mapping[str, Any], result: Any, user_id: int, keys: Keys | None = None
) -> dict[str, Any]:
    """SetTransactionResult: Successful, Failed, or Retried with a successor."""
    if not isinstance(result, Mapping):
        raise bad_request("transactionResult must be a JSON object.")
    queue = await queue_of(conn, item["queue_definition_id"])
    outcome = read_result(result)
    changes = dict(outcome.changes)
    checks = [
        (schema, result[name], name)
        for schema, value, name in (
            (queue["output_data_json_schema"], changes["output"], "Output"),
            (queue["analytics_data_json_schema"], changes["analytics"], "Analytics"),
        )
        if schema and value is not None
    ]
    if checks:
        await off_loop(partial(_validate_all, checks))
    seal = sealer(queue, keys)
    if seal is not None:
        seal_columns(seal, item, changes)
    if outcome.successful:
        return await transition(conn, item, S.Successful, user_id, **changes)
    retry = outcome.retryable and _retries_left(queue, item)
    if not retry:
        failed = await transition(conn, item, S.Failed, user_id, **changes)
        if outcome.kind is ProcessingExceptionType.ApplicationException:
            await alerts.raise_alert(
                conn,
                item["tenant_id"],
                alerts.QUEUE_ITEM_FAILED,
                {
                    "QueueItemId": item["id"],
                    "QueueName": queue["name"],
                    "Reference": item.get("reference"),
                    "Reason": orjson.loads(changes["processing_exception"]).get("Reason"),
                },
                folder_id=item["folder_id"],
            )
        return failed
    updated = await transition(conn, item, S.Retried, user_id, **changes)
    await add_successor(
        conn,
        queue,
        updated,
        user_id,
        defer=optional_date(result, "DeferDate"),
        due=optional_date(result, "DueDate"),
    )
    return updated


def _validate_all(checks: list[tuple[str, Any, str]]) -> None:
    for schema, value, what in checks:
        validate(schema, value, what)


def _retries_left(queue: Mapping[str, Any], item: Mapping[str, Any]) -> bool:
    return bool(queue["accept_automatically_retry"]) and item["retry_number"] < queue["max_number_of_retries"]


def _attempt_seconds(item: Mapping[str, Any]) -> int:
    start, end = item.get("start_processing"), item.get("end_processing")
    spent = int((end - start).total_seconds()) if start is not None and end is not None else 0
    return int(item["seconds_in_previous_attempts"] or 0) + max(spent, 0)


async def add_successor(
    conn: AsyncConnection,
    queue: Mapping[str, Any],
    item: Mapping[str, Any],
    user_id: int | None,
    *,
    defer: dt.datetime | None = None,
    due: dt.datetime | None = None,
    manual: bool = False,
) -> int:
    """The New item that retries ``item`` (automatically, or manually with ManualAncestorId)."""
    now = utcnow()
    row = {name: item[name] for name in COPIED_ON_RETRY}
    unique_key = str(uuid.uuid4())
    row.update(
        unique_key=unique_key,
        status=int(S.New),
        creation_time=now,
        creator_user_id=user_id,
        seconds_in_previous_attempts=_attempt_seconds(item),
        ancestor_id=item["id"],
        ancestor_unique_key=item["unique_key"],
        retry_number=item["retry_number"] + 1,
        unique_reference=None,
    )
    if manual:
        row.update(
            manual_ancestor_id=item["id"],
            manual_ancestor_unique_key=item["unique_key"],
            manual_retry_number=item["manual_retry_number"] + 1,
            retry_number=item["retry_number"],
        )
    if defer is not None:
        row["defer_date"] = defer
    if due is not None:
        row.update(due_date=due, due_order=0)
    new_id = int(
        (await conn.execute(insert(queue_items).values(**row).returning(queue_items.c.id))).scalar_one()
    )
    await record_history(
        conn,
        {**row, "id": new_id},
        QueueItemEventAction.Retry,
        user_id,
        {"AncestorId": item["id"], "Manual": manual},
    )
    return new_id


async def abandon_stale(
    conn: AsyncConnection, timeout: dt.timedelta, limit: int = 1000, tenant_id: int | None = None
) -> list[int]:
    """Items InProgress for longer than ``timeout`` become Abandoned, and are retried like application
    exceptions when their queue allows. Safe to run on several servers at once: each item is locked
    (SKIP LOCKED on PostgreSQL) and moved by the conditional transition."""
    cutoff = utcnow() - timeout
    rows = (
        (
            await conn.execute(
                select(queue_items)
                .where(
                    queue_items.c.status == int(S.InProgress),
                    queue_items.c.start_processing < cutoff,
                    *([queue_items.c.tenant_id == tenant_id] if tenant_id is not None else []),
                )
                .order_by(queue_items.c.start_processing)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        .mappings()
        .all()
    )
    queues: dict[int, dict[str, Any]] = {}
    for row in rows:
        queue_id = row["queue_definition_id"]
        if queue_id not in queues:
            queues[queue_id] = await queue_of(conn, queue_id)
        abandoned = await transition(conn, dict(row), S.Abandoned)
        if _retries_left(queues[queue_id], abandoned):
            retried = await transition(conn, abandoned, S.Retried)
            await add_successor(conn, queues[queue_id], retried, None)
    return [int(row["id"]) for row in rows]


async def abandon_stale_items(db: Database, timeout: dt.timedelta, tenant_id: int | None = None) -> list[int]:
    """Abandons (and retries) every stale item (of the tenant, or of every tenant), a thousand per
    transaction; returns their ids."""
    done: list[int] = []
    while True:
        async with db.write() as conn:
            batch = await abandon_stale(conn, timeout, tenant_id=tenant_id)
        done.extend(batch)
        if len(batch) < 1000:
            return done


def reject_start_fields(data: Mapping[str, Any]) -> None:
    allowed = {
        "Name",
        "RobotIdentifier",
        "SpecificContent",
        "DeferDate",
        "DueDate",
        "Reference",
        "ReferenceFilterOption",
        "ParentOperationId",
    }
    unknown = [name for name in data if name not in allowed and not str(name).startswith("@")]
    if unknown:
        raise ItemError(
            f"The property '{unknown[0]}' does not exist on type 'TransactionDataDto'.", "InvalidArgument"
        )
