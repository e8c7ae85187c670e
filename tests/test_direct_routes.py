"""Which routes the edge serves itself (podium.http.direct) and that they answer like FastAPI would."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from podium.http.direct import DirectRoutes, serve
from podium.http.edge import EdgeMiddleware
from podium.odata.routes import odata
from tests.support import Api, assert_error


class Body(BaseModel):
    name: str


def test_only_request_only_endpoints_are_taken() -> None:
    router = APIRouter()

    @router.post("/api/raw")
    async def raw(request: Request) -> Response:
        return Response()

    @router.post("/api/validated")
    async def validated(body: Body) -> Response:
        return Response()

    @router.get("/api/item/{key}")
    async def item(request: Request) -> Response:
        return Response()

    @router.get("/api/serialised")
    async def serialised(request: Request) -> dict[str, str]:
        return {}

    @router.get("/odata/Permissions")
    async def permissions(request: Request) -> Response:
        return Response()

    direct = DirectRoutes([router], odata)
    assert set(direct.exact) == {("POST", "/api/raw")}
    assert direct.find("POST", "/api/raw") is raw
    assert direct.find("GET", "/api/raw") is None
    assert direct.find("GET", "/odata/Jobs") is odata
    assert direct.find("GET", "/odata/Permissions") is None  # FastAPI serves it


def test_direct_routes_answer_errors_with_the_error_body(api: Api) -> None:
    response = api.client.post(
        "/api/Logs/SubmitLogs",
        content=b"not json",
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    assert_error(response, 400)
    assert_error(api.client.post("/api/Logs/SubmitLogs", json=[]), 401)
    assert_error(api.client.get("/odata/Jobs"), 401)


def test_direct_routes_answer_starlette_http_errors_with_the_error_body() -> None:
    """A direct route whose request.form() meets a multipart body without its boundary (Starlette's
    HTTPException): the error body with the status, not the edge's 500 (found by tests/test_fuzz_api.py
    at /identity_/connect/token)."""

    async def endpoint(request: Request) -> Response:
        await request.form()
        return Response()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = app  # as PodiumApp sets it (Starlette raises HTTPException only with an app)
        await serve(endpoint, scope, receive, send)

    client = TestClient(EdgeMiddleware(app))  # no lifespan
    response = client.post("/api/form", content=b"x", headers={"Content-Type": "multipart/form-data"})
    assert_error(response, 400)
