"""Environments' robots: AddRobot, RemoveRobot, SetRobots keep each robot's RobotEnvironments text."""

from __future__ import annotations

from tests.support import Api

NS = "UiPath.Server.Configuration.OData"


def robot_environments(api: Api) -> dict[str, str]:
    body = api.ok(api.get("/odata/Robots?$select=Name,RobotEnvironments&$orderby=Name"))
    return {robot["Name"]: robot["RobotEnvironments"] for robot in body["value"]}


def test_robot_environments_follow_membership(api: Api) -> None:
    shared = api.tenant.shared_folder_id
    machine = api.ok(api.post("/odata/Machines", {"Name": "M1"}), 201)["Id"]
    robot_ids = {
        name: api.ok(api.post("/odata/Robots", {"Name": name, "MachineId": machine}, folder=shared), 201)[
            "Id"
        ]
        for name in ("R1", "R2", "R3")
    }
    env = {
        name: api.ok(api.post("/odata/Environments", {"Name": name}, folder=shared), 201)["Id"]
        for name in ("Prod", "Billing")
    }

    def call(environment: str, action: str, body: dict[str, object]) -> None:
        api.ok(api.post(f"/odata/Environments({env[environment]})/{NS}.{action}", body, folder=shared), 204)

    call("Prod", "AddRobot", {"robotId": robot_ids["R1"]})
    call("Billing", "AddRobot", {"robotId": robot_ids["R1"]})
    call("Prod", "SetRobots", {"addedRobotIds": [robot_ids["R2"], robot_ids["R3"]], "removedRobotIds": []})
    assert robot_environments(api) == {"R1": "Billing,Prod", "R2": "Prod", "R3": "Prod"}

    call("Prod", "SetRobots", {"addedRobotIds": [], "removedRobotIds": [robot_ids["R1"], robot_ids["R3"]]})
    call("Billing", "RemoveRobot", {"robotId": robot_ids["R1"]})
    assert robot_environments(api) == {"R1": "", "R2": "Prod", "R3": ""}
