"""Webhook subscriptions (``/odata/Webhooks``): the event types one may subscribe to, the checks of a
subscription written through the API, its sealed secret, its delivery log and redelivery.

The secret is write-only: sealed at rest (``domain/sealed.py``, bound to the webhook's key) and never
answered; it is opened only to sign a delivery (``domain/webhook_delivery.py``). A URL must be http(s)
and pass the outbound address check every outbound call of Podium passes (``podium.outbound``).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium import inputs, outbound
from podium.db.schema_webhooks import webhook_attempts, webhook_deliveries, webhooks
from podium.domain.crypto import Keyring
from podium.errors import PodiumError, bad_request, not_found
from podium.odata.serialize import format_datetime

SECRET_LENGTH = 256
URL_LENGTH = 2048
MAX_EVENTS = 100
LOG_LENGTH = 100  # attempts answered by GetDeliveries (and kept per webhook)
UNKNOWN_EVENT_TYPE = 2700  # Orchestrator's UnknownWebhookEventType (its number (inf))


class DeliveryStatus(enum.IntEnum):
    Pending = 0
    Delivered = 1


# (Name, Group) as GetEventTypes answers them. Orchestrator's names (next-areas §2); alert.raised is
# Podium's own (Orchestrator sends alerts by e-mail only).
EVENT_TYPES: tuple[tuple[str, str], ...] = (
    *((f"job.{n}", "Jobs") for n in (
        "created", "started", "completed", "faulted", "stopping", "terminating", "stopped", "suspended",
        "resumed",
    )),
    *((f"queue.{n}", "Queues") for n in ("created", "updated", "deleted")),
    *((f"queueItem.{n}", "QueueItems") for n in (
        "added", "transactionStarted", "transactionCompleted", "transactionFailed", "transactionAbandoned",
    )),
    *((f"robot.{n}", "Robots") for n in ("created", "updated", "deleted", "status")),
    *((f"process.{n}", "Processes") for n in ("created", "updated", "deleted")),
    ("schedule.failed", "Schedules"),
    *((f"task.{n}", "Tasks") for n in (
        "created", "assignmentChanged", "forwarded", "saved", "completed", "deleted",
    )),
    ("alert.raised", "Alerts"),
    ("custom", "Other"),
)  # fmt: skip
NAMES = frozenset(name for name, _ in EVENT_TYPES)
PING = "ping"


def secret_aad(tenant_id: int, key: str) -> str:
    return f"webhook:{tenant_id}:{key}"


def parse_events(value: Any) -> list[str]:
    """``Events`` of a WebhookDto: a list of ``{"EventType": name}``; an unknown name is a 400."""
    items = inputs.json_list(value, "Events", max_items=MAX_EVENTS)
    names: list[str] = []
    for item in items:
        name = inputs.json_object(item, "Events").get("EventType")
        if not isinstance(name, str) or name not in NAMES:
            raise PodiumError(
                f"Unknown webhook event type: {str(name)[:64]!r}.", status=400, code=UNKNOWN_EVENT_TYPE
            )
        if name not in names:
            names.append(name)
    return names


def events_json(names: list[str]) -> str:
    return orjson.dumps([{"EventType": name} for name in names]).decode()


def subscribed(row: Mapping[str, Any]) -> frozenset[str] | None:
    """The event types a webhook gets; None for all of them (SubscribeToAllEvents)."""
    if row["subscribe_to_all_events"]:
        return None
    return frozenset(item["EventType"] for item in orjson.loads(row["events"] or "[]"))


async def check_write(
    keyring: Keyring,
    tenant_id: int,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    """Checks and completes the columns of a create, PUT or PATCH (nothing is written on a 400)."""
    if existing is None and not values.get("url"):
        raise bad_request("Url is required.")
    if "url" in values:
        url = inputs.text(values["url"], "Url", max_length=URL_LENGTH)
        await outbound.check_url(url, "Url")
    if "Events" in body:
        values["events"] = events_json(parse_events(body["Events"]))
    elif existing is None:
        values["events"] = "[]"
    key = existing["key"] if existing is not None else values["key"]
    if "Secret" in body:
        secret = body["Secret"]
        if secret is None or secret == "":
            values["secret"] = None
        else:
            secret = inputs.text(secret, "Secret", max_length=SECRET_LENGTH)
            values["secret"] = keyring.seal(secret, secret_aad(tenant_id, key))
    if existing is not None and values.get("enabled") and not existing["enabled"]:
        values["failing_since"] = None  # enabled again: a fresh retry window
        values["next_attempt_time"] = None


def open_secret(keyring: Keyring, row: Mapping[str, Any]) -> str | None:
    sealed = row["secret"]
    return None if sealed is None else keyring.open(sealed, secret_aad(row["tenant_id"], row["key"]))


async def webhook(conn: AsyncConnection, tenant_id: int, webhook_id: int) -> dict[str, Any]:
    row = (
        (
            await conn.execute(
                select(webhooks).where(webhooks.c.id == webhook_id, webhooks.c.tenant_id == tenant_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("Webhook does not exist.")
    return dict(row)


def _attempt(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Id": row["id"],
        "DeliveryId": row["delivery_id"],
        "EventId": row["event_id"],
        "EventType": row["event_type"],
        "Time": format_datetime(row["time"]),
        "Success": row["success"],
        "StatusCode": row["status_code"],
        "DurationMs": row["duration_ms"],
        "Error": row["error"],
    }


async def attempts(
    conn: AsyncConnection, tenant_id: int, webhook_id: int, top: int = LOG_LENGTH
) -> list[dict[str, Any]]:
    """The delivery log: the newest attempts first."""
    await webhook(conn, tenant_id, webhook_id)
    rows = (
        await conn.execute(
            select(webhook_attempts)
            .where(webhook_attempts.c.webhook_id == webhook_id)
            .order_by(webhook_attempts.c.id.desc())
            .limit(top)
        )
    ).mappings()
    return [_attempt(dict(row)) for row in rows]


async def redeliver(
    conn: AsyncConnection, tenant_id: int, webhook_id: int, event_id: str | None, since: dt.datetime | None
) -> int:
    """Puts the webhook's deliveries of one event, or of every event since a time, back in its queue
    (Pending, sent again in event-time order with the same body). The number of deliveries queued."""
    await webhook(conn, tenant_id, webhook_id)
    d = webhook_deliveries
    query = update(d).where(d.c.webhook_id == webhook_id, d.c.tenant_id == tenant_id)
    if event_id is not None:
        query = query.where(d.c.event_id == event_id)
    elif since is not None:
        query = query.where(d.c.event_time >= since)
    else:
        raise bad_request("Give EventId or Since.")
    result = await conn.execute(query.values(status=int(DeliveryStatus.Pending), delivered_time=None))
    if event_id is not None and result.rowcount == 0:
        raise not_found("This webhook has no delivery of that event.")
    await conn.execute(update(webhooks).where(webhooks.c.id == webhook_id).values(next_attempt_time=None))
    return int(result.rowcount)
