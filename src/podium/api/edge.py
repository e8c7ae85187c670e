"""The HTTP edge: cloud-style URL prefixes, trace ids, and Orchestrator's error body.

``/{org}/{tenant}/orchestrator_/odata/Jobs`` is served by the same routes as ``/odata/Jobs``: the
middleware strips the prefix (from both the decoded and the raw path) and remembers the tenant name,
which must then match the token's tenant.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from podium.errors import PodiumError

log = logging.getLogger("podium.edge")

TOP_LEVEL = {"odata", "api", "identity_", "swagger", "orchestrator_", "robot", "docs", "favicon.ico"}
SERVICE_ROOTS = {"odata", "api"}


def error_body(message: str, code: int, trace_id: str) -> bytes:
    return orjson.dumps({"message": message, "errorCode": code, "traceId": trace_id})


def _split_prefix(path: str) -> tuple[str, str, str | None] | None:
    """(prefix, rest, tenant name) for a cloud-style path, else None."""
    parts = path.split("/", 4)  # "", org, tenant, service, rest
    if len(parts) < 3 or parts[1] in TOP_LEVEL or not parts[1]:
        return None
    if parts[2] == "identity_":
        return "/" + parts[1], "/" + "/".join(parts[2:]), None
    if len(parts) >= 4 and parts[3] == "orchestrator_":
        rest = "/" + parts[4] if len(parts) == 5 else "/"
        return "/".join(parts[:4]), rest, parts[2]
    if len(parts) >= 4 and parts[3] in SERVICE_ROOTS:
        return "/".join(parts[:3]), "/" + "/".join(parts[3:]), parts[2]
    return None


def _strip_segments(raw_path: bytes, count: int) -> bytes:
    """The raw (still percent-encoded) path without its first ``count`` segments."""
    parts = raw_path.split(b"/", count + 1)
    return b"/" + parts[count + 1] if len(parts) > count + 1 else b"/"


class EdgeMiddleware:
    """Strips cloud prefixes, stamps a trace id, and turns stray exceptions into a 500 error body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["podium.trace_id"] = uuid.uuid4().hex
        split = _split_prefix(scope["path"])
        if split is not None:
            prefix, rest, tenant = split
            scope["path"] = rest
            scope["raw_path"] = _strip_segments(scope.get("raw_path") or b"", prefix.count("/"))
            scope["podium.prefix"] = prefix
            scope["podium.tenant_name"] = tenant
        started: dict[str, Any] = {"value": False}

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                started["value"] = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled error (trace %s)", scope["podium.trace_id"])
            if started["value"]:
                raise
            await _send_error(send, PodiumError("An unexpected error occurred.", status=500), scope)


async def _send_error(send: Send, error: PodiumError, scope: Scope) -> None:
    body = error_body(error.message, error.code, scope.get("podium.trace_id", ""))
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
