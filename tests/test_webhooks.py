"""Webhooks (``/odata/Webhooks``, ``domain/webhooks.py``): CRUD and PATCH with a write-only sealed
secret, GetEventTypes, permissions, bad input refused with nothing stored."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from podium.db.schema_webhooks import webhooks
from podium.domain.webhooks import NAMES
from podium.outbound import ALLOW_PRIVATE_ENV
from tests.factories import user_with
from tests.support import Api, assert_error

NS = "UiPath.Server.Configuration.OData"
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


@pytest.fixture(autouse=True)
def _local_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "1")


def stored(db: Engine) -> list[dict[str, object]]:
    with db.connect() as conn:
        return [dict(row) for row in conn.execute(select(webhooks)).mappings()]


def test_create_read_edit_delete(api: Api, db: Engine) -> None:
    body = {
        "Name": "ops",
        "Url": "http://127.0.0.1:9/hook",
        "Secret": "s3cret",
        "Events": [{"EventType": "job.started"}, {"EventType": "job.faulted"}],
    }
    created = api.ok(api.post("/odata/Webhooks", body), 201)
    assert created["Url"] == body["Url"] and created["Name"] == "ops" and created["Enabled"] is True
    assert created["Secret"] is None and created["SubscribeToAllEvents"] is False
    assert created["AllowInsecureSsl"] is False and created["Key"] and isinstance(created["Id"], int)
    assert created["Events"] == body["Events"]
    row = stored(db)[0]
    assert str(row["secret"]).startswith("pe1:") and "s3cret" not in str(row["secret"])

    key = created["Id"]
    fetched = api.ok(api.get(f"/odata/Webhooks({key})"))
    assert fetched["Secret"] is None and fetched["Events"] == body["Events"]
    listed = api.ok(api.get("/odata/Webhooks?$filter=Name eq 'ops'"))["value"]
    assert [w["Id"] for w in listed] == [key]

    patched = api.ok(
        api.client.patch(f"/odata/Webhooks({key})", json={"Enabled": False}, headers=api.headers())
    )
    assert patched["Enabled"] is False and patched["Events"] == body["Events"]
    put = {"Url": "https://example.org/x", "SubscribeToAllEvents": True, "Events": [], "Enabled": True}
    replaced = api.ok(api.put(f"/odata/Webhooks({key})", put))
    assert replaced["Url"] == "https://example.org/x" and replaced["SubscribeToAllEvents"] is True
    assert replaced["Events"] == [] and replaced["Enabled"] is True
    assert stored(db)[0]["secret"] == row["secret"]  # not in the body: kept
    api.ok(api.client.patch(f"/odata/Webhooks({key})", json={"Secret": None}, headers=api.headers()))
    assert stored(db)[0]["secret"] is None

    assert api.delete(f"/odata/Webhooks({key})").status_code == 204
    assert stored(db) == []


def test_event_types(api: Api) -> None:
    types = api.ok(api.get(f"/odata/Webhooks/{NS}.GetEventTypes"))["value"]
    names = {t["Name"] for t in types}
    assert {"job.started", "queueItem.transactionCompleted", "robot.status", "custom"} <= names
    assert names == NAMES and all(t["Group"] for t in types)


@pytest.mark.parametrize(
    "body",
    [
        {"Url": "ftp://127.0.0.1/x"},
        {"Url": "not a url"},
        {"Url": "http://user:pw@127.0.0.1/x"},
        {},
        {"Url": "http://127.0.0.1/x", "Events": [{"EventType": "job.exploded"}]},
        {"Url": "http://127.0.0.1/x", "Events": [{"Type": "job.started"}]},
        {"Url": "http://127.0.0.1/x", "Events": "job.started"},
        {"Url": "http://127.0.0.1/x", "Secret": "x" * 257},
        {"Url": "http://127.0.0.1/x", "Secret": 12},
        {"Url": "http://127.0.0.1/x", "Unknown": 1},
    ],
)
def test_bad_input_stores_nothing(api: Api, db: Engine, body: dict[str, object]) -> None:
    assert_error(api.post("/odata/Webhooks", body), 400)
    assert stored(db) == []


def test_bad_edits_change_nothing(api: Api, db: Engine) -> None:
    key = api.ok(api.post("/odata/Webhooks", {"Url": "http://127.0.0.1/x", "Secret": "x" * 256}), 201)["Id"]
    before = stored(db)
    for change in ({"Url": "file:///etc/passwd"}, {"Events": [{"EventType": "nope"}]}, {"Secret": "y" * 300}):
        assert_error(api.client.patch(f"/odata/Webhooks({key})", json=change, headers=api.headers()), 400)
    assert stored(db) == before
    assert_error(api.get("/odata/Webhooks(999999)"), 404)


def test_private_targets_need_the_setting(api: Api, db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_PRIVATE_ENV)
    for url in ("http://127.0.0.1:8080/x", "http://169.254.169.254/latest", "http://10.0.0.1/"):
        assert_error(api.post("/odata/Webhooks", {"Url": url}), 400)
    assert stored(db) == []


def test_permissions(api: Api, db: Engine) -> None:
    viewer = user_with(api, "viewer", ["Webhooks.View"])
    editor = user_with(api, "editor", ["Webhooks.View", "Webhooks.Edit"])
    assert_error(api.post("/odata/Webhooks", {"Url": "http://127.0.0.1/x"}, token=viewer), 403)
    key = api.ok(api.post("/odata/Webhooks", {"Url": "http://127.0.0.1/x"}), 201)["Id"]
    assert api.ok(api.get("/odata/Webhooks", token=viewer))["value"][0]["Id"] == key
    assert api.ok(api.get(f"/odata/Webhooks/{NS}.GetEventTypes", token=viewer))["value"]
    assert_error(api.put(f"/odata/Webhooks({key})", {"Enabled": False}, token=viewer), 403)
    assert api.ok(api.put(f"/odata/Webhooks({key})", {"Enabled": False}, token=editor))["Enabled"] is False
    assert_error(api.delete(f"/odata/Webhooks({key})", token=editor), 403)
    assert_error(api.post(f"/odata/Webhooks/{NS}.TriggerCustom", {"a": 1}, token=editor), 403)
    nobody = user_with(api, "nobody", ["Robots.View"])
    assert_error(api.get("/odata/Webhooks", token=nobody), 403)
    assert len(stored(db)) == 1
