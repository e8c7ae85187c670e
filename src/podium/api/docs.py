"""OpenAPI JSON at ``/swagger/v1/swagger.json`` and Swagger UI at ``/swagger`` (no authentication).

The document is FastAPI's own for the explicit ``/api/...`` routes (the OData catch-all route is
left out of it) merged with the paths and DTO schemas generated from the OData registry. It is
built once per application: the routes and the registry do not change after startup.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from starlette.responses import HTMLResponse, JSONResponse

from podium import __version__
from podium.odata.openapi import registry_openapi
from podium.odata.registry import Area, registry

router = APIRouter(include_in_schema=False)
area = Area("Docs", router)
OPENAPI_PATH = "/swagger/v1/swagger.json"
# Routes answered without a token (everything else wants ``Authorization: Bearer <token>``).
ANONYMOUS = (
    "/api/Account/Authenticate",
    "/identity_/connect/token",
    "/api/status/version",
    "/odata/$metadata",
)
BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "A token from /api/Account/Authenticate or /identity_/connect/token, or a personal "
    "access token.",
}

METADATA = {
    "tags": ["OData"],
    "summary": "The service's CSDL document (entity types, enums, actions and functions)",
    "operationId": "OData_Metadata",
    "responses": {
        "200": {"description": "CSDL 4.0", "content": {"application/xml": {"schema": {"type": "string"}}}}
    },
}


def _merge(target: dict[str, Any], extra: dict[str, Any]) -> None:
    """Adds what ``target`` lacks, one level deep (an explicit route wins over a generated one)."""
    for key, value in extra.items():
        existing = target.setdefault(key, value)
        if existing is not value and isinstance(existing, dict) and isinstance(value, dict):
            for inner, item in value.items():
                existing.setdefault(inner, item)


def build_openapi(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title or "Podium",
        version=app.version or __version__,
        description=app.description,
        routes=app.routes,
    )
    generated = registry_openapi(registry)
    paths: dict[str, Any] = document.setdefault("paths", {})
    _merge(paths, generated["paths"])
    paths.setdefault("/odata/$metadata", {"get": METADATA})
    components: dict[str, Any] = document.setdefault("components", {})
    _merge(components.setdefault("schemas", {}), generated["schemas"])
    components["securitySchemes"] = {"bearer": BEARER}
    document["security"] = [{"bearer": []}]
    for path in ANONYMOUS:
        for operation in paths.get(path, {}).values():
            operation["security"] = []
    known = {tag["name"] for tag in document.get("tags", [])}
    document["tags"] = [*document.get("tags", []), *(t for t in generated["tags"] if t["name"] not in known)]
    return document


def cached_openapi(app: FastAPI) -> dict[str, Any]:
    """The document, built on first use and kept in FastAPI's own cache slot."""
    if app.openapi_schema is None:
        app.openapi_schema = build_openapi(app)
    return app.openapi_schema


@router.get(OPENAPI_PATH)
async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(cached_openapi(request.app))


@router.get("/swagger")
async def swagger_ui(request: Request) -> HTMLResponse:
    # Under /{org}/{tenant}/orchestrator_/swagger the document is fetched under the same prefix.
    prefix: str = request.scope.get("podium.prefix", "")
    return get_swagger_ui_html(
        openapi_url=prefix + OPENAPI_PATH,
        title="Podium API",
        swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
    )
