"""Queue items: their QueueItemDto, adding them (reading QueueItemDataDto, SLA defaults, unique
references, bulk commit types), editing and deleting New ones.

Every check runs before anything is written, so a refused item leaves no trace; bulk requests with
``AllOrNothing`` write all items or none. Checks against a queue's JSON schema run off the event loop,
with a deadline (``queue_schemas.off_loop``). An encrypted queue's items are written sealed and answered
opened (``queue_sealing``).

Editing (``PUT /odata/QueueItems({key})`` with a QueueItemDataDto) changes a New item only: the
properties present in the body replace the stored ones (null clears them), the others are kept.
Deleting one makes it ``Deleted`` (the row stays, for history and statistics).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import String, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.bulk import copy_rows, next_ids
from podium.db.schema import folders
from podium.db.schema_queues import queue_item_events, queue_items
from podium.db.types import utcnow
from podium.domain import events
from podium.domain.enums import parse_enum
from podium.domain.queue_definitions import FOLDER_LINK, queue_of
from podium.domain.queue_enums import (
    CommitType,
    ProcessingExceptionType,
    QueueItemEventAction,
    QueueItemPriority,
    QueueItemStatus,
    ReviewStatus,
)
from podium.domain.queue_item_states import S, record_history, transition
from podium.domain.queue_schemas import ItemError, off_loop, validate
from podium.domain.queue_sealing import (
    SEALED,
    Keys,
    has_sealed,
    mark_sealed,
    opened_row,
    seal_columns,
    seal_rows,
)
from podium.errors import ErrorCode, PodiumError, bad_request, not_found
from podium.odata import declare
from podium.odata.model import Edm, Field
from podium.odata.serialize import Converter, converter, identity
from podium.odata.values import parse_datetime

MAX_CONTENT_CHARS = 1_048_576  # SpecificContent / Output / Analytics, serialized
MAX_BULK_ITEMS = 15_000
ITEM_DATA_PROPERTIES = frozenset(  # of QueueItemDataDto
    {
        "Name",
        "Priority",
        "SpecificContent",
        "DeferDate",
        "DueDate",
        "RiskSlaDate",
        "Reference",
        "Progress",
        "Source",
        "ParentOperationId",
    }
)
# items are seen in every folder their queue is shared to
SHARED_THROUGH = (FOLDER_LINK, "queue_definition_id", "queue_definition_id")


def _untyped(name: str, column: str) -> Field:
    return Field(name, Edm.UNTYPED, column, read_only=True)


# the properties of QueueItemDto: the QueueItems and Queues sets answer them, ``item_dto`` too
ITEM_DTO_FIELDS = [
    declare.integer("QueueDefinitionId", "queue_definition_id", read_only=True),
    declare.text("QueueDefinitionName", "queue_definition_name", read_only=True),
    _untyped("ProcessingException", "processing_exception"),
    declare.constant("Encrypted", False, Edm.BOOLEAN),
    _untyped("SpecificContent", "specific_content"),
    _untyped("Output", "output"),
    declare.constant("OutputData", None),
    _untyped("Analytics", "analytics"),
    declare.constant("AnalyticsData", None),
    declare.choice("Status", QueueItemStatus, "status", read_only=True),
    declare.choice("ReviewStatus", ReviewStatus, "review_status", read_only=True),
    declare.integer("ReviewerUserId", "reviewer_user_id", read_only=True),
    declare.text("Key", "key", read_only=True),
    declare.text("Reference", "reference", read_only=True),
    declare.choice(
        "ProcessingExceptionType", ProcessingExceptionType, "processing_exception_type", read_only=True
    ),
    declare.when("DueDate", "due_date", read_only=True),
    declare.when("RiskSlaDate", "risk_sla_date", read_only=True),
    declare.choice("Priority", QueueItemPriority, "priority", read_only=True),
    declare.integer("RobotId", "robot_id", read_only=True),
    declare.when("DeferDate", "defer_date", read_only=True),
    declare.when("StartProcessing", "start_processing", read_only=True),
    declare.when("EndProcessing", "end_processing", read_only=True),
    declare.integer("SecondsInPreviousAttempts", "seconds_in_previous_attempts", read_only=True),
    declare.integer("AncestorId", "ancestor_id", read_only=True),
    declare.text("AncestorUniqueKey", "ancestor_unique_key", read_only=True),
    declare.integer("RetryNumber", "retry_number", read_only=True),
    declare.integer("ManualAncestorId", "manual_ancestor_id", read_only=True),
    declare.text("ManualAncestorUniqueKey", "manual_ancestor_unique_key", read_only=True),
    declare.integer("ManualRetryNumber", "manual_retry_number", read_only=True),
    declare.text("UniqueKey", "unique_key", read_only=True),
    declare.constant("HasVideoRecorded", False, Edm.BOOLEAN),
    declare.constant("SpecificData", None),
    declare.when("CreationTime", "creation_time", read_only=True),
    declare.text("Progress", "progress", read_only=True),
    declare.constant("RowVersion", None),
    declare.text("Source", "source", read_only=True),
    declare.text("ParentOperationId", "parent_operation_id", read_only=True),
    declare.text("OperationId", "operation_id", read_only=True),
    declare.integer("OrganizationUnitId", "folder_id", read_only=True),
    declare.constant("OrganizationUnitFullyQualifiedName", None),
    *[f for f in declare.audit() if f.name.startswith("LastModif")],
    declare.key_id(),
]


def _converter(field: Field) -> Converter:
    """The field's converter (text read from a text column needs none)."""
    return converter(field, text_column=isinstance(queue_items.c[str(field.column)].type, String))


# item_dto's parts: every property in its place (the constants' values, None for the others), then the
# stored ones copied as they are (integers, text) or converted (it answers every transaction: no call it
# can skip is made)
_ITEM_TEMPLATE = {f.name: None if f.stored else f.constant for f in ITEM_DTO_FIELDS}
_ITEM_STORED = [(f.name, str(f.column), _converter(f)) for f in ITEM_DTO_FIELDS if f.stored]
_ITEM_COPIED = [(name, column) for name, column, convert in _ITEM_STORED if convert is identity]
_ITEM_CONVERTED = [stored for stored in _ITEM_STORED if stored[2] is not identity]


def item_dto(row: Mapping[str, Any], keys: Keys | None = None) -> dict[str, Any]:
    """The QueueItemDto of a queue_items row (without navigation properties), without another query:
    the hot paths answer from the row they just wrote, the retention sweep archives it. The sealed
    properties of an encrypted queue's item are opened with ``keys``; without keys (the archive) each
    is its sealed text."""
    if has_sealed(row):
        row = opened_row(keys(), row) if keys is not None else _sealed_as_text(row)
    dto = _ITEM_TEMPLATE.copy()
    for name, column in _ITEM_COPIED:
        dto[name] = row[column]
    for name, column, convert in _ITEM_CONVERTED:
        dto[name] = convert(row[column])
    return dto


def _sealed_as_text(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row with each sealed value as a JSON string (what the DTO's JSON properties then show)."""
    shown = dict(row)
    for column in SEALED:
        if shown.get(column) is not None:
            shown[column] = orjson.dumps(shown[column]).decode()
    return shown


def content_json(value: Any, what: str, failure: str) -> str | None:
    """A dict(str, object) property as stored JSON text; None for null; 400 when not an object or too big."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ItemError(f"{what} must be a JSON object.", "InvalidArgument")
    text = orjson.dumps(value).decode()
    if len(text) > MAX_CONTENT_CHARS:
        raise ItemError(
            f"{what} is {len(text)} characters long; at most {MAX_CONTENT_CHARS} are accepted.",
            failure,
            code=ErrorCode.INPUT_TOO_LONG,
        )
    return text


def optional_text(data: Mapping[str, Any], name: str, limit: int | None) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or (limit is not None and len(value) > limit):
        size = f" of at most {limit} characters" if limit is not None else ""
        raise ItemError(f"{name} must be a string{size}.", "InvalidArgument")
    return value


def optional_date(data: Mapping[str, Any], name: str) -> dt.datetime | None:
    value = data.get(name)
    if value is None:
        return None
    try:
        return parse_datetime(value, name)
    except Exception as error:
        raise ItemError(str(error), "InvalidArgument") from None


PRIORITY_NAMES = {priority.name: priority for priority in QueueItemPriority}


def parse_priority(value: Any) -> QueueItemPriority:
    if value is None:
        return QueueItemPriority.Normal
    if isinstance(value, str) and value in PRIORITY_NAMES:  # the usual spelling, without parse_enum
        return PRIORITY_NAMES[value]
    try:
        return QueueItemPriority(int(parse_enum(QueueItemPriority, value)))
    except ValueError as error:
        raise ItemError(
            f"The value '{value}' of 'Priority' is not valid: {error}.", "InvalidArgument"
        ) from None


@dataclass
class NewItem:
    """The column values of one item to insert and its position in the request."""

    ordinal: int
    values: dict[str, Any] = field(default_factory=dict)


def new_keys(count: int) -> list[str]:
    """``count`` random (version 4, RFC 4122 variant) UUIDs as text, from one read of the system's
    randomness: a bulk request needs a thousand, and ``str(uuid.uuid4())`` costs ~1.6 µs each."""
    random = os.urandom(16 * count).hex()
    keys = []
    for at in range(0, 32 * count, 32):
        h = random[at : at + 32]
        variant = "89ab"[int(h[16], 16) & 3]
        keys.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}")
    return keys


def item_values(
    data: Any,
    queue: Mapping[str, Any],
    user_id: int | None,
    now: dt.datetime,
    *,
    check_name: bool,
    key: str | None = None,
) -> dict[str, Any]:
    """Column values for a QueueItemDataDto of ``queue``; ItemError (4xx) for anything invalid.
    ``key``: the item's new key when the caller made it already (a new one otherwise)."""
    if not isinstance(data, Mapping):
        raise ItemError("Each queue item must be a JSON object.", "InvalidArgument")
    if not ITEM_DATA_PROPERTIES.issuperset(data):
        unknown = [
            name for name in data if name not in ITEM_DATA_PROPERTIES and not str(name).startswith("@")
        ]
        if unknown:
            raise ItemError(
                f"The property '{unknown[0]}' does not exist on type 'QueueItemDataDto'.", "InvalidArgument"
            )
    if check_name and data.get("Name") not in (None, queue["name"]):
        raise ItemError("Name must be the queue's name.", "InvalidArgument")
    content = content_json(data.get("SpecificContent"), "SpecificContent", "QueueItemContentSizeExceeded")
    if queue["specific_data_json_schema"]:
        validate(queue["specific_data_json_schema"], data.get("SpecificContent") or {}, "SpecificContent")
    due = optional_date(data, "DueDate")
    risk = optional_date(data, "RiskSlaDate")
    if due is None and queue["sla_in_minutes"]:
        due = now + dt.timedelta(minutes=queue["sla_in_minutes"])
    if risk is None and queue["risk_sla_in_minutes"]:
        risk = now + dt.timedelta(minutes=queue["risk_sla_in_minutes"])
    reference = optional_text(data, "Reference", 128)
    key = key or str(uuid.uuid4())
    return {
        "tenant_id": queue["tenant_id"],
        "folder_id": queue["folder_id"],
        "queue_definition_id": queue["id"],
        "queue_definition_name": queue["name"],
        "key": key,
        "unique_key": key,
        "status": int(QueueItemStatus.New),
        "review_status": 0,
        "priority": int(parse_priority(data.get("Priority"))),
        "due_order": 0 if due is not None else 1,
        "reference": reference,
        "unique_reference": reference if queue["enforce_unique_reference"] and reference else None,
        "specific_content": content,
        "progress": optional_text(data, "Progress", None),
        "defer_date": optional_date(data, "DeferDate"),
        "due_date": due,
        "risk_sla_date": risk,
        "source": optional_text(data, "Source", 128),
        "parent_operation_id": optional_text(data, "ParentOperationId", 128),
        "seconds_in_previous_attempts": 0,
        "retry_number": 0,
        "manual_retry_number": 0,
        "creation_time": now,
        "creator_user_id": user_id,
    }


def duplicate(reference: str) -> ItemError:
    return ItemError(
        f"An item with the reference '{reference}' already exists in this queue.",
        "DuplicateReference",
        status=409,
        code=ErrorCode.DUPLICATE,
    )


_TAKEN = text(
    "SELECT unique_reference FROM queue_items"
    " WHERE queue_definition_id = :queue AND unique_reference = ANY(CAST(:references AS text[]))"
)


async def taken_references(conn: AsyncConnection, queue_id: int, references: list[str]) -> set[str]:
    """References among ``references`` already held by an original item of the queue. PostgreSQL: one
    array parameter (a statement with a thousand placeholders costs psycopg ~5 ms to parse, uncached)."""
    if conn.dialect.name == "postgresql":
        rows = await conn.execute(_TAKEN, {"queue": queue_id, "references": references})
        return {row[0] for row in rows}
    taken: set[str] = set()
    for start in range(0, len(references), 1000):
        chunk = references[start : start + 1000]
        rows = await conn.execute(
            select(queue_items.c.unique_reference).where(
                queue_items.c.queue_definition_id == queue_id, queue_items.c.unique_reference.in_(chunk)
            )
        )
        taken.update(row[0] for row in rows)
    return taken


HISTORY_COLUMNS = (
    "tenant_id",
    "folder_id",
    "queue_item_id",
    "timestamp",
    "action",
    "user_id",
    "status",
    "review_status",
)


def sealer(queue: Mapping[str, Any], keys: Keys | None) -> Callable[[str, str], str] | None:
    """How the items of ``queue`` are sealed: None for a queue that is not encrypted."""
    if not queue["encrypted"]:
        return None
    if keys is None:
        raise RuntimeError(f"queue {queue['id']} is encrypted: writing its items needs the keyring")
    return keys().sealer()


async def insert_items(
    conn: AsyncConnection,
    queue: Mapping[str, Any],
    rows: list[dict[str, Any]],
    user_id: int | None,
    keys: Keys | None = None,
) -> list[int]:
    """Inserts the rows (values of ``item_values``; sealed here for an encrypted queue), their Create
    history rows and one domain event; returns the new ids in the rows' order. 409 when a unique
    reference was taken meanwhile.

    Many rows on PostgreSQL go by ``COPY`` with ids taken from the sequence first (see
    ``podium.db.bulk``); otherwise one INSERT … RETURNING (one row, or SQLite)."""
    if not rows:
        return []
    seal = sealer(queue, keys)
    if seal is not None:
        seal_rows(seal, rows)
    try:
        if len(rows) > 1 and conn.dialect.name == "postgresql":
            ids = await _copy_items(conn, rows, user_id)
        else:
            ids = await _insert_items(conn, rows, user_id)
    except IntegrityError:  # a reference taken by another request since the check
        raise ItemError(
            "An item with one of these references was just added to this queue.",
            "DuplicateReference",
            status=409,
            code=ErrorCode.DUPLICATE,
        ) from None
    await events.record(
        conn,
        queue["tenant_id"],
        "queueitems.added",
        queue["key"],
        {"QueueDefinitionId": queue["id"], "QueueItemIds": ids[:1000], "Count": len(ids)},
        queue["folder_id"],
    )
    if queue.get("process_schedule_id") is not None:
        from podium.domain import queue_triggers  # it starts jobs: imported when a queue has a trigger

        await queue_triggers.items_added(conn, queue)
    return ids


def _history(row: Mapping[str, Any], item_id: int, user_id: int | None) -> tuple[Any, ...]:
    """The Create event of a new item, values in ``HISTORY_COLUMNS`` order."""
    created = (int(QueueItemEventAction.Create), user_id, int(QueueItemStatus.New), 0)
    return (row["tenant_id"], row["folder_id"], item_id, row["creation_time"], *created)


async def _insert_items(conn: AsyncConnection, rows: list[dict[str, Any]], user_id: int | None) -> list[int]:
    result = await conn.execute(
        insert(queue_items).returning(queue_items.c.id, sort_by_parameter_order=True), rows
    )
    ids = [int(row.id) for row in result]
    history = [
        dict(zip(HISTORY_COLUMNS, _history(row, item_id, user_id), strict=True))
        for item_id, row in zip(ids, rows, strict=True)
    ]
    await conn.execute(insert(queue_item_events), history)
    return ids


_CREATED_HISTORY = text(
    "INSERT INTO queue_item_events (tenant_id, folder_id, queue_item_id, timestamp, action, user_id,"
    " status, review_status) SELECT CAST(:tenant AS bigint), CAST(:folder AS bigint), item_id,"
    " CAST(:at AS timestamptz), CAST(:action AS smallint), CAST(:user AS bigint),"
    " CAST(:status AS smallint), 0"
    " FROM unnest(CAST(:ids AS bigint[])) AS item_id"
)
DATE_COLUMNS = frozenset({"creation_time", "defer_date", "due_date", "risk_sla_date"})


async def _copy_items(conn: AsyncConnection, rows: list[dict[str, Any]], user_id: int | None) -> list[int]:
    """PostgreSQL, many rows: ids from the sequence, the items by COPY, their Create events with one
    INSERT … SELECT (a bulk request's items share tenant, folder, creation time and user)."""
    ids = await next_ids(conn, queue_items, len(rows))
    columns = list(rows[0])
    await copy_rows(conn, queue_items, ["id", *columns], _copy_values(ids, rows, columns))
    first = rows[0]
    if all(row["creation_time"] == first["creation_time"] for row in rows):
        params = {
            "tenant": first["tenant_id"],
            "folder": first["folder_id"],
            "at": first["creation_time"],
            "action": int(QueueItemEventAction.Create),
            "user": user_id,
            "status": int(QueueItemStatus.New),
            "ids": "{" + ",".join(map(str, ids)) + "}",  # an array literal: cheaper than binding a list
        }
        await conn.execute(_CREATED_HISTORY, params)
    else:
        history = (_history(row, item_id, user_id) for item_id, row in zip(ids, rows, strict=True))
        await copy_rows(conn, queue_item_events, HISTORY_COLUMNS, history)
    return ids


def _copy_values(ids: list[int], rows: list[dict[str, Any]], columns: list[str]) -> Iterator[list[Any]]:
    """COPY values of the rows: id first, then ``columns``. Datetimes go as ISO 8601 text, each formatted
    once (psycopg formats a datetime in Python, and a batch's rows mostly share theirs)."""
    values_of = itemgetter(*columns)
    dates = [at + 1 for at, column in enumerate(columns) if column in DATE_COLUMNS]
    texts: dict[dt.datetime, str] = {}
    for item_id, row in zip(ids, rows, strict=True):
        values = [item_id, *values_of(row)]
        for at in dates:
            when = values[at]
            if when is not None:
                values[at] = texts.get(when) or texts.setdefault(when, when.isoformat())
        yield values


async def checked_item_values(
    data: Any,
    queue: Mapping[str, Any],
    user_id: int | None,
    now: dt.datetime,
    *,
    check_name: bool,
) -> dict[str, Any]:
    """``item_values``, off the event loop when the queue has a content schema to check."""
    check = partial(item_values, data, queue, user_id, now, check_name=check_name)
    return await off_loop(check) if queue["specific_data_json_schema"] else check()


async def add_item(
    conn: AsyncConnection,
    queue: Mapping[str, Any],
    data: Any,
    user_id: int | None,
    now: dt.datetime,
    keys: Keys | None = None,
) -> int:
    """AddQueueItem: one New item; 409 for a reference the queue already holds."""
    values = await checked_item_values(data, queue, user_id, now, check_name=True)
    reference = values["unique_reference"]
    if reference is not None and await taken_references(conn, queue["id"], [reference]):
        raise duplicate(reference)
    return (await insert_items(conn, queue, [values], user_id, keys))[0]


def parse_commit_type(value: Any) -> CommitType:
    try:
        return CommitType(int(parse_enum(CommitType, value)))
    except ValueError as error:
        raise bad_request(f"The value '{value}' of 'commitType' is not valid: {error}.") from None


@dataclass
class BulkOutcome:
    ids: list[int]
    failed: list[tuple[int, ItemError]]
    stopped: bool = False


@dataclass
class CheckedItems:
    """A bulk request's items once checked: the valid ones' column values, the refused ones, and the
    references of the valid ones."""

    candidates: list[tuple[int, dict[str, Any]]]
    failed: list[tuple[int, ItemError]]
    seen: set[str]


def check_items(
    items: list[Any], queue: Mapping[str, Any], commit: CommitType, user_id: int | None, now: dt.datetime
) -> CheckedItems:
    """Every item's column values, or why it is refused (a reference twice in the request included);
    stops at the first refused item unless ``ProcessAllIndependently``."""
    checked = CheckedItems([], [], set())
    keys = new_keys(len(items))
    for ordinal, data in enumerate(items):
        try:
            values = item_values(data, queue, user_id, now, check_name=False, key=keys[ordinal])
            reference = values["unique_reference"]
            if reference is not None:
                if reference in checked.seen:
                    raise duplicate(reference)
                checked.seen.add(reference)
            checked.candidates.append((ordinal, values))
        except ItemError as error:
            checked.failed.append((ordinal, error))
            if commit is not CommitType.ProcessAllIndependently:
                break
    return checked


async def bulk_add(
    conn: AsyncConnection,
    queue: Mapping[str, Any],
    items: Any,
    commit: CommitType,
    user_id: int | None,
    now: dt.datetime,
    keys: Keys | None = None,
) -> BulkOutcome:
    """BulkAddQueueItems. AllOrNothing: the first refused item refuses the request (nothing written).
    StopOnFirstFailure: the items before the first refused one are added. ProcessAllIndependently:
    every valid item is added and each refused one is reported.

    Every item is checked before anything is written; the references the queue already holds are
    found with one query for the whole batch (the unique index still guards against a concurrent
    request: that answers 409 and writes nothing)."""
    if not isinstance(items, list) or not items:
        raise bad_request("queueItems must be a non-empty list of queue items.")
    if len(items) > MAX_BULK_ITEMS:
        raise bad_request(f"At most {MAX_BULK_ITEMS} queue items can be added at once.")
    check = partial(check_items, items, queue, commit, user_id, now)
    checked = await off_loop(check) if queue["specific_data_json_schema"] else check()
    candidates, failed, seen = checked.candidates, checked.failed, checked.seen
    if seen:
        taken = await taken_references(conn, queue["id"], list(seen))
        if taken:
            kept = []
            for ordinal, values in candidates:
                if values["unique_reference"] in taken:
                    failed.append((ordinal, duplicate(values["unique_reference"])))
                else:
                    kept.append((ordinal, values))
            candidates = kept
            failed.sort(key=lambda pair: pair[0])
    if failed and commit is CommitType.AllOrNothing:
        first, refused = failed[0]
        raise ItemError(
            f"Item {first}: {refused.message} No item was added.",
            refused.failure,
            refused.status,
            refused.code,
        )
    if commit is CommitType.StopOnFirstFailure and failed:
        first_failure = failed[0][0]
        failed = failed[:1]
        candidates = [(ordinal, values) for ordinal, values in candidates if ordinal < first_failure]
    ids = await insert_items(conn, queue, [values for _, values in candidates], user_id, keys)
    return BulkOutcome(ids, failed, stopped=commit is CommitType.StopOnFirstFailure and bool(failed))


async def item_for_update(conn: AsyncConnection, tenant_id: int, item_id: int) -> dict[str, Any]:
    """The item (locked until the transaction ends) with its folder's path as ``folder_path``."""
    query = (
        select(queue_items, folders.c.fully_qualified_name.label("folder_path"))
        .join(folders, folders.c.id == queue_items.c.folder_id)
        .where(queue_items.c.id == item_id, queue_items.c.tenant_id == tenant_id)
        .with_for_update(of=queue_items)
    )
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found("Queue item does not exist.")
    return dict(row)


async def delete_item(conn: AsyncConnection, item: Mapping[str, Any], user_id: int | None) -> None:
    """Only a New item can be deleted: it becomes ``Deleted`` (kept for history and statistics)."""
    if item["status"] != int(S.New):
        raise PodiumError(
            f"Only New items can be deleted; this one is {S(item['status']).name}.",
            status=400,
            code=ErrorCode.VALIDATION,
        )
    await transition(conn, item, S.Deleted, user_id)


def _edited_columns(queue: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """Column values for the QueueItemDataDto properties present in ``data``; ItemError (4xx) otherwise."""
    unknown = [name for name in data if name not in ITEM_DATA_PROPERTIES and not str(name).startswith("@")]
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


async def _check_edited_reference(
    conn: AsyncConnection, queue: Mapping[str, Any], item: Mapping[str, Any], values: dict[str, Any]
) -> None:
    """On a queue of unique references, a changed reference must be free (409); it becomes the item's
    ``unique_reference``."""
    reference = values.get("reference", item["reference"])
    if "reference" not in values or not queue["enforce_unique_reference"] or reference == item["reference"]:
        return
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


async def edit_item(
    conn: AsyncConnection, item: Mapping[str, Any], data: Any, user_id: int | None, keys: Keys | None = None
) -> dict[str, Any]:
    """Edits a New item with a QueueItemDataDto: content checked against the queue's JSON schema, a
    reference against its unique-reference rule; the Edit event records the changed properties (an
    encrypted queue's content as ``(encrypted)``)."""
    if not isinstance(data, Mapping):
        raise bad_request("The request body must be a QueueItemDataDto JSON object.")
    if item["status"] != int(S.New):
        raise PodiumError(
            f"Only New items can be edited; this one is {S(item['status']).name}.",
            status=400,
            code=ErrorCode.VALIDATION,
        )
    queue = await queue_of(conn, item["queue_definition_id"])
    check = partial(_edited_columns, queue, data)
    schema = queue["specific_data_json_schema"] and "SpecificContent" in data
    values = await off_loop(check) if schema else check()
    await _check_edited_reference(conn, queue, item, values)
    seal = sealer(queue, keys)
    if seal is not None:
        seal_columns(seal, item, values)
    reference = values.get("reference", item["reference"])
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
    if queue["encrypted"]:
        edited = mark_sealed(edited)
    updated = {**item, **values}
    await record_history(conn, updated, QueueItemEventAction.Edit, user_id, edited)
    return updated
