"""Queue definitions: the checks of a written queue, what a new queue gets, and finding a queue.

A queue is seen in every folder listed in ``queue_definition_folders`` (its creation folder included);
its name is unique among the queues a folder sees, shared ones included. A new queue is linked to its
folder and gets Orchestrator's built-in retention policy (30 days, Delete). A renamed queue renames
its items' ``QueueDefinitionName`` too (the column the SDK filters on). Neither ``EnforceUniqueReference``
nor ``Encrypted`` changes once the queue exists (an encrypted queue's items are sealed at rest:
``queue_sealing``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_queues import queue_definition_folders, queue_definitions, queue_items, queue_retention
from podium.domain.queue_schemas import check_schema_definition
from podium.domain.retention_policies import DEFAULT_ACTION, DEFAULT_PERIOD
from podium.errors import bad_request, conflict, not_found

# the folders that see a queue: what the QueueDefinitions set is scoped and shared through
FOLDER_LINK = queue_definition_folders
SHARED_THROUGH = (FOLDER_LINK, "queue_definition_id")

# column → property of the queue's JSON schemas
SCHEMAS = {
    "specific_data_json_schema": "SpecificDataJsonSchema",
    "output_data_json_schema": "OutputDataJsonSchema",
    "analytics_data_json_schema": "AnalyticsDataJsonSchema",
}
MAX_RETRIES = 50


async def check_queue(
    conn: AsyncConnection, values: dict[str, Any], existing: Mapping[str, Any] | None
) -> None:
    """Valid schemas and limits; a renamed queue renames its items' QueueDefinitionName too."""
    for column, name in SCHEMAS.items():
        check_schema_definition(values.get(column), name)
    retries = values.get("max_number_of_retries")
    if retries is not None and not 0 <= retries <= MAX_RETRIES:
        raise bad_request(f"MaxNumberOfRetries must be between 0 and {MAX_RETRIES}.")
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
    encrypted = values.get("encrypted")
    if encrypted is not None and bool(encrypted) != bool(existing["encrypted"]):
        raise bad_request(
            "Encrypted cannot change once the queue exists: its items are stored encrypted, or not, from"
            " the start."
        )
    if values.get("name") not in (None, existing["name"]):
        await conn.execute(
            update(queue_items)
            .where(queue_items.c.queue_definition_id == existing["id"])
            .values(queue_definition_name=values["name"])
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


async def queue_created(conn: AsyncConnection, tenant_id: int, queue_id: int, folder_id: int) -> None:
    """A new queue is seen in its folder and gets the built-in retention policy."""
    common = {"queue_definition_id": queue_id, "folder_id": folder_id, "tenant_id": tenant_id}
    await conn.execute(insert(queue_definition_folders).values(**common))
    await conn.execute(insert(queue_retention).values(**common, action=DEFAULT_ACTION, period=DEFAULT_PERIOD))


async def queue_in_folder(conn: AsyncConnection, tenant_id: int, folder_id: int, name: str) -> dict[str, Any]:
    """The queue named ``name`` among those the folder sees (its own and those shared to it: names are
    unique among them); 404 when there is none."""
    seen = select(queue_definition_folders.c.queue_definition_id).where(
        queue_definition_folders.c.folder_id == folder_id
    )
    query = select(queue_definitions).where(
        queue_definitions.c.id.in_(seen),
        queue_definitions.c.name == name,
        queue_definitions.c.tenant_id == tenant_id,
    )
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found(f"Queue '{name}' does not exist in this folder.")
    return dict(row)


async def queue_of(conn: AsyncConnection, queue_id: int) -> dict[str, Any]:
    """The queue of an item (which exists: items go with their queue)."""
    query = select(queue_definitions).where(queue_definitions.c.id == queue_id)
    return dict((await conn.execute(query)).mappings().one())


async def is_shared_to(conn: AsyncConnection, queue_id: int, folder_id: int) -> bool:
    """Whether the folder sees the queue (its creation folder, or one it is shared to)."""
    links = queue_definition_folders.c
    found = await conn.execute(
        select(links.folder_id).where(links.queue_definition_id == queue_id, links.folder_id == folder_id)
    )
    return found.first() is not None
