"""StartTransaction and SetTransactionResult in one statement each (PostgreSQL).

A transaction pair is what robot fleets are sized by, so its two calls skip what a general path pays
for: each is one data-modifying statement (``WITH … UPDATE … RETURNING``, the history row and the
outbox row inserted from its result), run in autocommit on psycopg's own connection
(``Database.statements``): one round trip, no BEGIN/COMMIT, no SQLAlchemy statement building.

The statement only does what the general path (``queue_transactions``, ``queue_item_states``) would do
in the same case, and its WHERE carries every condition under which that path would act alike:

- StartTransaction: the queue named in the folder of the headers (the caller holds Transactions.Edit
  there, checked before), the robot of ``RobotIdentifier`` when given (and the token's own robot, if
  any); the next New item in the dequeue order, claimed with ``FOR UPDATE SKIP LOCKED`` and a status
  condition, exactly as :func:`queue_item_states.claim_statement`.
- SetTransactionResult: the item of the tenant (found by its primary key: ``status + 0``, see
  :func:`queue_item_states.status_unindexed`), InProgress, held by the caller, of a queue seen by the
  folder of the headers, which is not encrypted, has no schema for a value given, and does not retry
  this failure (the successor is the general path's work).

When the statement does nothing (no such queue, robot or item, another holder, a condition not met),
nothing was written: the caller runs the general path, which gives the answer or the error. The
history and outbox rows are those :func:`queue_item_states.transition` writes (no outbox row when the
tenant has no enabled webhook, as ``domain/events.py`` writes them) (``tests/test_queues_hot_path.py``
compares them).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from podium.db.asyncpg_connections import positional
from podium.db.engine import Database
from podium.domain.queue_enums import QueueItemEventAction, QueueItemStatus
from podium.domain.queue_transactions import Outcome

S = QueueItemStatus
STATUS_ACTION = int(QueueItemEventAction.Status)


def _recorded(source: str, was: QueueItemStatus) -> str:
    """The history row and the outbox row of each item of the CTE ``source`` (its new status)."""
    payload = (
        "'{\"QueueItemId\":' || id || ',\"QueueDefinitionId\":' || queue_definition_id"
        f' || \',"From":"{was.name}","Status":"\' || status_name || \'"}}\''
    )
    return f"""
    history AS (
        INSERT INTO queue_item_events (tenant_id, folder_id, queue_item_id, timestamp, action, user_id,
            status, review_status, reviewer_user_id)
        SELECT tenant_id, folder_id, id, %(now)s, {STATUS_ACTION}, %(user)s, status, review_status,
            reviewer_user_id
        FROM {source}
    ),
    outbox AS (
        INSERT INTO events (tenant_id, folder_id, type, entity_key, payload, creation_time, dispatched)
        SELECT tenant_id, folder_id, 'queueitem.' || lower(status_name), unique_key, {payload}, %(now)s,
            false
        FROM {source}
        WHERE EXISTS (SELECT 1 FROM webhooks w WHERE w.tenant_id = {source}.tenant_id AND w.enabled)
    )"""


START = f"""
WITH queue AS (
    SELECT q.id FROM queue_definitions q
    JOIN queue_definition_folders seen ON seen.queue_definition_id = q.id
    WHERE seen.folder_id = %(folder)s AND q.name = %(name)s AND q.tenant_id = %(tenant)s
),
robot AS (
    SELECT CASE WHEN %(robot_key)s::text IS NULL THEN %(token_robot)s::bigint
        ELSE (SELECT id FROM robots WHERE key = %(robot_key)s::text AND tenant_id = %(tenant)s) END AS id
),
claimed AS (
    UPDATE queue_items SET status = {int(S.InProgress)}, robot_id = (SELECT id FROM robot),
        processing_user_id = %(user)s, start_processing = %(now)s, last_modification_time = %(now)s
    WHERE id = (
        SELECT id FROM queue_items
        WHERE queue_definition_id = (SELECT id FROM queue) AND status = {int(S.New)}
            AND (defer_date IS NULL OR defer_date <= %(now)s)
        ORDER BY due_order, priority, due_date, id
        LIMIT 1 FOR UPDATE SKIP LOCKED
    ) AND status + 0 = {int(S.New)}
    AND (%(robot_key)s::text IS NULL OR (SELECT id FROM robot) IS NOT NULL
        AND (%(token_robot)s::bigint IS NULL OR %(token_robot)s::bigint = (SELECT id FROM robot)))
    RETURNING *, '{S.InProgress.name}' AS status_name
),{_recorded("claimed", S.New)}
SELECT (SELECT id FROM queue) AS podium_queue_id, (SELECT id FROM robot) AS podium_robot_id, claimed.*
FROM (SELECT 1) AS one LEFT JOIN claimed ON true
"""


async def start_transaction(
    db: Database,
    tenant_id: int,
    folder_id: int,
    name: str,
    robot_key: str | None,
    token_robot: int | None,
    user_id: int,
    now: dt.datetime,
) -> tuple[bool, dict[str, Any] | None]:
    """(answered, item): the item claimed (InProgress), or None when the queue has no New item; not
    answered when there is no such queue or robot, or the robot is not the token's (the general path
    gives the error then)."""
    key = robot_key.strip().lower() if robot_key is not None else None
    params = {
        "folder": folder_id,
        "name": name,
        "tenant": tenant_id,
        "robot_key": key,
        "token_robot": token_robot,
        "user": user_id,
        "now": now,
    }
    row = await _one_row(db, START, params)
    if row is None or row.pop("podium_queue_id") is None:
        return False, None
    robot_id = row.pop("podium_robot_id")
    if key is not None and (robot_id is None or token_robot not in (None, robot_id)):
        return False, None
    if row["id"] is None:
        return True, None
    row.pop("status_name")
    return True, row


@cache
def _result_statement(columns: tuple[str, ...], failure: bool, robot_holder: bool) -> str:
    """SetTransactionResult's statement writing ``columns`` (the Outcome's changes)."""
    target = S.Failed if failure else S.Successful
    assignments = ", ".join(f"{column} = %({column})s" for column in columns)
    holder = (
        "(i.robot_id IS NULL OR i.robot_id = %(robot)s)"
        if robot_holder
        else "(i.processing_user_id IS NULL OR i.processing_user_id = %(user)s)"
    )
    checks = [
        "NOT q.encrypted",
        "(%(output)s::text IS NULL OR coalesce(q.output_data_json_schema, '') = '')",
        "(%(analytics)s::text IS NULL OR coalesce(q.analytics_data_json_schema, '') = '')",
    ]
    if failure:
        checks.append(
            "(NOT %(retryable)s"
            " OR NOT (q.accept_automatically_retry AND i.retry_number < q.max_number_of_retries))"
        )
    return f"""
WITH done AS (
    UPDATE queue_items i SET status = {int(target)}, last_modification_time = %(now)s,
        end_processing = %(now)s, {assignments}
    FROM queue_definitions q
    WHERE i.id = %(id)s AND i.tenant_id = %(tenant)s AND i.status + 0 = {int(S.InProgress)}
        AND q.id = i.queue_definition_id AND {" AND ".join(checks)}
        AND {holder}
        AND EXISTS (
            SELECT 1 FROM queue_definition_folders seen
            WHERE seen.queue_definition_id = i.queue_definition_id AND seen.folder_id = %(folder)s
        )
    RETURNING i.*, '{target.name}' AS status_name
),{_recorded("done", S.InProgress)}
SELECT * FROM done
"""


async def set_result(
    db: Database,
    tenant_id: int,
    folder_id: int,
    item_id: int,
    outcome: Outcome,
    robot_id: int | None,
    user_id: int,
    now: dt.datetime,
) -> dict[str, Any] | None:
    """The item once Successful or Failed, or None when the statement did nothing (the general path
    answers then: another status or holder, no such item, or a queue that needs more work)."""
    columns = tuple(sorted(outcome.changes))
    statement = _result_statement(columns, not outcome.successful, robot_id is not None)
    params = {
        **outcome.changes,
        "id": item_id,
        "tenant": tenant_id,
        "folder": folder_id,
        "robot": robot_id,
        "user": user_id,
        "now": now,
        "retryable": outcome.retryable,
    }
    row = await _one_row(db, statement, params)
    if row is None:
        return None
    row.pop("status_name")
    return dict(row)


async def _one_row(db: Database, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """The statement's one row (or None), run in autocommit: on asyncpg in the app's loop
    (``db/asyncpg_connections.py``, ~0.05 ms of CPU less than psycopg's cursor), else on psycopg, the
    reference (``AsyncpgConnections.run``: a write is never run twice)."""

    async def on_asyncpg(conn: Any) -> dict[str, Any] | None:
        query, names = positional(sql)
        record = await conn.fetchrow(query, *[params[name] for name in names])
        return None if record is None else dict(record)

    if db.asyncpg is None:
        return await _psycopg_row(db, sql, params)
    return await db.asyncpg.run(sql, on_asyncpg, lambda: _psycopg_row(db, sql, params), read_only=False)


async def _psycopg_row(db: Database, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
    async with db.statements() as conn:
        cursor = conn.cursor(row_factory=_dict_row)
        await cursor.execute(sql, params)
        row: dict[str, Any] | None = await cursor.fetchone()
    return row


def _dict_row(cursor: Any) -> Any:
    """psycopg's dict rows, imported here so that SQLite installs do not need psycopg at import."""
    from psycopg.rows import dict_row

    return dict_row(cursor)
