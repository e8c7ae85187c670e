"""Job retention per release (issue 15): the ReleaseRetention settings over HTTP (permissions, bad input
400/404 with nothing changed) and the job-retention service round, run as the server runs it, deleting or
archiving ended jobs past their release's period (the built-in 30 days where nothing was set), with the
execution media of deleted jobs, on both backends."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from podium.db.schema import jobs, releases
from podium.db.schema_jobs import execution_media, release_retention
from podium.domain.enums import JobState
from tests.factories import release, user_with
from tests.support import Api, assert_error

URL = "/odata/ReleaseRetention"
NOW = dt.datetime.now(dt.UTC)
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


def folder(api: Api, name: str) -> int:
    folder_id: int = api.ok(api.post("/odata/Folders", {"DisplayName": name}), 201)["Id"]
    return folder_id


def job(db: Engine, api: Api, rel: dict[str, Any], state: JobState, days: float, **values: Any) -> int:
    """A job of the release that reached ``state`` ``days`` ago (ended then, when it is a final state)."""
    when = NOW - dt.timedelta(days=days)
    ended = state in (JobState.Successful, JobState.Faulted, JobState.Stopped)
    with db.begin() as conn:
        folder_id = conn.execute(select(releases.c.folder_id).where(releases.c.id == rel["Id"])).scalar_one()
        row = {
            "tenant_id": api.tenant.tenant_id,
            "folder_id": folder_id,
            "key": str(uuid.uuid4()),
            "release_id": rel["Id"],
            "release_name": rel["Name"],
            "state": int(state),
            "batch_execution_key": str(uuid.uuid4()),
            "creation_time": when - dt.timedelta(hours=1),
            "start_time": when - dt.timedelta(minutes=30),
            "end_time": when if ended else None,
            "last_modification_time": when,
            **values,
        }
        job_id: int = conn.execute(insert(jobs).values(**row).returning(jobs.c.id)).scalar_one()
    return job_id


def job_ids(db: Engine) -> set[int]:
    with db.connect() as conn:
        return {row.id for row in conn.execute(select(jobs.c.id))}


def run_round(api: Api) -> None:
    """One round of the job-retention service in the app, under its lease, as the server runs it."""
    ran = api.client.portal.call(api.client.app.state.services.run_now, "job-retention")  # type: ignore[attr-defined]
    assert ran


def test_retention_settings_over_http(api: Api) -> None:
    shared = api.tenant.shared_folder_id
    first, second = release(api, shared, "Invoices"), release(api, shared, "Payroll")
    listed = api.ok(api.get(f"{URL}?$orderby=ReleaseId", folder="Shared"))
    assert listed["value"] == [
        {"ReleaseId": first["Id"], "Action": "Delete", "Period": 30, "BucketId": None},
        {"ReleaseId": second["Id"], "Action": "Delete", "Period": 30, "BucketId": None},
    ]
    body = {"ReleaseId": first["Id"], "Action": "Archive", "Period": 7}
    changed = api.ok(api.put(f"{URL}({first['Id']})", body, folder="Shared"))
    assert (changed["Action"], changed["Period"], changed["ReleaseId"]) == ("Archive", 7, first["Id"])
    assert api.ok(api.get(f"{URL}({first['Id']})"))["Action"] == "Archive"
    api.ok(api.put(f"{URL}({second['Id']})", {"Action": "None", "Period": 1}, folder="Shared"))
    assert api.ok(api.get(f"{URL}?$filter=Action eq 'None'"))["value"][0]["ReleaseId"] == second["Id"]
    for bad in (
        {"Action": "Archive", "Period": 0},
        {"Action": "Archive", "Period": 36_501},
        {"Action": "Sometimes", "Period": 3},
        {"Action": "Delete", "Period": "3"},
        {"Action": "Delete", "Period": 3, "BucketId": 424242},
        {"ReleaseId": second["Id"], "Action": "Delete", "Period": 3},
        {"Action": "Delete", "Colour": "red"},
    ):
        assert_error(api.put(f"{URL}({first['Id']})", bad, folder="Shared"), 400)
    assert api.ok(api.get(f"{URL}({first['Id']})"))["Period"] == 7  # nothing half-written
    assert_error(api.put(f"{URL}(999999)", body, folder="Shared"), 404)
    assert_error(api.get(f"{URL}(999999)"), 404)
    assert_error(api.get(f"{URL}('x')"), 400)
    assert_error(api.post(URL, body, folder="Shared"), 400)

    # the release's folder's Processes permissions govern its policy
    elsewhere = folder(api, "Elsewhere")
    reader = user_with(api, "reader", ["Processes.View"], folder=shared)
    outsider = user_with(api, "outsider", ["Processes.View", "Processes.Edit"], folder=elsewhere)
    assert len(api.ok(api.get(URL, token=reader))["value"]) == 2
    assert_error(api.put(f"{URL}({first['Id']})", body, folder="Shared", token=reader), 403)
    assert_error(api.delete(f"{URL}({first['Id']})", folder="Shared", token=reader), 403)
    assert api.ok(api.get(URL, token=outsider))["value"] == []
    assert_error(api.get(f"{URL}({first['Id']})", token=outsider), 404)

    api.ok(api.delete(f"{URL}({first['Id']})", folder="Shared"), 204)  # back to the built-in policy
    reset = api.ok(api.get(f"{URL}({first['Id']})"))
    assert (reset["Action"], reset["Period"]) == ("Delete", 30)
    api.ok(api.delete(f"/odata/Releases({second['Id']})", folder="Shared"), 204)
    assert_error(api.get(f"{URL}({second['Id']})"), 404)  # its policy went with it


def test_the_service_deletes_and_archives_ended_jobs_past_the_period(
    api: Api, db: Engine, tmp_path: Path
) -> None:
    shared = api.tenant.shared_folder_id
    default = release(api, shared, "Default")  # built-in: 30 days, Delete
    short, kept, archived = (release(api, shared, name) for name in ("Short", "Kept", "Archived"))
    api.ok(api.put(f"{URL}({short['Id']})", {"Action": "Delete", "Period": 2}, folder="Shared"))
    api.ok(api.put(f"{URL}({kept['Id']})", {"Action": "None", "Period": 1}, folder="Shared"))
    api.ok(api.put(f"{URL}({archived['Id']})", {"Action": "Archive", "Period": 5}, folder="Shared"))
    with db.begin() as conn:  # a release made straight in the database follows the built-in policy
        conn.execute(release_retention.delete().where(release_retention.c.release_id == default["Id"]))

    gone = {
        job(db, api, default, JobState.Successful, 31),
        job(db, api, default, JobState.Faulted, 45),
        job(db, api, short, JobState.Stopped, 3),
        job(db, api, short, JobState.Faulted, 2.5),
    }
    to_archive = {job(db, api, archived, JobState.Successful, 6), job(db, api, archived, JobState.Faulted, 9)}
    stay = {
        job(db, api, default, JobState.Successful, 29),
        job(db, api, default, JobState.Pending, 60),  # never ended: never touched
        job(db, api, default, JobState.Running, 60),
        job(db, api, default, JobState.Suspended, 60),
        job(db, api, short, JobState.Successful, 1),
        job(db, api, kept, JobState.Faulted, 400),
        job(db, api, archived, JobState.Successful, 4),
    }
    # a deleted job's execution media go with it, file included
    media_file = tmp_path / "attachments" / "files" / "media-test.png"
    media_file.parent.mkdir(parents=True, exist_ok=True)
    media_file.write_bytes(b"\x89PNG old")
    old_faulted = job(db, api, default, JobState.Faulted, 40)
    gone.add(old_faulted)
    with db.begin() as conn:
        conn.execute(
            insert(execution_media).values(
                tenant_id=api.tenant.tenant_id,
                folder_id=shared,
                job_id=old_faulted,
                key=str(uuid.uuid4()),
                name="screen.png",
                storage_location="media-test.png",
                content_type="image/png",
                size=9,
                creation_time=NOW,
            )
        )

    run_round(api)

    assert job_ids(db) == stay
    with db.connect() as conn:
        assert conn.execute(select(execution_media.c.id)).all() == []
        runs = conn.execute(select(release_retention.c.release_id, release_retention.c.last_run_time)).all()
    assert not media_file.exists()
    assert {release_id for release_id, ran in runs if ran is not None} == {
        short["Id"],
        archived["Id"],
    }  # the None policy is skipped; the default release has no row
    [archive] = (tmp_path / "job-archive" / str(api.tenant.tenant_id) / str(archived["Id"])).glob("*.jsonl")
    lines = [orjson.loads(line) for line in archive.read_bytes().splitlines()]
    assert {line["Id"] for line in lines} == to_archive
    assert {line["State"] for line in lines} == {"Successful", "Faulted"}
    assert all(line["ReleaseName"] == "Archived" and line["EndTime"].endswith("Z") for line in lines)

    run_round(api)  # nothing more to do
    assert job_ids(db) == stay

    with db.begin() as conn:  # the period counts from the end: a job ended lately stays
        conn.execute(
            update(jobs).where(jobs.c.state == int(JobState.Pending)).values(state=int(JobState.Stopped))
        )
    run_round(api)
    assert len(job_ids(db)) == len(stay) - 1  # the Pending one, now ended long ago (last change 60 days)
