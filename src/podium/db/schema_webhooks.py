"""Tables of the Webhooks area (``domain/webhooks.py``, ``domain/webhook_delivery.py``).

``webhooks`` holds the subscriptions (WebhookDto): ``events`` is the JSON list of subscribed event types
(``[{"EventType": "job.started"}]``, as answered: a subscription holds a few dozen at most and is read
whole), ``secret`` is sealed at rest (``domain/sealed.py``). The delivery state of the subscriber lives
on its row too: ``failing_since`` (the first failure since the last success), ``next_attempt_time`` (the
back-off) and ``claimed_by``/``claimed_until`` (the server process sending its deliveries: one at a time,
so that they leave in order).

``webhook_deliveries`` is one event for one subscriber: the exact body sent (built once, so a retry or a
redelivery sends the same bytes and EventId), Pending until a 2xx answer, then Delivered.
``webhook_attempts`` is the delivery log: every POST made (status, duration, error), the newest kept.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)

from podium.db.schema import _id, _tenant, metadata
from podium.db.types import UTCDateTime

webhooks = Table(
    "webhooks",
    metadata,
    _id(),
    _tenant(),
    Column("key", String(36), nullable=False, unique=True),
    Column("name", String(256)),
    Column("description", String(500)),
    Column("url", String(2048), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("secret", Text),  # sealed
    Column("subscribe_to_all_events", Boolean, nullable=False, default=False),
    Column("allow_insecure_ssl", Boolean, nullable=False, default=False),
    Column("events", Text, nullable=False, default="[]"),
    Column("creation_time", UTCDateTime, nullable=False),
    Column("last_modification_time", UTCDateTime),
    Column("creator_user_id", BigInteger),
    Column("last_modifier_user_id", BigInteger),
    Column("failing_since", UTCDateTime),
    Column("next_attempt_time", UTCDateTime),
    Column("claimed_by", String(64)),
    Column("claimed_until", UTCDateTime),
)

# the outbox asks, for every event it writes, whether the tenant has an enabled webhook (domain/events.py)
Index("ix_webhooks_tenant_enabled", webhooks.c.tenant_id, webhooks.c.enabled)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    _id(),
    _tenant(),
    Column("webhook_id", BigInteger, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("event_time", UTCDateTime, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", SmallInteger, nullable=False, default=0),  # DeliveryStatus
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_attempt_time", UTCDateTime),
    Column("delivered_time", UTCDateTime),
)
Index(
    "ix_webhook_deliveries_queue",
    webhook_deliveries.c.webhook_id,
    webhook_deliveries.c.status,
    webhook_deliveries.c.event_time,
    webhook_deliveries.c.id,
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    _id(),
    _tenant(),
    Column("webhook_id", BigInteger, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("delivery_id", BigInteger, ForeignKey("webhook_deliveries.id", ondelete="CASCADE")),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("time", UTCDateTime, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("status_code", Integer),
    Column("duration_ms", Integer, nullable=False),
    Column("error", String(1024)),
)
Index("ix_webhook_attempts_webhook", webhook_attempts.c.webhook_id, webhook_attempts.c.id)
# the retention sweep (services/webhooks.py): what was delivered, and the log, oldest first
Index("ix_webhook_deliveries_delivered", webhook_deliveries.c.status, webhook_deliveries.c.delivered_time)
Index("ix_webhook_attempts_time", webhook_attempts.c.time)
Index("ix_webhook_attempts_delivery", webhook_attempts.c.delivery_id)
