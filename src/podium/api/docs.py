"""OpenAPI JSON at ``/swagger/v1/swagger.json`` and Swagger UI at ``/swagger``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from starlette.responses import HTMLResponse, JSONResponse

from podium import __version__

router = APIRouter(include_in_schema=False)


def build_openapi(request: Request) -> dict[str, Any]:
    app = request.app
    return get_openapi(title="Podium", version=__version__, routes=app.routes)


@router.get("/swagger/v1/swagger.json")
async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(build_openapi(request))


@router.get("/swagger")
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/swagger/v1/swagger.json", title="Podium API")
