"""``/odata/Attachments``: create (``{"Name"}`` → ``{Id, Name, BlobFileAccess}`` with a signed upload link),
get (a signed download link), delete; and ``/api/AttachmentFiles/{token}``, the links themselves when the
store is Podium's own (an S3-compatible store answers its own pre-signed URLs).

These are plain routes ahead of the generic OData route: an attachment's answer carries a link signed for
the call, which the generic layer does not make. ``Id`` is the attachment's key, a GUID, as the SDK parses it
(``uuid.UUID(result["Id"])``); links need no credentials (``RequiresAuth: false``, which the SDK requires:
its second request carries none), so the token is the capability, bound to tenant, attachment, verb and
expiry under a key of its own (``storage/signing.py``). Rules: ``domain/attachments.py``.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from podium import inputs
from podium.api.blob_files import BlockFileResponse, download_headers
from podium.api.tasks import call_body, value
from podium.domain import attachments
from podium.errors import ErrorCode, PodiumError, bad_request, forbidden
from podium.http.context import RequestContext, request_context
from podium.http.state import AppState
from podium.odata.registry import Area
from podium.odata.routes import json_response
from podium.storage.base import BlobStore, file_missing, guess_type, too_large
from podium.storage.factory import attachment_store
from podium.storage.local import LocalStore
from podium.storage.signing import ATTACHMENT_ROUTE, ATTACHMENTS, BlobGrant, derive_key, sign, verify

router = APIRouter(tags=["Attachments"])
area = Area("Attachments", router)

EXPIRY = dt.timedelta(hours=1)
READERS = ("Jobs.View", "Tasks.View")
WRITERS = ("Jobs.Edit", "Tasks.Edit")


def require_any(ctx: RequestContext, permissions: tuple[str, ...], folder_path: str) -> None:
    """403 unless the caller holds one of ``permissions`` in the folder."""
    if not any(ctx.principal.has(p, folder_path) for p in permissions):
        raise forbidden(f"You are not authorized! (missing permission {' or '.join(permissions)})")


def store(state: AppState) -> BlobStore:
    return attachment_store(state.settings)


async def access(ctx: RequestContext, row: dict[str, Any], verb: str) -> dict[str, Any]:
    """BlobFileAccessDto: a link to PUT the attachment's bytes to, or to GET them from."""
    path = attachments.file_path(row)
    signed = await store(ctx.state).sign(verb, path, EXPIRY, None)
    if signed is not None:
        uri, headers = signed.uri, signed.headers
    else:
        grant = BlobGrant(ctx.tenant_id, row["id"], path, verb, int(time.time() + EXPIRY.total_seconds()))
        token = sign(derive_key(ctx.state.signing_key, ATTACHMENTS), grant)
        uri, headers = f"{ctx.base_url}{ATTACHMENT_ROUTE}{token}", {}
    return {
        "Uri": uri,
        "Verb": verb,
        "RequiresAuth": False,
        "Headers": {"Keys": list(headers), "Values": list(headers.values())},
    }


def attachment_dto(ctx: RequestContext, row: dict[str, Any], blob_access: dict[str, Any]) -> dict[str, Any]:
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#Attachments/$entity",
        "Name": row["name"],
        "BlobFileAccess": blob_access,
        "CreationTime": row["creation_time"],
        "CreatorUserId": row["creator_user_id"],
        "LastModificationTime": row["last_modification_time"],
        "Id": row["key"],
    }


def guid(raw: Any, name: str = "key") -> str:
    """A GUID given bare, quoted or as text; 400 otherwise."""
    try:
        return str(uuid.UUID(str(raw).strip().strip("'")))
    except ValueError:
        raise bad_request(f"{name} must be a GUID.") from None


async def readable(ctx: RequestContext, key: str) -> dict[str, Any]:
    async with ctx.state.db.read() as conn:
        row = await attachments.by_key(conn, ctx.tenant_id, guid(key))
    require_any(ctx, READERS, row["folder_path"])
    return row


@router.post(
    "/odata/Attachments", status_code=201, summary="Creates an attachment and answers its upload link"
)
async def create_attachment(request: Request) -> Response:
    ctx, body = await call_body(request)
    name = inputs.text(value(body, "Name"), "Name", max_length=512)
    folder = ctx.require_folder()
    require_any(ctx, WRITERS, folder.fully_qualified_name)
    async with ctx.state.db.write() as conn:
        row = await attachments.create(conn, ctx.tenant_id, folder.id, ctx.user_id, name)
    return json_response(attachment_dto(ctx, row, await access(ctx, row, "PUT")), 201)


@router.get("/odata/Attachments({key})", summary="An attachment with its download link")
async def get_attachment(key: str, request: Request) -> Response:
    ctx = await request_context(request)
    row = await readable(ctx, key)
    return json_response(attachment_dto(ctx, row, await access(ctx, row, "GET")))


@router.delete("/odata/Attachments({key})", status_code=204, summary="Deletes an attachment and its file")
async def delete_attachment(key: str, request: Request) -> Response:
    ctx = await request_context(request)
    async with ctx.state.db.write() as conn:
        row = await attachments.by_key(conn, ctx.tenant_id, guid(key))
        require_any(ctx, READERS, row["folder_path"])
        require_any(ctx, WRITERS, row["folder_path"])
        await attachments.remove(conn, row)
    await store(ctx.state).delete(attachments.file_path(row))
    return Response(status_code=204)


async def _grant(request: Request, token: str) -> tuple[AppState, BlobGrant, dict[str, Any]]:
    state: AppState = request.app.state.podium
    grant = verify(derive_key(state.signing_key, ATTACHMENTS), token, request.method)
    async with state.db.read() as conn:
        row = await attachments.by_id(conn, grant.tenant_id, grant.bucket_id)
    return state, grant, row


@router.api_route(ATTACHMENT_ROUTE + "{token}", methods=["GET", "HEAD"], include_in_schema=False)
async def download(token: str, request: Request) -> Response:
    state, grant, row = await _grant(request, token)
    blobs = store(state)
    media_type = guess_type(row["name"])
    headers = download_headers(row["name"], media_type)
    if isinstance(blobs, LocalStore):
        if await blobs.head(grant.path) is None:
            raise file_missing(row["name"])
        return BlockFileResponse(blobs.local_file(grant.path), media_type=media_type, headers=headers)
    blob = await blobs.read(grant.path)
    return StreamingResponse(
        blob.chunks, media_type=media_type, headers={"Content-Length": str(blob.info.size), **headers}
    )


@router.put(ATTACHMENT_ROUTE + "{token}", include_in_schema=False)
async def upload(token: str, request: Request) -> Response:
    state, grant, _ = await _grant(request, token)
    limit = state.settings.max_blob_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    await store(state).write(
        grant.path, request.stream(), content_type=request.headers.get("content-type"), max_bytes=limit
    )
    return Response(status_code=201)


# ---- attachments a StartJobs call names -------------------------------------------------------------

MAX_INPUT_FILE_BYTES = 1 << 20
"""An InputFile's bytes at most (1 MiB): the SDK sends input arguments past 10,000 characters this way."""


async def input_file_arguments(ctx: RequestContext, raw: Any) -> str:
    """The InputArguments held in the attachment ``raw`` names (``startInfo.InputFile``, what the SDK's
    ``processes.invoke`` sends for large input): its text, a JSON object. The job keeps that text as its
    InputArguments, which its robot receives as any other input; 400 when the file is missing, too large or
    not a JSON object."""
    row = await readable(ctx, guid(raw, "InputFile"))
    try:
        blob = await store(ctx.state).read(attachments.file_path(row))
    except PodiumError as error:
        if error.status != 404:
            raise
        raise bad_request("InputFile names an attachment whose file was never uploaded.") from None
    content = bytearray()
    async for chunk in blob.chunks:
        content += chunk
        if len(content) > MAX_INPUT_FILE_BYTES:
            message = f"InputFile is larger than {MAX_INPUT_FILE_BYTES} bytes."
            raise PodiumError(message, status=400, code=ErrorCode.INPUT_TOO_LONG)
    try:
        parsed = orjson.loads(bytes(content).removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError:
        raise bad_request("InputFile does not hold valid JSON.") from None
    if not isinstance(parsed, dict):
        raise bad_request("InputFile must hold a JSON object (the input arguments).")
    return orjson.dumps(parsed).decode()


async def start_attachments(ctx: RequestContext, raw: Any) -> list[dict[str, Any]]:
    """The attachments ``startInfo.Attachments`` names (``[{"attachmentId": <GUID>}]``), each readable by
    the caller; the started jobs are linked to them. 400/404/403 before any job is made."""
    if raw is None:
        return []
    entries = inputs.json_list(raw, "Attachments", max_items=100)
    keys = []
    for entry in entries:
        item = inputs.json_object(entry, "Attachments[]")
        key = item.get("attachmentId", item.get("AttachmentId"))
        if key is None:
            raise bad_request("Each of Attachments needs its attachmentId.")
        keys.append(guid(key, "attachmentId"))
    return [await readable(ctx, key) for key in dict.fromkeys(keys)]
