"""What users do to queue items: delete New items, retry failed or abandoned ones by hand, review.

A manual retry marks the item ``Retried`` and adds a New item with ``ManualAncestorId`` pointing to
it and ``ManualRetryNumber`` one higher (its automatic ``RetryNumber`` is kept). Review statuses are
``None``, ``InReview``, ``Verified`` and ``Retried`` (setting ``Retried`` is the manual retry).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_queues import queue_items
from podium.db.types import utcnow
from podium.domain.enums import parse_enum
from podium.domain.queue_enums import REVIEW_RETRIED, QueueItemEventAction, ReviewStatus
from podium.domain.queue_item_states import S, record_history, transition
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
