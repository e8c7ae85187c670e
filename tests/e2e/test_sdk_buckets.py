"""End to end: the official UiPath SDK's bucket methods against a real ``podium serve`` process, once
with Podium's own storage and once with an S3-compatible provider (moto on loopback).

The server runs on the test database of each backend. That database is built from the table metadata
(which includes the bucket tables) and stamped at the newest migration, so ``serve`` finds it current.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from podium.db.migrate import alembic_config
from tests.buckets_support import allow_private, moto_s3, s3_bucket_body
from tests.e2e.test_sdk_jobs import ADMIN_PASSWORD, SDK_ENVIRONMENT, ok, podium_server

pytestmark = pytest.mark.e2e

ODATA = "/podium/Default/orchestrator_/odata"


@pytest.fixture
def server(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from alembic import command

    allow_private(monkeypatch)  # the server process inherits it: moto listens on loopback

    command.stamp(alembic_config(database_url), "head")
    with podium_server(database_url, tmp_path / "data") as base:
        yield base


def _admin_token(base: str) -> str:
    login = {"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": ADMIN_PASSWORD}
    token: str = ok(httpx.post(f"{base}/api/Account/Authenticate", json=login, timeout=10))["result"]
    return token


def _sdk(base: str, token: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    for name in SDK_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("UIPATH_FOLDER_PATH", "Shared")
    monkeypatch.setenv("UIPATH_TELEMETRY_ENABLED", "false")
    monkeypatch.chdir(tmp_path)
    from uipath.platform import UiPath

    return UiPath(base_url=f"{base}/podium/Default", secret=token)


def _drive_files(sdk: Any, name: str, tmp_path: Path) -> None:
    """Upload from memory and from a path, download, list, glob, exists, delete: what automations do."""
    buckets = sdk.buckets
    buckets.upload(name=name, blob_file_path="in/hello.txt", content="hello, bucket")
    source = tmp_path / "report.bin"
    source.write_bytes(bytes(range(256)) * 4096 + b"tail")
    buckets.upload(name=name, blob_file_path="in/sub/report.bin", source_path=str(source))
    buckets.upload(name=name, blob_file_path="top.csv", content=b"a,b\n", content_type="text/csv")

    target = tmp_path / "downloaded.bin"
    buckets.download(name=name, blob_file_path="in/sub/report.bin", destination_path=str(target))
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
    buckets.download(name=name, blob_file_path="in/hello.txt", destination_path=str(tmp_path / "hello.txt"))
    assert (tmp_path / "hello.txt").read_text() == "hello, bucket"

    listed = buckets.list_files(name=name, prefix="in/")
    assert [(f.full_path, f.size) for f in listed.items] == [
        ("/in/hello.txt", 13),
        ("/in/sub/report.bin", 1048580),
    ]
    first = buckets.list_files(name=name, take_hint=1)
    assert len(first.items) == 1 and first.continuation_token
    second = buckets.list_files(name=name, take_hint=5, continuation_token=first.continuation_token)
    assert [f.full_path for f in first.items + second.items] == [
        "/in/hello.txt",
        "/in/sub/report.bin",
        "/top.csv",
    ]

    everything = buckets.get_files(name=name, recursive=True)
    assert sorted(f.full_path for f in everything.items) == ["in/hello.txt", "in/sub/report.bin", "top.csv"]
    texts = buckets.get_files(name=name, recursive=True, file_name_glob="*.txt")
    assert [f.full_path for f in texts.items] == ["in/hello.txt"]
    assert [f.full_path for f in buckets.get_files(name=name, prefix="in").items] == ["in/hello.txt"]

    assert buckets.exists_file(name=name, blob_file_path="in/hello.txt") is True
    assert buckets.exists_file(name=name, blob_file_path="in/hello") is False
    assert buckets.exists_file(name=name, blob_file_path="in/nothing.txt") is False
    buckets.delete_file(name=name, blob_file_path="in/hello.txt")
    assert buckets.exists_file(name=name, blob_file_path="in/hello.txt") is False
    assert buckets.exists_file(name=name, blob_file_path="in/sub/report.bin") is True


def test_sdk_buckets_on_local_storage(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sdk = _sdk(server, _admin_token(server), monkeypatch, tmp_path)
    created = sdk.buckets.create("e2e-local", description="Podium's own storage")
    assert isinstance(created.id, int) and created.name == "e2e-local" and created.credential_store_id is None
    assert sdk.buckets.retrieve(name="e2e-local").id == created.id
    assert sdk.buckets.retrieve(key=created.identifier).id == created.id
    assert sdk.buckets.exists("e2e-local") is True and sdk.buckets.exists("no-such-bucket") is False
    assert [b.name for b in sdk.buckets.list(name="e2e").items] == ["e2e-local"]

    _drive_files(sdk, "e2e-local", tmp_path)

    sdk.buckets.delete(name="e2e-local")
    assert sdk.buckets.exists("e2e-local") is False
    with pytest.raises(LookupError):
        sdk.buckets.retrieve(name="e2e-local")


def test_sdk_buckets_on_s3(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = _admin_token(server)
    with moto_s3("podium-e2e") as endpoint:
        body = s3_bucket_body("e2e-s3", endpoint, container="podium-e2e")
        headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
        created = ok(httpx.post(f"{server}{ODATA}/Buckets", json=body, headers=headers, timeout=10), 201)
        sdk = _sdk(server, token, monkeypatch, tmp_path)
        bucket = sdk.buckets.retrieve(name="e2e-s3")
        assert bucket.id == created["Id"] and bucket.storage_provider == "Amazon" and bucket.password is None

        _drive_files(sdk, "e2e-s3", tmp_path)

        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="k",
            aws_secret_access_key="s",
        )
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="podium-e2e")["Contents"])
        assert keys == ["in/sub/report.bin", "top.csv"]  # the bytes went to S3 directly
        sdk.buckets.delete(name="e2e-s3")
        assert sdk.buckets.exists("e2e-s3") is False
