"""What users do to queue items: delete New items, retry failed or abandoned ones by hand, review.

A manual retry marks the item ``Retried`` and adds a New item with ``ManualAncestorId`` pointing to
it and ``ManualRetryNumber`` one higher (its automatic ``RetryNumber`` is kept). Review statuses are
``None``, ``InReview``, ``Verified`` and ``Retried`` (setting ``Retried`` is the manual retry).

Editing (``PUT /odata/QueueItems({key})`` with a QueueItemDataDto) changes a New item only: the
properties present in the body replace the stored ones (null clears them), the others are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_queues import queue_items
from podium.db.types import utcnow
from podium.domain.enums import parse_enum
from podium.domain.queue_enums import REVIEW_RETRIED, QueueItemEventAction, ReviewStatus
from podium.domain.queue_item_states import S, record_history, transition
from podium.domain.queue_items import (
    ITEM_FIELDS,
    content_json,
    duplicate,
    optional_date,
    optional_text,
    parse_priority,
)
from podium.domain.queue_schemas import ItemError, validate
from podium.domain.queues import add_successor, queue_of
from podium.errors import ErrorCode, PodiumError, bad_request

RETRYABLE = (S.Failed, S.Abandoned)


async def delete_item(conn: AsyncConnection, item: Mapping[str, Any], user_id: int | None) -> None:
    """Only a New item can be deleted: it becomes ``Deleted`` (kept for history and statistics)."""
    if item["status"] != int(S.New):
        raise PodiumError(
            f"Only New items can be deleted; this one is {S(item['status']).name}.",
            status=400,
            code=ErrorCode.VALIDATION,
        )
    await transition(conn, item, S.Deleted, user_id)


async def manual_retry(conn: AsyncConnection, item: Mapping[str, Any], user_id: int | None) -> int:
    """Retries a Failed or Abandoned item by hand; returns the new item's id."""
    if S(item["status"]) not in RETRYABLE:
        raise PodiumError(
            f"Only Failed or Abandoned items can be retried; this one is {S(item['status']).name}.",
            status=400,
            code=ErrorCode.VALIDATION,
        )
    retried = await transition(conn, item, S.Retried, user_id, review_status=REVIEW_RETRIED)
    queue = await queue_of(conn, item["queue_definition_id"])
    return await add_successor(conn, queue, retried, user_id, manual=True)


def parse_review_status(value: Any) -> int:
    try:
        return int(parse_enum(ReviewStatus, value))
    except ValueError as error:
        raise bad_request(f"The value '{value}' of 'status' is not valid: {error}.") from None


async def set_review(
    conn: AsyncConnection,
    item: Mapping[str, Any],
    user_id: int | None,
    *,
    status: int | None = None,
    reviewer: int | bool | None = False,
) -> None:
    """Sets the review status (``Retried`` retries the item) and/or the reviewer (``None`` unsets it)."""
    if status == REVIEW_RETRIED:
        await manual_retry(conn, item, user_id)
        return
    values: dict[str, Any] = {"last_modification_time": utcnow(), "last_modifier_user_id": user_id}
    if status is not None:
        if item["status"] not in (int(S.Failed), int(S.Abandoned)):
            raise bad_request("Only Failed or Abandoned items can be reviewed.")
        values["review_status"] = status
    if reviewer is not False:
        values["reviewer_user_id"] = reviewer
    await conn.execute(update(queue_items).where(queue_items.c.id == item["id"]).values(**values))
    await record_history(conn, {**item, **values}, QueueItemEventAction.Status, user_id)


def _edited_columns(queue: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """Column values for the QueueItemDataDto properties present in ``data``; ItemError (4xx) otherwise."""
    unknown = [name for name in data if name not in ITEM_FIELDS and not str(name).startswith("@")]
    if unknown:
        raise ItemError(
            f"The property '{unknown[0]}' does not exist on type 'QueueItemDataDto'.", "InvalidArgument"
        )
    if data.get("Name") not in (None, queue["name"]):
        raise ItemError(
            "Name must be the queue's name: an item cannot move to another queue.", "InvalidArgument"
        )
    values: dict[str, Any] = {}
    if "SpecificContent" in data:
        content = data["SpecificContent"]
        values["specific_content"] = content_json(content, "SpecificContent", "QueueItemContentSizeExceeded")
        validate(queue["specific_data_json_schema"], content or {}, "SpecificContent")
    if "Priority" in data:
        values["priority"] = int(parse_priority(data["Priority"]))
    for name, column in (
        ("DeferDate", "defer_date"),
        ("DueDate", "due_date"),
        ("RiskSlaDate", "risk_sla_date"),
    ):
        if name in data:
            values[column] = optional_date(data, name)
    if "due_date" in values:
        values["due_order"] = 0 if values["due_date"] is not None else 1
    for name, column, limit in (
        ("Reference", "reference", 128),
        ("Progress", "progress", None),
        ("Source", "source", 128),
        ("ParentOperationId", "parent_operation_id", 128),
    ):
        if name in data:
            values[column] = optional_text(data, name, limit)
    return values


async def edit_item(
    conn: AsyncConnection, item: Mapping[str, Any], data: Any, user_id: int | None
) -> dict[str, Any]:
    """Edits a New item with a QueueItemDataDto: content checked against the queue's JSON schema, a
    reference against its unique-reference rule; the Edit event records the changed properties."""
    if not isinstance(data, Mapping):
        raise bad_request("The request body must be a QueueItemDataDto JSON object.")
    if item["status"] != int(S.New):
        raise PodiumError(
            f"Only New items can be edited; this one is {S(item['status']).name}.",
            status=400,
            code=ErrorCode.VALIDATION,
        )
    queue = await queue_of(conn, item["queue_definition_id"])
    values = _edited_columns(queue, data)
    reference = values.get("reference", item["reference"])
    if "reference" in values and queue["enforce_unique_reference"] and reference != item["reference"]:
        if item["ancestor_id"] is not None:  # a retry shares its chain's reference, held by the original
            raise ItemError("The reference of a retried item cannot change.", "InvalidArgument")
        values["unique_reference"] = reference
        if reference is not None and reference != item["unique_reference"]:
            taken = await conn.execute(
                select(queue_items.c.id).where(
                    queue_items.c.queue_definition_id == queue["id"],
                    queue_items.c.unique_reference == reference,
                    queue_items.c.id != item["id"],
                )
            )
            if taken.first() is not None:
                raise duplicate(reference)
    values.update(last_modification_time=utcnow(), last_modifier_user_id=user_id)
    try:
        async with conn.begin_nested():
            changed = await conn.execute(
                update(queue_items)
                .where(queue_items.c.id == item["id"], queue_items.c.status == int(S.New))
                .values(**values)
            )
    except IntegrityError:  # the reference was taken by another request since the check
        raise duplicate(str(reference)) from None
    if changed.rowcount != 1:
        raise PodiumError(
            "The queue item changed meanwhile; try again.", status=409, code=ErrorCode.VALIDATION
        )
    edited = {name: data[name] for name in data if not str(name).startswith("@") and name != "Name"}
    updated = {**item, **values}
    await record_history(conn, updated, QueueItemEventAction.Edit, user_id, edited)
    return updated
