"""Sending webhook deliveries: at least once, in order per subscriber, signed, retried with back-off.

A subscriber (webhook) is served by one server process at a time: the process *claims* it
(``claimed_by``/``claimed_until`` on its row, taken with ``SKIP LOCKED`` on PostgreSQL; SQLite has one
writer) and sends its pending deliveries one after the other, oldest event first. One request in flight
per subscriber is what keeps them in order; many subscribers are served at once (a bounded number per
process), each request with a timeout, so a slow or dead subscriber holds only its own queue.

A delivery is Pending until a 2xx answer, then Delivered: a crash between the POST and the commit sends
it again (at least once; ``EventId`` tells duplicates). A failure sets the subscriber's back-off
(exponential with jitter, capped) and its ``failing_since``; a subscriber still failing a whole retry
window after its first failure (24 h by default) is disabled and a ``Webhook.Disabled`` alert raised.
Its pending deliveries stay: enabling it again sends them. Every attempt is written to the delivery log.
Signature: ``X-UiPath-Signature`` = Base64(HMAC-SHA256(UTF-8 secret, raw body)), sent when a secret is set.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import and_, delete, exists, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium import outbound
from podium.config import Settings
from podium.db.engine import Database
from podium.db.schema_webhooks import webhook_attempts, webhook_deliveries, webhooks
from podium.db.types import utcnow
from podium.domain import alerts, events
from podium.domain.crypto import keyring_for
from podium.domain.webhook_events import envelope
from podium.domain.webhooks import PING, DeliveryStatus, open_secret, webhook
from podium.errors import PodiumError
from podium.outbound_http import HttpError, PostClient

USER_AGENT = "UiPath-WebhookService/Webhooks"
SIGNATURE_HEADER = "X-UiPath-Signature"
KEEP_ATTEMPTS = 1000  # log rows kept per webhook
Clock = Callable[[], dt.datetime]


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


@dataclass(frozen=True)
class DeliveryConfig:
    """``PODIUM_WEBHOOK_*`` settings (seconds)."""

    timeout: float = 30.0  # one request
    retry_window: float = 86400.0  # failing this long disables the subscriber
    first_retry: float = 5.0  # back-off after the first failure, doubled after each, with jitter
    max_retry: float = 900.0  # back-off cap
    concurrency: int = 32  # subscribers served at once by one process
    retention_days: float = 7.0  # delivered deliveries and log rows older than this are deleted (0: kept)
    batch: int = 500  # deliveries sent per claim before the subscriber is let go
    window: int = 50  # deliveries read, sent, then recorded together (see serve)

    @property
    def claim_ttl(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.timeout + 30)

    @classmethod
    def from_env(cls) -> DeliveryConfig:
        return cls(
            timeout=_env_float("PODIUM_WEBHOOK_TIMEOUT", 30.0),
            retry_window=_env_float("PODIUM_WEBHOOK_RETRY_WINDOW", 86400.0),
            first_retry=_env_float("PODIUM_WEBHOOK_FIRST_RETRY", 5.0),
            max_retry=_env_float("PODIUM_WEBHOOK_MAX_RETRY", 900.0),
            concurrency=int(_env_float("PODIUM_WEBHOOK_CONCURRENCY", 32)),
            retention_days=_env_float("PODIUM_WEBHOOK_RETENTION_DAYS", 7.0),
        )

    def backoff(self, failures: int) -> dt.timedelta:
        base = min(self.first_retry * 2 ** max(failures - 1, 0), self.max_retry)
        return dt.timedelta(seconds=base * random.uniform(0.75, 1.25))


async def relaxed(conn: AsyncConnection) -> None:
    """The transaction commits without waiting for its WAL flush (PostgreSQL). Safe for the delivery
    state alone: a commit lost in a crash only means deliveries sent again (at least once) or events
    fanned out again (the fan-out's deliveries and its ``dispatched`` marks are lost together). Each
    flush waited for delayed the API's own commits behind it (``benchmarks/webhooks.py``)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SET LOCAL synchronous_commit TO OFF"))


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class Outcome:
    success: bool
    status_code: int | None
    duration_ms: int
    error: str | None


class Sender:
    """POSTs through one keep-alive client (``outbound_http``; ``AllowInsecureSsl`` per request)."""

    def __init__(self, timeout: float) -> None:
        self._client = PostClient(timeout)

    async def post(self, url: str, body: bytes, secret: str | None, insecure: bool) -> Outcome:
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, body)
        started = time.perf_counter()
        try:
            await outbound.check_url(url, "Url")  # again at each call: the host may resolve elsewhere now
            status = await self._client.post(url, body, headers, insecure)
        except PodiumError as error:
            return Outcome(False, None, _ms(started), error.message[:1024])
        except HttpError as error:
            return Outcome(False, None, _ms(started), str(error)[:1024])
        ok = 200 <= status < 300
        return Outcome(ok, status, _ms(started), None if ok else f"HTTP {status}")

    async def close(self) -> None:
        await self._client.close()


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


# ---- claiming subscribers --------------------------------------------------------------------------


def _due(now: dt.datetime) -> Any:
    d = webhook_deliveries
    has_pending = exists().where(d.c.webhook_id == webhooks.c.id, d.c.status == int(DeliveryStatus.Pending))
    return and_(
        webhooks.c.enabled.is_(True),
        or_(webhooks.c.claimed_until.is_(None), webhooks.c.claimed_until < now),
        or_(webhooks.c.next_attempt_time.is_(None), webhooks.c.next_attempt_time <= now),
        has_pending,
    )


async def claim(db: Database, holder: str, now: dt.datetime, limit: int, ttl: dt.timedelta) -> list[int]:
    """Up to ``limit`` subscribers with deliveries due and no other holder, now held by ``holder``."""
    if limit <= 0:
        return []
    async with db.read() as conn:  # most rounds find nothing: no write lock taken for that (SQLite)
        if (await conn.execute(select(webhooks.c.id).where(_due(now)).limit(1))).first() is None:
            return []
    async with db.write() as conn:
        await relaxed(conn)
        query = (
            select(webhooks.c.id)
            .where(_due(now))
            .order_by(webhooks.c.next_attempt_time, webhooks.c.id)
            .limit(limit)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = [int(row[0]) for row in await conn.execute(query)]
        if ids:
            await conn.execute(
                update(webhooks)
                .where(webhooks.c.id.in_(ids))
                .values(claimed_by=holder, claimed_until=now + ttl)
            )
    return ids


async def release(db: Database, webhook_id: int, holder: str) -> None:
    async with db.write() as conn:
        await relaxed(conn)
        await _release(conn, webhook_id, holder)


async def _release(conn: AsyncConnection, webhook_id: int, holder: str) -> None:
    await conn.execute(
        update(webhooks)
        .where(webhooks.c.id == webhook_id, webhooks.c.claimed_by == holder)
        .values(claimed_by=None, claimed_until=None)
    )
    await _prune(conn, webhook_id)


async def _prune(conn: AsyncConnection, webhook_id: int) -> None:
    a = webhook_attempts
    oldest_kept = (
        select(a.c.id)
        .where(a.c.webhook_id == webhook_id)
        .order_by(a.c.id.desc())
        .offset(KEEP_ATTEMPTS)
        .limit(1)
    ).scalar_subquery()
    await conn.execute(delete(a).where(a.c.webhook_id == webhook_id, a.c.id <= oldest_kept))


# ---- retention ----------------------------------------------------------------------------------------

RETENTION_BATCH = 1000


async def delete_older_than(conn: AsyncConnection, cutoff: dt.datetime, limit: int = RETENTION_BATCH) -> int:
    """One batch of the retention sweep: delivery-log rows made before ``cutoff``, then Delivered
    deliveries delivered before it (their log rows first). Pending deliveries are never deleted, however
    old: they are still owed to their subscriber. Returns the larger of the two counts deleted (the
    sweep goes on while a batch is full)."""
    a, d = webhook_attempts, webhook_deliveries
    old = select(a.c.id).where(a.c.time < cutoff).limit(limit)
    old_attempts = [row[0] for row in await conn.execute(old)]
    if old_attempts:
        await conn.execute(delete(a).where(a.c.id.in_(old_attempts)))
    done = (
        select(d.c.id)
        .where(d.c.status == int(DeliveryStatus.Delivered), d.c.delivered_time < cutoff)
        .limit(limit)
    )
    ids = [row[0] for row in await conn.execute(done)]
    if ids:
        await conn.execute(delete(a).where(a.c.delivery_id.in_(ids)))
        await conn.execute(delete(d).where(d.c.id.in_(ids)))
    return max(len(ids), len(old_attempts))


async def sweep(db: Database, now: dt.datetime, days: float) -> int:
    """Deletes what is older than ``days`` (see :func:`delete_older_than`), a batch per transaction
    until a batch is not full; returns the batches' counts summed (0 when ``days`` <= 0)."""
    if days <= 0:
        return 0
    cutoff, total = now - dt.timedelta(days=days), 0
    while True:
        async with db.write() as conn:
            deleted = await delete_older_than(conn, cutoff)
        total += deleted
        if deleted < RETENTION_BATCH:
            return total


# ---- sending ----------------------------------------------------------------------------------------


async def _heads(conn: AsyncConnection, webhook_id: int, limit: int) -> list[dict[str, Any]]:
    """The subscriber's oldest ``limit`` pending deliveries, in the order they are sent."""
    d = webhook_deliveries
    rows = await conn.execute(
        select(d)
        .where(d.c.webhook_id == webhook_id, d.c.status == int(DeliveryStatus.Pending))
        .order_by(d.c.event_time, d.c.id)
        .limit(limit)
    )
    return [dict(row) for row in rows.mappings()]


@dataclass(frozen=True)
class Attempt:
    head: dict[str, Any]
    outcome: Outcome
    time: dt.datetime


async def serve(
    db: Database,
    settings: Settings,
    sender: Sender,
    config: DeliveryConfig,
    holder: str,
    webhook_id: int,
    clock: Clock = utcnow,
) -> int:
    """Sends the claimed subscriber's pending deliveries in order until none is left, one fails, or
    ``config.batch`` are sent; then lets the subscriber go. Returns the number delivered.

    The deliveries are read ``config.window`` at a time (renewing the claim) and their attempts recorded
    in one transaction after the window is sent: two transactions per window rather than per delivery,
    which is what bounded a subscriber's rate (a round trip to the database costs more than a POST on a
    local network). A crash in a window sends its deliveries again (at least once, ``EventId`` tells).
    A window stops early when the claim could lapse before one more request times out, so no other
    process takes the subscriber while a request of this one is in flight."""
    keyring = keyring_for(settings)
    delivered = 0
    released = False
    try:
        while delivered < config.batch:
            async with db.write() as conn:
                await relaxed(conn)
                until = clock() + config.claim_ttl
                hook = await conn.execute(
                    update(webhooks)
                    .where(
                        webhooks.c.id == webhook_id,
                        webhooks.c.claimed_by == holder,
                        webhooks.c.enabled.is_(True),
                    )
                    .values(claimed_until=until)
                    .returning(*webhooks.c)
                )
                found = hook.mappings().first()
                row = None if found is None else dict(found)
                window = min(config.window, config.batch - delivered)
                heads = [] if row is None else await _heads(conn, webhook_id, window)
            if row is None or not heads:
                break
            secret = open_secret(keyring, row)
            attempts: list[Attempt] = []
            for head in heads:
                if attempts and clock() + dt.timedelta(seconds=config.timeout) >= until:
                    break
                outcome = await sender.post(
                    row["url"], head["body"].encode(), secret, row["allow_insecure_ssl"]
                )
                attempts.append(Attempt(head, outcome, clock()))
                if not outcome.success:
                    break
            delivered += sum(1 for attempt in attempts if attempt.outcome.success)
            # the last window (a failure, a short read: nothing more was pending then, or the batch
            # done) lets the subscriber go in its own transaction: one round trip less per wake-up
            last = not attempts[-1].outcome.success or len(heads) < window or delivered >= config.batch
            async with db.write() as conn:
                await relaxed(conn)
                await _record(conn, config, row, attempts)
                if last:
                    await _release(conn, webhook_id, holder)
                    released = True
            if last:
                break
    finally:
        if not released:
            await release(db, webhook_id, holder)
    return delivered


async def _record(
    conn: AsyncConnection, config: DeliveryConfig, hook: dict[str, Any], attempts: list[Attempt]
) -> None:
    """The attempts of a window (all successes, perhaps one failure last) in the log, their deliveries
    and the subscriber's failure state updated."""
    await conn.execute(
        insert(webhook_attempts),
        [
            {
                "tenant_id": hook["tenant_id"],
                "webhook_id": hook["id"],
                "delivery_id": a.head["id"],
                "event_id": a.head["event_id"],
                "event_type": a.head["event_type"],
                "time": a.time,
                "success": a.outcome.success,
                "status_code": a.outcome.status_code,
                "duration_ms": a.outcome.duration_ms,
                "error": a.outcome.error,
            }
            for a in attempts
        ],
    )
    d = webhook_deliveries
    sent = [a.head["id"] for a in attempts if a.outcome.success]
    if sent:  # one statement for the window (its attempts keep each one's own time)
        await conn.execute(
            update(d)
            .where(d.c.id.in_(sent))
            .values(
                attempts=d.c.attempts + 1,
                last_attempt_time=attempts[-1].time,
                status=int(DeliveryStatus.Delivered),
                delivered_time=attempts[-1].time,
            )
        )
    last = attempts[-1]
    if last.outcome.success:
        if hook["failing_since"] is not None or hook["next_attempt_time"] is not None:
            await conn.execute(
                update(webhooks)
                .where(webhooks.c.id == hook["id"])
                .values(failing_since=None, next_attempt_time=None)
            )
        return
    now, head = last.time, last.head
    await conn.execute(
        update(d).where(d.c.id == head["id"]).values(attempts=d.c.attempts + 1, last_attempt_time=now)
    )
    failing_since = None if sent else hook["failing_since"]
    failing_since = failing_since or now
    if (now - failing_since).total_seconds() >= config.retry_window:
        await _disable(conn, hook, last.outcome, failing_since)
        return
    await conn.execute(
        update(webhooks)
        .where(webhooks.c.id == hook["id"])
        .values(failing_since=failing_since, next_attempt_time=now + config.backoff(head["attempts"] + 1))
    )


async def _disable(
    conn: AsyncConnection, hook: dict[str, Any], outcome: Outcome, failing_since: dt.datetime
) -> None:
    await conn.execute(
        update(webhooks)
        .where(webhooks.c.id == hook["id"])
        .values(enabled=False, failing_since=failing_since, next_attempt_time=None)
    )
    pending = (
        await conn.execute(
            select(func.count()).where(
                webhook_deliveries.c.webhook_id == hook["id"],
                webhook_deliveries.c.status == int(DeliveryStatus.Pending),
            )
        )
    ).scalar_one()
    data = {
        "WebhookId": hook["id"],
        "WebhookName": hook["name"],
        "Url": hook["url"],
        "FailingSince": failing_since.isoformat(),
        "LastError": outcome.error,
        "PendingDeliveries": pending,
    }
    await alerts.raise_alert(conn, hook["tenant_id"], alerts.WEBHOOK_DISABLED, data)


# ---- ping and custom events ------------------------------------------------------------------------


async def record_custom(
    conn: AsyncConnection, tenant_id: int, folder_id: int | None, user_id: int | None, data: Any
) -> dict[str, Any]:
    """TriggerCustom: a ``custom`` event in the outbox (delivered like any other); its CustomEventDto.
    Without an enabled webhook in the tenant nothing is written (``domain/events.py``) and the EventId
    is the time in milliseconds, as a ping's."""
    event_id = await events.record(
        conn, tenant_id, "custom", None, {"EventData": data, "UserId": user_id}, folder_id
    )
    now = utcnow()
    row = {
        "id": int(now.timestamp() * 1000) if event_id is None else event_id,
        "entity_key": None,
        "creation_time": now,
        "tenant_id": tenant_id,
        "folder_id": folder_id,
    }
    return {**envelope("custom", row, None, user_id), "EventData": data}


async def ping(
    db: Database, settings: Settings, tenant_id: int, webhook_id: int, user_id: int | None
) -> dict[str, Any]:
    """Sends a ping event to the webhook now (whether enabled or not); the attempt goes to its log."""
    async with db.read() as conn:
        row = await webhook(conn, tenant_id, webhook_id)
    now = utcnow()
    event = {
        "id": int(now.timestamp() * 1000),
        "entity_key": row["key"],
        "creation_time": now,
        "tenant_id": tenant_id,
        "folder_id": None,
    }
    dto = envelope(PING, event, None, user_id)
    body = orjson.dumps(dto)
    config = DeliveryConfig.from_env()
    sender = Sender(min(config.timeout, 10.0))
    try:
        outcome = await sender.post(
            row["url"], body, open_secret(keyring_for(settings), row), row["allow_insecure_ssl"]
        )
    finally:
        await sender.close()
    async with db.write() as conn:
        await conn.execute(
            insert(webhook_attempts).values(
                tenant_id=tenant_id,
                webhook_id=webhook_id,
                delivery_id=None,
                event_id=dto["EventId"],
                event_type=PING,
                time=now,
                success=outcome.success,
                status_code=outcome.status_code,
                duration_ms=outcome.duration_ms,
                error=outcome.error,
            )
        )
    return dto
