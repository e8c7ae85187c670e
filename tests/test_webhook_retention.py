"""Webhook retention (``webhook_delivery.sweep``, the ``webhook-retention`` service): delivered
deliveries and delivery-log rows older than the retention are deleted, newer ones kept, and a pending
delivery is kept whatever its age (it is still owed); ``days`` 0 keeps everything. Both backends."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from podium.db.engine import Database
from podium.db.schema_webhooks import webhook_attempts, webhook_deliveries, webhooks
from podium.domain import webhook_delivery
from podium.domain.webhooks import DeliveryStatus
from podium.outbound import ALLOW_PRIVATE_ENV
from tests.support import Api

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


def _seed(api: Api, db: Engine) -> int:
    body = {"Name": "r", "Url": "http://127.0.0.1:9/h", "Enabled": False}
    hook = api.ok(api.post("/odata/Webhooks", body), 201)
    with db.begin() as conn:
        tenant_id = conn.execute(select(webhooks.c.tenant_id).where(webhooks.c.id == hook["Id"])).scalar_one()
        rows = [  # (name, status, event time / delivered time)
            ("old-delivered", DeliveryStatus.Delivered, NOW - dt.timedelta(days=8)),
            ("new-delivered", DeliveryStatus.Delivered, NOW - dt.timedelta(days=6)),
            ("old-pending", DeliveryStatus.Pending, NOW - dt.timedelta(days=30)),
        ]
        for name, status, moment in rows:
            delivery_id = conn.execute(
                insert(webhook_deliveries)
                .values(
                    tenant_id=tenant_id,
                    webhook_id=hook["Id"],
                    event_id=name,
                    event_type="custom",
                    event_time=moment,
                    body="{}",
                    status=int(status),
                    attempts=1,
                    last_attempt_time=moment,
                    delivered_time=moment if status is DeliveryStatus.Delivered else None,
                )
                .returning(webhook_deliveries.c.id)
            ).scalar_one()
            conn.execute(
                insert(webhook_attempts).values(
                    tenant_id=tenant_id,
                    webhook_id=hook["Id"],
                    delivery_id=delivery_id,
                    event_id=name,
                    event_type="custom",
                    time=moment,
                    success=status is DeliveryStatus.Delivered,
                    status_code=200 if status is DeliveryStatus.Delivered else 500,
                    duration_ms=1,
                )
            )
    return int(hook["Id"])


def _kept(db: Engine) -> tuple[list[str], list[str]]:
    with db.connect() as conn:
        deliveries = conn.execute(select(webhook_deliveries.c.event_id).order_by(webhook_deliveries.c.id))
        attempts = conn.execute(select(webhook_attempts.c.event_id).order_by(webhook_attempts.c.id))
        return [r[0] for r in deliveries], [r[0] for r in attempts]


@pytest.fixture(autouse=True)
def _local_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "1")


def test_old_delivered_deliveries_and_log_rows_go_pending_ones_stay(
    api: Api, db: Engine, database_url: str
) -> None:
    _seed(api, db)
    before = _kept(db)
    assert before == (["old-delivered", "new-delivered", "old-pending"],) * 2

    async def sweep(days: float) -> int:
        database = Database(database_url)
        try:
            return await webhook_delivery.sweep(database, NOW, days)
        finally:
            await database.dispose()

    assert asyncio.run(sweep(0)) == 0  # 0 keeps everything
    assert _kept(db) == before
    assert asyncio.run(sweep(7)) >= 1
    # the pending delivery stays (still owed); its 30-day-old failed attempt is log, and goes
    assert _kept(db) == (["new-delivered", "old-pending"], ["new-delivered"])
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(webhook_deliveries)).scalar_one() == 2
    assert asyncio.run(sweep(7)) == 0  # nothing more to do
