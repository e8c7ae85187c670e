"""Bucket files over a real socket (Podium served by uvicorn in a thread): uploads and downloads
stream with bounded memory, the size limit holds for declared and chunked bodies, and S3 buckets
with ``AccessDataThroughOrchestrator`` stream through Podium too."""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.buckets_support import NS, LiveServer, allow_private, live_podium, moto_s3, s3_bucket_body

pytestmark = pytest.mark.e2e

CHUNK = 1024 * 1024
SIZE_MB = 48
LOCAL_BUDGET = 16 * 1024 * 1024  # far below the 48 MiB that move
S3_BUDGET = 24 * 1024 * 1024  # multipart: up to PART_CONCURRENCY parts of 5 MiB in flight, one filling


def _chunks(count: int) -> Iterator[bytes]:
    block = bytes(range(256)) * (CHUNK // 256)
    for index in range(count):
        yield block[index:] + block[:index]


def _digest(count: int) -> str:
    digest = hashlib.sha256()
    for chunk in _chunks(count):
        digest.update(chunk)
    return digest.hexdigest()


def _bucket(server: LiveServer, body: dict[str, Any]) -> dict[str, Any]:
    response = server.http.post("/odata/Buckets", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def _uri(server: LiveServer, bucket: dict[str, Any], operation: str, path: str) -> str:
    response = server.odata(f"({bucket['Id']})/{NS}.{operation}", params={"path": path})
    assert response.status_code == 200, response.text
    uri: str = response.json()["Uri"]
    return uri


def _round_trip_with_bounded_memory(server: LiveServer, bucket: dict[str, Any], budget: int) -> None:
    write = _uri(server, bucket, "GetWriteUri", "big/data.bin")
    tracemalloc.start()
    try:
        with httpx.Client(timeout=120) as bare:  # no credentials: the URI is the capability
            sent = bare.put(
                write, content=_chunks(SIZE_MB), headers={"Content-Type": "application/octet-stream"}
            )
            assert sent.status_code == 201, sent.text
            upload_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            read = _uri(server, bucket, "GetReadUri", "big/data.bin")
            digest = hashlib.sha256()
            with bare.stream("GET", read) as response:
                assert response.status_code == 200
                assert response.headers["content-length"] == str(SIZE_MB * CHUNK)
                for chunk in response.iter_bytes():
                    digest.update(chunk)
            download_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == _digest(SIZE_MB)
    assert upload_peak < budget, f"upload peak {upload_peak} bytes"
    assert download_peak < budget, f"download peak {download_peak} bytes"
    info = server.odata(f"({bucket['Id']})/{NS}.GetFile", params={"path": "big/data.bin"}).json()
    assert info["Size"] == SIZE_MB * CHUNK


def test_local_storage_streams_over_a_socket(database_url: str, tmp_path: Path) -> None:
    with live_podium(database_url, tmp_path / "data") as server:
        bucket = _bucket(server, {"Name": "big"})
        _round_trip_with_bounded_memory(server, bucket, LOCAL_BUDGET)
        ranged = httpx.get(_uri(server, bucket, "GetReadUri", "big/data.bin"), headers={"Range": "bytes=0-9"})
        assert ranged.status_code == 206 and ranged.content == next(_chunks(1))[:10]


def test_s3_through_podium_streams_over_a_socket(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_private(monkeypatch)  # moto listens on loopback
    with moto_s3("podium-stream") as endpoint, live_podium(database_url, tmp_path / "data") as server:
        body = s3_bucket_body(
            "s3-big", endpoint, container="podium-stream", Options="AccessDataThroughOrchestrator"
        )
        _round_trip_with_bounded_memory(server, _bucket(server, body), S3_BUDGET)


def test_size_limit_over_a_socket_keeps_nothing(database_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with live_podium(database_url, data, max_blob_bytes=4 * CHUNK, max_body_bytes=CHUNK) as server:
        bucket = _bucket(server, {"Name": "limited"})
        write = _uri(server, bucket, "GetWriteUri", "too/big.bin")
        with httpx.Client(timeout=60) as bare:
            declared = bare.put(write, content=b"x" * (4 * CHUNK + 1))
            assert declared.status_code == 413 and set(declared.json()) == {"message", "errorCode", "traceId"}
            try:
                streamed = bare.put(write, content=_chunks(8))  # chunked: found while streaming
                assert streamed.status_code == 413
            except httpx.TransportError:
                pass  # the server may close the connection while the client is still sending
            assert bare.put(write, content=_chunks(4)).status_code == 201  # exactly the limit is fine
            # bodies above the API's JSON limit are fine here, whatever their type (a .txt is text/plain)
            text = _uri(server, bucket, "GetWriteUri", "notes.txt")
            assert (
                bare.put(text, content=b"t" * (2 * CHUNK), headers={"Content-Type": "text/plain"}).status_code
                == 201
            )
            assert bare.put(text, content=_chunks(2)).status_code == 201  # chunked, no Content-Type
        info = server.odata(f"({bucket['Id']})/{NS}.GetFile", params={"path": "too/big.bin"}).json()
        assert info["Size"] == 4 * CHUNK
        leftovers = [p for p in (data / "buckets" / ".tmp").iterdir()]
        assert leftovers == []
