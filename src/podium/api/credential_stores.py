"""``/odata/CredentialStores``: the built-in database store, and the API shape of the others."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, false
from sqlalchemy.ext.asyncio import AsyncConnection

from podium import inputs
from podium.db.schema_assets import credential_store_defaults, credential_stores
from podium.domain.credential_stores import (
    AVAILABLE_TYPES,
    CredentialResourceType,
    asset_credentials,
    check_deletable,
    check_write,
    default_store,
    set_default_store,
)
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


async def _before_write(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    check_write(values, existing)


async def _before_delete(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    await check_deletable(conn, row)


CREDENTIAL_STORES = area.add(
    EntitySet(
        name="CredentialStores",
        type_name="CredentialStoreDto",
        table=credential_stores,
        scope=Scope.TENANT,
        permission="Settings",
        unique=("name",),
        before_write=_before_write,
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
    return inputs.choice(value, "resourceType", CredentialResourceType)


@area.operation(
    "CredentialStores",
    "GetAvailableCredentialStoreTypes",
    method="GET",
    returns="Collection(Edm.String)",
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
    returns="Edm.Int64",
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
    store_id = inputs.url_id(call.key, "key")
    async with ctx.state.db.write() as conn:
        await set_default_store(conn, ctx.tenant_id, store_id, resource_type)


@area.operation(
    "CredentialStores",
    "GetResourcesForCredentialStoreTypes",
    method="GET",
    summary="Credentials kept in the store",
    parameters=("key", "resourceType"),
    returns="Collection(CredentialStoreResourceDto)",
)
async def resources(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Settings.View")
    resource_type = _resource_type(param(call, "resourceType"))
    rows: list[dict[str, Any]] = []
    if resource_type is CredentialResourceType.AssetCredential:
        store_id = inputs.url_id(param(call, "key"), "key")
        async with ctx.state.db.read() as conn:
            found = await asset_credentials(conn, ctx.tenant_id, store_id)
        rows = [{"Name": r["name"], "Type": resource_type.name, "Id": r["id"]} for r in found]
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
    returns="Collection(CredentialsProxyResourceDto)",
)
async def proxy_resources(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Settings.View")
    _resource_type(param(call, "resourceType"))
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#Collection(CredentialsProxyResourceDto)",
        "value": [],
    }
