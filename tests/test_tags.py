"""Tags (TagDto lists) on assets, buckets, machines, processes (releases), queues and triggers: kept
as sent (display names default to the names), left alone by a write without Tags, replaced by one with
Tags; malformed Tags are a 400 that changes nothing. Both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.factories import SHARED, create_queue, seed_machine, upload
from tests.package_builders import nupkg
from tests.support import Api, assert_error
from tests.test_process_schedules import release_id, trigger_body

TAGS = [{"Name": "team", "Value": "finance"}, {"Name": "critical", "DisplayName": "Critical"}]
ANSWERED = [
    {"Name": "team", "DisplayName": "team", "Value": "finance", "DisplayValue": "finance"},
    {"Name": "critical", "DisplayName": "Critical", "Value": None, "DisplayValue": None},
]
KINDS = ["Assets", "Buckets", "Machines", "Releases", "QueueDefinitions", "ProcessSchedules"]


def created_with_tags(api: Api, db: Engine, kind: str) -> dict[str, Any]:
    """One entity of ``kind`` made with TAGS (its folder is Shared where it has one)."""
    if kind == "QueueDefinitions":
        return create_queue(api, "tagged", Tags=TAGS)
    if kind == "ProcessSchedules":
        body = trigger_body(release_id(api, db), Tags=TAGS)
    elif kind == "Assets":
        body = {"Name": "tagged", "ValueScope": "Global", "ValueType": "Text", "StringValue": "x"}
        body["Tags"] = TAGS
    elif kind == "Releases":
        api.ok(upload(api, nupkg("tagged", "1.0.0"), name="tagged.1.0.0.nupkg"))
        body = {"Name": "tagged", "ProcessKey": "tagged", "ProcessVersion": "1.0.0", "Tags": TAGS}
    else:
        body = {"Name": "tagged", "Tags": TAGS}
    created: dict[str, Any] = api.ok(api.post(f"/odata/{kind}", body, folder=SHARED), 201)
    return created


def changed(api: Api, url: str, body: dict[str, Any]) -> None:
    response = api.patch(url, body, folder=SHARED)
    assert response.status_code in (200, 204), response.text


@pytest.mark.parametrize("kind", KINDS)
def test_tags_kept_replaced_and_checked(api: Api, db: Engine, kind: str) -> None:
    created = created_with_tags(api, db, kind)
    url = f"/odata/{kind}({created['Id']})"
    assert created["Tags"] == ANSWERED
    assert api.ok(api.get(url, folder=SHARED))["Tags"] == ANSWERED
    listed = api.ok(api.get(f"/odata/{kind}?$select=Id,Tags", folder=SHARED))["value"]
    assert {row["Id"]: row["Tags"] for row in listed}[created["Id"]] == ANSWERED

    # a write without Tags leaves them; one with Tags replaces them; [] clears them
    changed(api, url, {"Name": "tagged-2"})
    assert api.ok(api.get(url, folder=SHARED))["Tags"] == ANSWERED
    changed(api, url, {"Tags": [{"Name": "other"}]})
    other = [{"Name": "other", "DisplayName": "other", "Value": None, "DisplayValue": None}]
    assert api.ok(api.get(url, folder=SHARED))["Tags"] == other

    for bad in ("team", [{"Value": "no name"}], [{"Name": "x" * 513}], [{"Name": "t"}] * 101, [5]):
        assert_error(api.patch(url, {"Tags": bad, "Name": "renamed"}, folder=SHARED), 400)
    after = api.ok(api.get(url, folder=SHARED))
    assert after["Tags"] == other and after["Name"] == "tagged-2"  # nothing changed
    changed(api, url, {"Tags": []})
    assert api.ok(api.get(url, folder=SHARED))["Tags"] == []


def test_entities_made_without_tags_answer_an_empty_list(api: Api, db: Engine) -> None:
    seed_machine(api, db)  # a machine and release 'proc' written without Tags
    for kind in ("Machines", "Releases"):
        rows = api.ok(api.get(f"/odata/{kind}?$select=Id,Tags", folder=SHARED))["value"]
        assert rows and all(row["Tags"] == [] for row in rows)
