"""A machine's key connects as its robots (``/api/robot/connect``), whose tokens read their folders'
credentials in clear: ``Key`` and ``LicenseKey`` (and a log entry's ``MachineKey``) are answered only to
callers who may edit machines (``Machines.Edit``); everyone else reads null, in lists, single reads,
``$select``, ``$expand`` and the Sessions functions, and ``$filter``/``$orderby`` see null too. The
create answer shows the keys and the client secret to the machine's creator, once."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from tests.factories import seed_machine, user_with
from tests.robots.helpers import connect
from tests.support import Api

NS = "UiPath.Server.Configuration.OData"
KEYS = ("Key", "LicenseKey")


def _keys(dto: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(dto[name] for name in KEYS)


def _machines(api: Api, token: str, query: str = "") -> list[dict[str, Any]]:
    return list(api.ok(api.get(f"/odata/Machines{query}", token=token))["value"])


def _served_machines(api: Api, token: str, machine_id: int) -> list[dict[str, Any]]:
    """The machine as every read path serves it to the caller."""
    served = _machines(api, token)
    served.append(api.ok(api.get(f"/odata/Machines({machine_id})", token=token)))
    served += _machines(api, token, "?$select=Name,Key,LicenseKey&$orderby=Key")
    robots = api.ok(api.get("/odata/Robots?$expand=Machine", token=token))["value"]
    served += [robot["Machine"] for robot in robots]
    for path in ("/odata/Sessions", f"/odata/Sessions/{NS}.GetMachineSessions(key={machine_id})"):
        expand = "$expand=Robot($expand=Machine($select=Key,LicenseKey))"
        sessions = api.ok(api.get(f"{path}?{expand}", token=token))
        served += [session["Robot"]["Machine"] for session in sessions["value"]]
    return served


def test_only_callers_who_may_edit_machines_read_their_keys(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db)
    [robot] = connect(api, machine)  # the key connects; the robot logs a line (its entry names the machine)
    log = {"message": "hello", "level": "Info", "timeStamp": "2024-01-01T00:00:00Z"}
    api.ok(api.client.post("/api/Logs", json=log, headers=robot.headers()), 204)
    viewer = user_with(api, "viewer", ["Machines.View", "Robots.View", "Logs.View"])
    editor = user_with(api, "editor", ["Machines.View", "Machines.Edit", "Robots.View", "Logs.View"])

    hidden = _served_machines(api, viewer, machine["Id"])
    assert len(hidden) == 6 and all(_keys(dto) == (None, None) for dto in hidden)
    shown = _served_machines(api, editor, machine["Id"]) + _served_machines(api, api.token, machine["Id"])
    assert len(shown) == 12 and all(_keys(dto) == (machine["Key"], machine["Key"]) for dto in shown)

    [entry] = api.ok(api.get("/odata/RobotLogs", token=viewer))["value"]
    assert entry["MachineKey"] is None and entry["MachineId"] == machine["Id"]
    [entry] = api.ok(api.get("/odata/RobotLogs", token=editor))["value"]
    assert entry["MachineKey"]  # (robot_logs.RobotSources keeps a robot's machine per robot id, per process)


def test_filters_and_orders_see_a_withheld_key_as_null(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db)
    viewer = user_with(api, "viewer", ["Machines.View"])
    key = machine["Key"]
    for name in KEYS:  # no comparison or function tells a viewer anything about the key
        assert _machines(api, viewer, f"?$filter={name} eq '{key}'") == []
        assert _machines(api, viewer, f"?$filter=startswith({name},'{key[0]}')") == []
        assert _machines(api, viewer, f"?$filter=length({name}) gt 0") == []
        assert [m["Id"] for m in _machines(api, viewer, f"?$filter={name} eq null")] == [machine["Id"]]
        assert [m["Id"] for m in _machines(api, api.token, f"?$filter={name} eq '{key}'")] == [machine["Id"]]
    robots = api.ok(api.get(f"/odata/Robots?$filter=Machine/Key eq '{key}'", token=api.token))["value"]
    assert len(robots) == 1
    robot_viewer = user_with(api, "robot-viewer", ["Robots.View"])
    assert api.ok(api.get(f"/odata/Robots?$filter=Machine/Key eq '{key}'", token=robot_viewer))["value"] == []


def test_the_creator_is_shown_the_keys_once(api: Api) -> None:
    creator = user_with(api, "creator", ["Machines.View", "Machines.Create"])
    created = api.ok(api.post("/odata/Machines", {"Name": "M2", "Type": "Standard"}, token=creator), 201)
    key = created["Key"]
    assert key and created["LicenseKey"] == key and created["ClientId"] == key and created["ClientSecret"]
    [listed] = _machines(api, creator)
    assert _keys(listed) == (None, None) and "ClientSecret" in listed and listed["ClientSecret"] is None
    [listed] = _machines(api, api.token)
    assert _keys(listed) == (key, key) and listed["ClientSecret"] is None
