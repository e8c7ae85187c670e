"""What users do to queue items besides editing them: retry failed or abandoned ones by hand, review,
read an item's chain (it and its retries) and find who may review.

A manual retry marks the item ``Retried`` and adds a New item with ``ManualAncestorId`` pointing to
it and ``ManualRetryNumber`` one higher (its automatic ``RetryNumber`` is kept). Review statuses are
``None``, ``InReview``, ``Verified`` and ``Retried`` (setting ``Retried`` is the manual retry).
Reviewers are active human users holding both Transactions.View and Transactions.Edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, distinct, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folders, role_permissions, user_roles, users
from podium.db.schema_queues import queue_item_comments, queue_item_events, queue_items
from podium.db.types import utcnow
from podium.domain.enums import UserType, parse_enum
from podium.domain.queue_definitions import queue_of
from podium.domain.queue_enums import REVIEW_RETRIED, QueueItemEventAction, ReviewStatus
from podium.domain.queue_item_states import S, record_history, transition
from podium.domain.queue_transactions import add_successor
from podium.errors import ErrorCode, PodiumError, bad_request, not_found

RETRYABLE = (S.Failed, S.Abandoned)


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


async def check_reviewer(conn: AsyncConnection, tenant_id: int, user_id: int) -> None:
    """400 unless the user exists in the tenant."""
    found = await conn.execute(
        select(users.c.id).where(users.c.id == user_id, users.c.tenant_id == tenant_id)
    )
    if found.first() is None:
        raise bad_request(f"User {user_id} does not exist.")


async def chain_key(conn: AsyncConnection, tenant_id: int, item_id: int) -> str:
    """The Key an item shares with its retries; 404 when there is no such item."""
    key = (
        await conn.execute(
            select(queue_items.c.key).where(queue_items.c.id == item_id, queue_items.c.tenant_id == tenant_id)
        )
    ).scalar()
    if key is None:
        raise not_found("Queue item does not exist.")
    return str(key)


def in_chain(key: str) -> ColumnElement[bool]:
    """Items of the chain: the item and every retry of it (they share its Key)."""
    condition: ColumnElement[bool] = queue_items.c.key == key
    return condition


def events_of_chain(key: str) -> ColumnElement[bool]:
    """QueueItemEvents rows of the items of a chain."""
    return queue_item_events.c.queue_item_id.in_(select(queue_items.c.id).where(in_chain(key)))


def comments_of_chain(key: str) -> ColumnElement[bool]:
    """QueueItemComments rows of the items of a chain."""
    return queue_item_comments.c.queue_item_id.in_(select(queue_items.c.id).where(in_chain(key)))


REVIEW_PERMISSIONS = ("Transactions.View", "Transactions.Edit")
HUMAN_USERS = (int(UserType.User), int(UserType.DirectoryUser))


def _folder_and_ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]


def reviewer_conditions(folder_path: str | None) -> list[ColumnElement[bool]]:
    """Conditions on ``users``: active human users holding both review permissions through tenant roles
    or roles in the folder (or a folder above it); anywhere in the tenant without a folder."""
    scope: list[ColumnElement[bool]] = []
    if folder_path is not None:
        in_folder = folders.c.fully_qualified_name.in_(_folder_and_ancestors(folder_path))
        scope.append(or_(user_roles.c.folder_id.is_(None), in_folder))
    holders = (
        select(user_roles.c.user_id)
        .join(role_permissions, role_permissions.c.role_id == user_roles.c.role_id)
        .outerjoin(folders, folders.c.id == user_roles.c.folder_id)
        .where(
            role_permissions.c.name.in_(REVIEW_PERMISSIONS), role_permissions.c.is_granted.is_(True), *scope
        )
        .group_by(user_roles.c.user_id)
        .having(func.count(distinct(role_permissions.c.name)) == len(REVIEW_PERMISSIONS))
    )
    return [users.c.id.in_(holders), users.c.is_active.is_(True), users.c.type.in_(HUMAN_USERS)]
