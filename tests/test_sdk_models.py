"""Answers a real client reads: the official uipath SDK's own pydantic models validate Podium's Releases
(its ``Process`` model: every property Orchestrator always sends, with its type) and Jobs answers, and a
machine answers its key as ``LicenseKey`` (what scripts configure robots with)."""

from __future__ import annotations

import uuid
from typing import Any

from uipath.platform.orchestrator.job import Job
from uipath.platform.orchestrator.processes import Process

from tests.package_builders import nupkg
from tests.support import Api

NS = "UiPath.Server.Configuration.OData"


def _releases(api: Api) -> list[dict[str, Any]]:
    api.ok(
        api.client.post(
            f"/odata/Processes/{NS}.UploadPackage",
            files={"file": ("p.nupkg", nupkg("Hello", "1.0.0"))},
            headers=api.headers(),
        )
    )
    bodies = [
        {"Name": "Plain", "ProcessKey": "Hello"},
        {"Name": "Described", "ProcessKey": "Hello", "Description": "d", "JobPriority": "High"},
        {"Name": "Low", "ProcessKey": "Hello", "JobPriority": "Low", "Description": None},
        {"Name": "Specific", "ProcessKey": "Hello", "SpecificPriorityValue": 60},
    ]
    return [api.ok(api.post("/odata/Releases", body, folder="Shared"), 201) for body in bodies]


def test_releases_validate_with_the_sdk_process_model(api: Api) -> None:
    created = _releases(api)
    listed = api.ok(api.get("/odata/Releases", folder="Shared"))["value"]
    listed_by_operation = api.ok(api.get(f"/odata/Releases/{NS}.ListReleases", folder="Shared"))["value"]
    singles = [api.ok(api.get(f"/odata/Releases({r['Id']})", folder="Shared")) for r in created]
    for answer in [*created, *listed, *listed_by_operation, *singles]:
        Process.model_validate(answer)
    by_name = {r["Name"]: Process.model_validate(r) for r in listed}
    assert by_name["Plain"].description == "" and by_name["Described"].description == "d"
    assert by_name["Low"].description == ""
    assert {name: p.specific_priority_value for name, p in by_name.items()} == {
        "Plain": 45,
        "Described": 75,
        "Low": 15,
        "Specific": 60,
    }
    assert by_name["Plain"].job_priority == "Normal" and by_name["Plain"].process_type == "Process"
    assert by_name["Plain"].is_compiled is False and by_name["Plain"].tags == []

    # the SDK's acceptance flow: the release by name, through the OData filter
    found = api.ok(api.get("/odata/Releases?$filter=Name eq 'Plain'", folder="Shared"))["value"]
    assert [Process.model_validate(r).name for r in found] == ["Plain"]


def test_release_edits_keep_the_model_valid(api: Api) -> None:
    plain = _releases(api)[0]
    url = f"/odata/Releases({plain['Id']})"
    api.ok(api.client.patch(url, json={"JobPriority": "High"}, headers=api.headers("Shared")))
    assert Process.model_validate(api.ok(api.get(url, folder="Shared"))).specific_priority_value == 75
    api.ok(api.client.patch(url, json={"Description": None}, headers=api.headers("Shared")))
    api.ok(api.client.patch(url, json={"SpecificPriorityValue": None}, headers=api.headers("Shared")))
    answer = Process.model_validate(api.ok(api.get(url, folder="Shared")))
    assert answer.description == "" and answer.specific_priority_value == 75
    api.ok(api.put(url, {**plain, "Description": "again"}, folder="Shared"))
    assert Process.model_validate(api.ok(api.get(url, folder="Shared"))).description == "again"


def test_jobs_validate_with_the_sdk_job_model(api: Api) -> None:
    _releases(api)
    started = api.ok(
        api.post(
            f"/odata/Jobs/{NS}.StartJobs",
            {"startInfo": {"ReleaseName": "Plain", "Strategy": "ModernJobsCount", "JobsCount": 1}},
            folder="Shared",
        )
    )["value"]
    job = Job.model_validate(started[0])
    expanded = api.ok(api.get(f"/odata/Jobs({job.id})?$expand=Release,Robot", folder="Shared"))
    Job.model_validate(expanded)
    Process.model_validate(expanded["Release"])
    by_key = api.ok(api.get(f"/odata/Jobs/{NS}.GetByKey(identifier={job.key})", folder="Shared"))
    assert Job.model_validate(by_key).id == job.id


def test_machines_answer_their_key_as_license_key(api: Api) -> None:
    machine = api.ok(api.post("/odata/Machines", {"Name": "M1", "Type": "Standard"}), 201)
    assert machine["LicenseKey"] == machine["Key"] and uuid.UUID(machine["LicenseKey"])
    assert machine["ClientId"] == machine["Key"] and machine["ClientSecret"]
    read = api.ok(api.get(f"/odata/Machines({machine['Id']})"))
    assert read["LicenseKey"] == machine["Key"] and read["ClientSecret"] is None
    listed = api.ok(api.get("/odata/Machines?$select=Name,LicenseKey"))["value"]
    assert listed == [{"Name": "M1", "LicenseKey": machine["Key"]}]
    robot = {"Name": "R1", "MachineId": machine["Id"], "Type": "Unattended"}
    api.ok(api.post("/odata/Robots", robot, folder="Shared"), 201)
    for key in (machine["LicenseKey"], machine["Key"]):  # a robot connects with either
        body = {"machineKey": key, "hostMachineName": "host", "agentId": str(uuid.uuid4())}
        assert api.ok(api.client.post("/api/robot/connect", json=body))["robots"][0]["robotName"] == "R1"
