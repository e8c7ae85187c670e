"""``/odata/Webhooks`` (tenant-wide, WebhookDto): list, get, create, PUT, PATCH, DELETE,
``GetEventTypes``, ``({id})/Ping``, ``TriggerCustom``, and Podium's delivery log and redelivery:
``({id})/GetDeliveries`` (the last attempts: status, duration, error) and ``({id})/Redeliver``
(``{"EventId": "…"}`` or ``{"Since": "<date-time>"}``). Permissions ``Webhooks.View`` (reads, Ping,
event types, the log), ``Webhooks.Create`` (TriggerCustom too), ``Webhooks.Edit`` (Redeliver),
``Webhooks.Delete``. Rules and delivery: ``domain/webhooks.py``, ``domain/webhook_delivery.py``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from podium import inputs
from podium.db import schema_webhooks
from podium.domain import webhook_delivery, webhooks
from podium.domain.crypto import keyring_for
from podium.http.context import RequestContext
from podium.odata.declare import boolean, entity_key, key_id, text
from podium.odata.model import Edm, EntitySet, Field, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import require_body
from podium.odata.values import parse_datetime

area = Area("Webhooks")
NS = "UiPath.Server.Configuration.OData"


async def _before_write(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    await webhooks.check_write(keyring_for(ctx.state.settings), ctx.tenant_id, values, existing, body)


WEBHOOKS = area.add(
    EntitySet(
        name="Webhooks",
        type_name="WebhookDto",
        table=schema_webhooks.webhooks,
        scope=Scope.TENANT,
        permission="Webhooks",
        before_write=_before_write,
        fields=[
            entity_key(),
            text("Name", "name", max_length=256),
            text("Description", "description", max_length=500),
            text("Url", "url", required=True, nullable=False, max_length=webhooks.URL_LENGTH),
            boolean("Enabled", "enabled", nullable=False),
            # write-only: sealed by domain/webhooks.check_write, never answered, never filtered on
            Field("Secret", Edm.STRING, write_only=True),
            boolean("SubscribeToAllEvents", "subscribe_to_all_events", nullable=False),
            boolean("AllowInsecureSsl", "allow_insecure_ssl", nullable=False),
            # [{"EventType": …}], checked against GetEventTypes by domain/webhooks.check_write
            Field("Events", Edm.UNTYPED, "events", read_only=True),
            key_id(),
        ],
    )
)


@area.operation(
    "Webhooks",
    "GetEventTypes",
    method="GET",
    summary="Gets the list of event types a webhook can subscribe to",
    returns="Collection(WebhookEventTypeDto)",
)
async def get_event_types(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Webhooks.View")
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#Collection({NS}.WebhookEventTypeDto)",
        "value": [{"Name": name, "Group": group} for name, group in webhooks.EVENT_TYPES],
    }


@area.operation(
    "Webhooks",
    "Ping",
    bound_to_entity=True,
    summary="Sends a Ping request to webhook endpoint (its attempt is in the delivery log)",
    returns="PingEventDto",
    audit=None,  # a connectivity test, not a change
)
async def ping(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Webhooks.View")
    webhook_id = inputs.entity_id(call.key)
    return await webhook_delivery.ping(
        ctx.state.db, ctx.state.settings, ctx.tenant_id, webhook_id, ctx.user_id
    )


@area.operation(
    "Webhooks",
    "TriggerCustom",
    summary='Triggers an event of type "custom" carrying the body as EventData',
    returns="CustomEventDto",
    audit=None,  # an event sent, not a change to the tenant
)
async def trigger_custom(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Webhooks.Create")
    data = require_body(call)
    folder_id = ctx.folder.id if ctx.folder is not None else None
    async with ctx.state.db.write() as conn:
        return await webhook_delivery.record_custom(conn, ctx.tenant_id, folder_id, ctx.user_id, data)


@area.operation(
    "Webhooks",
    "GetDeliveries",
    method="GET",
    bound_to_entity=True,
    summary="The webhook's delivery log: its last attempts, newest first (Podium)",
    returns="Collection(WebhookDeliveryAttemptDto)",
)
async def get_deliveries(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Webhooks.View")
    webhook_id = inputs.entity_id(call.key)
    async with ctx.state.db.read() as conn:
        value = await webhooks.attempts(conn, ctx.tenant_id, webhook_id)
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#Collection(WebhookDeliveryAttemptDto)",
        "value": value,
    }


@area.operation(
    "Webhooks",
    "Redeliver",
    bound_to_entity=True,
    summary="Sends again the webhook's deliveries of one event (EventId) or since a time (Podium)",
    returns="Edm.Int32",
    body_schema={
        "type": "object",
        "properties": {"EventId": {"type": "string"}, "Since": {"type": "string", "format": "date-time"}},
    },
)
async def redeliver(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Webhooks.Edit")
    webhook_id = inputs.entity_id(call.key)
    body = require_body(call)
    event_id = inputs.optional_text(body.get("EventId"), "EventId", max_length=36)
    since = None if body.get("Since") is None else parse_datetime(body["Since"], "Since")
    async with ctx.state.db.write() as conn:
        count = await webhooks.redeliver(conn, ctx.tenant_id, webhook_id, event_id, since)
    return {"@odata.context": f"{ctx.odata_base}/$metadata#Edm.Int32", "value": count}
