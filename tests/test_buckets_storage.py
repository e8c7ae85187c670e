"""The storage layer without HTTP: path validation, signed blob tokens, the local store and the S3
store (against a moto server on loopback)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from podium.errors import PodiumError
from podium.storage import paths
from podium.storage.local import LocalStore
from podium.storage.s3 import S3Settings, S3Store
from podium.storage.signing import BlobGrant, derive_key, sign, verify
from tests.buckets_support import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY, allow_private, moto_s3

BAD_PATHS = [
    "../secret",
    "a/../../b",
    "a/./b",
    "a//b",
    "/etc/passwd",
    "C:/Windows/win.ini",
    "a\\b",
    "..\\x",
    "a\x00b",
    "a\nb",
    "x/" + "n" * 256,
    "",
]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_store_keys_reject_traversal_absolute_nul_and_backslashes(path: str) -> None:
    with pytest.raises(PodiumError) as error:
        paths.validate_key(path)
    assert error.value.status == 400


def test_request_paths_accept_one_leading_slash_as_bucket_root() -> None:
    assert paths.file_path("/dir/file.txt") == "dir/file.txt"
    assert paths.file_path("dir/file.txt") == "dir/file.txt"
    assert paths.directory_path("/") == "" and paths.directory_path(None) == ""
    assert paths.directory_path("/a/b/") == "a/b"
    assert paths.prefix_path("/a/fi") == "a/fi"
    with pytest.raises(PodiumError):
        paths.prefix_path("/../x")


@pytest.mark.parametrize("bad", ["//etc/passwd", "/../x", "/a/../../b", "a\\..\\b", "/a\x00"])
def test_request_paths_out_of_the_bucket_are_refused(bad: str) -> None:
    with pytest.raises(PodiumError):
        paths.file_path(bad)


def test_blob_tokens_bind_tenant_bucket_path_verb_and_expiry() -> None:
    key = derive_key("server-signing-key")
    grant = BlobGrant(1, 7, "dir/report.pdf", "PUT", 2_000_000_000, "application/pdf")
    token = sign(key, grant)
    assert verify(key, token, "PUT", now=1_999_999_999) == grant
    with pytest.raises(PodiumError, match="expired"):
        verify(key, token, "PUT", now=2_000_000_001)
    with pytest.raises(PodiumError, match="grants PUT only"):
        verify(key, token, "GET", now=0)
    with pytest.raises(PodiumError, match="signature"):
        verify(derive_key("another-key"), token, "PUT", now=0)
    payload, _, mac = token.partition(".")
    other = sign(key, BlobGrant(1, 7, "dir/other.pdf", "PUT", 2_000_000_000, None)).partition(".")[0]
    with pytest.raises(PodiumError, match="signature"):
        verify(key, f"{other}.{mac}", "PUT", now=0)  # another payload under this signature
    with pytest.raises(PodiumError, match="signature"):
        verify(key, payload + ".", "PUT", now=0)
    read = sign(key, BlobGrant(1, 7, "a", "GET", 2_000_000_000))
    assert verify(key, read, "HEAD", now=0).verb == "GET"


async def _chunks(count: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for index in range(count):
        yield bytes([index % 251]) * size


def test_local_store_streams_and_keeps_nothing_of_a_failed_upload(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "b", tmp_path / "tmp")

    async def scenario() -> None:
        info = await store.write("d/e/f.bin", _chunks(40), content_type=None, max_bytes=10**9)
        assert info.size == 40 * 64 * 1024 and info.path == "d/e/f.bin"
        with pytest.raises(PodiumError) as error:
            await store.write("d/big.bin", _chunks(40), content_type=None, max_bytes=1024 * 1024)
        assert error.value.status == 413
        assert await store.head("d/big.bin") is None
        assert list((tmp_path / "tmp").iterdir()) == []  # the temporary file is gone
        # an upload that fails midway leaves the previous version untouched
        with pytest.raises(PodiumError):
            await store.write("d/e/f.bin", _chunks(40), content_type=None, max_bytes=100_000)
        assert (await store.head("d/e/f.bin")).size == 40 * 64 * 1024  # type: ignore[union-attr]
        blob = await store.read("d/e/f.bin")
        assert sum([len(c) async for c in blob.chunks]) == 40 * 64 * 1024
        listing = await store.list("", recursive=False)
        assert listing.files == [] and listing.directories == ["d"]
        assert [f.path for f in (await store.list("", recursive=True)).files] == ["d/e/f.bin"]
        with pytest.raises(PodiumError) as clash:
            await store.write("d/e", _chunks(1), content_type=None, max_bytes=10**9)
        assert clash.value.status == 409
        assert await store.delete("d/e/f.bin") is True
        assert await store.delete("d/e/f.bin") is False
        assert not (tmp_path / "b" / "d").exists()  # emptied directories vanish

    asyncio.run(scenario())


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3("podium-unit") as endpoint:
        yield endpoint


def test_s3_store_streams_signs_and_aborts_oversized_uploads(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_private(monkeypatch)  # moto listens on loopback
    store = S3Store(S3Settings("podium-unit", s3_endpoint, S3_REGION, S3_ACCESS_KEY, S3_SECRET_KEY))

    async def scenario() -> None:
        info = await store.write(
            "x/data.bin", _chunks(200), content_type="application/x-test", max_bytes=10**9
        )
        assert info.size == 200 * 64 * 1024  # 12.5 MiB: two multipart parts
        blob = await store.read("x/data.bin")
        assert blob.info.content_type == "application/x-test"
        assert sum([len(c) async for c in blob.chunks]) == info.size
        with pytest.raises(PodiumError) as error:
            await store.write("x/big.bin", _chunks(200), content_type=None, max_bytes=9 * 1024 * 1024)
        assert error.value.status == 413
        assert await store.head("x/big.bin") is None
        listing = await store.list("", recursive=False)
        assert listing.directories == ["x"] and listing.files == []
        put = await store.sign("PUT", "x/signed.txt", dt.timedelta(minutes=5), "text/plain")
        assert put is not None
        async with httpx.AsyncClient() as http:
            sent = await http.put(put.uri, content=b"signed body", headers={"Content-Type": "text/plain"})
            assert sent.status_code == 200
            get = await store.sign("GET", "x/signed.txt", dt.timedelta(minutes=5), None)
            assert get is not None and (await http.get(get.uri)).content == b"signed body"
        assert await store.delete("x/signed.txt") is True
        assert await store.head("x/signed.txt") is None

    asyncio.run(scenario())
