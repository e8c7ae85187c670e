"""Builds the ASGI application: routes, the edge middleware, error handlers and the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from podium import __version__
from podium.api import load_areas
from podium.api.edge import EdgeMiddleware, error_body
from podium.api.robot_runtime import RobotRuntime
from podium.api.services import Services
from podium.config import Settings
from podium.db.engine import Database
from podium.errors import ErrorCode, PodiumError


def _error_response(request: Request, error: PodiumError) -> Response:
    body = error_body(error.message, error.code, request.scope.get("podium.trace_id", ""))
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return Response(body, status_code=error.status, media_type="application/json", headers=headers)


def start_robot_runtime(app: FastAPI) -> RobotRuntime:
    """Robots' background work: waking long-polls, LISTEN on PostgreSQL, the heartbeat sweep."""
    runtime = RobotRuntime(app.state.services)
    app.state.robot_runtime = runtime
    runtime.start()
    return runtime


def create_app(settings: Settings, database: Database | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = database or Database(settings.resolved_database_url)
        app.state.services = Services(settings=settings, db=db, signing_key=settings.signing_key())
        robots = start_robot_runtime(app)
        try:
            yield
        finally:
            await robots.stop()
            if database is None:
                await db.dispose()

    app = FastAPI(
        title="Podium",
        version=__version__,
        description="An orchestrator for software robots that speaks the UiPath Orchestrator API.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.exception_handler(PodiumError)
    async def podium_error(request: Request, error: PodiumError) -> Response:
        return _error_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"{first.get('msg', 'Invalid request')}" + (f" ({where})" if where else "")
        return _error_response(request, PodiumError(message, status=400, code=ErrorCode.VALIDATION))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        message = "The resource was not found." if error.status_code == 404 else str(error.detail)
        return _error_response(
            request, PodiumError(message, status=error.status_code, code=ErrorCode.GENERIC)
        )

    @app.get("/api/status/version", tags=["Status"], summary="Podium's version; answers once Podium is ready")
    async def version() -> dict[str, str]:
        return {"version": __version__, "product": "Podium"}

    for router in load_areas():
        app.include_router(router)
    app.add_middleware(EdgeMiddleware, max_body_bytes=settings.max_body_bytes)
    return app
