"""Routes served straight from the edge, past FastAPI's routing and middleware layers.

FastAPI tries the routes one after the other and runs each call through its middleware stack: about
0.3 ms a call here, which is a third of a Jobs list and a quarter of a SubmitLogs batch. Two kinds of
route need none of it and are dispatched from one dictionary lookup instead:

* every ``/odata/...`` path (one handler parses the raw path itself), except names that have FastAPI
  routes of their own (``/odata/Permissions``, the package feeds);
* ``/api/...`` endpoints that take only the ``Request`` and return a ``Response`` (no parameters to
  validate, nothing for FastAPI to serialise), such as ``/api/Logs/SubmitLogs`` and the robot protocol.

Their FastAPI routes stay registered, for the OpenAPI document. Podium's errors become Orchestrator's
error body here (and so do Starlette's HTTP errors, as FastAPI's handler makes them); anything else reaches
the edge, which answers 500.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from podium.errors import PodiumError
from podium.http.edge import error_response

Endpoint = Callable[[Request], Awaitable[Response]]


def first_odata_segment(path: str) -> str:
    """``Processes`` for ``/odata/Processes('x')/...`` or ``/odata/Processes``."""
    rest = path[len("/odata/") :]
    for stop in ("(", "/"):
        rest = rest.split(stop, 1)[0]
    return rest


def _request_only(endpoint: Callable[..., Any]) -> bool:
    """``async def f(request: Request) -> Response`` (or a Response subclass)."""
    if not inspect.iscoroutinefunction(endpoint):
        return False
    try:
        hints = typing.get_type_hints(endpoint)
    except (NameError, TypeError):
        return False
    parameters = list(inspect.signature(endpoint).parameters)
    returns = hints.get("return")
    return (
        len(parameters) == 1
        and hints.get(parameters[0]) is Request
        and isinstance(returns, type)
        and issubclass(returns, Response)
    )


class DirectRoutes:
    def __init__(self, routers: Iterable[APIRouter], odata: Endpoint) -> None:
        self.odata = odata  # the one handler of every other ``/odata/...`` path
        self.routed_odata: set[str] = set()
        self.exact: dict[tuple[str, str], Endpoint] = {}
        for router in routers:
            for route in router.routes:
                if not isinstance(route, APIRoute):
                    continue
                if route.path.startswith("/odata/"):
                    if "{rest" not in route.path:
                        self.routed_odata.add(first_odata_segment(route.path))
                    continue
                if "{" in route.path or route.dependencies or not _request_only(route.endpoint):
                    continue
                for method in route.methods or ():
                    self.exact[(method, route.path)] = route.endpoint

    def find(self, method: str, path: str) -> Endpoint | None:
        if path.startswith("/odata/"):
            return None if first_odata_segment(path) in self.routed_odata else self.odata
        return self.exact.get((method, path))


async def serve(endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    try:
        response = await endpoint(request)
    except PodiumError as error:
        response = error_response(error, scope)
    except HTTPException as error:  # Starlette's own, e.g. request.form() of a malformed multipart body
        response = error_response(PodiumError(str(error.detail), status=error.status_code), scope)
    await response(scope, receive, send)
