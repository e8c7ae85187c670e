"""Buckets on an S3-compatible provider: a real S3 server (moto, on loopback) started by the tests.

Podium lists, inspects and deletes through the provider's API and hands out the provider's own
pre-signed URLs; with ``AccessDataThroughOrchestrator`` the bytes stream through Podium instead. The
secret access key is sealed at rest.

moto listens on 127.0.0.1, so these tests allow private addresses (``allow_private``), except those
that check that internal targets are refused before any request and that the provider's answers are
not echoed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from podium.config import Settings
from podium.db.schema_buckets import buckets
from podium.domain.crypto import sealed_key_id
from podium.domain.key_rotation import rotate_key
from podium.outbound import ALLOW_PRIVATE_ENV
from podium.storage.secrets import unseal
from tests.buckets_support import (
    S3_ACCESS_KEY,
    S3_REGION,
    S3_SECRET_KEY,
    allow_private,
    counting_listener,
    error_server,
    moto_s3,
    s3_bucket_body,
)
from tests.support import SIGNING_KEY, Api, assert_error

B = "/odata/Buckets"
NS = "UiPath.Server.Configuration.OData"
CONTAINER = "podium-bucket"


@pytest.fixture(autouse=True)
def local_s3_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    allow_private(monkeypatch)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3(CONTAINER) as endpoint:
        yield endpoint


@pytest.fixture
def s3(s3_endpoint: str) -> Iterator[Any]:
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=S3_REGION,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
    )
    yield client
    for item in client.list_objects_v2(Bucket=CONTAINER).get("Contents", []):
        client.delete_object(Bucket=CONTAINER, Key=item["Key"])


def access(api: Api, bucket: dict[str, Any], operation: str, path: str) -> dict[str, Any]:
    result: dict[str, Any] = api.ok(
        api.get(f"{B}({bucket['Id']})/{NS}.{operation}", folder="Shared", params={"path": path})
    )
    assert result["RequiresAuth"] is False and result["Headers"] == {"Keys": [], "Values": []}
    return result


def test_s3_bucket_files_through_presigned_urls(api: Api, db: Engine, s3_endpoint: str, s3: Any) -> None:
    bucket = api.ok(api.post(B, s3_bucket_body("remote", s3_endpoint), folder="Shared"), 201)
    assert bucket["StorageProvider"] == "Amazon" and bucket["Password"] is None
    with db.connect() as conn:
        sealed = conn.execute(select(buckets.c.secret).where(buckets.c.id == bucket["Id"])).scalar_one()
    assert sealed.startswith("pe1:") and S3_SECRET_KEY not in sealed

    write = access(api, bucket, "GetWriteUri", "in/report.csv")
    assert (
        write["Uri"].startswith(f"{s3_endpoint}/{CONTAINER}/in/report.csv?")
        and "X-Amz-Signature" in write["Uri"]
    )
    sent = httpx.put(write["Uri"], content=b"a,b\n1,2\n", headers={"Content-Type": "text/csv"})
    assert sent.status_code == 200
    assert s3.get_object(Bucket=CONTAINER, Key="in/report.csv")["Body"].read() == b"a,b\n1,2\n"
    s3.put_object(Bucket=CONTAINER, Key="in/deep/x.bin", Body=b"12345")
    s3.put_object(Bucket=CONTAINER, Key="root.txt", Body=b"r")

    base = f"{B}({bucket['Id']})/{NS}"
    files = api.ok(
        api.get(f"{base}.GetFiles", folder="Shared", params={"directory": "/", "recursive": "true"})
    )
    assert [(f["FullPath"], f["Size"]) for f in files["value"]] == [
        ("in/deep/x.bin", 5),
        ("in/report.csv", 8),
        ("root.txt", 1),
    ]
    top = api.ok(api.get(f"{base}.GetFiles", folder="Shared", params={"directory": "/"}))["value"]
    assert [f["FullPath"] for f in top] == ["root.txt"]
    dirs = api.ok(api.get(f"{base}.GetDirectories", folder="Shared", params={"directory": "in"}))["value"]
    assert [d["FullPath"] for d in dirs] == ["in/deep"]
    assert api.ok(api.get(f"{base}.GetFile", folder="Shared", params={"path": "in/report.csv"}))["Size"] == 8
    listed = api.client.get(
        f"/api/Buckets/{bucket['Id']}/ListFiles",
        params={"prefix": "/in/r", "takeHint": 5},
        headers=api.headers("Shared"),
    ).json()
    assert [i["fullPath"] for i in listed["items"]] == ["/in/report.csv"]

    read = access(api, bucket, "GetReadUri", "in/report.csv")
    assert read["Uri"].startswith(s3_endpoint) and httpx.get(read["Uri"]).content == b"a,b\n1,2\n"

    api.ok(api.delete(f"{base}.DeleteFile", folder="Shared", params={"path": "in/report.csv"}), 204)
    assert "in/report.csv" not in [o["Key"] for o in s3.list_objects_v2(Bucket=CONTAINER)["Contents"]]
    assert_error(api.get(f"{base}.GetReadUri", folder="Shared", params={"path": "in/report.csv"}), 404)
    assert_error(api.get(f"{base}.GetFile", folder="Shared", params={"path": "../in/deep/x.bin"}), 400)

    api.ok(api.put(f"{B}({bucket['Id']})", {"Options": "ReadOnly"}, folder="Shared"))
    assert_error(api.get(f"{base}.GetWriteUri", folder="Shared", params={"path": "x"}), 400)
    api.ok(api.delete(f"{B}({bucket['Id']})", folder="Shared"), 204)
    assert s3.get_object(Bucket=CONTAINER, Key="root.txt")["Body"].read() == b"r"  # the provider's data stays


def test_s3_bucket_data_through_podium(api: Api, s3_endpoint: str, s3: Any) -> None:
    body = s3_bucket_body("proxied", s3_endpoint, Options="AccessDataThroughOrchestrator")
    bucket = api.ok(api.post(B, body, folder="Shared"), 201)
    write = access(api, bucket, "GetWriteUri", "p/data.bin")
    assert "/api/BlobFiles/" in write["Uri"] and s3_endpoint not in write["Uri"]
    payload = bytes(range(256)) * 4096  # 1 MiB
    assert (
        api.client.put(
            write["Uri"], content=payload, headers={"Content-Type": "application/x-test"}
        ).status_code
        == 201
    )
    stored = s3.get_object(Bucket=CONTAINER, Key="p/data.bin")
    assert stored["Body"].read() == payload and stored["ContentType"] == "application/x-test"
    read = access(api, bucket, "GetReadUri", "p/data.bin")
    downloaded = api.client.get(read["Uri"])
    assert downloaded.content == payload and downloaded.headers["content-type"] == "application/x-test"
    assert downloaded.headers["content-disposition"] == 'attachment; filename="data.bin"'
    assert downloaded.headers["x-content-type-options"] == "nosniff"
    assert_error(api.client.put(read["Uri"], content=b"nope"), 403)


def test_s3_secret_update_and_bad_credentials(api: Api, db: Engine, s3_endpoint: str) -> None:
    bucket = api.ok(api.post(B, s3_bucket_body("rotating", s3_endpoint), folder="Shared"), 201)
    with db.connect() as conn:
        before = conn.execute(select(buckets.c.secret).where(buckets.c.id == bucket["Id"])).scalar_one()
    api.ok(api.put(f"{B}({bucket['Id']})", {"Description": "no secret change"}, folder="Shared"))
    with db.connect() as conn:
        assert (
            conn.execute(select(buckets.c.secret).where(buckets.c.id == bucket["Id"])).scalar_one() == before
        )
    api.ok(api.put(f"{B}({bucket['Id']})", {"Password": "another-secret"}, folder="Shared"))
    with db.connect() as conn:
        after = conn.execute(select(buckets.c.secret).where(buckets.c.id == bucket["Id"])).scalar_one()
    assert after != before and "another-secret" not in after
    assert_error(api.put(f"{B}({bucket['Id']})", {"Password": None}, folder="Shared"), 400)  # key id kept
    unreachable = s3_bucket_body("down", "http://127.0.0.1:9", container="nowhere")
    down = api.ok(api.post(B, unreachable, folder="Shared"), 201)
    response = api.get(f"{B}({down['Id']})/{NS}.GetFiles", folder="Shared", params={"directory": "/"})
    assert_error(response, 502)


def test_rotate_key_reseals_bucket_secrets(
    api: Api, db: Engine, database_url: str, tmp_path: Path, s3_endpoint: str
) -> None:
    """`podium admin rotate-key --retire-old` re-seals S3 secrets too: retiring the old key loses none."""
    bucket = api.ok(api.post(B, s3_bucket_body("rotated", s3_endpoint), folder="Shared"), 201)
    query = select(buckets.c.secret, buckets.c.tenant_id, buckets.c.identifier).where(
        buckets.c.id == bucket["Id"]
    )
    with db.connect() as conn:
        before = conn.execute(query).one()
    settings = Settings(data_dir=tmp_path, database_url=database_url, secret_key=SIGNING_KEY)
    asyncio.run(rotate_key(settings, retire_old=True))
    with db.connect() as conn:
        after = conn.execute(query).one()
    assert sealed_key_id(after.secret) != sealed_key_id(before.secret)
    fresh = Settings(data_dir=tmp_path, database_url=database_url, secret_key=SIGNING_KEY)
    assert unseal(fresh, after.tenant_id, after.identifier, after.secret) == S3_SECRET_KEY


def _bucket_count(db: Engine) -> int:
    with db.connect() as conn:
        return len(conn.execute(select(buckets.c.id)).all())


def test_internal_endpoints_are_refused_before_any_request(
    api: Api, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without PODIUM_OUTBOUND_ALLOW_PRIVATE a bucket cannot send the server's requests to loopback,
    private or link-local addresses, nor to a public one over plain http; nothing is written."""
    monkeypatch.delenv(ALLOW_PRIVATE_ENV)
    with counting_listener() as (listener, connections):
        refused: list[dict[str, Any]] = [
            s3_bucket_body("pg", "http://127.0.0.1:5432"),
            s3_bucket_body("listener", listener),
            s3_bucket_body("tls", listener.replace("http://", "https://")),
            s3_bucket_body("metadata", "http://169.254.169.254"),
            s3_bucket_body("lan", "https://10.0.0.7:9000"),
            s3_bucket_body("public-http", "http://8.8.8.8:9000"),  # redirects would be followed
            s3_bucket_body("parsers-differ", "http://127.0.0.1:9\\@8.8.8.8/"),
            s3_bucket_body("user-info", "https://8.8.8.8@127.0.0.1:9/"),
            # without an Endpoint, region and bucket name become part of AWS's host name
            {**s3_bucket_body("region", ""), "StorageParameters": "Region=@127.0.0.1:5432/;AccessKeyId=k"},
            {
                **s3_bucket_body("container", ""),
                "StorageContainer": "127.0.0.1:5432/#",
                "StorageParameters": "AddressingStyle=virtual;AccessKeyId=k",
            },
        ]
        for body in refused:
            assert_error(api.post(B, body, folder="Shared"), 400)
        assert _bucket_count(db) == 0
        assert connections() == 0
        public = api.ok(api.post(B, s3_bucket_body("public", "https://8.8.8.8:9000"), folder="Shared"), 201)
        moved = api.put(
            f"{B}({public['Id']})",
            {"StorageParameters": f"Endpoint={listener};AccessKeyId=k"},
            folder="Shared",
        )
        assert_error(moved, 400)
        assert connections() == 0


def test_internal_endpoints_are_refused_at_each_use(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bucket made while private addresses were allowed (or whose host name now resolves to one) is
    refused at use: listing, reading, signing and the through-Podium upload send nothing."""
    with counting_listener() as (listener, connections):
        direct = api.ok(api.post(B, s3_bucket_body("direct", listener), folder="Shared"), 201)
        body = s3_bucket_body("proxied", listener, Options="AccessDataThroughOrchestrator")
        proxied = api.ok(api.post(B, body, folder="Shared"), 201)
        monkeypatch.delenv(ALLOW_PRIVATE_ENV)
        for bucket in (direct, proxied):
            base = f"{B}({bucket['Id']})/{NS}"
            assert_error(api.get(f"{base}.GetFiles", folder="Shared", params={"directory": "/"}), 400)
            assert_error(api.get(f"{base}.GetFile", folder="Shared", params={"path": "a.txt"}), 400)
            assert_error(api.get(f"{base}.GetReadUri", folder="Shared", params={"path": "a.txt"}), 400)
            listed = api.client.get(f"/api/Buckets/{bucket['Id']}/ListFiles", headers=api.headers("Shared"))
            assert_error(listed, 400)
        assert_error(
            api.get(f"{B}({direct['Id']})/{NS}.GetWriteUri", folder="Shared", params={"path": "a"}), 400
        )
        write = access(api, proxied, "GetWriteUri", "a.txt")  # a Podium URI: no call to the provider yet
        assert_error(api.client.put(write["Uri"], content=b"hello"), 400)
        assert connections() == 0


MARKER = b"internal-service-secret-4711"


@pytest.mark.parametrize("status", [400, 401, 403])
def test_provider_errors_are_not_echoed(api: Api, status: int) -> None:
    """What the endpoint answered stays in the server's log: the client gets the HTTP status only."""
    answer = b"<Error><Code>AccessDenied</Code><Message>" + MARKER + b"</Message></Error>"
    with error_server(status, answer) as upstream:
        bucket = api.ok(
            api.post(B, s3_bucket_body("talkative", upstream.endpoint, Options=4), folder="Shared"), 201
        )
        base = f"{B}({bucket['Id']})/{NS}"
        responses = [
            api.get(f"{base}.GetFiles", folder="Shared", params={"directory": "/"}),
            api.get(f"{base}.GetFile", folder="Shared", params={"path": "a.txt"}),
            api.client.put(access(api, bucket, "GetWriteUri", "a.txt")["Uri"], content=b"x"),
        ]
        assert len(upstream.requests) >= 3
    for response in responses:
        body = assert_error(response, 502)
        assert body["message"] == f"The storage provider answered an error (HTTP {status})."
        assert MARKER.decode() not in response.text and "AccessDenied" not in response.text
