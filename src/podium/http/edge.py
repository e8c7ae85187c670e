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
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from podium.errors import ErrorCode, PodiumError

log = logging.getLogger("podium.edge")

TOP_LEVEL = {"odata", "api", "identity_", "swagger", "orchestrator_", "robot", "docs", "favicon.ico"}
SERVICE_ROOTS = {"odata", "api"}


def error_body(message: str, code: int, trace_id: str) -> bytes:
    return orjson.dumps({"message": message, "errorCode": code, "traceId": trace_id})


def error_response(error: PodiumError, scope: Scope) -> Response:
    """Orchestrator's error body for ``error`` (401 also names the Bearer scheme)."""
    body = error_body(error.message, error.code, scope.get("podium.trace_id", ""))
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return Response(body, status_code=error.status, media_type="application/json", headers=headers)


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

    def __init__(self, app: ASGIApp, max_body_bytes: int | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

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
        if self.max_body_bytes is not None:
            limited = await _limit_body(scope, receive, self.max_body_bytes)
            if limited is None:
                too_large = PodiumError(
                    "The request body is too large.", status=413, code=ErrorCode.PAYLOAD_TOO_LARGE
                )
                await _send_error(send, too_large, scope)
                return
            receive = limited
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


STRUCTURED = (b"application/json", b"application/x-www-form-urlencoded", b"text/plain")
# bucket files: any content type (a .txt is text/plain), streamed under max_blob_bytes by their handler
FILE_ROUTES = ("/api/BlobFiles/",)


async def _limit_body(scope: Scope, receive: Receive, limit: int) -> Receive | None:
    """``receive`` for a body within ``limit`` bytes, None for a larger one.

    Only structured bodies (JSON, forms: what API calls and token requests send) are limited here; file
    uploads (packages, bucket files) are streamed by their handlers under limits of their own. A declared
    Content-Length is checked up front (the server delivers no more than it); a chunked body is read
    here, up to the limit.
    """
    if scope["path"].startswith(FILE_ROUTES):
        return receive
    headers = dict(scope.get("headers") or [])
    content_type = headers.get(b"content-type", b"application/json").split(b";")[0].strip().lower()
    if content_type not in STRUCTURED:
        return receive
    declared = headers.get(b"content-length")
    if declared is not None:
        return None if declared.isdigit() and int(declared) > limit else receive
    if b"transfer-encoding" not in headers:
        return receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            return None
        if not message.get("more_body", False):
            break
    replayed = False

    async def replay() -> Any:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        return await receive()

    return replay


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
