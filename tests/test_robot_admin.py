"""Robots and machines across folders and in bulk (issue 15): FindAllAcrossFolders, GetFolderRobots,
GetRobotsFromFolder, GetRobotsForProcess, GetUsernames, GetMachineNameToLicenseKeyMappings, robots'
DeleteBulk and ToggleEnabledStatus; machines' GetAssignedMachines, GetRuntimesForFolder, DeleteBulk.
Refusals change nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine

from podium.db.schema_folders import folder_machines
from tests.factories import NS, seed_machine, start_jobs, user_with
from tests.robots.helpers import connect
from tests.support import Api, assert_error

ROBOTS = f"/odata/Robots/{NS}"
MACHINES = f"/odata/Machines/{NS}"


def names(answer: Any) -> list[str]:
    return sorted(row["Name"] for row in answer["value"])


def two_folders(api: Api, db: Engine) -> dict[str, Any]:
    """M1 with robots M1-robot-0/1 in Shared (release 'proc' there), M2 with M2-robot-0 in folder Ops."""
    m1 = seed_machine(api, db, robots=2, name="M1")
    ops = api.ok(api.post("/odata/Folders", {"DisplayName": "Ops"}), 201)
    m2 = api.ok(api.post("/odata/Machines", {"Name": "M2"}), 201)
    body = {"Name": "M2-robot-0", "MachineId": m2["Id"], "Type": "Unattended", "Username": "m2\\r0"}
    r2 = api.ok(api.post("/odata/Robots", body, folder=ops["Id"]), 201)
    ids = {row["Name"]: row["Id"] for row in api.ok(api.get("/odata/Robots"))["value"]}
    return {"m1": m1, "m2": m2, "ops": ops, "r2": r2, "ids": ids, "shared": api.tenant.shared_folder_id}


def test_robots_across_folders(api: Api, db: Engine) -> None:
    s = two_folders(api, db)
    everything = api.ok(api.get(f"{ROBOTS}.FindAllAcrossFolders?$orderby=Name&$count=true"))
    assert names(everything) == ["M1-robot-0", "M1-robot-1", "M2-robot-0"] and everything["@odata.count"] == 3
    ops_viewer = user_with(api, "opsview", ["Robots.View"], folder=s["ops"]["Id"])
    assert names(api.ok(api.get(f"{ROBOTS}.FindAllAcrossFolders", token=ops_viewer))) == ["M2-robot-0"]
    nobody = user_with(api, "nobody", ["Jobs.View"])
    assert_error(api.get(f"{ROBOTS}.FindAllAcrossFolders", token=nobody), 403)
    # GetConfiguredRobots: the robots declared Automatic, in the folders the caller sees
    assert api.ok(api.get(f"{ROBOTS}.GetConfiguredRobots"))["value"] == []
    for name in ("M1-robot-1", "M2-robot-0"):
        robot_id = s["ids"][name]
        api.ok(
            api.client.patch(
                f"/odata/Robots({robot_id})", json={"ProvisionType": "Automatic"}, headers=api.headers()
            )
        )
    assert names(api.ok(api.get(f"{ROBOTS}.GetConfiguredRobots"))) == ["M1-robot-1", "M2-robot-0"]
    assert names(api.ok(api.get(f"{ROBOTS}.GetConfiguredRobots", token=ops_viewer))) == ["M2-robot-0"]
    assert_error(api.get(f"{ROBOTS}.GetConfiguredRobots", token=nobody), 403)

    shared, m1, m2 = s["shared"], s["m1"]["Id"], s["m2"]["Id"]
    on_m1 = api.ok(api.get(f"{ROBOTS}.GetFolderRobots(folderId={shared},machineId={m1})"))
    assert names(on_m1) == ["M1-robot-0", "M1-robot-1"]
    assert api.ok(api.get(f"{ROBOTS}.GetFolderRobots(folderId={shared},machineId={m2})"))["value"] == []
    filtered = api.ok(
        api.get(f"{ROBOTS}.GetFolderRobots(folderId={shared},machineId={m1})?$filter=endswith(Name,'1')")
    )
    assert names(filtered) == ["M1-robot-1"]
    # Robots.View in Ops only: Shared's robots are refused, Ops' answered
    assert_error(
        api.get(f"{ROBOTS}.GetFolderRobots(folderId={shared},machineId={m1})", token=ops_viewer), 403
    )
    from_ops = api.ok(api.get(f"{ROBOTS}.GetRobotsFromFolder(folderId={s['ops']['Id']})", token=ops_viewer))
    [robot] = from_ops["value"]
    assert robot["Name"] == "M2-robot-0" and robot["UserType"] == "Robot" and robot["MachineId"] == m2
    assert api.ok(api.get(f"{ROBOTS}.GetRobotsFromFolder(folderId={shared})?machineId={m2}"))["value"] == []
    assert_error(api.get(f"{ROBOTS}.GetRobotsFromFolder(folderId=987654)"), 400)
    assert_error(api.get(f"{ROBOTS}.GetFolderRobots(folderId={shared},machineId='x')"), 400)

    # release 'proc' lives in Shared: Shared's robots can run it
    assert names(api.ok(api.get(f"{ROBOTS}.GetRobotsForProcess(processId='proc')"))) == [
        "M1-robot-0",
        "M1-robot-1",
    ]
    assert api.ok(api.get(f"{ROBOTS}.GetRobotsForProcess(processId='proc')", token=ops_viewer))["value"] == []
    assert api.ok(api.get(f"{ROBOTS}.GetRobotsForProcess(processId='other')"))["value"] == []

    usernames = api.ok(api.get(f"{ROBOTS}.GetUsernames"))["value"]
    assert usernames == sorted(usernames) and {"m1\\r0", "m1\\r1", "m2\\r0"} <= set(usernames)
    assert_error(api.get(f"{ROBOTS}.GetUsernames", token=nobody), 403)

    pairs = api.ok(api.get(f"{ROBOTS}.GetMachineNameToLicenseKeyMappings"))["value"]
    keys = {pair["Key"]: pair["Value"] for pair in pairs}
    assert keys["M1"] == s["m1"]["LicenseKey"] and keys["M2"] == s["m2"]["LicenseKey"]
    mappings = f"{ROBOTS}.GetMachineNameToLicenseKeyMappings"
    only_m2 = api.ok(api.get(mappings, params={"$filter": "Key eq 'M2'"}))
    assert only_m2["value"] == [{"Key": "M2", "Value": s["m2"]["LicenseKey"]}]
    assert only_m2["@odata.count"] == 1
    viewer = user_with(api, "viewer", ["Robots.View", "Machines.View"])
    assert_error(api.get(f"{ROBOTS}.GetMachineNameToLicenseKeyMappings", token=viewer), 403)


def enabled(api: Api) -> dict[str, bool]:
    return {row["Name"]: row["Enabled"] for row in api.ok(api.get("/odata/Robots"))["value"]}


def test_robots_in_bulk(api: Api, db: Engine) -> None:
    s = two_folders(api, db)
    r0, r1, r2 = (s["ids"][n] for n in ("M1-robot-0", "M1-robot-1", "M2-robot-0"))
    toggle = f"{ROBOTS}.ToggleEnabledStatus"
    assert_error(api.post(toggle, {"robotIds": [r0, 987654], "enabled": False}), 404)
    assert_error(api.post(toggle, {"robotIds": [r0], "enabled": "no"}), 400)
    assert_error(api.post(toggle, {"robotIds": [], "enabled": False}), 400)
    viewer = user_with(api, "viewer", ["Robots.View"])
    assert_error(api.post(toggle, {"robotIds": [r0], "enabled": False}, token=viewer), 403)
    assert set(enabled(api).values()) == {True}
    api.ok(api.post(toggle, {"robotIds": [r0, r1], "enabled": False}))
    assert enabled(api) == {"M1-robot-0": False, "M1-robot-1": False, "M2-robot-0": True}
    api.ok(api.post(toggle, {"robotIds": [r1], "enabled": True}))
    assert enabled(api)["M1-robot-1"] is True

    delete = f"{ROBOTS}.DeleteBulk"
    assert_error(api.post(delete, {"robotIds": [r0, 987654]}), 404)
    assert_error(api.post(delete, {"robotIds": "all"}), 400)
    assert_error(api.post(delete, {"robotIds": [r0]}, token=viewer), 403)
    assert len(enabled(api)) == 3  # nothing deleted
    api.ok(api.post(delete, {"robotIds": [r0, r1]}), 204)
    assert list(enabled(api)) == ["M2-robot-0"]

    # M2 still has a robot: the bulk delete is refused and M1 stays too
    machines = f"{MACHINES}.DeleteBulk"
    assert_error(api.post(machines, {"machineIds": [s["m1"]["Id"], s["m2"]["Id"]]}), 409)
    assert_error(api.post(machines, {"machineIds": [s["m1"]["Id"], 987654]}), 404)
    assert_error(api.post(machines, {"machineIds": [s["m1"]["Id"]]}, token=viewer), 403)
    assert len(api.ok(api.get("/odata/Machines"))["value"]) == 2
    api.ok(api.post(delete, {"robotIds": [r2]}), 204)
    api.ok(api.post(machines, {"machineIds": [s["m1"]["Id"], s["m2"]["Id"]]}), 204)
    assert api.ok(api.get("/odata/Machines"))["value"] == []


def test_machines_of_a_folder(api: Api, db: Engine) -> None:
    s = two_folders(api, db)
    shared, ops = s["shared"], s["ops"]["Id"]
    assert names(api.ok(api.get(f"{MACHINES}.GetAssignedMachines(folderId={shared})"))) == ["M1"]
    assert names(api.ok(api.get(f"{MACHINES}.GetAssignedMachines(folderId={ops})"))) == ["M2"]
    # M3 is assigned to Ops (no robot there), propagated to its subfolder Sub
    m3 = api.ok(api.post("/odata/Machines", {"Name": "M3"}), 201)
    sub = api.ok(api.post("/odata/Folders", {"DisplayName": "Sub", "ParentId": ops}), 201)
    with db.begin() as conn:
        conn.execute(
            insert(folder_machines).values(folder_id=ops, machine_id=m3["Id"], propagate_to_subfolders=True)
        )
    assert names(api.ok(api.get(f"{MACHINES}.GetAssignedMachines(folderId={ops})"))) == ["M2", "M3"]
    assert names(api.ok(api.get(f"{MACHINES}.GetAssignedMachines(folderId={sub['Id']})"))) == ["M3"]
    with db.begin() as conn:
        conn.execute(update(folder_machines).values(propagate_to_subfolders=False))
    assert api.ok(api.get(f"{MACHINES}.GetAssignedMachines(folderId={sub['Id']})"))["value"] == []
    r2 = s["r2"]["Id"]
    assert api.ok(api.get(f"{MACHINES}.GetAssignedMachines(folderId={shared})?robotId={r2}"))["value"] == []
    assert names(api.ok(api.get(f"{MACHINES}.GetAssignedMachines(folderId={ops})?robotId={r2}"))) == ["M2"]
    assert_error(api.get(f"{MACHINES}.GetAssignedMachines(folderId=987654)"), 400)
    outsider = user_with(api, "outsider", ["Machines.View"], folder=ops)
    assert_error(api.get(f"{MACHINES}.GetAssignedMachines(folderId={shared})", token=outsider), 403)
    assert names(api.ok(api.get(f"{MACHINES}.GetAssignedMachines(folderId={ops})", token=outsider))) == [
        "M2",
        "M3",
    ]

    def runtimes(folder: int) -> dict[str, tuple[int, int, int]]:
        rows = api.ok(api.get(f"{MACHINES}.GetRuntimesForFolder(folderId={folder})"))["value"]
        return {r["Type"]: (r["Total"], r["Connected"], r["Available"]) for r in rows}

    slots = {"Name": "M1", "UnattendedSlots": 2, "NonProductionSlots": 1}
    api.ok(api.put(f"/odata/Machines({s['m1']['Id']})", slots))
    assert runtimes(shared) == {"Unattended": (2, 0, 0), "NonProduction": (1, 0, 0)}
    robots = connect(api, s["m1"])  # M1's robots connect: its slots are connected
    assert runtimes(shared) == {"Unattended": (2, 2, 2), "NonProduction": (1, 1, 1)}
    start_jobs(api, 1)
    assert sum(len(robot.next()["jobs"]) for robot in robots) == 1  # a job runs on M1
    running = runtimes(shared)
    assert running["Unattended"] == (2, 2, 1) and running["NonProduction"] == (1, 1, 1)
    assert runtimes(ops) == {"Unattended": (2, 0, 0), "NonProduction": (0, 0, 0)}  # M2 and M3
    assert_error(api.get(f"{MACHINES}.GetRuntimesForFolder(folderId={shared})", token=outsider), 403)
    free = {"$filter": "Available gt 0", "$select": "Type,Available"}
    answer = api.ok(api.get(f"{MACHINES}.GetRuntimesForFolder(folderId={shared})", params=free))
    assert answer["value"] == [
        {"Type": "Unattended", "Available": 1},
        {"Type": "NonProduction", "Available": 1},
    ]
