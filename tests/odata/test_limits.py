"""Query options and values at the edges of what the database holds: a 400, never a 500."""

from __future__ import annotations

import pytest

from tests.support import Api, assert_error

LONG_OPTIONS = [
    "$select=" + ",".join(["Id"] * 2000),
    "$select=" + ",".join(f"P{n}" for n in range(1700)),
    "$orderby=" + ",".join(["Id"] * 2000),
    "$expand=" + ",".join(["Robot"] * 2000),
    "$filter=" + " or ".join(["Id eq 1"] * 3000),
]


@pytest.mark.parametrize("option", LONG_OPTIONS, ids=lambda o: o[:20])
def test_huge_option_lists_are_refused(api: Api, option: str) -> None:
    response = api.get(f"/odata/Jobs?{option}")
    assert_error(response, 400)


def test_a_repeated_select_is_answered_once(api: Api) -> None:
    body = api.ok(api.get("/odata/Jobs?$select=Id,Id,State"))
    assert body["value"] == []


@pytest.mark.parametrize("slots", [2**31, -(2**31) - 1, 2**63, 2**64])
def test_integers_beyond_their_column_are_refused(api: Api, slots: int) -> None:
    response = api.post("/odata/Machines", {"Name": "M1", "UnattendedSlots": slots})
    assert_error(response, 400)
    assert api.ok(api.get("/odata/Machines"))["value"] == []


def test_the_largest_int32_fits(api: Api) -> None:
    created = api.ok(api.post("/odata/Machines", {"Name": "M1", "UnattendedSlots": 2**31 - 1}), 201)
    assert created["UnattendedSlots"] == 2**31 - 1


@pytest.mark.parametrize("depth", [255, 300, 5000])
def test_deeply_nested_json_is_refused(api: Api, depth: int) -> None:
    api.ok(api.post("/odata/QueueDefinitions", {"Name": "deep"}, folder="Shared"), 201)
    nested = "[" * depth + "]" * depth
    body = '{"itemData": {"Name": "deep", "SpecificContent": {"x": ' + nested + "}}}"
    response = api.client.post(
        "/odata/Queues/UiPathODataSvc.AddQueueItem",
        content=body,
        headers={**api.headers("Shared"), "Content-Type": "application/json"},
    )
    assert_error(response, 400)


def test_nesting_within_the_limit_is_kept(api: Api) -> None:
    api.ok(api.post("/odata/QueueDefinitions", {"Name": "deep"}, folder="Shared"), 201)
    nested: object = []
    for _ in range(200):
        nested = [nested]
    item = {"itemData": {"Name": "deep", "SpecificContent": {"x": nested}}}
    api.ok(api.post("/odata/Queues/UiPathODataSvc.AddQueueItem", item, folder="Shared"), 201)
