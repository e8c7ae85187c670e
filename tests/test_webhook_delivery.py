"""Webhook delivery (``domain/webhook_events.py``, ``domain/webhook_delivery.py``): a real local HTTP
receiver checks the signature, fails a while then answers, gets every event in order; redelivery; the
delivery log; a subscriber failing for the whole retry window is disabled with an alert (injected
clock). Rounds are driven here (fan-out, claim, serve) instead of by the background services."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from podium.config import Settings
from podium.db.engine import Database
from podium.db.schema_audit import alert_notifications
from podium.domain import webhook_delivery, webhook_events
from podium.domain.webhook_delivery import DeliveryConfig, Outcome, Sender
from podium.outbound import ALLOW_PRIVATE_ENV
from tests.support import SIGNING_KEY, Api, assert_error

NS = "UiPath.Server.Configuration.OData"
SECRET = "top-secret"
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


@pytest.fixture(autouse=True)
def _local_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "1")


class Receiver:
    """A local HTTP endpoint: answers 500 to the first ``failures`` requests, then 200."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[int, dict[str, Any], bool]] = []  # (status answered, body, signature ok)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                expected = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()).decode()
                ok = self.headers.get("X-UiPath-Signature") == expected
                status = 500 if receiver.failures > 0 else 200
                receiver.failures -= 1
                receiver.received.append((status, json.loads(raw), ok))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self) -> list[dict[str, Any]]:
        return [body for status, body, _ in self.received if status == 200]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver(failures=2)
    yield found
    found.server.shutdown()
    found.server.server_close()


class FailingSender:
    async def post(self, url: str, body: bytes, secret: str | None, insecure: bool) -> Outcome:
        return Outcome(False, None, 1, "ConnectError: refused")

    async def close(self) -> None:
        pass


def pump(url: str, data_dir: Any, sender: Any, config: DeliveryConfig, now: dt.datetime | None = None) -> int:
    """One fan-out and one delivery round (the services' work), on a connection pool of its own."""

    async def go() -> int:
        db = Database(url)
        settings = Settings(data_dir=data_dir, database_url=url, secret_key=SIGNING_KEY)
        clock = (lambda: now) if now is not None else webhook_delivery.utcnow
        post = sender if sender is not None else Sender(config.timeout)
        try:
            while True:
                async with db.write() as conn:
                    taken, _ = await webhook_events.fan_out(conn)
                if taken == 0:
                    break
            sent = 0
            for webhook_id in await webhook_delivery.claim(db, "test", clock(), 10, config.claim_ttl):
                sent += await webhook_delivery.serve(db, settings, post, config, "test", webhook_id, clock)
            return sent
        finally:
            await post.close()
            await db.dispose()

    return asyncio.run(go())


def test_receiver_down_then_up_gets_every_event_signed_in_order(
    api: Api, database_url: str, tmp_path: Any, receiver: Receiver
) -> None:
    body = {"Name": "r", "Url": receiver.url, "Secret": SECRET, "SubscribeToAllEvents": True}
    hook = api.ok(api.post("/odata/Webhooks", body), 201)
    custom = [api.ok(api.post(f"/odata/Webhooks/{NS}.TriggerCustom", {"n": n})) for n in range(3)]
    assert custom[0]["Type"] == "custom" and custom[0]["EventData"] == {"n": 0}
    api.ok(api.post("/odata/QueueDefinitions", {"Name": "q1"}, folder="Shared"), 201)

    config = DeliveryConfig(timeout=5.0, first_retry=0.0)
    for _ in range(6):
        if len(receiver.delivered()) >= 4:
            break
        pump(database_url, tmp_path, None, config)
    delivered = receiver.delivered()
    assert [b["Type"] for b in delivered] == ["custom", "custom", "custom", "queue.created"]
    assert [b["EventData"] for b in delivered[:3]] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert [b["EventId"] for b in delivered[:3]] == [c["EventId"] for c in custom]
    ids = [int(b["EventId"]) for b in delivered]
    assert ids == sorted(ids)
    queue = delivered[3]
    assert queue["Queues"][0]["Name"] == "q1" and queue["OrganizationUnitId"] and queue["TenantId"]
    assert len(queue["Timestamp"]) == len("2026-01-01T00:00:00.0000000Z")
    assert all(ok for _, _, ok in receiver.received)  # every request signed
    assert [status for status, _, _ in receiver.received[:2]] == [500, 500]

    log = api.ok(api.get(f"/odata/Webhooks({hook['Id']})/{NS}.GetDeliveries"))["value"]
    assert [a["Success"] for a in reversed(log)] == [False, False, True, True, True, True]
    assert log[-1]["StatusCode"] == 500 and log[-1]["Error"] == "HTTP 500" and log[0]["DurationMs"] >= 0

    again = api.ok(
        api.post(f"/odata/Webhooks({hook['Id']})/{NS}.Redeliver", {"EventId": custom[1]["EventId"]})
    )
    assert again["value"] == 1
    pump(database_url, tmp_path, None, config)
    assert receiver.delivered()[-1]["EventId"] == custom[1]["EventId"]
    assert api.post(f"/odata/Webhooks({hook['Id']})/{NS}.Redeliver", {"EventId": "0"}).status_code == 404

    cut = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # everything since a time, again
    later = [api.ok(api.post(f"/odata/Webhooks/{NS}.TriggerCustom", {"n": n}))["EventId"] for n in (10, 11)]
    pump(database_url, tmp_path, None, config)
    assert [b["EventId"] for b in receiver.delivered()[-2:]] == later
    again = api.ok(api.post(f"/odata/Webhooks({hook['Id']})/{NS}.Redeliver", {"Since": cut}))
    assert again["value"] == 2
    pump(database_url, tmp_path, None, config)
    assert [b["EventId"] for b in receiver.delivered()[-4:]] == later + later
    assert_error(api.post(f"/odata/Webhooks({hook['Id']})/{NS}.Redeliver", {}), 400)

    ping = api.ok(api.post(f"/odata/Webhooks({hook['Id']})/{NS}.Ping"))
    assert ping["Type"] == "ping" and receiver.received[-1][1]["Type"] == "ping" and receiver.received[-1][2]


def test_failing_for_the_whole_window_disables_with_an_alert(
    api: Api, db: Engine, database_url: str, tmp_path: Any
) -> None:
    hook = api.ok(
        api.post("/odata/Webhooks", {"Url": "http://127.0.0.1:9/x", "Events": [{"EventType": "custom"}]}), 201
    )
    api.ok(api.post(f"/odata/Webhooks/{NS}.TriggerCustom", {"a": 1}))
    config = DeliveryConfig(retry_window=3600.0, first_retry=60.0)
    start = webhook_delivery.utcnow()
    assert pump(database_url, tmp_path, FailingSender(), config, start) == 0
    # backing off: nothing is due a second later
    assert asyncio.run(_claimable(database_url, start + dt.timedelta(seconds=1))) == []
    assert api.ok(api.get(f"/odata/Webhooks({hook['Id']})"))["Enabled"] is True
    pump(database_url, tmp_path, FailingSender(), config, start + dt.timedelta(seconds=3601))
    assert api.ok(api.get(f"/odata/Webhooks({hook['Id']})"))["Enabled"] is False
    with db.connect() as conn:
        names = conn.execute(select(alert_notifications.c.notification_name)).scalars().all()
    assert "Webhook.Disabled" in names
    log = api.ok(api.get(f"/odata/Webhooks({hook['Id']})/{NS}.GetDeliveries"))["value"]
    assert len(log) == 2 and not any(a["Success"] for a in log)


async def _claimable(url: str, now: dt.datetime) -> list[int]:
    db = Database(url)
    try:
        return await webhook_delivery.claim(db, "probe", now, 10, dt.timedelta(seconds=1))
    finally:
        await db.dispose()


def test_payloads_of_jobs_and_queue_items(api: Api, db: Engine, database_url: str, tmp_path: Any) -> None:
    from podium.db.schema_webhooks import webhook_deliveries
    from tests.factories import create_queue, seed_machine, start_jobs
    from tests.queue_helpers import add_item, result, start

    api.ok(api.post("/odata/Webhooks", {"Url": "http://127.0.0.1:9/x", "SubscribeToAllEvents": True}), 201)
    seed_machine(api, db)
    job = start_jobs(api)[0]
    create_queue(api)
    add_item(api, Reference="r1", SpecificContent={"n": 1})
    taken = start(api)
    assert result(api, taken["Id"], IsSuccessful=True, Output={"ok": 1}).status_code == 200
    pump(database_url, tmp_path, FailingSender(), DeliveryConfig(), webhook_delivery.utcnow())
    with db.connect() as conn:
        bodies = [
            json.loads(b)
            for b in conn.execute(
                select(webhook_deliveries.c.body).order_by(webhook_deliveries.c.id)
            ).scalars()
        ]
    by_type = {b["Type"]: b for b in bodies}
    created = by_type["job.created"]
    assert created["Jobs"][0]["Key"] == job["Key"] and created["StartInfo"]["JobsCount"] == 1
    assert created["OrganizationUnitId"] and created["OrganizationUnitKey"]
    added = by_type["queueItem.added"]
    assert added["Queue"]["Name"] == "invoices" and added["QueueItems"][0]["Reference"] == "r1"
    begun = by_type["queueItem.transactionStarted"]
    assert begun["QueueItem"]["Status"] == "InProgress" and begun["QueueItem"]["SpecificContent"] == {"n": 1}
    done = by_type["queueItem.transactionCompleted"]
    assert done["QueueItem"]["Status"] == "Successful" and done["QueueItem"]["Output"] == {"ok": 1}
    assert by_type["queue.created"]["Queues"][0]["Name"] == "invoices"
    assert by_type["robot.created"]["Robots"][0]["Name"]
    assert all(b["EventId"].isdigit() and b["TenantId"] for b in bodies)


def test_events_of_tenants_without_webhooks_are_dispatched_without_deliveries(
    api: Api, database_url: str, db: Engine, tmp_path: Any, receiver: Receiver
) -> None:
    """They are marked dispatched, batch after batch, and become no delivery (their payload could not
    even be rendered); the subscribing tenant's event is delivered as usual."""
    from sqlalchemy import func, insert

    from podium.db.schema import events
    from podium.db.schema_webhooks import webhook_deliveries

    receiver.failures = 0
    body = {"Name": "r", "Url": receiver.url, "Secret": SECRET, "SubscribeToAllEvents": True}
    api.ok(api.post("/odata/Webhooks", body), 201)
    moment = dt.datetime.now(dt.UTC)
    unheard = [
        {"tenant_id": 987_654, "type": "custom", "payload": "{not json", "creation_time": moment}
        for _ in range(webhook_events.BATCH + 3)  # more than one batch
    ]
    with db.begin() as conn:
        conn.execute(insert(events), unheard)
    api.ok(api.post(f"/odata/Webhooks/{NS}.TriggerCustom", {"n": 7}))
    pump(database_url, tmp_path, None, DeliveryConfig(timeout=5.0, first_retry=0.0))
    assert [b["EventData"] for b in receiver.delivered()] == [{"n": 7}]
    with db.connect() as conn:
        waiting = conn.scalar(select(func.count()).select_from(events).where(events.c.dispatched.is_(False)))
        deliveries = conn.scalar(select(func.count()).select_from(webhook_deliveries))
    assert waiting == 0 and deliveries == 1


def test_events_are_not_stored_while_the_tenant_has_no_enabled_webhook(api: Api, db: Engine) -> None:
    """Written one by one (a queue created), several at once (jobs started) and by the queue hot path
    (a transaction pair): only while the tenant has an enabled webhook (pending then); TriggerCustom
    still answers its CustomEventDto."""
    from sqlalchemy import delete

    from podium.db.schema import events
    from tests.factories import release

    shared = api.ok(api.get("/odata/Folders?$filter=DisplayName eq 'Shared'"))["value"][0]["Id"]
    release(api, shared, "proc")
    svc = "/odata/Queues/UiPathODataSvc"

    def outbox() -> list[tuple[str, bool]]:
        with db.begin() as conn:
            found = [(r.type, r.dispatched) for r in conn.execute(select(events).order_by(events.c.id))]
            conn.execute(delete(events))
        return found

    def activity(name: str) -> None:
        outbox()
        api.ok(api.post("/odata/QueueDefinitions", {"Name": name}, folder="Shared"), 201)
        item = {"itemData": {"Name": name, "SpecificContent": {}}}
        api.ok(api.post(f"{svc}.AddQueueItem", item, folder="Shared"), 201)
        claim = {"transactionData": {"Name": name}}
        started = api.ok(api.post(f"{svc}.StartTransaction", claim, folder="Shared"))
        result = {"transactionResult": {"IsSuccessful": True}}
        path = f"/odata/Queues({started['Id']})/{svc.rsplit('/', 1)[1]}.SetTransactionResult"
        assert api.post(path, result, folder="Shared").status_code == 200
        start = {"startInfo": {"ReleaseName": "proc", "Strategy": "ModernJobsCount", "JobsCount": 2}}
        api.ok(api.post(f"/odata/Jobs/{NS}.StartJobs", start, folder="Shared"))

    expected = {"queueitem.inprogress", "queueitem.successful", "job.created"}
    activity("q-unheard")
    custom = api.ok(api.post(f"/odata/Webhooks/{NS}.TriggerCustom", {"n": 1}))
    assert custom["Type"] == "custom" and custom["EventData"] == {"n": 1} and custom["EventId"].isdigit()
    assert outbox() == []

    body = {"Name": "r", "Url": "http://127.0.0.1:9/hook", "SubscribeToAllEvents": True}
    hook = api.ok(api.post("/odata/Webhooks", body), 201)
    activity("q-heard")
    heard = outbox()
    assert expected <= {kind for kind, _ in heard} and not any(dispatched for _, dispatched in heard)

    api.ok(api.put(f"/odata/Webhooks({hook['Id']})", {"Enabled": False}))
    activity("q-disabled")
    assert outbox() == []
