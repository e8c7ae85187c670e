"""Attachments: create with a signed upload link, upload, read back through the download link, link to
jobs and list them, delete; on Podium's own storage and on an S3-compatible store (moto); the refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.buckets_support import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY, allow_private, moto_s3
from tests.factories import SHARED, seed_machine, start_jobs, user_with
from tests.support import Api, assert_error

A = "/odata/Attachments"
NS = "UiPath.Server.Configuration.OData"
CONTAINER = "podium-attachments"


def create(api: Api, name: str = "report.txt", token: str | None = None) -> dict[str, Any]:
    created: dict[str, Any] = api.ok(api.post(A, {"Name": name}, folder=SHARED, token=token), 201)
    return created


def put(api: Api, access: dict[str, Any], content: bytes) -> httpx.Response:
    """The SDK's PUT: no credentials and no content type."""
    assert access["RequiresAuth"] is False and access["Verb"] == "PUT"
    headers = dict(zip(access["Headers"]["Keys"], access["Headers"]["Values"], strict=True))
    if access["Uri"].startswith("http://testserver"):
        return api.client.put(access["Uri"], content=content, headers=headers)
    return httpx.put(access["Uri"], content=content, headers=headers)


def get_bytes(api: Api, uri: str) -> httpx.Response:
    if uri.startswith("http://testserver"):
        return api.client.get(uri)
    return httpx.get(uri)


def round_trip(api: Api) -> None:
    created = create(api)
    assert created["Name"] == "report.txt" and len(created["Id"]) == 36
    assert put(api, created["BlobFileAccess"], b"hello attachments").status_code in (200, 201)
    found = api.ok(api.get(f"{A}({created['Id']})"))
    assert found["Name"] == "report.txt" and found["BlobFileAccess"]["Verb"] == "GET"
    downloaded = get_bytes(api, found["BlobFileAccess"]["Uri"])
    assert downloaded.status_code == 200 and downloaded.content == b"hello attachments"
    assert api.delete(f"{A}({created['Id']})").status_code == 204
    assert_error(api.get(f"{A}({created['Id']})"), 404)


def test_attachment_round_trip_on_local_storage(api: Api) -> None:
    round_trip(api)
    created = create(api, "a.html")
    put(api, created["BlobFileAccess"], b"<script>")
    link = api.ok(api.get(f"{A}({created['Id']})"))["BlobFileAccess"]["Uri"]
    answer = api.client.get(link)
    assert (
        answer.headers["x-content-type-options"] == "nosniff"
        and "attachment" in answer.headers["content-disposition"]
    )
    # the download link does not upload, a changed token is refused, a bucket token is no attachment token
    assert_error(api.client.put(link, content=b"x"), 403)
    assert_error(api.client.get(link[:-3] + "AAA"), 403)
    assert_error(api.client.get(link.replace("/api/AttachmentFiles/", "/api/BlobFiles/")), 403)


@pytest.fixture
def s3_attachments(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    allow_private(monkeypatch)
    with moto_s3(CONTAINER) as endpoint:
        settings = api.client.app.state.podium.settings  # type: ignore[attr-defined]
        settings.attachment_storage = (
            f"Container={CONTAINER};Endpoint={endpoint};Region={S3_REGION};AccessKeyId={S3_ACCESS_KEY}"
        )
        settings.attachment_storage_secret = S3_SECRET_KEY
        yield endpoint


def test_attachment_round_trip_on_s3(api: Api, s3_attachments: str) -> None:
    created = create(api)
    assert created["BlobFileAccess"]["Uri"].startswith(f"{s3_attachments}/{CONTAINER}/")
    round_trip(api)


def test_job_attachments(api: Api, db: Engine) -> None:
    seed_machine(api, db)
    [job] = start_jobs(api)
    created = create(api)
    body = {"attachmentId": created["Id"], "jobKey": job["Key"], "category": "Output"}
    linked = api.ok(api.post("/api/JobAttachments/Post", body, folder=SHARED))
    assert linked["attachmentId"] == created["Id"] and linked["category"] == "Output"
    api.ok(api.post("/api/JobAttachments/Post", {**body, "category": "Input"}, folder=SHARED))
    listed = api.ok(api.get(f"/api/JobAttachments/GetByJobKey?jobKey={job['Key']}", folder=SHARED))
    assert [(item["attachmentId"], item["category"]) for item in listed] == [(created["Id"], "Input")]
    unknown = "00000000-0000-0000-0000-000000000001"
    assert_error(api.post("/api/JobAttachments/Post", {**body, "jobKey": unknown}), 404)
    assert_error(api.post("/api/JobAttachments/Post", {**body, "attachmentId": unknown}), 404)
    assert_error(api.post("/api/JobAttachments/Post", {**body, "jobKey": "nope"}), 400)
    assert_error(api.get(f"/api/JobAttachments/GetByJobKey?jobKey={unknown}"), 404)
    api.ok(api.delete(f"{A}({created['Id']})"), 204)
    assert api.ok(api.get(f"/api/JobAttachments/GetByJobKey?jobKey={job['Key']}")) == []


def test_attachment_refusals(api: Api) -> None:
    outsider = user_with(api, "outsider", ["Assets.View"], folder=api.tenant.shared_folder_id)
    assert_error(api.post(A, {"Name": "x"}), 400)  # no folder
    assert_error(api.post(A, {"Name": ""}, folder=SHARED), 400)
    assert_error(api.post(A, {"Name": "x"}, folder=SHARED, token=outsider), 403)
    created = create(api)
    assert_error(api.get(f"{A}({created['Id']})", token=outsider), 403)
    assert_error(api.delete(f"{A}({created['Id']})", token=outsider), 403)
    assert_error(api.get(f"{A}(not-a-guid)"), 400)
    assert_error(api.get(f"{A}(00000000-0000-0000-0000-000000000001)"), 404)
    reader = user_with(api, "reader", ["Tasks.View"], folder=api.tenant.shared_folder_id)
    assert api.ok(api.get(f"{A}({created['Id']})", token=reader))["Name"] == "report.txt"
    assert_error(api.delete(f"{A}({created['Id']})", token=reader), 403)


def uploaded(api: Api, content: bytes, name: str = "input.json") -> str:
    created = create(api, name)
    assert put(api, created["BlobFileAccess"], content).status_code in (200, 201)
    return str(created["Id"])


def start_body(**info: Any) -> dict[str, Any]:
    return {"startInfo": {"ReleaseName": "proc", "Strategy": "JobsCount", "JobsCount": 2, **info}}


def test_start_jobs_with_an_input_file_and_attachments(api: Api, db: Engine) -> None:
    """What the SDK's processes.invoke sends for input past 10,000 characters (InputFile, an attachment
    holding the JSON) and for attachments given to the process (Attachments: each job is linked)."""
    seed_machine(api, db)
    arguments = {"rows": ["x" * 100] * 200, "n": 1}  # about 20,000 characters
    input_file = uploaded(api, b"\xef\xbb\xbf" + json.dumps(arguments).encode())  # a BOM is allowed
    extra = uploaded(api, b"scan", "scan.png")
    jobs = start_jobs(api, 2, InputFile=input_file, Attachments=[{"attachmentId": extra}])
    assert len(jobs) == 2
    for job in jobs:
        assert json.loads(job["InputArguments"]) == arguments
        listed = api.ok(api.get(f"/api/JobAttachments/GetByJobKey?jobKey={job['Key']}", folder=SHARED))
        assert [item["attachmentId"] for item in listed] == [extra]
    # kept as the job's InputArguments, which is what the robot protocol's jobs/next hands to the robot
    assert json.loads(api.ok(api.get(f"/odata/Jobs({jobs[0]['Id']})"))["InputArguments"]) == arguments


@pytest.mark.parametrize(
    ("content", "extra", "status", "says"),
    [
        (None, {}, 400, "never uploaded"),
        (b"[1, 2]", {}, 400, "JSON object"),
        (b"{not json", {}, 400, "valid JSON"),
        (b'{"a": "' + b"x" * (1 << 20) + b'"}', {}, 400, "larger than"),
        (b"{}", {"InputArguments": '{"a": 1}'}, 400, "not both"),
        (
            b"{}",
            {"Attachments": [{"attachmentId": "00000000-0000-0000-0000-000000000001"}]},
            404,
            "not exist",
        ),
        (b"{}", {"Attachments": [{"id": 1}]}, 400, "attachmentId"),
        (b"{}", {"Attachments": "x"}, 400, "Attachments"),
    ],
    ids=[
        "not-uploaded",
        "array",
        "not-json",
        "too-large",
        "both",
        "unknown-attachment",
        "no-id",
        "not-a-list",
    ],
)
def test_start_jobs_input_file_refusals_start_nothing(
    api: Api, db: Engine, content: bytes | None, extra: dict[str, Any], status: int, says: str
) -> None:
    seed_machine(api, db)
    # None: the attachment is created, its file never uploaded
    input_file = str(create(api, "input.json")["Id"]) if content is None else uploaded(api, content)
    body = start_body(InputFile=input_file, **extra)
    error = assert_error(api.post(f"/odata/Jobs/{NS}.StartJobs", body, folder=SHARED), status)
    assert says in error["message"]
    assert api.ok(api.get("/odata/Jobs", folder=SHARED))["@odata.count"] == 0


def test_start_jobs_input_file_of_an_unknown_attachment(api: Api, db: Engine) -> None:
    seed_machine(api, db)
    unknown = start_body(InputFile="00000000-0000-0000-0000-000000000001")
    assert_error(api.post(f"/odata/Jobs/{NS}.StartJobs", unknown, folder=SHARED), 404)
    assert_error(api.post(f"/odata/Jobs/{NS}.StartJobs", start_body(InputFile="nope"), folder=SHARED), 400)
