"""The HTTP edge: cloud-style URL prefixes, trace ids, and Orchestrator's error body.

``/{org}/{tenant}/orchestrator_/odata/Jobs`` is served by the same routes as ``/odata/Jobs``: the
middleware strips the prefix (from both the decoded and the raw path) and remembers the tenant name,
which must then match the token's tenant.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from podium.errors import ErrorCode, PodiumError

log = logging.getLogger("podium.edge")

TOP_LEVEL = {
    "odata",
    "api",
    "identity_",
    "swagger",
    "orchestrator_",
    "robot",
    "docs",
    "favicon.ico",
    "tasks",
    "forms",
}
SERVICE_ROOTS = {"odata", "api"}
BAD_HOST = PodiumError("The Host header is not a valid host name.", status=400)
UNEXPECTED = PodiumError("An unexpected error occurred.", status=500)
TOO_LARGE = PodiumError("The request body is too large.", status=413, code=ErrorCode.PAYLOAD_TOO_LARGE)


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


LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})?"
HOST = re.compile(rf"(?:{LABEL}(?:\.{LABEL})*\.?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?")


def valid_host(headers: list[tuple[bytes, bytes]]) -> bool:
    """A Host header that is a host name or address with an optional port, and nothing else (it ends up
    in links and ``@odata.context`` when no public URL is configured)."""
    hosts = [value for name, value in headers if name == b"host"]
    if len(hosts) != 1:
        return len(hosts) == 0
    try:
        return HOST.fullmatch(hosts[0].decode("ascii")) is not None
    except UnicodeDecodeError:
        return False


class EdgeMiddleware:
    """Strips cloud prefixes, stamps a trace id, limits bodies, and turns stray exceptions into a 500
    error body (logged with the stack and the trace id the client sees)."""

    def __init__(self, app: ASGIApp, limits: BodyLimits | None = None, public_url: str | None = None) -> None:
        self.app = app
        self.limits = limits
        self.public_url = public_url.rstrip("/") if public_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["podium.trace_id"] = os.urandom(16).hex()  # 32 hex digits, as uuid4().hex, 4x cheaper
        if self.public_url is not None:
            scope["podium.public_url"] = self.public_url
        elif not valid_host(scope.get("headers") or []):
            await _send_error(send, BAD_HOST, scope)
            return
        split = _split_prefix(scope["path"])
        if split is not None:
            prefix, rest, tenant = split
            scope["path"] = rest
            scope["raw_path"] = _strip_segments(scope.get("raw_path") or b"", prefix.count("/"))
            scope["podium.prefix"] = prefix
            scope["podium.tenant_name"] = tenant
        if self.limits is not None:
            limited = await _limit_body(scope, receive, self.limits)
            if limited is None:
                await _send_error(send, TOO_LARGE, scope)
                return
            receive = limited
        progress = {"started": False, "complete": False}

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                progress["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                progress["complete"] = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except BodyTooLarge:
            if progress["started"]:
                raise
            await _send_error(send, TOO_LARGE, scope)
        except Exception:
            log.exception("unhandled error (trace %s)", scope["podium.trace_id"])
            if progress["complete"]:  # the app's own error handler has answered (the JSON 500 body)
                return
            if progress["started"]:
                raise
            await _send_error(send, UNEXPECTED, scope)


# routes that stream files under limits of their own (bucket files, package uploads): their bodies are
# counted as they stream, not buffered; every other body, of any content type, is held to max_body_bytes
BLOB_ROUTE = "/api/BlobFiles/"
PACKAGE_ROUTE_SUFFIXES = (".UploadPackage", ".UploadPackages")
MULTIPART_OVERHEAD = 1024 * 1024  # a package's multipart envelope: headers and boundaries


class BodyTooLarge(PodiumError):
    """A streamed body went past its route's limit: a 413 wherever it is raised (the handler reading
    the body, FastAPI's error handlers, or the edge)."""

    def __init__(self) -> None:
        super().__init__(TOO_LARGE.message, status=TOO_LARGE.status, code=TOO_LARGE.code)


@dataclass(frozen=True)
class BodyLimits:
    body: int  # any API call, token request or log batch
    blob: int  # a bucket file through /api/BlobFiles/
    package: int  # a package upload

    def file_limit(self, path: str) -> int | None:
        """The limit of a file route, None for every other path."""
        if path.startswith(BLOB_ROUTE):
            return self.blob
        if path.endswith(PACKAGE_ROUTE_SUFFIXES):
            return self.package + MULTIPART_OVERHEAD
        return None


async def _limit_body(scope: Scope, receive: Receive, limits: BodyLimits) -> Receive | None:
    """``receive`` for a body within its limit, None for one that is larger.

    Every content type counts (an ``application/octet-stream`` login is still a login), and the check
    runs before authentication. A declared Content-Length is checked up front (the server delivers no
    more than it). A chunked body of an API call is read here, up to ``limit``; a file route's chunked
    body is counted while its handler streams it, and stopped at ``file_limit``.
    """
    headers = dict(scope.get("headers") or [])
    file_limit = limits.file_limit(scope["path"])
    allowed = file_limit if file_limit is not None else limits.body
    declared = headers.get(b"content-length")
    if declared is not None:
        return None if not declared.isdigit() or int(declared) > allowed else receive
    if b"transfer-encoding" not in headers:
        return receive
    if file_limit is not None:
        return _counted(receive, file_limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limits.body:
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


def _counted(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counting() -> Any:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge
        return message

    return counting


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
