"""Alerts: ``/odata/Alerts`` (the caller's own, with the OData options), ``GetUnreadCount``,
``MarkAsRead`` (by ``UserNotificationId``, the caller's own only) with ``Alerts.View``, and
``RaiseProcessAlert`` (``Alerts.Create``, or a robot's or job's token). Raising them: ``domain/alerts.py``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from starlette.responses import Response

from podium import inputs
from podium.db.schema_audit import alert_notifications
from podium.domain import alerts
from podium.domain.audit_enums import AlertComponent, AlertSeverity, AlertState
from podium.errors import forbidden
from podium.http.context import RequestContext
from podium.odata.declare import choice, guid, text, when
from podium.odata.model import EntitySet, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import require_body

area = Area("Alerts")
MAX_TEXT = 512  # each property of a process alert


def _own(ctx: RequestContext) -> list[ColumnElement[bool]]:
    return [alerts.of_user(ctx.user_id)]


ALERTS = area.add(
    EntitySet(
        name="Alerts",
        type_name="AlertDto",
        table=alert_notifications,
        scope=Scope.TENANT,
        permission="Alerts",
        key_column="alert_key",
        read_filter=_own,
        insertable=False,
        updatable=False,
        deletable=False,
        fields=[
            text("NotificationName", "notification_name", read_only=True),
            text("Data", "data", read_only=True),
            choice("Component", AlertComponent, "component", read_only=True),
            choice("Severity", AlertSeverity, "severity", read_only=True),
            when("CreationTime", "creation_time", read_only=True),
            choice("State", AlertState, "state", read_only=True),
            guid("UserNotificationId", "key", read_only=True),
            text("DeepLinkRelativeUrl", "deep_link", read_only=True),
            guid("Id", "alert_key", read_only=True),
        ],
    )
)


def _count(ctx: RequestContext, value: int) -> dict[str, Any]:
    return {"@odata.context": f"{ctx.odata_base}/$metadata#Edm.Int64", "value": value}


@area.operation(
    "Alerts",
    "GetUnreadCount",
    method="GET",
    summary="The number of the caller's alerts not read yet",
    returns="Edm.Int64",
)
async def unread_count(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Alerts.View")
    async with ctx.state.db.read() as conn:
        return _count(ctx, await alerts.unread_count(conn, ctx.tenant_id, ctx.user_id))


@area.operation(
    "Alerts",
    "MarkAsRead",
    summary="Marks the caller's alerts (UserNotificationIds) read; the number left unread",
    returns="Edm.Int64",
    body_schema={
        "type": "object",
        "properties": {"ids": {"type": "array", "items": {"type": "string"}}},
    },
    audit=None,  # the caller's own read state, not a change to the tenant
)
async def mark_as_read(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Alerts.View")
    raw = inputs.json_list(require_body(call).get("ids"), "ids", max_items=alerts.MAX_IDS)
    ids = [inputs.text(value, "ids", max_length=36) for value in raw]
    async with ctx.state.db.write() as conn:
        return _count(ctx, await alerts.mark_as_read(conn, ctx.tenant_id, ctx.user_id, ids))


@area.operation(
    "Alerts",
    "RaiseProcessAlert",
    summary="Raises an alert from a process (its job's token, or Alerts.Create)",
    body_schema={
        "type": "object",
        "properties": {
            "processAlert": {
                "type": "object",
                "properties": {
                    name: {"type": "string", "maxLength": MAX_TEXT}
                    for name in ("Message", "Severity", "RobotName", "ProcessName")
                },
            }
        },
    },
    audit=None,  # a process reporting, not a change someone makes
)
async def raise_process_alert(ctx: RequestContext, call: ActionCall) -> Response:
    principal = ctx.principal
    if principal.kind not in ("robot", "job"):
        folder = ctx.folder.fully_qualified_name if ctx.folder else None
        if not (principal.has("Alerts.Create", folder)):
            raise forbidden("You are not authorized! (missing permission Alerts.Create)")
    alert = inputs.json_object(require_body(call).get("processAlert"), "processAlert")
    message = inputs.text(alert.get("Message"), "Message", max_length=MAX_TEXT)
    severity = (
        AlertSeverity.Info
        if alert.get("Severity") is None
        else inputs.choice(alert.get("Severity"), "Severity", AlertSeverity)
    )
    data = {
        "Message": message,
        "RobotName": inputs.optional_text(alert.get("RobotName"), "RobotName", max_length=MAX_TEXT),
        "ProcessName": inputs.optional_text(alert.get("ProcessName"), "ProcessName", max_length=MAX_TEXT),
        "JobKey": inputs.optional_text(
            call.request.headers.get("x-uipath-jobkey"), "X-UIPATH-JobKey", max_length=64
        ),
    }
    folder_id = principal.restricted_folder_id or (ctx.folder.id if ctx.folder else None)
    kind = alerts.Kind(alerts.PROCESS_ALERT, "Process", severity)
    async with ctx.state.db.write() as conn:
        await alerts.raise_alert(conn, ctx.tenant_id, kind, data, folder_id=folder_id)
    return Response(status_code=200)  # Orchestrator answers 200 without a body
