"""The one OData route: ``/odata/{resource path}`` for every entity set, action and function.

The resource path is parsed from the raw URL path (see ``path.py``), then dispatched to the generic
CRUD of the entity set's declaration or to a registered action/function.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from podium.auth.tokens import HOST_KIND
from podium.errors import ErrorCode, PodiumError, forbidden, invalid_odata, not_found
from podium.http.context import HOST_ONLY, RequestContext, request_context
from podium.odata import service
from podium.odata.audit import auditing
from podium.odata.model import EntitySet
from podium.odata.options import QueryOptions, parse_options
from podium.odata.path import ResourcePath, parse_resource_path
from podium.odata.registry import ActionCall, registry
from podium.odata.serialize import dumps

router = APIRouter(include_in_schema=False)
JSON = "application/json; odata.metadata=minimal; odata.streaming=true"


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(dumps(payload), status_code=status, media_type=JSON)


def collection(
    ctx: RequestContext, name: str, rows: list[dict[str, Any]], count: int | None = None
) -> Response:
    payload: dict[str, Any] = {"@odata.context": f"{ctx.odata_base}/$metadata#{name}"}
    if count is not None:
        payload["@odata.count"] = count
    payload["value"] = rows
    return json_response(payload)


def entity(ctx: RequestContext, name: str, dto: dict[str, Any], status: int = 200) -> Response:
    return json_response({"@odata.context": f"{ctx.odata_base}/$metadata#{name}/$entity", **dto}, status)


async def read_json(request: Request) -> Any:
    """The JSON body, or None when there is none; 400 for malformed JSON, 413 when too large."""
    limit: int = request.app.state.podium.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PodiumError("The request body is too large.", status=413, code=ErrorCode.PAYLOAD_TOO_LARGE)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PodiumError("The request body is too large.", status=413, code=ErrorCode.PAYLOAD_TOO_LARGE)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise PodiumError(
            "The request body is not valid JSON.", status=400, code=ErrorCode.VALIDATION
        ) from None
    if _SUSPECT_VALUES.search(raw):  # a walk over every value costs ~1 ms for 1,000 queue items
        check_json_values(body)
    if raw.count(b"[") + raw.count(b"{") >= MAX_DEPTH:
        check_depth(body)
    return body


MAX_DEPTH = 250  # orjson writes at most 254 levels: a deeper body could be read but never stored or answered


def check_depth(body: Any) -> None:
    """400 for JSON nested deeper than :data:`MAX_DEPTH` levels (found by an iterative walk)."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise PodiumError(
                f"The request body is nested deeper than {MAX_DEPTH} levels.",
                status=400,
                code=ErrorCode.VALIDATION,
            )
        if isinstance(value, dict):
            stack.extend((child, depth + 1) for child in value.values() if isinstance(child, dict | list))
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value if isinstance(child, dict | list))


# What check_json_values refuses can only come from a NUL escape or a run of 19+ digits in the raw
# JSON (a NUL is always escaped in valid JSON; a number beyond Int64 has at least 19 digits).
_SUSPECT_VALUES = re.compile(rb"\\u0000|[0-9]{19}")


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def check_json_values(body: Any) -> None:
    """400 for values no Orchestrator property can hold: integers beyond Int64 (ids, counts) and text with
    NUL characters (PostgreSQL cannot store or compare them)."""
    stack = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                message = "The request body holds a NUL character."
                raise PodiumError(message, status=400, code=ErrorCode.VALIDATION)
        elif isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
            raise PodiumError(f"The number {value} is out of range.", status=400, code=ErrorCode.VALIDATION)


KEPT_QUERY_LENGTH = 1024
"""Query strings up to this length keep their decoded parameters (``query_params``)."""


def query_params(request: Request) -> Mapping[str, str]:
    """The request's decoded query parameters, as ``Request.query_params`` reads them (the last value
    of a repeated name). Clients send the same query strings again and again (a robot polling its job,
    a dashboard), and decoding one costs ~9 µs: strings up to ``KEPT_QUERY_LENGTH`` are decoded once."""
    raw: bytes = request.scope.get("query_string", b"")
    return _decoded(raw) if len(raw) <= KEPT_QUERY_LENGTH else _decode(raw)


def _decode(raw: bytes) -> Mapping[str, str]:
    return MappingProxyType(dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True)))


_decoded = functools.lru_cache(maxsize=4096)(_decode)


def _resource(request: Request) -> ResourcePath:
    raw = request.scope.get("raw_path") or request.url.path.encode()
    text = raw.decode("latin-1").split("?", 1)[0]
    marker = "/odata/"
    start = text.lower().find(marker)
    return parse_resource_path(text[start + len(marker) :] if start >= 0 else "")


@router.api_route("/odata/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def odata(request: Request) -> Response:
    if request.scope["path"].rstrip("/").endswith("/$metadata"):
        from podium.odata.metadata import metadata_response

        return metadata_response(request)
    resource = _resource(request)
    ctx = await request_context(request, host=True)
    entity_set = registry.get(resource.entity_set)
    if entity_set is None:
        raise not_found(f"The resource '{resource.entity_set}' was not found.")
    _check_level(ctx, entity_set)
    method = request.method
    if resource.operation is not None:
        return await _operation(ctx, request, resource, method)
    if entity_set.serve is not None:
        return await entity_set.serve(ctx, request, resource)
    if resource.count:
        page = await service.list_entities(ctx, entity_set, parse_options(query_params(request)))
        return Response(str(page.count), media_type="text/plain")
    if method == "GET":
        options = parse_options(query_params(request))
        if resource.has_key:
            return entity(
                ctx, entity_set.name, await service.get_entity(ctx, entity_set, resource.key, options)
            )
        page = await service.list_entities(ctx, entity_set, options)
        return collection(ctx, entity_set.name, page.rows, page.count)
    if method == "POST" and not resource.has_key:
        created = await service.create_entity(ctx, entity_set, await read_json(request))
        return entity(ctx, entity_set.name, created, 201)
    if method in ("PUT", "PATCH") and resource.has_key:
        body = await read_json(request)
        updated = await service.update_entity(ctx, entity_set, resource.key, body, partial=method == "PATCH")
        return entity(ctx, entity_set.name, updated)
    if method == "DELETE" and resource.has_key:
        await service.delete_entity(ctx, entity_set, resource.key)
        return Response(status_code=204)
    raise PodiumError(f"The method {method} is not allowed here.", status=405, code=ErrorCode.GENERIC)


def _check_level(ctx: RequestContext, entity_set: EntitySet) -> None:
    """Host-only entity sets (Tenants) are a host user's only, and a host user has nothing else: 403."""
    host_caller = ctx.principal.kind == HOST_KIND
    if host_caller and not entity_set.host_only:
        raise forbidden(HOST_ONLY)
    if not host_caller and entity_set.host_only:
        raise forbidden(f"{entity_set.name} are managed by the host: sign in with tenancy name Host.")


async def _operation(ctx: RequestContext, request: Request, resource: ResourcePath, method: str) -> Response:
    operation = registry.find_operation(resource.entity_set, resource.operation or "", resource.has_key)
    if operation is None:
        raise not_found(f"The operation '{resource.operation}' was not found on '{resource.entity_set}'.")
    if operation.method != method:
        raise PodiumError(f"The method {method} is not allowed here.", status=405, code=ErrorCode.GENERIC)
    entity_set = registry.get(operation.entity_set)
    assert entity_set is not None
    body = await read_json(request) if method in ("POST", "PUT", "PATCH") and not operation.raw_body else None
    options = parse_options(request.query_params) if method == "GET" else QueryOptions()
    call = ActionCall(entity_set, resource.key, resource.params, body, options, request)
    with auditing(ctx, operation, call):
        result = await operation.handler(ctx, call)
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status_code=204)
    return json_response(result)


def require_body(call: ActionCall) -> dict[str, Any]:
    if not isinstance(call.body, dict):
        raise PodiumError("The request body must be a JSON object.", status=400, code=ErrorCode.VALIDATION)
    return call.body


def param(call: ActionCall, name: str) -> Any:
    """A function parameter from the URL (or the query string), matched case-insensitively."""
    for key, value in call.params.items():
        if key.lower() == name.lower():
            return value
    for key, value in call.request.query_params.items():
        if key.lower() == name.lower():
            return value
    raise invalid_odata(f"The parameter '{name}' is missing.")
