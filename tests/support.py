"""Helpers for tests: an in-process Podium with an authenticated client."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from podium.app import create_app
from podium.config import Settings
from podium.db.engine import Database
from podium.domain.tenancy import TenantSeed, create_tenant

SIGNING_KEY = "test-signing-key-" + "x" * 32  # the token signing key of every test app

ADMIN_PASSWORD = "admin-password-1"


async def _create_tenant(url: str, name: str) -> TenantSeed:
    db = Database(url)
    try:
        async with db.write() as conn:
            return await create_tenant(conn, name, ADMIN_PASSWORD)
    finally:
        await db.dispose()


def create_tenant_sync(url: str, name: str) -> TenantSeed:
    return asyncio.run(_create_tenant(url, name))


class Api:
    """A TestClient bound to one tenant's admin token; ``folder=`` adds the folder header."""

    def __init__(self, client: TestClient, tenant: TenantSeed, tenant_name: str) -> None:
        self.client = client
        self.tenant = tenant
        self.tenant_name = tenant_name
        self.token = self.login("admin", ADMIN_PASSWORD)

    def login(self, user: str, password: str) -> str:
        response = self.client.post(
            "/api/Account/Authenticate",
            json={"tenancyName": self.tenant_name, "usernameOrEmailAddress": user, "password": password},
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["result"]
        return token

    def headers(self, folder: int | str | None = None, token: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if isinstance(folder, int):
            headers["X-UIPATH-OrganizationUnitId"] = str(folder)
        elif isinstance(folder, str):
            headers["X-UIPATH-FolderPath"] = folder
        return headers

    def get(self, url: str, folder: int | str | None = None, **kw: Any) -> httpx.Response:
        return self.client.get(url, headers=self.headers(folder, kw.pop("token", None)), **kw)

    def post(self, url: str, body: Any = None, folder: int | str | None = None, **kw: Any) -> httpx.Response:
        return self.client.post(url, json=body, headers=self.headers(folder, kw.pop("token", None)), **kw)

    def put(self, url: str, body: Any = None, folder: int | str | None = None, **kw: Any) -> httpx.Response:
        return self.client.put(url, json=body, headers=self.headers(folder, kw.pop("token", None)), **kw)

    def patch(self, url: str, body: Any = None, folder: int | str | None = None, **kw: Any) -> httpx.Response:
        return self.client.patch(url, json=body, headers=self.headers(folder, kw.pop("token", None)), **kw)

    def delete(self, url: str, folder: int | str | None = None, **kw: Any) -> httpx.Response:
        return self.client.delete(url, headers=self.headers(folder, kw.pop("token", None)), **kw)

    def ok(self, response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, f"{response.status_code}: {response.text}"
        return response.json() if response.content else None


def encoded(path: str) -> str:
    """A folder path as the ``X-UIPATH-FolderPath-Encoded`` header carries it: base64 of UTF-16LE."""
    return base64.b64encode(path.encode("utf-16-le")).decode()


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """A 4xx with Orchestrator's error body."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body: dict[str, Any] = response.json()
    assert set(body) == {"message", "errorCode", "traceId"}, body
    assert body["message"] and isinstance(body["errorCode"], int) and body["traceId"]
    return body


@contextmanager
def start_app(
    url: str, data_dir: Path, tenant_name: str = "Default", max_body_bytes: int | None = None
) -> Iterator[Api]:
    tenant = create_tenant_sync(url, tenant_name)
    settings = Settings(data_dir=data_dir, database_url=url, secret_key=SIGNING_KEY)
    if max_body_bytes is not None:
        settings.max_body_bytes = max_body_bytes
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, tenant, tenant_name)
