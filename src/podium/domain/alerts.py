"""Alerts: what Podium raises about itself (a robot gone offline, a job faulted, a queue item failed
with an application exception, a trigger or a webhook disabled, a queue's SLA at risk) and what a
process raises (``RaiseProcessAlert``).

:func:`raise_alert` is the one way in, called with the connection of the change that causes the alert
(so it is raised if, and only if, the change commits). It copies the alert to every active user of
the tenant who may see it — ``Alerts.View`` across the tenant, or in the alert's folder or above it —
each copy with a ``UserNotificationId`` of its own and its own read state (Unread, then Read through
``MarkAsRead``). A user given ``Alerts.View`` later sees the alerts raised from then on, as Orchestrator's
subscribed users do. The alert also goes to the event outbox as ``alert.raised`` (a name of Podium's:
Orchestrator's webhooks have no alert event), so webhooks carry it. E-mail is out of scope.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folders, role_permissions, user_roles, users
from podium.db.schema_audit import alert_notifications
from podium.db.schema_queues import queue_definitions, queue_items
from podium.db.types import utcnow
from podium.domain import events
from podium.domain.audit_enums import AlertComponent, AlertSeverity, AlertState
from podium.domain.queue_enums import QueueItemStatus
from podium.errors import bad_request, not_found

EVENT_TYPE = "alert.raised"
VIEW = "Alerts.View"
MAX_IDS = 1000  # MarkAsRead ids per call


@dataclass(frozen=True)
class Kind:
    """A kind of alert: its NotificationName, Component and Severity."""

    notification_name: str
    component: str  # AlertComponent name
    severity: AlertSeverity


# Orchestrator's name for the first; the others follow its pattern (inf)
ROBOT_OFFLINE = Kind("Robot.StatusChanged.Offline", "Robots", AlertSeverity.Fatal)
JOB_FAULTED = Kind("Job.Faulted", "Jobs", AlertSeverity.Error)
QUEUE_ITEM_FAILED = Kind("QueueItem.Failed.ApplicationException", "Transactions", AlertSeverity.Error)
QUEUE_SLA_AT_RISK = Kind("Queue.Sla.AtRisk", "Queues", AlertSeverity.Warn)
TRIGGER_DISABLED = Kind("Schedule.Disabled", "Schedules", AlertSeverity.Warn)
# Orchestrator has no webhook component; ConnectedTriggers (event integrations) is the nearest (inf)
WEBHOOK_DISABLED = Kind("Webhook.Disabled", "ConnectedTriggers", AlertSeverity.Error)
PROCESS_ALERT = "Process.Alert"  # RaiseProcessAlert (Component Process, the severity it asks for)


@dataclass(frozen=True)
class Raised:
    key: str  # the alert's Id
    recipients: int  # users it was copied to


async def _folder_path(conn: AsyncConnection, folder_id: int) -> str | None:
    path = (
        await conn.execute(select(folders.c.fully_qualified_name).where(folders.c.id == folder_id))
    ).scalar()
    return None if path is None else str(path)


async def recipients(conn: AsyncConnection, tenant_id: int, folder_id: int | None) -> list[int]:
    """Active users of the tenant holding Alerts.View across the tenant or, for an alert of a folder,
    in that folder or one above it."""
    where: list[ColumnElement[bool]] = [user_roles.c.folder_id.is_(None)]
    if folder_id is not None:
        path = await _folder_path(conn, folder_id)
        if path is not None:
            fqn = folders.c.fully_qualified_name
            where += [
                fqn == path,
                func.substr(literal(path), 1, func.length(fqn) + 1) == fqn + "/",
            ]
    query = (
        select(users.c.id)
        .join(user_roles, user_roles.c.user_id == users.c.id)
        .join(role_permissions, role_permissions.c.role_id == user_roles.c.role_id)
        .outerjoin(folders, folders.c.id == user_roles.c.folder_id)
        .where(
            users.c.tenant_id == tenant_id,
            users.c.is_active.is_(True),
            role_permissions.c.name == VIEW,
            role_permissions.c.is_granted.is_(True),
            or_(*where),
        )
        .distinct()
        .order_by(users.c.id)
    )
    return [int(row[0]) for row in await conn.execute(query)]


async def raise_alert(
    conn: AsyncConnection,
    tenant_id: int,
    kind: Kind,
    data: dict[str, Any],
    *,
    folder_id: int | None = None,
    severity: AlertSeverity | None = None,
    deep_link: str | None = None,
) -> Raised:
    """Raises an alert in the transaction of ``conn``: one copy per user who may see it (Unread) and an
    ``alert.raised`` event. ``data`` becomes the alert's ``Data`` (a JSON string, as Orchestrator's)."""
    key = str(uuid.uuid4())
    now = utcnow()
    level = severity if severity is not None else kind.severity
    text = orjson.dumps(data, default=str).decode()
    users_ids = await recipients(conn, tenant_id, folder_id)
    common = {
        "tenant_id": tenant_id,
        "alert_key": key,
        "folder_id": folder_id,
        "notification_name": kind.notification_name,
        "data": text,
        "component": int(AlertComponent[kind.component]),
        "severity": int(level),
        "creation_time": now,
        "state": int(AlertState.Unread),
        "deep_link": deep_link,
    }
    if users_ids:
        await conn.execute(
            insert(alert_notifications),
            [{**common, "key": str(uuid.uuid4()), "user_id": u} for u in users_ids],
        )
    await events.record(
        conn,
        tenant_id,
        EVENT_TYPE,
        key,
        {
            "Id": key,
            "NotificationName": kind.notification_name,
            "Data": text,
            "Component": kind.component,
            "Severity": level.name,
            "CreationTime": now,
            "DeepLinkRelativeUrl": deep_link,
        },
        folder_id,
    )
    return Raised(key, len(users_ids))


def of_user(user_id: int) -> ColumnElement[bool]:
    """The user's own copies (``/odata/Alerts`` shows each caller only its own)."""
    return alert_notifications.c.user_id == user_id


async def unread_count(conn: AsyncConnection, tenant_id: int, user_id: int) -> int:
    count = (
        await conn.execute(
            select(func.count()).where(
                alert_notifications.c.tenant_id == tenant_id,
                alert_notifications.c.user_id == user_id,
                alert_notifications.c.state == int(AlertState.Unread),
            )
        )
    ).scalar_one()
    return int(count)


async def mark_as_read(conn: AsyncConnection, tenant_id: int, user_id: int, ids: Sequence[str]) -> int:
    """Marks the user's notifications ``ids`` (UserNotificationIds) Read, all or none: 404 when one is
    not the user's (another user's, or none); returns the user's unread count left."""
    wanted = sorted(set(ids))
    if len(wanted) > MAX_IDS:
        raise bad_request(f"At most {MAX_IDS} ids at once.")
    mine = and_(
        alert_notifications.c.tenant_id == tenant_id,
        alert_notifications.c.user_id == user_id,
        alert_notifications.c.key.in_(wanted),
    )
    found = (await conn.execute(select(func.count()).where(mine))).scalar_one()
    if found != len(wanted):
        raise not_found("Some of the alerts do not exist.")
    if wanted:
        await conn.execute(update(alert_notifications).where(mine).values(state=int(AlertState.Read)))
    return await unread_count(conn, tenant_id, user_id)


async def raise_sla_risks(conn: AsyncConnection, since: dt.datetime, until: dt.datetime) -> int:
    """One QUEUE_SLA_AT_RISK alert per queue whose unfinished items (New or In Progress) reached their
    RiskSlaDate in ``[since, until)``: each item is counted in the one window its risk date falls in.
    Only queues with a RiskSlaInMinutes are looked at (their open items through the dequeue index).
    Returns the number of alerts raised."""
    open_statuses = [int(QueueItemStatus.New), int(QueueItemStatus.InProgress)]
    query = (
        select(
            queue_items.c.tenant_id,
            queue_items.c.folder_id,
            queue_definitions.c.id,
            queue_definitions.c.name,
            queue_definitions.c.risk_sla_in_minutes,
            func.count(),
        )
        .join(queue_definitions, queue_definitions.c.id == queue_items.c.queue_definition_id)
        .where(
            queue_definitions.c.risk_sla_in_minutes > 0,
            queue_items.c.status.in_(open_statuses),
            queue_items.c.risk_sla_date >= since,
            queue_items.c.risk_sla_date < until,
        )
        .group_by(
            queue_items.c.tenant_id,
            queue_items.c.folder_id,
            queue_definitions.c.id,
            queue_definitions.c.name,
            queue_definitions.c.risk_sla_in_minutes,
        )
        .order_by(queue_definitions.c.id)
    )
    rows = (await conn.execute(query)).all()
    for tenant_id, folder_id, queue_id, name, risk_minutes, count in rows:
        data = {
            "QueueDefinitionId": queue_id,
            "QueueName": name,
            "ItemsAtRisk": count,
            "RiskSlaInMinutes": risk_minutes,
        }
        await raise_alert(conn, tenant_id, QUEUE_SLA_AT_RISK, data, folder_id=folder_id)
    return len(rows)
