"""The edge: every body is limited whatever its content type and before authentication, and every
error — an unexpected one too — answers Orchestrator's JSON error body with a trace id."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, Request
from starlette.responses import Response

from podium.http.edge import BodyLimits
from tests.support import Api, assert_error, start_app

LIMIT = 4096
UNAUTHENTICATED = [
    ("/api/Account/Authenticate", "application/x+json"),
    ("/api/Account/Authenticate", "application/octet-stream"),
    ("/api/robot/connect", "application/octet-stream"),
    ("/api/Logs/SubmitLogs", "application/octet-stream"),
    ("/identity_/connect/token", "multipart/form-data; boundary=x"),
    ("/odata/Jobs", "text/csv"),
]


@pytest.fixture
def small_app(database_url: str, tmp_path: Path) -> Iterator[Api]:
    with start_app(database_url, tmp_path, max_body_bytes=LIMIT) as client:
        yield client


@pytest.mark.parametrize(("path", "content_type"), UNAUTHENTICATED)
def test_a_declared_oversized_body_is_refused_before_it_is_read(
    small_app: Api, path: str, content_type: str
) -> None:
    response = small_app.client.post(path, content=b"x" * (LIMIT + 1), headers={"Content-Type": content_type})
    assert assert_error(response, 413)["errorCode"] == 1013


@pytest.mark.parametrize(("path", "content_type"), UNAUTHENTICATED)
def test_a_chunked_oversized_body_is_refused(small_app: Api, path: str, content_type: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(LIMIT // 512 + 2):
            yield b"x" * 512

    response = small_app.client.post(path, content=chunks(), headers={"Content-Type": content_type})
    assert assert_error(response, 413)["errorCode"] == 1013


def test_a_body_within_the_limit_goes_through(small_app: Api) -> None:
    response = small_app.client.post(
        "/api/Account/Authenticate",
        content=b'{"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": "wrong"}',
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code != 413


def test_file_routes_have_their_own_limits() -> None:
    limits = BodyLimits(body=10, blob=1000, package=100)
    assert limits.file_limit("/api/BlobFiles/abc.def") == 1000
    assert limits.file_limit("/odata/Processes/UiPath.Server.Configuration.OData.UploadPackage") > 100
    assert limits.file_limit("/api/Account/Authenticate") is None


def test_an_unexpected_error_in_a_routed_endpoint_answers_the_json_body(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    router = APIRouter()

    @router.get("/api/test/explode")
    async def explode(request: Request, x: int = 1) -> Response:  # not request-only: FastAPI routes it
        raise RuntimeError("boom")

    api.client.app.include_router(router)  # type: ignore[attr-defined]
    with caplog.at_level(logging.ERROR, logger="podium.edge"):
        response = api.client.get("/api/test/explode")
    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"message", "errorCode", "traceId"} and body["traceId"]
    assert "boom" not in body["message"]
    logged = [record for record in caplog.records if body["traceId"] in record.getMessage()]
    assert logged and logged[0].exc_info is not None  # the stack, under the trace id the client saw


@pytest.mark.parametrize("host", ["evil.com/x?", "a b", "x@evil.com", "evil.com:80:80", "<script>"])
def test_a_host_header_that_is_no_host_is_refused(api: Api, host: str) -> None:
    response = api.client.get("/odata/Jobs", headers={**api.headers(), "Host": host})
    assert_error(response, 400)


def test_links_use_the_public_url_when_configured(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODIUM_PUBLIC_URL", "https://podium.example.com/")
    with start_app(database_url, tmp_path) as api:
        headers = {**api.headers(), "Host": "attacker.example"}
        context = api.ok(api.client.get("/odata/Jobs", headers=headers))["@odata.context"]
        assert context.startswith("https://podium.example.com/odata/")
        prefixed = api.client.get("/org/Default/orchestrator_/odata/Jobs", headers=headers)
        assert api.ok(prefixed)["@odata.context"].startswith(
            "https://podium.example.com/org/Default/orchestrator_/odata/"
        )
