"""StartTransaction and SetTransactionResult in one statement each (PostgreSQL), shared by the calls
that meet.

A transaction pair is what robot fleets are sized by, so its two calls skip what a general path pays
for: each is one data-modifying statement (``WITH … UPDATE … RETURNING``, the history row and the
outbox row inserted from its result), run in autocommit (asyncpg in the app's loop, else psycopg's own
connection): one round trip, no BEGIN/COMMIT, no SQLAlchemy statement building.

Calls that meet share the statement (``db/batches.py``): StartTransaction calls on the same queue, and
SetTransactionResult calls of the same kind (columns written, outcome, holder), that arrive in the same
turn of the event loop or while a statement of theirs is in the database, go in one statement, which
answers each call on its own, in the order they came (the i-th call takes the i-th next item). On a
2-core machine a statement's own cost (protocol, snapshot, commit) is as large as its row work, so this
is what lets 16 robots over HTTP go past half the floor of ``benchmarks/queue_throughput.py``. A call
alone runs the single-call form (``START_ONE``, ``_result_statement``): the batch forms' extra plan
nodes (``unnest``, window functions, a join) cost ~0.1 ms each more in PostgreSQL.

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
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy.dialects import postgresql

from podium.db.asyncpg_connections import positional
from podium.db.batches import Batches
from podium.db.engine import Database
from podium.db.schema_queues import queue_items
from podium.domain.queue_enums import QueueItemEventAction, QueueItemStatus
from podium.domain.queue_transactions import Outcome

S = QueueItemStatus
STATUS_ACTION = int(QueueItemEventAction.Status)
BATCH = 16
"""Calls a statement serves at most: StartTransaction has a statement per batch size (its LIMIT), and
asyncpg keeps 100 prepared statements a connection."""
LINGER = 0.0003
"""Seconds a call on a busy queue waits for others before its statement runs (``db/batches.py``): with
16 consumers over HTTP, 0.3 ms took the statements from 0.85 to 0.66 a pair and PostgreSQL's CPU a pair
down by a tenth (``benchmarks/queue_throughput.py``); a lone robot's calls never wait."""


def _recorded(source: str, was: QueueItemStatus, user: str) -> str:
    """The history row and the outbox row of each item of the CTE ``source`` (its new status), by the
    caller's ``user`` (a parameter, or a column of ``source``)."""
    payload = (
        "'{\"QueueItemId\":' || id || ',\"QueueDefinitionId\":' || queue_definition_id"
        f' || \',"From":"{was.name}","Status":"\' || status_name || \'"}}\''
    )
    return f"""
    history AS (
        INSERT INTO queue_item_events (tenant_id, folder_id, queue_item_id, timestamp, action, user_id,
            status, review_status, reviewer_user_id)
        SELECT tenant_id, folder_id, id, %(now)s, {STATUS_ACTION}, {user}, status, review_status,
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


QUEUE = """WITH queue AS (
    SELECT q.id FROM queue_definitions q
    JOIN queue_definition_folders seen ON seen.queue_definition_id = q.id
    WHERE seen.folder_id = %(folder)s AND q.name = %(name)s AND q.tenant_id = %(tenant)s
),"""
"""The queue named in the folder of the headers (both claim statements' first CTE)."""


def _next_new(columns: str, limit: int) -> str:
    """The queue's next ``limit`` New items in the dequeue order, locked (claimed by none else)."""
    return f"""SELECT {columns} FROM queue_items
        WHERE queue_definition_id = (SELECT id FROM queue) AND status = {int(S.New)}
            AND (defer_date IS NULL OR defer_date <= %(now)s)
        ORDER BY due_order, priority, due_date, id
        LIMIT {limit} FOR UPDATE SKIP LOCKED"""


START_ONE = f"""
{QUEUE}
robot AS (
    SELECT CASE WHEN %(robot_key)s::text IS NULL THEN %(token_robot)s::bigint
        ELSE (SELECT id FROM robots WHERE key = %(robot_key)s::text AND tenant_id = %(tenant)s) END AS id
),
claimed AS (
    UPDATE queue_items SET status = {int(S.InProgress)}, robot_id = (SELECT id FROM robot),
        processing_user_id = %(user)s, start_processing = %(now)s, last_modification_time = %(now)s
    WHERE id = (
        {_next_new("id", 1)}
    ) AND status + 0 = {int(S.New)}
    AND (%(robot_key)s::text IS NULL OR (SELECT id FROM robot) IS NOT NULL
        AND (%(token_robot)s::bigint IS NULL OR %(token_robot)s::bigint = (SELECT id FROM robot)))
    RETURNING *, '{S.InProgress.name}' AS status_name
),{_recorded("claimed", S.New, "%(user)s")}
SELECT (SELECT id FROM queue) AS podium_queue_id, (SELECT id FROM robot) AS podium_robot_id, claimed.*
FROM (SELECT 1) AS one LEFT JOIN claimed ON true
"""
"""StartTransaction for one call (a batch of one): the statement of the least work."""


@cache
def _start_statement(calls: int) -> str:
    """StartTransaction for the ``calls`` of one batch (``db/batches.py``) on one queue: the i-th call
    that its robot checks let through takes the i-th next New item (dequeue order); one row per call, in
    order. ``calls`` is written in the statement: with ``LIMIT (SELECT count(*) …)`` PostgreSQL cannot
    tell a generic plan's cost, and plans the statement again at every run (about 1 ms)."""
    return f"""
{QUEUE}
calls AS (
    SELECT c.n, c.robot_key, c.token_robot, c.user_id,
        CASE WHEN c.robot_key IS NULL THEN c.token_robot
            ELSE (SELECT id FROM robots WHERE key = c.robot_key AND tenant_id = %(tenant)s) END AS robot_id
    FROM (
        SELECT * FROM unnest(%(robot_keys)s::text[], %(token_robots)s::bigint[], %(users)s::bigint[])
            WITH ORDINALITY AS c(robot_key, token_robot, user_id, n)
        LIMIT {calls}
    ) AS c
),
served AS (
    SELECT calls.*, row_number() OVER (ORDER BY n) AS place FROM calls
    WHERE robot_key IS NULL OR robot_id IS NOT NULL AND (token_robot IS NULL OR token_robot = robot_id)
),
next_items AS (
    SELECT id, row_number() OVER (ORDER BY due_order, priority, due_date, id) AS place FROM (
        {_next_new("id, due_order, priority, due_date", calls)}
    ) AS locked
),
claimed AS (
    UPDATE queue_items SET status = {int(S.InProgress)}, robot_id = served.robot_id,
        processing_user_id = served.user_id, start_processing = %(now)s, last_modification_time = %(now)s
    FROM next_items JOIN served USING (place)
    WHERE queue_items.id = next_items.id AND queue_items.status + 0 = {int(S.New)}
    RETURNING queue_items.*, served.n AS podium_call, served.user_id AS podium_user,
        '{S.InProgress.name}' AS status_name
),{_recorded("claimed", S.New, "podium_user")}
SELECT (SELECT id FROM queue) AS podium_queue_id, calls.robot_id AS podium_robot_id, claimed.*
FROM calls LEFT JOIN claimed ON claimed.podium_call = calls.n
ORDER BY calls.n
"""


PODIUM_COLUMNS = ("podium_queue_id", "podium_robot_id", "podium_call", "podium_user", "status_name")


@dataclass(frozen=True, slots=True)
class _Queue:
    """The calls of a StartTransaction batch: one queue."""

    db: Database
    tenant_id: int
    folder_id: int
    name: str


@dataclass(frozen=True, slots=True)
class _Start:
    robot_key: str | None
    token_robot: int | None
    user_id: int
    now: dt.datetime


async def _start_batch(queue: _Queue, calls: list[_Start]) -> list[dict[str, Any]]:
    if len(calls) == 1:
        [call] = calls
        params = {
            "folder": queue.folder_id,
            "name": queue.name,
            "tenant": queue.tenant_id,
            "robot_key": call.robot_key,
            "token_robot": call.token_robot,
            "user": call.user_id,
            "now": call.now,
        }
        return await _rows(queue.db, START_ONE, params)
    params = {
        "folder": queue.folder_id,
        "name": queue.name,
        "tenant": queue.tenant_id,
        "robot_keys": [call.robot_key for call in calls],
        "token_robots": [call.token_robot for call in calls],
        "users": [call.user_id for call in calls],
        "now": max(call.now for call in calls),
    }
    return await _rows(queue.db, _start_statement(len(calls)), params)


_starts: Batches[_Queue, _Start, dict[str, Any]] = Batches(_start_batch, most=BATCH, linger=LINGER)


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
    gives the error then). Calls on the same queue at the same moment share one statement."""
    key = robot_key.strip().lower() if robot_key is not None else None
    row = dict(
        await _starts.submit(_Queue(db, tenant_id, folder_id, name), _Start(key, token_robot, user_id, now))
    )
    if row["podium_queue_id"] is None:
        return False, None
    robot_id = row["podium_robot_id"]
    if key is not None and (robot_id is None or token_robot not in (None, robot_id)):
        return False, None
    if row["id"] is None:
        return True, None
    for column in PODIUM_COLUMNS:
        row.pop(column, None)
    return True, row


def _array_type(column: str) -> str:
    """The PostgreSQL array type of a queue_items column (for ``unnest``)."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return f"{queue_items.c[column].type.compile(dialect=dialect)}[]"


def _completion(columns: tuple[str, ...], failure: bool, robot_holder: bool, batch: bool) -> str:
    """SetTransactionResult's statement writing ``columns`` (the Outcome's changes): for one call (its
    values are parameters), or for a ``batch`` of calls (their values come from the arrays of ``calls``,
    one row per call it could answer, ``podium_call`` its place from 1)."""
    target = S.Failed if failure else S.Successful

    def value(parameter: str, column: str | None = None, cast: str = "") -> str:
        return f"c.{column or parameter}" if batch else f"%({parameter})s{cast}"

    assignments = ", ".join(f"{column} = {value(column)}" for column in columns)
    holder = (
        f"(i.robot_id IS NULL OR i.robot_id = {value('robot')})"
        if robot_holder
        else f"(i.processing_user_id IS NULL OR i.processing_user_id = {value('user', 'user_id')})"
    )
    checks = [
        "NOT q.encrypted",
        f"({value('output', cast='::text')} IS NULL OR coalesce(q.output_data_json_schema, '') = '')",
        f"({value('analytics', cast='::text')} IS NULL OR coalesce(q.analytics_data_json_schema, '') = '')",
    ]
    if failure:
        checks.append(
            f"(NOT {value('retryable')}"
            " OR NOT (q.accept_automatically_retry AND i.retry_number < q.max_number_of_retries))"
        )
    if batch:
        arrays = ", ".join(f"%({column})s::{_array_type(column)}" for column in columns)
        calls = f"""
WITH calls AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(robots)s::bigint[], %(users)s::bigint[],
        %(retryable)s::boolean[], {arrays})
        WITH ORDINALITY AS c(id, robot, user_id, retryable, {", ".join(columns)}, n)
),
done AS ("""
        sources, returned, user = (
            "calls c, queue_definitions q",
            "c.n AS podium_call, c.user_id AS podium_user, ",
            "podium_user",
        )
    else:
        calls, sources, returned, user = "\nWITH done AS (", "queue_definitions q", "", "%(user)s"
    return f"""{calls}
    UPDATE queue_items i SET status = {int(target)}, last_modification_time = %(now)s,
        end_processing = %(now)s, {assignments}
    FROM {sources}
    WHERE i.id = {value("id")} AND i.tenant_id = %(tenant)s AND i.status + 0 = {int(S.InProgress)}
        AND q.id = i.queue_definition_id AND {" AND ".join(checks)}
        AND {holder}
        AND EXISTS (
            SELECT 1 FROM queue_definition_folders seen
            WHERE seen.queue_definition_id = i.queue_definition_id AND seen.folder_id = %(folder)s
        )
    RETURNING i.*, {returned}'{target.name}' AS status_name
),{_recorded("done", S.InProgress, user)}
SELECT * FROM done
"""


@cache
def _result_statement(columns: tuple[str, ...], failure: bool, robot_holder: bool) -> str:
    """SetTransactionResult for one call (a batch of one): the statement of the least work."""
    return _completion(columns, failure, robot_holder, batch=False)


@cache
def _results_statement(columns: tuple[str, ...], failure: bool, robot_holder: bool) -> str:
    """SetTransactionResult for the calls of one batch (``db/batches.py``)."""
    return _completion(columns, failure, robot_holder, batch=True)


@dataclass(frozen=True, slots=True)
class _Kind:
    """The calls of a SetTransactionResult batch: one statement."""

    db: Database
    tenant_id: int
    folder_id: int
    columns: tuple[str, ...]
    failure: bool
    robot_holder: bool


@dataclass(frozen=True, slots=True)
class _Result:
    item_id: int
    robot_id: int | None
    user_id: int
    retryable: bool
    values: tuple[Any, ...]  # of the key's columns
    now: dt.datetime


async def _result_batch(kind: _Kind, calls: list[_Result]) -> list[dict[str, Any] | None]:
    if len(calls) == 1:
        [call] = calls
        one = {
            **dict(zip(kind.columns, call.values, strict=True)),
            "id": call.item_id,
            "tenant": kind.tenant_id,
            "folder": kind.folder_id,
            "robot": call.robot_id,
            "user": call.user_id,
            "now": call.now,
            "retryable": call.retryable,
        }
        statement = _result_statement(kind.columns, kind.failure, kind.robot_holder)
        return [next(iter(await _rows(kind.db, statement, one)), None)]
    params: dict[str, Any] = {
        "ids": [call.item_id for call in calls],
        "robots": [call.robot_id for call in calls],
        "users": [call.user_id for call in calls],
        "retryable": [call.retryable for call in calls],
        "tenant": kind.tenant_id,
        "folder": kind.folder_id,
        "now": max(call.now for call in calls),
    }
    for index, column in enumerate(kind.columns):
        params[column] = [call.values[index] for call in calls]
    answered: list[dict[str, Any] | None] = [None] * len(calls)
    statement = _results_statement(kind.columns, kind.failure, kind.robot_holder)
    for row in await _rows(kind.db, statement, params):
        answered[row["podium_call"] - 1] = row
    return answered


_results: Batches[_Kind, _Result, dict[str, Any] | None] = Batches(_result_batch, most=BATCH, linger=LINGER)


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
    answers then: another status or holder, no such item, or a queue that needs more work). Calls of the
    same kind (columns written, outcome, holder) at the same moment share one statement."""
    columns = tuple(sorted(outcome.changes))
    kind = _Kind(db, tenant_id, folder_id, columns, not outcome.successful, robot_id is not None)
    values = tuple(outcome.changes[column] for column in columns)
    row = await _results.submit(kind, _Result(item_id, robot_id, user_id, outcome.retryable, values, now))
    if row is None:
        return None
    row = dict(row)
    for column in PODIUM_COLUMNS:
        row.pop(column, None)
    return row


async def _rows(db: Database, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The statement's rows, run in autocommit: on asyncpg in the app's loop (``db/asyncpg_connections.py``,
    ~0.05 ms of CPU less than psycopg's cursor), else on psycopg, the reference
    (``AsyncpgConnections.run``: a write is never run twice)."""

    async def on_asyncpg(conn: Any) -> list[dict[str, Any]]:
        query, names = positional(sql)
        return [dict(record) for record in await conn.fetch(query, *[params[name] for name in names])]

    if db.asyncpg is None:
        return await _psycopg_rows(db, sql, params)
    return await db.asyncpg.run(sql, on_asyncpg, lambda: _psycopg_rows(db, sql, params), read_only=False)


async def _psycopg_rows(db: Database, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    async with db.statements() as conn:
        cursor = conn.cursor(row_factory=_dict_row)
        await cursor.execute(sql, params)
        rows: list[dict[str, Any]] = await cursor.fetchall()
    return rows


def _dict_row(cursor: Any) -> Any:
    """psycopg's dict rows, imported here so that SQLite installs do not need psycopg at import."""
    from psycopg.rows import dict_row

    return dict_row(cursor)
