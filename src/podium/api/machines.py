"""The Machines entity set: the machines robots run on. A new machine's key is its ``LicenseKey`` too,
and the create response shows its client secret once (``domain/machines.py``).

A machine's key connects as its robots (``/api/robot/connect``), whose tokens read their folders'
credentials: ``Key`` and ``LicenseKey`` are answered only to callers who may edit machines
(``Machines.Edit``), everywhere the generic layer serves a machine (lists, single reads, ``$select``,
Robots' and Sessions' ``$expand``); others read null. The create answer shows the keys and the client
secret to the creator (``Machines.Create``), once: the secret is kept as a hash only, and the keys are
what the creator configures its robots with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db import schema
from podium.domain import enums, machines
from podium.http.context import RequestContext
from podium.odata.declare import choice, constant, integer, key_id, tag_list, text
from podium.odata.model import Edm, EntitySet, Scope
from podium.odata.registry import Area

area = Area("Machines")
KEYS_PERMISSION = "Machines.Edit"  # who reads a machine's keys (Key, LicenseKey)


async def _issue_keys(
    ctx: RequestContext,
    conn: AsyncConnection,
    machine_id: int,
    values: dict[str, Any],
    body: Mapping[str, Any],
) -> dict[str, str]:
    return await machines.issue_keys(conn, machine_id, str(values["key"]))  # keys and ClientSecret, once


MACHINES = area.add(
    EntitySet(
        name="Machines",
        type_name="MachineDto",
        table=schema.machines,
        scope=Scope.TENANT,
        permission="Machines",
        unique=("name",),
        after_insert=_issue_keys,
        fields=[
            text("LicenseKey", "license_key", read_only=True, visible_with=KEYS_PERMISSION),
            text("Name", "name", required=True, nullable=False, max_length=256),
            text("Description", "description", max_length=500),
            choice("Type", enums.MachineType, "type", nullable=False),
            choice("Scope", enums.MachineScope, "scope", nullable=False),
            integer("NonProductionSlots", "non_production_slots", nullable=False),
            integer("UnattendedSlots", "unattended_slots", nullable=False),
            constant("HeadlessSlots", 0, Edm.INT64),
            constant("TestAutomationSlots", 0, Edm.INT64),
            text("Key", "key", read_only=True, visible_with=KEYS_PERMISSION),
            tag_list(),
            constant("ClientSecret", None),
            key_id(),
        ],
    )
)
