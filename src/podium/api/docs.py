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
from podium.odata.openapi import ERROR_SCHEMA, ref, registry_openapi
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


ERROR_RESPONSE = {
    "description": "Error (message, errorCode, traceId)",
    "content": {"application/json": {"schema": ref(ERROR_SCHEMA)}},
}


TOKEN_PATH = "/identity_/connect/token"
_TEXT = {"type": "string"}
TOKEN_FORM = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials", "password"]},
        **{name: _TEXT for name in ("client_id", "client_secret", "username", "password", "tenant", "scope")},
    },
}
# OAuth 2.0's answers (RFC 6749 5.1 and 5.2); a throttled (429) or too large request answers the error body
TOKEN_RESPONSES = {
    "200": {
        "description": "The access token",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["access_token", "token_type", "expires_in"],
                    "properties": {
                        "access_token": _TEXT,
                        "token_type": _TEXT,
                        "expires_in": {"type": "integer"},
                        "scope": _TEXT,
                    },
                }
            }
        },
    },
    **{
        status: {
            "description": f"OAuth's error ({what})",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["error", "error_description"],
                        "properties": {"error": _TEXT, "error_description": _TEXT},
                    }
                }
            },
        }
        for status, what in (
            ("400", "invalid_request, unsupported_grant_type, invalid_grant"),
            ("401", "invalid_client"),
        )
    },
}


def _declare_token(paths: dict[str, Any]) -> None:
    """The token endpoint reads its form itself: its body and OAuth's answers are declared here."""
    operation = paths.get(TOKEN_PATH, {}).get("post")
    if operation is None:
        return
    forms = ("application/x-www-form-urlencoded", "application/json")
    operation["requestBody"] = {"required": True, "content": {kind: {"schema": TOKEN_FORM} for kind in forms}}
    operation["responses"].update(TOKEN_RESPONSES)


def _declare_errors(document: dict[str, Any]) -> None:
    """FastAPI's routes answer errors with Orchestrator's error body, invalid input as a 400 (app.py):
    never FastAPI's 422 ``HTTPValidationError``, which its generator declares."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses.setdefault("default", ERROR_RESPONSE)
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


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
    _declare_errors(document)
    _declare_token(document.get("paths", {}))
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
