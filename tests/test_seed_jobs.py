"""Every request of UiPath's Jobs documentation (shared/seeds/001), with its data, answered as shown.

The documentation's examples were captured at different times and contradict each other (robot 749
has 13 jobs in one example, and the only 'DocBot' job is robot 749's in another; release 440 has
Description "rockerii" in one, null in another), so each example seeds the data its own response
implies. Generated values (keys, ids, creation times of new jobs) are checked for shape, not value.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from podium.domain.enums import JobState as S
from tests.factories import Seeder
from tests.support import Api

PREFIX = "/podium/Default/orchestrator_"
LOGON = "Logon failure: unknown user name or bad password"
JOB_FIELDS = (
    "Key",
    "StartTime",
    "EndTime",
    "State",
    "Source",
    "BatchExecutionKey",
    "Info",
    "CreationTime",
    "StartingScheduleId",
    "Id",
)


def job(
    id: int,
    key: str,
    start: str | None,
    end: str | None,
    state: str,
    batch: str,
    info: str | None,
    created: str,
) -> dict[str, Any]:
    return {
        "Key": key,
        "StartTime": start,
        "EndTime": end,
        "State": state,
        "Source": "Manual",
        "BatchExecutionKey": batch,
        "Info": info,
        "CreationTime": created,
        "StartingScheduleId": None,
        "Id": id,
    }


J125161 = job(
    125161,
    "1c7222dc-416f-4c60-9b17-88262c91768f",
    "2018-01-15T18:18:02.79Z",
    "2018-01-15T18:18:47.587Z",
    "Successful",
    "8c5302a7-8ed3-458a-ab64-34cc72fdd709",
    "Job completed",
    "2018-01-15T18:18:01.623Z",
)
J127283 = job(
    127283,
    "9fbdfca0-d1e5-41c2-abe6-86fe626346a3",
    "2018-03-02T17:25:35.17Z",
    "2018-03-02T17:25:46.62Z",
    "Successful",
    "9b908e73-b564-4022-92cb-9e9f0571c2ec",
    "Job completed",
    "2018-03-02T17:25:34.087Z",
)
SHEET = (
    "Execution error : System.ArgumentException: The sheet does not exist\r\n"
    "   at UiPath.Excel.WorkbookApplication."
    "SetSheet(String sheetName, Boolean createNew)"
)
J127416 = job(
    127416,
    "e29e472d-5d51-4369-9c15-af867e6dd580",
    "2018-03-05T18:27:27.123Z",
    "2018-03-05T18:27:38.593Z",
    "Faulted",
    "ad498d35-326c-4c6c-89d0-16fb73abd0c8",
    SHEET,
    "2018-03-05T18:27:25.793Z",
)
J125160 = job(
    125160,
    "45383b6c-a547-49e1-be5c-f3bb6d78982c",
    "2018-01-15T18:17:14.693Z",
    "2018-01-15T18:17:14.693Z",
    "Faulted",
    "9eda64eb-3ab8-46e8-833d-fe944a4eb25e",
    LOGON,
    "2018-01-15T18:17:13.59Z",
)
J125162 = job(
    125162,
    "4b018719-36cb-43a1-8096-202641ccee62",
    "2018-01-15T18:19:03.177Z",
    "2018-01-15T18:19:03.177Z",
    "Faulted",
    "7a60ce9d-a5a6-4e9f-b908-ab5819b016c2",
    LOGON,
    "2018-01-15T18:19:02.37Z",
)
J125163 = job(
    125163,
    "4420820e-7b0a-49a3-a172-ddcc1d88ace9",
    "2018-01-15T18:20:07.93Z",
    "2018-01-15T18:20:22.68Z",
    "Successful",
    "843d9f41-ae7b-4a28-bd32-d57006f90a2f",
    "Job completed",
    "2018-01-15T18:20:06.733Z",
)
J125153 = job(
    125153,
    "d3780aac-1e80-49b0-bfd3-c8ec6a3939db",
    "2018-01-15T18:03:42.51Z",
    "2018-01-15T18:03:44.353Z",
    "Faulted",
    "c08beec5-243c-4e08-854d-7c100cd35214",
    LOGON,
    "2018-01-15T18:03:41.56Z",
)
J125154 = job(
    125154,
    "93b0bfc1-cb80-4594-bb3e-9f35f3efc828",
    "2018-01-15T18:05:42.393Z",
    "2018-01-15T18:05:42.393Z",
    "Faulted",
    "2f894a2b-7ba1-4eee-b399-c67894a9b3ec",
    LOGON,
    "2018-01-15T18:05:41.093Z",
)
RELEASE_440 = {
    "Key": "766d80d3-cc02-4635-b36c-e30fcf1008b1",
    "ProcessKey": "Release_Project",
    "ProcessVersion": "",
    "IsLatestVersion": False,
    "IsProcessDeleted": False,
    "Description": "rockerii",
    "Name": "Release_Project_doc_env",
    "EnvironmentId": 312,
    "EnvironmentName": None,
    "Id": 440,
}
ROBOT_758 = {
    "LicenseKey": None,
    "MachineName": "DESKTOP-PMFQGCB",
    "Name": "RoboDrulea",
    "Username": "ALEX",
    "Description": None,
    "Type": "Unattended",
    "Password": None,
    "RobotEnvironments": "",
    "Id": 758,
    "ExecutionSettings": None,
}


def seeder(api: Api, db: Engine) -> Seeder:
    return Seeder(db, api.tenant.tenant_id, api.tenant.shared_folder_id)


def seed_job(s: Seeder, dto: dict[str, Any], robot_id: int | None, release_id: int) -> None:
    s.job(
        dto["Id"],
        robot_id=robot_id,
        release_id=release_id,
        state=int(S[dto["State"]]),
        key=dto["Key"],
        start=dto["StartTime"],
        end=dto["EndTime"],
        created=dto["CreationTime"],
        info=dto["Info"],
        batch=dto["BatchExecutionKey"],
    )


def seed_release_440(s: Seeder, description: str | None) -> None:
    s.environment(312, "DocEnv")
    s.release(
        440,
        RELEASE_440["Key"],
        "Release_Project_doc_env",
        process_key="Release_Project",
        process_version="",
        description=description,
        environment_id=312,
        environment_name=None,
    )


def assert_page(body: dict[str, Any], count: int, expected: list[dict[str, Any]]) -> None:
    assert body["@odata.context"].endswith("$metadata#Jobs")
    assert body["@odata.count"] == count
    assert [row["Id"] for row in body["value"]] == [row["Id"] for row in expected]
    for actual, wanted in zip(body["value"], expected, strict=True):
        assert project(actual, wanted) == wanted


def project(actual: Any, wanted: Any) -> Any:
    """``actual`` cut down to the properties the documentation shows (Podium answers more of them)."""
    if isinstance(wanted, dict) and isinstance(actual, dict):
        return {k: project(actual.get(k, "<missing>"), v) for k, v in wanted.items()}
    return actual


def seed_robot_749(s: Seeder) -> None:
    """Robot 749: 13 jobs, 2 of them Successful (the first three by id are the documented ones)."""
    seed_release_440(s, "rockerii")
    s.robot(749, "Robot749")
    for dto in (J125161, J127283, J127416):
        seed_job(s, dto, 749, 440)
    for n in range(10):
        s.job(127500 + n, robot_id=749, release_id=440, state=int(S.Faulted), created="2018-03-10T00:00:00Z")
    s.finish()


def test_jobs_of_robot_by_id(api: Api, db: Engine) -> None:
    seed_robot_749(seeder(api, db))
    body = api.ok(api.get(f"{PREFIX}/odata/Jobs?$top=3&$filter=Robot/Id eq 749"))
    assert_page(body, 13, [J125161, J127283, J127416])
    assert body["@odata.context"].startswith("http://testserver/podium/Default/orchestrator_/odata/$metadata")


def test_jobs_of_robot_by_name(api: Api, db: Engine) -> None:
    s = seeder(api, db)
    seed_release_440(s, "rockerii")
    s.robot(749, "DocBot")
    s.robot(750, "OtherBot")
    seed_job(s, J125161, 749, 440)
    seed_job(s, J127283, 750, 440)
    s.finish()
    body = api.ok(api.get(f"{PREFIX}/odata/Jobs?$top=10&$filter=Robot/Name eq 'DocBot'"))
    assert_page(body, 1, [J125161])


@pytest.mark.parametrize("example", ["specific state", "start date and robot"])
def test_jobs_of_robot_with_state(api: Api, db: Engine, example: str) -> None:
    seed_robot_749(seeder(api, db))
    body = api.ok(api.get(f"{PREFIX}/odata/Jobs?$top=10&$filter=Robot/Id eq 749 and State eq 'Successful'"))
    assert_page(body, 2, [J125161, J127283])


def test_jobs_of_robot_before_end_date(api: Api, db: Engine) -> None:
    s = seeder(api, db)
    seed_release_440(s, "rockerii")
    s.robot(759, "Robot759")
    for dto in (J125160, J125162, J125163):
        seed_job(s, dto, 759, 440)
    s.job(
        128000,
        robot_id=759,
        release_id=440,
        state=int(S.Successful),
        start="2018-02-22T09:00:00Z",
        end="2018-02-22T10:00:01Z",
    )  # ends after the bound: not listed
    s.finish()
    body = api.ok(
        api.get(
            f"{PREFIX}/odata/Jobs?$top=10&$filter=Robot/Id eq 759 and EndTime lt 2018-02-22T10:00:00.837Z"
        )
    )
    assert_page(body, 3, [J125160, J125162, J125163])


def test_jobs_of_environment_with_release(api: Api, db: Engine) -> None:
    s = seeder(api, db)
    seed_release_440(s, "rockerii")
    s.robot(758, "RoboDrulea")
    seed_job(s, J125153, 758, 440)
    seed_job(s, J125154, 758, 440)
    for n in range(24):
        s.job(125200 + n, robot_id=758, release_id=440, state=int(S.Successful))
    s.release(441, str(uuid.uuid4()), "other", environment_id=None)
    s.job(125300, robot_id=758, release_id=441, state=int(S.Successful))  # other environment: not counted
    s.finish()
    body = api.ok(api.get(f"{PREFIX}/odata/Jobs?$top=2&$expand=Release&$filter=Release/EnvironmentId eq 312"))
    expected = [{**J125153, "Release": RELEASE_440}, {**J125154, "Release": RELEASE_440}]
    assert_page(body, 26, expected)


def test_faulted_jobs_by_error(api: Api, db: Engine) -> None:
    s = seeder(api, db)
    seed_release_440(s, None)
    s.robot(758, "RoboDrulea", machine_name="DESKTOP-PMFQGCB", username="ALEX")
    seed_job(s, J125153, 758, 440)
    seed_job(s, J125154, 758, 440)
    for n in range(3):
        s.job(
            125400 + n,
            robot_id=758,
            release_id=440,
            state=int(S.Faulted),
            info=LOGON,
            created="2018-02-01T00:00:00Z",
        )
    s.job(125500, robot_id=758, release_id=440, state=int(S.Faulted), info="Other error")
    s.job(125501, robot_id=758, release_id=440, state=int(S.Successful), info=LOGON)
    s.finish()
    query = (
        "$filter=(CreationTime gt 2017-01-01T00:00:00.000Z and State eq '4' "
        f"and indexof(Info,'{LOGON}') ne -1)"
        "&$expand=Robot,Release&$top=2"
    )
    body = api.ok(api.get(f"{PREFIX}/odata/Jobs?{query}"))
    release = {**RELEASE_440, "Description": None}
    expected = [
        {**J125153, "Robot": ROBOT_758, "Release": release},
        {**J125154, "Robot": ROBOT_758, "Release": release},
    ]
    assert_page(body, 5, expected)


def test_start_job_on_specific_robot_with_input(api: Api, db: Engine) -> None:
    s = seeder(api, db)
    s.environment(312, "DocEnv")
    s.robot(121, "DocRobot")
    s.environment_robot(312, 121)
    s.release(500, "429cf1cc-283c-424f-a935-43f72c2ca719", "input_output_test_DocEnv", environment_id=312)
    s.finish()
    arguments = '{"age":33,"trueOrFalse":false,"stringNew":"testing"}'
    body = api.ok(
        api.post(
            f"{PREFIX}/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs",
            {
                "startInfo": {
                    "ReleaseKey": "429cf1cc-283c-424f-a935-43f72c2ca719",
                    "RobotIds": [121],
                    "JobsCount": 0,
                    "Strategy": "Specific",
                    "InputArguments": arguments,
                }
            },
        )
    )
    assert body["@odata.context"].endswith("$metadata#Jobs")
    assert "@odata.count" not in body
    [started] = body["value"]
    assert {
        k: started[k]
        for k in (
            "StartTime",
            "EndTime",
            "State",
            "Source",
            "SourceType",
            "Info",
            "StartingScheduleId",
            "ReleaseName",
            "Type",
            "InputArguments",
            "OutputArguments",
        )
    } == {
        "StartTime": None,
        "EndTime": None,
        "State": "Pending",
        "Source": "Manual",
        "SourceType": "Manual",
        "Info": None,
        "StartingScheduleId": None,
        "ReleaseName": "input_output_test_DocEnv",
        "Type": "Unattended",
        "InputArguments": arguments,
        "OutputArguments": None,
    }
    assert uuid.UUID(started["Key"]) and uuid.UUID(started["BatchExecutionKey"])
    assert started["CreationTime"].endswith("Z") and isinstance(started["Id"], int)
    assert started["RobotId"] == 121


def test_start_job_on_all_robots_of_environment(api: Api, db: Engine) -> None:
    s = seeder(api, db)
    s.environment(312, "DocEnv")
    for robot_id in (1, 2, 3):
        s.robot(robot_id, f"robot{robot_id}")
        s.environment_robot(312, robot_id)
    s.robot(4, "not-in-environment")
    s.release(501, "795cbab2-8008-4a54-b1cb-f9ff1ece139e", "everyone", environment_id=312)
    s.finish()
    body = api.ok(
        api.post(
            f"{PREFIX}/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs",
            {
                "startInfo": {
                    "ReleaseKey": "795cbab2-8008-4a54-b1cb-f9ff1ece139e",
                    "Strategy": "All",
                    "RobotIds": [],
                    "NoOfRobots": 0,
                }
            },
        )
    )
    jobs = body["value"]
    assert len(jobs) == 3
    assert sorted(j["RobotId"] for j in jobs) == [1, 2, 3]
    assert {j["State"] for j in jobs} == {"Pending"} and {j["Source"] for j in jobs} == {"Manual"}
    assert len({j["BatchExecutionKey"] for j in jobs}) == 1
    assert all(j[f] is None for j in jobs for f in ("StartTime", "EndTime", "Info", "StartingScheduleId"))
    assert [j["Id"] for j in jobs] == sorted(j["Id"] for j in jobs)


def test_stop_multiple_jobs(api: Api, db: Engine) -> None:
    s = seeder(api, db)
    seed_release_440(s, None)
    s.robot(758, "RoboDrulea")
    s.job(22450719, robot_id=758, release_id=440, state=int(S.Running), start="2018-01-01T00:00:00Z")
    s.job(22450728, robot_id=758, release_id=440, state=int(S.Pending))
    s.finish()
    response = api.post(
        f"{PREFIX}/odata/Jobs/UiPath.Server.Configuration.OData.StopJobs",
        {"jobIds": [22450719, 22450728], "strategy": "1"},
    )
    assert response.status_code == 200
    running = api.ok(api.get("/odata/Jobs(22450719)"))
    pending = api.ok(api.get("/odata/Jobs(22450728)"))
    assert (running["State"], running["StopStrategy"], running["EndTime"]) == ("Stopping", "SoftStop", None)
    assert pending["State"] == "Stopped" and pending["EndTime"] is not None
