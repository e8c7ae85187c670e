"""``/odata/Tenants`` (host only): list, get, create, edit, delete and SetActive (TenantDto).

Only a host user (tenancy name ``Host``, ``domain/host.py``) reaches this area (``host_only``), with its
``Tenants.*`` permissions. Creating a tenant makes its user ``admin`` (AdminPassword required,
AdminEmailAddress/AdminName/AdminSurname kept on that user), ``Shared`` folder, built-in roles and
default settings; the Admin* properties are write-only (answered null), AdminUserKey names that user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from podium import inputs
from podium.db import schema
from podium.domain import revocations, tenant_files, tenants
from podium.http.context import RequestContext
from podium.odata.declare import boolean, constant, entity_key, key_id, text, when
from podium.odata.model import Edm, EntitySet, Field, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import require_body

area = Area("Tenants")


async def _before_write(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    if "name" in values or existing is None:
        values["name"] = tenants.check_name(values.get("name"))
        await tenants.check_unique(conn, values["name"], None if existing is None else existing["id"])
    if existing is None:
        tenants.admin_spec(body, password_required=True)  # checked before anything is written
        values.setdefault("is_active", True)
        if not values.get("display_name"):
            values["display_name"] = values["name"]
    elif values.get("is_active") is False and existing["is_active"]:
        await tenants.check_may_end(conn, [existing["id"]])


async def _after_insert(
    ctx: RequestContext,
    conn: AsyncConnection,
    tenant_id: int,
    values: dict[str, Any],
    body: Mapping[str, Any],
) -> Mapping[str, Any] | None:
    await tenants.seed(conn, tenant_id, tenants.admin_spec(body, password_required=True))
    return None


async def _before_delete(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    if row["is_active"]:
        await tenants.check_may_end(conn, [row["id"]])
    await tenants.delete_data(conn, row["id"])
    tenant_files.tenant_deleted(conn, row["id"])


async def _revokes(conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    await revocations.note(conn, revocations.tenant(row["id"]))


def _write_only(name: str) -> Field:
    return Field(name, Edm.STRING, None, write_only=True)


TENANTS = area.add(
    EntitySet(
        name="Tenants",
        type_name="TenantDto",
        table=schema.tenants,
        scope=Scope.HOST,
        permission="Tenants",
        host_only=True,
        before_write=_before_write,
        after_insert=_after_insert,
        before_delete=_before_delete,
        revokes=_revokes,
        fields=[
            text("Name", "name", required=True, nullable=False, max_length=64),
            entity_key(),
            text("DisplayName", "display_name", max_length=128),
            _write_only("AdminEmailAddress"),
            _write_only("AdminName"),
            _write_only("AdminSurname"),
            Field("AdminUserKey", Edm.GUID, "admin_user_key", read_only=True),
            _write_only("AdminPassword"),
            when("LastLoginTime", "last_login_time", read_only=True),
            boolean("IsActive", "is_active", nullable=False),
            constant("AcceptedDomainsList", [], Edm.UNTYPED),
            constant("HasConnectionString", False, Edm.BOOLEAN),
            constant("ConnectionString", None),
            constant("License", None, Edm.UNTYPED),
            constant("OrganizationName", None),
            key_id(),
        ],
    )
)


@area.operation(
    "Tenants",
    "SetActive",
    summary="Toggles the active status of tenants",
    body_schema={
        "type": "object",
        "properties": {
            "active": {"type": "boolean"},
            "tenantIds": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["active", "tenantIds"],
    },
    audit=None,  # the host has no audit log of its own (docs/decisions.md)
)
async def set_active(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Tenants.Edit")
    body = require_body(call)
    active = inputs.boolean(body.get("active"), "active")
    ids = inputs.id_list(body.get("tenantIds"), "tenantIds")
    async with ctx.state.db.write() as conn:
        await tenants.set_active(conn, ids, active)
    return None
