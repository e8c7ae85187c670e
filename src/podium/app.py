"""Builds the ASGI application: routes, the edge middleware, error handlers and the lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from podium import __version__
from podium.api import areas
from podium.config import Settings
from podium.db.engine import Database
from podium.domain import revocations, tenant_files, wakeups
from podium.domain.settings import sync_defaults, use_environment
from podium.errors import ErrorCode, PodiumError
from podium.http import heap
from podium.http.direct import DirectRoutes, serve
from podium.http.edge import UNEXPECTED, BodyLimits, EdgeMiddleware, error_response
from podium.http.state import AppState
from podium.odata.routes import odata
from podium.services.all import SERVICES
from podium.services.runner import ServiceRunner
from podium.web import console

log = logging.getLogger("podium")

DISPOSE_TIMEOUT = 10.0
"""Seconds a shutdown waits for the database pools to close (a connection stuck in a driver thread must
not hold the process)."""


def _error_response(request: Request, error: PodiumError) -> Response:
    return error_response(error, request.scope)


class PodiumApp(FastAPI):
    """FastAPI behind Podium's edge; the routes in ``direct`` are served from the edge without FastAPI's
    routing and middleware (see ``podium.http.direct``)."""

    edge: EdgeMiddleware | None = None
    direct: DirectRoutes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.edge is None or scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        await self.edge(scope, receive, send)

    async def _behind_edge(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.direct.find(scope["method"], scope["path"]) if self.direct is not None else None
        if endpoint is not None:
            scope["app"] = self
            await serve(endpoint, scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings, database: Database | None = None, settle_heap: bool = False) -> FastAPI:
    """The app; with ``settle_heap`` (``podium serve``) its process's start-up heap is frozen once the
    app has started (``http/heap.py``)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = database or Database(
            settings.resolved_database_url, write_concurrency=settings.write_concurrency
        )
        state = AppState(settings=settings, db=db, signing_key=settings.signing_key())
        app.state.podium = state
        # jobs and stop requests committed in this process wake its long-polling robots at once
        uninstall_wakeups = wakeups.install(db.write_engine, state.hub.deliver)
        # access revoked in this process is forgotten by its caches at commit (others: robot_wakeups)
        uninstall_revocations = revocations.install(db.write_engine, state.revoke)
        # a deleted tenant's files go once its rows have gone (committed)
        uninstall_tenant_files = tenant_files.install(db.write_engine, settings)
        use_environment(settings, db.engines)
        async with db.write() as conn:  # settings keys added since the last start get their rows
            await sync_defaults(conn)
        runner = app.state.services = ServiceRunner(state, SERVICES)
        runner.start()
        if db.asyncpg is not None:  # hot statements on asyncpg, in this loop (db/asyncpg_connections.py)
            db.asyncpg.bind(asyncio.get_running_loop())
        if settle_heap:
            heap.settle()
        try:
            yield
        finally:
            await runner.stop()
            if db.asyncpg is not None:
                await db.asyncpg.release()  # its connections belong to this loop, whoever owns db
            uninstall_wakeups()
            uninstall_revocations()
            uninstall_tenant_files()
            if database is None:
                try:
                    await asyncio.wait_for(db.dispose(), DISPOSE_TIMEOUT)
                except TimeoutError:
                    log.error("the database pools did not close within %g s; leaving them", DISPOSE_TIMEOUT)

    app = PodiumApp(
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

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> Response:
        """FastAPI's routes: the JSON body instead of Starlette's plain-text 500 (the edge logs the stack)."""
        return _error_response(request, UNEXPECTED)

    @app.get("/api/status/version", tags=["Status"], summary="Podium's version; answers once Podium is ready")
    async def version() -> dict[str, str]:
        return {"version": __version__, "product": "Podium"}

    routers = areas.install()
    for router in routers:
        app.include_router(router)
    app.include_router(console.router)
    app.direct = DirectRoutes(routers, odata)
    limits = BodyLimits(settings.max_body_bytes, settings.max_blob_bytes, settings.max_package_bytes)
    app.edge = EdgeMiddleware(app._behind_edge, limits, settings.public_url)
    return app


def app_from_environment() -> FastAPI:
    """The app of one worker of ``podium serve --workers N``: settings from the environment (the parent
    process has applied the migrations and put the data folder and database URL there)."""
    return create_app(Settings(), settle_heap=True)
