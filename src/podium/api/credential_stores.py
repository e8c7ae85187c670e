"""``/odata/CredentialStores``: the built-in database store, and the API shape of the others."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, delete, false, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_assets import assets, credential_store_defaults, credential_stores
from podium.domain.credential_stores import (
    AVAILABLE_TYPES,
    CredentialResourceType,
    default_store,
)
from podium.domain.enums import parse_enum
from podium.errors import bad_request, conflict, not_found
from podium.http.context import RequestContext
from podium.odata.declare import audit, choice, constant, integer, key_id, text
from podium.odata.model import Edm, EntitySet, Navigation, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import param, require_body

area = Area("CredentialStores")


def _hidden(ctx: RequestContext) -> list[ColumnElement[bool]]:
    return [false()]  # read only through $expand of its owner


area.add(
    EntitySet(
        name="DefaultCredentialStores",
        type_name="DefaultCredentialStoreDto",
        table=credential_store_defaults,
        scope=Scope.TENANT,
        permission="Settings",
        insertable=False,
        updatable=False,
        deletable=False,
        read_filter=_hidden,
        fields=[choice("ResourceType", CredentialResourceType, "resource_type"), key_id()],
    )
)


async def _check_store(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    store_type = values.get("type", existing["type"] if existing else None)
    if store_type not in AVAILABLE_TYPES:
        raise bad_request(
            f"The credential store type {store_type!r} is not available"
            f" (available: {', '.join(AVAILABLE_TYPES)})."
        )
    if existing is not None and values.get("type", existing["type"]) != existing["type"]:
        raise bad_request("The type of a credential store cannot change.")
    if existing is None:  # the one Database store is the built-in one
        raise conflict("A Database credential store already exists in this tenant.")


async def _before_delete(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    if row["is_builtin"]:
        raise bad_request("The built-in credential store cannot be deleted.")
    used = (
        await conn.execute(select(func.count()).where(assets.c.credential_store_id == row["id"]))
    ).scalar_one()
    if used:
        raise conflict("The credential store still holds credentials.")


CREDENTIAL_STORES = area.add(
    EntitySet(
        name="CredentialStores",
        type_name="CredentialStoreDto",
        table=credential_stores,
        scope=Scope.TENANT,
        permission="Settings",
        unique=("name",),
        before_write=_check_store,
        before_delete=_before_delete,
        navigations=[
            Navigation(
                "DefaultCredentialStores",
                "DefaultCredentialStores",
                local="id",
                remote="credential_store_id",
                many=True,
            ),
        ],
        fields=[
            integer("ProxyId", "proxy_id"),
            constant("ProxyType", None),
            text("HostName", "host_name", max_length=256),
            text("Name", "name", required=True, nullable=False, max_length=256),
            text("Type", "type", required=True, nullable=False, max_length=64),
            text("AdditionalConfiguration", "additional_configuration", max_length=10_000),
            constant("Details", {"IsReadOnly": False}, Edm.UNTYPED),
            *audit(),
            key_id(),
        ],
    )
)


def _resource_type(value: Any) -> CredentialResourceType:
    try:
        return CredentialResourceType(parse_enum(CredentialResourceType, value))
    except ValueError as error:
        raise bad_request(f"resourceType is not valid: {error}.") from None


@area.operation(
    "CredentialStores",
    "GetAvailableCredentialStoreTypes",
    method="GET",
    summary="Credential store types this Podium can use",
)
async def available_types(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Settings.View")
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#Collection(Edm.String)",
        "value": list(AVAILABLE_TYPES),
    }


@area.operation(
    "CredentialStores",
    "GetDefaultStoreForResourceType",
    method="GET",
    summary="The default credential store of a resource type",
    parameters=("resourceType",),
)
async def default_for_type(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Settings.View")
    resource_type = _resource_type(param(call, "resourceType"))
    async with ctx.state.db.write() as conn:
        store_id = await default_store(conn, ctx.tenant_id, resource_type)
    return {"@odata.context": f"{ctx.odata_base}/$metadata#Edm.Int64", "value": store_id}


@area.operation(
    "CredentialStores",
    "SetDefaultStoreForResourceType",
    bound_to_entity=True,
    summary="Makes the store the default for a resource type",
)
async def set_default(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Settings.Edit")
    resource_type = _resource_type(require_body(call).get("resourceType"))
    async with ctx.state.db.write() as conn:
        store = (
            await conn.execute(
                select(credential_stores.c.id).where(
                    credential_stores.c.id == call.key, credential_stores.c.tenant_id == ctx.tenant_id
                )
            )
        ).scalar()
        if store is None:
            raise not_found("Credential store does not exist.")
        await conn.execute(
            delete(credential_store_defaults).where(
                credential_store_defaults.c.tenant_id == ctx.tenant_id,
                credential_store_defaults.c.resource_type == int(resource_type),
            )
        )
        await conn.execute(
            insert(credential_store_defaults).values(
                tenant_id=ctx.tenant_id, resource_type=int(resource_type), credential_store_id=store
            )
        )


@area.operation(
    "CredentialStores",
    "GetResourcesForCredentialStoreTypes",
    method="GET",
    summary="Credentials kept in the store",
    parameters=("key", "resourceType"),
)
async def resources(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Settings.View")
    resource_type = _resource_type(param(call, "resourceType"))
    rows: list[dict[str, Any]] = []
    if resource_type is CredentialResourceType.AssetCredential:
        async with ctx.state.db.read() as conn:
            found = await conn.execute(
                select(assets.c.id, assets.c.name)
                .where(
                    assets.c.tenant_id == ctx.tenant_id, assets.c.credential_store_id == param(call, "key")
                )
                .order_by(assets.c.id)
            )
            rows = [{"Name": r.name, "Type": resource_type.name, "Id": r.id} for r in found]
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#Collection(CredentialStoreResourceDto)",
        "value": rows,
    }


@area.operation(
    "CredentialStores",
    "GetResourcesForCredentialsProxyResourceTypes",
    method="GET",
    summary="Credentials behind a credentials proxy (Podium has none)",
    parameters=("key", "resourceType"),
)
async def proxy_resources(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Settings.View")
    _resource_type(param(call, "resourceType"))
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#Collection(CredentialsProxyResourceDto)",
        "value": [],
    }
